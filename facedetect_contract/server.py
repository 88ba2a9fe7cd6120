"""The stub server: ``FaceDetectFake`` over real HTTP on loopback.

respx exercises the client without a socket. The stub adds what only a socket has (keep-alive,
timeouts, partial reads, concurrency, latency, throttling, real image downloads), for the tests,
the benchmark and rehearsals of live mode, while answering exactly as the fake does: this module
only translates HTTP to ``FakeRequest`` and ``FakeResponse`` back, and supplies the images
(``DownloadingImages``). Every documented rule lives in ``fake.py``, none here.

Images: given ``images_dir``, the same server also serves that directory under ``/images/``
(``GET``/``HEAD``), so one loopback port carries both the endpoint and the images it downloads
(``RunningServer.image_url("portrait.png")``). The downloader refuses any non-loopback host
unless ``allow_remote_images`` is set, before resolving or connecting.

Keys: the accepted keys come from ``api_keys`` or the environment variable ``key_env``. Nothing
here prints or logs them: the access log holds the redacted request line, never headers.
"""

from __future__ import annotations

import contextlib
import http.server
import io
import ipaddress
import logging
import math
import mimetypes
import os
import socket
import socketserver
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import httpx
from PIL import Image as PILImage
from PIL import ImageStat, UnidentifiedImageError

from . import __version__, geometry
from .contracts import Contracts, load_contracts
from .fake import (
    FORMATS,
    MAX_SIDE,
    MIN_SIDE,
    FaceDetectFake,
    FailureShape,
    FakeRequest,
    FakeResponse,
    Image,
    ImageSource,
    ImageUnavailable,
    named_reason,
)
from .interaction import ENDPOINT_PATH
from .redaction import API_KEY_ENV, Secret, redact_text

__all__ = [
    "DARK_LUMINANCE",
    "DEFAULT_PREFIX",
    "IMAGES_PATH",
    "MAX_BODY_BYTES",
    "MAX_IMAGE_BYTES",
    "DownloadingImages",
    "ResponseHook",
    "RunningServer",
    "StubServer",
    "is_loopback_host",
    "place_face",
    "serve_in_thread",
]

DEFAULT_PREFIX = "/api/v1"
IMAGES_PATH = "/images/"
MAX_BODY_BYTES = 1024 * 1024  # a face-detect request is a few hundred bytes
MAX_IMAGE_BYTES = 20 * 1024 * 1024
DARK_LUMINANCE = 20.0  # mean 0..255 luminance below which the stub calls a picture too dark
SOCKET_TIMEOUT = 10.0
# An oversized body is read and thrown away up to this much, so the client can read the 400
# instead of meeting a reset connection; beyond it the connection is closed at once.
_DRAIN_LIMIT = 64 * 1024 * 1024
_HOP_BY_HOP = frozenset({"content-length", "connection", "transfer-encoding", "server", "date"})

ResponseHook = Callable[[FakeRequest, FakeResponse], FakeResponse]

logger = logging.getLogger(__name__)

# The documented texts the stub answers with (contracts/face-detect/errors.json).
_BAD_URL = "Invalid URL provided in your request."
_NOT_AN_IMAGE_URL = "The request URL is invalid, make sure the url is correct and is an image."
_FAILED_DOWNLOAD = "Failed to download multimodal content."
_BODY_INVALID = "Required body invalid, please check the request body format."
_MALFORMED = (
    "The request is missing required parameters or in a wrong format, "
    "please check the parameters that you send."
)
_THROTTLED = "Requests rate limit exceeded, please try again later."


