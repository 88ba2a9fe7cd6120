"""The client: base URL and key from the environment, retries, typed errors, and no key leaks."""

from __future__ import annotations

import base64
import dataclasses
import email.utils
import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from facedetect_contract import client as client_module
from facedetect_contract.client import (
    INVALID_KEY,
    MAX_RESPONSE_BYTES,
    AccessDenied,
    AuthenticationFailed,
    CheckFailed,
    CheckPassed,
    EndpointBroken,
    EndpointUnreachable,
    FaceDetectClient,
    FaceDetectError,
    InvalidRequest,
    ModelNotFound,
    RequestError,
    ServerError,
    Throttled,
    UnexpectedResponse,
    _BearerAuth,
    endpoint_url,
    retry_after_seconds,
)
from facedetect_contract.contracts.loader import Contracts, load_contracts
from facedetect_contract.core.interaction import Interaction
from facedetect_contract.core.redaction import Secret
from facedetect_contract.core.transport import _clamped
from facedetect_contract.doubles.fake import FaceDetectFake, FakeRequest

DEFAULT_BASE_URL = load_contracts().profile.default_base_url

# Not "sk-..." on purpose: the generic key pattern must not be what hides it.
SENTINEL = "gwkey-SENTINEL-0123456789abcdef"
# Every client here talks to an in-process transport; its base URL is loopback all the same
# (port 9, the discard port), so that no change to the client can send a request anywhere else.
LOOPBACK = "http://127.0.0.1:9/api/v1"
ENDPOINT = f"{LOOPBACK}/services/aigc/image2video/face-detect"
ENV = {"DASHSCOPE_API_KEY": SENTINEL, "DASHSCOPE_HTTP_BASE_URL": LOOPBACK}
PASS = {
    "output": {
        "check_pass": True,
        "face_bbox": [302, 286, 610, 593],
        "ext_bbox": [71, 9, 840, 778],
    },
    "usage": {"image_count": 1},
    "request_id": "r-1",
}


def responder(
    *answers: tuple[int, dict[str, str], object],
) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport giving ``answers`` in turn (the last one repeats), recording requests."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status, headers, body = answers[min(len(seen), len(answers)) - 1]
        content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        return httpx.Response(
            status, headers={"content-type": "application/json", **headers}, content=content
        )

    return httpx.MockTransport(handle), seen


@pytest.mark.parametrize(
    ("base_url", "environ", "expected"),
    [
        (None, {}, f"{DEFAULT_BASE_URL}/services/aigc/image2video/face-detect"),
        (
            None,
            {"DASHSCOPE_HTTP_BASE_URL": "http://127.0.0.1:9/api/v1"},
            "http://127.0.0.1:9/api/v1/services/aigc/image2video/face-detect",
        ),
        (
            "https://gw.example.com/qwen/api/v1/",
            {"DASHSCOPE_HTTP_BASE_URL": "http://ignored"},
            "https://gw.example.com/qwen/api/v1/services/aigc/image2video/face-detect",
        ),
    ],
    ids=["default", "from the environment", "gateway prefix wins over the environment"],
)
def test_the_endpoint_is_appended_to_the_base_url(
    base_url: str | None, environ: dict[str, str], expected: str
) -> None:
    assert endpoint_url(base_url, environ) == expected


@pytest.mark.parametrize(
    "bad", ["ftp://example.com/api/v1", "dashscope.aliyuncs.com/api/v1", "https://x.com/api/v1?q=1"]
)
def test_a_base_url_that_is_not_an_http_api_root_is_refused_with_the_fix(bad: str) -> None:
    with pytest.raises(ValueError, match=r"API root|http"):
        endpoint_url(bad, {})


def test_the_key_is_sent_as_a_bearer_token_and_the_gateway_path_is_used() -> None:
    transport, seen = responder((200, {}, PASS))
    with FaceDetectClient(
        base_url="http://127.0.0.1:9/qwen/api/v1", environ=ENV, transport=transport
    ) as client:
        result = client.detect("https://example.com/p.png")
    assert isinstance(result, CheckPassed)
    assert seen[0].url.path == "/qwen/api/v1/services/aigc/image2video/face-detect"
    assert seen[0].headers["authorization"] == f"Bearer {SENTINEL}"
    assert json.loads(seen[0].content) == {
        "model": "emo-detect-v1",
        "input": {"image_url": "https://example.com/p.png"},
        "parameters": {"ratio": "1:1"},
    }
    assert "x-dashscope-async" not in seen[0].headers


def test_without_a_key_a_request_needing_one_is_refused_before_sending() -> None:
    transport, seen = responder((200, {}, PASS))
    with (
        FaceDetectClient(environ={}, transport=transport) as client,
        pytest.raises(FaceDetectError, match="DASHSCOPE_API_KEY"),
    ):
        client.detect("https://example.com/p.png")
    assert seen == []


def test_retries_honour_retry_after_and_stop_at_the_bound() -> None:
    transport, seen = responder(
        (
            429,
            {"retry-after": "3"},
            {"code": "Throttling.RateQuota", "message": "m", "request_id": "a"},
        ),
        (503, {}, {"code": "ModelUnavailable", "message": "m", "request_id": "b"}),
        (200, {}, PASS),
    )
    waits: list[float] = []
    with FaceDetectClient(
        environ=ENV, transport=transport, sleep=waits.append, backoff=0.5
    ) as client:
        assert isinstance(client.detect("https://example.com/p.png"), CheckPassed)
    assert len(seen) == 3
    assert waits[0] == 3.0
    assert 1.0 <= waits[1] <= 1.25  # no hint: backoff * 2**1 with up to 25 % jitter


def test_retries_are_bounded_and_the_last_error_is_raised_typed() -> None:
    transport, seen = responder(
        (500, {}, {"code": "InternalError", "message": "m", "request_id": "r"})
    )
    waits: list[float] = []
    with (
        FaceDetectClient(
            environ=ENV, transport=transport, sleep=waits.append, max_retries=3
        ) as client,
        pytest.raises(ServerError) as raised,
    ):
        client.detect("https://example.com/p.png")
    assert len(seen) == 4 and len(waits) == 3
    assert raised.value.code == "InternalError" and raised.value.retryable


def test_the_retry_jitter_leaves_the_global_random_state_alone() -> None:
    """A live run draws Hypothesis examples in one thread while its client retries in another:
    jitter drawn from the global ``random`` moved its state under the draw (a flaky failure)."""
    import random

    transport, _seen = responder(
        (500, {}, {"code": "InternalError", "message": "m", "request_id": "r"})
    )
    waits: list[float] = []
    before = random.getstate()
    with (
        FaceDetectClient(
            environ=ENV, transport=transport, sleep=waits.append, max_retries=3
        ) as client,
        pytest.raises(ServerError),
    ):
        client.detect("https://example.com/p.png")
    assert len(waits) == 3 and len(set(waits)) == 3  # jittered backoff all the same
    assert random.getstate() == before


def test_a_huge_retry_after_is_capped() -> None:
    transport, _seen = responder(
        (429, {"retry-after": "86400"}, {"code": "Throttling", "message": "m", "request_id": "r"})
    )
    waits: list[float] = []
    with (
        FaceDetectClient(
            environ=ENV, transport=transport, sleep=waits.append, max_retry_wait=7
        ) as client,
        pytest.raises(Throttled) as raised,
    ):
        client.detect("https://example.com/p.png")
    assert waits == [7, 7]
    assert raised.value.retry_after == 86400


