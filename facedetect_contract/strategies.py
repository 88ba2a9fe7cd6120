"""Hypothesis strategies driven by the contracts: requests (valid and invalid) and responses.

Why not hypothesis-jsonschema or Schemathesis: the first crashes on current Hypothesis, and both
generate far more than this one small schema needs, several times slower (see ARCHITECTURE.md).
The request strategies read ``request.schema.json`` and ``request-headers.schema.json`` at run
time, so a new enum value or field in a contract changes what is generated without code edits.
Whether an invalid request must be rejected is not decided here: the mutated request is validated
against the contract, and only what breaks a documented rule (other than an unknown field, on
which the docs are silent) must be rejected.
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from hypothesis import strategies as st

from . import geometry
from .contracts import Contracts, ErrorEntry, load_contracts
from .interaction import Expectation

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

ERROR_CODE_DOC = "https://help.aliyun.com/zh/model-studio/error-code"
BASE_HEADERS: Mapping[str, str] = {"content-type": "application/json"}

Auth = Literal["key", "none", "invalid"]


@dataclass(frozen=True)
class GeneratedRequest:
    """A request to send: headers (without Authorization), how to authenticate, and the body."""

    description: str
    body: Any
    headers: Mapping[str, str] = field(default_factory=lambda: dict(BASE_HEADERS))
    auth: Auth = "key"
    content: bytes | None = None
    expectation: Expectation | None = None

    @property
    def bytes(self) -> bytes:
        """The body as sent: ``content`` when set (malformed JSON), else the JSON encoding."""
        if self.content is not None:
            return self.content
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8", "surrogatepass")

    @property
    def must_reject(self) -> bool:
        return self.expectation is not None and self.expectation.must_reject


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
        generated: st.SearchStrategy[str]
        if "pattern" in schema:
            generated = st.from_regex(
                schema["pattern"], fullmatch=True, alphabet=st.characters(codec="utf-8")
            )
        else:
            generated = st.text()
        minimum = schema.get("minLength", 0)
        generated = generated.filter(lambda s: len(s) >= minimum)
        examples = schema.get("examples")
        return st.one_of(st.sampled_from(examples), generated) if examples else generated
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "boolean":
        return st.booleans()
    raise NotImplementedError(f"request contract uses unsupported schema {dict(schema)!r}")


def valid_requests(contracts: Contracts | None = None) -> st.SearchStrategy[GeneratedRequest]:
    """Requests valid against the request contract, with every documented field present."""
    contracts = contracts or load_contracts()
    return _from_schema(contracts.schemas["request"]).map(
        lambda body: GeneratedRequest("valid request", body)
    )


# --- invalid requests: mutations of valid ones ----------------------------------------------------


def _walk(
    schema: Mapping[str, Any], path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any], bool]]:
    """(path, subschema, required?) for every property of the contract, depth first."""
    required = set(schema.get("required", ()))
    for name, sub in schema.get("properties", {}).items():
        yield (*path, name), sub, name in required
        if sub.get("type") == "object":
            yield from _walk(sub, (*path, name))


def _objects(
    schema: Mapping[str, Any], path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any]]]:
    if schema.get("type") == "object":
        yield path, schema
        for name, sub in schema.get("properties", {}).items():
            yield from _objects(sub, (*path, name))


def _set(body: Any, path: tuple[str, ...], value: Any) -> Any:
    """A deep copy of ``body`` with ``path`` set to ``value`` (removed when it is ``_DROP``)."""
    copy = json.loads(json.dumps(body))
    node = copy
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    if value is _DROP:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return copy


_DROP = object()
_WRONG_TYPES: Mapping[str, Any] = {
    "string": 12345,
    "integer": "12",
    "boolean": "true",
    "object": ["not", "an", "object"],
    "array": {"not": "an array"},
    "null": 0,
}
# Schemes and local paths that a URL rule may or may not accept; the contract decides which.
_URL_VARIANTS = (
    "file:///tmp/portrait.png",
    "ftp://example.com/portrait.png",
    "oss://bucket/portrait.png",
    "data:image/png;base64,iVBORw0KGgo=",
    "/home/user/portrait.png",
    "C:\\portrait.png",
    "http//missing-colon.example/p.png",
    "https://",
    "portrait.png",
)
HUGE = 100_000


def _pointer(path: tuple[str, ...]) -> str:
    return "/" + "/".join(path)


Mutation = tuple[str, Callable[[Any], Any]]


def _outside(
    allowed: frozenset[str], path: tuple[str, ...], label: str
) -> st.SearchStrategy[Mutation]:
    """Set ``path`` to a short text that is not one of ``allowed``."""

    def mutation(value: str) -> Mutation:
        return label.format(where=_pointer(path), value=value), lambda body: _set(body, path, value)

    return st.text(min_size=1, max_size=12).filter(lambda s: s not in allowed).map(mutation)


def _unknown_field(known: frozenset[str], path: tuple[str, ...]) -> st.SearchStrategy[Mutation]:
    """Add a field the object at ``path`` does not document."""

    def mutation(name: str) -> Mutation:
        where = (*path, name)
        return f"unknown field {_pointer(where)}", lambda body: _set(body, where, "x")

    return (
        st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True)
        .filter(lambda n: n not in known)
        .map(mutation)
    )


def _body_mutations(
    contracts: Contracts,
) -> list[st.SearchStrategy[tuple[str, Callable[[Any], Any]]]]:
    """Strategies of (description, mutate(body)) built by walking the request contract."""
    schema = contracts.schemas["request"]
    families: list[st.SearchStrategy[tuple[str, Callable[[Any], Any]]]] = []

    def mutation(
        description: str, path: tuple[str, ...], value: Any
    ) -> st.SearchStrategy[tuple[str, Callable[[Any], Any]]]:
        return st.just((description, lambda body: _set(body, path, value)))

    for path, sub, required in _walk(schema):
        where = _pointer(path)
        families.append(
            mutation(f"{where} {'(required) ' if required else ''}missing", path, _DROP)
        )
        families.append(mutation(f"{where} null", path, None))
        kind = sub.get("type")
        for other, wrong in _WRONG_TYPES.items():
            if other != kind:
                families.append(mutation(f"{where} of type {type(wrong).__name__}", path, wrong))
        if kind == "string":
            families.append(mutation(f"{where} empty", path, ""))
            families.append(mutation(f"{where} huge ({HUGE} characters)", path, "x" * HUGE))
            if "enum" in sub:
                families.append(
                    _outside(frozenset(sub["enum"]), path, "{where} not in enum: {value!r}")
                )
            if "pattern" in sub:
                for variant in _URL_VARIANTS:
                    families.append(mutation(f"{where} = {variant!r}", path, variant))
    for path, sub in _objects(schema):
        if sub.get("additionalProperties") is False:
            families.append(_unknown_field(frozenset(sub.get("properties", {})), path))
    return families


def expectation_for(
    request: GeneratedRequest, contracts: Contracts | None = None
) -> Expectation | None:
    """What the docs demand of the answer, judged by validating the request against the contract.

    ``None``: a valid request. An unknown field alone: ``must_reject=False`` (the docs are
    silent). Any other broken rule: a 4xx, with the status and code of ``x-rejected-with`` when
    the broken subschema names them.
    """
    contracts = contracts or load_contracts()
    if request.auth == "none":
        return _rejected("no Authorization header", contracts, ("authorization",))
    if request.auth == "invalid":
        return _rejected("an API key the endpoint does not know", contracts, ("authorization",))
    # The key itself is added by the client; stand in for it so the header rules see it.
    headers = {**request.headers, "authorization": "Bearer <key>"}
    header_errors = list(contracts.validator("request_headers").iter_errors(headers))
    if request.content is not None:
        return Expectation(True, "body is not JSON", ERROR_CODE_DOC)
    body_errors = list(contracts.validator("request").iter_errors(request.body))
    errors = header_errors + body_errors
    if not errors:
        return None
    if all(error.validator == "additionalProperties" for error in errors):
        return Expectation(False, "unknown field (the docs are silent)", ERROR_CODE_DOC)
    reason = "; ".join(
        f"{_pointer(tuple(map(str, error.absolute_path))) or '/'}: {error.message[:80]}"
        for error in errors
    )
    named = [
        error.schema.get("x-rejected-with") for error in errors if isinstance(error.schema, dict)
    ]
    statuses = {n["status"] for n in named if n}
    codes = {n["code"] for n in named if n}
    specific = len(named) == 1 and named[0] is not None
    return Expectation(
        True,
        reason,
        ERROR_CODE_DOC,
        statuses=frozenset(statuses) if specific else None,
        codes=frozenset(codes) if specific else None,
    )


def _rejected(reason: str, contracts: Contracts, path: tuple[str, ...]) -> Expectation:
    rule = contracts.schemas["request_headers"]["properties"][path[0]].get("x-rejected-with", {})
    return Expectation(
        True,
        reason,
        ERROR_CODE_DOC,
        statuses=frozenset({rule["status"]}) if rule else None,
        codes=frozenset({rule["code"]}) if rule else None,
    )


def _header_mutations(contracts: Contracts) -> list[st.SearchStrategy[GeneratedRequest]]:
    """Header-level mutations: missing, malformed or forbidden headers, bad keys, bad JSON."""
    schema = contracts.schemas["request_headers"]
    out: list[st.SearchStrategy[GeneratedRequest]] = [
        st.just(GeneratedRequest("no Authorization header", None, auth="none")),
        st.just(GeneratedRequest("unknown API key", None, auth="invalid")),
    ]
    for name in schema["properties"]:
        if name in schema.get("required", ()) and name != "authorization":
            out.append(st.just(GeneratedRequest(f"no {name} header", None, headers={})))
    content_types = st.sampled_from(
        [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "application/xml",
        ]
    )
    out.append(
        content_types.map(
            lambda ct: GeneratedRequest(f"Content-Type {ct}", None, headers={"content-type": ct})
        )
    )
    for name, sub in schema["properties"].items():
        if sub.get("not") == {}:
            out.append(
                st.just(
                    GeneratedRequest(
                        f"{name}: enable", None, headers={**BASE_HEADERS, name: "enable"}
                    )
                )
            )
    malformed = st.sampled_from(
        [
            b'{"model": "emo-detect-v1", ',
            b"not json",
            b"",
            b"{'model': 'emo-detect-v1'}",
            b"\xff\xfe",
        ]
    )
    out.append(
        malformed.map(
            lambda raw: GeneratedRequest(f"malformed JSON {raw[:20]!r}", None, content=raw)
        )
    )
    non_objects: st.SearchStrategy[Any] = st.sampled_from([[], "emo-detect-v1", 1, None, True])
    out.append(
        non_objects.map(
            lambda value: GeneratedRequest(
                f"JSON {type(value).__name__} instead of an object", value
            )
        )
    )
    return out


def invalid_requests(contracts: Contracts | None = None) -> st.SearchStrategy[GeneratedRequest]:
    """A valid request broken in one way; each carries the expectation its contract implies."""
    contracts = contracts or load_contracts()
    valid = valid_requests(contracts)
    body_families = st.one_of(_body_mutations(contracts))
    body_level = st.tuples(valid, body_families).map(
        lambda pair: GeneratedRequest(pair[1][0], pair[1][1](pair[0].body))
    )
    header_level = st.tuples(valid, st.one_of(_header_mutations(contracts))).map(
        lambda pair: GeneratedRequest(
            pair[1].description,
            pair[1].body
            if pair[1].body is not None
            or pair[1].content is not None
            or pair[1].description.startswith("JSON")
            else pair[0].body,
            pair[1].headers,
            pair[1].auth,
            pair[1].content,
        )
    )
    return st.one_of(body_level, header_level).map(
        lambda request: GeneratedRequest(
            request.description,
            request.body,
            request.headers,
            request.auth,
            request.content,
            expectation_for(request, contracts),
        )
    )


def any_requests(contracts: Contracts | None = None) -> st.SearchStrategy[GeneratedRequest]:
    """Valid and invalid requests, mixed."""
    return st.one_of(valid_requests(contracts), invalid_requests(contracts))


# --- responses of every documented kind ------------------------------------------------------


@dataclass(frozen=True)
class GeneratedResponse:
    """A documented response: what the client must turn into ``kind``."""

    kind: Literal["check_passed", "check_failed_a", "check_failed_b", "request_error"]
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=lambda: {"content-type": "application/json"})
    entry: ErrorEntry | None = None
    ratio: str = "1:1"


_request_ids = st.uuids().map(str)


@st.composite
def _passed(draw: st.DrawFn, contracts: Contracts) -> GeneratedResponse:
    ratio_text = draw(st.sampled_from(contracts.ratios))
    ratio = geometry.parse_ratio(ratio_text)
    width = draw(st.integers(400, 7000))
    height = draw(st.integers(400, 7000))
    side = draw(st.integers(16, min(width, height) // 3))
    x1 = draw(st.integers(0, width - side))
    y1 = draw(st.integers(0, height - side))
    face = (x1, y1, x1 + side, y1 + side)
    ext = geometry.ext_box_for(face, (width, height), ratio, scale=draw(st.floats(1.2, 3.0)))
    if ext is None:  # a face too large for any crop of this ratio: shrink it to a quarter
        face = (x1, y1, x1 + side // 4 + 1, y1 + side // 4 + 1)
        ext = geometry.ext_box_for(face, (width, height), ratio, scale=1.0)
    assert ext is not None
    output: dict[str, Any] = {"check_pass": True, "face_bbox": list(face), "ext_bbox": list(ext)}
    if draw(st.booleans()):
        output["humanoid"] = True
    body = {"output": output, "usage": {"image_count": 1}, "request_id": draw(_request_ids)}
    return GeneratedResponse("check_passed", 200, body, ratio=ratio_text)


@st.composite
def _failed_a(draw: st.DrawFn, contracts: Contracts) -> GeneratedResponse:
    entries = [e for e in contracts.errors if e.kind == "portrait"]
    entry = draw(st.sampled_from(entries))
    output: dict[str, Any] = {"check_pass": False}
    filled = draw(st.sampled_from(["empty", "filled", "absent"]))
    if filled != "absent":
        output["code"] = entry.code if filled == "filled" else ""
        output["message"] = entry.messages[0] if filled == "filled" and entry.messages else ""
    if draw(st.booleans()):
        output["humanoid"] = draw(st.booleans())
    for name in ("face_bbox", "ext_bbox"):
        if draw(st.booleans()):
            output[name] = None
    body: dict[str, Any] = {"output": output, "request_id": draw(_request_ids)}
    if draw(st.booleans()):
        body["usage"] = {"image_count": 1}
    return GeneratedResponse("check_failed_a", 200, body, entry=entry)


def _retry_after_values() -> st.SearchStrategy[str]:
    seconds = st.integers(0, 120).map(str)
    dates = st.integers(0, 120).map(
        lambda s: email.utils.formatdate(timeval=__import__("time").time() + s, usegmt=True)
    )
    return st.one_of(seconds, dates)


@st.composite
def _error(
    draw: st.DrawFn, contracts: Contracts, kinds: frozenset[str] | None
) -> GeneratedResponse:
    entries = [e for e in contracts.errors if kinds is None or e.kind in kinds]
    entry = draw(st.sampled_from(entries))
    message = (
        draw(st.sampled_from(entry.messages)) if entry.messages else draw(st.text(max_size=80))
    )
    headers = {
        "content-type": draw(
            st.sampled_from(["application/json", "application/json;charset=UTF-8"])
        )
    }
    if entry.status == 429 and draw(st.booleans()):
        headers["retry-after"] = draw(_retry_after_values())
    body = {"code": entry.code, "message": message, "request_id": draw(_request_ids)}
    kind: Literal["check_failed_b", "request_error"] = (
        "check_failed_b" if entry.kind == "portrait" else "request_error"
    )
    return GeneratedResponse(kind, entry.status, body, headers, entry)


def passed_responses(contracts: Contracts | None = None) -> st.SearchStrategy[GeneratedResponse]:
    """200 responses of a passed check, with geometry that obeys every semantic rule."""
    return _passed(contracts or load_contracts())


def failed_responses(contracts: Contracts | None = None) -> st.SearchStrategy[GeneratedResponse]:
    """Failed checks in shape A (200) and shape B (400 ``InvalidFile.*``), for every reason."""
    contracts = contracts or load_contracts()
    return st.one_of(_failed_a(contracts), _error(contracts, frozenset({"portrait"})))


def error_responses(contracts: Contracts | None = None) -> st.SearchStrategy[GeneratedResponse]:
    """Every documented request failure of the error table (429 with or without Retry-After)."""
    contracts = contracts or load_contracts()
    return _error(contracts, frozenset({e.kind for e in contracts.errors} - {"portrait"}))


def responses(contracts: Contracts | None = None) -> st.SearchStrategy[GeneratedResponse]:
    """A response of any documented kind."""
    return st.one_of(
        passed_responses(contracts), failed_responses(contracts), error_responses(contracts)
    )
