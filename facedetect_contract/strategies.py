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

import array
import email.utils
import functools
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from hypothesis import strategies as st

from . import geometry
from .checks import ERROR_CODE_DOC
from .client import Auth, FaceDetectClient
from .contracts import Contracts, ErrorEntry, load_contracts
from .interaction import Expectation, Interaction

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

BASE_HEADERS: Mapping[str, str] = {"content-type": "application/json"}


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

    def send(
        self, client: FaceDetectClient, *, name: str | None = None, retry: bool = True
    ) -> Interaction:
        """Send it through ``client``; the interaction carries this request's expectation."""
        interaction = client.exchange(
            content=self.bytes,
            headers=self.headers,
            auth=self.auth,
            name=name or self.description,
            retry=retry,
        )
        return replace(interaction, expectation=self.expectation)

    @property
    def must_reject(self) -> bool:
        return self.expectation is not None and self.expectation.must_reject


# --- valid requests, from the schema ---------------------------------------------------------


# --- strings matching a pattern ----------------------------------------------------------------
# st.from_regex draws a string one character at a time: for the image_url pattern that was over
# half the cost of a generated request (profiled with bench/run.py). A pattern made only of
# literals, classes, escapes, groups, alternation and quantifiers is drawn here as one st.text per
# class run instead, about twice as fast; any other construct goes to st.from_regex. Which
# characters a class or escape matches is decided by `re` itself, so the semantics are Python's.

_MAX_ALPHABET = 4096  # a class (or its complement) larger than this goes to st.from_regex
_QUANTIFIER = re.compile(r"\{(\d*)(,?)(\d*)\}")


class _Unsupported(ValueError):
    """A pattern construct the translation does not cover; st.from_regex takes the pattern."""


@functools.cache
def _code_points() -> str:
    """Every code point UTF-8 can encode (surrogates excluded), as one string."""
    points = array.array("I", range(0x110000))
    del points[0xD800:0xE000]
    if points.itemsize != 4:  # pragma: no cover - 'I' is 4 bytes on every supported platform
        return "".join(map(chr, points))
    return points.tobytes().decode("utf-32-le" if sys.byteorder == "little" else "utf-32-be")


@functools.cache
def _alphabet(item: str) -> str | st.SearchStrategy[str]:
    """The characters a class (``[...]``) or escape (``\\s``) matches, as an alphabet."""
    negated = item.startswith("[^") or item in ("\\D", "\\S", "\\W")
    positive = "[" + item[2:] if item.startswith("[^") else item.lower() if negated else item
    matched = re.findall(positive, _code_points())
    if len(matched) > _MAX_ALPHABET or not (matched or negated):
        raise _Unsupported(f"{item} matches too many or no characters")
    if negated:
        return st.characters(codec="utf-8", exclude_characters="".join(matched))
    return "".join(matched)


def _interleave(parts: tuple[str | st.SearchStrategy[str], ...], drawn: tuple[str, ...]) -> str:
    """``parts`` joined, each strategy replaced by the next drawn value in turn."""
    values = iter(drawn)
    return "".join(part if isinstance(part, str) else next(values) for part in parts)


