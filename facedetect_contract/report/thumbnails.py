"""Each case's image, fetched once at the end of a run and kept in the report as a small data URI.

The HTML report must stand alone: opened a week later, the stub stopped or a signed URL expired,
it still shows every case's picture under its boxes. So the run fetches each case's image while
it can, downscales it to ``LONG_SIDE`` pixels on the long side and embeds it as a JPEG data URI of
at most ``MAX_DATA_URI_CHARS`` characters, beside the image's original size (the boxes' coordinate
system). Pixels are kept as stored: the endpoint's boxes are read on the stored grid.

The image's host is whatever the cases file names, so the fetch is as guarded as the stub's own
downloads (``images.py``): http(s) only, no redirect followed, no proxy from the environment, the
package's SSL context, a cap on the bytes (``MAX_SOURCE_BYTES``), every socket operation clamped
to a deadline (``transport.deadline``, so a host that drips bytes cannot hold it), the pixel count
read from the header before any pixel is decoded (Pillow's decompression-bomb guard and ours,
``MAX_DECODED_PIXELS``), one image decoded at a time. ``embed`` fetches a report's cases within
one total budget of seconds. Nothing here raises: a picture that cannot be had is a
``Thumbnail`` without a data URI, with the reason, and the report draws a placeholder instead.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from .. import __version__
from ..core.transport import DeadlineTransport, deadline

__all__ = [
    "FETCH_TIMEOUT",
    "LONG_SIDE",
    "MAX_DATA_URI_CHARS",
    "MAX_DECODED_PIXELS",
    "MAX_SOURCE_BYTES",
    "TOTAL_BUDGET",
    "Thumbnail",
    "embed",
    "fetch",
    "from_bytes",
    "is_embedded_image",
]

MAX_SOURCE_BYTES = 8 * 1024 * 1024  # an image larger than this is not downloaded
MAX_DATA_URI_CHARS = 64 * 1024  # one card's picture in the page, base64 and prefix included
LONG_SIDE = 320  # pixels on the long side: a card is about 20 rem wide
# Pixels decoded at most (about 64 MB as RGBA): a JPEG is decoded at a reduced scale first (its
# draft), so only other formats this large are refused; a 12-megapixel photo fits.
MAX_DECODED_PIXELS = 16_000_000
FETCH_TIMEOUT = 5.0  # seconds for one image, connect to last byte
TOTAL_BUDGET = 15.0  # seconds for every image of a report, in all
_WORKERS = 4  # images fetched at once
_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")  # the decoders Pillow may try, no other
_JPEG_QUALITIES = (82, 68, 54, 40)
_SIDES = (LONG_SIDE, 240, 180, 120, 80)
_DECODING = threading.Lock()  # one decode at a time bounds the memory, whatever the workers
# The page's own encodings (not the endpoint's formats): media type -> magic bytes.
_PREFIXES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
_BOMB = "a decompression bomb: far more pixels than any photo"
_DATA_URI = re.compile(r"data:(image/jpeg|image/png);base64,([A-Za-z0-9+/]+={0,2})")


@dataclass(frozen=True)
class Thumbnail:
    """One case's picture for the report, or why there is none.

    ``data_uri``: ``data:image/jpeg;base64,...`` of our own encoding, or None (``reason`` says
    why). ``size``: the original image's width and height when its header could be read (a
    placeholder keeps that aspect ratio), else None.
    """

    data_uri: str | None
    size: tuple[int, int] | None
    reason: str = ""

    def to_row(self) -> dict[str, Any]:
        """The value of a case row's ``thumbnail`` key (JSON: the report model is JSON)."""
        return {
            "src": self.data_uri,
            "size": list(self.size) if self.size else None,
            "reason": self.reason,
        }


