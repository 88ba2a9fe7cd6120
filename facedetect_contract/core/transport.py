"""HTTP with a deadline: an httpx transport whose every socket operation stops at one instant.

httpx's timeouts are per operation: an endpoint that drips one byte every few seconds resets the
read timeout with each byte and holds a request forever. This transport runs httpcore's
connection pool over a network backend that clamps every connect, read and write to the time
left before the deadline of the request in flight (``deadline(seconds)``, a context variable, so
threads sharing a client each keep their own). Built on httpcore's public API only.

TLS is set up on the first https request, not before: a broken ``SSL_CERT_FILE`` must not stop a
plain-http run, and must be named when https is used (``TLSSettingsError``), not end in a
traceback.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpcore
import httpx

__all__ = [
    "DeadlineTransport",
    "TLSSettingsError",
    "deadline",
    "listen_for_writes",
    "ssl_context",
]


class TLSSettingsError(ValueError):
    """The TLS settings of the environment (``SSL_CERT_FILE``, ``SSL_CERT_DIR``) cannot be used:
    the message names the variable, what is wrong with it and the fix."""


_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "facedetect_deadline", default=None
)
_WRITTEN: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "facedetect_written", default=None
)


def listen_for_writes(callback: Callable[[], None] | None) -> None:
    """From now on in this thread (this context), ``callback()`` after every write to a socket
    of a ``DeadlineTransport``: the pacer learns when a request's last byte left. None: stop."""
    _WRITTEN.set(callback)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every network operation inside the block ends within ``seconds`` from now, in all.

    Nested, the earlier end holds: a request's own deadline inside a run's ends at the run's
    deadline when that comes first."""
    end = time.monotonic() + seconds
    outer = _DEADLINE.get()
    token = _DEADLINE.set(end if outer is None else min(end, outer))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _clamped(timeout: float | None) -> float | None:
    """``timeout``, shortened to the time the deadline leaves; a passed deadline times out."""
    end = _DEADLINE.get()
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _clamped(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _clamped(timeout))
        written = _WRITTEN.get()
        if written is not None:
            written()

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, _clamped(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(
            host, port, _clamped(timeout), local_address, socket_options
        )
        return _Stream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:  # pragma: no cover - the endpoint is reached over TCP
        return _Stream(self._backend.connect_unix_socket(path, _clamped(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


# httpcore's exceptions as httpx's, so callers handle one family.
_MAPPING: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
)


@contextlib.contextmanager
def _as_httpx(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for source, target in _MAPPING:
            if isinstance(exc, source):
                # The message is httpcore's own; the caller never shows it unredacted.
                raise target(type(exc).__name__, request=request) from None
        raise


class _Body(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes], request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx(self._request):
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            with _as_httpx(self._request):
                close()


def ssl_context(verify: bool = True) -> ssl.SSLContext:
    """httpx's SSL context (certifi's CAs, or those of ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when
    set), made once per process and setting: loading the CAs takes 15 ms, and every client and
    stub made its own. A context is shared by connections as a rule; none of ours changes it.

    ``TLSSettingsError`` names the variable when its file cannot be loaded."""
    cafile, capath = os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", "")
    return _ssl_context(bool(verify), cafile, capath if not cafile else "")


@functools.cache
def _ssl_context(verify: bool, cafile: str, capath: str) -> ssl.SSLContext:
    # httpx reads the same two variables, the file first (see httpx.create_ssl_context).
    variable, value = ("SSL_CERT_FILE", cafile) if cafile else ("SSL_CERT_DIR", capath)
    if verify and capath and not os.path.isdir(capath):
        raise TLSSettingsError(
            f"SSL_CERT_DIR is set to {capath!r}, which is not a directory: point it at a "
            f"directory of CA certificates (c_rehash form), or unset it to use the bundled CAs"
        )
    try:
        return httpx.create_ssl_context(verify=verify)
    except FileNotFoundError:
        raise TLSSettingsError(
            f"{variable} is set to {value!r}, which does not exist: point it at a PEM file of "
            f"CA certificates, or unset it to use the bundled CAs"
        ) from None
    except (ssl.SSLError, OSError, ValueError) as error:
        why = getattr(error, "reason", None) or getattr(error, "strerror", None) or "unreadable"
        raise TLSSettingsError(
            f"{variable} is set to {value!r}, which could not be loaded as CA certificates "
            f"({why}): point it at a PEM file of CA certificates, or unset it to use the "
            f"bundled CAs"
        ) from None


class DeadlineTransport(httpx.BaseTransport):
    """httpx's default transport, minus proxies, with the deadline of ``deadline()`` enforced."""

    def __init__(self, *, verify: bool = True, max_connections: int = 16) -> None:
        self._verify = verify
        self._max_connections = max_connections
        self._pools: dict[bool, httpcore.ConnectionPool] = {}  # by "is https"
        self._lock = threading.Lock()

    def _pool(self, https: bool) -> httpcore.ConnectionPool:
        """The pool for plain or TLS connections; the TLS one (and its context) on first use."""
        with self._lock:
            if https not in self._pools:
                self._pools[https] = httpcore.ConnectionPool(
                    ssl_context=ssl_context(self._verify) if https else None,
                    max_connections=self._max_connections,
                    keepalive_expiry=5.0,
                    network_backend=_Backend(),
                )
            return self._pools[https]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        pool = self._pool(request.url.scheme == "https")
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx(request):
            response = pool.handle_request(core)
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream, request),
            extensions=response.extensions,
        )

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()
