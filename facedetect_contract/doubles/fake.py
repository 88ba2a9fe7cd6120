"""A contract-faithful fake of the endpoint: a pure function from request to response.

It knows no transport. respx mounts it for offline runs and the stub server (``server.py``) serves
it over real HTTP, so both behave the same. It answers rule by rule as the contracts say: which
image URL is acceptable is the request contract's ``image_url`` pattern, every code and message
comes from the endpoint profile's ``rejections`` (checked against ``errors.json``), the fields of
its answers from the profile's pointers. Where the docs allow two readings it takes the one its
options name (``failure_shape``), so tests can exercise both.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from ..contracts.loader import Contracts, load_contracts
from ..contracts.profile import AnswerKind, Rejection
from ..core import geometry
from ..core.interaction import parse_json
from ..core.violations import ABSENT

__all__ = [
    "CatalogImages",
    "FaceDetectFake",
    "FakeRequest",
    "FakeResponse",
    "Image",
    "ImageSource",
    "ImageUnavailable",
    "named_reason",
]


@dataclass(frozen=True)
class FakeRequest:
    """The parts of an HTTP request the endpoint looks at. Header names in any case."""

    method: str
    headers: Mapping[str, str] = field(repr=False)  # holds the Authorization header: never shown
    body: bytes = b""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass(frozen=True)
class FakeResponse:
    """Status, headers and JSON body bytes, ready for any transport."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Image:
    """What the portrait check sees of an image.

    ``reason`` names a documented portrait failure (``InvalidFile.NoHuman`` ...) when the picture
    itself fails the check; ``face`` is the face box when it passes.
    """

    width: int
    height: int
    format: str
    face: geometry.Box | None = None
    reason: str | None = None
    crops: Mapping[str, geometry.Box] = field(default_factory=dict)  # documented, by ratio


class ImageUnavailable(Exception):
    """The image could not be had: one of the profile's rejections, with its filled-in value."""

    def __init__(self, rule: str, value: object | None = None) -> None:
        super().__init__(rule if value is None else f"{rule}: {value}")
        self.rule = rule
        self.value = value


class ImageSource(Protocol):
    """Where the fake gets the image behind the image URL."""

    def fetch(self, url: str) -> Image: ...


# The path of a URL whose authority Python cannot parse (the contract admits any bracketed host).
_AFTER_AUTHORITY = re.compile(r"^[^:/?#]+://[^/?#]*([^?#]*)")


def _reasons_by_name(contracts: Contracts) -> dict[str, str]:
    """``"nohuman"`` -> ``"InvalidFile.NoHuman"``, for every documented portrait reason."""
    return {code.split(".", 1)[-1].lower(): code for code in sorted(contracts.portrait_codes)}


def named_reason(url: str, contracts: Contracts) -> str | None:
    """The portrait reason a URL's file name names (``.../no-human.png`` -> NoHuman), if any.

    Both image sources use it (the catalog offline, the stub server's downloader over HTTP), so
    a test provokes the same documented failure in every mode by naming its image after it.
    """
    try:
        path = urlsplit(url).path
    except ValueError:  # a host Python cannot parse: the path still ends at a query or fragment
        match = _AFTER_AUTHORITY.match(url)
        path = match.group(1) if match else url
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0].replace("-", "").lower()
    return _reasons_by_name(contracts).get(stem)