@pytest.mark.parametrize(
    ("status", "code", "error_type"),
    [(400, "InvalidParameter", InvalidRequest), (401, "InvalidApiKey", AuthenticationFailed)],
)
def test_request_failures_are_not_retried(
    status: int, code: str, error_type: type[Exception]
) -> None:
    transport, seen = responder((status, {}, {"code": code, "message": "m", "request_id": "r"}))
    with FaceDetectClient(environ=ENV, transport=transport) as client, pytest.raises(error_type):
        client.detect("https://example.com/p.png")
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, "<html>gateway</html>"),
        (200, {"code": "InvalidApiKey", "message": "m", "request_id": "r"}),
        (302, {}),
        (
            200,
            {"output": {"check_pass": True, "face_bbox": ["1", 2, 3, 4], "ext_bbox": [1, 2, 3, 4]}},
        ),
    ],
    ids=["html", "error body under 200", "redirect", "string box"],
)
def test_a_response_no_documented_reading_explains_raises_unexpected_response(
    status: int, body: object
) -> None:
    transport, _seen = responder((status, {}, body))
    with (
        FaceDetectClient(environ=ENV, transport=transport) as client,
        pytest.raises(UnexpectedResponse),
    ):
        client.detect("https://example.com/p.png")


@pytest.mark.parametrize(
    ("failure", "error", "says"),
    [
        (httpx.ConnectError(f"refused {SENTINEL}"), EndpointUnreachable, "unreachable"),
        (httpx.ReadTimeout(f"slow {SENTINEL}"), EndpointBroken, "no complete answer"),
        (httpx.DecodingError(f"Bearer {SENTINEL}"), EndpointBroken, "does not decode"),
        (httpx.RemoteProtocolError(SENTINEL), EndpointBroken, "broke HTTP"),
        (ValueError(SENTINEL), EndpointBroken, "the exchange failed"),
    ],
    ids=["refused", "timeout", "bad-encoding", "protocol-error", "anything-else"],
)
def test_a_transport_failure_is_a_typed_error_of_the_run_without_the_key(
    failure: Exception, error: type[Exception], says: str
) -> None:
    """Whatever the transport raises, even with the key in its text, comes out typed and clean."""

    def handle(request: httpx.Request) -> httpx.Response:
        raise failure

    client = FaceDetectClient(environ=ENV, transport=httpx.MockTransport(handle))
    with client, pytest.raises(error) as raised:
        client.detect("https://example.com/p.png")
    assert says in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__context__ is not None
    assert raised.value.__suppress_context__  # pytest prints no chained traceback
    assert SENTINEL not in str(raised.value) and SENTINEL not in repr(raised.value)


def test_the_key_appears_in_no_repr_str_error_or_recorded_interaction() -> None:
    transport, _seen = responder(
        (
            401,
            {},
            {
                "code": "InvalidApiKey",
                "message": f"Invalid API-key provided: {SENTINEL}",
                "request_id": "r",
            },
        )
    )
    with FaceDetectClient(environ=ENV, transport=transport) as client:
        with pytest.raises(AuthenticationFailed) as raised:
            client.detect("https://example.com/p.png")
        texts = [
            repr(client),
            str(client),
            str(raised.value),
            repr(raised.value),
            repr(raised.value.interaction.request),
        ]
    assert all(SENTINEL not in text for text in texts), texts
    assert raised.value.interaction.request.headers["authorization"] == "Bearer <redacted>"


def test_a_base_url_with_credentials_is_refused_without_showing_them() -> None:
    with pytest.raises(ValueError, match="credentials") as raised:
        endpoint_url(f"https://user:{SENTINEL}@gw.example.com/api/v1", {})
    assert SENTINEL not in str(raised.value)
    assert "gw.example.com" in str(raised.value)


# --- the rules, one by one ---------------------------------------------------------------------
#
# Keys of several shapes: a DashScope-like key, a gateway key, a JWT, a base32-looking run and one
# full of punctuation. None of them is real; the generic key-like pattern must not be what hides
# any of them.
KEYS = (
    "sk-" + "0f3c9a7e" * 4,
    "gwkey-SENTINEL-5e4f5e4f5e4f5e4f5e4f5e4f",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZW50aW5lbCJ9.c2VudGluZWwtc2lnbmF0dXJl",
    "SENTINELKEYABCDEFGHIJKLMNOP234567",
    "k~e_y.S+E/N=T-1N3L!42:sentinel",
)
ERROR = {"code": "InternalError", "message": "m", "request_id": "r"}
NOWHERE = httpx.MockTransport(lambda request: httpx.Response(599))  # for clients that send nothing
PAGE = "<html><body>" + "bad gateway " * 40 + "</body></html>"  # a gateway's page, not JSON


def leaks(key: str, text: str) -> bool:
    """Whether ``text`` shows ``key``: in any case, base64 or hex."""
    lowered = text.lower()
    forms = (key.lower(), base64.b64encode(key.encode()).decode().lower(), key.encode().hex())
    return any(form in lowered for form in forms)


def assert_hidden(key: str, *texts: str) -> None:
    """No text shows the key. Raised by hand: a failure names the text by its place, and
    pytest's assertion rewriting never gets to print the key or the text."""
    for place, text in enumerate(texts):
        if leaks(key, text):
            raise AssertionError(f"text #{place} shows the key")


def assert_sent_as_bearer(request: httpx.Request, key: str) -> None:
    """The request carried ``Authorization: Bearer <key>`` (checked without printing it)."""
    if request.headers.get("authorization") != f"Bearer {key}":
        raise AssertionError("the request did not carry the key as its bearer token")


def client_for(
    *answers: tuple[int, dict[str, str], object], **options: Any
) -> tuple[FaceDetectClient, list[httpx.Request]]:
    transport, seen = responder(*answers)
    options.setdefault("environ", ENV)
    options.setdefault("sleep", lambda seconds: None)
    return FaceDetectClient(transport=transport, **options), seen


def fake_transport(fake: FaceDetectFake) -> httpx.MockTransport:
    """The fake behind an in-process transport: the client meets the documented endpoint."""

    def handle(request: httpx.Request) -> httpx.Response:
        answer = fake(FakeRequest(request.method, dict(request.headers), request.content))
        return httpx.Response(answer.status, headers=dict(answer.headers), content=answer.body)

    return httpx.MockTransport(handle)


def other_contracts(tmp_path: Path, **endpoint: str) -> Contracts:
    """A sibling model's contracts folder (ARCHITECTURE, "a model on the same path"): the
    project's, with ``endpoint`` fields of endpoint.json changed."""
    directory = tmp_path / "sibling"
    shutil.copytree(load_contracts().directory, directory)
    profile = directory / "endpoint.json"
    data = json.loads(profile.read_text())
    data["endpoint"].update(endpoint)
    profile.write_text(json.dumps(data))
    return load_contracts(directory)


# Base URL: the option, then $DASHSCOPE_HTTP_BASE_URL, then the default; only an http(s) API root.


def test_without_a_mapping_the_base_url_and_the_key_are_read_from_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", "http://127.0.0.1:9/env/api/v1")
    monkeypatch.setenv("DASHSCOPE_API_KEY", SENTINEL)
    assert endpoint_url() == "http://127.0.0.1:9/env/api/v1/services/aigc/image2video/face-detect"
    transport, _seen = responder((200, {}, PASS))
    with FaceDetectClient(transport=transport) as client:
        assert client.has_key
        assert client.url == endpoint_url()


