"""Hypothesis strategies driven by the contracts: requests (valid and invalid) and responses.

Why not hypothesis-jsonschema or Schemathesis: the first crashes on current Hypothesis, and both
generate far more than this one small schema needs, several times slower (see ARCHITECTURE.md).
The request strategies read the request contracts at run time, so a new enum value or field in a
contract changes what is generated without code edits. Invalid requests are valid ones broken by
one ``mutations.Mutation``; whether each must be rejected is the ``oracle``'s verdict, read off the
contract, carried on the request as its ``expectation``.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from ..contracts.loader import Contracts, ErrorEntry
from ..contracts.oracle import expectation_for
from ..contracts.profile import AnswerKind
from ..core import geometry
from .generated import GeneratedRequest, base_headers
from .mutations import BodyMutation, HeaderMutation, body_mutations, header_mutations
from .patterns import matching

__all__ = [
    "GeneratedRequest",
    "GeneratedResponse",
    "any_requests",
    "error_responses",
    "expectation_for",
    "failed_responses",
    "invalid_requests",
    "passed_responses",
    "responses",
    "valid_requests",
]


# --- valid requests, from the schema ---------------------------------------------------------


def _from_schema(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid against the small subset of JSON Schema the request contract uses."""
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return st.fixed_dictionaries({name: _from_schema(sub) for name, sub in properties.items()})
    if kind == "string":
        minimum = schema.get("minLength", 0)
        generated = (
            matching(schema["pattern"], minimum)
            if "pattern" in schema
            else st.text(min_size=minimum)
        )
        examples = schema.get("examples")
        return st.one_of(st.sampled_from(examples), generated) if examples else generated
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "boolean":
        return st.booleans()
    raise NotImplementedError(f"request contract uses unsupported schema {dict(schema)!r}")


def valid_requests(contracts: Contracts) -> st.SearchStrategy[GeneratedRequest]:
    """Requests valid against the request contract, with every documented field present."""
    headers = base_headers(contracts)
    return _from_schema(contracts.schemas["request"]).map(
        lambda body: GeneratedRequest("valid request", body, headers)
    )


# --- invalid requests: mutations of valid ones ----------------------------------------------------


def invalid_requests(contracts: Contracts) -> st.SearchStrategy[GeneratedRequest]:
    """A valid request broken in one way; each carries the expectation its contract implies."""
    headers = base_headers(contracts)
    # Valid bodies straight from the schema, and each branch finished (and judged) in one map:
    # fewer nested spans make Hypothesis's engine ~13 % cheaper per example (bench/run.py).
    valid_bodies = _from_schema(contracts.schemas["request"])

    def judged(request: GeneratedRequest) -> GeneratedRequest:
        return replace(request, expectation=expectation_for(request, contracts))

    def body_level(pair: tuple[Any, BodyMutation]) -> GeneratedRequest:
        body, (mutation, mutate) = pair
        return judged(
            GeneratedRequest(mutation.describe(), mutate(body), headers, mutation=mutation)
        )

    def header_level(pair: tuple[Any, HeaderMutation]) -> GeneratedRequest:
        body, probe = pair
        return judged(
            GeneratedRequest(
                probe.mutation.describe(),
                probe.body if probe.own_body else (None if probe.content is not None else body),
                headers if probe.headers is None else probe.headers,
                probe.auth,  # type: ignore[arg-type]  # one of the Auth literals
                probe.content,
                mutation=probe.mutation,
            )
        )

    return st.one_of(
        st.tuples(valid_bodies, st.one_of(body_mutations(contracts))).map(body_level),
        st.tuples(valid_bodies, st.one_of(header_mutations(contracts))).map(header_level),
    )


def any_requests(contracts: Contracts) -> st.SearchStrategy[GeneratedRequest]:
    """Valid and invalid requests, mixed."""
    return st.one_of(valid_requests(contracts), invalid_requests(contracts))


# --- responses of every documented kind ------------------------------------------------------


@dataclass(frozen=True)
class GeneratedResponse:
    """A documented response: what the client must turn into ``kind``.

    ``kind`` is ``check_passed``, ``check_failed_<shape>`` (``check_failed_a``) or
    ``request_error``; ``answer`` names the profile's kind of answer it is.
    """

    kind: str
    status: int
    body: Any
    headers: Mapping[str, str]
    answer: str
    entry: ErrorEntry | None = None
    ratio: str | None = None


_request_ids = st.uuids().map(str)


def _content_types(contracts: Contracts) -> st.SearchStrategy[str]:
    media = contracts.profile.content_type
    return st.sampled_from([media, f"{media};charset=UTF-8"])


def _label(kind: AnswerKind) -> str:
    if kind.outcome == "failed":
        return f"check_failed_{(kind.shape or '').lower()}"
    return "check_passed" if kind.outcome == "passed" else kind.outcome


