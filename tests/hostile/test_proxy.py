"""The fault proxy itself: every mode really delivers its fault to a client, over a real socket.

Each test puts a ``FaultProxy`` in front of a real stub server (``serve_in_thread``) and checks,
with httpx or a raw socket, that what arrives is the promised lie: the gzip that is not gzip,
the body shorter than its Content-Length, the drip that takes its intervals, the key echoed in
the spelling the mode names. These tests judge the proxy, not the client: what the client
makes of each fault is for the tests that use the proxy.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.doubles.server import RunningServer, serve_in_thread
from tests.hostile.proxy import ENDPOINT_PATH as PROXY_ENDPOINT_PATH
from tests.hostile.proxy import FAULTS, RETRY_AFTER_ODD, FaultProxy, ProxyRequest

ENDPOINT_PATH = load_contracts().profile.path
pytestmark = pytest.mark.hostile  # part of the hostile-endpoint harness: the slow tier

KEY = "sk-hostile-proxy-key-0123456789abcdef"
OTHER_KEY = "sk-hostile-proxy-other-key-fedcba9876"
SLASHED_KEY = "gw/key/with/slashes/0123456789"
README = Path(__file__).with_name("README.md")
Head = tuple[str, list[tuple[str, str]]]


# --- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stub() -> Iterator[RunningServer]:
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR) as running:
        yield running


@pytest.fixture(autouse=True)
def no_proxy_thread_outlives_its_test() -> Iterator[None]:
    yield
    alive = [t.name for t in threading.enumerate() if t.name.startswith("fault-proxy")]
    assert not alive, f"fault proxy threads left running: {alive}"


def body_for(stub: RunningServer, image: str = "portrait.png", ratio: str = "1:1") -> bytes:
    request = {"model": "emo-detect-v1", "input": {"image_url": stub.image_url(image)}}
    request["parameters"] = {"ratio": ratio}
    return json.dumps(request).encode()


def post(
    proxy: FaultProxy,
    stub: RunningServer,
    *,
    key: str | None = KEY,
    content: bytes | None = None,
    timeout: float = 5.0,
    follow_redirects: bool = False,
    max_redirects: int = 3,
) -> httpx.Response:
    """One POST through the proxy with httpx (no environment proxies, closed afterwards)."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    with httpx.Client(
        timeout=timeout,
        trust_env=False,
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
    ) as client:
        return client.post(proxy.url, content=content or body_for(stub), headers=headers)


def request_bytes(proxy: FaultProxy, stub: RunningServer, *, key: str | None = KEY) -> bytes:
    body = body_for(stub)
    lines = [
        f"POST {proxy.url.removeprefix(proxy.origin)} HTTP/1.1",
        f"Host: 127.0.0.1:{proxy.port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    if key is not None:
        lines.append(f"Authorization: Bearer {key}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def raw_post(
    proxy: FaultProxy,
    stub: RunningServer,
    *,
    key: str | None = KEY,
    timeout: float = 5.0,
    limit: int = 8 * 1024 * 1024,
) -> bytes:
    """Every byte the proxy sends back to one raw request, until it closes (bounded)."""
    received = bytearray()
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=timeout) as sock:
        sock.sendall(request_bytes(proxy, stub, key=key))
        while len(received) < limit and time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
    return bytes(received)


def timed_post(
    proxy: FaultProxy, stub: RunningServer, *, timeout: float = 10.0
) -> dict[str, float]:
    """Seconds from sending to the first byte, the end of the header block and the close."""
    marks: dict[str, float] = {}
    received = bytearray()
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=timeout) as sock:
        sock.sendall(request_bytes(proxy, stub))
        start = time.monotonic()
        for _ in range(100_000):  # a drip sends one byte per recv at most
            data = sock.recv(65536)
            if not data:
                break
            received += data
            marks.setdefault("first", time.monotonic() - start)
            if b"\r\n\r\n" in received:
                marks.setdefault("head", time.monotonic() - start)
        marks["closed"] = time.monotonic() - start
    marks["bytes"] = float(len(received))
    head, body = split(bytes(received))
    marks["body_bytes"] = float(len(body))
    assert int(header(head, "content-length") or -1) == len(body)
    return marks


def split(raw: bytes) -> tuple[Head, bytes]:
    """The first response of ``raw`` that is not informational: (status line, headers), body."""
    rest = raw
    for _ in range(10_000):
        head, sep, rest = rest.partition(b"\r\n\r\n")
        assert sep, f"no complete header block in {raw[:200]!r}"
        status_line, *lines = head.decode("utf-8", errors="replace").split("\r\n")
        if not re.match(r"HTTP/1\.[01] 1\d\d ", status_line):
            headers = [tuple(line.split(": ", 1)) for line in lines]
            return (status_line, [(name, value) for name, value in headers]), rest
    raise AssertionError("too many informational responses")


def header(head: Head, name: str) -> str | None:
    values = headers_named(head, name)
    return values[0] if values else None


