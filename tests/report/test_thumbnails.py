"""Each case's image for the HTML report: fetched bounded (time, bytes, scheme, no redirect),
decoded guarded (bombs, huge pixel counts, non-images), downscaled and embedded as a data URI of
our own under its cap, never raising; only loopback image hosts here."""

from __future__ import annotations

import base64
import contextlib
import http.server
import io
import random
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from PIL import Image

from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.report.thumbnails import (
    LONG_SIDE,
    MAX_DATA_URI_CHARS,
    MAX_SOURCE_BYTES,
    Thumbnail,
    embed,
    fetch,
    from_bytes,
    is_embedded_image,
)

PORTRAIT = (IMAGE_DIR / "portrait.png").read_bytes()  # 600 x 800
Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


@contextmanager
def image_host(handle: Handler) -> Iterator[tuple[str, list[str], threading.Event]]:
    """A loopback HTTP host answering every GET with ``handle``: its origin, the paths asked
    for, and an event set when it stops (a slow handler waits on it)."""
    asked: list[str] = []
    stopping = threading.Event()

    class One(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            with contextlib.suppress(OSError):  # the client gave up: some tests want it to
                handle(self)

        def log_message(self, format: str, *args: object) -> None:  # the base class's name
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), One)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked, stopping
    finally:
        stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def answer(body: bytes, *, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    def handle(request: http.server.BaseHTTPRequestHandler) -> None:
        request.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(body)

    return handle


def decoded(thumbnail: Thumbnail) -> Image.Image:
    assert thumbnail.data_uri is not None, thumbnail.reason
    data = base64.b64decode(thumbnail.data_uri.split(",", 1)[1])
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (its data is one empty row)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )


def png_bomb(side: int) -> bytes:
    """A real PNG of ``side`` x ``side`` black greyscale pixels: tiny compressed, huge decoded."""
    packer = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # the filter byte, then the row
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + payload))
        return struct.pack(">I", len(payload)) + kind + payload + crc

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


# --- what is embedded -------------------------------------------------------------------------


def test_an_image_is_embedded_downscaled_as_our_own_jpeg_with_its_original_size() -> None:
    with image_host(answer(PORTRAIT, headers={"Content-Type": "image/png"})) as (origin, _, _):
        thumbnail = fetch(f"{origin}/portrait.png")
    assert thumbnail.size == (600, 800) and thumbnail.reason == ""
    assert thumbnail.data_uri is not None
    assert thumbnail.data_uri.startswith("data:image/jpeg;base64,")
    assert len(thumbnail.data_uri) <= MAX_DATA_URI_CHARS
    assert is_embedded_image(thumbnail.data_uri)
    picture = decoded(thumbnail)
    assert picture.format == "JPEG" and picture.size == (240, LONG_SIDE)  # the same shape


def test_a_picture_full_of_detail_is_shrunk_until_its_data_uri_fits_the_cap() -> None:
    noise = random.Random(7).randbytes(1200 * 900 * 3)
    raw = io.BytesIO()
    Image.frombytes("RGB", (1200, 900), noise).save(raw, "PNG")
    thumbnail = from_bytes(raw.getvalue())
    assert thumbnail.data_uri is not None and len(thumbnail.data_uri) <= MAX_DATA_URI_CHARS
    assert thumbnail.size == (1200, 900)
    width, height = decoded(thumbnail).size
    assert width <= LONG_SIDE and abs(width / height - 4 / 3) < 0.02


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "L", "I;16", "CMYK"])
def test_every_common_pixel_mode_becomes_an_rgb_jpeg(mode: str) -> None:
    raw = io.BytesIO()
    picture = Image.new("RGBA", (50, 40), (200, 10, 10, 128)).convert(mode)
    picture.save(raw, "JPEG" if mode == "CMYK" else "PNG")
    thumbnail = from_bytes(raw.getvalue())
    assert decoded(thumbnail).mode == "RGB" and thumbnail.size == (50, 40)


# --- what is refused, and why -----------------------------------------------------------------