@st.composite
def _passed(draw: st.DrawFn, contracts: Contracts, kind: AnswerKind) -> GeneratedResponse:
    profile = contracts.profile
    fields = profile.response
    ratio_text = draw(st.sampled_from(contracts.ratios))
    ratio = geometry.parse_ratio(ratio_text)
    width = draw(st.integers(profile.min_side_px, profile.max_side_px))
    height = draw(st.integers(profile.min_side_px, profile.max_side_px))
    side = draw(st.integers(16, min(width, height) // 3))
    x1 = draw(st.integers(0, width - side))
    y1 = draw(st.integers(0, height - side))
    face = (x1, y1, x1 + side, y1 + side)
    crop = geometry.ext_box_for(face, (width, height), ratio, scale=draw(st.floats(1.2, 3.0)))
    if crop is None:  # a face too large for any crop of this ratio: shrink it to a quarter
        face = (x1, y1, x1 + side // 4 + 1, y1 + side // 4 + 1)
        crop = geometry.ext_box_for(face, (width, height), ratio, scale=1.0)
    assert crop is not None
    body: dict[str, Any] = {}
    fields.verdict.put(body, kind.verdict)
    fields.face_box.put(body, list(face))
    fields.crop_box.put(body, list(crop))
    if draw(st.booleans()):
        fields.humanoid.put(body, True)
    fields.billed_images.put(body, 1)
    fields.request_id.put(body, draw(_request_ids))
    headers = {"content-type": draw(_content_types(contracts))}
    status = kind.status or 200
    return GeneratedResponse(_label(kind), status, body, headers, kind.name, ratio=ratio_text)


@st.composite
def _failed_with_verdict(
    draw: st.DrawFn, contracts: Contracts, kind: AnswerKind
) -> GeneratedResponse:
    """A failure carried by the verdict (shape A): reason filled, empty or absent; boxes null or
    absent; usage present or not (every reading of the open questions)."""
    fields = contracts.profile.response
    entry = draw(st.sampled_from([e for e in contracts.errors if e.kind == "portrait"]))
    body: dict[str, Any] = {}
    fields.verdict.put(body, kind.verdict)
    filled = draw(st.sampled_from(["empty", "filled", "absent"]))
    if filled != "absent":
        fields.reason_code.put(body, entry.code if filled == "filled" else "")
        message = entry.messages[0] if filled == "filled" and entry.messages else ""
        fields.reason_message.put(body, message)
    if draw(st.booleans()):
        fields.humanoid.put(body, draw(st.booleans()))
    for at in fields.boxes:
        if draw(st.booleans()):
            at.put(body, None)
    fields.request_id.put(body, draw(_request_ids))
    if draw(st.booleans()):
        fields.billed_images.put(body, 1)
    headers = {"content-type": draw(_content_types(contracts))}
    return GeneratedResponse(_label(kind), kind.status or 200, body, headers, kind.name, entry)


def _retry_after_values() -> st.SearchStrategy[str]:
    seconds = st.integers(0, 120).map(str)
    dates = st.integers(0, 120).map(
        lambda s: email.utils.formatdate(timeval=time.time() + s, usegmt=True)
    )
    return st.one_of(seconds, dates)


@st.composite
def _error(draw: st.DrawFn, contracts: Contracts, kinds: frozenset[str]) -> GeneratedResponse:
    profile = contracts.profile
    fields = profile.response
    entry = draw(st.sampled_from([e for e in contracts.errors if e.kind in kinds]))
    message = (
        draw(st.sampled_from(entry.messages)) if entry.messages else draw(st.text(max_size=80))
    )
    headers = {"content-type": draw(_content_types(contracts))}
    if entry.status == profile.throttle_status and draw(st.booleans()):
        headers["retry-after"] = draw(_retry_after_values())
    body: dict[str, Any] = {}
    fields.error_code.put(body, entry.code)
    fields.error_message.put(body, message)
    fields.request_id.put(body, draw(_request_ids))
    kind = next(
        k
        for k in profile.answers
        if k.has_status(entry.status) and k.error_kind in (entry.kind, None) and k.verdict is None
    )
    return GeneratedResponse(_label(kind), entry.status, body, headers, kind.name, entry)


def _failure_kinds(contracts: Contracts) -> tuple[AnswerKind, ...]:
    return tuple(k for k in contracts.profile.answers if k.outcome == "failed")


def passed_responses(contracts: Contracts) -> st.SearchStrategy[GeneratedResponse]:
    """Answers of a passed check, with geometry that obeys every semantic rule."""
    kinds = [k for k in contracts.profile.answers if k.outcome == "passed"]
    return st.one_of([_passed(contracts, kind) for kind in kinds])


def failed_responses(contracts: Contracts) -> st.SearchStrategy[GeneratedResponse]:
    """Failed checks in every shape the profile admits, for every documented reason."""
    strategies: list[st.SearchStrategy[GeneratedResponse]] = []
    for kind in _failure_kinds(contracts):
        if kind.verdict is not None:
            strategies.append(_failed_with_verdict(contracts, kind))
        elif kind.error_kind is not None:
            strategies.append(_error(contracts, frozenset({kind.error_kind})))
    return st.one_of(strategies)


def error_responses(contracts: Contracts) -> st.SearchStrategy[GeneratedResponse]:
    """Every documented request failure of the error table (429 with or without Retry-After)."""
    failure_kinds = {k.error_kind for k in _failure_kinds(contracts) if k.error_kind}
    return _error(contracts, frozenset({e.kind for e in contracts.errors} - failure_kinds))


def responses(contracts: Contracts) -> st.SearchStrategy[GeneratedResponse]:
    """A response of any documented kind."""
    return st.one_of(
        passed_responses(contracts), failed_responses(contracts), error_responses(contracts)
    )
