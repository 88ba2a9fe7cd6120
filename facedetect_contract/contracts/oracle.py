"""The rejection oracle: what the docs demand of the answer to a request, read off the contract.

A request is judged by validating it against the request contracts (body and headers), so editing
a contract changes what must be rejected without a code edit. Any broken rule means a documented
4xx error body; ``x-rejected-with`` on the broken subschema names the status and code the docs
give for it. Where the docs only infer the rule (``x-inferred`` names the open question), the
rejection is still expected, but the request counts as billable: the endpoint may ignore it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import ValidationError

from ..core.interaction import Expectation
from ..core.pointers import Pointer
from .loader import Contracts

__all__ = ["expectation_for", "expectation_of"]


def _inferred(error: ValidationError) -> str | None:
    """The open question a rule rests on when the docs only infer it (``x-inferred``)."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    question = schema.get("x-inferred")
    return question if isinstance(question, str) else None


def _rule_of(error: ValidationError) -> Mapping[str, Any] | None:
    """The ``x-rejected-with`` of the rule ``error`` breaks: a missing property's own, for
    ``required``."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required" and isinstance(error.instance, dict):
        required: Any = error.validator_value
        missing = [name for name in required if name not in error.instance]
        properties = schema.get("properties", {})
        rules = [
            properties.get(name, {}).get("x-rejected-with") or schema.get("x-rejected-with")
            for name in missing
        ]
        return rules[0] if len(rules) == 1 else None
    rule = schema.get("x-rejected-with")
    return rule if isinstance(rule, Mapping) else None


def _from_errors(errors: list[ValidationError], contracts: Contracts) -> Expectation | None:
    if not errors:
        return None
    source = str(contracts.profile.source("error-code"))
    reason = "; ".join(
        f"{str(Pointer.of(error.absolute_path)) or '/'}: {error.message[:80]}" for error in errors
    )
    named = [_rule_of(error) for error in errors]
    specific = len(named) == 1 and named[0] is not None
    rule: Mapping[str, Any] = named[0] if specific and named[0] is not None else {}
    inferred = [q for q in map(_inferred, errors) if q is not None]
    return Expectation(
        True,
        reason,
        source,
        statuses=frozenset({rule["status"]}) if "status" in rule else None,
        codes=frozenset({rule["code"]}) if "code" in rule else None,
        open_question=inferred[0] if len(inferred) == len(errors) else None,
    )


def expectation_of(
    *,
    body: Any,
    headers: Mapping[str, str],
    auth: str,
    is_json: bool,
    contracts: Contracts,
) -> Expectation | None:
    """What the docs demand of the answer to a request (``None``: a valid request).

    ``auth`` is how it authenticates (``"key"``, ``"none"``, ``"invalid"``); ``is_json`` whether
    the body is JSON at all (``body`` is then its value).
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    authorization = {"key": "Bearer <key>", "invalid": "Bearer <unknown key>"}.get(auth)
    if authorization is not None:
        lowered["authorization"] = authorization  # the client adds it; the header rules see it
    header_errors = list(contracts.validator("request_headers").iter_errors(lowered))
    if auth == "none":  # answered 401 before anything else is looked at
        return _from_errors([e for e in header_errors if e.validator == "required"], contracts)
    if auth == "invalid":
        rule = contracts.schemas["request_headers"]["properties"]["authorization"]
        named = rule.get("x-rejected-with", {})
        return Expectation(
            True,
            "an API key the endpoint does not know",
            str(contracts.profile.source("error-code")),
            statuses=frozenset({named["status"]}) if "status" in named else None,
            codes=frozenset({named["code"]}) if "code" in named else None,
        )
    if not is_json:
        rule = contracts.schemas["request"].get("x-rejected-with", {})
        return Expectation(
            True,
            "body is not JSON",
            str(contracts.profile.source("error-code")),
            statuses=frozenset({rule["status"]}) if "status" in rule else None,
            codes=frozenset({rule["code"]}) if "code" in rule else None,
        )
    body_errors = list(contracts.validator("request").iter_errors(body))
    return _from_errors(header_errors + body_errors, contracts)


def expectation_for(request: Any, contracts: Contracts) -> Expectation | None:
    """``expectation_of`` for a ``GeneratedRequest`` (anything with ``body``, ``headers``,
    ``auth`` and ``content``)."""
    return expectation_of(
        body=request.body,
        headers=request.headers,
        auth=request.auth,
        is_json=request.content is None,
        contracts=contracts,
    )