def headers_named(head: Head, name: str) -> list[str]:
    return [value for key, value in head[1] if key.lower() == name.lower()]


def status_of(head: Head) -> int:
    return int(head[0].split(" ")[1])


# --- the registry and the machinery -----------------------------------------------------------------


@pytest.mark.parametrize("mode", sorted(FAULTS))
def test_every_mode_has_a_one_line_docstring_saying_what_the_gateway_does(mode: str) -> None:
    doc = FAULTS[mode].doc
    assert doc, f"{mode} has no docstring"
    assert "\n" not in doc, f"{mode}: the docstring must be one line"
    assert doc.endswith("."), f"{mode}: the docstring must be a sentence"


def test_the_readme_table_lists_every_mode_and_no_other() -> None:
    rows = re.findall(r"^\| `([a-z0-9-]+)` \|", README.read_text(encoding="utf-8"), re.MULTILINE)
    assert sorted(rows) == sorted(FAULTS)


def test_every_mode_has_a_test_of_its_own_in_this_module() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    untested = [mode for mode in FAULTS if mode != "passthrough" and f'"{mode}"' not in source]
    assert not untested, f"modes without a test: {untested}"


def test_the_proxy_fronts_the_same_endpoint_path_as_the_suite() -> None:
    assert PROXY_ENDPOINT_PATH == ENDPOINT_PATH


def test_an_honest_passthrough_answers_what_the_stub_answers(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url) as proxy:
        through = post(proxy, stub)
    direct = httpx.post(
        stub.url,
        content=body_for(stub),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"},
        trust_env=False,
    )
    assert through.status_code == direct.status_code == 200
    assert through.headers["content-type"] == direct.headers["content-type"]
    assert without_request_id(through) == without_request_id(direct)
    assert through.json()["output"]["check_pass"] is True


def without_request_id(response: httpx.Response) -> dict[str, Any]:
    return {k: v for k, v in response.json().items() if k != "request_id"}


def test_paths_other_than_the_endpoint_are_forwarded_unchanged_whatever_the_mode(
    stub: RunningServer,
) -> None:
    with FaultProxy(stub.base_url, "garbage-reply") as proxy:
        with httpx.Client(trust_env=False, timeout=5) as client:
            image = client.get(f"{proxy.origin}/images/portrait.png")
            missing = client.get(f"{proxy.origin}/images/nothing-here.png")
        assert proxy.requests_seen == 0
        assert proxy.other_requests == 2
    assert image.status_code == 200
    assert image.content == (IMAGE_DIR / "portrait.png").read_bytes()
    assert image.headers["content-type"] == "image/png"
    assert missing.status_code == 404


def test_the_base_url_keeps_the_upstream_prefix() -> None:
    with (
        serve_in_thread(api_keys=[KEY], prefix="/qwen/api/v1") as stub,
        FaultProxy(stub.base_url, "deep-json") as proxy,
    ):
        assert proxy.base_url == f"http://127.0.0.1:{proxy.port}/qwen/api/v1"
        assert proxy.url == proxy.base_url + ENDPOINT_PATH
        with httpx.Client(trust_env=False, timeout=5) as client:
            response = client.post(
                proxy.url, content=b"{}", headers={"Authorization": f"Bearer {KEY}"}
            )
    assert response.content == b"[" * 100_000


def test_only_key_faults_the_requests_carrying_that_key_and_forwards_the_rest(
    stub: RunningServer,
) -> None:
    with FaultProxy(stub.base_url, "empty-200", only_key=KEY) as proxy:
        keyless = post(proxy, stub, key=None)
        other = post(proxy, stub, key=OTHER_KEY)
        keyed = post(proxy, stub, key=KEY)
        assert (proxy.requests_seen, proxy.faults_applied) == (3, 1)
    assert keyless.status_code == other.status_code == 401
    assert keyless.json()["code"] == other.json()["code"] == "InvalidApiKey"
    assert (keyed.status_code, keyed.content) == (200, b"")


def test_nth_faults_only_the_numbered_requests(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "non-json-200", nth=[2, 4]) as proxy:
        answers = [post(proxy, stub).headers["content-type"] for _ in range(4)]
        assert proxy.faults_applied == 2
    assert answers == ["application/json;charset=UTF-8", "text/html"] * 2


def test_a_when_predicate_picks_the_requests_to_fault(stub: RunningServer) -> None:
    def three_by_four(request: ProxyRequest) -> bool:
        return b'"3:4"' in request.body

    with FaultProxy(stub.base_url, "odd-status", when=three_by_four, status=599) as proxy:
        square = post(proxy, stub, content=body_for(stub, ratio="1:1"))
        tall = post(proxy, stub, content=body_for(stub, ratio="3:4"))
    assert (square.status_code, tall.status_code) == (200, 599)


def test_a_mode_can_be_switched_while_the_proxy_runs(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url) as proxy:
        before = post(proxy, stub)
        proxy.set_mode("odd-status", status=600)
        after = post(proxy, stub)
    assert (before.status_code, after.status_code) == (200, 600)


