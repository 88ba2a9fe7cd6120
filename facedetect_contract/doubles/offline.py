"""Mounting the fake and the fixtures on respx, so the client runs offline unchanged; and the
fake exchanged with in-process, for the properties whose subject is the endpoint, not the client.

``mount_fake`` routes the endpoint to ``FaceDetectFake``; ``mock_endpoint`` does it for every
httpx request of a process, on any host, and leaves every other request alone (a double that
makes up answers turns a bug into a green test); ``mount_replay`` serves recorded
interactions and fails loudly, saying which fixture came closest and where it differed, when a
request matches none. ``replay_key`` is the one definition of "the same request": replay matches
on it, and live mode records one fixture per key.

Faults (``faults.py``) are carried out here as a real connection would show them to httpx: a
dropped connection raises ``httpx.RemoteProtocolError`` ("Server disconnected without sending a
response"), a reset ``httpx.ReadError``, a body cut short a response whose reading raises
``httpx.RemoteProtocolError``, and a delay longer than the request's read timeout sleeps that
timeout and raises ``httpx.ReadTimeout``; the answering faults are answers like any other. An
``httpx.AsyncClient`` meets each the same way: the cut body is an async stream too, and a delay
is awaited (``asyncio.sleep``), never slept, so the event loop's other tasks run meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import itertools
import json
import re
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any, NamedTuple, assert_never

import httpx

from ..client import INVALID_KEY, Auth, FaceDetectClient, recorded_request
from ..contracts.fixtures import fixture_dir
from ..contracts.loader import Contracts, load_contracts
from ..core.interaction import Interaction, RecordedRequest, RecordedResponse
from ..core.redaction import Redactor
from .fake import FaceDetectFake, FakeRequest, FakeResponse
from .faults import Fault, FaultPlan, Turn, fault_answer, make_plan

if TYPE_CHECKING:  # respx is imported where a router is made: live mode needs only replay_key
    import respx

__all__ = [
    "FaultsGiven",
    "InProcessExchange",
    "MockedEndpoint",
    "ReplayKey",
    "UnmatchedRequest",
    "UnroutedRequest",
    "client_on_fake",
    "endpoint_path_regex",
    "fake_handler",
    "fault_plan",
    "mock_endpoint",
    "mount_fake",
    "mount_replay",
    "replay_handler",
    "replay_key",
]


class UnmatchedRequest(AssertionError):
    """A replayed run sent a request no fixture holds."""


class UnroutedRequest(AssertionError):
    """A strict ``mock_endpoint`` saw a request that neither the fake nor any other respx router
    answers."""


FaultsGiven = FaultPlan | Iterable[Fault | str] | None


def fault_plan(faults: FaultsGiven, fake: FaceDetectFake) -> FaultPlan:
    """``faults`` as a ``FaultPlan`` (one already made is kept: its count goes on)."""
    if isinstance(faults, FaultPlan):
        return faults
    return make_plan(faults, fake.contracts)


class _CutShort(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that ends before its Content-Length: what httpx raises when the peer closes, read
    by a sync or an async client alike."""

    def __init__(self, sent: bytes, expected: int) -> None:
        self._sent, self._expected = sent, expected

    def __iter__(self) -> Iterator[bytes]:
        if self._sent:
            yield self._sent
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body "
            f"(received {len(self._sent)} bytes, expected {self._expected})"
        )

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self:
            yield part


def _under_an_async_client() -> bool:
    """Whether the handler was called on an async client's path: by respx's or httpx's async
    transport code (``Router.aresolve``, ``MockTransport.handle_async_request``), which awaits
    what it returns; the sync path takes only a response.

    Both paths call the same handler, and a running event loop does not tell them apart (a
    sync client may be called inside a coroutine), so the callers are read: the nearest frame
    outside respx's and httpx's code ends the search; a coroutine frame of theirs before it
    is the async path.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False  # no event loop in this thread: nothing could await
    frame: FrameType | None = sys._getframe(2)  # the handler's caller
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if not module.startswith(("respx.", "httpx.")):
            return False
        if frame.f_code.co_flags & inspect.CO_COROUTINE:
            return True
        frame = frame.f_back
    return False


def _timed_out_by(delay: float, request: httpx.Request) -> float | None:
    """The request's read timeout when ``delay`` outlasts it, else ``None``."""
    timeouts = request.extensions.get("timeout") or {}
    read = timeouts.get("read") if isinstance(timeouts, dict) else None
    return float(read) if isinstance(read, int | float) and read < delay else None


