"""The stub server: ``FaceDetectFake`` over real HTTP on loopback.

respx exercises the client without a socket. The stub adds what only a socket has (keep-alive,
timeouts, partial reads, concurrency, latency, throttling, real image downloads), for the tests,
the benchmark and rehearsals of live mode, while answering exactly as the fake does: this module
only translates HTTP to ``FakeRequest`` and ``FakeResponse`` back. Every documented rule lives in
``fake.py``, the images in ``images.py`` (or the fake's offline catalogue, with ``catalog``).
It authenticates before it throttles, as the documented limit is counted on keyed requests.

Images: the same server serves ``images_dir`` (by default the images the package ships,
``fixtures/images`` in a checkout) under ``/images/`` (``GET``/``HEAD``), so one loopback port
carries both the endpoint and the images it downloads (``RunningServer.image_url("portrait.png")``).
Those files are judged by their pixels in every mode (read from the directory, never by the hash
catalogue, so the outcome never depends on the port), and the documented example image URLs get
their documented boxes in every mode, so a default live case never cries wolf against this stub.
Any other URL is the catalogue's (``catalog``) or downloaded; the downloader refuses any
non-loopback host unless ``allow_remote_images`` is set, before resolving or connecting. An
``images`` source given explicitly answers every URL itself.

Options: one frozen ``StubOptions`` (``StubServer`` and ``serve_in_thread`` both take it, and
keyword changes to it), checked when made, faults included. Faults on demand (``faults``,
``faults.py``) act on the endpoint's path only, never on the images: every request whose head
names that path is numbered as it arrives, before its body is read, so a request the stub then
refuses (oversized, bad framing) meets its fault too, as behind a gateway. A delay (and
``latency_ms``) waits on an event that stopping the stub sets: a stopped stub leaves no thread
asleep and no connection open.

Models: ``contracts`` is one model's contracts or several (``[emo, liveportrait]``); one stub
serves them all, each at its own path. A request goes to the fake of the model its body names
(each profile's request ``model`` pointer); a body that names none of the models served at that
path goes to the first of them, which answers as the contracts document (a model it does not
know: its ``model-unknown`` rejection). Readings go to the models whose questions name them, a
failure shape to the models that have it; faults act on every endpoint path, answered as the
first model's. ``fake`` is the first model's fake, ``fakes`` every model's by name.

Keys: the accepted keys come from ``api_keys`` or the environment variable ``key_env``. Nothing
here prints or logs them: the access log holds the redacted request line, never headers.

Hostile clients: a request's framing is either unambiguous or refused (RFC 9112 sections 5, 6.1
and 6.3: a 400 and the connection closed, so no request hides behind a body); a request must
arrive whole within ``socket_timeout`` (not only each read: a trickle of bytes cannot hold a
thread); a download stops at ``image_deadline`` or when the client has gone; and whatever a client
sent is escaped in the log (``inert.log``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import io
import ipaddress
import logging
import math
import mimetypes
import os
import re
import select
import socket
import socketserver
import struct
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, assert_never, cast
from urllib.parse import unquote, urlsplit

import httpx

from .. import __version__
from ..contracts.fixtures import IMAGE_DIR
from ..contracts.loader import Contracts, load_contracts
from ..core import inert
from ..core.interaction import parse_json
from ..core.redaction import Redactor
from .fake import (
    CatalogImages,
    FaceDetectFake,
    FakeRequest,
    FakeResponse,
    Image,
    ImageSource,
    ImageUnavailable,
    documented_image_urls,
)
from .faults import Fault, FaultPlan, Turn, fault_answer, make_plan
from .images import DOWNLOAD_DEADLINE, DownloadingImages, abandoned_when

__all__ = [
    "DEFAULT_PREFIX",
    "IMAGES_PATH",
    "MAX_BODY_BYTES",
    "ResponseHook",
    "RunningServer",
    "StubOptions",
    "StubServer",
    "named_contracts",
    "serve_in_thread",
]

DEFAULT_PREFIX = "/api/v1"
IMAGES_PATH = "/images/"
MAX_BODY_BYTES = 1024 * 1024  # a face-detect request is a few hundred bytes
SOCKET_TIMEOUT = 10.0
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
# An oversized body is read and thrown away up to this much, so the client can read the 400
# instead of meeting a reset connection; beyond it the connection is closed at once.
_DRAIN_LIMIT = 64 * 1024 * 1024
_HOP_BY_HOP = frozenset({"content-length", "connection", "transfer-encoding", "server", "date"})
# A header line as RFC 9112 section 5 has it: a token, a colon at once (no whitespace before it,
# section 5.1), a value without CR or NUL (RFC 9110 section 5.5). A line starting with whitespace
# is obsolete line folding (section 5.2), refused.
_FIELD_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\r\x00]*")
# After refusing a request, what the client already sent is read and dropped for so long (and up
# to so much) before closing: closed with unread bytes, the socket would reset, and the client
# could lose the 400 (the "lingering close" of RFC 9112 section 9.6).
_LINGER_SECONDS = 1.0
_LINGER_BYTES = 256 * 1024

ResponseHook = Callable[[FakeRequest, FakeResponse], FakeResponse]


def named_contracts(candidates: Sequence[Contracts], body: bytes) -> Contracts | None:
    """Which of ``candidates`` a request body names (its profile's request ``model`` pointer);
    ``None`` for a body that is not JSON, names no model, or one none of them has."""
    try:
        document = parse_json(body)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    for contracts in candidates:
        named = contracts.profile.request.model.get(document)
        if isinstance(named, str) and named in contracts.models:
            return contracts
    return None


_FAULTS_OPTION = "StubOptions faults"

logger = logging.getLogger(__name__)


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
    """The request's framing or body is refused: one of the profile's rejections."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


class _CodingUnsupported(Exception):
    """A transfer coding before the final ``chunked`` that the stub cannot decode (501)."""


class _RequestReader(io.RawIOBase):
    """The client's socket, each read bounded by ``socket_timeout`` and, while a request is being
    read, by what is left of that request's deadline (``until``)."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        super().__init__()
        self._sock = sock
        self._timeout = timeout
        self.until: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        timeout = self._timeout
        if self.until is not None:
            timeout = min(timeout, self.until - time.monotonic())
            if timeout <= 0:
                raise TimeoutError("the request did not arrive whole within socket_timeout")
        self._sock.settimeout(timeout)
        try:
            return self._sock.recv_into(buffer)
        finally:
            self._sock.settimeout(self._timeout)  # writes keep the plain per-operation timeout


class _RequestStream(io.BufferedReader):
    """Buffered reads of the client's socket that keep the raw lines of the request's head
    (``head``, while it is a list): ``http.client`` parses headers leniently (it splits at a bare
    CR and drops lines it cannot read), so framing is judged on the bytes themselves."""

    def __init__(self, raw: _RequestReader) -> None:
        super().__init__(raw)
        self.head: list[bytes] | None = None

    def readline(self, size: int | None = -1) -> bytes:
        line = super().readline(size)
        if self.head is not None:
            self.head.append(line)
        return line


@dataclass(frozen=True)
class StubOptions:
    """Everything a stub is told, once: ``StubServer(address, options)`` and
    ``serve_in_thread(options)`` take it (or keyword changes to the defaults:
    ``serve_in_thread(api_keys=[...], faults=["throttle:first=2"])``).

    ``api_keys`` (else the variable ``key_env``, else the profile's) are the keys accepted;
    ``prefix`` the gateway prefix before the endpoint's path; ``latency_ms`` a delay before every
    answer; ``qps`` a rolling rate limit and ``throttle_first`` a number of first requests
    answered the documented 429; ``failure_shape`` the profile's shape of a failed portrait
    check (``None``: the fake's, from ``readings`` or the double's default reading);
    ``response_hook`` rewrites each answer. Images: ``images_dir`` is served under
    ``/images/`` (``None``: the images the package ships) and judged by its pixels; ``images``
    (an ``ImageSource`` answering every URL) or ``catalog`` (the fake's offline catalogue for
    other URLs) instead of downloading (loopback only unless ``allow_remote_images``, each
    download within ``image_deadline`` s). ``faults``: ``Fault`` objects or their one-line specs
    (docs/faults.md), in order, checked when the options are made (``FaultSpecError`` or
    ``TypeError`` naming ``StubOptions faults[i]``). ``readings``: question -> reading, given
    to the fake (``FaceDetectFake(readings=...)``).
    ``socket_timeout`` bounds a request's arrival, ``max_body_bytes`` its body.
    ``contracts``: one model's contracts, or several served at once (module docstring);
    ``models()`` gives them as a tuple (the packaged face-detect ones when none is given).
    """

    api_keys: Iterable[str] | None = None
    key_env: str | None = None
    prefix: str = DEFAULT_PREFIX
    latency_ms: float = 0
    qps: float | None = None
    failure_shape: str | None = None
    response_hook: ResponseHook | None = None
    throttle_first: int = 0
    allow_remote_images: bool = False
    images: ImageSource | None = None
    images_dir: Path | str | None = None
    catalog: bool = False
    socket_timeout: float = SOCKET_TIMEOUT
    max_body_bytes: int = MAX_BODY_BYTES
    image_deadline: float = DOWNLOAD_DEADLINE
    faults: Sequence[Fault | str] = ()
    readings: Mapping[str, str] | None = None
    contracts: Contracts | Sequence[Contracts] | None = None

    def __post_init__(self) -> None:
        if self.contracts is not None and not isinstance(self.contracts, Contracts):
            several = tuple(self.contracts)
            if not several or not all(isinstance(c, Contracts) for c in several):
                raise TypeError(
                    "StubOptions contracts: give Contracts, or a non-empty sequence of them"
                )
            object.__setattr__(self, "contracts", several[0] if len(several) == 1 else several)
        # Any iterable of keys or faults is taken (a generator once), kept as a tuple.
        if self.api_keys is not None and not isinstance(self.api_keys, tuple):
            object.__setattr__(self, "api_keys", tuple(self.api_keys))
        if isinstance(self.faults, str):
            object.__setattr__(self, "faults", (self.faults,))
        elif isinstance(self.faults, Iterable) and not isinstance(self.faults, tuple):
            object.__setattr__(self, "faults", tuple(self.faults))
        if self.images is not None and self.catalog:
            raise ValueError("give images or catalog=True, not both")
        if not (self.latency_ms >= 0 and math.isfinite(self.latency_ms)):
            raise ValueError(f"latency_ms must be a number >= 0, not {self.latency_ms!r}")
        if self.qps is not None and not (self.qps > 0 and math.isfinite(self.qps)):
            raise ValueError(f"qps must be > 0 (or None for no limit), not {self.qps!r}")
        if self.throttle_first < 0:
            raise ValueError(f"throttle_first must be >= 0, not {self.throttle_first!r}")
        if not (self.socket_timeout > 0 and self.max_body_bytes > 0):
            raise ValueError("socket_timeout and max_body_bytes must be > 0")
        if not (self.image_deadline > 0 and math.isfinite(self.image_deadline)):
            raise ValueError(
                f"image_deadline must be a number of seconds > 0, not {self.image_deadline!r}"
            )
        if self.images_dir is not None and not Path(self.images_dir).is_dir():
            raise ValueError(f"images_dir {str(self.images_dir)!r} is not a directory")
        _normalise_prefix(self.prefix)
        self.fault_plan(self.models()[0])  # a bad fault refused now, named

    def models(self) -> tuple[Contracts, ...]:
        """The contracts of every model served, in order (the first answers faults)."""
        if self.contracts is None:
            return (load_contracts(),)
        if isinstance(self.contracts, Contracts):
            return (self.contracts,)
        return tuple(self.contracts)

    def fault_plan(self, contracts: Contracts) -> FaultPlan:
        """A new ``FaultPlan`` of ``faults`` (its count from 0), checked against ``contracts``."""
        return make_plan(self.faults, contracts, name=_FAULTS_OPTION)

    def changed(self, **changes: Any) -> StubOptions:
        """These options with ``changes``; ``TypeError`` naming an option that does not exist."""
        names = {option.name for option in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise TypeError(
                f"no stub option {', '.join(map(repr, unknown))}; the options are "
                f"StubOptions' fields: {', '.join(sorted(names))}"
            )
        return dataclasses.replace(self, **changes) if changes else self


class StubServer(http.server.ThreadingHTTPServer):
    """A threaded HTTP server answering the endpoint with ``FaceDetectFake``.

    ``StubServer(address, options)`` or ``StubServer(address, **changes)`` (``StubOptions``).
    ``requests_served`` counts every request on the endpoint path; ``throttled`` those the
    ``qps``/``throttle_first`` knobs answered 429 without asking the fake; ``faulted`` those a
    fault acted on (``fake.requests`` counts what reached the fake, ``fake.billed`` what it
    billed).
    """

    daemon_threads = True
    request_queue_size = 128  # 50 clients connecting at once must not meet a full backlog

    def __init__(
        self, address: tuple[str, int], options: StubOptions | None = None, /, **changes: Any
    ) -> None:
        options = (options or StubOptions()).changed(**changes)
        self.options = options
        models = options.models()
        contracts = models[0]
        shapes = [s for c in models for s in c.profile.failure_shapes]
        if options.failure_shape is not None and options.failure_shape not in shapes:
            raise ValueError(
                f"failure_shape must be one of {list(dict.fromkeys(shapes))}, not "
                f"{options.failure_shape!r}"
            )
        _check_readings(options.readings, models)
        self.fault_plan = options.fault_plan(contracts)
        self.prefix = _normalise_prefix(options.prefix)
        # Set before binding: server_close (also called when binding fails) reads them.
        self._lock = threading.Lock()
        self._stopped = threading.Event()  # set by server_close: wakes every delayed answer
        self._connections: set[socket.socket] = set()
        self._owned: list[DownloadingImages] = []
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        keys = _accepted_keys(options.api_keys, options.key_env or contracts.profile.api_key_env)
        self.key_count = len(keys)
        self.redactor = Redactor(keys)  # for the log: every accepted key, never shown
        images_dir = IMAGE_DIR if options.images_dir is None else Path(options.images_dir)
        self.images_dir = images_dir.resolve()
        # Every model's fake, by model name; by path, the fakes served there (first chosen first).
        self.fakes: dict[str, FaceDetectFake] = {}
        self.paths: dict[str, list[FaceDetectFake]] = {}
        for model in models:
            fake = FaceDetectFake(
                api_keys=keys,
                images=self._image_source(options, model),
                failure_shape=(
                    options.failure_shape
                    if options.failure_shape in model.profile.failure_shapes
                    else None
                ),
                contracts=model,
                readings=_readings_of(options.readings, model, several=len(models) > 1),
            )
            self.fakes.setdefault(model.profile.model, fake)
            self.paths.setdefault(self.prefix + model.profile.path, []).append(fake)
        self.fake = next(iter(self.fakes.values()))
        self.endpoint_path = self.prefix + contracts.profile.path
        self.latency = options.latency_ms / 1000
        self.response_hook = options.response_hook
        self.socket_timeout = options.socket_timeout
        self.max_body_bytes = options.max_body_bytes
        self._window = _RateWindow(options.qps) if options.qps is not None else None
        self._throttle_left = options.throttle_first
        self.requests_served = 0
        self.throttled = 0

    def fake_for(self, path: str, body: bytes) -> FaceDetectFake | None:
        """The fake answering a request at ``path`` with ``body``: the one whose model the body
        names (its profile's request ``model`` pointer), else the first served at that path;
        ``None`` when no model is served there."""
        served = self.paths.get(path)
        if not served:
            return None
        if len(served) > 1:
            contracts = named_contracts([fake.contracts for fake in served], body)
            for fake in served:
                if fake.contracts is contracts:
                    return fake
        return served[0]  # not JSON, no model, an unknown one: the first refuses it as documented

    def _image_source(self, options: StubOptions, contracts: Contracts) -> ImageSource:
        """The fake's images: the one given, else the stub's own files by their pixels, the
        documented examples by their documented boxes, and the rest from the catalogue or
        downloaded."""
        if options.images is not None:
            return options.images
        catalog = CatalogImages(contracts)
        rest: ImageSource = catalog
        if not options.catalog:
            rest = self._own(
                DownloadingImages(
                    allow_remote=options.allow_remote_images,
                    deadline=options.image_deadline,
                    contracts=contracts,
                )
            )
        # The stub's own files, read from the directory (no request to itself): what a download
        # of them would see, whatever host name or port the URL carries.
        pixels = self._own(
            DownloadingImages(
                allow_remote=True,
                deadline=options.image_deadline,
                contracts=contracts,
                transport=httpx.MockTransport(self._file_answer),
            )
        )
        documented: dict[str, Image] = {}
        for url in documented_image_urls(contracts):  # as the docs show them, in every mode
            with contextlib.suppress(ImageUnavailable):  # a documented refusal: asked as any
                documented[url] = catalog.fetch(url)
        return _StubImages(documented, self.is_own_image, pixels, rest)

    def _own(self, images: DownloadingImages) -> DownloadingImages:
        self._owned.append(images)  # closed with the server
        return images

    def _file_answer(self, request: httpx.Request) -> httpx.Response:
        target = _image_file(self.images_dir, request.url.path)
        if target is None:
            return httpx.Response(404)
        return httpx.Response(200, content=target.read_bytes())

    def is_own_image(self, url: str) -> bool:
        """Whether ``url`` names a file this stub serves: its images path on its port, on a
        host that reaches this socket (``reaches_me``)."""
        try:
            parts = urlsplit(url)
            host, port = (parts.hostname or "").lower(), parts.port
        except ValueError:
            return False
        return (
            parts.scheme.lower() == "http"
            and port == self.server_port
            and self.reaches_me(host)
            and parts.path.startswith(IMAGES_PATH)
        )

    def reaches_me(self, host: str) -> bool:
        """Whether a URL's ``host`` names the address this stub is bound to: that address
        itself (``::1`` however written), ``localhost`` when it is a loopback one, and any
        loopback address when bound to every address (``0.0.0.0``, ``::``). ``127.0.0.2`` is
        not ``127.0.0.1``: a stub bound to the one is not listening on the other."""
        bound = _address(self.server_name)
        if bound is None:  # bound to a name that is no address: that name only
            return host.strip("[]").lower() == self.server_name.lower()
        if host.strip("[]").lower() == "localhost":
            return bound.is_loopback or bound.is_unspecified
        named = _address(host)
        if named is None:
            return False
        if bound.is_unspecified:
            return named.is_loopback and (bound.version == 6 or named.version == 4)
        return named == bound

    def __repr__(self) -> str:
        return f"StubServer({self.base_url!r}, keys={self.key_count})"

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host up (socket.getfqdn); a stub must not touch DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    @property
    def origin(self) -> str:
        """``scheme://host:port``, for clients that append the API prefix themselves."""
        host = f"[{self.server_name}]" if ":" in self.server_name else self.server_name
        return f"http://{host}:{self.server_port}"

    @property
    def base_url(self) -> str:
        """The API root to give the client (``http://127.0.0.1:PORT/api/v1``)."""
        return self.origin + self.prefix

    @property
    def images_url(self) -> str:
        """Where ``images_dir`` is served (``http://127.0.0.1:PORT/images``)."""
        return self.origin + IMAGES_PATH.rstrip("/")

    @property
    def faulted(self) -> int:
        """Endpoint requests a fault (a delay included) acted on."""
        return self.fault_plan.hit

    def wait(self, seconds: float) -> bool:
        """Wait ``seconds`` (a delay, the latency): ``True`` when they passed, ``False`` when the
        stub was stopped first (the answer is then not sent)."""
        return not self._stopped.wait(seconds)

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
        """The documented throttling answer (the profile's stub code), with ``Retry-After``."""
        return self.fake.reject("throttled", headers={"retry-after": str(retry_after)})

    def redact(self, text: str) -> str:
        return self.redactor.text(text)

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
        """Close the listening socket, every open connection and the downloader it made, and
        wake every answer waiting out a delay (it ends without an answer)."""
        self._stopped.set()
        super().server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for images in self._owned:
            images.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; a vanished client is routine, not an error.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            logger.debug("connection from %s ended early", client_address[0])
            return
        logger.error(
            "error while serving %s:\n%s", client_address[0], self.redact(_traceback_text())
        )


def _traceback_text() -> str:
    """The current exception's traceback for the log: the frames (our code) as they are, the
    message (which may quote what a client sent) escaped onto one line."""
    error = sys.exc_info()[1]
    if error is None:
        return ""
    frames = "Traceback (most recent call last):\n" + "".join(
        traceback.format_tb(error.__traceback__)
    )
    return f"{frames}{inert.log(f'{type(error).__name__}: {error}')}"


class _StubImages:
    """The stub's ``ImageSource``: the model's documented images first (``documented_image_urls``:
    as documented), then the stub's own files (their pixels), then ``rest`` (the catalogue or the
    downloader)."""

    def __init__(
        self,
        documented: Mapping[str, Image],
        own: Callable[[str], bool],
        pixels: ImageSource,
        rest: ImageSource,
    ) -> None:
        self._documented = dict(documented)
        self._own = own
        self._pixels = pixels
        self.rest = rest

    def fetch(self, url: str) -> Image:
        documented = self._documented.get(url)
        if documented is not None:
            return documented
        return (self._pixels if self._own(url) else self.rest).fetch(url)


def _check_readings(readings: Mapping[str, str] | None, models: Sequence[Contracts]) -> None:
    """Each reading names a question of at least one model served, and a reading of it there;
    ``ValueError`` naming the reading and the questions otherwise (one model: the fake's own
    check says it)."""
    if len(models) < 2:
        return
    for question, reading in (readings or {}).items():
        having = [m for m in models if question in m.questions]
        if not having:
            known = sorted({q for m in models for q in m.questions})
            raise ValueError(
                f"readings: no open question {question!r} (reading {reading!r}) in any model "
                f"served; questions: {known}"
            )
        valid = sorted({r.id for m in having for r in m.questions[question].playable})
        if reading not in valid:
            raise ValueError(
                f"readings: question {question!r} has no reading {reading!r}; readings: {valid}"
            )


def _readings_of(
    readings: Mapping[str, str] | None, contracts: Contracts, *, several: bool
) -> dict[str, str]:
    """The readings that apply to ``contracts``' model: with several models served, those whose
    question its questions name with that reading; with one, all (the fake names a wrong one)."""
    if not several:
        return dict(readings or {})
    questions = contracts.questions
    return {
        question: reading
        for question, reading in (readings or {}).items()
        if question in questions and reading in {r.id for r in questions[question].playable}
    }


def _image_file(root: Path, path: str) -> Path | None:
    """The file of ``root`` that the URL path ``path`` (under ``/images/``) names, if any: never
    one outside ``root``."""
    if not path.startswith(IMAGES_PATH):
        return None
    try:
        target = (root / unquote(path[len(IMAGES_PATH) :])).resolve()
        found = target.is_relative_to(root) and target.is_file()
    except (OSError, ValueError):  # a NUL byte or a name the filesystem refuses
        found = False
    return target if found else None


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
        self.rfile.close()  # the plain reader setup made: ours bounds each request as a whole
        self._reader = _RequestReader(self.connection, self.stub.socket_timeout)
        self.rfile = self._stream = _RequestStream(self._reader)
        self._linger = False

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError, _ClientGone):
            self.close_connection = True

    def handle_one_request(self) -> None:
        # The whole request (line, headers, body) within socket_timeout of waiting for it: a
        # client dripping a byte now and then would otherwise hold this thread for ever.
        self._reader.until = time.monotonic() + self.stub.socket_timeout
        self._stream.head = []
        try:
            super().handle_one_request()
        finally:
            self._reader.until = None
            self._stream.head = None

    def finish(self) -> None:
        super().finish()
        if self._linger:
            _linger(self.connection)

    def _client_gone(self) -> bool:
        """The client closed its side (or reset it): nobody will read this answer."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            peeked: bytes = self.connection.recv(1, socket.MSG_PEEK)
            return peeked == b""
        except (OSError, ValueError):
            return True

    def do_POST(self) -> None:
        self._dispatch()

    def __getattr__(self, name: str) -> Any:
        # http.server looks up do_<METHOD>; every method goes to the same dispatch, so the fake
        # answers GET, PUT or BREW on the endpoint with its documented "not supported" error.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def _dispatch(self) -> None:
        stub = self.stub
        path = urlsplit(self.path).path
        endpoint = path in stub.paths
        # Numbered as it arrives, before its body is read: a fault comes before everything, so
        # a request the stub then refuses meets it too, as a gateway meets every request.
        turn = stub.fault_plan.next_turn() if endpoint and stub.fault_plan else None
        refusal: FakeResponse | None = None
        fake = stub.paths[path][0] if endpoint else stub.fake
        try:
            body = self._read_body()
        except _BodyRejected as rejected:
            refusal = fake.reject(rejected.rule)
        except _CodingUnsupported:
            refusal = self._status_error(HTTPStatus.NOT_IMPLEMENTED)  # RFC 9112 section 6.1
        if refusal is not None:
            # The framing or body is refused: whatever answers, the connection then closes
            # (_send(close=True), http.server's rule), after a lingering read.
            self._linger = True
            if turn is not None and self._fault_ends(turn, close=True):
                return
            if endpoint:
                stub.admit(throttle=False)
            self._send(refusal, close=True, cut=turn is not None and turn.cut)
        elif endpoint:
            self._endpoint(body, turn, stub.fake_for(path, body) or fake)
        elif path.startswith(IMAGES_PATH):
            self._image(path)
        else:
            self._not_found()

    def _fault_ends(self, turn: Turn, *, close: bool = False) -> bool:
        """Carry out ``turn``: its delay, then a fault that ends the exchange on its own (an
        answer of its own, a dropped or reset connection). ``True`` when the exchange is over;
        ``False`` when the normal answer follows (no fault, or ``truncate``, which cuts it)."""
        stub = self.stub
        if turn.delay and not stub.wait(turn.delay):
            self._abort(reset=False)  # the stub stopped during the delay: no answer
            return True
        fault = turn.fault
        if fault is None:
            return False
        match fault.kind:
            case "truncate":  # acts on the normal answer (turn.cut): it goes out cut short
                return False
            case "throttle" | "error" | "gateway":
                stub.admit(throttle=False)
                self._send(fault_answer(fault, stub.fake), close=close)
            case "drop" | "reset":
                stub.admit(throttle=False)
                self._abort(reset=fault.kind == "reset")
            case "delay":  # delays add up in Turn.delay; a Turn's fault is never one
                raise AssertionError(f"a Turn's fault is never a delay: {fault!r}")
            case _:
                assert_never(fault.kind)
        return True

    def _endpoint(self, body: bytes, turn: Turn | None, fake: FaceDetectFake) -> None:
        stub = self.stub
        if turn is not None and self._fault_ends(turn):
            return
        request = FakeRequest(self.command, dict(self.headers.items()), body)
        # Authenticated first: the documented limit is counted on keyed requests, so a request
        # without an accepted key is a 401 however fast it comes.
        refused = fake.authenticate(request)
        retry_after = stub.admit(throttle=refused is None)
        if stub.latency and not stub.wait(stub.latency):
            self._abort(reset=False)  # the stub stopped meanwhile: no answer
            return
        try:
            if retry_after is not None:
                response = stub.throttle_response(retry_after)
            else:
                with abandoned_when(self._client_gone):  # a download stops when nobody waits
                    response = fake(request)
            if stub.response_hook is not None:
                response = stub.response_hook(request, response)
        except Exception:
            logger.error("the fake or response_hook failed:\n%s", stub.redact(_traceback_text()))
            response = fake.reject("server-failed")
        self._send(response, cut=turn is not None and turn.cut)

    def _image(self, path: str) -> None:
        target = _image_file(self.stub.images_dir, path)
        if self.command not in ("GET", "HEAD") or target is None:
            self._not_found()
            return
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self._send(FakeResponse(200, {"content-type": content_type}, target.read_bytes()))

    def _not_found(self) -> None:
        paths = " and ".join(self.stub.paths)
        served = f"{paths} (POST) and {IMAGES_PATH}<file> (GET)"
        message = f"Nothing here; this stub serves {served}."
        self._send(self.stub.fake.error(404, "NotFound", message))

    # -- reading -----------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        head, self._stream.head = self._stream.head or [], None
        if not _head_is_well_formed(head):
            raise _BodyRejected("request-malformed")
        lengths = self.headers.get_all("content-length") or []
        encodings = self.headers.get_all("transfer-encoding")
        if encodings is not None:
            # RFC 9112 section 6.1: with Content-Length too, or in HTTP/1.0, the framing is
            # ambiguous; section 6.3: unless chunked is the final coding (and only once), the
            # length cannot be known. Each is a 400, and the connection closes.
            codings = [c.strip().lower() for value in encodings for c in value.split(",")]
            codings = [c for c in codings if c]  # empty list elements are allowed (RFC 9110 5.6.1)
            if (
                lengths
                or self.request_version == "HTTP/1.0"
                or codings[-1:] != ["chunked"]
                or codings.count("chunked") > 1
            ):
                raise _BodyRejected("request-malformed")
            if len(codings) > 1:
                raise _CodingUnsupported
            return self._read_chunked()
        if not lengths:
            return b""
        declared = lengths[0].strip()
        # ASCII digits only ('²'.isdigit() is true), and every copy of the header agreeing.
        if (
            not declared
            or not set(declared) <= _DIGITS
            or any(v.strip() != declared for v in lengths)
        ):
            self.close_connection = True  # framing unknown: the connection cannot be reused
            raise _BodyRejected("request-malformed")
        length = int(declared)
        if length > self.stub.max_body_bytes:
            self._discard(length)
            raise _BodyRejected("body-invalid")
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
        limit = self.stub.max_body_bytes
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                raise _ClientGone
            digits = line.split(b";", 1)[0].strip().decode("latin-1")
            # Hex digits only: int(..., 16) also takes '-1', '+1' and '0x1', which are no size.
            if not digits or not set(digits) <= _HEX or len(digits) > 16:
                self.close_connection = True
                raise _BodyRejected("request-malformed")
            size = int(digits, 16)
            if size == 0:
                break
            total += size
            if total > limit:  # over the cap: refuse at once, nothing more is buffered
                self.close_connection = True
                raise _BodyRejected("body-invalid")
            chunks.append(self._read_exact(size + 2)[:-2])  # each chunk ends with CRLF
        for _ in range(64):  # trailers, a bounded number of them
            if self.rfile.readline(1024) in (b"\r\n", b"\n", b""):
                break
        return b"".join(chunks)

    # -- writing -----------------------------------------------------------------------------

    def _send(self, response: FakeResponse, *, close: bool = False, cut: bool = False) -> None:
        """Send ``response``; ``cut``: only the first half of its body (its Content-Length
        still the whole), then close, as a connection broken mid-answer."""
        self.send_response(response.status)
        for name, value in response.headers.items():
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if close or self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body[: len(response.body) // 2] if cut else response.body)
        if cut:
            self.close_connection = True

    def _abort(self, *, reset: bool) -> None:
        """End the connection without an answer: closed (the client reads end of file), or
        reset (``SO_LINGER`` 0: the client's next read fails with "connection reset")."""
        self.close_connection = True
        if reset:
            with contextlib.suppress(OSError):
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors http.server detects (bad request line, huge headers): JSON as well."""
        status = HTTPStatus(code)
        # An unparseable request line leaves http.server at HTTP/0.9 (no status line, no
        # headers); answer such garbage as HTTP/1.1 so the client sees the JSON error.
        self.request_version = self.protocol_version
        if code == 400:
            self._send(self.stub.fake.reject("request-malformed"), close=True)
            return
        self._send(self._status_error(status), close=True)

    def _status_error(self, status: HTTPStatus) -> FakeResponse:
        """Not the endpoint's answer (the request never reached it): the HTTP status, as JSON."""
        error_code, text = status.phrase.replace(" ", ""), status.phrase + "."
        return self.stub.fake.error(status.value, error_code, text)

    def log_message(self, format: str, *args: Any) -> None:
        # The request line only (never headers), with every accepted key redacted from it, and
        # each argument (the request line, an error's repr: what the client sent) escaped so no
        # control byte reaches a terminal or forges a line (http.server's own escaping, which
        # this override replaces).
        escaped = tuple(inert.log(self.stub.redact(str(arg))) for arg in args)
        logger.info("%s %s", self.address_string(), format % escaped)


def _head_is_well_formed(head: list[bytes]) -> bool:
    """The raw head (request line first) has only field lines RFC 9112 section 5 allows."""
    for line in head[1:]:
        if line in (b"\r\n", b"\n", b""):
            break
        content = line[:-2] if line.endswith(b"\r\n") else line.rstrip(b"\n")
        if not _FIELD_LINE.fullmatch(content):
            return False
    return True


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``host`` (brackets allowed) as an IP address, or ``None`` for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _linger(connection: socket.socket) -> None:
    """Half-close, then read and drop what the client already sent, bounded in time and bytes."""
    until, left = time.monotonic() + _LINGER_SECONDS, _LINGER_BYTES
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_WR)
        while left > 0 and (wait := until - time.monotonic()) > 0:
            connection.settimeout(wait)
            data = connection.recv(min(left, 65536))
            if not data:
                break
            left -= len(data)


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
        return self.server.origin + self.server.endpoint_path

    @property
    def fake(self) -> FaceDetectFake:
        """The first model's fake."""
        return self.server.fake

    @property
    def fakes(self) -> Mapping[str, FaceDetectFake]:
        """Every model's fake, by model name."""
        return self.server.fakes

    def url_of(self, model: str) -> str:
        """The endpoint URL of ``model`` (its own path); ``KeyError`` for a model not served."""
        path = self.server.fakes[model].contracts.profile.path
        return self.server.origin + self.server.prefix + path

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``: for clients that append ``/api/v1`` themselves."""
        return self.server.origin

    @property
    def images_url(self) -> str:
        return self.server.images_url

    def image_url(self, name: str) -> str:
        """The URL of ``images_dir/name`` on this server."""
        return f"{self.server.images_url}/{name}"

    @property
    def requests_served(self) -> int:
        return self.server.requests_served

    @property
    def throttled(self) -> int:
        return self.server.throttled

    @property
    def faulted(self) -> int:
        return self.server.faulted


@contextlib.contextmanager
def serve_in_thread(
    options: StubOptions | None = None, /, **changes: Any
) -> Iterator[RunningServer]:
    """Start a stub on 127.0.0.1 and a free port in a background thread; stop it on exit.

    ``options`` (``StubOptions``) and/or keyword changes to them, as ``StubServer`` takes.
    ``api_keys`` given explicitly overrides ``key_env``.
    """
    server = StubServer(("127.0.0.1", 0), options, **changes)
    thread = threading.Thread(
        target=server.serve_forever,
        # A stop waits for the loop's next poll: at 10 ms, a test's stub stops at once.
        kwargs={"poll_interval": 0.01},
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
