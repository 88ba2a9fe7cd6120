"""A fault-injecting loopback proxy: the stub server behind a hostile or broken gateway.

The contract suite trusts that an answer, however wrong its content, arrives as well-formed
HTTP with a JSON body. Real traffic crosses gateways that lie about framing, drip bytes, answer
in HTML, echo credentials back, throttle with nonsense ``Retry-After`` values or bill retries.
``FaultProxy`` puts such a gateway between a client and an upstream (normally the stub server,
``facedetect_contract.doubles.server.serve_in_thread``) so the client, live mode and the redaction can
be tried against each behaviour over a real socket, without leaving 127.0.0.1.

    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR) as stub:
        with FaultProxy(stub.base_url, mode="truncated-body", only_key=KEY) as proxy:
            FaceDetectClient(base_url=proxy.base_url, ...)

Requests to the face-detect endpoint (``<prefix>/services/aigc/image2video/face-detect``) get
the fault of ``mode``; every other path (``/images/...``) is forwarded unchanged. The answer is
written as raw bytes, so a fault can break HTTP itself: wrong ``Content-Length``, bad chunking,
drips, garbage status lines, resets. ``FAULTS`` holds every mode, each documented in one line.

Only loopback upstreams are accepted, the proxy listens on 127.0.0.1 only, every socket has a
timeout, every wait ends when the proxy closes, and closing joins every thread it started.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import http.server
import ipaddress
import json
import logging
import socket
import socketserver
import struct
import threading
import time
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast
from urllib.parse import urlsplit

__all__ = [
    "ENDPOINT_PATH",
    "FAULTS",
    "RETRY_AFTER_ODD",
    "Exchange",
    "Fault",
    "FaultProxy",
    "ProxyRequest",
    "Upstream",
]

ENDPOINT_PATH = "/services/aigc/image2video/face-detect"
SOCKET_TIMEOUT = 10.0
UPSTREAM_TIMEOUT = 30.0
MAX_REQUEST_BODY = 4 * 1024 * 1024
MAX_UPSTREAM_BODY = 64 * 1024 * 1024
JOIN_TIMEOUT = 5.0
MiB = 1024 * 1024

# Hop-by-hop headers (RFC 9110 7.6.1) and the framing the proxy computes itself.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "content-length",
        "te",
        "trailer",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
    }
)
_JSON = "application/json;charset=UTF-8"
_THROTTLED = "Requests rate limit exceeded, please try again later."
_PLACEHOLDER = "__fault_proxy_placeholder__"

# Retry-After values no RFC 9110 reader should honour as given: delta-seconds is 1*DIGIT.
RETRY_AFTER_ODD: Mapping[str, str] = {
    "superscript": "\u00b2",
    "negative": "-1",
    "exponent": "1e9",
    "nan": "NaN",
    "fraction": "1.5",
    "far-future-date": "Fri, 31 Dec 9999 23:59:59 GMT",
    "huge-integer": "9" * 30,
    "arabic-indic-digit": "\u0663",
    "empty": "",
}

logger = logging.getLogger(__name__)


class _Stopping(Exception):
    """The proxy is closing: a fault in the middle of a wait gives up."""


# --- what the proxy sees and gets ----------------------------------------------------------------


@dataclass(frozen=True)
class ProxyRequest:
    """A request as the proxy received it. Headers hold the key: never shown in a repr."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = field(repr=False)
    body: bytes = field(default=b"", repr=False)

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    @property
    def authorization(self) -> str:
        """The Authorization header as sent ("" without one)."""
        return self.header("authorization") or ""

    @property
    def bearer(self) -> str:
        """The bare key of ``Authorization: Bearer <key>`` ("" without one)."""
        scheme, _, token = self.authorization.partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def fingerprint(self) -> str:
        """Identifies "the same request" across client retries: method, path, key and body."""
        digest = hashlib.sha256()
        for part in (self.method.encode(), self.path.encode(), self.authorization.encode()):
            digest.update(part + b"\0")
        digest.update(self.body)
        return digest.hexdigest()


@dataclass(frozen=True)
class Upstream:
    """The upstream's answer, as bytes: status, headers in order, the de-chunked body."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...] = field(repr=False)
    body: bytes = field(repr=False)

    def end_to_end_headers(self) -> list[tuple[str, str]]:
        """The headers a proxy passes on: without hop-by-hop ones and without framing."""
        return [(k, v) for k, v in self.headers if k.lower() not in _HOP_BY_HOP]

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; anything else is wrapped as ``{"upstream": ...}``."""
        try:
            value = json.loads(self.body)
        except ValueError:
            value = self.body.decode("utf-8", errors="replace")
        return value if isinstance(value, dict) else {"upstream": value}


# --- writing raw HTTP ----------------------------------------------------------------------------


def head_bytes(
    status: int,
    headers: Iterable[tuple[str, str]] = (),
    *,
    reason: str | None = None,
    version: str = "HTTP/1.1",
) -> bytes:
    """A status line and header block, exactly as given (UTF-8, no checks, no framing added)."""
    if reason is None:
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
    lines = [f"{version} {status} {reason}".rstrip(" ")]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def compact(value: Any) -> bytes:
    """JSON as a terse gateway writes it: no spaces, non-ASCII kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _json_escape_all(text: str) -> str:
    """A JSON string literal in which every character is a ``\\uXXXX`` escape."""
    units = text.encode("utf-16-be")
    return (
        '"' + "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2)) + '"'
    )


def _alternating_case(text: str) -> str:
    return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(text))


def _b64(text: str, *, urlsafe: bool = False) -> str:
    raw = text.encode("utf-8")
    if urlsafe:
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    return base64.b64encode(raw).decode("ascii")


@lru_cache(maxsize=4)
def _gzip_bomb(size: int) -> bytes:
    """A valid gzip stream of a ``size``-byte JSON object that is almost all one character."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)  # level 1: zeros shrink ~1000x anyway
    opening, closing = b'{"padding":"', b'"}'
    parts = [compressor.compress(opening)]
    left = max(0, size - len(opening) - len(closing))
    block = b"0" * MiB
    while left > 0:
        parts.append(compressor.compress(block[: min(left, MiB)]))
        left -= min(left, MiB)
    parts += [compressor.compress(closing), compressor.flush()]
    return b"".join(parts)


