"""The endpoint profile: ``contracts/face-detect/endpoint.json`` as typed Python.

Every fact about the endpoint that is not a message schema or an error-table row lives in that
file: its path and model, the kinds of answer and the fields that carry the verdict and the boxes,
the ratio tolerance, the behaviour-drift threshold, price, rate limit, image limits and the doc
sources. The answer's shape is data too (``/shape``): which field carries the verdict (or none),
which boxes exist (or none), whether the request has a ratio (or none). A part a model's profile
does not state is not invented: reading it raises ``NotInProfile`` naming the model and the part,
and ``has_ratio``, ``verdict`` (``None``) and ``boxes`` (empty) say beforehand whether it is
there. This module is the only code that turns them into values; ``tests/contracts/test_profile.py``
fails when one of them is spelled as a literal anywhere else in the package. A sibling model on
the same path is another profile beside other contracts, not a fork of the code.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from ..core.data import packaged_or_checkout
from ..core.pointers import Pointer

__all__ = [
    "CONTRACT_DIR",
    "PROFILE_FILE",
    "AnswerKind",
    "EndpointProfile",
    "ExampleImage",
    "NotInProfile",
    "RatioParameter",
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


class NotInProfile(LookupError, ValueError):
    """A part of the answer's shape (a ratio, a box, a verdict, a price...) the model's profile
    does not state: the message names the model, the part, where it would be and how to ask."""

    def __init__(self, model: str, name: str, what: str) -> None:
        self.model, self.name, self.what = model, name, what
        super().__init__(
            f"{model} has no {what}, so {name!r} means nothing for it; ask first "
            f"(EndpointProfile.has_ratio, .verdict is None, .boxes empty, .states({name!r}))"
        )

    def __str__(self) -> str:
        return str(self.args[0])


class _Withholding:
    """A record some of whose fields a model's profile may leave out: reading one it left out
    raises ``NotInProfile`` (never ``AttributeError`` or ``KeyError``). Stated fields are plain
    attributes, read at full speed."""

    def _withhold(self, model: str, withheld: Mapping[str, str]) -> None:
        for name in withheld:
            object.__delattr__(self, name)
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_withheld", dict(withheld))

    def states(self, name: str) -> bool:
        """Whether the profile states field ``name``."""
        return name not in self.__dict__.get("_withheld", {})

    if not TYPE_CHECKING:  # at run time only: mypy keeps checking attribute names

        def __getattr__(self, name: str) -> Any:
            withheld = self.__dict__.get("_withheld", {})
            if name in withheld:
                raise NotInProfile(self.__dict__["_model"], name, withheld[name])
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _stated(self) -> dict[str, Any]:
        return {
            f.name: self.__dict__[f.name] for f in fields(cast(Any, self)) if self.states(f.name)
        }

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self._stated().items())
        return f"{type(self).__name__}({shown})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable mappings inside: unhashable


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
    code: Pointer | None = None  # where this kind carries its code (None: it carries none)
    message: Pointer | None = None  # where it carries its message
    present: tuple[Pointer, ...] = ()  # fields it has (a verdict-less model's pass: its boxes)
    absent: tuple[Pointer, ...] = ()  # fields it does not have

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
class RatioParameter:
    """The request's ratio parameter: where it goes, its documented values and default."""

    field: Pointer
    values: tuple[str, ...]
    default: str | None  # None: no default is documented (the parameter is required)


@dataclass(frozen=True, repr=False, eq=False)
class RequestFields(_Withholding):
    """Where the request body carries the model, the image URL and the ratio (a model without a
    ratio parameter leaves ``ratio`` out: reading it raises ``NotInProfile``)."""

    model: Pointer
    image_url: Pointer
    ratio: Pointer


@dataclass(frozen=True, repr=False, eq=False)
class ResponseFields(_Withholding):
    """Where the response body carries the verdict, the boxes, the reason, errors and billing.
    A field the model does not have (a verdict, a box, humanoid, a reason) is left out: reading
    it raises ``NotInProfile``; ``boxes`` lists the boxes it has."""

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
    def humanoid_or_none(self) -> Pointer | None:
        """Where ``humanoid`` is, or ``None`` for a model whose profile names none."""
        found: Pointer | None = self.__dict__.get("humanoid")
        return found

    @property
    def boxes(self) -> tuple[Pointer, ...]:
        """The boxes the model has, in the profile's order (face box, crop box; none for a
        model without boxes)."""
        return tuple(
            self.__dict__[name]
            for name in _BOX_ROLES
            if self.states(name) and name in self.__dict__
        )


