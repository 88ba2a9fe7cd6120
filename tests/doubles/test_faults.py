"""Faults on demand: each fault as a real httpx client and a raw socket meet it, from the stub
over loopback and from the in-process respx mock alike; schedules; the project's own retry code
meeting them; and the one-line form's parser."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

import httpx
import pytest

from facedetect_contract.client import CheckPassed, EndpointBroken, FaceDetectClient
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.doubles import faults as faults_module
from facedetect_contract.doubles.fake import FaceDetectFake
from facedetect_contract.doubles.faults import (
    ALWAYS,
    MAX_DELAY_MS,
    MAX_RETRY_AFTER,
    Fault,
    FaultPlan,
    FaultSpecError,
    Schedule,
    error_statuses,
    fault_answer,
    make_plan,
    parse_fault,
)
from facedetect_contract.doubles.offline import client_on_fake, fake_handler, mock_endpoint
from facedetect_contract.doubles.server import RunningServer, StubOptions, serve_in_thread
from facedetect_contract.plugin import TEST_KEY

CONTRACTS = load_contracts()
PROFILE = CONTRACTS.profile
HEADERS = {"Authorization": f"Bearer {TEST_KEY}"}
# The one TLS context of this module's clients: httpx builds one per client by default, reading
# the whole CA bundle (about 30 ms of each of this module's 100-odd clients). No request here is
# TLS (the stub is on http://, the mock answers before a socket): each client is still built
# afresh and opens its own connections, as before.
TLS = ssl.create_default_context()


def http_post(url: str, **options: Any) -> httpx.Response:
    """``httpx.post``: a client of its own for the one request, with the module's TLS context."""
    return httpx.post(url, verify=TLS, **options)


def http_get(url: str, **options: Any) -> httpx.Response:
    """``httpx.get``: a client of its own for the one request, with the module's TLS context."""
    return httpx.get(url, verify=TLS, **options)


def detect_body(url: str) -> dict[str, Any]:
    return {"model": "emo-detect-v1", "input": {"image_url": url}, "parameters": {"ratio": "1:1"}}


def first_row(status: int) -> str:
    """The code the error table lists first for ``status``: what an error fault answers."""
    return next(CONTRACTS.errors_for(status=status)).code


# What a client meets: (status, code or None for a page, Retry-After), or the httpx exception
# with the status of the head that came before it (None: no answer at all).
Met = tuple[int, str | None, str | None] | tuple[type[Exception], int | None]
# The expected answers come from the contracts, never from literals of their own.
EXPECTED: dict[str, Met] = {
    "throttle": (PROFILE.throttle_status, PROFILE.stub_throttle_code, None),
    "throttle:retry-after=3": (PROFILE.throttle_status, PROFILE.stub_throttle_code, "3"),
    **{str(s): (s, first_row(s), None) for s in error_statuses(CONTRACTS)},
    **{f"gateway-{s}": (s, None, None) for s in sorted(PROFILE.gateway_retry_statuses)},
    "drop": (httpx.RemoteProtocolError, None),
    "reset": (httpx.ReadError, None),
    "truncate": (httpx.RemoteProtocolError, 400),  # the fake's answer to an empty body, cut
}
# The statuses the spec table of docs/faults.md promises: the contracts must still have them.
assert {500, 503} <= set(error_statuses(CONTRACTS))
assert {502, 504} <= PROFILE.gateway_retry_statuses


def met(client: httpx.Client, url: str) -> Met:
    """POST an empty body (the fake answers 400: its answer is not the subject) to ``url``."""
    request = client.build_request("POST", url, json={}, headers=HEADERS)
    try:
        response = client.send(request, stream=True)
    except httpx.HTTPError as exc:
        return (type(exc), None)
    try:
        response.read()
    except httpx.HTTPError as exc:
        return (type(exc), response.status_code)
    finally:
        response.close()
    return judged(response)


async def ameet(client: httpx.AsyncClient, url: str) -> Met:
    """``met`` for an async client."""
    request = client.build_request("POST", url, json={}, headers=HEADERS)
    try:
        response = await client.send(request, stream=True)
    except httpx.HTTPError as exc:
        return (type(exc), None)
    try:
        await response.aread()
    except httpx.HTTPError as exc:
        return (type(exc), response.status_code)
    finally:
        await response.aclose()
    return judged(response)