class _PatternTranslation:
    """Recursive descent over the covered subset of Python's regular expression syntax."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.position = 1 if pattern.startswith("^") else 0

    def peek(self) -> str:
        return self.pattern[self.position : self.position + 1]

    def strategy(self) -> st.SearchStrategy[str]:
        result = self.alternation()
        if self.position != len(self.pattern):
            raise _Unsupported(f"unexpected {self.peek()!r} at {self.position}")
        return result

    def alternation(self) -> st.SearchStrategy[str]:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.position += 1
            branches.append(self.sequence())
        return branches[0] if len(branches) == 1 else st.one_of(branches)

    def sequence(self) -> st.SearchStrategy[str]:
        # Literal runs are not drawn: each draw costs Hypothesis a span, so only the variable
        # parts are drawn and the literals are put back between them.
        parts: list[str | st.SearchStrategy[str]] = []
        while self.peek() not in ("", "|", ")"):
            if self.peek() == "$" and self.position == len(self.pattern) - 1:
                self.position += 1  # the closing anchor: every value is a full match anyway
                break
            alphabet, group = self.atom()
            low, high = self.quantifier()
            if isinstance(alphabet, str) and len(alphabet) == 1 and (low, high) == (1, 1):
                if parts and isinstance(parts[-1], str):
                    parts[-1] += alphabet
                else:
                    parts.append(alphabet)
            elif alphabet is not None:
                parts.append(st.text(alphabet, min_size=low, max_size=high))
            elif (low, high) == (1, 1):
                parts.append(group)
            elif (low, high) == (0, 1):
                parts.append(st.one_of(st.just(""), group))
            else:
                parts.append(st.lists(group, min_size=low, max_size=high).map("".join))
        drawn = [part for part in parts if not isinstance(part, str)]
        if not drawn:
            return st.just("".join(part for part in parts if isinstance(part, str)))
        if len(parts) == 1:
            return drawn[0]
        return st.tuples(*drawn).map(functools.partial(_interleave, tuple(parts)))

    def atom(self) -> tuple[str | st.SearchStrategy[str] | None, st.SearchStrategy[str]]:
        """(alphabet, strategy) of one atom; the alphabet is None for a group."""
        char = self.peek()
        if char == "(":
            self.position += 1
            if self.pattern.startswith("?:", self.position):
                self.position += 2
            elif self.peek() == "?":
                raise _Unsupported("(?...) constructs")
            inner = self.alternation()
            if self.peek() != ")":
                raise _Unsupported("an unbalanced group")
            self.position += 1
            return None, inner
        if char == "[":
            end = self.class_end()
            item, self.position = self.pattern[self.position : end], end
        elif char == "\\":
            item = self.pattern[self.position : self.position + 2]
            if len(item) < 2 or (item[1].isalnum() and item[1] not in "dDsSwWnrtfv"):
                raise _Unsupported(f"the escape {item}")
            self.position += 2
        elif char in ".^$*+?{}":
            raise _Unsupported(f"{char!r} here")
        else:
            self.position += 1
            return char, st.just(char)
        alphabet = _alphabet(item)
        return alphabet, st.text(alphabet, min_size=1, max_size=1)

    def class_end(self) -> int:
        """Index just past the class that starts at the current position."""
        index = self.position + 1
        if self.pattern.startswith("^", index):
            index += 1
        if self.pattern.startswith("]", index):
            index += 1
        while index < len(self.pattern):
            char = self.pattern[index]
            if char == "]":
                return index + 1
            if char == "[":
                raise _Unsupported("nested classes")
            index += 2 if char == "\\" else 1
        raise _Unsupported("an unterminated class")

    def quantifier(self) -> tuple[int, int | None]:
        char = self.peek()
        bounds: tuple[int, int | None]
        if char in ("?", "*", "+"):
            bounds = {"?": (0, 1), "*": (0, None), "+": (1, None)}[char]
            self.position += 1
        elif char == "{":
            match = _QUANTIFIER.match(self.pattern, self.position)
            if match is None or not (match.group(1) or match.group(3)):
                raise _Unsupported("a '{' that is not a quantifier")
            low = int(match.group(1) or 0)
            high = int(match.group(3)) if match.group(3) else None if match.group(2) else low
            bounds = (low, high)
            self.position = match.end()
        else:
            return 1, 1
        if self.peek() in ("?", "+"):
            raise _Unsupported("lazy or possessive quantifiers")
        return bounds


def _matching(pattern: str, min_length: int = 0) -> st.SearchStrategy[str]:
    """Strings of ``min_length`` or more that fully match ``pattern`` (so ``re.search`` accepts
    them, as JSON Schema does). One filter for both: each filter layer costs a draw."""
    try:
        translated = _PatternTranslation(pattern).strategy()
    except (_Unsupported, re.error):
        translated = st.from_regex(pattern, fullmatch=True, alphabet=st.characters(codec="utf-8"))
    search = re.compile(pattern).search
    return translated.filter(lambda s: len(s) >= min_length and search(s) is not None)


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
            _matching(schema["pattern"], minimum)
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
# One value of each JSON type; a field gets every one whose type is not its own (null apart).
_VALUES_BY_TYPE: Mapping[str, Any] = {
    "string": "12",
    "integer": 12345,
    "number": 1.5,
    "boolean": True,
    "object": {"not": "a string"},
    "array": ["not", "an", "object"],
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
        for other, wrong in _VALUES_BY_TYPE.items():
            if other != kind and not (kind == "number" and other == "integer"):
                families.append(mutation(f"{where} of type {other}", path, wrong))
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


def _with_header(name: str) -> Callable[[str], GeneratedRequest]:
    """A request carrying header ``name`` with the value it is given."""

    def build(value: str) -> GeneratedRequest:
        return GeneratedRequest(f"{name}: {value}", None, headers={**BASE_HEADERS, name: value})

    return build


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
        if sub.get("not") == {}:  # a header that must not be sent at all, whatever its value
            out.append(st.sampled_from(["enable", "", "disable"]).map(_with_header(name)))
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
    # Valid bodies straight from the schema, and each branch finished (and judged) in one map:
    # fewer nested spans make Hypothesis's engine ~13 % cheaper per example (bench/run.py).
    valid_bodies = _from_schema(contracts.schemas["request"])

    def judged(request: GeneratedRequest) -> GeneratedRequest:
        return replace(request, expectation=expectation_for(request, contracts))

    def body_level(pair: tuple[Any, tuple[str, Callable[[Any], Any]]]) -> GeneratedRequest:
        body, (description, mutate) = pair
        return judged(GeneratedRequest(description, mutate(body)))

    def header_level(pair: tuple[Any, GeneratedRequest]) -> GeneratedRequest:
        body, probe = pair
        own_body = (
            probe.body is not None
            or probe.content is not None
            or probe.description.startswith("JSON")
        )
        return judged(
            GeneratedRequest(
                probe.description,
                probe.body if own_body else body,
                probe.headers,
                probe.auth,
                probe.content,
            )
        )

    return st.one_of(
        st.tuples(valid_bodies, st.one_of(_body_mutations(contracts))).map(body_level),
        st.tuples(valid_bodies, st.one_of(_header_mutations(contracts))).map(header_level),
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
