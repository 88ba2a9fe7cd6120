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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from ..contracts.loader import SCHEMA_FILES, Contracts, ErrorEntry
from ..contracts.oracle import expectation_for
from ..contracts.profile import AnswerKind
from ..core import geometry
from ..core.pointers import Pointer
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


def _naming(contracts: Contracts) -> Callable[[Any], Any]:
    """Names the profile's model in a drawn body (the request contract's enum may list a
    deployment's other names too): applied inside the one map each strategy has, so naming adds
    no span to what Hypothesis draws."""
    model_at, model = contracts.profile.request.model, contracts.profile.model

    def named(body: Any) -> Any:
        model_at.put(body, model)
        return body

    return named


def valid_requests(contracts: Contracts) -> st.SearchStrategy[GeneratedRequest]:
    """Requests valid against the request contract, with every documented field present, naming
    the profile's model."""
    headers, named = base_headers(contracts), _naming(contracts)
    return _from_schema(contracts.schemas["request"]).map(
        lambda body: GeneratedRequest("valid request", named(body), headers)
    )


# --- invalid requests: mutations of valid ones ----------------------------------------------------


def invalid_requests(contracts: Contracts) -> st.SearchStrategy[GeneratedRequest]:
    """A valid request broken in one way; each carries the expectation its contract implies."""
    headers = base_headers(contracts)
    # Valid bodies straight from the schema, and each branch finished (and judged) in one map:
    # fewer nested spans make Hypothesis's engine ~13 % cheaper per example (bench/run.py).
    valid_bodies = _from_schema(contracts.schemas["request"])
    named = _naming(contracts)

    def judged(request: GeneratedRequest) -> GeneratedRequest:
        return replace(request, expectation=expectation_for(request, contracts))

    def body_level(pair: tuple[Any, BodyMutation]) -> GeneratedRequest:
        body, (mutation, mutate) = pair
        body = named(body)
        return judged(
            GeneratedRequest(mutation.describe(), mutate(body), headers, mutation=mutation)
        )

    def header_level(pair: tuple[Any, HeaderMutation]) -> GeneratedRequest:
        body, probe = pair
        body = named(body)
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


def _schema_at(contracts: Contracts, kind: AnswerKind, at: Pointer) -> Mapping[str, Any] | None:
    """The subschema the kind's contract gives the field at ``at`` (followed through inline
    ``properties`` only), or ``None`` where it describes none."""
    node: Any = _kind_schema(contracts, kind)
    for part in at.parts:
        properties = node.get("properties") if isinstance(node, Mapping) else None
        if not isinstance(properties, Mapping) or part not in properties:
            return None
        node = properties[part]
    return node if isinstance(node, Mapping) else None


def _kind_schema(contracts: Contracts, kind: AnswerKind) -> Mapping[str, Any]:
    by_file = {filename: name for name, filename in SCHEMA_FILES.items()}
    schema: Mapping[str, Any] = contracts.schemas[by_file[kind.schema]]
    return schema


def _required(contracts: Contracts, kind: AnswerKind, at: Pointer) -> bool:
    """Whether the kind's contract requires the field at ``at`` (its parent's ``required``)."""
    parent = (
        _schema_at(contracts, kind, at.parent) if at.parts[:-1] else _kind_schema(contracts, kind)
    )
    return parent is not None and at.name in parent.get("required", ())


def _fillings(contracts: Contracts, kind: AnswerKind, at: Pointer) -> list[str]:
    """How a failure's reason field may come, by its contract: ``empty``, ``filled``, ``absent``
    (emo-detect-v1's shape A admits all three; a required non-empty code only ``filled``)."""
    described = _schema_at(contracts, kind, at) or {}
    ways = []
    if described.get("minLength", 0) == 0:
        ways.append("empty")
    ways.append("filled")
    if not _required(contracts, kind, at):
        ways.append("absent")
    return ways


def _side_range(contracts: Contracts) -> tuple[int, int]:
    profile = contracts.profile
    smallest = profile.min_side_px if profile.states("min_side_px") else _SMALLEST_SIDE
    return smallest, profile.max_side_px


_SMALLEST_SIDE = 64  # an image side where the profile states no minimum: room for a face box