def judged(response: httpx.Response) -> Met:
    if response.headers.get("content-type", "").startswith("text/html"):
        assert b"<html>" in response.content and str(response.status_code).encode() in (
            response.content
        )
        return (response.status_code, None, response.headers.get("retry-after"))
    return (response.status_code, response.json()["code"], response.headers.get("retry-after"))


@pytest.fixture
def image_url() -> Iterator[str]:
    """A passing portrait's URL (the stub's own file: no fault can touch its download)."""
    with serve_in_thread(api_keys=[TEST_KEY]) as images:
        yield images.image_url("portrait.png")


# --- each fault, from the stub and from the mock -------------------------------------------------


@pytest.mark.parametrize("spec", list(EXPECTED))
def test_each_fault_from_the_stub_reaches_a_real_httpx_client_as_documented(spec: str) -> None:
    with (
        serve_in_thread(api_keys=[TEST_KEY], faults=[spec]) as stub,
        httpx.Client(verify=TLS) as client,
    ):
        assert met(client, stub.url) == EXPECTED[spec]
        assert stub.faulted == 1
        # The stub itself goes on: a fault acts on one exchange, not on the server.
        assert http_get(stub.image_url("portrait.png")).status_code == 200


Kind = Literal["sync", "async"]
MOCKED_URL = "https://dashscope.example/api/v1" + PROFILE.path


def met_through(kind: Kind, url: str, timeout: httpx.Timeout | None = None) -> Met:
    """What an ``httpx.Client`` (sync) or an ``httpx.AsyncClient`` (async) meets at ``url``."""
    timeout = timeout or httpx.Timeout(5)
    if kind == "sync":
        with httpx.Client(timeout=timeout, verify=TLS) as client:
            return met(client, url)

    async def run() -> Met:
        async with httpx.AsyncClient(timeout=timeout, verify=TLS) as client:
            return await ameet(client, url)

    return asyncio.run(run())


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("spec", list(EXPECTED))
def test_each_fault_from_the_mock_raises_or_answers_as_the_stub_does(spec: str, kind: Kind) -> None:
    # Async: truncate's cut body was a sync-only stream (a bare AssertionError in httpx).
    fake = FaceDetectFake(api_keys=[TEST_KEY], contracts=CONTRACTS)
    with mock_endpoint(fake, CONTRACTS, faults=[spec]):
        assert met_through(kind, MOCKED_URL) == EXPECTED[spec]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_delay_from_the_mock_answers_late_or_times_out_for_sync_and_async_clients(
    kind: Kind,
) -> None:
    fake = FaceDetectFake(api_keys=[TEST_KEY], contracts=CONTRACTS)
    with mock_endpoint(fake, CONTRACTS):
        normal = met_through(kind, MOCKED_URL)
    with mock_endpoint(fake, CONTRACTS, faults=["delay=150"]):
        started = time.monotonic()
        assert met_through(kind, MOCKED_URL) == normal
        assert time.monotonic() - started >= 0.15
    with mock_endpoint(fake, CONTRACTS, faults=["delay=1500"]):
        started = time.monotonic()
        met_ = met_through(kind, MOCKED_URL, httpx.Timeout(5, read=0.15))
        assert met_ == (httpx.ReadTimeout, None)
        assert 0.15 <= time.monotonic() - started < 1.4  # the client's timeout, not the delay


def test_an_async_clients_delay_is_awaited_so_the_event_loop_runs_other_tasks() -> None:
    fake = FaceDetectFake(api_keys=[TEST_KEY], contracts=CONTRACTS)

    async def ticks_during(client: httpx.AsyncClient, url: str) -> int:
        ticks, done = 0, asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.025)  # ten ticks in the delay, when it is awaited

        async def post() -> None:
            await client.post(url, json={}, headers=HEADERS)
            done.set()

        await asyncio.gather(ticker(), post())
        return ticks

    async def through_respx() -> int:
        async with httpx.AsyncClient(verify=TLS) as client:
            return await ticks_during(client, MOCKED_URL)

    async def through_mock_transport() -> int:
        transport = httpx.MockTransport(fake_handler(fake, ["delay=250"]))
        async with httpx.AsyncClient(transport=transport) as client:
            return await ticks_during(client, MOCKED_URL)

    with mock_endpoint(fake, CONTRACTS, faults=["delay=250"]):
        assert asyncio.run(through_respx()) >= 5  # slept (time.sleep), the loop ticked once
    assert asyncio.run(through_mock_transport()) >= 5


