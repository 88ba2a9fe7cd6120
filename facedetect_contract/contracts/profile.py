"""The endpoint profile: ``contracts/face-detect/endpoint.json`` as typed Python.

Every fact about the endpoint that is not a message schema or an error-table row lives in that
file: its path and model, the kinds of answer and the fields that carry the verdict and the boxes,
the ratio tolerance, the behaviour-drift threshold, price, rate limit, image limits and the doc
sources. This module is the only code that turns them into values;
``tests/contracts/test_profile.py``
fails when one of them is spelled as a literal anywhere else in the package. A sibling model on
the same path is another profile beside other contracts, not a fork of the code.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, cast

from ..core.data import packaged_or_checkout
from ..core.pointers import Pointer

__all__ = [
    "CONTRACT_DIR",
    "PROFILE_FILE",
    "AnswerKind",
    "EndpointProfile",
    "ExampleImage",
    "Rejection",
    "RequestFields",
    "ResponseFields",
    "Source",
    "parse_profile",
    "profile_data",
]

# The checkout keeps the contracts at the top level; an installed wheel carries a copy inside.
CONTRACT_DIR = packaged_or_checkout("_contracts/face-detect", "contracts/face-detect")
PROFILE_FILE = "endpoint.json"

OutcomeName = Literal["passed", "failed", "request_error"]
PLACEHOLDER = "xxx"  # what errors.json writes for a value the server fills in


@dataclass(frozen=True)
class Source:
    """A public document a fact rests on."""

    id: str
    title: str
    url: str
    dates: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.url} ({', '.join(self.dates)})" if self.dates else self.url


@dataclass(frozen=True)
class AnswerKind:
    """One kind of answer the docs describe, and how to recognise it."""

    name: str
    description: str
    outcome: OutcomeName
    schema: str  # a contract file name, such as response-check-passed.schema.json
    status: int | None = None
    status_at_least: int | None = None
    verdict: bool | None = None
    error_kind: str | None = None
    shape: str | None = None
    question: str | None = None
    reading: str | None = None
    sources: tuple[str, ...] = ()

    def has_status(self, status: int) -> bool:
        if self.status is not None:
            return status == self.status
        return self.status_at_least is not None and status >= self.status_at_least


@dataclass(frozen=True)
class Rejection:
    """What the fake answers when a request breaks one of its rules."""

    rule: str
    code: str
    message: str
    placeholder: str = PLACEHOLDER

    def text(self, value: object | None = None) -> str:
        """The message, with the value the server fills in when one is given."""
        return self.message if value is None else self.message.replace(self.placeholder, str(value))


@dataclass(frozen=True)
class ExampleImage:
    """An image the docs show, as the fake knows it offline."""

    url: str
    width: int
    height: int
    format: str
    face_box: tuple[int, int, int, int]
    crop_boxes: Mapping[str, tuple[int, int, int, int]]  # by ratio, where the docs give one


@dataclass(frozen=True)
class RequestFields:
    """Where the request body carries the model, the image URL and the ratio."""

    model: Pointer
    image_url: Pointer
    ratio: Pointer


@dataclass(frozen=True)
class ResponseFields:
    """Where the response body carries the verdict, the boxes, the reason, errors and billing."""

    verdict: Pointer
    face_box: Pointer
    crop_box: Pointer
    humanoid: Pointer
    reason_code: Pointer
    reason_message: Pointer
    error_code: Pointer
    error_message: Pointer
    request_id: Pointer
    usage: Pointer
    billed_images: Pointer

    @property
    def boxes(self) -> tuple[Pointer, Pointer]:
        """The face box and the crop box, in the order the docs list them."""
        return (self.face_box, self.crop_box)


@dataclass(frozen=True)
class EndpointProfile:
    """The facts of one endpoint (and model) the rest of the package reads."""

    model: str
    method: str
    path: str
    default_base_url: str
    base_url_env: str
    api_key_env: str
    content_type: str
    async_header: str
    request_id_header: str
    request: RequestFields
    response: ResponseFields
    answers: tuple[AnswerKind, ...]
    ratio_box: Pointer
    ratio_tolerance_px: int
    iou_min: float
    price: Decimal
    currency: str
    billing_unit: str
    free_images: int
    request_failures_billed: bool
    qps: float
    throttle_status: int
    stub_throttle_code: str
    gateway_retry_statuses: frozenset[int]
    image_formats: tuple[str, ...]  # in the profile's order: the first is the default
    min_side_px: int
    max_side_px: int
    max_image_bytes: int | None
    example_images: tuple[ExampleImage, ...]
    rejections: Mapping[str, Rejection]
    sources: Mapping[str, Source]
    section_sources: Mapping[str, tuple[str, ...]]  # profile section -> its source ids

    def rejection(self, rule: str) -> Rejection:
        """The documented answer to a broken rule of the fake (``KeyError`` names the rules)."""
        try:
            return self.rejections[rule]
        except KeyError:
            raise KeyError(
                f"no rejection {rule!r} in endpoint.json; known: {sorted(self.rejections)}"
            ) from None

    def cite(self, *section: str) -> str:
        """The sources of profile sections (``"billing"``, ``"images"``), as text for a report."""
        ids = dict.fromkeys(i for name in section for i in self.section_sources.get(name, ()))
        return "; ".join(str(self.sources[i]) for i in ids)

    def source(self, source_id: str) -> Source:
        return self.sources[source_id]

    def answer(self, name: str) -> AnswerKind | None:
        return next((kind for kind in self.answers if kind.name == name), None)

    @property
    def failure_shapes(self) -> tuple[str, ...]:
        """The shapes of a failed check the profile admits, in its order (``("A", "B")``)."""
        return tuple(k.shape for k in self.answers if k.outcome == "failed" and k.shape)


# --- parsing (the JSON has been validated against endpoint.schema.json) ------------------------


def _sources(data: Mapping[str, Any]) -> dict[str, Source]:
    return {
        source_id: Source(
            source_id,
            entry["title"],
            entry["pages"][0]["url"],
            tuple(entry["pages"][0]["dates"]),
        )
        for source_id, entry in data.items()
    }


def parse_profile(
    data: Mapping[str, Any],
    *,
    messages_of: Callable[[str], Sequence[str] | None],
) -> EndpointProfile:
    """The profile of ``data``; ``ValueError`` names the field and the fix of a bad reference.

    ``messages_of(code)`` gives the messages errors.json allows for ``code`` (documented ones
    and the stub's wording), or ``None`` when the code is not in the table.
    """
    endpoint, request = data["endpoint"], data["request"]
    response = ResponseFields(**{k: Pointer.parse(v) for k, v in data["response"].items()})
    rejections: dict[str, Rejection] = {}
    for rule, entry in data["rejections"].items():
        allowed = messages_of(entry["code"])
        if allowed is None:
            raise ValueError(
                f"/rejections/{rule}/code: {entry['code']!r} is not in errors.json; add the row "
                f"or use a documented code"
            )
        message = entry.get("message", allowed[0] if allowed else None)
        if message is None or message not in allowed:
            raise ValueError(
                f"/rejections/{rule}/message: {message!r} is not a message errors.json gives "
                f"{entry['code']!r} ({list(allowed)}); copy one of them, or give the row a "
                f"stub_message"
            )
        rejections[rule] = Rejection(
            rule, entry["code"], message, entry.get("placeholder", PLACEHOLDER)
        )
    sources = _sources(data["sources"])
    section_sources = {
        name: tuple(section.get("sources", ()))
        for name, section in data.items()
        if isinstance(section, dict) and "sources" in section and name != "sources"
    }
    for name, ids in section_sources.items():
        for source_id in ids:
            if source_id not in sources:
                raise ValueError(f"/{name}/sources: {source_id!r} is not in /sources; add it there")
    geometry, billing, rate, images = (
        data["geometry"],
        data["billing"],
        data["rate_limit"],
        data["images"],
    )
    return EndpointProfile(
        model=data["model"],
        method=endpoint["method"],
        path=endpoint["path"],
        default_base_url=endpoint["default_base_url"],
        base_url_env=endpoint["base_url_env"],
        api_key_env=endpoint["api_key_env"],
        content_type=endpoint["content_type"],
        async_header=endpoint["async_header"],
        request_id_header=endpoint["request_id_header"],
        request=RequestFields(**{k: Pointer.parse(v) for k, v in request.items()}),
        response=response,
        answers=tuple(
            AnswerKind(
                name=name,
                description=entry["description"],
                outcome=cast(OutcomeName, entry["outcome"]),
                schema=entry["schema"],
                status=entry.get("status"),
                status_at_least=entry.get("status_at_least"),
                verdict=entry.get("verdict"),
                error_kind=entry.get("error_kind"),
                shape=entry.get("shape"),
                question=entry.get("question"),
                reading=entry.get("reading"),
                sources=tuple(entry["sources"]),
            )
            for name, entry in data["answers"].items()
        ),
        ratio_box=getattr(response, geometry["ratio_box"]),
        ratio_tolerance_px=geometry["ratio_tolerance_px"],
        iou_min=float(data["behaviour_drift"]["iou_min"]),
        price=Decimal(billing["price"]),
        currency=billing["currency"],
        billing_unit=billing["unit"],
        free_images=billing["free_images"],
        request_failures_billed=billing["request_failures_billed"],
        qps=float(rate["qps"]),
        throttle_status=rate["status"],
        stub_throttle_code=rate["stub_code"],
        gateway_retry_statuses=frozenset(data["gateway"]["retry_statuses"]),
        image_formats=tuple(images["formats"]),
        min_side_px=images["min_side_px"],
        max_side_px=images["max_side_px"],
        max_image_bytes=images["max_bytes"],
        example_images=tuple(
            ExampleImage(
                entry["url"],
                entry["width"],
                entry["height"],
                entry["format"],
                cast(Any, tuple(entry["face_box"])),
                {r: cast(Any, tuple(box)) for r, box in entry.get("crop_boxes", {}).items()},
            )
            for entry in data["example_images"]
        ),
        rejections=rejections,
        sources=sources,
        section_sources=section_sources,
    )


@functools.cache
def profile_data(directory: Path = CONTRACT_DIR) -> Mapping[str, str]:
    """A few names read straight from the profile's JSON, unvalidated, for text that must not
    wait for the contracts to load (the plugin's ``--help``): the environment variables, the
    default base URL, and the request's image and ratio field names. Everything else uses
    ``load_contracts``."""
    data = json.loads((directory / PROFILE_FILE).read_text(encoding="utf-8"))
    endpoint, request = data["endpoint"], data["request"]
    return {
        "base_url_env": endpoint["base_url_env"],
        "default_base_url": endpoint["default_base_url"],
        "api_key_env": endpoint["api_key_env"],
        "image_field": request["image_url"].rsplit("/", 1)[-1],
        "ratio_field": request["ratio"].rsplit("/", 1)[-1],
    }