# --- faults --------------------------------------------------------------------------------------

FaultFn = Callable[["Exchange"], None]


@dataclass(frozen=True)
class Fault:
    """One named misbehaviour: what it does (``doc``), its options and whether it forwards.

    ``forwards``: the upstream is asked before the fault runs, so it counts and bills the
    request as if the gateway had passed it on; otherwise the fault decides (``ex.upstream``).
    """

    name: str
    run: FaultFn = field(repr=False)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    forwards: bool = True

    @property
    def doc(self) -> str:
        return (self.run.__doc__ or "").strip()


FAULTS: dict[str, Fault] = {}


def _fault(name: str, *, forwards: bool = True, **defaults: Any) -> Callable[[FaultFn], FaultFn]:
    def register(run: FaultFn) -> FaultFn:
        if name in FAULTS:
            raise ValueError(f"fault {name!r} registered twice")
        FAULTS[name] = Fault(name, run, dict(defaults), forwards)
        return run

    return register


class Exchange:
    """One faulted request: what the fault reads (request, upstream, options) and writes with."""

    def __init__(
        self,
        handler: _Handler,
        proxy: FaultProxy,
        request: ProxyRequest,
        index: int,
        options: Mapping[str, Any],
    ) -> None:
        self.request = request
        self.index = index  # 1-based, among the endpoint requests the proxy has seen
        self.options = options
        self.proxy = proxy
        self.keep_alive = False  # faults that keep HTTP framing intact may keep the connection
        self._handler = handler
        self._upstream: Upstream | None = None
        self.closed = False

    def __repr__(self) -> str:
        return f"Exchange({self.request.method} {self.request.path}, #{self.index})"

    # -- reading --

    @property
    def upstream(self) -> Upstream:
        """The upstream's answer to this request, asked once, on first use."""
        if self._upstream is None:
            self._upstream = self.proxy.forward(self.request)
        return self._upstream

    def number(self, name: str) -> float:
        return float(self.options[name])

    def integer(self, name: str) -> int:
        return int(self.options[name])

    def text(self, name: str) -> str:
        return str(self.options[name])

    def upstream_json(self) -> dict[str, Any]:
        return self.upstream.json()

    # -- writing --

    def send(self, data: bytes) -> None:
        """Write raw bytes to the client."""
        if self.proxy.stopping:
            raise _Stopping
        self._handler.connection.sendall(data)

    def respond(
        self,
        status: int,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        *,
        reason: str | None = None,
        version: str = "HTTP/1.1",
        length: int | None = -1,
    ) -> None:
        """Status, headers and body. ``length``: -1 a true Content-Length, None none, N a lie."""
        headers = list(headers)
        if length is not None:
            headers.append(("Content-Length", str(len(body) if length == -1 else length)))
        if not self.keep_alive:
            headers.append(("Connection", "close"))
        self.send(head_bytes(status, headers, reason=reason, version=version) + body)

    def pause(self, seconds: float) -> None:
        """Sleep, unless the proxy closes first (then the fault gives up)."""
        if self.proxy.wait_stop(seconds):
            raise _Stopping

    def drip(self, data: bytes, interval: float, *, limit: int = 0, step: int = 1) -> None:
        """``step`` bytes every ``interval`` s for the first ``limit`` bytes (0: all), then the rest."""
        slow = data if limit <= 0 else data[:limit]
        for start in range(0, len(slow), max(1, step)):
            if start:
                self.pause(interval)
            self.send(slow[start : start + max(1, step)])
        if len(slow) < len(data):
            self.pause(interval)
            self.send(data[len(slow) :])

    def reset(self) -> None:
        """Abort the connection with a TCP reset (RST), not an orderly close (FIN)."""
        connection = self._handler.connection
        with contextlib.suppress(OSError):
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()
        self.closed = True

    # -- common answers --

    def json_answer(
        self,
        status: int,
        value: Any,
        *,
        headers: Iterable[tuple[str, str]] = (),
        content_type: str = _JSON,
    ) -> None:
        self.respond(status, [("Content-Type", content_type), *headers], compact(value))

    def upstream_answer(
        self,
        *,
        body: bytes | None = None,
        extra_headers: Iterable[tuple[str, str]] = (),
        drop: Collection[str] = (),
        status: int | None = None,
        length: int | None = -1,
    ) -> None:
        """The upstream's answer, with its body or headers changed as given."""
        upstream = self.upstream
        dropped = {name.lower() for name in drop}
        headers = [(k, v) for k, v in upstream.end_to_end_headers() if k.lower() not in dropped]
        self.respond(
            upstream.status if status is None else status,
            [*headers, *extra_headers],
            upstream.body if body is None else body,
            reason=upstream.reason if status is None else None,
            length=length,
        )


