"""The checks every answer is judged by, whatever its kind: its body against the contract of its
kind of answer (a passed check, failure shape A, an error body), its status, its media type, its
request id.

A schema error becomes one finding per place: ``_schema_findings`` descends into ``anyOf`` and
``oneOf`` to the keyword that failed, and a field outside a closed object is additive (a new
field breaks no reader), every other schema error breaking.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match

from ..contracts.loader import SCHEMA_FILES, Contracts
from ..contracts.outcome import nearest_answer
from ..core.interaction import Interaction
from ..core.pointers import Pointer
from ..core.violations import Severity, render_value
from .registry import CheckContext, Finding, check

__all__ = [
    "request_id_header_matches_body",
    "request_id_is_non_empty_string",
    "response_content_type_is_json",
    "response_schema_conformance",
    "response_schema_for",
    "status_code_is_documented",
]


def response_schema_for(interaction: Interaction, contracts: Contracts) -> str | None:
    """The short name of the contract a body is judged by (``None``: an undocumented status)."""
    kind = nearest_answer(interaction.response, contracts)
    if kind is None:
        return None
    by_file = {filename: name for name, filename in SCHEMA_FILES.items()}
    return by_file[kind.schema]


def _schema_findings(error: ValidationError) -> Iterator[Finding]:
    """Findings of one JSON Schema error, descending into ``anyOf``/``oneOf`` to the real cause."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        yield from _schema_findings(best_match(error.context))
        return
    path = list(error.absolute_path)
    instance: Any = error.instance
    documented_by = error.schema.get("description", "") if isinstance(error.schema, dict) else ""
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        for name in sorted(set(instance) - set(known)):
            yield Finding(
                pointer=str(Pointer.of([*path, name])),
                received=render_value(instance[name]),
                documented=f"no field {name!r} here; documented fields: {sorted(known)}",
                title=f"new undocumented field {name!r}",
                severity=Severity.ADDITIVE,
            )
        return
    if error.validator == "required":
        required: Any = error.validator_value
        for name in required:
            if isinstance(instance, dict) and name not in instance:
                yield Finding(
                    pointer=str(Pointer.of([*path, name])),
                    received="(absent)",
                    documented=f"required field {name!r}",
                    title=f"required field {name!r} is missing",
                )
        return
    documented = f"{error.validator}: {render_value(error.validator_value)}"
    if documented_by:
        documented += f" ({documented_by})"
    yield Finding(
        pointer=str(Pointer.of(path)),
        received=render_value(error.instance),
        documented=documented,
        title=error.message if len(error.message) <= 120 else error.message[:117] + "...",
    )


@check(sources=("shape", "request_error"), needs_json=False)
def response_schema_conformance(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """The body matches the contract of its kind of answer: pass, failure shape A, error body."""
    response = interaction.response
    if not response.body_is_json:
        why = f" ({response.not_json})" if response.not_json else ""
        yield Finding("", render_value(response.body), "a JSON body", f"the body is not JSON{why}")
        return
    name = response_schema_for(interaction, context.contracts)
    if name is None:
        return  # an undocumented status: status_code_is_documented reports it
    contracts = context.contracts
    if contracts.is_valid(name, response.body):
        return  # the common case, decided without collecting errors (see Contracts.is_valid)
    # One finding per place: a wrong type explains a failed 'const' or 'minimum' at the same spot.
    errors = sorted(
        contracts.validator(name).iter_errors(response.body),
        key=lambda error: error.validator != "type",
    )
    seen: set[tuple[str, Severity]] = set()
    for error in errors:
        for finding in _schema_findings(error):
            if (finding.pointer, finding.severity) not in seen:
                seen.add((finding.pointer, finding.severity))
                yield finding


@check(sources=("shape", "request_error"), needs_json=False)
def status_code_is_documented(interaction: Interaction, context: CheckContext) -> Iterator[Finding]:
    """The HTTP status is 200 or one of the error table's statuses."""
    status = interaction.response.status
    documented = context.contracts.documented_statuses
    if status not in documented:
        yield Finding(
            pointer="",
            received=f"HTTP {status}",
            documented=f"one of {sorted(documented)}",
            title=f"undocumented HTTP status {status}",
        )


@check(sources=("shape",))
def response_content_type_is_json(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """The response says it is JSON (the documented media type, parameters allowed)."""
    expected = context.contracts.profile.content_type
    content_type = interaction.response.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != expected:
        yield Finding(
            pointer="",
            received=f"Content-Type: {content_type or '(absent)'}",
            documented=f"Content-Type: {expected}",
            title="response Content-Type is not JSON",
        )


@check(sources=("shape",))
def request_id_is_non_empty_string(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """Every JSON response carries the request id, a non-empty string."""
    at = context.contracts.profile.response.request_id
    request_id = at.get(interaction.response.body)
    if not isinstance(request_id, str) or not request_id:
        yield Finding(
            pointer=str(at),
            received=render_value(request_id),
            documented="a non-empty string naming the request",
            title=f"{at.name} is missing or empty",
        )


@check(sources=("shape",))
def request_id_header_matches_body(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """Where a gateway sends a request-id header, it names the request the body's id names."""
    profile = context.contracts.profile
    header = interaction.response.headers.get(profile.request_id_header)
    body_id = profile.response.request_id.get(interaction.response.body)
    if header is not None and isinstance(body_id, str) and body_id and header.strip() != body_id:
        yield Finding(
            pointer=str(profile.response.request_id),
            received=f"{profile.request_id_header}: {render_value(header)}, body "
            f"{render_value(body_id)}",
            documented="one request, one id: the header (where sent) equals the body's id",
            title=f"the {profile.request_id_header} header names another request",
            severity=Severity.ADDITIVE,
        )