def test_a_given_environment_is_the_only_place_the_key_and_base_url_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", "http://127.0.0.1:9/env/api/v1")
    monkeypatch.setenv("DASHSCOPE_API_KEY", SENTINEL)
    with FaceDetectClient(environ={}, transport=responder((200, {}, PASS))[0]) as client:
        assert not client.has_key
        assert client.url == f"{DEFAULT_BASE_URL}/services/aigc/image2video/face-detect"


@pytest.mark.parametrize(
    ("base", "path"),
    [
        ("http://127.0.0.1:9", "/services/aigc/image2video/face-detect"),
        ("http://127.0.0.1:9///", "/services/aigc/image2video/face-detect"),
        ("http://127.0.0.1:9/GX/", "/GX/services/aigc/image2video/face-detect"),
        ("http://127.0.0.1:9/qwen/api/v1X", "/qwen/api/v1X/services/aigc/image2video/face-detect"),
    ],
)
def test_only_the_trailing_slashes_of_a_gateway_prefix_are_dropped(base: str, path: str) -> None:
    assert endpoint_url(base, {}) == f"http://127.0.0.1:9{path}"


@pytest.mark.parametrize(
    ("bad", "says", "shown"),
    [
        ("ftp://example.com/api/v1", "is not an http(s) URL", "'ftp://example.com/api/v1'"),
        ("dashscope.aliyuncs.com/api/v1", "is not an http(s) URL", "(unparseable)"),
        ("http:///api/v1", "is not an http(s) URL", "(unparseable)"),
        ("http://[::1/api/v1", "is not an http(s) URL", "(unparseable)"),
        ("http://xn--zz.example/api/v1", "is not an http(s) URL", "(unparseable)"),
        (5, "is not an http(s) URL", "(unparseable)"),
        (f"https://u:{SENTINEL}@gw.example.com/api/v1", "carries credentials", "gw.example.com"),
        (f"https://{SENTINEL}@gw.example.com/api/v1", "carries credentials", "gw.example.com"),
        (f"https://gw.example.com/api/v1?key={SENTINEL}", "a query or a fragment", "/api/v1'"),
        (f"https://gw.example.com/api/v1#{SENTINEL}", "a query or a fragment", "/api/v1'"),
    ],
    ids=[
        "ftp",
        "no scheme",
        "no host",
        "bad IPv6",
        "bad IDN",
        "not text",
        "user:password",
        "user",
        "query",
        "fragment",
    ],
)
def test_a_base_url_that_is_not_an_http_api_root_is_refused_saying_where_it_came_from(
    bad: object, says: str, shown: str
) -> None:
    """The refusal names the source (option or variable) and the fix, never a credential."""
    for base_url, environ, source in (
        (bad, {}, "(from the base URL option)"),
        (None, {"DASHSCOPE_HTTP_BASE_URL": bad}, "(from $DASHSCOPE_HTTP_BASE_URL)"),
    ):
        with pytest.raises(ValueError, match=r"^base URL ") as raised:
            endpoint_url(base_url, environ)  # type: ignore[arg-type]  # "not text" on purpose
        message = str(raised.value)
        assert says in message and shown in message and source in message
        assert_hidden(SENTINEL, message)


def test_each_refusal_of_a_base_url_says_how_to_fix_it() -> None:
    fixes = {
        "ftp://example.com/api/v1": f"give the API root, such as {DEFAULT_BASE_URL}",
        "https://u:p@gw.example.com/api/v1": "remove them: the key goes in DASHSCOPE_API_KEY only",
        "https://gw.example.com/api/v1?q=1": "(not shown, it may hold a key); give the API root",
    }
    for bad, fix in fixes.items():
        with pytest.raises(ValueError, match=re.escape(fix)):
            endpoint_url(bad, {})


def test_a_sibling_models_contracts_name_its_variables_and_default_base_url(
    tmp_path: Path,
) -> None:
    """ARCHITECTURE: a model on the same path is a contracts folder; no code edit."""
    contracts = other_contracts(
        tmp_path,
        base_url_env="SIBLING_BASE_URL",
        api_key_env="SIBLING_API_KEY",
        default_base_url="https://127.0.0.1/sibling/v1",
    )
    path = contracts.profile.path
    assert endpoint_url(None, {}, contracts) == f"https://127.0.0.1/sibling/v1{path}"
    environ = {"SIBLING_BASE_URL": "http://127.0.0.1:9/other", "SIBLING_API_KEY": KEYS[1]}
    assert endpoint_url(None, environ, contracts) == f"http://127.0.0.1:9/other{path}"
    with pytest.raises(ValueError, match=r"\$SIBLING_BASE_URL"):
        endpoint_url(None, {"SIBLING_BASE_URL": "ftp://x"}, contracts)
    transport, seen = responder((200, {}, PASS))
    with FaceDetectClient(environ=environ, transport=transport, contracts=contracts) as client:
        assert client.has_key and client.url == f"http://127.0.0.1:9/other{path}"
        client.detect("https://example.com/p.png")
    assert_sent_as_bearer(seen[0], KEYS[1])
    # The project's variable means nothing to the sibling: its own is the only one read.
    with FaceDetectClient(environ=ENV, transport=transport, contracts=contracts) as client:
        assert not client.has_key
        with pytest.raises(FaceDetectError, match=r"SIBLING_API_KEY is not set; export it"):
            client.detect("https://example.com/p.png")
    assert len(seen) == 1


# The client itself: its options, its repr, its redactor, its lifetime.


@pytest.mark.parametrize(
    ("max_retries", "timeout"), [(-1, 30.0), (0, 0.0), (0, -1.0), (0, float("nan"))]
)
def test_negative_retries_or_a_timeout_not_above_zero_are_refused(
    max_retries: int, timeout: float
) -> None:
    with pytest.raises(ValueError, match=r"max_retries must be >= 0 and timeout > 0"):
        FaceDetectClient(environ=ENV, max_retries=max_retries, timeout=timeout)


def test_no_retries_and_a_tiny_timeout_are_allowed_and_mean_one_attempt() -> None:
    client, seen = client_for((503, {}, ERROR), max_retries=0, timeout=0.001)
    with client, pytest.raises(ServerError):
        client.detect("https://example.com/p.png")
    assert len(seen) == 1


def test_the_repr_says_whether_a_key_is_set_and_nothing_of_it() -> None:
    for key in KEYS:
        environ = {**ENV, "DASHSCOPE_API_KEY": key}
        with FaceDetectClient(environ=environ, transport=NOWHERE) as client:
            assert repr(client) == f"FaceDetectClient(url={ENDPOINT!r}, key=set)"
            assert client.has_key
    with FaceDetectClient(environ={"DASHSCOPE_HTTP_BASE_URL": LOOPBACK}, transport=NOWHERE) as c:
        assert repr(c) == f"FaceDetectClient(url={ENDPOINT!r}, key=unset)"
        assert not c.has_key


def test_the_bearer_auth_flow_shows_no_key_in_its_repr() -> None:
    """It sits in the frames of any traceback through httpx."""
    for key in KEYS:
        assert repr(_BearerAuth(Secret(key))) == "_BearerAuth(<redacted>)"


