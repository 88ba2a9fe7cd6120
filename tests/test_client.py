"""The client: base URL and key from the environment, retries, typed errors, and no key leaks."""

from __future__ import annotations

import json

import httpx
import pytest

from facedetect_contract.client import (
    AuthenticationFailed,
    CheckPassed,
    EndpointBroken,
    EndpointUnreachable,
    FaceDetectClient,
    FaceDetectError,
    InvalidRequest,
    ServerError,
    Throttled,
    UnexpectedResponse,
    endpoint_url,
)
from facedetect_contract.contracts import load_contracts

DEFAULT_BASE_URL = load_contracts().profile.default_base_url

# Not "sk-..." on purpose: the generic key pattern must not be what hides it.
SENTINEL = "gwkey-SENTINEL-0123456789abcdef"
ENV = {"DASHSCOPE_API_KEY": SENTINEL}
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
        base_url="https://gw.example.com/qwen/api/v1", environ=ENV, transport=transport
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
