"""The stub server: the fake over real HTTP on loopback, robust to what only sockets do."""

from __future__ import annotations

import json
import logging
import socket
import ssl
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from facedetect_contract.checks import run_checks
from facedetect_contract.client import CheckPassed, EndpointUnreachable, FaceDetectClient
from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.doubles.fake import FakeRequest, FakeResponse, Image
from facedetect_contract.doubles.images import place_face
from facedetect_contract.doubles.server import (
    DEFAULT_PREFIX,
    MAX_BODY_BYTES,
    RunningServer,
    StubOptions,
    StubServer,
    serve_in_thread,
)
from tests.helpers.stub import STUB_KEY, detect_body, make_client, outcome

# The one TLS context of this module's one-request clients: httpx builds one per client by
# default, reading the whole CA bundle (about 25 ms a client). No request here is TLS (the stub is
# on http://): each client is still built afresh and opens its own connection, as before.
TLS = ssl.create_default_context()


def http_post(url: str, **options: Any) -> httpx.Response:
    """``httpx.post``: a client of its own for the one request, with the module's TLS context."""
    return httpx.post(url, verify=TLS, **options)


def http_get(url: str, **options: Any) -> httpx.Response:
    """``httpx.get``: a client of its own for the one request, with the module's TLS context."""
    return httpx.get(url, verify=TLS, **options)


def http_head(url: str, **options: Any) -> httpx.Response:
    """``httpx.head``: a client of its own for the one request, with the module's TLS context."""
    return httpx.head(url, verify=TLS, **options)


# Not key-shaped (no "sk-"), so a leak cannot hide behind the generic key-like redaction.
SENTINEL = "SENTINEL-7f3a9c-stub-key-never-shown"
JSON_CONTENT_TYPE = "application/json;charset=UTF-8"
PORTRAIT = (600, 800)
CONTRACTS = load_contracts()
ENDPOINT_PATH = CONTRACTS.profile.path


class PortraitImages:
    """Every URL is a passing 600x800 portrait: for tests about HTTP, not about images."""

    def fetch(self, url: str) -> Image:
        return Image(*PORTRAIT, "png", face=place_face(*PORTRAIT))


def raw_exchange(server: RunningServer, data: bytes) -> bytes:
    """Send raw bytes on a fresh connection and read until the server closes it."""
    host, port = server.server.server_address[:2]
    with socket.create_connection((str(host), int(port)), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture
def portrait_server() -> Iterator[RunningServer]:
    """A fresh stub whose every image is a passing portrait, knowing STUB_KEY."""
    with serve_in_thread(api_keys=[STUB_KEY], images=PortraitImages()) as server:
        yield server


# --- passes over HTTP ------------------------------------------------------------------------


@pytest.mark.parametrize("ratio", ["1:1", "3:4"])
@pytest.mark.parametrize(
    ("name", "size"), [("portrait.png", (600, 800)), ("photo.jpg", (1024, 768))]
)
def test_a_real_portrait_passes_over_http_and_its_answer_passes_every_check(
    stub_server: RunningServer, name: str, size: tuple[int, int], ratio: str
) -> None:
    with make_client(stub_server) as client:
        result = client.detect(stub_server.image_url(name), ratio)
    assert isinstance(result, CheckPassed)
    assert result.face_bbox == place_face(*size)
    assert run_checks(result.interaction, CONTRACTS) == []


def test_failure_shape_b_answers_a_failed_check_with_400_and_bills_nothing() -> None:
    with serve_in_thread(api_keys=[STUB_KEY], images_dir=IMAGE_DIR, failure_shape="B") as server:
        with make_client(server) as client:
            interaction = client.exchange(detect_body(server.image_url("no-human.png")))
        assert (interaction.response.status, outcome(interaction)) == (400, "InvalidFile.NoHuman")
        assert run_checks(interaction, CONTRACTS) == []
        assert server.fake.billed == 0


# --- requests the fake rejects ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "status", "code"),
    [
        ({"auth": "none"}, 401, "InvalidApiKey"),
        ({"auth": "invalid"}, 401, "InvalidApiKey"),
        ({"method": "GET"}, 400, "InvalidParameter"),
        ({"method": "BREW"}, 400, "InvalidParameter"),
        ({"headers": {"X-DashScope-Async": "enable"}}, 403, "AccessDenied"),
        (
            {"body": {"input": {"image_url": "http://127.0.0.1/x.png"}}},
            400,
            "BadRequest.EmptyModel",
        ),
        ({"body": detect_body("http://127.0.0.1/x.png", "16:9")}, 400, "InvalidParameter"),
        ({"body": detect_body("file:///etc/passwd")}, 400, "InvalidURL"),
        ({"content": b"{not json"}, 400, "InvalidParameter"),
        ({"headers": {"Content-Type": "text/plain"}}, 400, "BadRequest.IllegalInput"),
    ],
    ids=[
        "no-key",
        "unknown-key",
        "get",
        "any-other-method",
        "async-header",
        "no-model",
        "bad-ratio",
        "file-url",
        "invalid-json",
        "not-json-content-type",
    ],
)
def test_auth_and_parameter_errors_get_documented_answers(
    portrait_server: RunningServer, options: dict[str, Any], status: int, code: str
) -> None:
    options = {"body": detect_body("http://127.0.0.1/x.png"), **options}
    with make_client(portrait_server) as client:
        interaction = client.exchange(options.pop("body"), **options)
    assert (interaction.response.status, outcome(interaction)) == (status, code)
    assert run_checks(interaction, CONTRACTS) == []
    assert portrait_server.fake.billed == 0