@pytest.mark.parametrize("key", KEYS, ids=["sk", "gateway", "jwt", "base32", "punctuation"])
def test_the_clients_redactor_hides_its_key_in_any_text(key: str) -> None:
    with FaceDetectClient(environ={**ENV, "DASHSCOPE_API_KEY": key}, transport=NOWHERE) as client:
        for text in (f"echo {key} end", f"x{key.upper()}y", f"glued{key}", key[:12]):
            assert_hidden(key[:12], client.redactor.text(text))


class ClosingTransport(httpx.MockTransport):
    closed = 0

    def close(self) -> None:
        ClosingTransport.closed += 1


def test_closing_the_client_closes_its_transport_no_connection_is_left_open() -> None:
    ClosingTransport.closed = 0
    client = FaceDetectClient(
        environ=ENV, transport=ClosingTransport(lambda r: httpx.Response(200))
    )
    client.close()
    assert ClosingTransport.closed == 1
    with FaceDetectClient(environ=ENV, transport=ClosingTransport(lambda r: httpx.Response(200))):
        assert ClosingTransport.closed == 1
    assert ClosingTransport.closed == 2


# Sending: timeouts, no proxies from the environment, no redirects, the headers and the body.


def test_each_attempt_has_the_timeout_as_httpx_timeouts_and_as_its_deadline() -> None:
    """The timeout covers the connection and the whole answer (README, "Bounded time")."""
    deadlines: list[float | None] = []

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.extensions["timeout"] == dict.fromkeys(
            ("connect", "read", "write", "pool"), 7.5
        )
        deadlines.append(_clamped(None))  # the time the attempt's deadline leaves
        return httpx.Response(200, json=PASS)

    with FaceDetectClient(environ=ENV, timeout=7.5, transport=httpx.MockTransport(handle)) as c:
        c.detect("https://example.com/p.png")
    assert len(deadlines) == 1 and deadlines[0] is not None and 7.0 < deadlines[0] <= 7.5


def test_proxies_from_the_environment_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deadline transport carries no proxies: httpx must not mount one from the
    environment in front of it (it would win over the transport given)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client, seen = client_for((200, {}, PASS))
    with client:
        assert isinstance(client.detect("https://example.com/p.png"), CheckPassed)
    assert len(seen) == 1


def test_a_redirect_is_not_followed_it_is_an_answer_to_judge() -> None:
    client, seen = client_for((302, {"location": "http://127.0.0.1:9/elsewhere"}, {}))
    with client, pytest.raises(UnexpectedResponse) as raised:
        client.detect("https://example.com/p.png")
    assert len(seen) == 1
    assert raised.value.reason == "undocumented status 302"
    assert str(raised.value) == "HTTP 302: undocumented status 302"
    assert raised.value.interaction.response.status == 302


def test_a_request_is_json_as_utf_8_with_the_documented_content_type() -> None:
    client, seen = client_for((200, {}, PASS))
    with client:
        client.detect("https://example.com/portrait-é.png", "3:4")
    assert seen[0].method == "POST"
    assert seen[0].headers["content-type"] == "application/json"
    assert "portrait-é.png".encode() in seen[0].content  # UTF-8, not \\u escapes
    assert json.loads(seen[0].content)["parameters"] == {"ratio": "3:4"}


def test_detect_leaves_the_parameters_out_when_asked_and_sends_a_deployments_model() -> None:
    """ratio=None: the endpoint's default applies (open question ratio-default)."""
    client, seen = client_for((200, {}, PASS))
    with client:
        client.detect("https://example.com/p.png", None, model="my-deployment", name="mine")
    assert json.loads(seen[0].content) == {
        "model": "my-deployment",
        "input": {"image_url": "https://example.com/p.png"},
    }


def test_given_headers_replace_the_default_content_type_and_raw_content_goes_as_it_is() -> None:
    client, seen = client_for((400, {}, ERROR))
    with client:
        interaction = client.exchange(content=b'{"model": ', headers={"X-Probe": "1"})
    assert "content-type" not in seen[0].headers and seen[0].headers["x-probe"] == "1"
    assert seen[0].content == b'{"model": '
    assert interaction.request.body is None and interaction.request.body_text == '{"model": '


def test_a_body_that_is_not_utf_8_is_recorded_as_text_with_replacement_characters() -> None:
    client, seen = client_for((400, {}, ERROR))
    with client:
        interaction = client.exchange(content=b"\xff\xfe{")
    assert seen[0].content == b"\xff\xfe{"
    assert interaction.request.body is None and interaction.request.body_text == "\ufffd\ufffd{"


def test_the_method_can_be_chosen_for_a_probe() -> None:
    client, seen = client_for((400, {}, ERROR))
    with client:
        interaction = client.exchange({}, method="GET")
    assert seen[0].method == "GET" and interaction.request.method == "GET"


@pytest.mark.parametrize("key", KEYS, ids=["sk", "gateway", "jwt", "base32", "punctuation"])
def test_the_three_ways_to_authenticate_and_how_each_is_recorded(key: str) -> None:
    """ "key": Bearer <the key>, recorded redacted; "none": no Authorization and no key needed;
    "invalid": a well-formed key the endpoint cannot know, recorded as such."""
    client, seen = client_for((401, {}, ERROR), environ={**ENV, "DASHSCOPE_API_KEY": key})
    with client:
        with_key = client.exchange({}, auth="key")
        invalid = client.exchange({}, auth="invalid")
    assert_sent_as_bearer(seen[0], key)
    assert with_key.request.headers["authorization"] == "Bearer <redacted>"
    assert seen[1].headers["authorization"] == f"Bearer {INVALID_KEY}"
    assert invalid.request.headers["authorization"] == "Bearer <invalid>"
    assert re.fullmatch(r"sk-[a-z0-9-]{8,}", INVALID_KEY)
    assert_hidden(key, INVALID_KEY)  # not the configured key, nor any part of it
    keyless, seen = client_for((401, {}, ERROR), environ={"DASHSCOPE_HTTP_BASE_URL": LOOPBACK})
    with keyless:
        none = keyless.exchange({}, auth="none")
        invalid = keyless.exchange({}, auth="invalid")
    assert "authorization" not in seen[0].headers and "authorization" not in none.request.headers
    assert seen[1].headers["authorization"] == f"Bearer {INVALID_KEY}"
    for interaction in (with_key, invalid, none):
        assert_hidden(key, json.dumps(interaction.to_dict()))


def test_the_fake_tells_the_no_key_probe_from_the_unknown_key_probe() -> None:
    """The 401 probes of live mode: "No API-key provided." and "Invalid API-key provided."."""
    fake = FaceDetectFake(api_keys={SENTINEL})
    with FaceDetectClient(environ=ENV, transport=fake_transport(fake)) as client:
        body = {"model": "emo-detect-v1", "input": {"image_url": "https://example.com/p.png"}}
        none, invalid = (client.exchange(body, auth=auth) for auth in ("none", "invalid"))
        assert isinstance(client.detect("https://example.com/p.png"), CheckPassed)
    assert (none.response.status, none.response.body["message"]) == (401, "No API-key provided.")
    assert (invalid.response.status, invalid.response.body["message"]) == (
        401,
        "Invalid API-key provided.",
    )


