"""The stub server's images: downloading ``image_url`` (loopback only) and reading it with Pillow.

``DownloadingImages`` is the ``ImageSource`` the stub gives its fake: real files provoke every
documented outcome (the format, the resolution, a picture too dark, a file name that names a
portrait reason). It stays small whatever it is sent: the download is capped, the image's size is
read from its header before any pixel is decoded, large images are never decoded whole, and only a
few are decoded at once. A picture's brightness is measured once per content (a digest of its
bytes): a run sends the same few images again and again.

A download is bounded in time as well as in bytes: ``timeout`` bounds each connect and read, and
``deadline`` (``DOWNLOAD_DEADLINE``, 10 s) the whole of it, redirects included; a host that drips
one byte at a time gets the endpoint's documented timeout (``url-timeout``) when it passes. The
stub also names, with ``abandoned_when``, a test of whether the client that asked has gone: then
the download stops at once. A watcher shuts the download's socket down, so neither a stalled read
nor a trickle of bytes can outlive the deadline.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import ipaddress
import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from PIL import Image as PILImage
from PIL import ImageStat, UnidentifiedImageError

from .. import __version__
from ..contracts.loader import Contracts, load_contracts
from ..core import geometry, inert
from ..core.memo import Memo
from ..core.transport import ssl_context
from .fake import Image, ImageUnavailable, failure_reason, named_failure

__all__ = [
    "DARK_LUMINANCE",
    "DOWNLOAD_DEADLINE",
    "MAX_DECODED_PIXELS",
    "MAX_IMAGE_BYTES",
    "DownloadingImages",
    "abandoned_when",
    "is_loopback_host",
    "place_face",
]

MAX_IMAGE_BYTES = 20 * 1024 * 1024
# Seconds one download may take in all (connects, redirects, every read): under the client's own
# timeout, so the client reads the documented InvalidURL.Timeout instead of timing out itself.
DOWNLOAD_DEADLINE = 10.0
_WATCH_INTERVAL = 0.05  # how often a watcher looks at the deadline and the client
DARK_LUMINANCE = 20.0  # mean 0..255 luminance below which the stub calls a picture too dark
# Pixels decoded at most to measure brightness (about 12 MB in RGB); a larger image is measured
# on a reduced draft where the format allows it (JPEG), and otherwise not measured at all.
MAX_DECODED_PIXELS = 4_000_000
_DECODERS = threading.BoundedSemaphore(2)  # images decoded at once, whatever the client count
# (digest of the bytes, threshold, pixel limit) -> dark: the brightness verdicts kept.
_MEASURED: Memo[tuple[bytes, float, int], bool] = Memo(256)

logger = logging.getLogger(__name__)

# The stub's test of "the client that asked has gone", for the downloads of this context.
_GONE: ContextVar[Callable[[], bool] | None] = ContextVar("facedetect_images_gone", default=None)


@contextlib.contextmanager
def abandoned_when(gone: Callable[[], bool]) -> Iterator[None]:
    """Downloads started inside stop as soon as ``gone()`` is true (it is asked from a watcher
    thread, so it must be quick and thread-safe): nobody is left to read their answer."""
    token = _GONE.set(gone)
    try:
        yield
    finally:
        _GONE.reset(token)


class _Watch:
    """One download's bounds: a watcher thread that shuts its sockets down when the deadline
    passes or the client has gone, so a blocked read returns at once instead of after
    ``timeout``."""

    def __init__(self, deadline: float, gone: Callable[[], bool] | None) -> None:
        self.until = time.monotonic() + deadline
        self.reason: str | None = None  # "deadline" or "gone", once the watcher has acted
        self.host = ""  # the host the timeout message names: the current hop's
        self._gone = gone
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._watch, name="facedetect-stub-download-watch", daemon=True
        )

    def __enter__(self) -> _Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._done.wait(min(_WATCH_INTERVAL, max(0.0, self.until - time.monotonic()))):
            if time.monotonic() >= self.until:
                reason = "deadline"
            elif self._gone is not None and _asks(self._gone):
                reason = "gone"
            else:
                continue
            with self._lock:
                self.reason = reason
                sockets = list(self._sockets)
            for sock in sockets:
                _shut(sock)
            return

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpx's ``trace`` extension: keeps each socket the download opens, to shut it."""
        if event not in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets.append(sock)
            late = self.reason is not None
        if late:
            _shut(sock)

    def remaining(self) -> float:
        """Seconds left; ``ImageUnavailable`` when none are (or the client has gone)."""
        left = self.until - time.monotonic()
        self.check()  # raises when left <= 0 (measured again there, a moment later)
        return left

    def check(self) -> None:
        if self.reason == "gone":
            raise ImageUnavailable("download-failed")
        if self.reason == "deadline" or time.monotonic() >= self.until:
            self.reason = "deadline"
            raise ImageUnavailable("url-timeout", self.host)


