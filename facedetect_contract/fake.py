"""A contract-faithful fake of the endpoint: a pure function from request to response.

It knows no transport. respx mounts it for offline runs (``respx_route``) and the stub server
(``server.py``) serves it over real HTTP, so both behave the same. What it answers is what the API
file documents, rule by rule, with the documented codes and messages; where the docs allow two
readings it takes the one its options name (``failure_shape``), so tests can exercise both.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from . import geometry
from .contracts import Contracts, load_contracts

__all__ = [
    "DOCUMENTED_IMAGE",
    "FORMATS",
    "CatalogImages",
    "FaceDetectFake",
    "FakeRequest",
    "FakeResponse",
    "Image",
    "ImageSource",
    "ImageUnavailable",
    "named_reason",
]

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"
FORMATS = frozenset({"jpg", "jpeg", "png", "bmp", "webp"})
MIN_SIDE, MAX_SIDE = 400, 7000

FailureShape = Literal["A", "B"]


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


class ImageUnavailable(Exception):
    """The image could not be had: a documented 400 code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ImageSource(Protocol):
    """Where the fake gets the image behind ``input.image_url``."""

    def fetch(self, url: str) -> Image: ...


# The documented example image: its 1:1 face box is documented; its size is not (>= 841 x 779).
DOCUMENTED_IMAGE = Image(width=1000, height=1000, format="png", face=(302, 286, 610, 593))
_DOCUMENTED_URLS = (
    "https://help-static-aliyun-doc.aliyuncs.com/file-manage-files/zh-CN/20251225/onmomb/emo.png",
    "https://help-static-aliyun-doc.aliyuncs.com/file-manage-files/zh-CN/20250911/yhdvfg/"
    "emo-%E5%9B%BE%E7%89%87.png",
)


def _reasons_by_name(contracts: Contracts) -> dict[str, str]:
    """``"nohuman"`` -> ``"InvalidFile.NoHuman"``, for every documented portrait reason."""
    return {code.split(".", 1)[1].lower(): code for code in sorted(contracts.portrait_codes)}


def named_reason(url: str, contracts: Contracts) -> str | None:
    """The portrait reason a URL's file name names (``.../no-human.png`` -> NoHuman), if any.

    Both image sources use it (the catalog offline, the stub server's downloader over HTTP), so
    a test provokes the same documented failure in every mode by naming its image after it.
    """
    stem = urlsplit(url).path.rsplit("/", 1)[-1].rsplit(".", 1)[0].replace("-", "").lower()
    return _reasons_by_name(contracts).get(stem)


@dataclass
class CatalogImages:
    """Offline images: documented URLs, named scenarios, and a deterministic draw for the rest.

    A URL whose path names a documented portrait reason (``.../no-human.png`` ->
    ``InvalidFile.NoHuman``) fails with it; ``unreachable`` in the host refuses the connection;
    any other URL gets an image derived from its hash, so generated URLs reach every outcome
    while the same URL always gets the same answer.
    """

    contracts: Contracts = field(default_factory=load_contracts)
    images: dict[str, Image] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for url in _DOCUMENTED_URLS:
            self.images.setdefault(url, DOCUMENTED_IMAGE)
        self._reasons = _reasons_by_name(self.contracts)

    def fetch(self, url: str) -> Image:
        if url in self.images:
            return self.images[url]
        parts = urlsplit(url)
        if "unreachable" in (parts.hostname or ""):
            raise ImageUnavailable(
                "InvalidURL.ConnectionRefused",
                "Connection to xxx refused, please provide available URL.",
            )
        filename = parts.path.rsplit("/", 1)[-1]
        # The file name's extension is the format; an unsupported one is answered as such.
        fmt = filename.rsplit(".", 1)[-1].lower() if "." in filename else "png"
        reason = named_reason(url, self.contracts)
        if reason is not None:
            return Image(1024, 1024, fmt, reason=reason)
        digest = hashlib.sha256(url.encode("utf-8", "surrogatepass")).digest()
        width, height = 400 + digest[0] * 12, 400 + digest[1] * 12
        if digest[2] < 32:  # one in eight fails the portrait check, for a documented reason
            reasons = sorted(self._reasons.values())
            return Image(width, height, fmt, reason=reasons[digest[3] % len(reasons)])
        side = min(width, height) // (3 + digest[4] % 3)
        x1 = (width - side) * digest[5] // 255
        y1 = (height - side) * digest[6] // 255
        return Image(width, height, fmt, face=(x1, y1, x1 + side, y1 + side))


_HOSTNAME = re.compile(r"[A-Za-z0-9.-]+")