@pytest.mark.parametrize(
    ("mode", "options", "message"),
    [
        ("gzip-lie", {}, "unknown fault mode 'gzip-lie'; known: bad-chunk-size"),
        (
            "drip-body",
            {"intervall": 1.0},
            "mode 'drip-body' has no option intervall; its options: interval, limit, step",
        ),
        ("drip-body", {"interval": "fast"}, "mode 'drip-body': option interval must be float"),
        ("empty-200", {"size": 1}, "mode 'empty-200' has no option size; its options: none"),
    ],
    ids=["unknown-mode", "misspelt-option", "mistyped-option", "option-of-another-mode"],
)
def test_an_unknown_mode_or_option_is_refused_naming_it(
    stub: RunningServer, mode: str, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        FaultProxy(stub.base_url, mode, **options)


@pytest.mark.parametrize(
    "upstream",
    ["http://192.0.2.1:8000/api/v1", "https://127.0.0.1/api/v1", "http://example.com/api/v1"],
    ids=["documentation-address", "https", "a-hostname"],
)
def test_an_upstream_that_is_not_plain_http_on_loopback_is_refused(upstream: str) -> None:
    with pytest.raises(ValueError, match="only fronts http:// on loopback"):
        FaultProxy(upstream)


def test_closing_frees_the_port_and_ends_kept_alive_connections(stub: RunningServer) -> None:
    proxy = FaultProxy(stub.base_url).start()
    port = proxy.port
    with httpx.Client(trust_env=False, timeout=5) as client:  # its connection stays kept alive
        assert client.post(proxy.url, content=body_for(stub)).status_code == 401
        started = time.monotonic()
        proxy.close()
        assert time.monotonic() - started < 2
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), timeout=2),
    ):
        pass


def test_closing_in_the_middle_of_a_five_second_drip_returns_at_once(stub: RunningServer) -> None:
    errors: list[BaseException] = []
    proxy = FaultProxy(stub.base_url, "drip-body").start()  # the default: 1 byte per 5 s

    def client() -> None:
        try:
            post(proxy, stub, timeout=20)
        except httpx.HTTPError as error:
            errors.append(error)

    thread = threading.Thread(target=client)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    proxy.close()
    closing = time.monotonic() - started
    thread.join(timeout=5)
    assert closing < 2
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], httpx.RemoteProtocolError)


def test_many_proxies_in_a_row_each_start_and_stop_cleanly(stub: RunningServer) -> None:
    ports = set()
    for mode in ["passthrough", "truncated-body", "reset-mid-body", "garbage-reply"] * 5:
        with FaultProxy(stub.base_url, mode) as proxy:
            ports.add(proxy.port)
            raw_post(proxy, stub)
            assert proxy.requests_seen == 1
    assert len(ports) > 1


@pytest.mark.parametrize(
    "mode",
    sorted(FAULTS),
)
def test_a_mode_asks_the_upstream_first_exactly_when_it_says_it_forwards(
    stub: RunningServer, mode: str
) -> None:
    options = FAST_OPTIONS.get(mode, {})
    with FaultProxy(stub.base_url, mode, **options) as proxy:
        raw_post(proxy, stub, limit=1)
        expected = 1 if FAULTS[mode].forwards else 0
        assert (proxy.requests_seen, proxy.upstream_calls) == (1, expected)


FAST_OPTIONS: dict[str, dict[str, Any]] = {
    "drip-body": {"interval": 0.001, "limit": 3},
    "drip-headers": {"interval": 0.001, "limit": 3},
    "stall-then-200": {"stall": 0.01},
    "huge-body": {"size": 1024 * 1024},
    "gzip-bomb": {"size": 1024 * 1024},
}


# --- the requested modes ----------------------------------------------------------------------------


def test_bad_gzip_echo_makes_httpx_raise_a_decoding_error(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "bad-gzip-echo") as proxy, pytest.raises(httpx.DecodingError):
        post(proxy, stub)


def test_bad_gzip_echo_sends_plain_json_echoing_the_authorization_header(
    stub: RunningServer,
) -> None:
    with FaultProxy(stub.base_url, "bad-gzip-echo") as proxy:
        head, body = split(raw_post(proxy, stub))
    assert header(head, "content-encoding") == "gzip"
    assert not body.startswith(b"\x1f\x8b")
    assert json.loads(body)["echo"]["headers"]["Authorization"] == f"Bearer {KEY}"


def test_truncated_body_declares_more_bytes_than_it_sends_then_closes(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "truncated-body", missing=50) as proxy:
        head, body = split(raw_post(proxy, stub))
        with pytest.raises(
            httpx.RemoteProtocolError, match="without sending complete message body"
        ):
            post(proxy, stub)
    assert int(header(head, "content-length") or 0) == len(body) + 50
    assert json.loads(body)["output"]["check_pass"] is True