def test_a_recorded_request_keeps_its_headers_but_not_its_content_length() -> None:
    """Replay re-serialises the body it records parsed: a length would be wrong there."""
    client, _seen = client_for((200, {}, PASS))
    with client:
        result = client.detect("https://example.com/p.png")
    assert isinstance(result, CheckPassed)
    headers = result.interaction.request.headers
    assert "content-length" not in headers
    assert headers["content-type"] == "application/json" and headers["host"] == "127.0.0.1:9"
    assert result.interaction.request.body == json.loads(
        json.dumps(result.interaction.request.body)
    )


@pytest.mark.parametrize("key", KEYS, ids=["sk", "gateway", "jwt", "base32", "punctuation"])
def test_an_answer_echoing_the_key_is_recorded_redacted_in_headers_and_body(key: str) -> None:
    echo = {**PASS, "output": {**PASS["output"], "note": f"you sent {key}"}}
    client, _seen = client_for(
        (200, {"x-echo": f"Bearer {key}", "set-cookie": f"k={key}"}, echo),
        environ={**ENV, "DASHSCOPE_API_KEY": key},
    )
    with client:
        result = client.detect("https://example.com/p.png")
    assert isinstance(result, CheckPassed)
    assert_hidden(key, json.dumps(result.interaction.to_dict()))
    assert result.interaction.response.body["output"]["note"].startswith("you sent ")


def test_an_exchange_is_named_in_sequence_and_its_retries_after_it() -> None:
    names: list[str] = []
    with FaceDetectClient(
        environ=ENV,
        transport=responder((200, {}, PASS))[0],
        on_exchange=lambda interaction: names.append(interaction.name),
    ) as named:
        named.exchange({})
        named.exchange({})
        named.exchange({}, name="probe")
    assert names == ["exchange-1", "exchange-2", "probe"]
    seen_names: list[str] = []
    with FaceDetectClient(
        environ=ENV,
        transport=responder((503, {}, ERROR), (429, {}, ERROR), (200, {}, PASS))[0],
        sleep=lambda seconds: None,
        on_exchange=lambda interaction: seen_names.append(interaction.name),
    ) as retried:
        last = retried.exchange({}, name="case")
    assert seen_names == ["case", "case-retry-1", "case-retry-2"] and last.name == "case-retry-2"


def test_every_attempt_is_recorded_with_its_host_and_elapsed_time() -> None:
    seen: list[Interaction] = []
    with FaceDetectClient(
        environ=ENV,
        transport=responder((503, {}, ERROR), (200, {}, PASS))[0],
        sleep=lambda seconds: None,
        on_exchange=seen.append,
    ) as client:
        last = client.exchange({})
    assert [i.response.status for i in seen] == [503, 200] and seen[-1] is last
    for interaction in seen:
        assert interaction.provenance == {"kind": "recorded", "host": "127.0.0.1"}
        assert interaction.elapsed is not None and 0 <= interaction.elapsed < 10


def test_a_test_doubles_assertion_is_not_turned_into_a_network_fault() -> None:
    """respx raises AssertionError when no route matches: that is the test's verdict."""

    def handle(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no route matched")

    with (
        FaceDetectClient(environ=ENV, transport=httpx.MockTransport(handle)) as client,
        pytest.raises(AssertionError, match="no route matched"),
    ):
        client.detect("https://example.com/p.png")


# Retries: the retryable statuses of the error table, gateway faults and any 5xx page that is
# not JSON; Retry-After or an exponential backoff with up to 25 % jitter, capped; bounded.


@pytest.mark.parametrize(
    ("status", "body", "retried"),
    [
        (429, ERROR, True),
        (500, ERROR, True),
        (503, ERROR, True),
        (502, PAGE, True),
        (504, ERROR, True),
        (501, PAGE, True),
        (599, "", True),
        (501, ERROR, False),
        (400, ERROR, False),
        (400, PAGE, False),
        (401, ERROR, False),
        (403, ERROR, False),
        (404, ERROR, False),
        (499, PAGE, False),
    ],
)
def test_what_is_retried(status: int, body: object, retried: bool) -> None:
    client, seen = client_for((status, {}, body), max_retries=1)
    with client:
        client.exchange({})
    assert len(seen) == (2 if retried else 1)


def test_a_5xx_page_that_is_not_json_is_retried_even_where_the_table_says_not(
    tmp_path: Path,
) -> None:
    """A gateway's page says nothing of the service: retried whatever the error table says."""
    directory = tmp_path / "no-retry"
    shutil.copytree(load_contracts().directory, directory)
    table = json.loads((directory / "errors.json").read_text())
    for row in table["errors"]:
        row["retryable"] = False
    (directory / "errors.json").write_text(json.dumps(table))
    contracts = load_contracts(directory)
    assert 500 not in contracts.retryable_statuses
    for body, retried in ((PAGE, True), (ERROR, False)):
        transport, seen = responder((500, {}, body))
        with FaceDetectClient(
            environ=ENV, transport=transport, contracts=contracts, sleep=lambda s: None
        ) as client:
            client.exchange({})
        assert len(seen) == (3 if retried else 1)


def test_retry_false_sends_one_attempt_whatever_the_answer() -> None:
    client, seen = client_for((503, {}, ERROR))
    with client:
        assert client.exchange({}, retry=False).response.status == 503
    assert len(seen) == 1


def test_the_backoff_doubles_with_each_attempt_plus_a_quarter_at_most_of_jitter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for jitter, factor in ((0.0, 1.0), (0.5, 1.125), (0.999, 1.24975)):
        jittered = SimpleNamespace(random=lambda j=jitter: j)
        generator = SimpleNamespace(Random=lambda made=jittered: made)
        monkeypatch.setattr(client_module, "random", generator)
        waits: list[float] = []
        client, seen = client_for((503, {}, ERROR), sleep=waits.append, backoff=0.5, max_retries=3)
        with client, pytest.raises(ServerError):
            client.detect("https://example.com/p.png")
        assert waits == pytest.approx([0.5 * factor, 1.0 * factor, 2.0 * factor])
        assert len(seen) == 4


def test_the_cap_on_a_wait_applies_to_the_backoff_too() -> None:
    waits: list[float] = []
    client, _seen = client_for((503, {}, ERROR), sleep=waits.append, backoff=100, max_retry_wait=3)
    with client, pytest.raises(ServerError):
        client.detect("https://example.com/p.png")
    assert waits == [3, 3]


def test_a_retry_after_of_zero_is_honoured_not_replaced_by_the_backoff() -> None:
    waits: list[float] = []
    client, _seen = client_for(
        (429, {"retry-after": "0"}, ERROR), (200, {}, PASS), sleep=waits.append, backoff=5
    )
    with client:
        client.detect("https://example.com/p.png")
    assert waits == [0.0]


def test_before_attempt_is_asked_before_every_attempt_and_may_stop_the_retries() -> None:
    """Live mode paces and budgets there: False sends no more attempts; None is a yes."""
    asked: list[int] = []
    client, seen = client_for((503, {}, ERROR), before_attempt=asked.append)
    with client:
        client.exchange({})
    assert asked == [0, 1, 2] and len(seen) == 3
    client, seen = client_for((503, {}, ERROR), before_attempt=lambda n: n < 1)
    with client:
        assert client.exchange({}).response.status == 503  # the last answer, no error
    assert len(seen) == 1


def test_a_request_before_attempt_refuses_is_not_sent_and_says_so() -> None:
    client, seen = client_for((200, {}, PASS), before_attempt=lambda n: False)
    with client, pytest.raises(FaceDetectError, match="not sent: before_attempt refused it"):
        client.exchange({})
    assert seen == []


# The size cap: no documented answer is larger than a kilobyte; beyond 4 MiB it is not read on.

CAP = 4 * 1024 * 1024


def padded(size: int) -> bytes:
    """The documented pass, padded with JSON whitespace to ``size`` bytes."""
    content = json.dumps(PASS).encode()
    return content + b" " * (size - len(content))


def test_an_answer_of_exactly_4_mib_is_read_whole() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=padded(CAP)))
    with FaceDetectClient(environ=ENV, transport=transport) as client:
        assert isinstance(client.detect("https://example.com/p.png"), CheckPassed)


