"""The stub as a local service under a hostile client: raw bytes over loopback sockets.

Each mode is a fault a client (or a page the client was lured to) can cause, and asserts what a
trustworthy local service must do: framing that could hide a second request is a 400 and the
connection closes (RFC 9112 sections 5.1, 5.2, 6.1, 6.3; RFC 9110 section 5.5); a request that
trickles in is cut off at its deadline; an image host that drips bytes cannot hold a download past
its deadline, nor after the client has gone; what the client sent reaches the log escaped. Every
wait here is bounded (seconds); nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.doubles.fake import Image
from facedetect_contract.doubles.images import place_face
from facedetect_contract.doubles.server import RunningServer, serve_in_thread
from facedetect_contract.plugin import TEST_KEY

pytestmark = pytest.mark.hostile

PROFILE = load_contracts().profile
ENDPOINT = ("/api/v1" + PROFILE.path).encode()
MALFORMED = PROFILE.rejection("request-malformed").code
TIMED_OUT = PROFILE.rejection("url-timeout").code
# The request a client might hide behind a body; answered, it is a 404 naming what the stub serves.
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
CHUNKED_THEN_SMUGGLED = b"0\r\n\r\n" + SMUGGLED
STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ")
WAIT = 3.0  # seconds any one read of an answer may take


class PortraitImages:
    """Every URL is a passing portrait: the framing tests are about HTTP, not images."""

    def fetch(self, url: str) -> Image:
        return Image(600, 800, "png", face=place_face(600, 800))


@dataclass(frozen=True)
class Exchange:
    """What came back on one connection: the bytes, and whether the stub closed it."""

    data: bytes
    closed: bool

    @property
    def statuses(self) -> list[int]:
        return [int(code) for code in STATUS_LINE.findall(self.data)]

    def json_body(self) -> dict[str, object]:
        body = self.data.split(b"\r\n\r\n", 1)[1]
        parsed: dict[str, object] = json.JSONDecoder().raw_decode(body.decode())[0]
        return parsed


def exchange(server: RunningServer, data: bytes, *, wait: float = WAIT) -> Exchange:
    """Send ``data`` on a fresh connection; read until the stub closes it or ``wait`` passes."""
    host, port = server.server.server_address[:2]
    chunks, closed = [], False
    until = time.monotonic() + wait
    with socket.create_connection((str(host), int(port)), timeout=wait) as sock:
        sock.sendall(data)
        while (left := until - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            chunks.append(chunk)
    return Exchange(b"".join(chunks), closed)


@pytest.fixture(scope="module")
def stub() -> Iterator[RunningServer]:
    """A stub whose every image passes, with a short socket timeout so waits stay short."""
    with serve_in_thread(api_keys=[TEST_KEY], images=PortraitImages(), socket_timeout=2) as server:
        yield server


def post(headers: bytes, body: bytes, *, version: bytes = b"HTTP/1.1") -> bytes:
    return (
        b"POST " + ENDPOINT + b" " + version + b"\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n" + body
    )


def with_length(headers: bytes, body: bytes) -> bytes:
    return post(headers + b"Content-Length: %d\r\n" % len(body), body)


# --- mode: conflicting framing ----------------------------------------------------------------

BODY = CHUNKED_THEN_SMUGGLED
# Framing in doubt: refused with 400 (RFC 9112 section 6.1, 6.3).
REFUSED: dict[str, bytes] = {
    "content-length and chunked": with_length(b"Transfer-Encoding: chunked\r\n", BODY),
    "content-length after chunked": post(
        b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", BODY
    ),
    "content-length and 'chunked, gzip'": with_length(
        b"Transfer-Encoding: chunked, gzip\r\n", BODY
    ),
    "content-length and 'gzip, chunked'": with_length(
        b"Transfer-Encoding: gzip, chunked\r\n", BODY
    ),
    "content-length and chunked in odd case and spacing": with_length(
        b"transfer-ENCODING:   ChUnKeD  \r\n", BODY
    ),
    "content-length and repeated transfer-encoding headers": with_length(
        b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", BODY
    ),
    "chunked applied twice": post(
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", BODY
    ),
    "two different content-lengths": post(
        b"Content-Length: 0\r\nContent-Length: %d\r\n" % len(SMUGGLED), SMUGGLED
    ),
    "chunked not the final coding": post(b"Transfer-Encoding: chunked, gzip\r\n", BODY),
    "identity coding with a content-length": post(
        b"Transfer-Encoding: identity\r\nContent-Length: 0\r\n", SMUGGLED
    ),
    "chunked with a parameter": post(b"Transfer-Encoding: chunked;x=1\r\n", BODY),
    "transfer-encoding in HTTP/1.0": post(
        b"Transfer-Encoding: chunked\r\n", BODY, version=b"HTTP/1.0"
    ),
    "whitespace before the colon of transfer-encoding": post(
        b"Transfer-Encoding : chunked\r\nContent-Length: 0\r\n", BODY
    ),
    "obs-fold continuing transfer-encoding": with_length(
        b"Transfer-Encoding: gzip\r\n chunked\r\n", BODY
    ),
    "a bare CR hiding transfer-encoding in another header": with_length(
        b"X-Note: a\rTransfer-Encoding: chunked\r\n", BODY
    ),
    "a NUL in a header value": with_length(b"X-Note: a\x00b\r\n", SMUGGLED),
    "a header name that is not a token": with_length(b"X-\xff-Note: a\r\n", SMUGGLED),
}
AMBIGUOUS = [
    *((name, request, 400) for name, request in REFUSED.items()),
    (
        "'gzip, chunked' the stub cannot decode",
        post(b"Transfer-Encoding: gzip, chunked\r\n", BODY),
        501,
    ),
]


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [case[1:] for case in AMBIGUOUS],
    ids=[case[0] for case in AMBIGUOUS],
)
def test_ambiguous_framing_is_refused_and_the_hidden_request_never_answered(
    stub: RunningServer, request_bytes: bytes, status: int
) -> None:
    answer = exchange(stub, request_bytes)
    assert answer.statuses == [status], answer.data[:300]
    assert b"connection: close" in answer.data.lower()
    assert answer.closed, "the connection must close after a request whose framing is in doubt"
    expected = MALFORMED if status == 400 else "NotImplemented"
    assert answer.json_body()["code"] == expected


def test_a_pipelined_request_after_a_well_framed_body_is_answered(stub: RunningServer) -> None:
    """The control: the hidden request of the cases above is answered when it is no trick."""
    answer = exchange(stub, with_length(b"", b"") + SMUGGLED, wait=1.0)
    assert answer.statuses == [401, 404]


# --- mode: a request that trickles in ---------------------------------------------------------


def trickle(server: RunningServer, data: bytes, *, every: float, bound: float) -> float | None:
    """Send ``data`` a byte every ``every`` s; the seconds until the stub closed, or None."""
    host, port = server.server.server_address[:2]
    start = time.monotonic()
    with socket.create_connection((str(host), int(port)), timeout=bound) as sock:
        for byte in data:
            if time.monotonic() - start > bound:
                return None
            try:
                sock.send(bytes([byte]))
                readable, _, _ = select.select([sock], [], [], every)
                if readable and sock.recv(65536) == b"":
                    return time.monotonic() - start
            except OSError:
                return time.monotonic() - start
    return None


@pytest.mark.parametrize(
    "data",
    [
        b"POST / HTTP/1.1\r\n" + b"X-Slow: header\r\n" * 100,
        post(b"Content-Length: 1000\r\n", b"{" * 1000),
    ],
    ids=["headers a byte at a time", "a body a byte at a time"],
)
def test_a_request_trickling_in_is_cut_off_at_its_deadline(data: bytes) -> None:
    with serve_in_thread(api_keys=[TEST_KEY], images=PortraitImages(), socket_timeout=1) as server:
        closed_after = trickle(server, data, every=0.1, bound=4.0)
    assert closed_after is not None, "still reading a trickling request after 4 s"
    assert closed_after < 2.5


# --- mode: an image host that drips -----------------------------------------------------------


class DripHost:
    """A loopback image host that answers 200 with a 1 MB Content-Length, then sends one byte
    every ``interval`` seconds until the downloader leaves, the host closes, or ``limit`` s."""

    def __init__(self, interval: float = 0.1, limit: float = 20.0) -> None:
        self.interval, self.limit = interval, limit
        self.connected = threading.Event()
        self.left = threading.Event()  # the downloader closed its connection
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._threads = [threading.Thread(target=self._accept, daemon=True)]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/portrait.png"

    def __enter__(self) -> DripHost:
        self._threads[0].start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._drip, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _drip(self, connection: socket.socket) -> None:
        start = time.monotonic()
        with connection:
            connection.settimeout(2)
            with contextlib.suppress(OSError):
                connection.recv(65536)  # the request: one GET, small
                self.connected.set()
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 1000000\r\n\r\n"
                )
            while not self._stop.wait(self.interval) and time.monotonic() - start < self.limit:
                try:
                    readable, _, _ = select.select([connection], [], [], 0)
                    if readable and connection.recv(1) == b"":
                        break
                    connection.send(b"\x89")
                except OSError:
                    break
            else:
                return  # stopped by the test or the limit: the downloader never left
            self.left.set()


def detect_request(image_url: str) -> bytes:
    body = json.dumps(
        {
            "model": "emo-detect-v1",
            "input": {"image_url": image_url},
            "parameters": {"ratio": "1:1"},
        }
    ).encode()
    headers = (
        b"Authorization: Bearer "
        + TEST_KEY.encode()
        + b"\r\nContent-Type: application/json\r\nConnection: close\r\n"
    )
    return with_length(headers, body)


def settled_thread_count(baseline: int, *, within: float) -> int:
    """The live thread count once it is back to ``baseline``, or as it is after ``within`` s."""
    until = time.monotonic() + within
    while threading.active_count() > baseline and time.monotonic() < until:
        time.sleep(0.05)
    return threading.active_count()


def test_a_dripping_image_host_gets_the_documented_timeout_within_the_deadline() -> None:
    with (
        DripHost() as host,
        serve_in_thread(api_keys=[TEST_KEY], image_deadline=1.0) as server,
    ):
        baseline = threading.active_count()
        start = time.monotonic()
        answer = exchange(server, detect_request(host.url), wait=6.0)
        took = time.monotonic() - start
        assert answer.statuses == [400], answer.data[:300]
        assert answer.json_body()["code"] == TIMED_OUT
        assert took < 2.5, f"answered after {took:.1f} s, the deadline is 1 s"
        assert host.left.wait(2), "the download went on reading after its deadline"
        # The stub's handler and its download watcher end; the host's dripping thread too.
        assert settled_thread_count(baseline, within=3) <= baseline


def test_a_download_stops_when_its_client_has_gone() -> None:
    """With the default deadline (10 s): only the client leaving can stop it this soon."""
    with DripHost() as host, serve_in_thread(api_keys=[TEST_KEY]) as server:
        address = server.server.server_address[:2]
        with socket.create_connection((str(address[0]), int(address[1])), timeout=3) as client:
            client.sendall(detect_request(host.url))
            assert host.connected.wait(3), "the stub never started the download"
        left_at = time.monotonic()
        assert host.left.wait(3), "the download went on reading after the client left"
        assert time.monotonic() - left_at < 2


# --- mode: the log ----------------------------------------------------------------------------

CONTROL_BYTES = ("\x1b", "\x07", "\r", "\x9b")


@pytest.mark.parametrize(
    "request_line",
    [
        b"GET /\x1b]52;c;SGVsbG8=\x07 HTTP/1.1",  # a clipboard write (OSC 52)
        b"GET /\x1b[2J\x1b[H HTTP/1.1",  # clear the screen
        b"GET /x\rFORGED HTTP/1.1",  # overwrite the line
        b"GET /\xc2\x9b31m HTTP/1.1",  # a C1 CSI, in UTF-8 read as Latin-1
    ],
    ids=["OSC 52", "clear screen", "carriage return", "C1 CSI"],
)
def test_control_bytes_a_client_sends_reach_the_log_escaped(
    stub: RunningServer, caplog: pytest.LogCaptureFixture, request_line: bytes
) -> None:
    caplog.set_level(logging.INFO, logger="facedetect_contract.doubles.server")
    exchange(stub, request_line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    deadline = time.monotonic() + WAIT  # the log line is written by the stub's thread
    while not caplog.messages and time.monotonic() < deadline:
        time.sleep(0.02)
    assert caplog.messages, "the request was not logged"
    logged = "\n".join(caplog.messages)
    assert not any(char in logged for char in CONTROL_BYTES), logged
    assert "\\x" in logged  # shown escaped, not dropped


# --- what held before: kept tested ------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(200)) + b"\r\n", 431),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (post(b"Content-Length: " + b"9" * 30 + b"\r\n", b""), 400),
    ],
    ids=["200 headers", "a 70 kB URL", "a 70 kB header", "a 30-digit Content-Length"],
)
def test_floods_and_absurd_sizes_get_a_json_error_and_a_closed_connection(
    stub: RunningServer, request_bytes: bytes, status: int
) -> None:
    answer = exchange(stub, request_bytes)
    assert answer.statuses == [status]
    assert answer.closed
    assert "code" in answer.json_body()