def test_drip_body_sends_the_headers_at_once_and_the_body_one_byte_per_interval(
    stub: RunningServer,
) -> None:
    with FaultProxy(stub.base_url, "drip-body", interval=0.1, limit=8) as proxy:
        marks = timed_post(proxy, stub)
    assert marks["head"] - marks["first"] < 0.1  # the header block in one write
    assert (
        marks["closed"] - marks["head"] >= 8 * 0.1 - 0.02
    )  # 8 pauses: 7 between, 1 before the rest
    assert marks["body_bytes"] > 8


def test_drip_headers_sends_the_status_line_and_headers_one_byte_per_interval(
    stub: RunningServer,
) -> None:
    with FaultProxy(stub.base_url, "drip-headers", interval=0.1, limit=8) as proxy:
        marks = timed_post(proxy, stub)
    assert marks["head"] - marks["first"] >= 8 * 0.1 - 0.02
    assert marks["closed"] - marks["head"] < 0.1  # the body in one write


@pytest.mark.parametrize("mode", ["drip-body", "drip-headers"])
def test_the_drips_default_to_every_byte_at_five_second_intervals(mode: str) -> None:
    assert FAULTS[mode].defaults == {"interval": 5.0, "limit": 0, "step": 1}


def test_deep_json_is_a_200_of_100000_opening_brackets(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "deep-json") as proxy:
        response = post(proxy, stub)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.content == b"[" * 100_000


@pytest.mark.parametrize(
    "size", [3 * 1024 * 1024 + 7, None], ids=["3-MiB-and-7-bytes", "default-64-MiB"]
)
def test_huge_body_is_a_valid_json_answer_of_the_size_asked(
    stub: RunningServer, size: int | None
) -> None:
    options: dict[str, Any] = {} if size is None else {"size": size}
    with FaultProxy(stub.base_url, "huge-body", **options) as proxy:
        response = post(proxy, stub, timeout=30)
    assert len(response.content) == (size or 64 * 1024 * 1024)
    answer = response.json()
    assert answer["output"]["check_pass"] is True
    assert set(answer["padding"]) == {"a"}


def test_non_json_200_is_an_html_page_under_status_200(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "non-json-200") as proxy:
        response = post(proxy, stub)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html"
    assert response.text.startswith("<!DOCTYPE html>")
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_empty_200_is_json_labelled_and_has_no_body(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "empty-200") as proxy:
        head, body = split(raw_post(proxy, stub))
    assert status_of(head) == 200
    assert header(head, "content-length") == "0"
    assert header(head, "content-type") == "application/json;charset=UTF-8"
    assert body == b""


def test_retry_after_superscript_throttles_with_a_superscript_two(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "retry-after-superscript") as proxy:
        raw = raw_post(proxy, stub)
        response = post(proxy, stub)
    assert b"\r\nRetry-After: \xc2\xb2\r\n" in raw  # U+00B2 in UTF-8
    assert response.status_code == 429
    assert response.json()["code"] == "Throttling.RateQuota"
    assert response.headers["retry-after"] == "\u00b2"
    assert response.headers["retry-after"].isdigit()  # why it is hostile: str.isdigit says yes
    with pytest.raises(ValueError, match="could not convert"):
        float(response.headers["retry-after"])


@pytest.mark.parametrize(
    ("name", "value"), sorted(RETRY_AFTER_ODD.items()), ids=sorted(RETRY_AFTER_ODD)
)
def test_retry_after_odd_throttles_with_the_value_given(
    stub: RunningServer, name: str, value: str
) -> None:
    with FaultProxy(stub.base_url, "retry-after-odd", retry_after=value) as proxy:
        response = post(proxy, stub)
    assert response.status_code == 429
    assert response.json()["code"] == "Throttling.RateQuota"
    assert response.headers["retry-after"] == value


def test_odd_header_names_arrive_with_their_values_beside_the_upstream_answer(
    stub: RunningServer,
) -> None:
    with FaultProxy(stub.base_url, "odd-header-names") as proxy:
        response = post(proxy, stub)
    names = {name for name, _ in response.headers.raw}
    assert {b"X_Trace_Id", b"X.Acs.Id", b"X~Tilde", b"X!Bang"} <= names
    assert response.headers["x!bang"] == "bang!value"
    assert response.headers["x~tilde"] == "tilde~value"
    assert response.json()["output"]["check_pass"] is True


@pytest.mark.parametrize(
    ("mode", "status", "content_type", "marker"),
    [
        ("gateway-502-html", 502, "text/html", "<h1>502 Bad Gateway</h1>"),
        ("gateway-503-html", 503, "text/html", "<h1>503 Service Temporarily Unavailable</h1>"),
        ("gateway-504-json", 504, "application/json;charset=UTF-8", '"code":"GatewayTimeout"'),
    ],
    ids=["502-html", "503-html", "504-json"],
)
def test_gateway_errors_answer_every_request_the_same_way(
    stub: RunningServer, mode: str, status: int, content_type: str, marker: str
) -> None:
    with FaultProxy(stub.base_url, mode) as proxy:
        answers = [post(proxy, stub) for _ in range(3)]
        assert proxy.faults_applied == 3
    for response in answers:
        assert response.status_code == status
        assert response.headers["content-type"] == content_type
        assert marker in response.text