def _asks(gone: Callable[[], bool]) -> bool:
    try:
        return bool(gone())
    except Exception:  # a failing test of the client is no reason to stop a download
        logger.debug("the client-gone test failed", exc_info=True)
        return False


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for a TLS one: SSLSocket.shutdown drops its SSL object,
    # under the feet of the thread reading it. A shut socket's blocked read returns at once.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


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


@dataclass
class DownloadingImages:
    """The ``ImageSource`` of the stub: downloads ``image_url`` and reads it with Pillow.

    Each failure is one of the profile's rejections: a refused host or scheme ``url-invalid``, a
    refused connection ``url-refused``, a timeout ``url-timeout``, an HTTP error
    ``url-not-an-image``, more than ``max_bytes`` ``file-too-large``, bytes Pillow cannot identify
    ``format-unsupported``; a download past ``deadline`` seconds in all ``url-timeout`` (and one
    whose client has gone, see ``abandoned_when``, ``download-failed``: nobody reads it). The
    returned ``Image`` carries the face of ``place_face``, and a
    portrait reason when the file name names one (``no-human.png``) or the picture is too dark,
    so real files provoke every outcome; the fake judges format and resolution itself. A file
    name the names table gives a request failure (``timeout.png``, ``image-names.json``) gets it
    without a download, once its host is allowed, as offline.
    """

    allow_remote: bool = False
    timeout: float = 10.0
    deadline: float = DOWNLOAD_DEADLINE
    max_bytes: int = MAX_IMAGE_BYTES
    max_redirects: int = 5
    contracts: Contracts = field(default_factory=load_contracts)
    transport: httpx.BaseTransport | None = None

    def __post_init__(self) -> None:
        for name in ("timeout", "deadline"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and value > 0 and math.isfinite(value)):
                raise ValueError(
                    f"DownloadingImages {name} must be a number of seconds > 0, not {value!r}"
                )
        # trust_env=False: no proxy from the environment may carry a loopback download elsewhere.
        # No kept-alive connections: each download opens its own, which its watcher can shut.
        self._http = httpx.Client(
            timeout=self.timeout,
            transport=self.transport,
            limits=httpx.Limits(max_keepalive_connections=0),
            follow_redirects=False,
            trust_env=False,
            verify=ssl_context(),
            headers={"User-Agent": f"facedetect-contract-stub/{__version__}"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DownloadingImages:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def fetch(self, url: str) -> Image:
        named = named_failure(url, self.contracts)
        if named is not None and named.rule is not None:  # a request failure somebody named
            host = self._refuse_unless_allowed(url)
            raise ImageUnavailable(named.rule, host if named.value == "host" else None)
        with _Watch(self.deadline, _GONE.get()) as watch:
            data = self._download(url, watch)
        return self._inspect(url, data)

    def _refuse_unless_allowed(self, url: str) -> str:
        """The URL's host, or ``ImageUnavailable`` before any lookup or connection is made."""
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            _ = parts.port  # a port that is not a number in 0..65535
        except ValueError:
            raise ImageUnavailable("url-invalid") from None
        if parts.scheme.lower() not in ("http", "https") or not host:
            raise ImageUnavailable("url-invalid")
        if not self.allow_remote and not is_loopback_host(host):
            logger.info(
                "refused image host %s: not loopback (allow_remote_images=True lifts this)",
                inert.log(host),  # the client chose it
            )
            raise ImageUnavailable("url-invalid")
        return host

    def _download(self, url: str, watch: _Watch) -> bytes:
        current = url
        for _ in range(self.max_redirects + 1):
            host = watch.host = self._refuse_unless_allowed(current)
            # Each connect and read waits at most what is left of the deadline.
            timeout = min(self.timeout, watch.remaining())
            try:
                with self._http.stream(
                    "GET", current, timeout=timeout, extensions={"trace": watch.trace}
                ) as response:
                    if response.is_redirect and "location" in response.headers:
                        current = str(response.url.join(response.headers["location"]))
                        continue
                    if not response.is_success:
                        raise ImageUnavailable("url-not-an-image")
                    return self._read_capped(response, watch)
            except httpx.TimeoutException:
                raise ImageUnavailable("url-timeout", host) from None
            except httpx.ConnectError:
                watch.check()  # a connect the watcher cut short is its deadline, not a refusal
                raise ImageUnavailable("url-refused", host) from None
            except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError):
                watch.check()  # a read the watcher cut short is its deadline or a client gone
                raise ImageUnavailable("download-failed") from None
        raise ImageUnavailable("url-not-an-image")  # too many redirects

    def _read_capped(self, response: httpx.Response, watch: _Watch) -> bytes:
        limit = self.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise ImageUnavailable("file-too-large", limit)
        chunks, total = [], 0
        for chunk in response.iter_bytes():
            watch.check()  # a trickle of bytes never outlives the deadline
            total += len(chunk)
            if total > limit:
                raise ImageUnavailable("file-too-large", limit)
            chunks.append(chunk)
        return b"".join(chunks)

    def _inspect(self, url: str, data: bytes) -> Image:
        profile = self.contracts.profile
        try:
            with PILImage.open(io.BytesIO(data)) as picture:  # reads the header, no pixels yet
                fmt = (picture.format or "").lower()
                width, height = picture.size
                least = profile.min_side_px if profile.states("min_side_px") else 1
                admitted = min(width, height) >= least and (
                    max(width, height) <= profile.max_side_px
                )
                if fmt not in profile.image_formats or not admitted:
                    return Image(width, height, fmt)  # the fake answers format or resolution
                dark = _is_dark_once(data, picture)
        except UnidentifiedImageError:
            raise ImageUnavailable("format-unsupported") from None
        except PILImage.DecompressionBombError:
            # Over twice Pillow's pixel limit: far beyond the longest side, a resolution failure.
            side = profile.max_side_px + 1
            return Image(side, side, profile.image_formats[0])
        except (OSError, SyntaxError, ValueError):
            raise ImageUnavailable("file-unreadable") from None
        # The file name wins over the pixels, so a test names the outcome it wants.
        dark_code = failure_reason("too-dark", self.contracts) if dark else None
        named = named_failure(url, self.contracts)
        reason = (named.code if named is not None else None) or dark_code
        if reason is not None:
            return Image(width, height, fmt, reason=reason)
        return Image(width, height, fmt, face=place_face(width, height))


def _is_dark_once(data: bytes, picture: PILImage.Image) -> bool:
    """``_is_dark(picture)``, measured once per content (and per threshold and limit in force)."""
    key = (hashlib.sha256(data).digest(), DARK_LUMINANCE, MAX_DECODED_PIXELS)
    dark = _MEASURED.get(key)
    if dark is None:
        dark = _is_dark(picture)
        _MEASURED.put(key, dark)
    return dark


def _is_dark(picture: PILImage.Image) -> bool:
    """Mean luminance under ``DARK_LUMINANCE``, measured on at most ``MAX_DECODED_PIXELS``."""
    picture.draft("L", (128, 128))  # JPEG decodes at a reduced scale; other formats ignore it
    width, height = picture.size
    if width * height > MAX_DECODED_PIXELS:
        return False  # too large to decode on a stub; it is not called dark
    with _DECODERS:
        grey = picture.convert("L")
        grey.thumbnail((128, 128))
        return float(ImageStat.Stat(grey).mean[0]) < DARK_LUMINANCE
