"""HTTP with a deadline: a server that drips bytes cannot hold a request past its deadline."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from facedetect_contract.core.transport import DeadlineTransport, deadline, ssl_context

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n"


@contextlib.contextmanager
def dripping_server(
    size: int, every: float, head_after: float = 0.0, requests: list[bytes] | None = None
) -> Iterator[str]:
    """A loopback server answering each request with ``size`` bytes, one every ``every`` seconds
    (after waiting ``head_after`` seconds before the head): each read gets a byte in time. The
    requests it receives go to ``requests``."""
    received = [] if requests is None else requests
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def answer(connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError):
            received.append(connection.recv(65536))  # the request: one small packet
            if stop.wait(head_after):
                return
            connection.sendall(HEAD % size)
            for _ in range(size):
                if stop.wait(every):
                    return
                connection.sendall(b"x")

    def serve() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                connection, _ = listener.accept()
                threading.Thread(target=answer, args=(connection,), daemon=True).start()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/drip"
    finally:
        stop.set()
        server.join()
        listener.close()


def client(read_timeout: float) -> httpx.Client:
    return httpx.Client(
        transport=DeadlineTransport(), timeout=httpx.Timeout(5.0, read=read_timeout)
    )


def test_a_deadline_ends_a_request_whose_bytes_each_come_within_the_read_timeout() -> None:
    """50 bytes 0.1 s apart would take 5 s; every read is in time, the deadline is not."""
    with dripping_server(size=50, every=0.1) as url, client(read_timeout=2.0) as http:
        started = time.monotonic()
        with deadline(0.5), pytest.raises(httpx.ReadTimeout):
            http.get(url)
        assert time.monotonic() - started < 2.0  # ended by the deadline, not by the read timeout


def test_without_a_deadline_the_same_drip_is_read_to_the_end() -> None:
    """Longer than the 0.5 s deadline above, each byte within the read timeout: read whole."""
    with dripping_server(size=6, every=0.1) as url, client(read_timeout=2.0) as http:
        response = http.get(url)
    assert (response.status_code, response.content) == (200, b"x" * 6)


@pytest.mark.parametrize(("outer", "inner"), [(0.3, 30.0), (30.0, 0.3)], ids=["outer", "inner"])
def test_nested_deadlines_end_the_request_at_the_earlier_one(outer: float, inner: float) -> None:
    """A request's own deadline inside a run's: whichever ends first ends the request."""
    with dripping_server(size=50, every=0.1) as url, client(read_timeout=2.0) as http:
        started = time.monotonic()
        with deadline(outer), deadline(inner), pytest.raises(httpx.ReadTimeout):
            http.get(url)
        assert time.monotonic() - started < 2.0


def test_without_a_deadline_the_per_operation_read_timeout_still_applies() -> None:
    with (
        dripping_server(size=1, every=0.0, head_after=5.0) as url,
        client(read_timeout=0.3) as http,
    ):
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            http.get(url)
        assert time.monotonic() - started < 2.0


def test_a_deadline_already_passed_sends_nothing() -> None:
    requests: list[bytes] = []
    with dripping_server(1, 0.0, requests=requests) as url, client(read_timeout=2.0) as http:
        with deadline(0.0), pytest.raises(httpx.TimeoutException):
            http.get(url)
        assert requests == []
        assert http.get(url).content == b"x"  # outside the block the client is unbounded again
        assert len(requests) == 1


def test_the_deadline_belongs_to_the_thread_that_set_it() -> None:
    """Threads sharing one client: one bounded by a deadline, the other reading to the end."""
    outcomes: dict[str, object] = {}
    with dripping_server(size=5, every=0.1) as url, client(read_timeout=2.0) as http:

        def bounded() -> None:
            with deadline(0.2):
                try:
                    http.get(url)
                except httpx.ReadTimeout as error:
                    outcomes["bounded"] = error

        def unbounded() -> None:
            outcomes["unbounded"] = http.get(url).content

        threads = [threading.Thread(target=bounded), threading.Thread(target=unbounded)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert isinstance(outcomes["bounded"], httpx.ReadTimeout)
    assert outcomes["unbounded"] == b"x" * 5


def test_the_ssl_context_is_made_once_and_shared_by_every_transport() -> None:
    """Loading the CAs costs 15 ms: every client, stub and image fetcher shares one context."""

    assert ssl_context() is ssl_context(True)
    assert ssl_context(False) is not ssl_context(True)
    assert ssl_context(False).verify_mode == ssl.CERT_NONE
    assert ssl_context().verify_mode == ssl.CERT_REQUIRED
    assert DeadlineTransport()._pool(https=True)._ssl_context is ssl_context()