def is_loopback_host(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1, decided without resolving anything."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def place_face(width: int, height: int) -> geometry.Box:
    """Where the stub says the face is: centred, upper half, 30 % of the shorter side.

    Not detection: a deterministic box whose crop box fits every image the resolution rule
    admits, for both ratios, so a pass obeys every geometric rule the checks assert.
    """
    side = max(1, min(width, height) * 3 // 10)
    x1 = (width - side) // 2
    y1 = max(0, height // 4 - side // 2)
    return (x1, y1, x1 + side, y1 + side)


# --- images ----------------------------------------------------------------------------------


@dataclass
class DownloadingImages:
    """The ``ImageSource`` of the stub: downloads ``image_url`` and reads it with Pillow.

    Answers with the documented codes: a refused host or bad scheme ``InvalidURL``, a refused
    connection ``InvalidURL.ConnectionRefused``, a timeout ``InvalidURL.Timeout``, an HTTP error
    ``InvalidURL``, more than ``max_bytes`` ``InvalidFile.Size``, bytes Pillow cannot identify
    ``InvalidImage.FileFormat``. The returned ``Image`` carries the face of ``place_face``, and a
    portrait reason when the file name names one (``no-human.png``) or the picture is too dark,
    so real files provoke every outcome; the fake judges format and resolution itself.
    """

    allow_remote: bool = False
    timeout: float = 10.0
    max_bytes: int = MAX_IMAGE_BYTES
    max_redirects: int = 5
    contracts: Contracts = field(default_factory=load_contracts)
    transport: httpx.BaseTransport | None = None

    def __post_init__(self) -> None:
        # trust_env=False: no proxy from the environment may carry a loopback download elsewhere.
        self._http = httpx.Client(
            timeout=self.timeout,
            transport=self.transport,
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": f"facedetect-contract-stub/{__version__}"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DownloadingImages:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def fetch(self, url: str) -> Image:
        return self._inspect(url, self._download(url))

    def _refuse_unless_allowed(self, url: str) -> str:
        """The URL's host, or ``ImageUnavailable`` before any lookup or connection is made."""
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
        except ValueError:
            raise ImageUnavailable("InvalidURL", _BAD_URL) from None
        if parts.scheme not in ("http", "https") or not host:
            raise ImageUnavailable("InvalidURL", _BAD_URL)
        if not self.allow_remote and not is_loopback_host(host):
            logger.info(
                "refused image host %s: not loopback (allow_remote_images=True lifts this)",
                host,
            )
            raise ImageUnavailable("InvalidURL", _BAD_URL)
        return host

    def _download(self, url: str) -> bytes:
        current = url
        for _ in range(self.max_redirects + 1):
            host = self._refuse_unless_allowed(current)
            try:
                with self._http.stream("GET", current) as response:
                    if response.is_redirect and "location" in response.headers:
                        current = str(response.url.join(response.headers["location"]))
                        continue
                    if not response.is_success:
                        raise ImageUnavailable("InvalidURL", _NOT_AN_IMAGE_URL)
                    return self._read_capped(response)
            except httpx.TimeoutException:
                raise ImageUnavailable(
                    "InvalidURL.Timeout",
                    f"Download {host} timeout, please check network connection.",
                ) from None
            except httpx.ConnectError:
                raise ImageUnavailable(
                    "InvalidURL.ConnectionRefused",
                    f"Connection to {host} refused, please provide available URL.",
                ) from None
            except httpx.HTTPError:
                raise ImageUnavailable("InvalidParameter", _FAILED_DOWNLOAD) from None
        raise ImageUnavailable("InvalidURL", _NOT_AN_IMAGE_URL)  # too many redirects

    def _read_capped(self, response: httpx.Response) -> bytes:
        too_large = ImageUnavailable(
            "InvalidFile.Size", f"The image file is larger than {self.max_bytes} bytes."
        )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large
        chunks, total = [], 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > self.max_bytes:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)

    def _inspect(self, url: str, data: bytes) -> Image:
        try:
            with PILImage.open(io.BytesIO(data)) as picture:
                fmt = (picture.format or "").lower()
                width, height = picture.size
                if fmt not in FORMATS or not (
                    min(width, height) >= MIN_SIDE and max(width, height) <= MAX_SIDE
                ):
                    return Image(width, height, fmt)  # the fake answers format or resolution
                dark = _mean_luminance(picture) < DARK_LUMINANCE
        except UnidentifiedImageError:
            raise ImageUnavailable(
                "InvalidImage.FileFormat", "The image format is not supported."
            ) from None
        except PILImage.DecompressionBombError:
            # Over twice Pillow's pixel limit: far beyond the 7000 px side, a resolution failure.
            return Image(MAX_SIDE + 1, MAX_SIDE + 1, "png")
        except (OSError, SyntaxError, ValueError):
            raise ImageUnavailable(
                "InvalidFile.Openerror", "The image file cannot be opened."
            ) from None
        # The file name wins over the pixels, so a test names the outcome it wants.
        reason = named_reason(url, self.contracts) or ("InvalidFile.Value" if dark else None)
        if reason is not None:
            return Image(width, height, fmt, reason=reason)
        return Image(width, height, fmt, face=place_face(width, height))


def _mean_luminance(picture: PILImage.Image) -> float:
    picture.draft("L", (128, 128))  # JPEG decodes at a reduced scale; other formats ignore it
    grey = picture.convert("L")
    grey.thumbnail((128, 128))
    return float(ImageStat.Stat(grey).mean[0])


# --- the server ------------------------------------------------------------------------------


class _RateWindow:
    """At most ``qps`` requests per rolling window: ``limit`` admissions per ``limit/qps`` s.

    An integer ``qps`` is exactly "N per rolling second"; a fraction keeps the same average
    (0.5 admits one request per rolling two seconds).
    """

    def __init__(self, qps: float) -> None:
        self.limit = max(1, math.floor(qps))
        self.window = self.limit / qps
        self._admitted: deque[float] = deque()

    def admit(self, now: float) -> float | None:
        """``None`` when admitted, else the seconds until the window has room again."""
        while self._admitted and self._admitted[0] <= now - self.window:
            self._admitted.popleft()
        if len(self._admitted) < self.limit:
            self._admitted.append(now)
            return None
        return self._admitted[0] + self.window - now


class _ClientGone(Exception):
    """The client stopped sending (EOF or socket timeout): close without an answer."""


class _BodyRejected(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StubServer(http.server.ThreadingHTTPServer):
    """A threaded HTTP server answering the endpoint with ``FaceDetectFake``.

    ``requests_served`` counts every answer on the endpoint path; ``throttled`` those the
    ``qps``/``throttle_first`` knobs answered 429 without asking the fake (``fake.requests``
    counts what reached the fake, ``fake.billed`` what it billed).
    """

    daemon_threads = True
    request_queue_size = 128  # 50 clients connecting at once must not meet a full backlog

    def __init__(
        self,
        address: tuple[str, int],
        *,
        api_keys: Iterable[str] | None = None,
        key_env: str = API_KEY_ENV,
        prefix: str = DEFAULT_PREFIX,
        latency_ms: float = 0,
        qps: float | None = None,
        failure_shape: str = "A",
        response_hook: ResponseHook | None = None,
        throttle_first: int = 0,
        allow_remote_images: bool = False,
        images: ImageSource | None = None,
        images_dir: Path | str | None = None,
        socket_timeout: float = SOCKET_TIMEOUT,
        max_body_bytes: int = MAX_BODY_BYTES,
        contracts: Contracts | None = None,
    ) -> None:
        if failure_shape not in ("A", "B"):
            raise ValueError(f"failure_shape must be 'A' or 'B', not {failure_shape!r}")
        if not (latency_ms >= 0 and math.isfinite(latency_ms)):
            raise ValueError(f"latency_ms must be a number >= 0, not {latency_ms!r}")
        if qps is not None and not (qps > 0 and math.isfinite(qps)):
            raise ValueError(f"qps must be > 0 (or None for no limit), not {qps!r}")
        if throttle_first < 0:
            raise ValueError(f"throttle_first must be >= 0, not {throttle_first!r}")
        if not (socket_timeout > 0 and max_body_bytes > 0):
            raise ValueError("socket_timeout and max_body_bytes must be > 0")
        if images_dir is not None and not Path(images_dir).is_dir():
            raise ValueError(f"images_dir {str(images_dir)!r} is not a directory")
        self.prefix = _normalise_prefix(prefix)
        # Set before binding: server_close (also called when binding fails) reads them.
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._owned_images: DownloadingImages | None = None
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        contracts = contracts or load_contracts()
        keys = _accepted_keys(api_keys, key_env)
        self.secrets = tuple(Secret(key) for key in keys)  # for redacting logs, never shown
        if images is None:
            images = self._owned_images = DownloadingImages(
                allow_remote=allow_remote_images, contracts=contracts
            )
        self.fake = FaceDetectFake(
            api_keys=keys,
            images=images,
            failure_shape=cast(FailureShape, failure_shape),
            contracts=contracts,
        )
        self.endpoint_path = self.prefix + ENDPOINT_PATH
        self.images_dir = Path(images_dir).resolve() if images_dir is not None else None
        self.latency = latency_ms / 1000
        self.response_hook = response_hook
        self.socket_timeout = socket_timeout
        self.max_body_bytes = max_body_bytes
        self._window = _RateWindow(qps) if qps is not None else None
        self._throttle_left = throttle_first
        self.requests_served = 0
        self.throttled = 0

    def __repr__(self) -> str:
        return f"StubServer({self.base_url!r}, keys={len(self.secrets)})"

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host up (socket.getfqdn); a stub must not touch DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    @property
    def origin(self) -> str:
        host = f"[{self.server_name}]" if ":" in self.server_name else self.server_name
        return f"http://{host}:{self.server_port}"

    @property
    def base_url(self) -> str:
        """The API root to give the client (``http://127.0.0.1:PORT/api/v1``)."""
        return self.origin + self.prefix

    @property
    def images_url(self) -> str | None:
        """Where ``images_dir`` is served (``http://127.0.0.1:PORT/images``), if it is."""
        return self.origin + IMAGES_PATH.rstrip("/") if self.images_dir is not None else None

    def admit(self, *, throttle: bool = True) -> int | None:
        """Count one endpoint request; the ``Retry-After`` seconds when it is throttled."""
        with self._lock:
            self.requests_served += 1
            if not throttle:
                return None
            if self._throttle_left > 0:
                self._throttle_left -= 1
                self.throttled += 1
                return 1
            if self._window is not None:
                wait = self._window.admit(time.monotonic())
                if wait is not None:
                    self.throttled += 1
                    return max(1, math.ceil(wait))
        return None

    def throttle_response(self, retry_after: int) -> FakeResponse:
        return self.fake.error(
            429, "Throttling.RateQuota", _THROTTLED, {"retry-after": str(retry_after)}
        )

    def redact(self, text: str) -> str:
        return redact_text(text, self.secrets)

    # -- connection bookkeeping, so that closing the server also ends kept-alive connections --

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        """Close the listening socket, every open connection and the downloader it made."""
        super().server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._owned_images is not None:
            self._owned_images.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; a vanished client is routine, not an error.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            logger.debug("connection from %s ended early", client_address[0])
            return
        logger.error(
            "error while serving %s:\n%s", client_address[0], self.redact(traceback.format_exc())
        )


def _accepted_keys(api_keys: Iterable[str] | None, key_env: str) -> list[str]:
    # Precedence: explicit api_keys, else the environment variable named by key_env.
    if api_keys is not None:
        return [key.strip() for key in api_keys if key.strip()]
    value = os.environ.get(key_env, "").strip()
    return [value] if value else []


def _normalise_prefix(prefix: str) -> str:
    if prefix in ("", "/"):
        return ""
    if not prefix.startswith("/") or any(char in prefix for char in "?#% "):
        raise ValueError(
            f"prefix {prefix!r} must be a URL path starting with '/', such as /api/v1 or "
            "/qwen/api/v1"
        )
    return prefix.rstrip("/")


class _Handler(http.server.BaseHTTPRequestHandler):
    """Translates one HTTP exchange to the fake and back; JSON on every path, every error."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the real gateway offers
    # Headers and body go out in separate writes: with Nagle's algorithm on, loopback delays the
    # body ~40 ms waiting for an ACK (measured by bench/run.py: 44 ms -> 0.9 ms per request).
    disable_nagle_algorithm = True
    server_version = f"facedetect-contract-stub/{__version__}"

    def version_string(self) -> str:
        return self.server_version  # without the Python version http.server appends

    @property
    def stub(self) -> StubServer:
        return cast(StubServer, self.server)

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.stub.socket_timeout)  # a stalled client holds one thread

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError, _ClientGone):
            self.close_connection = True

    def do_POST(self) -> None:
        self._dispatch()

    def __getattr__(self, name: str) -> Any:
        # http.server looks up do_<METHOD>; every method goes to the same dispatch, so the fake
        # answers GET, PUT or BREW on the endpoint with its documented "not supported" error.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        try:
            body = self._read_body()
        except _BodyRejected as rejected:
            if path == self.stub.endpoint_path:
                self.stub.admit(throttle=False)
            self._send(self.stub.fake.error(400, "InvalidParameter", rejected.message), close=True)
            return
        if path == self.stub.endpoint_path:
            self._endpoint(body)
        elif self.stub.images_dir is not None and path.startswith(IMAGES_PATH):
            self._image(path)
        else:
            self._not_found()

    def _endpoint(self, body: bytes) -> None:
        stub = self.stub
        retry_after = stub.admit()
        if stub.latency:
            time.sleep(stub.latency)
        request = FakeRequest(self.command, dict(self.headers.items()), body)
        try:
            if retry_after is not None:
                response = stub.throttle_response(retry_after)
            else:
                response = stub.fake(request)
            if stub.response_hook is not None:
                response = stub.response_hook(request, response)
        except Exception:
            logger.error(
                "the fake or response_hook failed:\n%s", stub.redact(traceback.format_exc())
            )
            response = stub.fake.error(
                500, "InternalError", "The stub server failed; its log has the traceback."
            )
        self._send(response)

    def _image(self, path: str) -> None:
        root = cast(Path, self.stub.images_dir)
        try:
            target = (root / unquote(path[len(IMAGES_PATH) :])).resolve()
            found = target.is_relative_to(root) and target.is_file()
        except (OSError, ValueError):  # a NUL byte or a name the filesystem refuses
            found = False
        if self.command not in ("GET", "HEAD") or not found:
            self._not_found()
            return
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self._send(FakeResponse(200, {"content-type": content_type}, target.read_bytes()))

    def _not_found(self) -> None:
        served = f"{self.stub.endpoint_path} (POST)"
        if self.stub.images_dir is not None:
            served += f" and {IMAGES_PATH}<file> (GET)"
        message = f"Nothing here; this stub serves {served}."
        self._send(self.stub.fake.error(404, "NotFound", message))

    # -- reading -----------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        declared = self.headers.get("content-length")
        if declared is None:
            return b""
        if not declared.strip().isdigit():
            self.close_connection = True  # framing unknown: the connection cannot be reused
            raise _BodyRejected(_MALFORMED)
        length = int(declared)
        if length > self.stub.max_body_bytes:
            self._discard(length)
            raise _BodyRejected(_BODY_INVALID)
        return self._read_exact(length)

    def _read_exact(self, length: int) -> bytes:
        data = self.rfile.read(length)
        if len(data) < length:
            raise _ClientGone
        return data

    def _discard(self, length: int) -> None:
        if length > _DRAIN_LIMIT:
            self.close_connection = True
            return
        while length > 0:
            length -= len(self._read_exact(min(length, 64 * 1024)))

    def _read_chunked(self) -> bytes:
        chunks, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                raise _ClientGone
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise _BodyRejected(_MALFORMED) from None
            if size == 0:
                break
            total += size
            if total > _DRAIN_LIMIT:
                self.close_connection = True
                raise _BodyRejected(_BODY_INVALID)
            chunk = self._read_exact(size + 2)[:-2]  # each chunk ends with CRLF
            if total <= self.stub.max_body_bytes:
                chunks.append(chunk)
        while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
            pass  # trailers
        if total > self.stub.max_body_bytes:
            raise _BodyRejected(_BODY_INVALID)
        return b"".join(chunks)

    # -- writing -----------------------------------------------------------------------------

    def _send(self, response: FakeResponse, *, close: bool = False) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if close or self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors http.server detects (bad request line, huge headers): JSON as well."""
        status = HTTPStatus(code)
        # An unparseable request line leaves http.server at HTTP/0.9 (no status line, no
        # headers); answer such garbage as HTTP/1.1 so the client sees the JSON error.
        self.request_version = self.protocol_version
        if code == 400:
            error_code, text = "InvalidParameter", _MALFORMED
        else:
            error_code, text = status.phrase.replace(" ", ""), status.phrase + "."
        self._send(self.stub.fake.error(code, error_code, text), close=True)

    def log_message(self, format: str, *args: Any) -> None:
        # The request line only (never headers), with every accepted key redacted from it.
        logger.info("%s %s", self.address_string(), self.stub.redact(format % args))


# --- running it in a thread ------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class RunningServer:
    """A started stub: where it listens, its fake, and what it has answered."""

    server: StubServer

    def __repr__(self) -> str:
        return f"RunningServer({self.base_url!r})"

    @property
    def base_url(self) -> str:
        """The API root for ``FaceDetectClient(base_url=...)``."""
        return self.server.base_url

    @property
    def url(self) -> str:
        """The endpoint URL itself."""
        return self.server.base_url + ENDPOINT_PATH

    @property
    def fake(self) -> FaceDetectFake:
        return self.server.fake

    @property
    def images_url(self) -> str | None:
        return self.server.images_url

    def image_url(self, name: str) -> str:
        """The URL of ``images_dir/name`` on this server."""
        if self.server.images_url is None:
            raise ValueError("this stub serves no images: start it with images_dir=...")
        return f"{self.server.images_url}/{name}"

    @property
    def requests_served(self) -> int:
        return self.server.requests_served

    @property
    def throttled(self) -> int:
        return self.server.throttled


@contextlib.contextmanager
def serve_in_thread(
    *,
    api_keys: Iterable[str] | None = None,
    key_env: str = API_KEY_ENV,
    prefix: str = DEFAULT_PREFIX,
    latency_ms: float = 0,
    qps: float | None = None,
    failure_shape: str = "A",
    response_hook: ResponseHook | None = None,
    throttle_first: int = 0,
    allow_remote_images: bool = False,
    images: ImageSource | None = None,
    images_dir: Path | str | None = None,
    socket_timeout: float = SOCKET_TIMEOUT,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Iterator[RunningServer]:
    """Start a stub on 127.0.0.1 and a free port in a background thread; stop it on exit.

    Options are ``StubServer``'s. ``api_keys`` given explicitly overrides ``key_env``.
    """
    server = StubServer(
        ("127.0.0.1", 0),
        api_keys=api_keys,
        key_env=key_env,
        prefix=prefix,
        latency_ms=latency_ms,
        qps=qps,
        failure_shape=failure_shape,
        response_hook=response_hook,
        throttle_first=throttle_first,
        allow_remote_images=allow_remote_images,
        images=images,
        images_dir=images_dir,
        socket_timeout=socket_timeout,
        max_body_bytes=max_body_bytes,
    )
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"facedetect-stub-{server.server_address[1]}",
        daemon=True,
    )
    thread.start()
    try:
        yield RunningServer(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