def _gateway_html(status: int, title: str) -> bytes:
    return (
        f"<html>\r\n<head><title>{status} {title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


# The stub's own answer, honest: the baseline the other modes corrupt.


@_fault("passthrough")
def _passthrough(ex: Exchange) -> None:
    """An honest gateway: the upstream's answer, unchanged."""
    ex.keep_alive = True
    ex.upstream_answer()


# --- the requested modes --


@_fault("bad-gzip-echo")
def _bad_gzip_echo(ex: Exchange) -> None:
    """Claims Content-Encoding: gzip on a plain body that echoes the request headers, key too."""
    echo = {
        "echo": {
            "method": ex.request.method,
            "path": ex.request.path,
            "headers": dict(ex.request.headers),
        },
        "request_id": ex.upstream_json().get("request_id", "gateway-echo"),
    }
    ex.respond(200, [("Content-Type", _JSON), ("Content-Encoding", "gzip")], compact(echo))


@_fault("truncated-body", missing=100)
def _truncated_body(ex: Exchange) -> None:
    """Declares a Content-Length ``missing`` bytes longer than the body it sends, then closes."""
    body = ex.upstream.body
    ex.upstream_answer(length=len(body) + ex.integer("missing"))


@_fault("drip-body", interval=5.0, limit=0, step=1)
def _drip_body(ex: Exchange) -> None:
    """Sends the headers at once, then the body ``step`` bytes every ``interval`` seconds."""
    upstream = ex.upstream
    headers = [*upstream.end_to_end_headers(), ("Content-Length", str(len(upstream.body)))]
    ex.send(head_bytes(upstream.status, [*headers, ("Connection", "close")]))
    ex.drip(
        upstream.body, ex.number("interval"), limit=ex.integer("limit"), step=ex.integer("step")
    )


@_fault("drip-headers", interval=5.0, limit=0, step=1)
def _drip_headers(ex: Exchange) -> None:
    """Sends the status line and headers ``step`` bytes every ``interval`` seconds, then the body."""
    upstream = ex.upstream
    headers = [*upstream.end_to_end_headers(), ("Content-Length", str(len(upstream.body)))]
    head = head_bytes(upstream.status, [*headers, ("Connection", "close")])
    ex.drip(head, ex.number("interval"), limit=ex.integer("limit"), step=ex.integer("step"))
    ex.send(upstream.body)


@_fault("deep-json", depth=100_000)
def _deep_json(ex: Exchange) -> None:
    """Answers HTTP 200 with a JSON body of ``depth`` opening brackets (100,000 ``[``)."""
    ex.respond(200, [("Content-Type", _JSON)], b"[" * ex.integer("depth"))


@_fault("huge-body", size=64 * MiB)
def _huge_body(ex: Exchange) -> None:
    """Answers the upstream's JSON padded with one string field to ``size`` bytes (64 MiB)."""
    upstream = ex.upstream.json()
    rest = compact(upstream)[1:] if upstream else b"}"
    opening, closing = b'{"padding":"', b'",' + rest if upstream else b'"}'
    size = ex.integer("size")
    padding = max(0, size - len(opening) - len(closing))
    headers = [
        ("Content-Type", _JSON),
        ("Content-Length", str(len(opening) + padding + len(closing))),
    ]
    ex.send(head_bytes(200, [*headers, ("Connection", "close")]) + opening)
    block = b"a" * MiB
    for start in range(0, padding, MiB):  # bounded: size / 1 MiB writes
        ex.send(block[: min(MiB, padding - start)])
    ex.send(closing)


@_fault("non-json-200")
def _non_json_200(ex: Exchange) -> None:
    """Answers HTTP 200 with an HTML page (a gateway's welcome or login page)."""
    page = b"<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head>"
    page += b"<body><h1>Welcome to nginx!</h1></body></html>\n"
    ex.respond(200, [("Content-Type", "text/html")], page)


@_fault("empty-200")
def _empty_200(ex: Exchange) -> None:
    """Answers HTTP 200 with Content-Type JSON and an empty body."""
    ex.respond(200, [("Content-Type", _JSON)], b"")


def _throttle(ex: Exchange, retry_after: str) -> None:
    body = {"code": "Throttling.RateQuota", "message": _THROTTLED, "request_id": "gw-throttle"}
    ex.json_answer(429, body, headers=[("Retry-After", retry_after)])


@_fault("retry-after-superscript", forwards=False)
def _retry_after_superscript(ex: Exchange) -> None:
    """Throttles every request: 429 Throttling.RateQuota with ``Retry-After: ²`` (a digit to str.isdigit)."""
    _throttle(ex, RETRY_AFTER_ODD["superscript"])


@_fault("retry-after-odd", forwards=False, retry_after="-1")
def _retry_after_odd(ex: Exchange) -> None:
    """Throttles every request: 429 Throttling.RateQuota with the odd ``retry_after`` given."""
    _throttle(ex, ex.text("retry_after"))


@_fault("odd-header-names")
def _odd_header_names(ex: Exchange) -> None:
    """Adds legal but unusual header names: X_Trace_Id, X.Acs.Id, X~Tilde, X!Bang."""
    ex.keep_alive = True
    odd = [
        ("X_Trace_Id", "trace-underscore"),
        ("X.Acs.Id", "acs-dot"),
        ("X~Tilde", "tilde~value"),
        ("X!Bang", "bang!value"),
    ]
    ex.upstream_answer(extra_headers=odd)


@_fault("gateway-502-html")
def _gateway_502_html(ex: Exchange) -> None:
    """Answers every request 502 Bad Gateway with an nginx HTML page."""
    ex.respond(502, [("Content-Type", "text/html")], _gateway_html(502, "Bad Gateway"))


@_fault("gateway-503-html", forwards=False)
def _gateway_503_html(ex: Exchange) -> None:
    """Answers every request 503 Service Unavailable with an HTML page, upstream never asked."""
    html = _gateway_html(503, "Service Temporarily Unavailable")
    ex.respond(503, [("Content-Type", "text/html")], html)


@_fault("gateway-504-json")
def _gateway_504_json(ex: Exchange) -> None:
    """Answers every request 504 with JSON {"code": "GatewayTimeout"}, after upstream did the work."""
    body = {"code": "GatewayTimeout", "message": "The gateway timed out waiting for the backend."}
    ex.json_answer(504, body)


@_fault("bill-retried", forwards=False, times=2)
def _bill_retried(ex: Exchange) -> None:
    """Answers a request ``times`` times 503 billed one image, then forwards the real answer."""
    if ex.proxy.count_attempt(ex.request) <= ex.integer("times"):
        ex.keep_alive = True
        body = {
            "code": "ServiceUnavailable",
            "message": "The service is temporarily unavailable, please retry.",
            "request_id": f"gw-billed-{ex.index}",
            "usage": {"image_count": 1},
        }
        ex.json_answer(503, body)
        return
    ex.keep_alive = True
    ex.upstream_answer()


# --- the key echoed back: every spelling a redactor has to recognise --


def _echo_value(ex: Exchange, variant: str) -> str:
    """The JSON text of the echo field for ``variant``, built from the request's key."""
    auth, key = ex.request.authorization, ex.request.bearer
    value: dict[str, Any]
    if variant == "raw":
        return compact({"authorization": auth, "key": key}).decode()
    if variant == "unicode":
        return f'{{"authorization":{_json_escape_all(auth)},"key":{_json_escape_all(key)}}}'
    if variant == "slash":
        value = {"path": f"/keys/{key}/", "authorization": auth, "key": key}
        return compact(value).decode().replace("/", "\\/")
    if variant == "mixed-case":
        value = {
            "swapcase": key.swapcase(),
            "alternating": _alternating_case(key),
            "upper": key.upper(),
            "authorization_upper": auth.upper(),
        }
        return compact(value).decode()
    if variant == "glued":
        value = {
            "glued": f"abc{key}xyz",
            "glued_bearer": f"abc{auth}xyz",
            "no_space": f"Bearer{key}",
        }
        return compact(value).decode()
    if variant == "cut":
        value = {
            "prefixes": [key[:n] for n in range(1, len(key))],
            "suffixes": [key[n:] for n in range(1, len(key))],
            "at_boundary": ["." * (ex.integer("boundary") - n) + key for n in range(1, len(key))],
        }
        return compact(value).decode()
    if variant == "straddle":
        return compact("." * ex.integer("filler") + key + "." * 20).decode()
    if variant == "base64":
        value = {
            "key": _b64(key),
            "authorization": _b64(auth),
            "key_urlsafe": _b64(key, urlsafe=True),
        }
        return compact(value).decode()
    raise ValueError(f"unknown echo variant {variant!r}")


def _put_echo(ex: Exchange, raw_value: str) -> bytes:
    """The upstream's JSON with ``raw_value`` (JSON text) at the dotted path ``field``."""
    body = ex.upstream_json()
    *parents, leaf = ex.text("field").split(".")
    target = body
    for name in parents:
        child = target.get(name)
        if not isinstance(child, dict):
            child = target[name] = {}
        target = child
    target[leaf] = _PLACEHOLDER
    text = compact(body).decode()
    return text.replace(f'"{_PLACEHOLDER}"', raw_value, 1).encode()


def _echo_status(ex: Exchange) -> int | None:
    status = ex.integer("status")
    return status or None


_ECHO_DOCS = {
    "raw": "Echoes the Authorization value and the bare key into the JSON body as they are.",
    "unicode": "Echoes the Authorization value and the key with every character a \\uXXXX escape.",
    "slash": "Echoes the key inside a path with every '/' written as the JSON escape '\\/'.",
    "mixed-case": "Echoes the key swapped, alternating, upper-cased (and Authorization upper-cased).",
    "glued": "Echoes the key glued to letters: abc<key>xyz, abcBearer <key>xyz, Bearer<key>.",
    "cut": "Echoes every prefix and suffix of the key, and the key cut at each point by a 200-char boundary.",
    "straddle": "Echoes one string of ``filler`` (190) dots then the key, so it straddles character 200.",
    "base64": "Echoes base64 of the key and of 'Bearer <key>', and URL-safe base64 of the key.",
}


_ECHO_OPTIONS: Mapping[str, Mapping[str, Any]] = {
    "cut": {"boundary": 200},
    "straddle": {"filler": 190},
}


def _register_echo(variant: str) -> None:
    def run(ex: Exchange) -> None:
        ex.keep_alive = True
        body = _put_echo(ex, _echo_value(ex, variant))
        ex.upstream_answer(body=body, status=_echo_status(ex))

    run.__doc__ = _ECHO_DOCS[variant]
    options = {"field": "gateway_echo", "status": 0, **_ECHO_OPTIONS.get(variant, {})}
    _fault(f"echo-key-{variant}", **options)(run)


for _variant in _ECHO_DOCS:
    _register_echo(_variant)


@_fault("echo-key-header-name", status=0)
def _echo_key_header_name(ex: Exchange) -> None:
    """Echoes the key in a response header NAME: ``X-Echo-<key>: 1``."""
    ex.keep_alive = True
    name = f"X-Echo-{ex.request.bearer or 'none'}"
    ex.upstream_answer(extra_headers=[(name, "1")], status=_echo_status(ex))


@_fault("echo-key-header-value", status=0)
def _echo_key_header_value(ex: Exchange) -> None:
    """Echoes Authorization and the key in response header values, a Set-Cookie among them."""
    ex.keep_alive = True
    key = ex.request.bearer
    echoed = [
        ("X-Echo-Authorization", ex.request.authorization),
        ("X-Echo-Key", key),
        ("Set-Cookie", f"gw_session={key}; Path=/; HttpOnly"),
    ]
    ex.upstream_answer(extra_headers=echoed, status=_echo_status(ex))


# --- more hostile gateways --


@_fault("http10-close-delimited")
def _http10_close_delimited(ex: Exchange) -> None:
    """Answers as HTTP/1.0 without Content-Length: the body ends when the connection closes."""
    upstream = ex.upstream
    head = head_bytes(upstream.status, upstream.end_to_end_headers(), version="HTTP/1.0")
    ex.send(head + upstream.body)


@_fault("conflicting-content-length")
def _conflicting_content_length(ex: Exchange) -> None:
    """Sends two Content-Length headers that disagree (the true one first, then a longer one)."""
    body = ex.upstream.body
    extra = [("Content-Length", str(len(body))), ("Content-Length", str(len(body) + 10))]
    ex.upstream_answer(extra_headers=extra, length=None)


@_fault("conflicting-content-type")
def _conflicting_content_type(ex: Exchange) -> None:
    """Sends the JSON answer with two Content-Type headers: application/json and text/html."""
    ex.keep_alive = True
    extra = [("Content-Type", _JSON), ("Content-Type", "text/html; charset=iso-8859-1")]
    ex.upstream_answer(extra_headers=extra, drop={"content-type"})


@_fault("html-content-type")
def _html_content_type(ex: Exchange) -> None:
    """Labels the upstream's JSON answer Content-Type: text/html."""
    ex.keep_alive = True
    ex.upstream_answer(extra_headers=[("Content-Type", "text/html")], drop={"content-type"})


@_fault("redirect-loop", forwards=False, status=307)
def _redirect_loop(ex: Exchange) -> None:
    """Redirects (307) every request to its own URL: a loop for any client that follows."""
    ex.keep_alive = True
    location = ex.proxy.origin + ex.request.target
    ex.respond(ex.integer("status"), [("Location", location)], b"")


@_fault("redirect-elsewhere", forwards=False, status=302, location="http://gateway.invalid/login")
def _redirect_elsewhere(ex: Exchange) -> None:
    """Redirects (302) to another host (``location``, default http://gateway.invalid/login)."""
    ex.keep_alive = True
    ex.respond(ex.integer("status"), [("Location", ex.text("location"))], b"")


@_fault("continue-storm", count=1000)
def _continue_storm(ex: Exchange) -> None:
    """Sends ``count`` (1000) informational ``100 Continue`` responses before the real answer."""
    ex.keep_alive = True
    ex.send(b"HTTP/1.1 100 Continue\r\n\r\n" * ex.integer("count"))
    ex.upstream_answer()


@_fault("reset-mid-body")
def _reset_mid_body(ex: Exchange) -> None:
    """Sends the headers and half the body, then resets the connection (TCP RST)."""
    upstream = ex.upstream
    headers = [*upstream.end_to_end_headers(), ("Content-Length", str(len(upstream.body)))]
    ex.send(head_bytes(upstream.status, headers) + upstream.body[: len(upstream.body) // 2])
    ex.pause(0.05)  # let the half reach the client before the reset discards the send queue
    ex.reset()


@_fault("invalid-utf8")
def _invalid_utf8(ex: Exchange) -> None:
    """Puts bytes that are not UTF-8 (0xff 0xfe, a lone continuation byte) in a JSON string."""
    ex.keep_alive = True
    body = ex.upstream_json()
    body["request_id"] = _PLACEHOLDER
    raw = compact(body).replace(_PLACEHOLDER.encode(), b"gw-\xff\xfe-\x80-id")
    ex.upstream_answer(body=raw)


@_fault("utf8-bom")
def _utf8_bom(ex: Exchange) -> None:
    """Prefixes the JSON body with a UTF-8 byte order mark (EF BB BF)."""
    ex.keep_alive = True
    ex.upstream_answer(body=b"\xef\xbb\xbf" + ex.upstream.body)


@_fault("utf16-json")
def _utf16_json(ex: Exchange) -> None:
    """Re-encodes the JSON body as UTF-16 (with BOM), labelled charset=utf-16."""
    ex.keep_alive = True
    body = ex.upstream.body.decode("utf-8", errors="replace").encode("utf-16")
    header = [("Content-Type", "application/json; charset=utf-16")]
    ex.upstream_answer(body=body, extra_headers=header, drop={"content-type"})


def _boxes_as(ex: Exchange, literal: Callable[[int, int], str]) -> bytes:
    """The upstream's JSON with box coordinate ``i`` (value ``v``) written as ``literal(i, v)``."""
    body = ex.upstream_json()
    output = body.get("output")
    if not isinstance(output, dict):
        output = body["output"] = {"check_pass": True}
    replacements: dict[str, str] = {}
    for name in ("face_bbox", "ext_bbox"):
        box = output.get(name)
        values = box if isinstance(box, list) and len(box) == 4 else [0, 0, 100, 100]
        output[name] = []
        for i, value in enumerate(values):
            token = f"{_PLACEHOLDER}{name}{i}"
            output[name].append(token)
            replacements[f'"{token}"'] = literal(i, value if isinstance(value, int) else 0)
    text = compact(body).decode()
    for token, raw in replacements.items():
        text = text.replace(token, raw)
    return text.encode()


@_fault("nan-literals")
def _nan_literals(ex: Exchange) -> None:
    """Writes the box coordinates as the non-JSON literals NaN, Infinity and -Infinity."""
    ex.keep_alive = True
    literals = ("NaN", "Infinity", "-Infinity", "NaN")
    ex.upstream_answer(body=_boxes_as(ex, lambda i, _v: literals[i]))


@_fault("huge-integers", digits=1000)
def _huge_integers(ex: Exchange) -> None:
    """Writes each box coordinate as an integer of ``digits`` (1,000) digits."""
    ex.keep_alive = True
    digits = ex.integer("digits")
    ex.upstream_answer(body=_boxes_as(ex, lambda i, _v: str(i + 1) + "0" * (digits - 1)))


@_fault("float-boxes")
def _float_boxes(ex: Exchange) -> None:
    """Writes the box coordinates as floats (210.0, 110.5, ...) instead of integers."""
    ex.keep_alive = True
    ex.upstream_answer(body=_boxes_as(ex, lambda i, v: f"{v}.{5 if i % 2 else 0}"))


@_fault("duplicate-keys")
def _duplicate_keys(ex: Exchange) -> None:
    """Repeats keys with other values: check_pass true then false, output twice, two request_ids."""
    ex.keep_alive = True
    body = ex.upstream_json()
    output = compact(body.get("output", {"check_pass": True}))
    usage = compact(body.get("usage", {"image_count": 1}))
    request_id = compact(str(body.get("request_id", "gw-dup")))
    flipped = b'{"check_pass":true,"check_pass":false}'
    raw = b'{"output":' + output + b',"usage":' + usage + b',"request_id":' + request_id
    raw += b',"request_id":"gw-duplicate","output":' + flipped + b"}"
    ex.upstream_answer(body=raw)


@_fault("same-request-id", request_id="gw-same-request-id")
def _same_request_id(ex: Exchange) -> None:
    """Replaces every answer's request_id with the same constant (``request_id``)."""
    ex.keep_alive = True
    body = ex.upstream_json()
    body["request_id"] = ex.text("request_id")
    ex.upstream_answer(body=compact(body))


@_fault("garbage-reply", garbage="SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n")
def _garbage_reply(ex: Exchange) -> None:
    """Answers with bytes that are not HTTP at all (an SSH banner and binary noise), then closes."""
    ex.send(ex.text("garbage").encode() + bytes(range(256)))


@_fault("bad-status-line", line="HTTP/1.1 2OO OK")
def _bad_status_line(ex: Exchange) -> None:
    """Starts the answer with a status line that is not HTTP (``HTTP/1.1 2OO OK``)."""
    upstream = ex.upstream
    headers = [*upstream.end_to_end_headers(), ("Content-Length", str(len(upstream.body)))]
    rest = head_bytes(200, headers).split(b"\r\n", 1)[1]
    ex.send(ex.text("line").encode() + b"\r\n" + rest + upstream.body)


@_fault("header-flood", count=5000)
def _header_flood(ex: Exchange) -> None:
    """Adds ``count`` (5,000) distinct headers to the upstream's answer."""
    flood = [(f"X-Flood-{i}", str(i)) for i in range(ex.integer("count"))]
    ex.upstream_answer(extra_headers=flood)


@_fault("huge-header-value", size=MiB)
def _huge_header_value(ex: Exchange) -> None:
    """Adds one header whose value is ``size`` (1 MiB) bytes long."""
    ex.upstream_answer(extra_headers=[("X-Huge", "h" * ex.integer("size"))])


@_fault("bad-chunk-size", size="-5")
def _bad_chunk_size(ex: Exchange) -> None:
    """Sends Transfer-Encoding: chunked with a chunk size that is negative (or ``size`` given)."""
    upstream = ex.upstream
    headers = [*upstream.end_to_end_headers(), ("Transfer-Encoding", "chunked")]
    chunk = ex.text("size").encode() + b"\r\n" + upstream.body + b"\r\n0\r\n\r\n"
    ex.send(head_bytes(upstream.status, [*headers, ("Connection", "close")]) + chunk)


@_fault("stall-then-200", stall=35.0)
def _stall_then_200(ex: Exchange) -> None:
    """Says nothing for ``stall`` (35) seconds, then sends the upstream's answer and closes."""
    ex.pause(ex.number("stall"))
    ex.upstream_answer()


@_fault("lying-deflate")
def _lying_deflate(ex: Exchange) -> None:
    """Claims Content-Encoding: deflate on the plain JSON body."""
    ex.upstream_answer(extra_headers=[("Content-Encoding", "deflate")])


@_fault("lying-br")
def _lying_br(ex: Exchange) -> None:
    """Claims Content-Encoding: br (Brotli) on the plain JSON body."""
    ex.upstream_answer(extra_headers=[("Content-Encoding", "br")])


@_fault("gzip-bomb", size=256 * MiB)
def _gzip_bomb_fault(ex: Exchange) -> None:
    """Answers 200 with a valid gzip body that inflates to ``size`` (256 MiB) of JSON."""
    ex.respond(
        200, [("Content-Type", _JSON), ("Content-Encoding", "gzip")], _gzip_bomb(ex.integer("size"))
    )


@_fault("odd-status", status=299)
def _odd_status(ex: Exchange) -> None:
    """Answers the upstream's body under an unusual status code (``status``: 299, 599, 600)."""
    ex.keep_alive = True
    ex.upstream_answer(status=ex.integer("status"))


@_fault("short-content-length")
def _short_content_length(ex: Exchange) -> None:
    """Declares half the body's length and sends it all: the rest pollutes the next answer."""
    ex.keep_alive = True
    ex.upstream_answer(length=len(ex.upstream.body) // 2)


@_fault("unknown-field-flood", count=4000)
def _unknown_field_flood(ex: Exchange) -> None:
    """Adds ``count`` (4,000) undocumented fields to the answer's output (or its top level)."""
    ex.keep_alive = True
    body = ex.upstream_json()
    target = body.get("output") if isinstance(body.get("output"), dict) else body
    for index in range(ex.integer("count")):
        target[f"flood_{index:06d}"] = index
    ex.upstream_answer(body=compact(body))


@_fault("extra-response")
def _extra_response(ex: Exchange) -> None:
    """Follows the true answer with a second, unrequested answer on the kept-alive connection."""
    ex.keep_alive = True
    ex.upstream_answer()
    stray = {"output": {"check_pass": False, "code": "InvalidFile.NoHuman"}, "request_id": "stray"}
    ex.json_answer(200, stray)


# --- the server ----------------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Server(socketserver.TCPServer):
    """A threading TCP server that knows its connections and threads, to end them on close."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, owner: FaultProxy) -> None:
        self.owner = owner
        self._lock = threading.Lock()
        self.connections: set[socket.socket] = set()
        self.workers: set[threading.Thread] = set()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._work,
            args=(request, client_address),
            name=f"fault-proxy-{self.server_address[1]}-conn",
            daemon=True,
        )
        with self._lock:
            if self.owner.stopping:
                self.shutdown_request(request)
                return
            self.connections.add(request)
            self.workers.add(thread)
        thread.start()

    def _work(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._lock:
                self.connections.discard(request)
                self.workers.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Connection errors are what most faults provoke; handle() ends those quietly. What
        # arrives here is a fault that failed, worth its traceback (headers are never logged).
        logger.error("fault proxy: a fault failed serving %s", client_address, exc_info=True)

    def end_connections(self) -> list[threading.Thread]:
        with self._lock:
            connections, workers = list(self.connections), list(self.workers)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        return workers


class _Handler(http.server.BaseHTTPRequestHandler):
    """Reads one request, then forwards it or hands it to the fault."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "fault-proxy"

    @property
    def proxy(self) -> FaultProxy:
        return cast(_Server, self.server).owner

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.proxy.socket_timeout)

    def handle(self) -> None:
        with contextlib.suppress(ConnectionError, TimeoutError, _Stopping, OSError):
            super().handle()
        self.close_connection = True

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # every method goes to the same dispatch
            return self._dispatch
        raise AttributeError(name)

    def _dispatch(self) -> None:
        request = ProxyRequest(
            self.command, self.path, tuple(self.headers.items()), self._read_body()
        )
        proxy = self.proxy
        if request.path != proxy.endpoint_path:
            proxy.note_other()
            self._forward_unchanged(request)
            return
        index, fault, options = proxy.admit(request)
        if fault is None:
            self._forward_unchanged(request)
            return
        exchange = Exchange(self, proxy, request, index, options)
        if fault.forwards:
            _ = exchange.upstream
        try:
            fault.run(exchange)
        finally:
            if exchange.closed or not exchange.keep_alive:
                self.close_connection = True

    def _forward_unchanged(self, request: ProxyRequest) -> None:
        upstream = self.proxy.forward(request)
        headers = [*upstream.end_to_end_headers(), ("Content-Length", str(len(upstream.body)))]
        if self.close_connection:
            headers.append(("Connection", "close"))
        body = b"" if request.method == "HEAD" else upstream.body
        self.connection.sendall(head_bytes(upstream.status, headers, reason=upstream.reason) + body)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            return self._read_chunked()
        declared = (self.headers.get("content-length") or "0").strip()
        length = int(declared) if declared.isdigit() else 0
        if length > MAX_REQUEST_BODY:
            self.close_connection = True
            return b""
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while total <= MAX_REQUEST_BODY:  # bounded by the size cap and by the socket timeout
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                break
            if size <= 0:
                break
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)
            total += size
        self.close_connection = True  # trailers are not read: do not reuse the connection
        return b"".join(chunks)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("fault proxy: %s", format % args)  # the request line only, never headers


# --- the proxy -----------------------------------------------------------------------------------


class FaultProxy:
    """A loopback HTTP proxy in front of ``upstream_base_url`` applying the fault ``mode``.

    ``base_url`` has the upstream's prefix (``http://127.0.0.1:PORT/api/v1``), so a client given
    it talks to the endpoint through the fault. Which endpoint requests get the fault:
    ``only_key`` (those whose ``Authorization: Bearer`` key is it), ``nth`` (these 1-based
    request numbers) and ``when`` (a predicate), all that are given; the rest pass unchanged.
    ``options`` are the mode's own (``FAULTS[mode].defaults`` lists them).
    """

    def __init__(
        self,
        upstream_base_url: str,
        mode: str = "passthrough",
        *,
        only_key: str | None = None,
        nth: int | Iterable[int] | None = None,
        when: Callable[[ProxyRequest], bool] | None = None,
        socket_timeout: float = SOCKET_TIMEOUT,
        upstream_timeout: float = UPSTREAM_TIMEOUT,
        **options: Any,
    ) -> None:
        parts = urlsplit(upstream_base_url)
        if parts.scheme != "http" or not parts.hostname or not _is_loopback(parts.hostname):
            raise ValueError(
                f"upstream {upstream_base_url!r}: the fault proxy only fronts http:// on loopback"
            )
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.endpoint_path = self.prefix + ENDPOINT_PATH
        self.only_key = only_key
        self.nth = frozenset([nth] if isinstance(nth, int) else nth) if nth is not None else None
        self.when = when
        self.socket_timeout = socket_timeout
        self.upstream_timeout = upstream_timeout
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._attempts: dict[str, int] = {}
        self.requests_seen = 0  # endpoint requests received
        self.faults_applied = 0  # endpoint requests answered with the fault
        self.other_requests = 0  # requests to other paths, forwarded unchanged
        self.upstream_calls = 0  # requests forwarded upstream (endpoint or not)
        self.fault, self.options = self._resolve(mode, options)
        if self.fault.name == "gzip-bomb":  # made before the first request, not while it waits
            _gzip_bomb(self.options["size"])
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "not started"
        return f"FaultProxy({self.fault.name!r}, {where})"

    @staticmethod
    def _resolve(mode: str, options: Mapping[str, Any]) -> tuple[Fault, dict[str, Any]]:
        if mode not in FAULTS:
            raise ValueError(f"unknown fault mode {mode!r}; known: {', '.join(sorted(FAULTS))}")
        fault = FAULTS[mode]
        unknown = sorted(set(options) - set(fault.defaults))
        if unknown:
            known = ", ".join(sorted(fault.defaults)) or "none"
            raise ValueError(
                f"mode {mode!r} has no option {', '.join(unknown)}; its options: {known}"
            )
        for name, value in options.items():
            default = fault.defaults[name]
            kinds = (int, float) if isinstance(default, float) else (type(default),)
            if isinstance(value, bool) or not isinstance(value, kinds):
                raise ValueError(f"mode {mode!r}: option {name} must be {type(default).__name__}")
        return fault, {**fault.defaults, **options}

    def set_mode(self, mode: str, **options: Any) -> None:
        """Switch to another fault for the requests still to come."""
        fault, merged = self._resolve(mode, options)
        if fault.name == "gzip-bomb":
            _gzip_bomb(merged["size"])
        with self._lock:
            self.fault, self.options = fault, merged

    # -- lifecycle --

    def start(self) -> FaultProxy:
        if self._server is not None:
            raise RuntimeError("the proxy is already started")
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fault-proxy-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop accepting, end every connection and wait for every thread (bounded)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stop.set()
        server.shutdown()
        server.server_close()
        workers = server.end_connections()
        deadline = time.monotonic() + JOIN_TIMEOUT
        for thread in [*workers, self._thread]:
            if thread is not None:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in workers if t.is_alive()]
        if alive:
            raise RuntimeError(f"fault proxy threads still running after close: {alive}")

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wait_stop(self, seconds: float) -> bool:
        """Wait up to ``seconds``; ``True`` when the proxy started closing meanwhile."""
        return self._stop.wait(max(0.0, seconds))

    # -- where --

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the proxy is not started")
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The API root, with the upstream's prefix, for ``FaceDetectClient(base_url=...)``."""
        return self.origin + self.prefix

    @property
    def url(self) -> str:
        """The endpoint URL through the proxy."""
        return self.origin + self.endpoint_path

    # -- bookkeeping --

    def admit(self, request: ProxyRequest) -> tuple[int, Fault | None, Mapping[str, Any]]:
        """Count an endpoint request; its number and the fault to apply (``None``: forward)."""
        with self._lock:
            self.requests_seen += 1
            index = self.requests_seen
            fault, options = self.fault, self.options
        selected = (
            (self.only_key is None or request.bearer == self.only_key)
            and (self.nth is None or index in self.nth)
            and (self.when is None or self.when(request))
        )
        if not selected:
            return index, None, options
        with self._lock:
            self.faults_applied += 1
        return index, fault, options

    def note_other(self) -> None:
        with self._lock:
            self.other_requests += 1

    def count_attempt(self, request: ProxyRequest) -> int:
        """How many times this same request (method, path, key, body) has come, this one included."""
        key = request.fingerprint()
        with self._lock:
            self._attempts[key] = self._attempts.get(key, 0) + 1
            return self._attempts[key]

    def forward(self, request: ProxyRequest) -> Upstream:
        """Send ``request`` upstream and read the whole answer (bounded in size and time)."""
        with self._lock:
            self.upstream_calls += 1
        connection = http.client.HTTPConnection(
            self.upstream_host, self.upstream_port, timeout=self.upstream_timeout
        )
        try:
            connection.putrequest(
                request.method, request.target, skip_host=True, skip_accept_encoding=True
            )
            for name, value in request.headers:
                if name.lower() not in _HOP_BY_HOP and name.lower() != "host":
                    connection.putheader(name, value)
            connection.putheader("Host", f"{self.upstream_host}:{self.upstream_port}")
            if request.body or request.method in ("POST", "PUT", "PATCH"):
                connection.putheader("Content-Length", str(len(request.body)))
            connection.putheader("Connection", "close")
            connection.endheaders(request.body or None)
            response = connection.getresponse()
            body = response.read(MAX_UPSTREAM_BODY)
            return Upstream(response.status, response.reason, tuple(response.getheaders()), body)
        except (OSError, http.client.HTTPException) as error:
            body = compact({"code": "ProxyUpstreamFailed", "message": type(error).__name__})
            return Upstream(502, "Bad Gateway", (("Content-Type", _JSON),), body)
        finally:
            connection.close()


@contextlib.contextmanager
def fault_proxy(upstream_base_url: str, mode: str, **kwargs: Any) -> Iterator[FaultProxy]:
    """``FaultProxy(...)`` as a context manager function, for ``ExitStack`` and fixtures."""
    with FaultProxy(upstream_base_url, mode, **kwargs) as proxy:
        yield proxy