def test_a_body_over_the_cap_gets_a_400_and_the_server_keeps_serving(
    portrait_server: RunningServer,
) -> None:
    with make_client(portrait_server) as client:
        huge = client.exchange(content=b"{" + b" " * MAX_BODY_BYTES + b"}")
        after = client.detect("http://127.0.0.1/x.png")
    assert (huge.response.status, outcome(huge)) == (400, "InvalidParameter")
    assert run_checks(huge, CONTRACTS) == []
    assert isinstance(after, CheckPassed)
    assert portrait_server.fake.requests == 1  # the oversized body never reached the fake
    assert portrait_server.requests_served == 2


def test_a_chunked_request_body_is_read_like_any_other(portrait_server: RunningServer) -> None:
    payload = json.dumps(detect_body("http://127.0.0.1/x.png")).encode()
    chunks = iter([payload[:10], payload[10:]])
    response = http_post(
        portrait_server.url,
        content=chunks,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {STUB_KEY}"},
    )
    assert response.status_code == 200
    assert response.json()["output"]["check_pass"] is True


# --- HTTP itself -----------------------------------------------------------------------------


def test_other_paths_answer_404_with_a_json_error_body(stub_server: RunningServer) -> None:
    origin = stub_server.base_url.removesuffix("/api/v1")
    for url in (
        stub_server.base_url + "/services/aigc/image2video/video-synthesis",
        origin + "/images/%2e%2e/face-detect/documented-pass-1-1.json",  # no way out of the dir
        origin + "/images/nothing-here.png",
    ):
        response = http_post(url, content=b"{}")
        assert response.status_code == 404
        assert response.headers["content-type"] == JSON_CONTENT_TYPE
        body = response.json()
        assert body["code"] == "NotFound"
        assert body["request_id"]
        assert ENDPOINT_PATH in body["message"]


def test_the_images_directory_is_served_with_its_media_types(stub_server: RunningServer) -> None:
    png = http_get(stub_server.image_url("portrait.png"))
    head = http_head(stub_server.image_url("photo.jpg"))
    assert png.headers["content-type"] == "image/png"
    assert png.content == (IMAGE_DIR / "portrait.png").read_bytes()
    assert head.status_code == 200
    assert head.headers["content-type"] == "image/jpeg"
    assert int(head.headers["content-length"]) == (IMAGE_DIR / "photo.jpg").stat().st_size