def test_an_answer_over_4_mib_is_not_read_to_its_end_and_is_kept_as_an_excerpt() -> None:
    chunks = 0

    def endless() -> Iterator[bytes]:  # an answer that never ends
        nonlocal chunks
        yield padded(CAP)
        while True:
            chunks += 1
            yield b" " * 65536

    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=endless()))
    with (
        FaceDetectClient(environ=ENV, transport=transport) as client,
        pytest.raises(UnexpectedResponse) as raised,
    ):
        client.detect("https://example.com/p.png")
    assert chunks == 1
    response = raised.value.interaction.response
    assert not response.body_is_json
    assert response.not_json == "larger than 4194304 bytes, not read to its end"
    assert response.body == padded(CAP)[:200].decode()
    assert raised.value.reason == "the body is not JSON"


def test_one_byte_over_the_cap_is_over_it() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=padded(CAP + 1)))
    with (
        FaceDetectClient(environ=ENV, transport=transport) as client,
        pytest.raises(UnexpectedResponse, match="the body is not JSON"),
    ):
        client.detect("https://example.com/p.png")
    assert MAX_RESPONSE_BYTES == CAP


# Transport faults: typed (unreachable: no connection; broken: an answer that could not be read),
# named by type and place, and without a byte of the exchange.


@pytest.mark.parametrize(
    ("failure", "error", "says"),
    [
        (httpx.ConnectTimeout, EndpointUnreachable, "no connection within the deadline"),
        (httpx.ConnectError, EndpointUnreachable, "the connection was refused or failed"),
        (httpx.UnsupportedProtocol, EndpointUnreachable, "the URL's scheme is not HTTP"),
        (httpx.ReadTimeout, EndpointBroken, "no complete answer within the deadline"),
        (httpx.WriteTimeout, EndpointBroken, "no complete answer within the deadline"),
        (httpx.PoolTimeout, EndpointBroken, "no complete answer within the deadline"),
        (
            httpx.DecodingError,
            EndpointBroken,
            "the body does not decode as its Content-Encoding says",
        ),
        (
            httpx.RemoteProtocolError,
            EndpointBroken,
            "the answer broke HTTP (cut short or malformed)",
        ),
        (httpx.LocalProtocolError, EndpointBroken, "the request could not be sent as HTTP"),
        (httpx.ReadError, EndpointBroken, "the connection broke during the exchange"),
        (httpx.WriteError, EndpointBroken, "the connection broke during the exchange"),
        (httpx.ProxyError, EndpointBroken, "the exchange failed"),
        (RuntimeError, EndpointBroken, "the exchange failed"),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else None,
)
@pytest.mark.parametrize("key", KEYS[:2], ids=["sk", "gateway"])
def test_each_transport_fault_is_typed_and_says_what_and_where(
    failure: type[Exception], error: type[FaceDetectError], says: str, key: str
) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise failure(f"echo {key} {request.headers.get('authorization')}")

    environ = {**ENV, "DASHSCOPE_API_KEY": key}
    with (
        FaceDetectClient(environ=environ, transport=httpx.MockTransport(handle)) as client,
        pytest.raises(FaceDetectError) as raised,
    ):
        client.detect("https://example.com/p.png")
    assert type(raised.value) is error
    assert raised.value.timed_out is issubclass(failure, httpx.TimeoutException)
    prefix = "endpoint unreachable" if error is EndpointUnreachable else "endpoint broken"
    assert str(raised.value) == f"{prefix}: {says} ({failure.__name__} on POST {ENDPOINT})"
    assert_hidden(key, str(raised.value), repr(raised.value))


def test_the_place_of_a_fault_shows_a_port_only_when_the_url_has_one() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    transport = httpx.MockTransport(handle)
    with (
        FaceDetectClient(base_url="https://127.0.0.1/gw", environ=ENV, transport=transport) as c,
        pytest.raises(EndpointUnreachable) as raised,
    ):
        c.detect("https://example.com/p.png")
    assert str(raised.value).endswith(
        "(ConnectError on POST https://127.0.0.1/gw/services/aigc/image2video/face-detect)"
    )


# Typed results: the passed and the failed check (either shape), the typed request failures.


@pytest.mark.parametrize("humanoid", [True, False, None])
def test_a_passed_check_carries_the_boxes_the_request_id_the_count_and_humanoid(
    humanoid: bool | None,
) -> None:
    output = {**PASS["output"]} | ({} if humanoid is None else {"humanoid": humanoid})
    client, _seen = client_for((200, {}, {**PASS, "output": output}))
    with client:
        result = client.detect("https://example.com/p.png")
    assert result == CheckPassed(
        face_bbox=(302, 286, 610, 593),
        ext_bbox=(71, 9, 840, 778),
        request_id="r-1",
        image_count=1,
        humanoid=humanoid,
        interaction=result.interaction,
    )
    assert result.interaction.response.body["output"] == output


def test_a_passed_check_without_a_request_id_has_an_empty_one() -> None:
    client, _seen = client_for((200, {}, {k: v for k, v in PASS.items() if k != "request_id"}))
    with client:
        result = client.detect("https://example.com/p.png")
    assert isinstance(result, CheckPassed) and result.request_id == ""


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            200,
            {
                "output": {"check_pass": False, "code": "InvalidFile.NoHuman", "message": "none"},
                "usage": {"image_count": 1},
                "request_id": "a",
            },
            ("InvalidFile.NoHuman", "none", "A", True, "a"),
        ),
        (
            200,
            {"output": {"check_pass": False, "code": "", "message": ""}, "request_id": "e"},
            ("", "", "A", False, "e"),
        ),
        (200, {"output": {"check_pass": False}}, ("", "", "A", False, "")),
        (
            400,
            {"code": "InvalidFile.MultiHuman", "message": "several", "request_id": "b"},
            ("InvalidFile.MultiHuman", "several", "B", False, "b"),
        ),
    ],
    ids=["shape A, billed", "shape A, empty reason", "shape A, no reason", "shape B"],
)
def test_a_failed_check_in_either_shape_is_a_result_not_an_error(
    status: int, body: object, expected: tuple[str, str, str, bool, str]
) -> None:
    client, seen = client_for((status, {}, body))
    with client:
        result = client.detect("https://example.com/p.png")
    assert isinstance(result, CheckFailed)
    assert (result.code, result.message, result.shape, result.billed, result.request_id) == (
        expected
    )
    assert result.interaction.response.status == status and len(seen) == 1