@dataclass
class CatalogImages:
    """Offline images: the documented examples, named scenarios, and a deterministic draw.

    A URL whose path names a documented portrait reason (``.../no-human.png`` ->
    ``InvalidFile.NoHuman``) fails with it; ``unreachable`` in the host refuses the connection;
    any other URL gets an image derived from its hash (its format from the path's extension), so
    generated URLs reach every outcome while the same URL always gets the same answer.
    """

    contracts: Contracts = field(default_factory=load_contracts)
    images: dict[str, Image] = field(default_factory=dict)

    def __post_init__(self) -> None:
        profile = self.contracts.profile
        for example in profile.example_images:
            self.images.setdefault(
                example.url,
                Image(
                    example.width,
                    example.height,
                    example.format,
                    face=example.face_box,
                    crops=example.crop_boxes,
                ),
            )
        self._reasons = sorted(_reasons_by_name(self.contracts).values())

    def fetch(self, url: str) -> Image:
        if url in self.images:
            return self.images[url]
        try:
            parts = urlsplit(url)
            host, path = parts.hostname or "", parts.path
        except ValueError:  # the contract admits it (a bracketed host Python cannot parse)
            match = _AFTER_AUTHORITY.match(url)
            host, path = "", match.group(1) if match else ""
        if "unreachable" in host:
            raise ImageUnavailable("url-refused", host)
        filename = path.rsplit("/", 1)[-1]
        # The file name's extension is the format (the first documented one without one); an
        # unsupported one is answered as such.
        default = self.contracts.profile.image_formats[0]
        fmt = filename.rsplit(".", 1)[-1].lower() if "." in filename else default
        reason = named_reason(url, self.contracts)
        if reason is not None:
            return Image(1024, 1024, fmt, reason=reason)
        digest = hashlib.sha256(url.encode("utf-8", "surrogatepass")).digest()
        least = self.contracts.profile.min_side_px  # sizes from the shortest side admitted up
        width, height = least + digest[0] * 12, least + digest[1] * 12
        if digest[2] < 32:  # one in eight fails the portrait check, for a documented reason
            return Image(width, height, fmt, reason=self._reasons[digest[3] % len(self._reasons)])
        side = min(width, height) // (3 + digest[4] % 3)
        x1 = (width - side) * digest[5] // 255
        y1 = (height - side) * digest[6] // 255
        return Image(width, height, fmt, face=(x1, y1, x1 + side, y1 + side))


