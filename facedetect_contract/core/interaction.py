"""One exchange with the endpoint: the request sent, the response received, and where it came from.

Interactions are what the checks judge, what fixtures store, what replay serves and what live mode
records. Headers are lower-cased; the request's credential headers are masked (``Bearer
<redacted>``). Everything else is held as it came, so that a key sharing words with the API cannot
change a verdict; what is written or shown of it (``to_dict``, ``repr``) passes the ``redactor``
of the exchange that made it (a keyless one for interactions read from fixtures).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .redaction import Redactor, redact_headers

__all__ = [
    "MAX_JSON_DEPTH",
    "Expectation",
    "Interaction",
    "RecordedRequest",
    "RecordedResponse",
    "parse_json",
    "read_json_file",
]

_KEYLESS = Redactor()  # credential headers and key-like text only: for what no exchange made


def _shown(redactor: Redactor | None) -> Redactor:
    return _KEYLESS if redactor is None else redactor


# A body nested deeper than this is not parsed: a hostile answer of 100,000 '[' must not exhaust
# the interpreter's stack, and no documented body is deeper than 4.
MAX_JSON_DEPTH = 64


class _NotJSON(ValueError):
    """Why a body is not the JSON of RFC 8259 (as opposed to what Python's parser tolerates)."""


def _reject_constant(name: str) -> Any:
    raise _NotJSON(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e999: no float holds it, and it would be written back as Infinity
        raise _NotJSON(f"the number {text[:40]} is out of range")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _NotJSON(f"the key {key!r} appears twice in one object")
            seen.add(key)
    return result


def _depth(text: str) -> int:
    """How deep brackets nest in ``text`` (an upper bound: brackets in strings count too)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_json(content: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, no repeated key, bounded depth; ``ValueError`` says
    why not."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _NotJSON(f"not UTF-8 (byte {exc.start})") from None
    brackets = text.count("[") + text.count("{")  # counted in C; the walk only when it may matter
    if brackets > MAX_JSON_DEPTH and _depth(text) > MAX_JSON_DEPTH:
        raise _NotJSON(f"nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            object_pairs_hook=_unique_keys,
        )
    except _NotJSON:
        raise
    except RecursionError:
        raise _NotJSON(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, or an integer of more digits than Python takes
        raise _NotJSON(str(exc).split(":")[0]) from None


def read_json_file(path: Path, raw: bytes, error: type[ValueError]) -> Any:
    """The JSON of a user's file; ``error`` names the file, the place and the fix otherwise."""
    try:
        return parse_json(raw)
    except ValueError as exc:
        try:  # a syntax error: name the line and column
            json.loads(raw.decode("utf-8"))
        except json.JSONDecodeError as syntax:
            raise error(
                f"{path}:{syntax.lineno}:{syntax.colno}: not valid JSON ({syntax.msg}); "
                f"fix the syntax there"
            ) from None
        except (UnicodeDecodeError, RecursionError, ValueError):
            pass
        raise error(f"{path}: not valid JSON ({exc}); save it as UTF-8 JSON and fix it") from None


@dataclass(frozen=True, repr=False)
class RecordedRequest:
    """A request as sent: ``body`` is the JSON value, or ``None`` with ``body_text`` if not JSON.

    ``redactor``: what its key is redacted with wherever it is written or shown."""

    method: str
    headers: Mapping[str, str]
    body: Any = None
    body_text: str | None = None
    redactor: Redactor | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The fixture-file form, redacted."""
        redactor = _shown(self.redactor)
        data: dict[str, Any] = {"method": self.method, "headers": redactor.headers(self.headers)}
        if self.body_text is not None:
            data["body_text"] = redactor.text(self.body_text)
        elif self.body is not None:
            data["body"] = redactor.tree(self.body)
        return data

    def __repr__(self) -> str:
        return f"RecordedRequest({self.to_dict()!r})"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecordedRequest:
        return cls(
            method=data["method"],
            headers=redact_headers(data.get("headers", {})),
            body=data.get("body"),
            body_text=data.get("body_text"),
        )


@dataclass(frozen=True, repr=False)
class RecordedResponse:
    """A response as received. ``body`` is the parsed JSON, or the raw text when it is not JSON.

    ``redactor``: what its key is redacted with wherever it is written or shown."""

    status: int
    headers: Mapping[str, str]
    body: Any
    body_is_json: bool = True
    not_json: str = ""  # why the body is not JSON, when it is not
    redactor: Redactor | None = field(default=None, compare=False)

    @classmethod
    def from_bytes(
        cls, status: int, headers: Mapping[str, str], content: bytes
    ) -> RecordedResponse:
        """Parse ``content`` as strict JSON where possible; keep it as text otherwise."""
        lowered = {name.lower(): value for name, value in headers.items()}
        try:
            return cls(status, lowered, parse_json(content))
        except ValueError as why:
            text = content.decode("utf-8", errors="replace")
            return cls(status, lowered, text, body_is_json=False, not_json=str(why))

    def to_dict(self) -> dict[str, Any]:
        """The fixture-file form, redacted."""
        redactor = _shown(self.redactor)
        return {
            "status": self.status,
            "headers": redactor.headers(self.headers),
            "body": redactor.tree(self.body),
        }

    def __repr__(self) -> str:
        shown = {**self.to_dict(), "body_is_json": self.body_is_json}
        return f"RecordedResponse({shown!r})"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecordedResponse:
        headers = {name.lower(): value for name, value in data.get("headers", {}).items()}
        # A recorded body is JSON unless it was stored as text under a type that is not JSON.
        content_type = headers.get("content-type", "")
        body_is_json = "json" in content_type or not isinstance(data.get("body"), str)
        return cls(data["status"], headers, data.get("body"), body_is_json)


@dataclass(frozen=True)
class Expectation:
    """What the docs demand of the answer to a request, when the request is invalid."""

    must_reject: bool
    reason: str
    source: str
    statuses: frozenset[int] | None = None
    codes: frozenset[str] | None = None
    # The open question the rejection rests on, when the docs only infer it: the endpoint may
    # answer as if the request were valid (and bill it), so the budget counts it as billable.
    open_question: str | None = None


@dataclass(frozen=True, repr=False)
class Interaction:
    """A request with its response, named so that a violation can say where it happened.

    Held as it came (see the module's docstring); ``to_dict`` and ``repr`` are redacted."""

    name: str
    request: RecordedRequest
    response: RecordedResponse
    provenance: Mapping[str, str] = field(default_factory=dict)
    expect: Mapping[str, str] | None = None
    expectation: Expectation | None = None
    description: str = ""
    elapsed: float | None = None  # seconds from sending to the end of the answer (live only)

    def to_dict(self) -> dict[str, Any]:
        """The fixture-file form (see ``contracts/face-detect/interaction.schema.json``)."""
        data: dict[str, Any] = {"name": self.name}
        if self.description:
            data["description"] = self.description
        data["provenance"] = dict(self.provenance)
        data["request"] = self.request.to_dict()
        data["response"] = self.response.to_dict()
        if self.expect is not None:
            data["expect"] = dict(self.expect)
        return data

    def __repr__(self) -> str:
        return (
            f"Interaction(name={self.name!r}, request={self.request!r}, "
            f"response={self.response!r}, elapsed={self.elapsed!r})"
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Interaction:
        return cls(
            name=data["name"],
            description=data.get("description", ""),
            provenance=data["provenance"],
            request=RecordedRequest.from_dict(data["request"]),
            response=RecordedResponse.from_dict(data["response"]),
            expect=data.get("expect"),
        )