def test_a_host_that_never_sends_the_image_costs_only_the_timeout() -> None:
    def stall(request: http.server.BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Length", "100000")
        request.end_headers()
        while not stopping.wait(0.05):  # one byte now and then: each read resets a plain timeout
            request.wfile.write(b"\x89")
            request.wfile.flush()

    with image_host(stall) as (origin, _, stopping):
        started = time.monotonic()
        thumbnail = fetch(f"{origin}/slow.png", timeout=0.6)
        took = time.monotonic() - started
    assert thumbnail.data_uri is None
    assert "did not send the image within 0.6 s" in thumbnail.reason
    assert took < 1.5


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_an_image_larger_than_the_byte_cap_is_not_downloaded_whole(declared: bool) -> None:
    body = b"\xff\xd8\xff" + b"\x00" * MAX_SOURCE_BYTES  # a byte over the cap

    def huge(request: http.server.BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        if declared:
            request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        for start in range(0, len(body), 1 << 16):
            request.wfile.write(body[start : start + (1 << 16)])

    with image_host(huge) as (origin, _, _):
        thumbnail = fetch(f"{origin}/huge.jpg")
    assert thumbnail == Thumbnail(None, None, "larger than 8 MiB")


def test_an_image_of_too_many_pixels_is_not_decoded_but_keeps_its_shape() -> None:
    raw = io.BytesIO()
    Image.new("L", (5000, 4000)).save(raw, "PNG")  # 20 megapixels, a few kilobytes
    with image_host(answer(raw.getvalue())) as (origin, _, _):
        thumbnail = fetch(f"{origin}/wide.png")
    assert thumbnail.data_uri is None and thumbnail.size == (5000, 4000)
    assert "too large to decode" in thumbnail.reason


@pytest.mark.parametrize(
    "bomb",
    [png_header_only(100_000, 100_000), png_bomb(12_000)],
    ids=["a header claiming 10^10 pixels", "a real bomb of 144 megapixels in kilobytes"],
)
def test_a_decompression_bomb_is_refused_before_any_pixel_is_decoded(bomb: bytes) -> None:
    assert len(bomb) < 200_000
    with image_host(answer(bomb)) as (origin, _, _):
        started = time.monotonic()
        thumbnail = fetch(f"{origin}/bomb.png")
    assert thumbnail.data_uri is None
    assert "decompression bomb" in thumbnail.reason
    assert time.monotonic() - started < 2


def test_a_bomb_pillow_only_warns_about_is_refused_where_warnings_are_not_errors() -> None:
    """Over Pillow's limit but under twice it, Pillow warns and would decode: we do not."""
    with pytest.warns(Image.DecompressionBombWarning):
        thumbnail = from_bytes(png_bomb(12_000))
    assert thumbnail == Thumbnail(
        None, (12_000, 12_000), "a decompression bomb: far more pixels than any photo"
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ((IMAGE_DIR / "not-an-image.png").read_bytes(), "not an image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not an image"),
        (b"%PDF-1.7\n", "not an image"),
        (PORTRAIT[: len(PORTRAIT) // 2], "the image cannot be read"),
        (b"", "not an image"),
    ],
    ids=["text named .png", "svg", "pdf", "truncated png", "empty"],
)
def test_bytes_that_are_no_picture_we_decode_get_a_reason_not_an_exception(
    body: bytes, reason: str
) -> None:
    with image_host(answer(body)) as (origin, _, _):
        thumbnail = fetch(f"{origin}/x.png")
    assert thumbnail.data_uri is None and reason in thumbnail.reason


def test_a_redirect_is_not_followed() -> None:
    moved = answer(b"", status=302, headers={"Location": "/portrait.png"})
    with image_host(moved) as (origin, asked, _):
        thumbnail = fetch(f"{origin}/old.png")
    assert thumbnail == Thumbnail(None, None, "HTTP 302: a redirect (not followed)")
    assert asked == ["/old.png"]


def test_an_http_error_is_a_reason() -> None:
    with image_host(answer(b"gone", status=404)) as (origin, _, _):
        assert fetch(f"{origin}/x.png").reason == "HTTP 404 from the image's host"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "ftp://127.0.0.1/x.png",
        "http://",
        "http://127.0.0.1:99999/x.png",
    ],
)
def test_a_url_that_is_not_http_s_is_refused_without_a_connection(url: str) -> None:
    thumbnail = fetch(url)
    assert thumbnail.data_uri is None and thumbnail.size is None
    assert thumbnail.reason in ("not an http(s) URL", "not a valid URL")


def test_a_host_that_refuses_the_connection_is_named() -> None:
    with image_host(answer(b"")) as (origin, _, _):
        pass  # stopped: its port now refuses
    assert fetch(f"{origin}/x.png").reason == "127.0.0.1 could not be reached"


# --- a report's cases ------------------------------------------------------------------------


def test_embed_fetches_each_image_once_and_keeps_every_rows_other_keys() -> None:
    with image_host(answer(PORTRAIT)) as (origin, asked, _):
        rows = (
            {"name": "a", "image": f"{origin}/p.png", "iou": {}},
            {"name": "b", "image": f"{origin}/p.png"},
            {"name": "c", "image": f"{origin}/q.png"},
            {"name": "d", "image": "x", "thumbnail": {"src": None, "size": None, "reason": "kept"}},
        )
        out = embed(rows)
    assert sorted(asked) == ["/p.png", "/q.png"]
    assert [row["name"] for row in out] == ["a", "b", "c", "d"]
    assert out[0]["iou"] == {} and out[3]["thumbnail"]["reason"] == "kept"
    assert all(is_embedded_image(row["thumbnail"]["src"]) for row in out[:3])
    assert out[0]["thumbnail"]["size"] == [600, 800]


def test_embed_ends_within_its_total_budget_whatever_the_hosts_do() -> None:
    def silent(request: http.server.BaseHTTPRequestHandler) -> None:
        stopping.wait(30)  # accepts, never answers

    with image_host(silent) as (origin, _, stopping):
        rows = [{"image": f"{origin}/{i}.png"} for i in range(10)]
        started = time.monotonic()
        out = embed(rows, budget=0.8, timeout=5)
        took = time.monotonic() - started
    assert took < 2.0
    assert all(row["thumbnail"]["src"] is None for row in out)
    for row in out:
        reason = row["thumbnail"]["reason"]
        assert reason.startswith("127.0.0.1 did not send the image within") or (
            reason == "not fetched: the images' time budget (0.8 s) ran out"
        ), reason


@pytest.mark.parametrize(
    "value",
    [
        "https://example.invalid/x.png",
        "data:image/svg+xml;base64,PHN2Zy8+",
        "data:text/html;base64,PGI+",
        "data:image/png;base64,/9j/4AAQSkZJRg==",  # JPEG bytes said to be PNG
        'data:image/jpeg;base64,/9j/4AAQ"><script>alert(1)</script>',
        "data:image/jpeg;base64,/9j/" + "A" * MAX_DATA_URI_CHARS,
        "DATA:image/jpeg;base64,/9j/4AAQSkZJRg==",
        None,
        42,
    ],
    ids=[
        "a URL",
        "svg",
        "html",
        "type mismatch",
        "markup",
        "over the cap",
        "upper case",
        "none",
        "a number",
    ],
)
def test_only_a_data_uri_of_our_own_making_counts_as_embedded(value: object) -> None:
    assert not is_embedded_image(value)