class FaceDetectFake:
    """The endpoint's documented behaviour as ``FakeRequest -> FakeResponse``.

    ``api_keys`` are the keys it accepts; ``failure_shape`` picks how a failed portrait check is
    answered, one of the profile's shapes (A: 200 with the verdict false, billed; B: 400 with the
    reason's code, not billed). ``billed`` counts the images it would have charged for.
    """

    def __init__(
        self,
        *,
        api_keys: Iterable[str],
        images: ImageSource | None = None,
        failure_shape: str = "A",
        contracts: Contracts | None = None,
        request_ids: Callable[[], str] | None = None,
    ) -> None:
        self.contracts = contracts or load_contracts()
        profile = self.contracts.profile
        shapes = {k.shape: k for k in profile.answers if k.outcome == "failed" and k.shape}
        if failure_shape not in shapes:
            raise ValueError(
                f"failure_shape must be one of {sorted(shapes)} (the profile's answers), "
                f"not {failure_shape!r}"
            )
        self._failure: AnswerKind = shapes[failure_shape]
        self._keys = frozenset(api_keys)
        self.images: ImageSource = images or CatalogImages(self.contracts)
        self.failure_shape = failure_shape
        self._request_ids = request_ids or (lambda: str(uuid.uuid4()))
        self._lock = threading.Lock()
        self.billed = 0
        self.requests = 0

    def __repr__(self) -> str:  # the keys stay out of reprs
        return f"FaceDetectFake(failure_shape={self.failure_shape!r}, keys={len(self._keys)})"

    # -- responses --------------------------------------------------------------------------

    def _respond(
        self, status: int, body: dict[str, Any], headers: Mapping[str, str] = {}
    ) -> FakeResponse:
        fields = self.contracts.profile.response
        fields.request_id.put(body, self._request_ids())
        billed = fields.billed_images.get(body)
        if isinstance(billed, int):
            with self._lock:
                self.billed += billed
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        content_type = f"{self.contracts.profile.content_type};charset=UTF-8"
        return FakeResponse(status, {"content-type": content_type, **headers}, data)

    def error(
        self, status: int, code: str, message: str, headers: Mapping[str, str] = {}
    ) -> FakeResponse:
        """A request-failure body: top-level code, message, request id; no usage."""
        fields = self.contracts.profile.response
        body: dict[str, Any] = {}
        fields.error_code.put(body, code)
        fields.error_message.put(body, message)
        return self._respond(status, body, headers)

    def reject(
        self, rule: str | Rejection, value: object | None = None, headers: Mapping[str, str] = {}
    ) -> FakeResponse:
        """The documented answer to a broken rule of the profile's ``rejections``."""
        rejection = rule if isinstance(rule, Rejection) else self.contracts.profile.rejection(rule)
        status = next(entry.status for entry in self.contracts.errors_for(code=rejection.code))
        return self.error(status, rejection.code, rejection.text(value), headers)

    def _portrait_failure(self, code: str) -> FakeResponse:
        entry = next(self.contracts.errors_for(code=code))
        message = entry.messages[0] if entry.messages else (entry.stub_message or code)
        kind, fields = self._failure, self.contracts.profile.response
        if kind.verdict is None:  # an error body (shape B)
            return self.error(kind.status or entry.status, code, message)
        body: dict[str, Any] = {}
        fields.verdict.put(body, kind.verdict)
        fields.reason_code.put(body, code)
        fields.reason_message.put(body, message)
        fields.billed_images.put(body, 1)
        return self._respond(kind.status or 200, body)

    # -- the endpoint ----------------------------------------------------------------------------

    def authenticate(self, request: FakeRequest) -> FakeResponse | None:
        """The 401 a request without an accepted key gets, or ``None`` when its key is accepted.

        The stub server asks this before it throttles: the documented rate limit is counted on
        authenticated requests, so a request without a key is a 401 whatever the rate.
        """
        authorization = request.header("authorization") or ""
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return self.reject("no-api-key")
        if key.strip() not in self._keys:
            return self.reject("unknown-api-key")
        return None

    def __call__(self, request: FakeRequest) -> FakeResponse:
        with self._lock:
            self.requests += 1
        profile = self.contracts.profile
        if request.method.upper() != profile.method:
            return self.reject("method-not-supported", request.method.upper())
        refused = self.authenticate(request)
        if refused is not None:
            return refused
        if request.header(profile.async_header) is not None:  # must not be sent, whatever value
            return self.reject("async-call")
        media_type = (request.header("content-type") or "").split(";", 1)[0].strip().lower()
        if media_type != profile.content_type:
            return self.reject("not-json")
        try:
            body = parse_json(request.body)
        except ValueError:  # not UTF-8, not JSON, or nested too deep
            body = None
        if not isinstance(body, dict):
            return self.reject("body-invalid")
        return self._detect(body)

    def _detect(self, body: dict[str, Any]) -> FakeResponse:
        contracts = self.contracts
        fields = contracts.profile.request
        model = fields.model.get(body)
        if model is ABSENT or model is None or model == "":
            return self.reject("model-missing")
        if not isinstance(model, str):
            return self.reject("field-invalid", ".".join(fields.model.parts))
        if model not in contracts.models:
            return self.reject("model-unknown")
        payload = fields.image_url.parent.get(body)
        if payload is ABSENT or payload is None:
            return self.reject("input-missing")
        if not isinstance(payload, dict):
            return self.reject("field-invalid", ".".join(fields.image_url.parent.parts))
        url = fields.image_url.get(body)
        if not isinstance(url, str) or not url:
            return self.reject("field-invalid", ".".join(fields.image_url.parts))
        parameters = fields.ratio.parent.get(body)
        if parameters is not ABSENT and not isinstance(parameters, dict):
            return self.reject("field-invalid", ".".join(fields.ratio.parent.parts))
        ratio = fields.ratio.get(body)
        ratio = contracts.default_ratio if ratio is ABSENT else ratio
        if ratio not in contracts.ratios:
            return self.reject("ratio-invalid")
        if not contracts.accepts_image_url(url):
            return self.reject("url-invalid")
        try:
            image = self.images.fetch(url)
        except ImageUnavailable as unavailable:
            return self.reject(unavailable.rule, unavailable.value)
        return self._check(image, ratio)

    def _check(self, image: Image, ratio_text: str) -> FakeResponse:
        ratio = geometry.parse_ratio(ratio_text)
        profile = self.contracts.profile
        if image.format.lower() not in profile.image_formats:
            return self.reject("format-unsupported")
        sides = (image.width, image.height)
        if min(sides) < profile.min_side_px or max(sides) > profile.max_side_px:
            return self._portrait_failure(profile.rejection("image-resolution").code)
        if image.reason is not None:
            return self._portrait_failure(image.reason)
        if image.face is None:
            return self._portrait_failure(profile.rejection("no-face").code)
        crop = image.crops.get(ratio_text) or geometry.ext_box_for(image.face, sides, ratio)
        if crop is None:
            return self._portrait_failure(profile.rejection("no-crop-fits").code)
        fields, body = profile.response, dict[str, Any]()
        fields.verdict.put(body, True)
        fields.face_box.put(body, list(image.face))
        fields.crop_box.put(body, list(crop))
        fields.billed_images.put(body, 1)
        return self._respond(200, body)
