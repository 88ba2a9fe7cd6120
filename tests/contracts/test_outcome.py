"""What the endpoint said: passed, failed in shape A or B, a request error, or unexplained, and why."""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.contracts.loader import CONTRACT_DIR, Contracts, load_contracts
from facedetect_contract.contracts.outcome import Outcome, classify, nearest_answer
from facedetect_contract.contracts.settling import apply_patch
from facedetect_contract.core.interaction import RecordedResponse

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
SHAPE_A_WITH_BOXES: dict[str, Any] = {
    **SHAPE_A,
    "output": {
        **SHAPE_A["output"],
        "face_bbox": [302, 286, 610, 593],
        "ext_bbox": [71, 9, 840, 778],
    },
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


def edited_contracts(
    directory: Path, edit: Callable[[dict[str, Any], dict[str, Any]], None]
) -> Contracts:
    """A copy of the packaged contracts with ``edit(profile, questions)`` applied to its data."""
    shutil.copytree(CONTRACT_DIR, directory)
    documents = {}
    for name in ("endpoint.json", "questions.json"):
        documents[name] = json.loads((directory / name).read_text(encoding="utf-8"))
    edit(documents["endpoint.json"], documents["questions.json"])
    for name, document in documents.items():
        (directory / name).write_text(json.dumps(document), encoding="utf-8")
    return Contracts(directory)


def settle(question_id: str, reading_id: str) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    """The edit ``questions.json`` names for settling a question (its contract files only)."""
    reading = CONTRACTS.questions[question_id].reading(reading_id)

    def edit(profile: dict[str, Any], questions: dict[str, Any]) -> None:
        documents = {"endpoint.json": profile}
        for change in reading.settle:
            name = change.file.removeprefix("contracts/face-detect/")
            if name in documents and not change.delete:
                patched = apply_patch(documents[name], change.patch)
                documents[name].clear()
                documents[name].update(patched)
        entry = next(q for q in questions["questions"] if q["id"] == question_id)
        entry["settled"] = reading_id

    return edit


@pytest.fixture(scope="module")
def settled_b(tmp_path_factory: pytest.TempPathFactory) -> Contracts:
    """The contracts once live traffic settled failure-shape as B: shape A is admitted no more."""
    contracts = edited_contracts(
        tmp_path_factory.mktemp("settled") / "face-detect", settle("failure-shape", "B")
    )
    assert contracts.profile.failure_shapes == ("B",)
    return contracts


@pytest.fixture(scope="module")
def failures_listed_first(tmp_path_factory: pytest.TempPathFactory) -> Contracts:
    """The packaged contracts with the profile's answers in another order (shape A first)."""

    def edit(profile: dict[str, Any], questions: dict[str, Any]) -> None:
        answers = profile["answers"]
        profile["answers"] = {name: answers[name] for name in reversed(answers)}

    contracts = edited_contracts(tmp_path_factory.mktemp("reordered") / "face-detect", edit)
    assert contracts.profile.answers[0].outcome != "passed"
    return contracts


def test_an_outcome_is_a_value_no_one_can_change_after_the_classifier_gave_it() -> None:
    """Rule (one classifier): every consumer reads the same outcome, so none can alter it."""
    outcome = classify(response(PASSED), CONTRACTS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        outcome.kind = "failed"  # type: ignore[misc]
    assert hash(outcome) == hash(classify(response(PASSED), CONTRACTS))


def test_an_outcome_carries_only_what_its_kind_of_answer_says() -> None:
    """Rule: a pass has boxes and no reason; a failure a reason and no boxes; a request error
    its code; none says what its kind does not carry (no shape, code or box invented)."""
    passed = classify(response(PASSED), CONTRACTS)
    assert (passed.shape, passed.code, passed.message, passed.reason) == (None, None, None, "")
    failed = classify(response(SHAPE_A), CONTRACTS)
    assert (failed.face_box, failed.crop_box, failed.reason) == (None, None, "")
    refused = classify(response(REFUSED, 401), CONTRACTS)
    assert (refused.shape, refused.face_box, refused.crop_box, refused.humanoid) == (
        None,
        None,
        None,
        None,
    )
    assert (refused.message, refused.request_id, refused.reason) == (
        "Invalid API-key provided.",
        "r-401",
        "",
    )
    # built by hand, an outcome says nothing it was not told: no request, nothing billed
    bare = Outcome("request_error", None, 500)
    assert (bare.shape, bare.code, bare.message, bare.request_id) == (None, None, None, None)
    assert (bare.face_box, bare.crop_box, bare.humanoid) == (None, None, None)
    assert (bare.billed_images, bare.reason) == (0, "")


@pytest.mark.parametrize(
    ("answer", "shape"),
    [(response(SHAPE_A), "A"), (response(SHAPE_B, 400), "B")],
    ids=["shape-a", "shape-b"],
)
def test_a_failed_check_in_either_shape_is_a_check_result(
    answer: RecordedResponse, shape: str
) -> None:
    """Rule (failure-shape): both documented shapes are the portrait check's answer."""
    outcome = classify(answer, CONTRACTS)
    assert (outcome.kind, outcome.shape, outcome.is_check_result) == ("failed", shape, True)


def test_the_current_shape_a_example_with_empty_reason_names_no_code() -> None:
    """Rule (failure-details, reading empty): the current example has code and message ''."""
    documented = copy.deepcopy(SHAPE_A)
    documented["output"].update(code="", message="")
    outcome = classify(response(documented), CONTRACTS)
    assert (outcome.kind, outcome.code, outcome.message) == ("failed", "", "")
    assert outcome.describe() == "the portrait check failed (shape A)"
    absent = copy.deepcopy(SHAPE_A)
    del absent["output"]["code"], absent["output"]["message"]  # reading absent
    outcome = classify(response(absent), CONTRACTS)
    assert (outcome.code, outcome.message) == (None, None)
    assert "code" not in outcome.describe()


def test_a_request_failure_without_a_code_says_so() -> None:
    """Rule: the error body carries a code; an answer without one is described as such."""
    outcome = classify(response({"message": "Not Found", "request_id": "r"}, 404), CONTRACTS)
    assert (outcome.kind, outcome.code, outcome.message) == ("request_error", None, "Not Found")
    assert outcome.describe() == "a request failure: HTTP 404 (no code)"


def test_a_field_of_the_wrong_type_is_not_read_as_that_field() -> None:
    """Rule (error body): code, message and request_id are strings; humanoid is a boolean. A
    value of another type is not taken for one."""
    mistyped = {"code": 401, "message": ["Invalid API-key provided."], "request_id": 7}
    refused = classify(response(mistyped, 401), CONTRACTS)
    assert refused.kind == "request_error"
    assert (refused.code, refused.message, refused.request_id) == (None, None, None)
    failed = copy.deepcopy(SHAPE_A)
    failed["output"].update(code=0, message={"text": "No human"}, humanoid="false")
    outcome = classify(response(failed), CONTRACTS)
    assert (outcome.kind, outcome.code, outcome.message, outcome.humanoid) == (
        "failed",
        None,
        None,
        None,
    )
    assert classify(response(output(humanoid="true")), CONTRACTS).humanoid is None
    assert classify(response(output(humanoid=None)), CONTRACTS).humanoid is None  # not returned


def test_humanoid_is_kept_on_a_pass_and_on_a_shape_a_failure() -> None:
    """Rule (humanoid-returned, reading returned): the machine-readable spec gives
    ``humanoid`` on a pass and ``humanoid: false`` on a failure."""
    failed = copy.deepcopy(SHAPE_A)
    failed["output"]["humanoid"] = False
    assert classify(response(failed), CONTRACTS).humanoid is False
    assert classify(response(output(humanoid=False)), CONTRACTS).humanoid is False


@pytest.mark.parametrize(
    "body",
    [
        {"message": "m", "request_id": "r"},
        {"code": None, "message": "m", "request_id": "r"},
        {"code": ["InvalidFile.NoHuman"], "message": "m", "request_id": "r"},
        {"code": "InvalidFile.NoSuchReason", "message": "m", "request_id": "r"},
    ],
    ids=["code-missing", "code-null", "code-a-list", "code-not-in-the-table"],
)
def test_a_400_is_shape_b_only_when_its_code_is_a_documented_portrait_reason(
    body: dict[str, Any],
) -> None:
    """Rule (failure shape B): HTTP 400 with a top-level error body whose code is one of the
    portrait reasons of errors.json. Any other 400 error body is a request failure."""
    outcome = classify(response(body, 400), CONTRACTS)
    assert (outcome.kind, outcome.shape, outcome.passed) == ("request_error", None, None)
    assert outcome.answer is not None
    assert outcome.answer.name == "request-error"


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        (response(PASSED), "check-passed"),
        (response(SHAPE_A), "check-failed-a"),
        (response(SHAPE_B, 400), "check-failed-b"),
        (response(SHAPE_A_WITH_BOXES), "check-failed-a"),
        (response(REFUSED, 401), "request-error"),
        (response({**REFUSED, "code": "InvalidParameter"}, 400), "request-error"),
    ],
    ids=["passed", "shape-a", "shape-b", "shape-a-with-boxes", "401", "400-not-a-portrait-code"],
)
def test_a_documented_answer_is_nearest_to_its_own_kind(
    answer: RecordedResponse, name: str
) -> None:
    """Rule (one classifier): the kind an answer is, is the kind it comes closest to: a shape A
    failure that carries boxes (failure-details: boxes may be present) is still shape A, and a
    400 whose code is no portrait reason is a request error, not shape B."""
    nearest = nearest_answer(answer, CONTRACTS)
    assert nearest is not None
    assert nearest.name == name
    assert classify(answer, CONTRACTS).answer == nearest