@pytest.mark.parametrize(
    ("status", "code", "error_type", "retryable"),
    [
        (400, "InvalidParameter", InvalidRequest, False),
        (401, "InvalidApiKey", AuthenticationFailed, False),
        (403, "AccessDenied", AccessDenied, False),
        (404, "ModelNotFound", ModelNotFound, False),
        (429, "Throttling.RateQuota", Throttled, True),
        (500, "InternalError", ServerError, True),
        (503, "ModelUnavailable", ServerError, True),
        (502, "BadGateway", ServerError, True),
        (501, "NotImplemented", ServerError, False),
        (409, "Conflict", RequestError, False),
        (499, "ClientClosed", RequestError, False),
    ],
)
def test_each_request_failure_is_its_typed_error_with_the_documented_fields(
    status: int, code: str, error_type: type[RequestError], retryable: bool
) -> None:
    body = {"code": code, "message": "the message", "request_id": "req-7"}
    client, _seen = client_for((status, {"retry-after": "2"}, body), max_retries=0)
    with client, pytest.raises(RequestError) as raised:
        client.detect("https://example.com/p.png")
    error = raised.value
    assert type(error) is error_type
    assert (error.status, error.code, error.message, error.request_id) == (
        status,
        code,
        "the message",
        "req-7",
    )
    assert error.retryable is retryable and error.retry_after == 2.0
    assert error.interaction.response.body == body
    assert str(error) == f"HTTP {status} {code}: the message (request id req-7)"


def test_a_request_failure_without_code_message_or_hint_says_so() -> None:
    client, _seen = client_for((400, {}, {"request_id": "q"}))
    with client, pytest.raises(InvalidRequest) as raised:
        client.detect("https://example.com/p.png")
    assert (raised.value.code, raised.value.message, raised.value.retry_after) == (None, "", None)
    assert str(raised.value) == "HTTP 400 (no code):  (request id q)"


def test_a_persisting_gateway_page_is_a_server_error_quoting_its_first_characters() -> None:
    """README: "endpoint failing", with the body's first characters."""
    client, seen = client_for((502, {"content-type": "text/html"}, PAGE))
    with client, pytest.raises(ServerError) as raised:
        client.detect("https://example.com/p.png")
    assert len(seen) == 3
    assert raised.value.code is None and raised.value.retryable
    assert raised.value.message == PAGE[:200]
    assert str(raised.value) == f"HTTP 502 (no code): {PAGE[:200]} (request id None)"


def test_outcome_is_the_classifiers_reading_of_the_answer() -> None:
    client, _seen = client_for((200, {}, PASS))
    with client:
        interaction = client.exchange({})
        outcome = client.outcome(interaction)
    assert (outcome.kind, outcome.face_box, outcome.request_id) == (
        "passed",
        (302, 286, 610, 593),
        "r-1",
    )


# Retry-After: delay-seconds (ASCII digits) or an HTTP date; anything else is no hint.


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("3", 3.0),
        (" 3 ", 3.0),
        ("0", 0.0),
        ("123456789", 123456789.0),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
        ("Thu, 01 Jan 1970 00:00:00 -0000", 0.0),  # a date of no known zone: read as UTC
        ("²", None),
        ("٣", None),
        ("-1", None),
        ("+1", None),
        ("NaN", None),
        ("1.5", None),
        ("1e3", None),
        ("", None),
        ("soon", None),
        ("Mon, 99 Oct 2015 07:28:00 GMT", None),
        ("Mon, 1 Jan 2020 99999999999999999999:00:00 GMT", None),
    ],
)
def test_retry_after_is_delay_seconds_or_an_http_date(
    value: str | None, seconds: float | None
) -> None:
    headers = {} if value is None else {"retry-after": value}
    assert retry_after_seconds(headers) == seconds


def test_a_retry_after_date_in_the_future_is_the_seconds_until_then() -> None:
    for zone in ("GMT", "-0000", "+0000"):
        when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=120))
        value = when.replace("-0000", zone).replace("+0000", zone)
        seconds = retry_after_seconds({"retry-after": value})
        assert seconds is not None and 110 < seconds <= 120


def test_retry_after_property_digits_are_seconds_other_text_never_a_negative_wait() -> None:
    seen: Counter[str] = Counter()

    @settings(max_examples=100)
    @given(
        st.one_of(
            st.integers(0, 999_999_999).map(lambda n: ("seconds", str(n))),
            st.text(min_size=1, max_size=12)
            .filter(lambda t: not (t.strip().isascii() and t.strip().isdigit()))
            .map(lambda t: ("other", t)),
        ),
        st.sampled_from(["", " ", "\t"]),
    )
    def check(case: tuple[str, str], pad: str) -> None:
        kind, value = case
        event(kind)
        seen[kind] += 1
        seconds = retry_after_seconds({"retry-after": f"{pad}{value}{pad}"})
        if kind == "seconds":
            assert seconds == float(value)
        else:
            assert seconds is None or seconds >= 0.0

    check()
    assert min(seen["seconds"], seen["other"]) >= 20, seen  # both branches, often


def test_the_excerpt_of_an_answer_cut_at_the_cap_is_text_even_where_a_character_is_split() -> None:
    content = b"x" * 199 + "é".encode() + b" " * CAP  # the 200th byte starts a character
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=content))
    with (
        FaceDetectClient(environ=ENV, transport=transport) as client,
        pytest.raises(UnexpectedResponse) as raised,
    ):
        client.detect("https://example.com/p.png")
    assert raised.value.interaction.response.body == "x" * 199 + "\ufffd"


def test_the_defaults_30_s_per_attempt_2_retries_half_a_second_backoff_30_s_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    still = SimpleNamespace(random=lambda: 0.0)
    monkeypatch.setattr(client_module, "random", SimpleNamespace(Random=lambda: still))
    timeouts: list[object] = []
    waits: list[float] = []

    def handle(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        return httpx.Response(503, json=ERROR)

    with (
        FaceDetectClient(
            environ=ENV, transport=httpx.MockTransport(handle), sleep=waits.append
        ) as c,
        pytest.raises(ServerError),
    ):
        c.detect("https://example.com/p.png")
    assert timeouts == [dict.fromkeys(("connect", "read", "write", "pool"), 30.0)] * 3
    assert waits == [0.5, 1.0]
    client, _seen = client_for((429, {"retry-after": "31"}, ERROR), sleep=waits.append)
    with client, pytest.raises(Throttled):
        client.detect("https://example.com/p.png")
    assert waits[2:] == [30.0, 30.0]


def test_results_are_immutable_values() -> None:
    client, _seen = client_for(
        (200, {}, PASS), (200, {}, {"output": {"check_pass": False}, "request_id": "f"})
    )
    with client:
        passed, failed = client.detect("https://example.com/p.png"), client.detect("https://x/p")
    for result in (passed, failed):
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.request_id = "changed"  # type: ignore[misc]


def test_an_answer_in_many_small_chunks_is_read_whole_and_its_excerpt_is_its_start() -> None:
    """Chunked transfer: the chunks are joined as they came, under the cap and over it."""
    content = json.dumps(PASS).encode()
    pieces = [content[i : i + 7] for i in range(0, len(content), 7)]
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=iter(pieces)))
    with FaceDetectClient(environ=ENV, transport=transport) as client:
        assert isinstance(client.detect("https://example.com/p.png"), CheckPassed)
    start = b"<html>" + b"a" * 94
    over = [start, start, b" " * CAP]
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=iter(over)))
    with (
        FaceDetectClient(environ=ENV, transport=transport) as client,
        pytest.raises(UnexpectedResponse) as raised,
    ):
        client.detect("https://example.com/p.png")
    assert raised.value.interaction.response.body == (start * 2).decode()


