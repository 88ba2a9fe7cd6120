"""The stub server's images: downloading ``image_url`` (loopback only) and reading it with Pillow.

``DownloadingImages`` is the ``ImageSource`` the stub gives its fake: real files provoke every
documented outcome (the format, the resolution, a picture too dark, a file name that names a
portrait reason). It stays small whatever it is sent: the download is capped, the image's size is
read from its header before any pixel is decoded, large images are never decoded whole, and only a
few are decoded at once. A picture's brightness is measured once per content (a digest of its
bytes): a run sends the same few images again and again.
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
import logging
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from PIL import Image as PILImage
from PIL import ImageStat, UnidentifiedImageError

from . import __version__, geometry
from .contracts import Contracts, load_contracts
from .fake import Image, ImageUnavailable, named_reason
from .memo import Memo
from .transport import ssl_context

__all__ = [
    "DARK_LUMINANCE",
    "MAX_DECODED_PIXELS",
    "MAX_IMAGE_BYTES",
    "DownloadingImages",
    "is_loopback_host",
    "place_face",
]

MAX_IMAGE_BYTES = 20 * 1024 * 1024
DARK_LUMINANCE = 20.0  # mean 0..255 luminance below which the stub calls a picture too dark
# Pixels decoded at most to measure brightness (about 12 MB in RGB); a larger image is measured
# on a reduced draft where the format allows it (JPEG), and otherwise not measured at all.
MAX_DECODED_PIXELS = 4_000_000
_DECODERS = threading.BoundedSemaphore(2)  # images decoded at once, whatever the client count
# (digest of the bytes, threshold, pixel limit) -> dark: the brightness verdicts kept.
_MEASURED: Memo[tuple[bytes, float, int], bool] = Memo(256)

logger = logging.getLogger(__name__)


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
    ``format-unsupported``. The returned ``Image`` carries the face of ``place_face``, and a
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
        return self._inspect(url, self._download(url))

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
                host,
            )
            raise ImageUnavailable("url-invalid")
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
                        raise ImageUnavailable("url-not-an-image")
                    return self._read_capped(response)
            except httpx.TimeoutException:
                raise ImageUnavailable("url-timeout", host) from None
            except httpx.ConnectError:
                raise ImageUnavailable("url-refused", host) from None
            except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError):
                raise ImageUnavailable("download-failed") from None
        raise ImageUnavailable("url-not-an-image")  # too many redirects

    def _read_capped(self, response: httpx.Response) -> bytes:
        limit = self.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise ImageUnavailable("file-too-large", limit)
        chunks, total = [], 0
        for chunk in response.iter_bytes():
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
                admitted = min(width, height) >= profile.min_side_px and (
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
        dark_code = profile.rejection("too-dark").code if dark else None
        reason = named_reason(url, self.contracts) or dark_code
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