def test_gateway_504_json_has_a_code_and_message_and_no_request_id(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "gateway-504-json") as proxy:
        answer = post(proxy, stub).json()
    assert answer["code"] == "GatewayTimeout" and answer["message"]
    assert "request_id" not in answer


def test_bill_retried_bills_n_503s_per_request_before_the_real_answer(stub: RunningServer) -> None:
    served = stub.requests_served
    with FaultProxy(stub.base_url, "bill-retried", times=2) as proxy:
        first = [post(proxy, stub) for _ in range(3)]
        other = post(proxy, stub, content=body_for(stub, ratio="3:4"))
        upstream_asked = proxy.upstream_calls
    assert [r.status_code for r in first] == [503, 503, 200]
    assert [r.json()["usage"] for r in first[:2]] == [{"image_count": 1}] * 2
    assert first[0].json()["code"] == "ServiceUnavailable"
    assert first[2].json()["output"]["check_pass"] is True
    assert other.status_code == 503  # another request starts its own count
    assert upstream_asked == 1 == stub.requests_served - served  # the 503s never reached it


# --- the echoed key ------------------------------------------------------------------------------


def _all_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _all_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _all_strings(v)]
    return []


def _echo(body: bytes) -> Any:
    return json.loads(body)["gateway_echo"]


def check_raw(head: Head, body: bytes, key: str) -> None:
    assert f'"key":"{key}"'.encode() in body
    assert _echo(body) == {"authorization": f"Bearer {key}", "key": key}


def check_unicode(head: Head, body: bytes, key: str) -> None:
    assert key.encode() not in body
    escaped = "".join(f"\\u{ord(c):04x}" for c in key)
    assert escaped.encode() in body
    assert _echo(body) == {"authorization": f"Bearer {key}", "key": key}


def check_slash(head: Head, body: bytes, key: str) -> None:
    echoed = body.split(b'"gateway_echo"')[1]
    assert rb"\/keys\/" in echoed
    assert re.search(rb"(?<!\\)/", echoed) is None, "a slash left unescaped"
    assert _echo(body)["path"] == f"/keys/{key}/"


def check_mixed_case(head: Head, body: bytes, key: str) -> None:
    echo = _echo(body)
    assert echo["swapcase"] == key.swapcase() != key
    assert echo["alternating"].lower() == key.lower() and echo["alternating"] != key
    assert echo["upper"] == key.upper()
    assert echo["authorization_upper"] == f"BEARER {key.upper()}"


def check_glued(head: Head, body: bytes, key: str) -> None:
    assert _echo(body) == {
        "glued": f"abc{key}xyz",
        "glued_bearer": f"abcBearer {key}xyz",
        "no_space": f"Bearer{key}",
    }


def check_cut(head: Head, body: bytes, key: str) -> None:
    echo = _echo(body)
    assert echo["prefixes"] == [key[:n] for n in range(1, len(key))]
    assert echo["suffixes"] == [key[n:] for n in range(1, len(key))]
    for n in range(1, len(key)):
        assert any(
            text[:200].endswith(key[:n]) and text[200:] == key[n:] for text in echo["at_boundary"]
        )


def check_straddle(head: Head, body: bytes, key: str) -> None:
    echoed = _echo(body)
    assert echoed.index(key) == 190
    assert echoed[:200] == "." * 190 + key[:10]


def check_base64(head: Head, body: bytes, key: str) -> None:
    echo = _echo(body)
    assert base64.b64decode(echo["key"]).decode() == key
    assert base64.b64decode(echo["authorization"]).decode() == f"Bearer {key}"
    assert base64.urlsafe_b64decode(echo["key_urlsafe"] + "==").decode() == key
    assert key.encode() not in body


def check_header_name(head: Head, body: bytes, key: str) -> None:
    assert header(head, f"X-Echo-{key}") == "1"
    assert f"\r\nX-Echo-{key}: 1".encode() not in body


def check_header_value(head: Head, body: bytes, key: str) -> None:
    assert header(head, "X-Echo-Authorization") == f"Bearer {key}"
    assert header(head, "X-Echo-Key") == key
    assert header(head, "Set-Cookie") == f"gw_session={key}; Path=/; HttpOnly"


ECHO_CHECKS: dict[str, Callable[[Head, bytes, str], None]] = {
    "echo-key-raw": check_raw,
    "echo-key-unicode": check_unicode,
    "echo-key-slash": check_slash,
    "echo-key-mixed-case": check_mixed_case,
    "echo-key-glued": check_glued,
    "echo-key-cut": check_cut,
    "echo-key-straddle": check_straddle,
    "echo-key-base64": check_base64,
    "echo-key-header-name": check_header_name,
    "echo-key-header-value": check_header_value,
}


def test_every_echo_mode_has_a_check() -> None:
    assert sorted(ECHO_CHECKS) == sorted(m for m in FAULTS if m.startswith("echo-key-"))