_BOX_ROLES = ("face_box", "crop_box")  # the roles /shape/boxes may name (endpoint.schema.json)
_SHAPE_PARTS = {
    "verdict": "verdict field (endpoint.json /shape/verdict is null)",
    "face_box": "face box (endpoint.json /shape/boxes has no face_box)",
    "crop_box": "crop box (endpoint.json /shape/boxes has no crop_box)",
    "ratio": "ratio parameter (endpoint.json /shape/ratio is null)",
}


@dataclass(frozen=True, repr=False, eq=False)
class EndpointProfile(_Withholding):
    """The facts of one endpoint (and model) the rest of the package reads. Parts a model does
    not have (a ratio, boxes, a price) are left out: reading one raises ``NotInProfile``."""

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
    verdict: Pointer | None = None  # None: the model has no verdict field
    boxes: Mapping[str, Pointer] = field(default_factory=dict)  # role -> pointer; empty: no boxes
    ratio: RatioParameter | None = None  # None: the request has no ratio parameter
    max_aspect_ratio: float | None = None  # longest side over shortest, where documented

    @property
    def has_ratio(self) -> bool:
        """Whether the request has a ratio parameter."""
        return self.ratio is not None

    def valid_request(self, image_url: str, ratio: str | None = None) -> dict[str, Any]:
        """A documented request for ``image_url``: the model, the URL and, where the model has a
        ratio, ``ratio`` or else its default, else its first documented value."""
        body: dict[str, Any] = {}
        self.request.model.put(body, self.model)
        self.request.image_url.put(body, image_url)
        if self.ratio is not None:
            chosen = ratio or self.ratio.default or self.ratio.values[0]
            self.ratio.field.put(body, chosen)
        return body

    @property
    def verdict_name(self) -> str | None:
        """The name of the verdict field (``check_pass``, ``pass``), or ``None``."""
        return None if self.verdict is None else self.verdict.name

    @property
    def output(self) -> Pointer | None:
        """The object the check's result is in: the verdict's parent, else the first box's."""
        anchor = self.verdict or next(iter(self.boxes.values()), None)
        return None if anchor is None else anchor.parent

    @property
    def verdict_at(self) -> str:
        """Where an answer says whether the check passed, as a finding's pointer: the verdict,
        or (a verdict-less model) its output; "" when the profile names neither."""
        at = self.verdict or self.output
        return "" if at is None else str(at)

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


def _pointer_or_none(text: str | None) -> Pointer | None:
    return None if text is None else Pointer.parse(text)


