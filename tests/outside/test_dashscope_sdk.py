"""The official dashscope SDK (2.0.2) calls the stub through its generic path and parses each answer.

``dashscope.client.base_api.BaseApi.call(model=, input=, task_group=, task=, function=,
api_key=, base_address=, **parameters)`` posts to ``base_address + "/services/" + task_group +
"/" + task + "/" + function`` (the three names are read here from the profile's path). What it
sends, captured by the stub's ``response_hook``:

- ``POST`` with the body ``{"model": ..., "parameters": {...}, "input": {"image_url": ...}}``;
  the leftover keyword arguments become ``parameters``, sent as ``{}`` when there are none;
- the headers ``Authorization: Bearer <key>``, ``Content-Type`` and ``Accept``
  ``application/json; charset=utf-8``, ``user-agent: dashscope/2.0.2; python/...; platform/...``,
  ``x-dashscope-sdk-client: python-sdk/2.0.2/client``, ``x-dashscope-sdk-session-id`` (one per
  process; ``DASHSCOPE_DISABLE_SDK_HEADERS`` drops both), ``Accept-Encoding: gzip, deflate``,
  ``Connection: keep-alive``; no ``X-DashScope-Async`` unless ``async_request=True``.

It does not retry: a 429, 500 or 503 is one request and is returned as it came (its only resend
is one after a pooled keep-alive connection dropped before any answer). The answer is a
``DashScopeAPIResponse`` (a dict with attribute access): ``status_code`` (``HTTPStatus.OK`` on
200, the int otherwise), ``code`` and ``message`` (``""`` on 200), ``output`` and ``usage``
(``None`` on an error body), ``request_id``.

Every request the SDK sends is checked against the suite's request and request-headers
contracts, and every answer the SDK returns against the body the stub sent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.core.pointers import Pointer
from facedetect_contract.doubles.fake import FaceDetectFake, FakeRequest, FakeResponse
from facedetect_contract.doubles.server import ResponseHook, RunningServer, serve_in_thread
from facedetect_contract.plugin import TEST_KEY
from tests.helpers.stub import Exchange, Recorder

pytestmark = pytest.mark.outside

CONTRACTS = load_contracts()
PROFILE = CONTRACTS.profile
_, SERVICES, TASK_GROUP, TASK, FUNCTION = PROFILE.path.split("/")
FIELDS = PROFILE.response


@pytest.fixture(autouse=True)
def sdk_headers_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DASHSCOPE_DISABLE_SDK_HEADERS", raising=False)


@pytest.fixture
def exchanges(recorder: Recorder) -> list[Exchange]:
    """This test's exchanges with the module's stub."""
    recorder.exchanges.clear()
    return recorder.exchanges


def sdk_call(base_url: str, image_url: str, *, api_key: str = TEST_KEY, **parameters: Any) -> Any:
    # Imported here, not at collection: the SDK's import is half a second, which every run that
    # deselects this module (the fast tier, each xdist worker) would pay for nothing.
    base_api = pytest.importorskip("dashscope.client.base_api")
    return base_api.BaseApi.call(
        model=PROFILE.model,
        input={PROFILE.request.image_url.name: image_url},
        task_group=TASK_GROUP,
        task=TASK,
        function=FUNCTION,
        api_key=api_key,
        base_address=base_url,
        **parameters,
    )


def as_body(answer: Any) -> dict[str, Any]:
    """The SDK's parsed answer laid out as the body it came from, for the profile's pointers."""
    body: dict[str, Any] = {}
    FIELDS.request_id.put(body, answer.request_id)
    if answer.output is not None:
        FIELDS.verdict.parent.put(body, answer.output)
    if answer.usage is not None:
        FIELDS.usage.put(body, answer.usage)
    if answer.code:
        FIELDS.error_code.put(body, answer.code)
        FIELDS.error_message.put(body, answer.message)
    return body


def only_exchange(
    exchanges: list[Exchange], answer: Any, *, invalid: Pointer | None = None
) -> Exchange:
    """The one request of an SDK call: sent as documented, answered, and parsed as sent.

    ``invalid`` is the one body field the test made invalid on purpose.
    """
    assert len(exchanges) == 1, "the SDK sent more than one request: a retry"
    exchange = exchanges[0]
    assert exchange.request.method == PROFILE.method
    errors = CONTRACTS.validator("request").iter_errors(exchange.body)
    assert [Pointer.of(e.absolute_path) for e in errors] == ([] if invalid is None else [invalid])
    assert list(CONTRACTS.validator("request_headers").iter_errors(exchange.headers)) == []
    assert answer.status_code == exchange.response.status
    assert as_body(answer) == json.loads(exchange.response.body)
    if answer.status_code == 200:
        assert (answer.code, answer.message) == ("", "")
    return exchange


def test_the_profile_path_is_the_sdk_s_services_route() -> None:
    assert SERVICES == "services"
    assert PROFILE.path == "/" + "/".join((SERVICES, TASK_GROUP, TASK, FUNCTION))


@pytest.mark.parametrize("ratio", [*CONTRACTS.ratios, None], ids=[*CONTRACTS.ratios, "no-ratio"])
def test_a_pass_comes_back_with_both_boxes_the_usage_and_the_request_id(
    stub: RunningServer, exchanges: list[Exchange], ratio: str | None
) -> None:
    parameters = {} if ratio is None else {"ratio": ratio}
    answer = sdk_call(stub.base_url, stub.image_url("portrait.png"), **parameters)
    exchange = only_exchange(exchanges, answer)
    assert answer.status_code == 200
    body = as_body(answer)
    assert FIELDS.verdict.get(body) is True
    for box in FIELDS.boxes:
        value = box.get(body)
        assert len(value) == 4 and all(isinstance(n, int) and n >= 0 for n in value)
    assert FIELDS.billed_images.get(body) == 1
    assert answer.request_id
    # What the SDK sends: `parameters` always, {} when empty; its own headers; never async.
    assert exchange.body[PROFILE.request.ratio.parent.name] == parameters
    assert exchange.headers["user-agent"].startswith("dashscope/")
    assert {"x-dashscope-sdk-client", "x-dashscope-sdk-session-id"} <= exchange.headers.keys()
    assert PROFILE.async_header not in exchange.headers


def test_a_failed_check_comes_back_in_the_stub_s_failure_shape(
    stub: RunningServer, exchanges: list[Exchange]
) -> None:
    answer = sdk_call(stub.base_url, stub.image_url("no-human.png"))
    only_exchange(exchanges, answer)
    reason = "InvalidFile.NoHuman"
    body = as_body(answer)
    if stub.fake.failure_shape == "A":  # 200, the verdict false, the reason in output, billed
        assert (answer.status_code, answer.code) == (200, "")
        assert FIELDS.verdict.get(body) is False
        assert FIELDS.reason_code.get(body) == reason
        assert FIELDS.billed_images.get(body) == 1
    else:  # 400 with the reason as the error code, no output, not billed
        assert (answer.status_code, answer.code) == (400, reason)
        assert answer.message and (answer.output, answer.usage) == (None, None)


@pytest.mark.parametrize(
    ("api_key", "ratio", "status", "code"),
    [
        pytest.param("sk-unknown-key", "1:1", 401, "InvalidApiKey", id="bad-key"),
        pytest.param(TEST_KEY, "16:9", 400, "InvalidParameter", id="ratio-16-9"),
    ],
)
def test_a_request_failure_comes_back_with_its_code_and_message_and_no_output(
    stub: RunningServer,
    exchanges: list[Exchange],
    api_key: str,
    ratio: str,
    status: int,
    code: str,
) -> None:
    answer = sdk_call(stub.base_url, stub.image_url("portrait.png"), api_key=api_key, ratio=ratio)
    valid = ratio in CONTRACTS.ratios
    only_exchange(exchanges, answer, invalid=None if valid else PROFILE.request.ratio)
    assert (answer.status_code, answer.code, answer.output, answer.usage) == (
        status,
        code,
        None,
        None,
    )
    assert answer.message and answer.request_id


def test_a_gateway_prefix_base_address_is_followed(failure_shape: str) -> None:
    recorder = Recorder()
    with serve_in_thread(
        api_keys=[TEST_KEY],
        images_dir=IMAGE_DIR,
        failure_shape=failure_shape,
        prefix="/qwen/api/v1",
        response_hook=recorder,
    ) as gateway:
        assert gateway.base_url.endswith("/qwen/api/v1")
        answer = sdk_call(gateway.base_url, gateway.image_url("portrait.png"), ratio="1:1")
        assert gateway.requests_served == 1
    only_exchange(recorder.exchanges, answer)
    assert answer.status_code == 200 and FIELDS.verdict.get(as_body(answer)) is True


def _error_answer(status: int) -> ResponseHook:
    fake = FaceDetectFake(api_keys=[TEST_KEY], contracts=CONTRACTS)
    entry = next(CONTRACTS.errors_for(status=status))
    message = entry.messages[0] if entry.messages else entry.code

    def answer(request: FakeRequest, response: FakeResponse) -> FakeResponse:
        return fake.error(status, entry.code, message)

    return answer


@pytest.mark.parametrize("status", [PROFILE.throttle_status, 500, 503])
def test_a_retryable_status_is_one_request_returned_as_it_came(
    failure_shape: str, status: int
) -> None:
    recorder = Recorder(
        replace=None if status == PROFILE.throttle_status else _error_answer(status)
    )
    with serve_in_thread(
        api_keys=[TEST_KEY],
        images_dir=IMAGE_DIR,
        failure_shape=failure_shape,
        response_hook=recorder,
        throttle_first=1 if status == PROFILE.throttle_status else 0,
    ) as flaky:
        answer = sdk_call(flaky.base_url, flaky.image_url("portrait.png"), ratio="1:1")
        assert flaky.requests_served == 1
    only_exchange(recorder.exchanges, answer)
    assert answer.status_code == status and answer.code