@pytest.mark.parametrize("mode", sorted(ECHO_CHECKS))
def test_an_echo_mode_puts_the_key_in_the_answer_in_its_own_spelling(
    stub: RunningServer, mode: str
) -> None:
    with FaultProxy(stub.base_url, mode) as proxy:
        head, body = split(raw_post(proxy, stub))
    assert status_of(head) == 200
    ECHO_CHECKS[mode](head, body, KEY)
    if not mode.startswith("echo-key-header"):
        assert json.loads(body)["output"]["check_pass"] is True  # the real answer is still there


def test_echo_key_slash_hides_a_key_holding_slashes_from_a_byte_for_byte_search(
    stub: RunningServer,
) -> None:
    with FaultProxy(stub.base_url, "echo-key-slash") as proxy:
        head, body = split(raw_post(proxy, stub, key=SLASHED_KEY))
    assert status_of(head) == 401  # the stub does not know the key: the echo comes anyway
    assert SLASHED_KEY.encode() not in body
    assert SLASHED_KEY.replace("/", "\\/").encode() in body
    assert _echo(body)["key"] == SLASHED_KEY


def test_an_echo_can_be_put_in_any_field_under_any_status(stub: RunningServer) -> None:
    with FaultProxy(
        stub.base_url, "echo-key-straddle", field="output.check_pass", status=401
    ) as proxy:
        head, body = split(raw_post(proxy, stub))
    assert status_of(head) == 401
    echoed = json.loads(body)["output"]["check_pass"]
    assert echoed == "." * 190 + KEY + "." * 20


@pytest.mark.parametrize("point", [117, 200, 1000])
def test_the_cut_boundary_and_the_straddle_filler_put_the_key_across_any_point(
    stub: RunningServer, point: int
) -> None:
    with FaultProxy(stub.base_url, "echo-key-cut", boundary=point) as proxy:
        cuts = _echo(split(raw_post(proxy, stub))[1])["at_boundary"]
    with FaultProxy(stub.base_url, "echo-key-straddle", filler=point - 5) as proxy:
        straddle = _echo(split(raw_post(proxy, stub))[1])
    assert {text[:point][-3:] for text in cuts} >= {KEY[:3], KEY[-4:-1]}
    assert all(text.index(KEY) < point < text.index(KEY) + len(KEY) for text in cuts)
    assert straddle[:point].endswith(KEY[:5]) and straddle.index(KEY) == point - 5


def test_an_echo_without_a_key_echoes_nothing_secret(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "echo-key-raw") as proxy:
        head, body = split(raw_post(proxy, stub, key=None))
    assert status_of(head) == 401
    assert _echo(body) == {"authorization": "", "key": ""}


# --- more hostile gateways -------------------------------------------------------------------------


def test_http10_close_delimited_has_no_content_length_and_ends_at_the_close(
    stub: RunningServer,
) -> None:
    with FaultProxy(stub.base_url, "http10-close-delimited") as proxy:
        head, body = split(raw_post(proxy, stub))
        response = post(proxy, stub)
    assert head[0] == "HTTP/1.0 200 OK"
    assert header(head, "content-length") is None and header(head, "transfer-encoding") is None
    assert json.loads(body)["output"]["check_pass"] is True
    assert response.http_version == "HTTP/1.0" and response.json()["output"]["check_pass"] is True


def test_conflicting_content_length_sends_two_lengths_that_httpx_refuses(
    stub: RunningServer,
) -> None:
    with FaultProxy(stub.base_url, "conflicting-content-length") as proxy:
        head, body = split(raw_post(proxy, stub))
        with pytest.raises(httpx.RemoteProtocolError, match="conflicting Content-Length"):
            post(proxy, stub)
    lengths = headers_named(head, "content-length")
    assert lengths == [str(len(body)), str(len(body) + 10)]


def test_conflicting_content_type_labels_the_json_twice_differently(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "conflicting-content-type") as proxy:
        response = post(proxy, stub)
    assert response.headers.get_list("content-type") == [
        "application/json;charset=UTF-8",
        "text/html; charset=iso-8859-1",
    ]
    assert response.json()["output"]["check_pass"] is True


def test_html_content_type_labels_a_json_answer_as_html(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "html-content-type") as proxy:
        response = post(proxy, stub)
    assert response.headers.get_list("content-type") == ["text/html"]
    assert response.json()["output"]["check_pass"] is True


def test_redirect_loop_sends_a_following_client_back_to_the_same_url(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "redirect-loop") as proxy:
        url = proxy.url
        first = post(proxy, stub)
        with pytest.raises(httpx.TooManyRedirects):
            post(proxy, stub, follow_redirects=True, max_redirects=3)
        assert proxy.requests_seen == 1 + 4
        assert proxy.upstream_calls == 0
    assert first.status_code == 307
    assert first.headers["location"] == url


def test_redirect_elsewhere_points_at_another_host(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "redirect-elsewhere") as proxy:
        response = post(proxy, stub)  # not followed: nothing may leave loopback
    assert response.status_code == 302
    location = httpx.URL(response.headers["location"])
    assert location.host == "gateway.invalid"