@st.composite
def _passed(draw: st.DrawFn, contracts: Contracts, kind: AnswerKind) -> GeneratedResponse:
    """A pass in the model's shape: its verdict (if it has one), its boxes (if any) with geometry
    that obeys every semantic rule at a ratio the request may send, humanoid where the profile
    names it (always where the contract requires it), usage and a request id."""
    profile = contracts.profile
    fields = profile.response
    body: dict[str, Any] = {}
    ratio_text = draw(st.sampled_from(contracts.ratios)) if profile.has_ratio else None
    if profile.boxes:
        smallest, largest = _side_range(contracts)
        width = draw(st.integers(smallest, largest))
        height = draw(st.integers(smallest, largest))
        side = draw(st.integers(16, min(width, height) // 3))
        x1 = draw(st.integers(0, width - side))
        y1 = draw(st.integers(0, height - side))
        face = (x1, y1, x1 + side, y1 + side)
        # The crop at the requested ratio; a model whose request has none: the face's own shape.
        ratio = (side, side) if ratio_text is None else geometry.parse_ratio(ratio_text)
        crop = geometry.ext_box_for(face, (width, height), ratio, scale=draw(st.floats(1.2, 3.0)))
        if crop is None:  # a face too large for any crop of this ratio: shrink it to a quarter
            face = (x1, y1, x1 + side // 4 + 1, y1 + side // 4 + 1)
            crop = geometry.ext_box_for(face, (width, height), ratio, scale=1.0)
        assert crop is not None
        drawn = {"face_box": face, "crop_box": crop}
    if profile.verdict is not None:
        profile.verdict.put(body, kind.verdict)
    for role, at in profile.boxes.items():
        at.put(body, list(drawn[role]))
    humanoid = fields.humanoid_or_none
    if humanoid is not None and (_required(contracts, kind, humanoid) or draw(st.booleans())):
        humanoid.put(body, True)
    fields.billed_images.put(body, 1)
    fields.request_id.put(body, draw(_request_ids))
    headers = {"content-type": draw(_content_types(contracts))}
    status = kind.status or 200
    return GeneratedResponse(_label(kind), status, body, headers, kind.name, ratio=ratio_text)


def _reason(draw: st.DrawFn, contracts: Contracts) -> tuple[ErrorEntry | None, str, str]:
    """A documented reason of a failed check (the error table's portrait rows); a model whose
    table lists none: a drawn code and message (its contract says only that they are text)."""
    portrait = [e for e in contracts.errors if e.kind == "portrait"]
    if portrait:
        entry = draw(st.sampled_from(portrait))
        return entry, entry.code, entry.messages[0] if entry.messages else ""
    code = draw(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1))
    return None, code, draw(st.text(max_size=80))


@st.composite
def _failed_in_body(draw: st.DrawFn, contracts: Contracts, kind: AnswerKind) -> GeneratedResponse:
    """A failure carried in an answer's body (emo-detect-v1's shape A, liveportrait-detect's
    verdict false, emoji-detect-v1's output code): its verdict where it has one; its code and
    message where the kind says they are, filled, empty or absent as its contract allows (every
    reading of the open questions); its boxes null or absent where the contract names them;
    usage present or not unless the contract requires it."""
    fields = contracts.profile.response
    entry, code, text = _reason(draw, contracts)
    body: dict[str, Any] = {}
    verdict = contracts.profile.verdict
    if verdict is not None and kind.verdict is not None:
        verdict.put(body, kind.verdict)
    reason = [at for at in (kind.code, kind.message) if at is not None]
    if reason:
        ways = _fillings(contracts, kind, reason[0])
        filled = draw(st.sampled_from(ways)) if len(ways) > 1 else ways[0]
        if filled != "absent":
            if kind.code is not None:
                kind.code.put(body, code if filled == "filled" else "")
            if kind.message is not None:
                kind.message.put(body, text if filled == "filled" else "")
    humanoid = fields.humanoid_or_none
    if humanoid is not None and (_required(contracts, kind, humanoid) or draw(st.booleans())):
        humanoid.put(body, draw(st.booleans()))
    for at in fields.boxes:
        if _schema_at(contracts, kind, at) is not None and draw(st.booleans()):
            at.put(body, None)
    fields.request_id.put(body, draw(_request_ids))
    if _required(contracts, kind, fields.usage) or draw(st.booleans()):
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
        if kind.error_kind is not None:  # a failure as an error body (emo-detect-v1's shape B)
            strategies.append(_error(contracts, frozenset({kind.error_kind})))
        else:
            strategies.append(_failed_in_body(contracts, kind))
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