def _is_downloadable(url: str) -> bool:
    """An http(s) URL with a DNS host name (or an IP literal) and a valid port."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number in 0..65535
    except ValueError:
        return False
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
        is_ip = True
    except ValueError:
        is_ip = False
    return parts.scheme in ("http", "https") and (is_ip or bool(_HOSTNAME.fullmatch(host)))


class FaceDetectFake:
    """The endpoint's documented behaviour as ``FakeRequest -> FakeResponse``.

    ``api_keys`` are the keys it accepts; ``failure_shape`` picks how a failed portrait check is
    answered (A: 200 with ``check_pass: false``, billed; B: 400 with ``InvalidFile.*``, not
    billed). ``billed`` counts the images it would have charged for.
    """

    def __init__(
        self,
        *,
        api_keys: Iterable[str],
        images: ImageSource | None = None,
        failure_shape: FailureShape = "A",
        contracts: Contracts | None = None,
        request_ids: Callable[[], str] | None = None,
    ) -> None:
        self.contracts = contracts or load_contracts()
        self._keys = frozenset(api_keys)
        self.images: ImageSource = images or CatalogImages(self.contracts)
        self.failure_shape: FailureShape = failure_shape
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
        body["request_id"] = self._request_ids()
        if "usage" in body:
            with self._lock:
                self.billed += body["usage"]["image_count"]
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        return FakeResponse(status, {"content-type": JSON_CONTENT_TYPE, **headers}, data)

    def error(
        self, status: int, code: str, message: str, headers: Mapping[str, str] = {}
    ) -> FakeResponse:
        """A documented request-failure body: top-level code, message, request_id; no usage."""
        return self._respond(status, {"code": code, "message": message}, headers)

    def _message(self, code: str, index: int = 0) -> str:
        entry = next(self.contracts.errors_for(code=code))
        return entry.messages[index] if entry.messages else code

    def _invalid(self, field_name: str) -> FakeResponse:
        return self.error(
            400,
            "InvalidParameter",
            f"Required parameter({field_name}) missing or invalid, "
            "please check the request parameters.",
        )

    def _portrait_failure(self, code: str) -> FakeResponse:
        message = self._message(code)
        if self.failure_shape == "B":
            return self.error(400, code, message)
        return self._respond(
            200,
            {
                "output": {"check_pass": False, "code": code, "message": message},
                "usage": {"image_count": 1},
            },
        )

    # -- the endpoint ----------------------------------------------------------------------------

    def __call__(self, request: FakeRequest) -> FakeResponse:
        with self._lock:
            self.requests += 1
        if request.method.upper() != "POST":
            return self.error(
                400,
                "InvalidParameter",
                f"Request method '{request.method.upper()}' is not supported.",
            )
        authorization = request.header("authorization") or ""
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return self.error(401, "InvalidApiKey", "No API-key provided.")
        if key.strip() not in self._keys:
            return self.error(401, "InvalidApiKey", "Invalid API-key provided.")
        if request.header("x-dashscope-async") is not None:  # must not be sent, whatever its value
            return self.error(
                403, "AccessDenied", "Current user api does not support asynchronous calls."
            )
        media_type = (request.header("content-type") or "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            return self.error(
                400, "BadRequest.IllegalInput", "The input parameter requires json format."
            )
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            return self.error(
                400,
                "InvalidParameter",
                "Required body invalid, please check the request body format.",
            )
        return self._detect(body)

    def _detect(self, body: dict[str, Any]) -> FakeResponse:
        model = body.get("model")
        if model is None or model == "":
            return self.error(
                400, "BadRequest.EmptyModel", 'Required parameter "model" missing from request.'
            )
        if not isinstance(model, str):
            return self._invalid("model")
        if model not in self.contracts.models:
            return self.error(404, "ModelNotFound", "Model can not be found.")
        payload = body.get("input")
        if payload is None:
            return self.error(
                400, "BadRequest.EmptyInput", "Required input parameter missing from request."
            )
        if not isinstance(payload, dict):
            return self._invalid("input")
        url = payload.get("image_url")
        if not isinstance(url, str) or not url:
            return self._invalid("input.image_url")
        parameters = body.get("parameters", {})
        if not isinstance(parameters, dict):
            return self._invalid("parameters")
        ratio = parameters.get("ratio", self.contracts.default_ratio)
        if ratio not in self.contracts.ratios:
            return self.error(
                400,
                "InvalidParameter",
                "The request parameter is invalid, please check the request parameter.",
            )
        if not _is_downloadable(url):
            return self.error(400, "InvalidURL", "Invalid URL provided in your request.")
        try:
            image = self.images.fetch(url)
        except ImageUnavailable as unavailable:
            return self.error(400, unavailable.code, unavailable.message)
        return self._check(image, geometry.parse_ratio(ratio))

    def _check(self, image: Image, ratio: tuple[int, int]) -> FakeResponse:
        if image.format.lower() not in FORMATS:
            return self.error(400, "InvalidImage.FileFormat", "The image format is not supported.")
        if min(image.width, image.height) < MIN_SIDE or max(image.width, image.height) > MAX_SIDE:
            return self._portrait_failure("InvalidFile.Resolution")
        if image.reason is not None:
            return self._portrait_failure(image.reason)
        if image.face is None:
            return self._portrait_failure("InvalidFile.NoHuman")
        ext = geometry.ext_box_for(image.face, (image.width, image.height), ratio)
        if ext is None:
            return self._portrait_failure("InvalidFile.BodyProportion")
        return self._respond(
            200,
            {
                "output": {
                    "check_pass": True,
                    "face_bbox": list(image.face),
                    "ext_bbox": list(ext),
                },
                "usage": {"image_count": 1},
            },
        )