def test_continue_storm_sends_a_thousand_100_continue_before_the_answer(
    stub: RunningServer,
) -> None:
    with FaultProxy(stub.base_url, "continue-storm") as proxy:
        raw = raw_post(proxy, stub)
        response = post(proxy, stub)
    assert raw.count(b"HTTP/1.1 100 Continue\r\n\r\n") == 1000
    assert raw.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    head, body = split(raw)
    assert status_of(head) == 200 and json.loads(body)["output"]["check_pass"] is True
    assert response.status_code == 200


def test_reset_mid_body_sends_half_the_body_then_a_reset(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "reset-mid-body") as proxy:
        head, body = split(raw_post(proxy, stub))
        with pytest.raises(httpx.ReadError):
            post(proxy, stub)
    declared = int(header(head, "content-length") or 0)
    assert 0 < len(body) < declared


def test_invalid_utf8_puts_bytes_that_are_not_utf8_in_the_json(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "invalid-utf8") as proxy:
        _, body = split(raw_post(proxy, stub))
    assert b"\xff\xfe" in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert json.loads(body.decode("latin-1"))["output"]["check_pass"] is True


def test_utf8_bom_prefixes_the_json_with_a_byte_order_mark(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "utf8-bom") as proxy:
        _, body = split(raw_post(proxy, stub))
    assert body.startswith(b"\xef\xbb\xbf{")
    with pytest.raises(json.JSONDecodeError, match="BOM"):
        json.loads(body.decode("utf-8"))
    assert json.loads(body.decode("utf-8-sig"))["output"]["check_pass"] is True


def test_utf16_json_is_the_json_encoded_as_utf16(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "utf16-json") as proxy:
        head, body = split(raw_post(proxy, stub))
    assert header(head, "content-type") == "application/json; charset=utf-16"
    assert body.startswith(b"\xff\xfe{\x00")
    assert json.loads(body.decode("utf-16"))["output"]["check_pass"] is True