def test_a_malformed_request_line_gets_a_json_400(portrait_server: RunningServer) -> None:
    answer = raw_exchange(portrait_server, b"NONSENSE\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert f"content-type: {JSON_CONTENT_TYPE}".lower().encode() in head.lower()
    assert json.loads(body)["code"] == "InvalidParameter"


def test_a_gateway_prefix_moves_the_endpoint() -> None:
    with serve_in_thread(api_keys=[STUB_KEY], images=PortraitImages(), prefix="/qwen/api/v1/") as s:
        assert s.base_url.endswith("/qwen/api/v1")
        with make_client(s) as client:
            assert isinstance(client.detect("http://127.0.0.1/x.png"), CheckPassed)
        plain = http_post(s.base_url.replace("/qwen", "") + ENDPOINT_PATH, content=b"{}")
        assert plain.status_code == 404


def test_a_slow_client_does_not_block_others_and_is_cut_off_after_the_socket_timeout() -> None:
    with serve_in_thread(
        api_keys=[STUB_KEY], images=PortraitImages(), socket_timeout=0.5
    ) as server:
        host, port = server.server.server_address[:2]
        path = ("/api/v1" + ENDPOINT_PATH).encode()
        half_headers = socket.create_connection((str(host), int(port)), timeout=5)
        half_headers.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-")
        half_body = socket.create_connection((str(host), int(port)), timeout=5)
        half_body.sendall(b"POST " + path + b' HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"model"')
        with half_headers, half_body:
            started = time.monotonic()
            with make_client(server) as client:
                assert isinstance(client.detect("http://127.0.0.1/x.png"), CheckPassed)
            assert time.monotonic() - started < 0.45
            assert half_headers.recv(1024) == b""  # closed, unanswered, after about 0.5 s
            assert half_body.recv(1024) == b""
            assert time.monotonic() - started < 4


def test_a_client_that_disconnects_mid_request_does_not_kill_the_server(
    portrait_server: RunningServer, capfd: pytest.CaptureFixture[str]
) -> None:
    host, port = portrait_server.server.server_address[:2]
    path = ("/api/v1" + ENDPOINT_PATH).encode()
    with socket.create_connection((str(host), int(port))) as gone:
        gone.sendall(b"POST " + path + b" HTTP/1.1\r\nContent-Length: 500\r\n\r\n{")
    payload = json.dumps(detect_body("http://127.0.0.1/x.png")).encode()
    request = b"POST " + path + b" HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(payload)
    for _ in range(5):  # gone before reading the answer
        with socket.create_connection((str(host), int(port))) as impatient:
            impatient.sendall(request + payload)
    with make_client(portrait_server) as client:
        assert isinstance(client.detect("http://127.0.0.1/x.png"), CheckPassed)
    assert "Traceback" not in capfd.readouterr().err


def test_fifty_concurrent_clients_are_all_answered_correctly(stub_server: RunningServer) -> None:
    clients = [make_client(stub_server, timeout=15) for _ in range(50)]
    start = threading.Barrier(50)
    url = stub_server.image_url("portrait.png")

    def one(client: FaceDetectClient) -> CheckPassed:
        start.wait()
        with client:
            result = client.detect(url)
        assert isinstance(result, CheckPassed)
        return result

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, clients))
    assert len({result.request_id for result in results}) == 50
    for result in results:
        assert result.face_bbox == place_face(*PORTRAIT)
        assert run_checks(result.interaction, CONTRACTS) == []


def test_closing_the_server_ends_kept_alive_connections() -> None:
    with serve_in_thread(api_keys=[STUB_KEY], images=PortraitImages()) as server:
        client = make_client(server)
        assert isinstance(client.detect("http://127.0.0.1/x.png"), CheckPassed)
    with client, pytest.raises(EndpointUnreachable):
        client.detect("http://127.0.0.1/x.png")


# --- emulation knobs -------------------------------------------------------------------------