# --- judged as it came, redacted where written or shown (issue 17) ------------------------------

WORDY_KEY = "team-parameters-2026"  # a gateway token sharing a word with the API


def test_an_answer_is_kept_as_it_came_for_judging_and_redacted_only_where_shown() -> None:
    """Rule: the key's spelling cannot change a verdict; it is hidden in to_dict and repr."""
    echo = {**PASS, "output": {**PASS["output"], "note": f"you sent {WORDY_KEY}"}}
    client, _seen = client_for(
        (200, {"x-echo": WORDY_KEY}, echo), environ={**ENV, "DASHSCOPE_API_KEY": WORDY_KEY}
    )
    with client:
        result = client.detect("https://example.com/p.png", "3:4")
    assert isinstance(result, CheckPassed)
    interaction = result.interaction
    assert interaction.request.body["parameters"] == {"ratio": "3:4"}  # not erased
    assert interaction.response.body["output"]["note"] == f"you sent {WORDY_KEY}"
    assert interaction.request.headers["authorization"] == "Bearer <redacted>"
    shown = [json.dumps(interaction.to_dict()), repr(interaction), repr(interaction.request)]
    assert all(WORDY_KEY not in text and "team-param" not in text for text in shown), shown


def test_an_errors_message_is_redacted_though_its_interaction_is_kept_as_it_came() -> None:
    encoded = "".join(f"%{byte:02X}" for byte in SENTINEL.encode())
    body = {"code": "InvalidApiKey", "message": f"bad key {encoded}", "request_id": "r"}
    client, _seen = client_for((401, {}, body))
    with client, pytest.raises(AuthenticationFailed) as raised:
        client.detect("https://example.com/p.png")
    assert raised.value.message == "bad key <redacted>"
    assert raised.value.interaction.response.body == body
    assert SENTINEL not in repr(raised.value.interaction)


# --- TLS: a bad setting and a refused certificate are named -----------------------------------


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by itself, and its key, as PEM files."""
    import ipaddress

    crypto = pytest.importorskip("cryptography")
    del crypto
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "facedetect loopback")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def https_endpoint(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTPS server with a self-signed certificate answering PASS: (base URL, cert)."""
    import http.server
    import ssl
    import threading

    cert_path, key_path = _self_signed(tmp_path)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's name
            self.rfile.read(int(self.headers.get("content-length", 0)))
            payload = json.dumps(PASS).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/api/v1", cert_path
    finally:
        server.shutdown()
        server.server_close()


def test_a_self_signed_certificate_is_named_as_a_failed_verification(
    https_endpoint: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url, _cert = https_endpoint
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    client = FaceDetectClient(base_url=base_url, environ=ENV, max_retries=0, timeout=5)
    with client, pytest.raises(EndpointUnreachable) as raised:
        client.detect("https://example.com/p.png")
    message = str(raised.value)
    assert "certificate verification failed: self-signed certificate" in message, message
    assert "SSL_CERT_FILE" in message and "refused or failed" not in message


def test_a_certificate_trusted_through_ssl_cert_file_is_accepted(
    https_endpoint: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url, cert = https_endpoint
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with FaceDetectClient(base_url=base_url, environ=ENV, max_retries=0, timeout=5) as client:
        assert isinstance(client.detect("https://example.com/p.png"), CheckPassed)


@pytest.mark.parametrize("content", [None, b"not a certificate\n"], ids=["missing", "garbage"])
def test_a_bad_ssl_cert_file_is_named_on_https_and_ignored_on_plain_http(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes | None
) -> None:
    bad = tmp_path / "ca.pem"
    if content is not None:
        bad.write_bytes(content)
    monkeypatch.setenv("SSL_CERT_FILE", str(bad))
    client, _seen = client_for((200, {}, PASS))  # plain http, in-process: unaffected
    with client:
        assert isinstance(client.detect("https://example.com/p.png"), CheckPassed)
    https = FaceDetectClient(base_url="https://127.0.0.1:9/api/v1", environ=ENV, max_retries=0)
    with https, pytest.raises(EndpointUnreachable) as raised:
        https.detect("https://example.com/p.png")
    message = str(raised.value)
    assert f"SSL_CERT_FILE is set to {str(bad)!r}" in message, message
    assert "unset it" in message and "Traceback" not in message


def test_an_ssl_cert_dir_that_is_not_a_directory_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "nowhere"))
    https = FaceDetectClient(base_url="https://127.0.0.1:9/api/v1", environ=ENV, max_retries=0)
    with (
        https,
        pytest.raises(EndpointUnreachable, match=r"SSL_CERT_DIR is set to .* not a directory"),
    ):
        https.detect("https://example.com/p.png")


# --- issue 19: what the mutation run of 2026-12-07 found untested ----------------------------


@pytest.mark.parametrize("bad", ["dashscope.aliyuncs.com/api/v1", "http://[::1/api/v1", 5], ids=str)
def test_a_base_url_that_cannot_be_shown_is_named_unparseable_exactly(bad: object) -> None:
    """Parsed without a host, or not parsed at all: the message says '(unparseable)', no more."""
    with pytest.raises(ValueError, match=r"^base URL ") as raised:
        endpoint_url(bad, {})  # type: ignore[arg-type]  # "not text" on purpose
    assert str(raised.value).startswith("base URL (unparseable) (from the base URL option) is ")


def test_the_certificate_error_is_found_behind_causes_contexts_and_cycles() -> None:
    """httpx and httpcore wrap the ssl error as a cause or a context, at any depth; the chain
    may loop (an error that is its own context's context), and may hold None on either side."""
    import ssl

    refused = ssl.SSLCertVerificationError("certificate verify failed")
    find = client_module._certificate_refused

    cause_only = httpx.ConnectError("x")
    cause_only.__cause__, cause_only.__context__ = refused, None
    assert find(cause_only) is refused

    deep = httpx.ConnectError("x")  # the context is searched first, then the cause
    wrapper = OSError("wrapper")
    wrapper.__cause__ = refused
    deep.__cause__, deep.__context__ = wrapper, ValueError("unrelated")
    assert find(deep) is refused

    first, second = OSError("a"), OSError("b")
    first.__context__, second.__context__ = second, first
    assert find(first) is None  # a loop ends, with nothing found
    second.__cause__ = refused
    assert find(first) is refused


def test_a_request_is_recorded_as_sent_without_its_length_and_redacted_with_its_key() -> None:
    """No Content-Length to drop is no error; a JSON body is recorded parsed (no body text); the
    record redacts with the client's key wherever it is written."""
    from facedetect_contract.core.redaction import REDACTED, Redactor

    recorded = client_module.recorded_request(
        Redactor([SENTINEL]),
        "POST",
        [("Content-Type", "application/json"), ("Authorization", f"Bearer {SENTINEL}")],
        json.dumps({"note": f"key {SENTINEL}"}).encode(),
        "key",
    )
    assert recorded.body == {"note": f"key {SENTINEL}"} and recorded.body_text is None
    assert recorded.headers == {
        "content-type": "application/json",
        "authorization": f"Bearer {REDACTED}",
    }
    assert recorded.to_dict()["body"] == {"note": f"key {REDACTED}"}
    assert "body_text" not in recorded.to_dict()