def is_embedded_image(value: object) -> bool:
    """True when ``value`` is a data URI this module makes: a JPEG or PNG, base64, size-capped,
    whose bytes start as its type says. Anything else (a URL, another type, markup) is not."""
    if not isinstance(value, str) or len(value) > MAX_DATA_URI_CHARS:
        return False
    match = _DATA_URI.fullmatch(value)
    if match is None:
        return False
    try:
        head = base64.b64decode(match.group(2)[:16], validate=True)
    except (binascii.Error, ValueError):
        return False
    return head.startswith(_PREFIXES[match.group(1)])


def fetch(
    url: str,
    *,
    timeout: float = FETCH_TIMEOUT,
    max_bytes: int = MAX_SOURCE_BYTES,
    client: httpx.Client | None = None,
) -> Thumbnail:
    """The thumbnail of the image at ``url``, fetched within ``timeout`` seconds in all."""
    if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
        return Thumbnail(None, None, f"no time to fetch it (timeout {timeout!r})")
    refused = _refusal(url)
    if refused:
        return Thumbnail(None, None, refused)
    owned = client is None
    http = client or _client(timeout)
    try:
        with deadline(timeout):
            data = _download(http, url, timeout, max_bytes)
    except _NotFetched as exc:
        return Thumbnail(None, None, str(exc))
    except Exception as exc:  # never raises: a fault here must not cost the run its report
        return Thumbnail(None, None, f"the download failed ({type(exc).__name__})")
    finally:
        if owned:
            http.close()
    return from_bytes(data)


def from_bytes(data: bytes) -> Thumbnail:
    """The thumbnail of an image's bytes (JPEG, PNG, WebP, GIF or BMP), decoded with guards."""
    try:
        return _from_bytes(data)
    except Exception as exc:  # a decoder's fault we did not foresee: still no picture, no raise
        return Thumbnail(None, None, f"the image cannot be read ({type(exc).__name__})")


def _from_bytes(data: bytes) -> Thumbnail:
    size: tuple[int, int] | None = None
    try:
        with PILImage.open(io.BytesIO(data), formats=_FORMATS) as picture:  # the header only
            size = (int(picture.size[0]), int(picture.size[1]))
            if min(size) < 1:
                return Thumbnail(None, None, "the image has no pixels")
            if size[0] * size[1] > (PILImage.MAX_IMAGE_PIXELS or math.inf):
                return Thumbnail(None, size, _BOMB)  # Pillow only warned: the same verdict
            picture.draft("RGB", (LONG_SIDE, LONG_SIDE))  # a JPEG decodes at a reduced scale
            width, height = picture.size
            if width * height > MAX_DECODED_PIXELS:
                return Thumbnail(
                    None,
                    size,
                    f"too large to decode for a thumbnail ({size[0]}x{size[1]} pixels, "
                    f"at most {MAX_DECODED_PIXELS} decoded)",
                )
            with _DECODING:
                return _encoded(_small_rgb(picture), size)
    # Pillow's bomb guard: an error over twice its pixel limit, a warning over it (an error
    # where warnings are errors, as in this suite's tests; elsewhere our limit above refuses it).
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        return Thumbnail(None, size, _BOMB)
    except UnidentifiedImageError:
        return Thumbnail(None, None, "not an image (or not JPEG, PNG, WebP, GIF or BMP)")
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        return Thumbnail(None, size, f"the image cannot be read ({type(exc).__name__})")