def test_beyond_qps_the_server_answers_429_with_retry_after_without_asking_the_fake() -> None:
    with serve_in_thread(api_keys=[STUB_KEY], images=PortraitImages(), qps=2) as server:
        with make_client(server) as client:
            answers = [client.exchange(detect_body("http://127.0.0.1/x.png")) for _ in range(5)]
        statuses = [answer.response.status for answer in answers]
        assert statuses == [200, 200, 429, 429, 429]
        for throttled in answers[2:]:
            assert outcome(throttled) == "Throttling.RateQuota"
            retry_after = throttled.response.headers["retry-after"]
            assert retry_after.isdigit()
            assert int(retry_after) >= 1
            assert run_checks(throttled, CONTRACTS) == []
        assert (server.requests_served, server.throttled, server.fake.requests) == (5, 3, 2)
        assert server.fake.billed == 2


def test_throttle_first_answers_429_until_the_client_has_retried_enough() -> None:
    waits: list[float] = []
    with serve_in_thread(api_keys=[STUB_KEY], images=PortraitImages(), throttle_first=2) as server:
        with make_client(server, max_retries=2, sleep=waits.append) as client:
            result = client.detect("http://127.0.0.1/x.png")
        assert isinstance(result, CheckPassed)
        assert waits == [1.0, 1.0]
        assert (server.throttled, server.fake.requests) == (2, 1)


def test_latency_delays_every_answer() -> None:
    """Every answer, a pass and a refusal alike, comes no sooner than the latency asked for."""
    slow = serve_in_thread(api_keys=[STUB_KEY], images=PortraitImages(), latency_ms=100)
    with slow as server, make_client(server) as client:
        client.detect("http://127.0.0.1/x.png")  # warm the connection
        elapsed = []
        for auth in ("key", "key", "none"):
            started = time.monotonic()
            client.exchange(detect_body("http://127.0.0.1/x.png"), auth=auth)
            elapsed.append(time.monotonic() - started)
    assert all(seconds >= 0.1 for seconds in elapsed), elapsed


def test_a_response_hook_rewrites_every_answer_into_a_drifted_server() -> None:
    seen: list[str] = []

    def rename_face_bbox(request: FakeRequest, response: FakeResponse) -> FakeResponse:
        seen.append(request.method)
        body = response.json()
        if "output" in body and "face_bbox" in body["output"]:
            body["output"]["bbox_face"] = body["output"].pop("face_bbox")
        return FakeResponse(response.status, response.headers, json.dumps(body).encode())

    with (
        serve_in_thread(
            api_keys=[STUB_KEY], images=PortraitImages(), response_hook=rename_face_bbox
        ) as server,
        make_client(server) as client,
    ):
        interaction = client.exchange(detect_body("http://127.0.0.1/x.png"))
        refused = client.exchange(detect_body("http://127.0.0.1/x.png"), auth="none")
    assert "bbox_face" in interaction.response.body["output"]
    assert run_checks(interaction, CONTRACTS) != []  # the checks see the drift
    assert outcome(refused) == "InvalidApiKey"
    assert seen == ["POST", "POST"]


def test_a_failing_response_hook_becomes_a_500_internal_error() -> None:
    def broken(request: FakeRequest, response: FakeResponse) -> FakeResponse:
        raise RuntimeError("the hook is broken")

    failing = serve_in_thread(api_keys=[STUB_KEY], images=PortraitImages(), response_hook=broken)
    with failing as server, make_client(server) as client:
        interaction = client.exchange(detect_body("http://127.0.0.1/x.png"), retry=False)
    assert (interaction.response.status, outcome(interaction)) == (500, "InternalError")


def test_the_accepted_key_comes_from_key_env_unless_api_keys_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STUB_TEST_KEY", SENTINEL)
    from_env = serve_in_thread(key_env="STUB_TEST_KEY", images=PortraitImages())
    with from_env as server, make_client(server, SENTINEL) as client:
        assert isinstance(client.detect("http://127.0.0.1/x.png"), CheckPassed)
    with (
        serve_in_thread(
            api_keys=["another"], key_env="STUB_TEST_KEY", images=PortraitImages()
        ) as explicit,
        make_client(explicit, SENTINEL) as client,
    ):
        assert outcome(client.exchange(detect_body("http://127.0.0.1/x.png"))) == ("InvalidApiKey")


