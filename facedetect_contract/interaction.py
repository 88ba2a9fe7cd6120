"""One exchange with the endpoint: the request sent, the response received, and where it came from.

Interactions are what the checks judge, what fixtures store, what replay serves and what live mode
records. Headers are lower-cased; request credentials are already redacted here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .redaction import redact_headers

__all__ = [
    "ENDPOINT_PATH",
    "Expectation",
    "Interaction",
    "RecordedRequest",
    "RecordedResponse",
]

ENDPOINT_PATH = "/services/aigc/image2video/face-detect"


@dataclass(frozen=True)
class RecordedRequest:
    """A request as sent: ``body`` is the JSON value, or ``None`` with ``body_text`` if not JSON."""

    method: str
    headers: Mapping[str, str]
    body: Any = None
    body_text: str | None = None

    @property
    def ratio(self) -> str | None:
        """``parameters.ratio`` as sent, when it is a string."""
        if isinstance(self.body, dict):
            parameters = self.body.get("parameters")
            if isinstance(parameters, dict) and isinstance(parameters.get("ratio"), str):
                return str(parameters["ratio"])
        return None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"method": self.method, "headers": dict(self.headers)}
        if self.body_text is not None:
            data["body_text"] = self.body_text
        elif self.body is not None:
            data["body"] = self.body
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecordedRequest:
        return cls(
            method=data["method"],
            headers=redact_headers(data.get("headers", {})),
            body=data.get("body"),
            body_text=data.get("body_text"),
        )


@dataclass(frozen=True)
class RecordedResponse:
    """A response as received. ``body`` is the parsed JSON, or the raw text when it is not JSON."""

    status: int
    headers: Mapping[str, str]
    body: Any
    body_is_json: bool = True

    @classmethod
    def from_bytes(
        cls, status: int, headers: Mapping[str, str], content: bytes
    ) -> RecordedResponse:
        """Parse ``content`` as JSON where possible; keep it as text otherwise."""
        lowered = {name.lower(): value for name, value in headers.items()}
        text = content.decode("utf-8", errors="replace")
        try:
            return cls(status, lowered, json.loads(text))
        except ValueError:
            return cls(status, lowered, text, body_is_json=False)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "headers": dict(self.headers), "body": self.body}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecordedResponse:
        headers = {name.lower(): value for name, value in data.get("headers", {}).items()}
        content_type = headers.get("content-type", "application/json")
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


@dataclass(frozen=True)
class Interaction:
    """A request with its response, named so that a violation can say where it happened."""

    name: str
    request: RecordedRequest
    response: RecordedResponse
    provenance: Mapping[str, str] = field(default_factory=dict)
    expect: Mapping[str, str] | None = None
    expectation: Expectation | None = None
    description: str = ""

    @property
    def ratio(self) -> str | None:
        """The ratio as sent; ``None`` when absent (the checks apply the documented default)."""
        return self.request.ratio

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