def embed(
    rows: Sequence[Mapping[str, Any]],
    *,
    budget: float = TOTAL_BUDGET,
    timeout: float = FETCH_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> tuple[dict[str, Any], ...]:
    """The case rows of a report, each with a ``thumbnail`` (``Thumbnail.to_row()``).

    Each distinct ``image`` URL is fetched once, at most ``_WORKERS`` at a time, and every fetch
    ends by ``budget`` seconds from now (each within ``timeout``): a URL not fetched by then gets
    a thumbnail whose reason says so. A row that has a ``thumbnail`` already keeps it.
    """
    urls = list(dict.fromkeys(str(row["image"]) for row in rows if "thumbnail" not in row))
    found: dict[str, Thumbnail] = {}
    if urls:
        budget = budget if math.isfinite(budget) and budget > 0 else 0.0
        end = time.monotonic() + budget
        with _client(timeout, transport) as http, ThreadPoolExecutor(_WORKERS) as pool:
            results = pool.map(lambda url: _fetch_by(url, end, budget, timeout, http), urls)
            found = dict(zip(urls, results, strict=True))
    return tuple(
        dict(row) if "thumbnail" in row else {**row, "thumbnail": found[str(row["image"])].to_row()}
        for row in rows
    )


# --- private ---------------------------------------------------------------------------------


class _NotFetched(Exception):
    """Why an image was not downloaded, said as the report shows it."""


def _refusal(url: object) -> str:
    """Why ``url`` is not fetched at all (empty when it may be)."""
    if not isinstance(url, str):
        return "no image URL"
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number in 0..65535
    except ValueError:
        return "not a valid URL"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL"
    return ""


def _client(timeout: float, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    # DeadlineTransport: the package's SSL context, no proxy, every socket operation clamped to
    # the deadline in force. No redirect followed: the cases file named this URL, not another.
    return httpx.Client(
        transport=transport or DeadlineTransport(max_connections=_WORKERS),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": f"facedetect-contract-report/{__version__}"},
    )


def _fetch_by(url: str, end: float, budget: float, timeout: float, http: httpx.Client) -> Thumbnail:
    left = end - time.monotonic()
    if left <= 0:
        return Thumbnail(None, None, f"not fetched: the images' time budget ({budget:g} s) ran out")
    return fetch(url, timeout=min(timeout, left), client=http)


def _download(http: httpx.Client, url: str, timeout: float, max_bytes: int) -> bytes:
    host = urlsplit(url).hostname or ""
    try:
        with http.stream("GET", url, timeout=timeout) as response:
            if response.is_redirect:
                raise _NotFetched(f"HTTP {response.status_code}: a redirect (not followed)")
            if not response.is_success:
                raise _NotFetched(f"HTTP {response.status_code} from the image's host")
            declared = response.headers.get("content-length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
                raise _NotFetched(f"larger than {max_bytes // (1024 * 1024)} MiB")
            chunks, total = [], 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise _NotFetched(f"larger than {max_bytes // (1024 * 1024)} MiB")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.TimeoutException:
        raise _NotFetched(f"{host} did not send the image within {timeout:g} s") from None
    except httpx.ConnectError:
        raise _NotFetched(f"{host} could not be reached") from None
    except httpx.HTTPError as exc:
        raise _NotFetched(f"the download from {host} failed ({type(exc).__name__})") from None


def _small_rgb(picture: PILImage.Image) -> PILImage.Image:
    """The first frame, in RGB (transparency over white), at most ``LONG_SIDE`` on each side."""
    picture.load()
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        flat = PILImage.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
    else:
        flat = picture.convert("RGB")
    flat.thumbnail((LONG_SIDE, LONG_SIDE), PILImage.Resampling.LANCZOS)
    return flat


def _encoded(small: PILImage.Image, size: tuple[int, int]) -> Thumbnail:
    """``small`` as a JPEG data URI under the cap: lower quality, then fewer pixels, until it
    fits."""
    for side in _SIDES:
        picture = small if max(small.size) <= side else _shrunk(small, side)
        for quality in _JPEG_QUALITIES:
            out = io.BytesIO()
            picture.save(out, "JPEG", quality=quality, optimize=True)
            uri = "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")
            if len(uri) <= MAX_DATA_URI_CHARS:
                return Thumbnail(uri, size)
    return Thumbnail(None, size, f"no thumbnail fits in {MAX_DATA_URI_CHARS // 1024} KiB")


def _shrunk(picture: PILImage.Image, side: int) -> PILImage.Image:
    copy = picture.copy()
    copy.thumbnail((side, side), PILImage.Resampling.LANCZOS)
    return copy