def test_the_nearest_kind_follows_what_the_body_carries_not_the_profiles_order(
    failures_listed_first: Contracts,
) -> None:
    """Rule (nearest answer): a renamed verdict with boxes is nearly a pass, without them nearly
    a shape A failure, in whatever order the profile lists its answers."""
    with_boxes = response(output(check_pass=None, checkPass=True))
    nearest = nearest_answer(with_boxes, failures_listed_first)
    assert nearest is not None
    assert nearest.name == "check-passed"
    failed = copy.deepcopy(SHAPE_A)
    failed["output"]["checkPass"] = failed["output"].pop("check_pass")
    nearest = nearest_answer(response(failed), failures_listed_first)
    assert nearest is not None
    assert nearest.name == "check-failed-a"


def test_once_settled_as_b_a_shape_a_answer_is_a_reading_no_longer_admitted(
    settled_b: Contracts,
) -> None:
    """Rule (failure-shape settled B): a settled question changes what is explained without a
    code edit; the shape A answer is unexplained, says why, and is judged by the contract of the
    only kind of answer left at its status."""
    outcome = classify(response(SHAPE_A), settled_b)
    assert (outcome.kind, outcome.passed) == ("unexplained", None)
    assert outcome.reason == (
        "check_pass false with HTTP 200, a reading the contracts no longer admit"
    )
    assert outcome.answer is not None
    assert outcome.answer.name == "check-passed"
    assert classify(response(SHAPE_B, 400), settled_b).shape == "B"
    assert classify(response(PASSED), settled_b).kind == "passed"
    # a verdict that is no boolean is still said to be one
    assert classify(response(output(check_pass="false")), settled_b).reason == (
        "output.check_pass is not a boolean"
    )


def test_a_box_may_reach_the_largest_documented_image_side() -> None:
    """Rule (image limits): the longest side is at most 7000 px, so a box may end at 7000."""
    largest = CONTRACTS.profile.max_side_px
    outcome = classify(response(output(ext_bbox=[0, 0, largest, largest])), CONTRACTS)
    assert outcome.kind == "passed"
    assert outcome.crop_box == (0, 0, largest, largest)
    beyond = classify(response(output(ext_bbox=[0, 0, largest + 1, largest])), CONTRACTS)
    assert beyond.kind == "unexplained"


@pytest.mark.parametrize("status", [400, 401])
def test_a_code_of_the_endpoints_is_described_with_its_control_characters_escaped(
    status: int,
) -> None:
    code = "Invalid\x1b]52;c;ZXZpbA==\x07\x1b[2J\r= 55 passed =\ud83d"
    described = classify(response({**REFUSED, "code": code}, status), CONTRACTS).describe()
    assert not any(char in described for char in "\x1b\x07\r\ud83d")
    assert "\\x1b]52;c;ZXZpbA==\\x07" in described