def test_nan_literals_write_the_boxes_as_nan_and_infinity(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "nan-literals") as proxy:
        _, body = split(raw_post(proxy, stub))
    assert b'"face_bbox":[NaN,Infinity,-Infinity,NaN]' in body

    def strict(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    with pytest.raises(ValueError, match="NaN is not JSON"):
        json.loads(body, parse_constant=strict)


@pytest.mark.parametrize(
    "digits", [1000, 5000], ids=["1000-digits", "5000-digits-beyond-int-parsing"]
)
def test_huge_integers_write_box_coordinates_with_that_many_digits(
    stub: RunningServer, digits: int
) -> None:
    with FaultProxy(stub.base_url, "huge-integers", digits=digits) as proxy:
        _, body = split(raw_post(proxy, stub))
    numbers = re.findall(rb"\d+", body.split(b'"face_bbox":')[1].split(b"]")[0])
    assert [len(n) for n in numbers] == [digits] * 4
    if digits <= 4300:  # Python's default int string conversion limit
        assert len(str(json.loads(body)["output"]["ext_bbox"][3])) == digits
    else:
        with pytest.raises(ValueError, match="limit"):
            json.loads(body)


def test_float_boxes_write_the_box_coordinates_as_floats(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "float-boxes") as proxy:
        output = json.loads(split(raw_post(proxy, stub))[1])["output"]
    assert all(type(v) is float for v in output["face_bbox"] + output["ext_bbox"])
    assert output["face_bbox"][1] % 1 == 0.5


def test_duplicate_keys_repeat_keys_with_other_values(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "duplicate-keys") as proxy:
        _, body = split(raw_post(proxy, stub))
    pairs: list[list[tuple[str, Any]]] = []

    def keep_pairs(object_pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        pairs.append(object_pairs)
        return dict(object_pairs)

    last_wins = json.loads(body, object_pairs_hook=keep_pairs)
    assert [k for k, _ in pairs[-1]].count("output") == 2
    assert [k for k, _ in pairs[-1]].count("request_id") == 2
    assert any([k for k, _ in p] == ["check_pass", "check_pass"] for p in pairs)
    assert last_wins["output"] == {"check_pass": False}  # what Python keeps
    assert body.index(b'"check_pass":true') < body.index(b'"check_pass":false')


def test_same_request_id_gives_every_answer_the_same_request_id(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "same-request-id") as proxy:
        ids = {post(proxy, stub, key=key).json()["request_id"] for key in (KEY, None, OTHER_KEY)}
    assert ids == {"gw-same-request-id"}


def test_garbage_reply_is_not_http_at_all(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "garbage-reply") as proxy:
        raw = raw_post(proxy, stub)
        with pytest.raises(httpx.RemoteProtocolError):
            post(proxy, stub)
    assert raw.startswith(b"SSH-2.0-")
    assert b"HTTP/" not in raw and bytes(range(256)) in raw


def test_bad_status_line_starts_the_answer_with_a_status_that_is_no_number(
    stub: RunningServer,
) -> None:
    with FaultProxy(stub.base_url, "bad-status-line") as proxy:
        raw = raw_post(proxy, stub)
        with pytest.raises(httpx.RemoteProtocolError, match="illegal status line"):
            post(proxy, stub)
    assert raw.startswith(b"HTTP/1.1 2OO OK\r\n")


def test_header_flood_adds_five_thousand_headers(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "header-flood") as proxy:
        head, body = split(raw_post(proxy, stub))
    assert len([k for k, _ in head[1] if k.startswith("X-Flood-")]) == 5000
    assert json.loads(body)["output"]["check_pass"] is True


def test_huge_header_value_is_a_megabyte_that_httpx_refuses(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "huge-header-value") as proxy:
        head, _ = split(raw_post(proxy, stub))
        with pytest.raises(httpx.RemoteProtocolError):
            post(proxy, stub)
    assert header(head, "X-Huge") == "h" * (1024 * 1024)


@pytest.mark.parametrize(
    "size", ["-5", "zz", "ffffffffffffffffffff"], ids=["negative", "not-hex", "absurd"]
)
def test_bad_chunk_size_frames_the_body_with_a_chunk_size_httpx_refuses(
    stub: RunningServer, size: str
) -> None:
    with FaultProxy(stub.base_url, "bad-chunk-size", size=size) as proxy:
        head, body = split(raw_post(proxy, stub))
        with pytest.raises(httpx.RemoteProtocolError):
            post(proxy, stub)
    assert header(head, "transfer-encoding") == "chunked"
    assert body.startswith(size.encode() + b"\r\n{")


def test_stall_then_200_says_nothing_for_the_stall_then_answers(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "stall-then-200", stall=0.5) as proxy:
        with pytest.raises(httpx.ReadTimeout):
            post(proxy, stub, timeout=0.2)
        started = time.monotonic()
        response = post(proxy, stub)
        assert time.monotonic() - started >= 0.5
    assert response.status_code == 200 and response.headers["connection"] == "close"
    assert (
        FAULTS["stall-then-200"].defaults["stall"] > 30
    )  # longer than the client's default timeout


def test_lying_deflate_labels_plain_json_as_deflate(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "lying-deflate") as proxy:
        head, body = split(raw_post(proxy, stub))
        with pytest.raises(httpx.DecodingError):
            post(proxy, stub)
    assert header(head, "content-encoding") == "deflate"
    assert json.loads(body)["output"]["check_pass"] is True


def test_lying_br_labels_plain_json_as_brotli(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "lying-br") as proxy:
        head, body = split(raw_post(proxy, stub))
    assert header(head, "content-encoding") == "br"
    assert json.loads(body)["output"]["check_pass"] is True  # plain: not Brotli at all


def test_gzip_bomb_is_valid_gzip_inflating_a_hundredfold_and_more(stub: RunningServer) -> None:
    size = 16 * 1024 * 1024
    with FaultProxy(stub.base_url, "gzip-bomb", size=size) as proxy:
        head, body = split(raw_post(proxy, stub))
        response = post(proxy, stub)
    assert header(head, "content-encoding") == "gzip"
    assert len(body) < size // 100
    assert len(response.content) == size
    assert response.json()["padding"].strip("0") == ""


@pytest.mark.parametrize("status", [299, 599, 600])
def test_odd_status_answers_the_upstream_body_under_that_status(
    stub: RunningServer, status: int
) -> None:
    with FaultProxy(stub.base_url, "odd-status", status=status) as proxy:
        response = post(proxy, stub)
    assert response.status_code == status
    assert response.json()["output"]["check_pass"] is True


def test_short_content_length_leaves_half_the_body_for_the_next_answer(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "short-content-length") as proxy:
        head, rest = split(raw_post(proxy, stub))
    declared = int(header(head, "content-length") or 0)
    assert 0 < declared < len(rest)
    with pytest.raises(json.JSONDecodeError):
        json.loads(rest[:declared])
    assert json.loads(rest)["output"]["check_pass"] is True


def test_extra_response_follows_the_answer_with_an_unrequested_one(stub: RunningServer) -> None:
    with FaultProxy(stub.base_url, "extra-response") as proxy:
        raw = raw_post(proxy, stub)
    head, rest = split(raw)
    length = int(header(head, "content-length") or 0)
    assert json.loads(rest[:length])["output"]["check_pass"] is True
    stray_head, stray_body = split(rest[length:])
    assert status_of(stray_head) == 200
    assert json.loads(stray_body)["request_id"] == "stray"


def test_unknown_field_flood_adds_thousands_of_undocumented_fields_to_the_output(
    stub: RunningServer,
) -> None:
    with FaultProxy(stub.base_url, "unknown-field-flood", count=300) as proxy:
        answer = post(proxy, stub)
    output = answer.json()["output"]
    assert answer.status_code == 200
    assert output["check_pass"] is True
    assert sum(1 for name in output if name.startswith("flood_")) == 300