def parse_profile(
    data: Mapping[str, Any],
    *,
    messages_of: Callable[[str], Sequence[str] | None],
    request_field: Callable[[Pointer], Mapping[str, Any] | None] | None = None,
) -> EndpointProfile:
    """The profile of ``data``; ``ValueError`` names the field and the fix of a bad reference.

    ``messages_of(code)`` gives the messages errors.json allows for ``code`` (documented ones
    and the stub's wording), or ``None`` when the code is not in the table.
    ``request_field(pointer)`` gives the request contract's schema of a body field, or ``None``:
    the ratio's values and default are its ``enum`` and ``default``.
    """
    endpoint, model, shape = data["endpoint"], data["model"], data["shape"]
    verdict = None if shape["verdict"] is None else Pointer.parse(shape["verdict"])
    boxes = {
        role: Pointer.parse(shape["boxes"][role]) for role in _BOX_ROLES if role in shape["boxes"]
    }
    ratio = None
    if shape["ratio"] is not None:
        at = Pointer.parse(shape["ratio"]["field"])
        described = request_field(at) if request_field is not None else None
        if described is None or not described.get("enum"):
            raise ValueError(
                f"/shape/ratio/field: the request contract describes no values at {str(at)!r}; "
                f"give that field an enum there, or make /shape/ratio null"
            )
        default = described.get("default")
        ratio = RatioParameter(
            at, tuple(described["enum"]), None if default is None else str(default)
        )
    request = _withholding(
        RequestFields,
        model,
        {
            **{k: Pointer.parse(v) for k, v in data["request"].items()},
            **({} if ratio is None else {"ratio": ratio.field}),
        },
    )
    response = _withholding(
        ResponseFields,
        model,
        {
            **{k: Pointer.parse(v) for k, v in data["response"].items()},
            **({} if verdict is None else {"verdict": verdict}),
            **boxes,
        },
    )
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
        data.get("geometry"),
        data["billing"],
        data["rate_limit"],
        data["images"],
    )
    if geometry is not None and geometry["ratio_box"] not in boxes:
        raise ValueError(
            f"/geometry/ratio_box: {geometry['ratio_box']!r} is not a box of /shape/boxes "
            f"{sorted(boxes)}; name one of them, or drop /geometry for a model without boxes"
        )
    if geometry is not None and ratio is None:
        raise ValueError(
            "/geometry: a box at the requested ratio, but /shape/ratio is null; drop /geometry "
            "or state the ratio parameter"
        )
    stated = {
        "ratio_box": None if geometry is None else boxes[geometry["ratio_box"]],
        "ratio_tolerance_px": None if geometry is None else geometry["ratio_tolerance_px"],
        "price": None if billing["price"] is None else Decimal(billing["price"]),
        "currency": billing["currency"],
        "free_images": billing["free_images"],
        "min_side_px": images["min_side_px"],
        "iou_min": (
            float(data["behaviour_drift"]["iou_min"]) if "behaviour_drift" in data else None
        ),
    }
    missing = {
        "ratio_box": "box at the requested ratio (endpoint.json /geometry is absent)",
        "ratio_tolerance_px": "ratio tolerance (endpoint.json /geometry is absent)",
        "price": "price (endpoint.json /billing/price is null)",
        "currency": "currency (endpoint.json /billing/currency is null)",
        "free_images": "free quota (endpoint.json /billing/free_images is null)",
        "min_side_px": "minimum image side (endpoint.json /images/min_side_px is null)",
        "iou_min": "behaviour-drift threshold (endpoint.json /behaviour_drift is absent)",
    }
    profile = EndpointProfile(
        model=data["model"],
        method=endpoint["method"],
        path=endpoint["path"],
        default_base_url=endpoint["default_base_url"],
        base_url_env=endpoint["base_url_env"],
        api_key_env=endpoint["api_key_env"],
        content_type=endpoint["content_type"],
        async_header=endpoint["async_header"],
        request_id_header=endpoint["request_id_header"],
        request=request,
        response=response,
        answers=tuple(
            AnswerKind(
                code=_pointer_or_none(entry.get("code")),
                message=_pointer_or_none(entry.get("message")),
                present=tuple(Pointer.parse(at) for at in entry.get("present", ())),
                absent=tuple(Pointer.parse(at) for at in entry.get("absent", ())),
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
        ratio_box=stated["ratio_box"],
        ratio_tolerance_px=stated["ratio_tolerance_px"],
        iou_min=stated["iou_min"],
        price=stated["price"],
        currency=stated["currency"],
        billing_unit=billing["unit"],
        free_images=stated["free_images"],
        request_failures_billed=billing["request_failures_billed"],
        qps=float(rate["qps"]),
        throttle_status=rate["status"],
        stub_throttle_code=rate["stub_code"],
        gateway_retry_statuses=frozenset(data["gateway"]["retry_statuses"]),
        image_formats=tuple(images["formats"]),
        min_side_px=stated["min_side_px"],
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
        verdict=verdict,
        boxes=boxes,
        ratio=ratio,
        max_aspect_ratio=images.get("max_aspect_ratio"),
    )
    profile._withhold(model, {k: missing[k] for k, v in stated.items() if v is None})
    return profile


def _withholding(cls: Any, model: str, given: Mapping[str, Pointer]) -> Any:
    """A ``RequestFields`` or ``ResponseFields`` of the pointers ``given``; the fields it leaves
    out raise ``NotInProfile`` when read."""
    names = [f.name for f in fields(cls)]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ValueError(
            f"/{'request' if cls is RequestFields else 'response'}/{unknown[0]}: no such field; "
            f"use one of {names}"
        )
    placeholder = Pointer.parse("/absent")
    record = cls(**{name: given.get(name, placeholder) for name in names})
    record._withhold(
        model,
        {
            name: _SHAPE_PARTS.get(name, f"{name} field (endpoint.json)")
            for name in names
            if name not in given
        },
    )
    return record


@functools.cache
def profile_data(directory: Path = CONTRACT_DIR) -> Mapping[str, str]:
    """A few names read straight from the profile's JSON, unvalidated, for text that must not
    wait for the contracts to load (the plugin's ``--help``): the environment variables, the
    default base URL, and the request's image and ratio field names (no ``ratio_field`` for a
    model without a ratio parameter). Everything else uses
    ``load_contracts``."""
    data = json.loads((directory / PROFILE_FILE).read_text(encoding="utf-8"))
    endpoint, request, ratio = data["endpoint"], data["request"], data["shape"]["ratio"]
    names = {
        "base_url_env": endpoint["base_url_env"],
        "default_base_url": endpoint["default_base_url"],
        "api_key_env": endpoint["api_key_env"],
        "image_field": request["image_url"].rsplit("/", 1)[-1],
    }
    if ratio is not None:  # a model without a ratio parameter has no ratio field to name
        names["ratio_field"] = ratio["field"].rsplit("/", 1)[-1]
    return names