def _response(answer: FakeResponse, *, cut: bool = False) -> httpx.Response:
    if not cut:
        return httpx.Response(answer.status, headers=dict(answer.headers), content=answer.body)
    body = answer.body
    headers = {**answer.headers, "content-length": str(len(body))}
    return httpx.Response(
        answer.status, headers=headers, stream=_CutShort(body[: len(body) // 2], len(body))
    )


def fake_handler(fake: FaceDetectFake, faults: FaultsGiven = None) -> Any:
    """An httpx handler (for respx ``side_effect`` or ``httpx.MockTransport``) serving ``fake``,
    with ``faults`` (``Fault`` objects or their specs, or a ``FaultPlan``) on its requests.

    For an async client (respx's async path, ``httpx.MockTransport`` under an
    ``httpx.AsyncClient``) a delay is awaited: the handler then returns a coroutine, which
    both await."""
    plan = fault_plan(faults, fake)

    def answer(request: httpx.Request, fault: Fault | None) -> httpx.Response:
        """What the request meets once any delay is over."""
        kind = None if fault is None else fault.kind
        match kind:
            case None | "truncate":  # truncate acts on the normal answer: it is cut short
                body = request.read()
                normal = fake(FakeRequest(request.method, dict(request.headers), body))
                return _response(normal, cut=kind == "truncate")
            case "throttle" | "error" | "gateway":
                assert fault is not None
                return _response(fault_answer(fault, fake))
            case "drop":
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a response.", request=request
                )
            case "reset":
                raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
            case "delay":  # delays add up in Turn.delay; a Turn's fault is never one
                raise AssertionError(f"a Turn's fault is never a delay: {fault!r}")
            case _:
                assert_never(kind)

    async def later(request: httpx.Request, turn: Turn, timeout: float | None) -> httpx.Response:
        await asyncio.sleep(turn.delay if timeout is None else timeout)
        if timeout is not None:
            raise httpx.ReadTimeout("timed out (an injected delay)", request=request)
        return answer(request, turn.fault)

    def handle(request: httpx.Request) -> Any:
        if not plan:
            return answer(request, None)
        turn = plan.next_turn()
        if turn.delay:
            timeout = _timed_out_by(turn.delay, request)
            if _under_an_async_client():
                return later(request, turn, timeout)
            time.sleep(turn.delay if timeout is None else timeout)
            if timeout is not None:
                raise httpx.ReadTimeout("timed out (an injected delay)", request=request)
        return answer(request, turn.fault)

    return handle


@contextlib.contextmanager
def client_on_fake(
    fake: FaceDetectFake,
    contracts: Contracts,
    key: str,
    base_url: str | None = None,
    faults: FaultsGiven = None,
) -> Iterator[FaceDetectClient]:
    """A ``FaceDetectClient`` (holding ``key``) whose transport is a respx router serving
    ``fake`` in-process at the endpoint's URL, with ``faults``; retries do not wait. The
    plugin's and the suite's offline-client fixtures are this."""
    import respx  # noqa: PLC0415

    router = respx.Router(assert_all_mocked=True)
    client = FaceDetectClient(
        base_url=base_url,
        environ={contracts.profile.api_key_env: key},
        transport=httpx.MockTransport(router.handler),
        sleep=lambda _seconds: None,
        contracts=contracts,
    )
    mount_fake(router, fake, client.url, faults)
    with client:
        yield client


class InProcessExchange:
    """``FaceDetectClient.exchange`` for the fake in this process: the same ``Interaction`` (the
    request as the fake saw it, its answer as it came, redacted when written or shown), without
    the HTTP stack.

    For the properties whose subject is the endpoint's contract and not the client (hundreds of
    generated requests): each case then costs the fake and the checks, not httpx and respx. The
    client itself is judged through its transport elsewhere (tests/test_client.py), and a
    differential test holds both paths to the same interactions (tests/doubles/test_offline.py). No
    retries: the fake answers at once and never throttles unless told to.
    """

    def __init__(self, fake: FaceDetectFake, key: str, contracts: Contracts | None = None) -> None:
        self.fake = fake
        self.contracts = contracts or fake.contracts
        self._key = key
        self._redactor = Redactor([key])
        self._counter = itertools.count(1)

    def __repr__(self) -> str:
        return f"InProcessExchange(fake={self.fake!r})"

    def exchange(
        self,
        body: Any = None,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: Auth = "key",
        method: str | None = None,
        name: str | None = None,
        retry: bool = True,
    ) -> Interaction:
        profile = self.contracts.profile
        started = time.monotonic()
        if content is None:
            content = json.dumps(body, ensure_ascii=False).encode()
        sent = {"content-type": profile.content_type} if headers is None else dict(headers)
        sent = {key.lower(): value for key, value in sent.items()}
        if auth == "key":
            sent["authorization"] = f"Bearer {self._key}"
        elif auth == "invalid":
            sent["authorization"] = "Bearer " + INVALID_KEY
        method = method or profile.method
        answer = self.fake(FakeRequest(method, sent, content))
        parsed = RecordedResponse.from_bytes(answer.status, dict(answer.headers), answer.body)
        return Interaction(
            name=name or f"exchange-{next(self._counter)}",
            request=recorded_request(self._redactor, method, sent.items(), content, auth),
            response=dataclasses.replace(parsed, redactor=self._redactor),
            provenance={"kind": "recorded", "host": "in-process"},
            elapsed=time.monotonic() - started,
        )


def mount_fake(
    router: respx.Router, fake: FaceDetectFake, url: str, faults: FaultsGiven = None
) -> respx.Route:
    """Route every method on ``url`` to ``fake`` (with ``faults``)."""
    return router.route(url=url).mock(side_effect=fake_handler(fake, faults))


# respx's default mocker (it patches httpcore, so every httpx client of the process, in every
# thread, is seen); its ``routers`` are asked in the order they were started.
_MOCKER = "httpcore"


def endpoint_path_regex(path: str) -> str:
    """The paths the fake answers: the profile's ``path`` under any gateway prefix of whole
    segments (``/api/v1``, ``/qwen/api/v1``), and nothing else.

    The trailing-slash (``.../face-detect/``) and double-slash (``/api/v1//services/...``)
    forms are other paths: the docs (docs/endpoint.md, Endpoint) document the one path only,
    and what a gateway answers for a path it does not serve is its own (the stub answers 404).
    The fake does not speak for them: they go where their URL points, like any other request.
    """
    return rf"^(?:/[^/]+)*{re.escape(path)}$"


def _named(request: httpx.Request) -> str:
    """The method and URL of ``request``, without query, fragment or userinfo (a query may
    carry a key)."""
    url = request.url
    return f"{request.method} {url.copy_with(query=None, fragment=None, userinfo=b'')}"


@dataclasses.dataclass(frozen=True)
class MockedEndpoint:
    """What ``mock_endpoint`` yields: the router answering the endpoint (add your own routes to
    it as to any respx router) and the requests a strict mock refused, named."""

    router: respx.MockRouter
    unrouted: list[str]


@contextlib.contextmanager
def mock_endpoint(
    fake: FaceDetectFake,
    contracts: Contracts,
    *,
    strict: bool = False,
    left_alone: Callable[[httpx.URL], bool] = lambda _url: False,
    faults: FaultsGiven = None,
) -> Iterator[MockedEndpoint]:
    """respx answering every httpx request to the endpoint's path, on any host, with ``fake``.

    Every other request is not touched: it is passed to the respx routers started after this
    one (a team's own routes and ``assert_all_mocked`` rule), and when there are none, to the
    network, as if this mock were not there. ``strict`` turns that last step into an
    ``UnroutedRequest`` naming the request (also kept in ``unrouted``, for a request whose
    error the caller swallowed). A URL ``left_alone`` says so (a running stub's own) goes to the
    network at once, even when strict. ``faults`` act on the endpoint's requests only.
    """
    import respx  # noqa: PLC0415
    from respx.mocks import Mocker  # noqa: PLC0415

    unrouted: list[str] = []

    def stub_traffic(request: httpx.Request) -> httpx.Request | None:
        # A side effect returning the request passes it through; None is "no match".
        return request if left_alone(request.url) else None

    def not_ours(request: httpx.Request) -> httpx.Request | None:
        routers = Mocker.registry[_MOCKER].routers
        if routers.index(rules) + 1 < len(routers):
            return None  # "not mocked" here: respx asks the routers started after this one
        if strict:
            unrouted.append(_named(request))
            raise UnroutedRequest(
                f"facedetect_mock: {_named(request)} is not the face-detect endpoint and no "
                f"other respx route answers it; mock it (respx) or drop strict=True"
            )
        if routers.index(router) > 0:
            return None  # routers started before these declined it: their rule stands
        return request  # nobody mocks it: the network, as without this mock

    # Two routers: the first holds the endpoint and the routes a test adds to it, the second
    # only the rule for the rest, so a route added later still comes before the rule.
    with (
        respx.mock(assert_all_called=False, assert_all_mocked=True, using=_MOCKER) as router,
        respx.mock(assert_all_called=False, assert_all_mocked=True, using=_MOCKER) as rules,
    ):
        router.route(name="left alone").mock(side_effect=stub_traffic)
        router.route(
            name="face-detect", path__regex=endpoint_path_regex(contracts.profile.path)
        ).mock(side_effect=fake_handler(fake, faults))
        rules.route(name="not the endpoint").mock(side_effect=not_ours)
        yield MockedEndpoint(router, unrouted)


class ReplayKey(NamedTuple):
    """What replay matches a request on: every part of it the endpoint's answer can depend on."""

    method: str
    authorization: str  # "key", "none" or "invalid": the key itself is never part of a fixture
    content_type: str | None
    async_header: str | None
    body: str  # canonical JSON (sorted keys), or the raw text when the body is not JSON


def replay_key(request: RecordedRequest, contracts: Contracts | None = None) -> ReplayKey:
    """The key offline replay and live recording agree on for ``request``.

    Two requests with the same body but another ``Content-Type`` or async header are different
    requests: the endpoint may answer them differently, so their recordings must not replace
    each other.
    """
    async_header = (contracts or load_contracts()).profile.async_header
    headers = {name.lower(): value for name, value in request.headers.items()}
    authorization = headers.get("authorization")
    auth = "none" if authorization is None else ("invalid" if "invalid" in authorization else "key")
    content_type = headers.get("content-type")
    if request.body_text is not None:
        body = request.body_text
    else:
        body = json.dumps(request.body, sort_keys=True)
    return ReplayKey(
        request.method.upper(),
        auth,
        content_type.strip().lower() if content_type is not None else None,
        headers.get(async_header),
        body,
    )


def _recorded(request: httpx.Request) -> RecordedRequest:
    """The request as replay sees it (its Authorization included: only its kind is compared)."""
    content = request.read()
    try:
        return RecordedRequest(request.method, dict(request.headers), json.loads(content))
    except ValueError:
        text = content.decode("utf-8", errors="replace")
        return RecordedRequest(request.method, dict(request.headers), None, text)


def _differences(sent: ReplayKey, recorded: ReplayKey) -> list[str]:
    return [
        f"{label.replace('_', '-')}: sent {str(a)[:120]!r}, recorded {str(b)[:120]!r}"
        for label, a, b in zip(ReplayKey._fields, sent, recorded, strict=True)
        if a != b
    ]


def replay_handler(interactions: Iterable[Interaction], contracts: Contracts | None = None) -> Any:
    """An httpx handler answering each request with the fixture recorded for it."""
    contracts = contracts or load_contracts()
    table: dict[ReplayKey, Interaction] = {}
    # Where several fixtures hold the same request, real traffic wins: recorded before
    # documented, the newest recording first.
    by_date = sorted(interactions, key=lambda i: i.provenance.get("date", ""), reverse=True)
    for interaction in sorted(by_date, key=lambda i: i.provenance.get("kind") != "recorded"):
        table.setdefault(replay_key(interaction.request, contracts), interaction)
    where = f"fixtures/{fixture_dir(contracts).name}/"  # the model's own documented fixtures

    def handle(request: httpx.Request) -> httpx.Response:
        sent = replay_key(_recorded(request), contracts)
        found = table.get(sent)
        if found is None:
            raise UnmatchedRequest(_explain(sent, list(table.items()), where))
        response = found.response
        payload = (
            json.dumps(response.body).encode()
            if response.body_is_json
            else str(response.body).encode()
        )
        return httpx.Response(response.status, headers=dict(response.headers), content=payload)

    return handle


def _explain(sent: ReplayKey, table: Sequence[tuple[ReplayKey, Interaction]], where: str) -> str:
    if not table:
        return f"no fixture is loaded; add interactions under {where}"
    closest_key, closest = min(table, key=lambda item: len(_differences(sent, item[0])))
    differences = "; ".join(_differences(sent, closest_key))
    return (
        f"no fixture matches {sent.method} with authorization={sent.authorization}, "
        f"content-type={sent.content_type}, async header={sent.async_header} and "
        f"body {sent.body[:200]}; "
        f"closest is fixture {closest.name!r}, which differs in {differences}. "
        f"Record it (pytest --live --record) or add a fixture under {where}."
    )


def mount_replay(
    router: respx.Router,
    interactions: Iterable[Interaction],
    url: str,
    contracts: Contracts | None = None,
) -> respx.Route:
    """Route ``url`` to the recorded interactions; unmatched requests raise ``UnmatchedRequest``."""
    return router.route(url=url).mock(side_effect=replay_handler(interactions, contracts))
