"""Generated responses of every documented kind: the client turns each into the right type."""

from __future__ import annotations

import functools
import json

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from facedetect_contract.checks import run_checks
from facedetect_contract.client import (
    AccessDenied,
    AuthenticationFailed,
    CheckFailed,
    CheckPassed,
    FaceDetectClient,
    InvalidRequest,
    ModelNotFound,
    RequestError,
    ServerError,
    Throttled,
)
from facedetect_contract.contracts.loader import Contracts
from facedetect_contract.core.interaction import Interaction
from facedetect_contract.generation.strategies import (
    GeneratedResponse,
    error_responses,
    failed_responses,
    passed_responses,
)
from facedetect_contract.plugin import TEST_KEY

KEY = {"DASHSCOPE_API_KEY": TEST_KEY}
IMAGE = "https://example.com/portrait.png"


# One strategy per contracts folder (the run's, ``--contracts``), built once, drawn in the test.
PASSED = functools.cache(passed_responses)
FAILED = functools.cache(failed_responses)
ERRORS = functools.cache(error_responses)


def client_answering(
    response: GeneratedResponse, waits: list[float], contracts: Contracts
) -> FaceDetectClient:
    """A client whose every request gets ``response``; waits between retries are recorded."""

    def answer(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            response.status,
            headers=dict(response.headers),
            content=json.dumps(response.body).encode(),
        )

    return FaceDetectClient(
        base_url="https://dashscope.test/api/v1",
        environ=KEY,
        transport=httpx.MockTransport(answer),
        sleep=waits.append,
        max_retries=2,
        max_retry_wait=30.0,
        contracts=contracts,
    )


def conforms(interaction: Interaction, contracts: Contracts) -> None:
    """The generated response itself is documented: no violation at all."""
    violations = run_checks(interaction, contracts)
    assert not violations, "\n".join(map(str, violations))


@given(data=st.data())
def test_a_passed_check_becomes_check_passed_with_its_boxes(
    contracts: Contracts, data: st.DataObject
) -> None:
    """200 + check_pass true -> CheckPassed carrying the boxes as sent."""
    response: GeneratedResponse = data.draw(PASSED(contracts), label="response")
    with client_answering(response, [], contracts) as client:
        result = client.detect(IMAGE, response.ratio if contracts.profile.has_ratio else ...)
    assert isinstance(result, CheckPassed)
    received = {"face_box": result.face_bbox, "crop_box": result.ext_bbox}
    for role, at in contracts.profile.boxes.items():  # the model's boxes, as sent (none: none)
        assert list(received[role] or ()) == at.get(response.body), role
    assert result.image_count == 1
    conforms(result.interaction, contracts)


@given(data=st.data())
def test_a_failed_check_becomes_check_failed_in_either_shape(
    contracts: Contracts, data: st.DataObject
) -> None:
    """200 + check_pass false (shape A) or 400 InvalidFile.* (shape B) -> CheckFailed, never an exception."""
    response: GeneratedResponse = data.draw(FAILED(contracts), label="response")
    with client_answering(response, [], contracts) as client:
        result = client.detect(IMAGE)
    assert isinstance(result, CheckFailed)
    if response.kind == "check_failed_b":
        code_at = contracts.profile.response.error_code
        assert (result.shape, result.code, result.billed) == (
            "B",
            code_at.get(response.body),
            False,
        )
    else:
        assert result.shape == "A"
        assert result.billed == ("usage" in response.body)
    conforms(result.interaction, contracts)


@given(data=st.data())
def test_a_request_failure_raises_the_typed_error_of_its_status_after_bounded_retries(
    contracts: Contracts, data: st.DataObject
) -> None:
    """4xx/5xx -> RequestError subclass with the code; 429/500/503 retried twice, honouring Retry-After."""
    response: GeneratedResponse = data.draw(ERRORS(contracts), label="response")
    waits: list[float] = []
    with (
        client_answering(response, waits, contracts) as client,
        pytest.raises(RequestError) as raised,
    ):
        client.detect(IMAGE)
    error = raised.value
    fields = contracts.profile.response
    assert (error.status, error.code) == (response.status, fields.error_code.get(response.body))
    assert error.request_id == fields.request_id.get(response.body)
    expected_class = {
        400: InvalidRequest,
        401: AuthenticationFailed,
        403: AccessDenied,
        404: ModelNotFound,
        429: Throttled,
    }.get(response.status, ServerError)
    assert type(error) is expected_class
    if response.status in contracts.retryable_statuses:
        assert error.retryable
        assert len(waits) == 2
        hint = response.headers.get("retry-after")
        if hint is not None and hint.isdigit():
            assert waits == [min(float(hint), 30.0)] * 2
        assert all(0 <= wait <= 30.0 for wait in waits)
    else:
        assert not error.retryable
        assert waits == []
    conforms(error.interaction, contracts)
