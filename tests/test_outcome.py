"""What the endpoint said: passed, failed in shape A or B, a request error, or unexplained, and why."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from facedetect_contract.contracts import load_contracts
from facedetect_contract.interaction import RecordedResponse
from facedetect_contract.outcome import classify, nearest_answer

CONTRACTS = load_contracts()
JSON = {"content-type": "application/json"}
PASSED: dict[str, Any] = {
    "output": {
        "check_pass": True,
        "face_bbox": [302, 286, 610, 593],
        "ext_bbox": [71, 9, 840, 778],
        "humanoid": True,
    },
    "usage": {"image_count": 1},
    "request_id": "r-pass",
}
SHAPE_A: dict[str, Any] = {
    "output": {"check_pass": False, "code": "InvalidFile.NoHuman", "message": "No human"},
    "usage": {"image_count": 1},
    "request_id": "r-a",
}
SHAPE_B = {"code": "InvalidFile.NoHuman", "message": "No human", "request_id": "r-b"}
REFUSED = {"code": "InvalidApiKey", "message": "Invalid API-key provided.", "request_id": "r-401"}


def response(body: Any, status: int = 200) -> RecordedResponse:
    return RecordedResponse(status, JSON, body, body_is_json=not isinstance(body, str))


def output(**changes: Any) -> dict[str, Any]:
    """The passing body with its output changed (``None`` removes a field)."""
    body = copy.deepcopy(PASSED)
    for name, value in changes.items():
        if value is None:
            body["output"].pop(name)
        else:
            body["output"][name] = value
    return body


def test_a_pass_carries_both_boxes_and_what_it_billed() -> None:
    outcome = classify(response(PASSED), CONTRACTS)
    assert (outcome.kind, outcome.passed, outcome.is_check_result) == ("passed", True, True)
    assert outcome.answer is not None
    assert outcome.answer.name == "check-passed"
    assert (outcome.face_box, outcome.crop_box) == ((302, 286, 610, 593), (71, 9, 840, 778))
    assert (outcome.humanoid, outcome.billed_images, outcome.request_id) == (True, 1, "r-pass")
    assert outcome.describe() == "the portrait check passed"


def test_a_failure_in_shape_a_is_the_verdict_false_with_the_reason_in_the_output() -> None:
    outcome = classify(response(SHAPE_A), CONTRACTS)
    assert (outcome.kind, outcome.passed, outcome.shape) == ("failed", False, "A")
    assert (outcome.code, outcome.message, outcome.billed_images) == (
        "InvalidFile.NoHuman",
        "No human",
        1,
    )
    assert outcome.describe() == "the portrait check failed (shape A, code 'InvalidFile.NoHuman')"


def test_a_failure_in_shape_b_is_a_400_whose_code_is_a_portrait_reason() -> None:
    outcome = classify(response(SHAPE_B, 400), CONTRACTS)
    assert (outcome.kind, outcome.passed, outcome.shape) == ("failed", False, "B")
    assert (outcome.code, outcome.message, outcome.billed_images) == (
        "InvalidFile.NoHuman",
        "No human",
        0,
    )
    assert outcome.answer is not None
    assert outcome.answer.name == "check-failed-b"


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (401, REFUSED, "InvalidApiKey"),
        (400, {**REFUSED, "code": "InvalidParameter"}, "InvalidParameter"),
        (503, {**REFUSED, "code": "ModelUnavailable"}, "ModelUnavailable"),
        (502, {**REFUSED, "code": "BadGateway"}, "BadGateway"),  # not in the table: still an error
    ],
)
def test_an_error_body_with_a_4xx_or_5xx_is_a_request_error(
    status: int, body: dict[str, Any], code: str
) -> None:
    outcome = classify(response(body, status), CONTRACTS)
    assert (outcome.kind, outcome.passed, outcome.is_check_result) == (
        "request_error",
        None,
        False,
    )
    assert (outcome.code, outcome.status) == (code, status)
    assert outcome.describe() == f"a request failure: HTTP {status} {code}"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (response("<html>busy</html>"), "the body is not JSON"),
        (response(PASSED, 302), "undocumented status 302"),
        (response(PASSED, 201), "undocumented status 201"),
        (response({"request_id": "r"}), "a 200 response without an 'output' object"),
        (response(output(check_pass=None)), "output.check_pass is not a boolean"),
        (response(output(check_pass="true")), "output.check_pass is not a boolean"),
        (
            response(output(face_bbox=[302, 286, 610])),
            "check_pass True without two well-formed boxes",
        ),
        (
            response(output(ext_bbox=[840, 9, 71, 778])),
            "check_pass True without two well-formed boxes",
        ),
        (
            response(output(face_bbox=[302, 286, 610, 7001])),  # beyond the largest image
            "check_pass True without two well-formed boxes",
        ),
        (response(output(ext_bbox=None)), "check_pass True without two well-formed boxes"),
    ],
    ids=[
        "not-json",
        "302",
        "201",
        "no-output",
        "verdict-missing",
        "verdict-a-string",
        "box-of-three",
        "box-inverted",
        "box-too-large",
        "box-missing",
    ],
)
def test_an_answer_no_documented_reading_explains_says_why(
    answer: RecordedResponse, reason: str
) -> None:
    outcome = classify(answer, CONTRACTS)
    assert (outcome.kind, outcome.passed) == ("unexplained", None)
    assert outcome.reason == reason
    assert outcome.describe() == f"a response no documented reading explains ({reason})"


@pytest.mark.parametrize(
    ("usage", "billed"),
    [
        ({"image_count": 1}, 1),
        ({"image_count": 3}, 3),
        ({}, 1),
        ({"image_count": "1"}, 1),
        ({"image_count": 0}, 1),
        ({"image_count": True}, 1),
        ("one image", 1),
        (None, 1),  # a null usage is still a usage
    ],
)
def test_a_usage_counts_its_images_and_a_malformed_one_counts_as_one(
    usage: object, billed: int
) -> None:
    assert classify(response({**SHAPE_A, "usage": usage}), CONTRACTS).billed_images == billed


def test_an_answer_without_usage_billed_nothing() -> None:
    without = {key: value for key, value in SHAPE_A.items() if key != "usage"}
    assert classify(response(without), CONTRACTS).billed_images == 0
    assert classify(response("<html>busy</html>", 500), CONTRACTS).billed_images == 0


def test_a_renamed_verdict_is_judged_by_the_kind_of_answer_it_almost_is() -> None:
    """With its boxes it is nearly a pass; without them nearly a shape A failure."""
    renamed = output(check_pass=None, checkPass=True)
    nearest = nearest_answer(response(renamed), CONTRACTS)
    assert nearest is not None
    assert nearest.name == "check-passed"
    assert classify(response(renamed), CONTRACTS).answer == nearest
    failed = copy.deepcopy(SHAPE_A)
    failed["output"]["checkPass"] = failed["output"].pop("check_pass")
    nearest = nearest_answer(response(failed), CONTRACTS)
    assert nearest is not None
    assert nearest.name == "check-failed-a"
    assert nearest_answer(response(PASSED, 302), CONTRACTS) is None
