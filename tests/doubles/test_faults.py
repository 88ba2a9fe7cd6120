"""Faults on demand: each fault as a real httpx client and a raw socket meet it, from the stub
over loopback and from the in-process respx mock alike; schedules; the project's own retry code
meeting them; and the one-line form's parser."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from facedetect_contract.client import CheckPassed, EndpointBroken, FaceDetectClient
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.doubles.fake import FaceDetectFake
from facedetect_contract.doubles.faults import (
    Fault,
    FaultPlan,
    FaultSpecError,
    Schedule,
    error_statuses,
    parse_fault,
    parse_faults,
)
from facedetect_contract.doubles.offline import client_on_fake, fake_handler, mock_endpoint
from facedetect_contract.doubles.server import RunningServer, serve_in_thread
from facedetect_contract.plugin import TEST_KEY

CONTRACTS = load_contracts()
PROFILE = CONTRACTS.profile
HEADERS = {"Authorization": f"Bearer {TEST_KEY}"}


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
    with serve_in_thread(api_keys=[TEST_KEY], faults=[spec]) as stub, httpx.Client() as client:
        assert met(client, stub.url) == EXPECTED[spec]
        assert stub.faulted == 1
        # The stub itself goes on: a fault acts on one exchange, not on the server.
        assert httpx.get(stub.image_url("portrait.png")).status_code == 200


@pytest.mark.parametrize("spec", list(EXPECTED))
def test_each_fault_from_the_mock_raises_or_answers_as_the_stub_does(spec: str) -> None:
    fake = FaceDetectFake(api_keys=[TEST_KEY], contracts=CONTRACTS)
    with mock_endpoint(fake, CONTRACTS, faults=[spec]), httpx.Client() as client:
        url = "https://dashscope.example/api/v1" + PROFILE.path
        assert met(client, url) == EXPECTED[spec]


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
    with serve_in_thread(api_keys=[TEST_KEY], faults=["delay=400"]) as stub:
        started = time.monotonic()
        response = httpx.post(stub.url, json=detect_body(image_url), headers=HEADERS)
        assert time.monotonic() - started >= 0.4
        assert response.status_code == 200 and response.json()["output"]["check_pass"] is True


def test_a_delay_longer_than_the_clients_timeout_is_a_read_timeout_in_both_doubles(
    image_url: str,
) -> None:
    with (
        serve_in_thread(api_keys=[TEST_KEY], faults=["delay=1500"]) as stub,
        pytest.raises(httpx.ReadTimeout),
    ):
        httpx.post(stub.url, json=detect_body(image_url), headers=HEADERS, timeout=0.3)
    fake = FaceDetectFake(api_keys=[TEST_KEY], contracts=CONTRACTS)
    client = httpx.Client(transport=httpx.MockTransport(fake_handler(fake, ["delay=1500"])))
    started = time.monotonic()
    with client, pytest.raises(httpx.ReadTimeout):
        client.post("http://x/api/v1" + PROFILE.path, json={}, headers=HEADERS, timeout=0.3)
    assert 0.3 <= time.monotonic() - started < 1.4  # the client's timeout, not the whole delay
    started = time.monotonic()
    answered = httpx.Client(transport=httpx.MockTransport(fake_handler(fake, ["delay=300"])))
    with answered:
        response = answered.post(
            "http://x/api/v1" + PROFILE.path, json=detect_body(image_url), headers=HEADERS
        )
    assert time.monotonic() - started >= 0.3 and response.status_code == 200


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
            lambda: httpx.post(stub.url, json=detect_body(image_url), headers=HEADERS), 4
        )
        assert seen == [500, 500, 200, 200]
        assert (stub.faulted, stub.requests_served, stub.fake.requests) == (2, 4, 2)


def test_every_nth_request_from_the_stub_and_from_the_mock(image_url: str) -> None:
    with serve_in_thread(api_keys=[TEST_KEY], faults=["gateway-502:every=3"]) as stub:
        seen = statuses(
            lambda: httpx.post(stub.url, json=detect_body(image_url), headers=HEADERS), 7
        )
        assert seen == [200, 200, 502, 200, 200, 502, 200]
    fake = FaceDetectFake(api_keys=[TEST_KEY], contracts=CONTRACTS)
    with mock_endpoint(fake, CONTRACTS, faults=["drop:every=3"]):
        url = "https://dashscope.example/api/v1" + PROFILE.path
        seen = statuses(lambda: httpx.post(url, json=detect_body(image_url), headers=HEADERS), 6)
    assert seen == [200, 200, "RemoteProtocolError", 200, 200, "RemoteProtocolError"]


def test_two_faults_firing_together_add_their_delay_and_the_first_listed_answers() -> None:
    plan = FaultPlan(parse_faults(["delay=100:first=1", "503:first=2", "throttle"]), CONTRACTS)
    turns = [plan.next_turn() for _ in range(3)]
    assert [(t.number, t.delay, t.fault and t.fault.spec) for t in turns] == [
        (1, 0.1, "503:first=2"),
        (2, 0.0, "503:first=2"),
        (3, 0.0, "throttle"),
    ]
    assert plan.hit == 3


def test_faults_act_on_the_endpoint_only_never_on_the_stubs_files_or_other_paths() -> None:
    with serve_in_thread(api_keys=[TEST_KEY], faults=["drop"]) as stub:
        assert httpx.get(stub.image_url("portrait.png")).status_code == 200
        assert httpx.post(stub.origin + "/elsewhere", content=b"{}").status_code == 404
        assert stub.faulted == 0
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(stub.url, json={}, headers=HEADERS)
        assert stub.faulted == 1
    fake = FaceDetectFake(api_keys=[TEST_KEY], contracts=CONTRACTS)
    with mock_endpoint(fake, CONTRACTS, faults=["503"]) as mocked:
        mocked.router.get("https://other.example/x").respond(204)
        assert httpx.get("https://other.example/x").status_code == 204
        assert httpx.post("https://h.example/api/v1" + PROFILE.path).status_code == 503


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
        (lambda: Schedule(first=1, every=2), "not both"),
        (lambda: Schedule(every=0), "every must be"),
        (lambda: FaultPlan((Fault("error", status=418),), CONTRACTS), "418"),
        (lambda: FaultPlan((Fault("gateway", status=500),), CONTRACTS), "gateway statuses"),
        (lambda: serve_in_thread(faults=["503:first=x"]).__enter__(), "first=x"),
    ],
)
def test_a_fault_made_in_code_is_checked_as_strictly(
    made: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        made()
