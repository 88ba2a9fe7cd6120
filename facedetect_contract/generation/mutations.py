"""Mutations: the ways a valid request is broken, as typed data, built by walking the contracts.

Each mutation names its family (``missing``, ``wrong-type``, ``url-authority``, ...) and where it
applies (a JSON pointer into the body, or a header), so a live run can send one request per family
and an observation can find the requests that left the ratio out without parsing any description.
Whether a mutated request must be rejected is not decided here: ``oracle`` reads it off the
contract.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..contracts.loader import Contracts
from ..core.pointers import Pointer

if TYPE_CHECKING:  # Hypothesis is imported where strategies are made, not with Mutation
    from hypothesis import strategies as st

__all__ = [
    "HUGE",
    "URL_VARIANTS",
    "Mutation",
    "body_mutations",
    "header_mutations",
]

HUGE = 100_000


@dataclass(frozen=True)
class Mutation:
    """One way a request was broken: the family, where, and the value it drew (described)."""

    family: str
    where: str = ""  # a JSON pointer into the body, a header name, or "" for the whole request
    detail: str = ""

    @property
    def key(self) -> str:
        """What "one request per family" means: the family at one place."""
        return f"{self.family} {self.where}".strip()

    def describe(self) -> str:
        """A sentence for test output and reports (``/model of type integer``)."""
        where, detail = self.where, self.detail
        texts: Mapping[str, str] = {
            "missing": f"{where} {detail}missing",
            "null": f"{where} null",
            "wrong-type": f"{where} of type {detail}",
            "empty": f"{where} empty",
            "huge": f"{where} huge ({HUGE} characters)",
            "not-in-enum": f"{where} not in enum: {detail}",
            "unknown-field": f"unknown field {where}/{detail}",
            "no-authorization": "no Authorization header",
            "unknown-key": "unknown API key",
            "no-header": f"no {where} header",
            "content-type": f"Content-Type {detail}",
            "forbidden-header": f"{where}: {detail}",
            "malformed-json": f"malformed JSON {detail}",
            "not-an-object": f"JSON {detail} instead of an object",
        }
        if self.family.startswith("url-"):
            return f"{where} = {detail}"
        return texts.get(self.family, f"{self.family} {where} {detail}".strip())


# Image URLs a URL rule may or may not accept, by family; the contract decides which it refuses.
URL_VARIANTS: tuple[tuple[str, str], ...] = (
    ("url-scheme", "file:///tmp/portrait.png"),
    ("url-scheme", "ftp://example.com/portrait.png"),
    ("url-scheme", "oss://bucket/portrait.png"),
    ("url-scheme", "data:image/png;base64,iVBORw0KGgo="),
    ("url-scheme", "/home/user/portrait.png"),
    ("url-scheme", "C:\\portrait.png"),
    ("url-scheme", "http//missing-colon.example/p.png"),
    ("url-scheme", "https://"),
    ("url-scheme", "portrait.png"),
    ("url-authority", "http://user:password@example.com/portrait.png"),
    ("url-authority", "HTTPS://EXAMPLE.COM/portrait.png"),
    ("url-authority", "http://[::1]:8080/portrait.png"),
    ("url-authority", "http://[::1/portrait.png"),
    ("url-authority", "https://example.com:99999/portrait.png"),
    ("url-authority", "https://example.com:/portrait.png"),
    ("url-authority", "http://例え.jp/portrait.png"),
    ("url-authority", "http://xn--r8jz45g.jp/portrait.png"),
    ("url-path", "http://example.com/my portrait.png"),
    ("url-path", "https://example.com/%E5%9B%BE%E7%89%87.png"),
    ("url-path", "https://example.com/portrait.png?size=large#top"),
    ("url-path", "https://example.com/portrait.png\n"),
    ("url-path", " https://example.com/portrait.png"),
)
# One value of each JSON type; a field gets every one whose type is not its own (null apart).
_VALUES_BY_TYPE: Mapping[str, Any] = {
    "string": "12",
    "integer": 12345,
    "number": 1.5,
    "boolean": True,
    "object": {"not": "a string"},
    "array": ["not", "an", "object"],
}
_DROP = object()

Mutate = Callable[[Any], Any]
BodyMutation = tuple[Mutation, Mutate]


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


def _fixed(
    mutation: Mutation, path: tuple[str, ...], value: Any
) -> st.SearchStrategy[BodyMutation]:
    from hypothesis import strategies as st  # noqa: PLC0415

    return st.just((mutation, lambda body: _set(body, path, value)))


def _outside(allowed: frozenset[str], path: tuple[str, ...]) -> st.SearchStrategy[BodyMutation]:
    """Set ``path`` to a short text that is not one of ``allowed``."""
    from hypothesis import strategies as st  # noqa: PLC0415

    where = str(Pointer.of(path))

    def mutation(value: str) -> BodyMutation:
        return Mutation("not-in-enum", where, repr(value)), lambda body: _set(body, path, value)

    return st.text(min_size=1, max_size=12).filter(lambda s: s not in allowed).map(mutation)


def _unknown_field(known: frozenset[str], path: tuple[str, ...]) -> st.SearchStrategy[BodyMutation]:
    """Add a field the object at ``path`` does not document."""
    from hypothesis import strategies as st  # noqa: PLC0415

    def mutation(name: str) -> BodyMutation:
        where = (*path, name)
        found = Mutation("unknown-field", str(Pointer.of(path)), name)
        return found, lambda body: _set(body, where, "x")

    return (
        st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True)
        .filter(lambda n: n not in known)
        .map(mutation)
    )


def body_mutations(contracts: Contracts) -> list[st.SearchStrategy[BodyMutation]]:
    """Strategies of (mutation, mutate(body)) built by walking the request contract."""

    schema = contracts.schemas["request"]
    families: list[st.SearchStrategy[BodyMutation]] = []
    for path, sub, required in _walk(schema):
        where = str(Pointer.of(path))
        families.append(
            _fixed(Mutation("missing", where, "(required) " if required else ""), path, _DROP)
        )
        families.append(_fixed(Mutation("null", where), path, None))
        kind = sub.get("type")
        for other, wrong in _VALUES_BY_TYPE.items():
            if other != kind and not (kind == "number" and other == "integer"):
                families.append(_fixed(Mutation("wrong-type", where, other), path, wrong))
        if kind == "string":
            families.append(_fixed(Mutation("empty", where), path, ""))
            families.append(_fixed(Mutation("huge", where), path, "x" * HUGE))
            if "enum" in sub:
                families.append(_outside(frozenset(sub["enum"]), path))
            if "pattern" in sub:
                for family, variant in URL_VARIANTS:
                    families.append(_fixed(Mutation(family, where, repr(variant)), path, variant))
    # The docs list the fields of each object; any other is unknown to them (open question
    # unknown-fields): whether it must be rejected is the contract's to say.
    for path, sub in _objects(schema):
        families.append(_unknown_field(frozenset(sub.get("properties", {})), path))
    return families


@dataclass(frozen=True)
class HeaderMutation:
    """A request-level mutation: its own headers, authentication or body bytes."""

    mutation: Mutation
    headers: Mapping[str, str] | None = None  # None: the base headers
    auth: str = "key"
    content: bytes | None = None
    body: Any = None
    own_body: bool = False  # the mutation replaces the body (a JSON value that is not an object)


def header_mutations(contracts: Contracts) -> list[st.SearchStrategy[HeaderMutation]]:
    """Header-level mutations: missing, malformed or forbidden headers, bad keys, bad JSON."""
    from hypothesis import strategies as st  # noqa: PLC0415

    schema = contracts.schemas["request_headers"]
    base = {"content-type": contracts.profile.content_type}
    out: list[st.SearchStrategy[HeaderMutation]] = [
        st.just(HeaderMutation(Mutation("no-authorization"), auth="none")),
        st.just(HeaderMutation(Mutation("unknown-key"), auth="invalid")),
    ]
    for name in schema["properties"]:
        if name in schema.get("required", ()) and name != "authorization":
            out.append(st.just(HeaderMutation(Mutation("no-header", name), headers={})))
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
            lambda ct: HeaderMutation(
                Mutation("content-type", "content-type", ct), headers={"content-type": ct}
            )
        )
    )
    for name, sub in schema["properties"].items():
        if sub.get("not") == {}:  # a header that must not be sent at all, whatever its value

            def sent(value: str, name: str = name) -> HeaderMutation:
                return HeaderMutation(
                    Mutation("forbidden-header", name, value), headers={**base, name: value}
                )

            out.append(st.sampled_from(["enable", "", "disable"]).map(sent))
    model = contracts.profile.model
    cut = json.dumps({contracts.profile.request.model.name: model})[:-1] + ", "  # cut short
    quoted = cut.replace('"', "'")[:-2] + "}"  # single quotes: JavaScript, not JSON
    malformed = st.sampled_from([cut.encode(), b"not json", b"", quoted.encode(), b"\xff\xfe"])
    out.append(
        malformed.map(
            lambda raw: HeaderMutation(Mutation("malformed-json", "", repr(raw[:20])), content=raw)
        )
    )
    non_objects: st.SearchStrategy[Any] = st.sampled_from([[], model, 1, None, True])
    out.append(
        non_objects.map(
            lambda value: HeaderMutation(
                Mutation("not-an-object", "", type(value).__name__), body=value, own_body=True
            )
        )
    )
    return out