def test_a_sync_client_called_inside_a_coroutine_still_meets_a_delay_as_a_sync_client() -> None:
    # The handler tells the async path by its callers, not by a running event loop.
    fake = FaceDetectFake(api_keys=[TEST_KEY], contracts=CONTRACTS)

    async def sync_inside() -> int:
        with httpx.Client(verify=TLS) as client:
            return client.post(MOCKED_URL, json={}, headers=HEADERS).status_code

    with mock_endpoint(fake, CONTRACTS, faults=["delay=50"]):
        assert asyncio.run(sync_inside()) == 400


def raw_post(stub: RunningServer, body: bytes = b'{"model":"emo-detect-v1"}') -> bytes:
    """One POST on a fresh socket, read until the stub closes it; what a non-Python client
    sees. A reset shows as ``ConnectionResetError``."""
    host, port = stub.server.server_address[:2]
    head = (
        f"POST {stub.url.removeprefix(stub.origin)} HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {TEST_KEY}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((str(host), int(port)), timeout=5) as sock:
        sock.sendall(head.encode() + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_raw_socket_meets_each_fault_byte_for_byte() -> None:
    with serve_in_thread(api_keys=[TEST_KEY], faults=["throttle:retry-after=2"]) as stub:
        head, _, body = raw_post(stub).partition(b"\r\n\r\n")
        assert head.startswith(f"HTTP/1.1 {PROFILE.throttle_status} ".encode())
        assert b"\r\nretry-after: 2" in head.lower()
        assert PROFILE.stub_throttle_code.encode() in body
    with serve_in_thread(api_keys=[TEST_KEY], faults=["503"]) as stub:
        head, _, body = raw_post(stub).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503 ") and first_row(503).encode() in body
    with serve_in_thread(api_keys=[TEST_KEY], faults=["gateway-502"]) as stub:
        head, _, body = raw_post(stub).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 502 ") and b"content-type: text/html" in head.lower()
        assert body.startswith(b"<html>")
    with serve_in_thread(api_keys=[TEST_KEY], faults=["drop"]) as stub:
        assert raw_post(stub) == b""  # closed without a byte of an answer
    with serve_in_thread(api_keys=[TEST_KEY], faults=["truncate"]) as stub:
        head, _, body = raw_post(stub).partition(b"\r\n\r\n")
        declared = int(
            next(
                line.split(b":", 1)[1]
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
        )
        assert head.startswith(b"HTTP/1.1 400 ")  # the fake's own answer (the body is no detect)
        assert 0 < len(body) < declared  # fewer bytes than promised, then closed
    with (
        serve_in_thread(api_keys=[TEST_KEY], faults=["reset"]) as stub,
        pytest.raises(ConnectionResetError),
    ):
        raw_post(stub)


# --- delays --------------------------------------------------------------------------------------


def test_a_delay_answers_normally_after_it_from_the_stub(image_url: str) -> None:
    with serve_in_thread(api_keys=[TEST_KEY], faults=["delay=200"]) as stub:
        started = time.monotonic()
        response = http_post(stub.url, json=detect_body(image_url), headers=HEADERS)
        assert time.monotonic() - started >= 0.2
        assert response.status_code == 200 and response.json()["output"]["check_pass"] is True


def test_a_delay_longer_than_the_clients_timeout_is_a_read_timeout_in_both_doubles(
    image_url: str,
) -> None:
    with (
        serve_in_thread(api_keys=[TEST_KEY], faults=["delay=1500"]) as stub,
        pytest.raises(httpx.ReadTimeout),
    ):
        http_post(stub.url, json=detect_body(image_url), headers=HEADERS, timeout=0.15)
    fake = FaceDetectFake(api_keys=[TEST_KEY], contracts=CONTRACTS)
    client = httpx.Client(transport=httpx.MockTransport(fake_handler(fake, ["delay=1500"])))
    started = time.monotonic()
    with client, pytest.raises(httpx.ReadTimeout):
        client.post("http://x/api/v1" + PROFILE.path, json={}, headers=HEADERS, timeout=0.15)
    assert 0.15 <= time.monotonic() - started < 1.4  # the client's timeout, not the whole delay
    started = time.monotonic()
    answered = httpx.Client(transport=httpx.MockTransport(fake_handler(fake, ["delay=150"])))
    with answered:
        response = answered.post(
            "http://x/api/v1" + PROFILE.path, json=detect_body(image_url), headers=HEADERS
        )
    assert time.monotonic() - started >= 0.15 and response.status_code == 200


def handler_threads() -> list[threading.Thread]:
    """The stub's threads answering a connection (socketserver's, one per connection)."""
    return [t for t in threading.enumerate() if "process_request_thread" in t.name]


def test_stopping_the_stub_wakes_a_delayed_answer_and_closes_its_connection() -> None:
    before = set(handler_threads())
    outcome: list[object] = []

    def client(url: str) -> None:
        try:
            outcome.append(http_post(url, json={}, headers=HEADERS, timeout=30).status_code)
        except httpx.HTTPError as exc:
            outcome.append(type(exc))

    with serve_in_thread(api_keys=[TEST_KEY], faults=["delay=20000"]) as stub:
        sender = threading.Thread(target=client, args=(stub.url,))
        sender.start()
        deadline = time.monotonic() + 5
        while stub.faulted == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stub.faulted == 1 and set(handler_threads()) - before  # asleep in the delay
        stopped = time.monotonic()
    sender.join(timeout=5)
    deadline = time.monotonic() + 2
    while set(handler_threads()) - before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not set(handler_threads()) - before  # slept on for 20 s before
    assert time.monotonic() - stopped < 2
    assert outcome == [httpx.RemoteProtocolError]  # no answer: the stub stopped


# --- schedules ------------------------------------------------------------------------------------


def statuses(send: Callable[[], httpx.Response], count: int) -> list[int | str]:
    seen: list[int | str] = []
    for _ in range(count):
        try:
            seen.append(send().status_code)
        except httpx.HTTPError as exc:
            seen.append(type(exc).__name__)
    return seen


def test_first_n_then_normal_answers_from_the_stub(image_url: str) -> None:
    with serve_in_thread(api_keys=[TEST_KEY], faults=["500:first=2"]) as stub:
        seen = statuses(
            lambda: http_post(stub.url, json=detect_body(image_url), headers=HEADERS), 4
        )
        assert seen == [500, 500, 200, 200]
        assert (stub.faulted, stub.requests_served, stub.fake.requests) == (2, 4, 2)


def test_every_nth_request_from_the_stub_and_from_the_mock(image_url: str) -> None:
    with serve_in_thread(api_keys=[TEST_KEY], faults=["gateway-502:every=3"]) as stub:
        seen = statuses(
            lambda: http_post(stub.url, json=detect_body(image_url), headers=HEADERS), 7
        )
        assert seen == [200, 200, 502, 200, 200, 502, 200]
    fake = FaceDetectFake(api_keys=[TEST_KEY], contracts=CONTRACTS)
    with mock_endpoint(fake, CONTRACTS, faults=["drop:every=3"]):
        url = "https://dashscope.example/api/v1" + PROFILE.path
        seen = statuses(lambda: http_post(url, json=detect_body(image_url), headers=HEADERS), 6)
    assert seen == [200, 200, "RemoteProtocolError", 200, 200, "RemoteProtocolError"]


def test_a_request_the_stub_refuses_is_numbered_and_meets_its_fault_like_any_other(
    image_url: str,
) -> None:
    too_big = b"x" * 2000  # over max_body_bytes; a detect body is not

    def post(url: str, content: bytes | None = None) -> int | str:
        try:
            if content is not None:
                return http_post(url, content=content, headers=HEADERS).status_code
            return http_post(url, json=detect_body(image_url), headers=HEADERS).status_code
        except httpx.HTTPError as exc:
            return type(exc).__name__

    # Before: the refused request was never numbered, so 500:first=1 hit the second request.
    with serve_in_thread(api_keys=[TEST_KEY], faults=["500:first=1"], max_body_bytes=1000) as stub:
        assert [post(stub.url, too_big), post(stub.url)] == [500, 200]
        assert (stub.faulted, stub.requests_served) == (1, 2)
    with serve_in_thread(
        api_keys=[TEST_KEY], faults=["gateway-502:every=2"], max_body_bytes=1000
    ) as stub:
        refused = PROFILE.rejection("body-invalid").code
        first = http_post(stub.url, content=too_big, headers=HEADERS)
        assert (first.status_code, first.json()["code"]) == (400, refused)
        assert post(stub.url) == 502 and stub.requests_served == 2
    for spec, met_ in (
        ("drop:first=1", "RemoteProtocolError"),
        ("truncate", "RemoteProtocolError"),
    ):
        with serve_in_thread(api_keys=[TEST_KEY], faults=[spec], max_body_bytes=1000) as stub:
            assert post(stub.url, too_big) == met_ and stub.faulted == 1
    # A request to another path is still not numbered.
    with serve_in_thread(api_keys=[TEST_KEY], faults=["500:first=1"], max_body_bytes=1000) as stub:
        assert post(stub.origin + "/elsewhere", too_big) == 400
        assert post(stub.url) == 500


def test_two_faults_firing_together_add_their_delay_and_the_first_listed_answers() -> None:
    plan = make_plan(["delay=100:first=1", "503:first=2", "throttle"], CONTRACTS)
    turns = [plan.next_turn() for _ in range(3)]
    assert [(t.number, t.delay, t.fault and t.fault.spec) for t in turns] == [
        (1, 0.1, "503:first=2"),
        (2, 0.0, "503:first=2"),
        (3, 0.0, "throttle"),
    ]
    assert plan.hit == 3
    assert [
        t.cut for t in (plan.next_turn(), FaultPlan((parse_fault("truncate"),)).next_turn())
    ] == [
        False,
        True,
    ]


@pytest.mark.parametrize(
    ("status", "code"), [(e.status, e.code) for e in CONTRACTS.errors if e.kind == "server"]
)
def test_an_error_faults_message_is_the_error_tables_not_a_literal(status: int, code: str) -> None:
    fake = FaceDetectFake(api_keys=[TEST_KEY], contracts=CONTRACTS)
    answer = fault_answer(Fault("error", status=status, code=code), fake)
    message = json.loads(answer.body)["message"]
    row = next(CONTRACTS.errors_for(status=status, code=code))
    # What the fake says for every other code: a documented message, the stub's, or the code.
    assert message in (*row.messages, *([row.stub_message] if row.stub_message else []), code)
    assert message == (row.messages[0] if row.messages else (row.stub_message or code))


def test_always_is_exported_with_the_bounds() -> None:
    for name in ("ALWAYS", "MAX_DELAY_MS", "MAX_RETRY_AFTER", "make_plan"):
        assert name in faults_module.__all__
    assert Fault("drop").schedule == ALWAYS


def test_faults_act_on_the_endpoint_only_never_on_the_stubs_files_or_other_paths() -> None:
    with serve_in_thread(api_keys=[TEST_KEY], faults=["drop"]) as stub:
        assert http_get(stub.image_url("portrait.png")).status_code == 200
        assert http_post(stub.origin + "/elsewhere", content=b"{}").status_code == 404
        assert stub.faulted == 0
        with pytest.raises(httpx.RemoteProtocolError):
            http_post(stub.url, json={}, headers=HEADERS)
        assert stub.faulted == 1
    fake = FaceDetectFake(api_keys=[TEST_KEY], contracts=CONTRACTS)
    with mock_endpoint(fake, CONTRACTS, faults=["503"]) as mocked:
        mocked.router.get("https://other.example/x").respond(204)
        assert http_get("https://other.example/x").status_code == 204
        assert http_post("https://h.example/api/v1" + PROFILE.path).status_code == 503


# --- the project's own retry code meets them ----------------------------------------------------


RETRY_FAULTS = ["throttle:retry-after=1:first=1", "503:first=2"]


def test_the_clients_retry_code_waits_retry_after_then_retries_a_503_and_succeeds() -> None:
    waited: list[float] = []
    with serve_in_thread(api_keys=[TEST_KEY], faults=RETRY_FAULTS) as stub:
        client = FaceDetectClient(
            base_url=stub.base_url,
            environ={PROFILE.api_key_env: TEST_KEY},
            max_retries=2,
            sleep=waited.append,
        )
        with client:
            result = client.detect(stub.image_url("portrait.png"), "1:1")
        assert isinstance(result, CheckPassed)
        assert result.interaction.name.endswith("-retry-2")
        assert waited[0] == 1  # the Retry-After the throttled answer carried
        assert len(waited) == 2 and stub.faulted == 2


def test_the_clients_retry_code_gives_up_after_max_retries_on_a_persistent_fault() -> None:
    with serve_in_thread(api_keys=[TEST_KEY], faults=["503"]) as stub:
        client = FaceDetectClient(
            base_url=stub.base_url,
            environ={PROFILE.api_key_env: TEST_KEY},
            max_retries=2,
            sleep=lambda _s: None,
        )
        with client:
            interaction = client.exchange(detect_body(stub.image_url("portrait.png")))
        assert interaction.response.status == 503 and stub.faulted == 3


def test_the_same_retry_recipe_runs_offline_through_the_respx_mock(image_url: str) -> None:
    fake = FaceDetectFake(api_keys=[TEST_KEY], contracts=CONTRACTS)
    with client_on_fake(fake, CONTRACTS, TEST_KEY, faults=RETRY_FAULTS) as client:
        result = client.detect(image_url, "1:1")
    assert isinstance(result, CheckPassed) and result.interaction.name.endswith("-retry-2")
    assert fake.requests == 1  # the faulted attempts never reached the fake
    with (
        client_on_fake(fake, CONTRACTS, TEST_KEY, faults=["truncate"]) as client,
        pytest.raises(EndpointBroken, match="cut short"),
    ):
        client.detect(image_url, "1:1")


# --- the one-line form ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "fault"),
    [
        ("throttle", Fault("throttle")),
        ("throttle:retry-after=2", Fault("throttle", retry_after=2)),
        ("500:first=2", Fault("error", Schedule(first=2), status=500)),
        ("503:code=ModelUnavailable", Fault("error", status=503, code="ModelUnavailable")),
        ("gateway-502:every=3", Fault("gateway", Schedule(every=3), status=502)),
        ("gateway-504:always", Fault("gateway", status=504)),
        ("delay=1500", Fault("delay", delay_ms=1500)),
        ("drop:first=1", Fault("drop", Schedule(first=1))),
        ("reset", Fault("reset")),
        (" Truncate : every=2 ", Fault("truncate", Schedule(every=2))),
        (f"delay={MAX_DELAY_MS}", Fault("delay", delay_ms=MAX_DELAY_MS)),
        (f"throttle:retry-after={MAX_RETRY_AFTER}", Fault("throttle", retry_after=MAX_RETRY_AFTER)),
    ],
)
def test_a_spec_reads_into_its_fault_and_the_fault_writes_it_back(spec: str, fault: Fault) -> None:
    assert parse_fault(spec, CONTRACTS) == fault
    assert parse_fault(fault.spec, CONTRACTS) == fault


@pytest.mark.parametrize(
    ("spec", "part", "problem"),
    [
        ("", "(nothing)", "is no fault"),
        ("explode", "explode", "is no fault"),
        ("404", "404", "no server error of the error table"),
        ("gateway-500", "gateway-500", "no gateway status"),
        ("delay=0", "delay=0", "whole number >= 1"),
        ("delay=soon", "delay=soon", "whole number >= 1"),
        ("500:retry-after=2", "retry-after=2", "throttle only"),
        ("throttle:retry-after=-1", "retry-after=-1", "whole number >= 0"),
        ("throttle:code=Throttling", "code=Throttling", "error statuses only"),
        ("503:code=InternalError", "code=InternalError", "none of the error table's codes"),
        ("drop:first=0", "first=0", "whole number >= 1"),
        ("drop:every=x", "every=x", "whole number >= 1"),
        ("drop:sometimes", "sometimes", "is no option"),
        ("drop:first=1:every=2", "drop:first=1:every=2", "both first= and every="),
        # Bounded: a few digits too many is refused, not a crash (OverflowError) or a century.
        ("delay=600001", "delay=600001", "whole number >= 1 and <= 600000"),
        ("delay=99999999999999", "delay=99999999999999", "<= 600000"),
        ("delay=" + "9" * 5000, "delay=" + "9" * 5000, "<= 600000"),
        ("throttle:retry-after=86401", "retry-after=86401", "whole number >= 0 and <= 86400"),
        ("throttle:retry-after=99999999999999999999", "retry-after=99999999999999999999", "86400"),
        # Repeated or contradictory options: refused, never the last one winning.
        ("throttle:first=1:first=5", "first=5", "repeats 'first=1'"),
        ("throttle:always:first=2", "first=2", "contradicts 'always'"),
        ("drop:every=2:always", "always", "contradicts 'every=2'"),
        ("drop:always:always", "always", "repeats 'always'"),
        ("500:code=InternalError:code=SystemError", "code=SystemError", "repeats 'code=Int"),
        ("throttle:retry-after=1:retry-after=9", "retry-after=9", "repeats 'retry-after=1'"),
    ],
)
def test_a_bad_spec_is_refused_naming_the_spec_the_part_and_the_valid_forms(
    spec: str, part: str, problem: str
) -> None:
    with pytest.raises(FaultSpecError) as refused:
        parse_fault(spec, CONTRACTS)
    message = str(refused.value)
    assert f"fault spec {spec!r}" in message
    assert repr(part) in message and problem in message
    for form in ("throttle[:retry-after=SECONDS]", "gateway-502", "delay=MILLISECONDS", "every=N"):
        assert form in message


@pytest.mark.parametrize(
    ("made", "message"),
    [
        (lambda: Fault("error"), "status is required"),
        (lambda: Fault("drop", status=500), "status is only"),
        (lambda: Fault("delay"), "delay_ms"),
        (lambda: Fault("throttle", retry_after=-1), "retry_after"),
        (lambda: Fault("gateway", status=502, code="X"), "code is only"),
        (lambda: Fault("melt"), "kind must be one of"),  # type: ignore[arg-type]
        (lambda: Fault("throttle", retry_after=2.5), "retry_after is whole seconds"),  # type: ignore[arg-type]
        (lambda: Fault("throttle", retry_after=True), "retry_after is whole seconds"),
        (lambda: Fault("throttle", retry_after=MAX_RETRY_AFTER + 1), "retry_after .* 86400"),
        (lambda: Fault("delay", delay_ms=True), "delay_ms is whole milliseconds"),
        (lambda: Fault("delay", delay_ms=1.5), "delay_ms is whole milliseconds"),  # type: ignore[arg-type]
        (lambda: Fault("delay", delay_ms=10**14), "from 1 to 600000"),
        (lambda: Fault("drop", delay_ms=5), "for 'delay' only"),
        (lambda: Fault("throttle", schedule="first=2"), "schedule must be a Schedule"),  # type: ignore[arg-type]
        (lambda: Fault("error", status="500"), "status must be a whole number"),  # type: ignore[arg-type]
        (lambda: Fault("error", status=500, code=7), "code must be a string"),  # type: ignore[arg-type]
        (lambda: Fault(["drop"]), "kind must be one of"),  # type: ignore[arg-type]
        (lambda: Schedule(first=1, every=2), "not both"),
        (lambda: Schedule(every=0), "every must be"),
        (lambda: FaultPlan((Fault("error", status=418),), CONTRACTS), "418"),
        (lambda: FaultPlan((Fault("gateway", status=500),), CONTRACTS), "gateway statuses"),
        (lambda: serve_in_thread(faults=["503:first=x"]).__enter__(), "first=x"),
        # The stub's options are checked when made, naming the option and the item.
        (lambda: StubOptions(faults=["503:first=x"]), r"StubOptions faults\[0\]: .*first=x"),
        (lambda: StubOptions(faults=["drop", "delay=0"]), r"StubOptions faults\[1\]: .*delay=0"),
        (lambda: StubOptions(faults=[Fault("error", status=418)]), r"StubOptions faults: .*418"),
    ],
)
def test_a_fault_made_in_code_is_checked_as_strictly(
    made: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        made()


def test_stub_options_refuse_a_fault_that_is_neither_a_fault_nor_a_spec_naming_the_option() -> None:
    # Before: "'int' object has no attribute 'strip'", and only once a server was made.
    with pytest.raises(TypeError, match=r"StubOptions faults\[1\] is 123 \(int\): give a Fault"):
        StubOptions(faults=["drop", 123])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"StubOptions faults is 7 \(int\)"):
        StubOptions(faults=7)  # type: ignore[arg-type]
    assert StubOptions(faults="drop:first=1").faults == ("drop:first=1",)


def test_a_huge_delay_never_reaches_the_stub_as_a_crash_in_its_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR)
    with pytest.raises(FaultSpecError, match="<= 600000"):
        serve_in_thread(faults=["delay=99999999999999"]).__enter__()
    assert not caplog.records