def test_the_key_never_appears_in_the_server_output(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="facedetect_contract.doubles.server")
    to_stderr = logging.StreamHandler(sys.stderr)
    logging.getLogger("facedetect_contract.doubles.server").addHandler(to_stderr)

    def leaky(request: FakeRequest, response: FakeResponse) -> FakeResponse:
        if request.body == b"{}":
            raise RuntimeError(f"leaking {request.header('authorization')}")
        return response

    try:
        with serve_in_thread(
            api_keys=[SENTINEL], images=PortraitImages(), response_hook=leaky, throttle_first=1
        ) as server:
            with make_client(server, SENTINEL, max_retries=1, sleep=lambda _: None) as client:
                client.detect("http://127.0.0.1/x.png")
                client.exchange({}, retry=False)
                client.exchange(content=b"x" * (MAX_BODY_BYTES + 1))
            headers = {"Authorization": f"Bearer {SENTINEL}"}
            http_post(f"{server.url}?api_key={SENTINEL}", headers=headers, content=b"{}")
            http_get(f"{server.base_url}/{SENTINEL}", headers=headers)
            raw_exchange(server, f"GET /{SENTINEL} HTTP/1.1 junk\r\n\r\n".encode())
            shown = repr(server) + repr(server.server) + repr(server.fake)
    finally:
        logging.getLogger("facedetect_contract.doubles.server").removeHandler(to_stderr)
    captured = capfd.readouterr()
    assert caplog.records, "the access log should have recorded the requests"
    assert "Traceback" in caplog.text  # the leaky hook's traceback was logged, redacted
    for output in (captured.out, captured.err, caplog.text, shown):
        assert SENTINEL not in output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"failure_shape": "C"}, "failure_shape"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"qps": 0}, "qps"),
        ({"throttle_first": -1}, "throttle_first"),
        ({"prefix": "api/v1"}, "prefix"),
        ({"images_dir": "/no/such/dir"}, "images_dir"),
        ({"image_deadline": 0}, "image_deadline"),
        ({"image_deadline": float("inf")}, "image_deadline"),
    ],
)
def test_bad_options_are_refused_with_a_message_naming_them(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message), serve_in_thread(**options):
        pass  # pragma: no cover


# --- a stub that stays small (hostile clients) -------------------------------------------------


@pytest.mark.parametrize(
    "size_line",
    [b"-5", b"-1", b"+10", b"0x10", b"zz", b"", b"1" * 40],
    ids=["negative", "minus-one", "plus-sign", "0x-prefix", "not-hex", "empty", "huge"],
)
def test_a_malformed_chunk_size_gets_a_json_400_and_nothing_is_buffered(
    portrait_server: RunningServer, size_line: bytes
) -> None:
    head = (
        f"POST /api/v1{ENDPOINT_PATH} HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {STUB_KEY}\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    answer = raw_exchange(portrait_server, head + size_line + b"\r\n" + b"x" * 1000)
    status, _, rest = answer.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 400 ")
    assert json.loads(rest.partition(b"\r\n\r\n")[2])["code"] == "InvalidParameter"
    assert portrait_server.fake.requests == 0


def test_a_chunked_body_over_the_cap_is_refused_before_it_is_buffered(
    portrait_server: RunningServer,
) -> None:
    head = (
        f"POST /api/v1{ENDPOINT_PATH} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    declared = f"{MAX_BODY_BYTES * 64:x}".encode()  # a 64 MB chunk announced, never sent
    started = time.monotonic()
    answer = raw_exchange(portrait_server, head + declared + b"\r\n" + b"x" * 10)
    assert time.monotonic() - started < 4  # answered on the announcement, not after a wait
    assert answer.startswith(b"HTTP/1.1 400 ")
    body = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert body["code"] and body["request_id"]
    assert portrait_server.server.fake.requests == 0  # refused before the fake saw a thing


@pytest.mark.parametrize(
    "length",
    ["²", "1e3", "-4", "4, 5", "٣"],
    ids=["superscript", "exponent", "negative", "list", "arabic-indic"],
)
def test_a_content_length_that_is_not_ascii_digits_gets_a_json_400(
    portrait_server: RunningServer, length: str
) -> None:
    head = (
        f"POST /api/v1{ENDPOINT_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n"
    ).encode()
    answer = raw_exchange(portrait_server, head + b"{}")
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    head_part, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head_part.lower()
    error = json.loads(body)  # a documented error body, not a traceback or an HTML page
    assert set(error) >= {"code", "message", "request_id"}, error
    assert portrait_server.server.fake.requests == 0


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-16-le"])
def test_a_json_body_not_in_utf8_is_refused(portrait_server: RunningServer, encoding: str) -> None:
    payload = json.dumps(detect_body("http://127.0.0.1/x.png")).encode(encoding)
    response = http_post(
        portrait_server.url,
        content=payload,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {STUB_KEY}"},
    )
    assert (response.status_code, response.json()["code"]) == (400, "InvalidParameter")


def test_a_body_nested_100000_deep_is_a_400_not_a_server_error(
    portrait_server: RunningServer,
) -> None:
    response = http_post(
        portrait_server.url,
        content=b"[" * 100_000,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {STUB_KEY}"},
    )
    assert (response.status_code, response.json()["code"]) == (400, "InvalidParameter")


def test_the_stub_authenticates_before_it_throttles() -> None:
    """The documented limit is counted on keyed requests: no key is a 401, whatever the rate."""
    with serve_in_thread(api_keys=[STUB_KEY], images=PortraitImages(), qps=1) as server:
        statuses = [
            http_post(server.url, json=detect_body("http://127.0.0.1/x.png")).status_code
            for _ in range(5)
        ]
    assert statuses == [401] * 5


# --- images and defaults -----------------------------------------------------------------------


def test_the_stubs_own_files_are_judged_by_their_pixels_even_with_the_catalogue() -> None:
    """With the catalogue too, small.png (300x300) is too small on every port and under every
    loopback name, and portrait.png's face is where the pixels put it: never a hash's draw."""
    too_small = CONTRACTS.profile.rejection("image-resolution").code
    seen = set()
    for _ in range(2):  # two stubs, two ports
        with (
            serve_in_thread(api_keys=[STUB_KEY], images_dir=IMAGE_DIR, catalog=True) as s,
            make_client(s) as client,
        ):
            for host in ("127.0.0.1", "localhost"):
                small = s.image_url("small.png").replace("127.0.0.1", host)
                portrait = client.detect(s.image_url("portrait.png").replace("127.0.0.1", host))
                assert isinstance(portrait, CheckPassed)
                seen.add((outcome(client.exchange(detect_body(small))), portrait.face_bbox))
    assert seen == {(too_small, place_face(*PORTRAIT))}


@pytest.mark.parametrize(
    "mode",
    [{"images_dir": IMAGE_DIR}, {}, {"catalog": True}, {"catalog": True, "images_dir": IMAGE_DIR}],
    ids=["images-dir", "default", "catalog", "catalog-and-images-dir"],
)
def test_the_documented_example_images_answer_their_documented_boxes_in_every_mode(
    mode: dict[str, Any],
) -> None:
    with serve_in_thread(api_keys=[STUB_KEY], **mode) as s, make_client(s) as client:
        for example in CONTRACTS.profile.example_images:
            for ratio, crop in example.crop_boxes.items():
                result = client.detect(example.url, ratio)
                assert isinstance(result, CheckPassed), example.url
                assert (result.face_bbox, result.ext_bbox) == (example.face_box, crop)


def test_with_no_images_dir_the_stub_serves_the_images_the_package_ships() -> None:
    with serve_in_thread(api_keys=[STUB_KEY]) as s, make_client(s) as client:
        assert s.server.images_dir == IMAGE_DIR.resolve()
        for name in ("portrait.png", "photo.jpg"):
            assert http_get(s.image_url(name)).content == (IMAGE_DIR / name).read_bytes()
        assert outcome(client.exchange(detect_body(s.image_url("no-human.png")))) == (
            CONTRACTS.profile.rejection("no-face").code
        )


def test_the_wheel_carries_the_images_the_stub_serves_where_it_looks_for_them() -> None:
    """pyproject's force-include puts fixtures/images at the packaged path IMAGE_DIR prefers."""
    root = Path(__file__).resolve().parents[2]
    wheel = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]
    included = wheel["build"]["targets"]["wheel"]["force-include"]
    packaged = Path("facedetect_contract/_data/fixtures/images")
    assert Path(included["fixtures/images"]) == packaged
    assert IMAGE_DIR.resolve() in (root / "fixtures/images", root / packaged)


def test_origin_is_scheme_host_and_port_for_clients_that_add_the_prefix_themselves() -> None:
    with serve_in_thread(api_keys=[STUB_KEY], images=PortraitImages()) as s:
        host, port = s.server.server_address[:2]
        assert s.origin == f"http://{host!s}:{port}" == s.base_url.removesuffix(DEFAULT_PREFIX)
        response = http_post(
            s.origin + DEFAULT_PREFIX + ENDPOINT_PATH,
            json=detect_body("http://127.0.0.1/x.png"),
            headers={"Authorization": f"Bearer {STUB_KEY}"},
        )
        assert response.status_code == 200


# --- one options type --------------------------------------------------------------------------


def test_the_server_and_the_thread_take_one_options_type_and_keyword_changes_to_it() -> None:
    options = StubOptions(api_keys=iter([STUB_KEY]), images=PortraitImages(), failure_shape="B")
    assert options.api_keys == (STUB_KEY,)  # an iterator, kept as a tuple
    with serve_in_thread(options, latency_ms=1) as s:
        assert s.server.options == options.changed(latency_ms=1)
        assert s.fake.failure_shape == "B" and s.server.latency == 0.001
    server = StubServer(("127.0.0.1", 0), options)
    try:
        assert server.options is options and server.fake.failure_shape == "B"
    finally:
        server.server_close()


def test_an_option_that_does_not_exist_is_refused_naming_it_and_the_options() -> None:
    with pytest.raises(TypeError, match=r"no stub option 'qsp'; .*\bqps\b"):
        StubServer(("127.0.0.1", 0), qsp=5)
    with pytest.raises(TypeError, match="'qsp'"), serve_in_thread(qsp=5):
        pass  # pragma: no cover


def test_readings_are_given_to_the_fake_and_played_over_http() -> None:
    question = next(q for q in CONTRACTS.questions.values() if q.id == "failure-shape")
    for reading in (r.id for r in question.readings):
        with serve_in_thread(api_keys=[STUB_KEY], readings={question.id: reading}) as s:
            assert s.fake.failure_shape == reading
            with make_client(s) as client:
                failed = client.exchange(detect_body(s.image_url("no-human.png")))
            shape = next(k for k in CONTRACTS.profile.answers if k.shape == reading)
            assert failed.response.status == (shape.status or 200)


def test_only_urls_naming_the_bound_address_are_the_stubs_own_files() -> None:
    # Before: any loopback host counted, 127.0.0.2 and [::1] included, though the stub listens
    # on 127.0.0.1 only: a URL a real download could not reach was judged as the stub's file.
    with serve_in_thread(api_keys=[STUB_KEY]) as s:
        port, own = s.server.server_port, s.server.is_own_image
        assert own(s.image_url("portrait.png"))
        assert own(f"http://localhost:{port}/images/portrait.png")
        assert own(f"http://LOCALHOST:{port}/images/portrait.png")
        assert not own(f"http://127.0.0.2:{port}/images/portrait.png")
        assert not own(f"http://[::1]:{port}/images/portrait.png")
        assert not own(f"http://127.0.0.1:{port + 1}/images/portrait.png")
        assert not own(f"http://127.0.0.1:{port}/api/v1/portrait.png")
    try:
        server = StubServer(("::1", 0), api_keys=[STUB_KEY])
    except OSError:  # no IPv6 loopback on this machine
        return
    try:
        port, own = server.server_port, server.is_own_image
        assert own(f"http://[::1]:{port}/images/portrait.png")
        assert own(f"http://[0:0:0:0:0:0:0:1]:{port}/images/portrait.png")
        assert own(f"http://localhost:{port}/images/portrait.png")
        assert not own(f"http://127.0.0.1:{port}/images/portrait.png")
    finally:
        server.server_close()
