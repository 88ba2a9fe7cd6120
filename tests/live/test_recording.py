"""Recording live answers: only what offline replay can serve as it stands, redacted, and each
answer left out counted with its reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest

from facedetect_contract.contracts.cases import LiveCase
from facedetect_contract.contracts.fixtures import load_fixture
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.core.interaction import Interaction, RecordedRequest, RecordedResponse
from facedetect_contract.core.redaction import Redactor
from facedetect_contract.live.judging import Verdict, judge
from facedetect_contract.live.plan import PlannedRequest, case_requests
from facedetect_contract.live.recording import Recorder, expect_of
from tests.helpers.bodies import documented_pass_body

CONTRACTS = load_contracts()
KEY = "sk-recording-" + "5eed" * 8
HEADERS = {"content-type": "application/json", "authorization": "Bearer <redacted>"}
PASSED = documented_pass_body(request_id="r-pass")
SHAPE_A = {
    "output": {"check_pass": False, "code": "InvalidFile.NoHuman", "message": "No human"},
    "usage": {"image_count": 1},
    "request_id": "r-a",
}
SHAPE_B = {"code": "InvalidFile.NoHuman", "message": "No human", "request_id": "r-b"}
REFUSED = {"code": "InvalidApiKey", "message": "Invalid API-key provided.", "request_id": "r-401"}


def case(name: str = "portrait", expect: Literal["pass", "fail", "any"] = "any") -> PlannedRequest:
    live_case = LiveCase(name, "https://example.com/p.png", "1:1", expect)
    (planned,) = case_requests([live_case], CONTRACTS)
    return planned


def verdict(
    status: int,
    body: Any,
    planned: PlannedRequest | None = None,
    headers: dict[str, str] | None = None,
) -> Verdict:
    planned = case() if planned is None else planned
    interaction = Interaction(
        f"live-{planned.name}",
        RecordedRequest("POST", HEADERS, planned.request.body),
        RecordedResponse(
            status,
            {"content-type": "application/json", **(headers or {})},
            body,
            body_is_json=not isinstance(body, str),
        ),
        provenance={"host": "127.0.0.1:9"},
    )
    return judge(
        planned,
        interaction,
        [interaction],
        contracts=CONTRACTS,
        redactor=Redactor([KEY]),
        endpoint="http://127.0.0.1:9/api/v1",
        strict_drift=False,
    )


@pytest.mark.parametrize(
    ("status", "body", "expect"),
    [
        (200, PASSED, {"result": "check_passed"}),
        (200, SHAPE_A, {"result": "check_failed", "shape": "A", "code": "InvalidFile.NoHuman"}),
        (
            200,
            {**SHAPE_A, "output": {"check_pass": False}},
            {"result": "check_failed", "shape": "A"},
        ),
        (400, SHAPE_B, {"result": "check_failed", "shape": "B", "code": "InvalidFile.NoHuman"}),
        (401, REFUSED, {"result": "request_error", "code": "InvalidApiKey"}),
        (401, {"message": "m", "request_id": "r"}, None),  # an error without a code to expect
        (200, "<html>busy</html>", None),  # unexplained
    ],
    ids=["passed", "shape-a", "shape-a-no-reason", "shape-b", "error", "error-no-code", "html"],
)
def test_the_expect_of_an_answer_is_how_replay_must_type_it(
    status: int, body: Any, expect: dict[str, str] | None
) -> None:
    assert expect_of(verdict(status, body)) == expect


def test_a_verdict_without_an_outcome_has_no_expect() -> None:
    assert expect_of(Verdict(case(), "not-sent")) is None


def test_a_replayable_answer_is_written_as_a_fixture_the_loader_accepts(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path, CONTRACTS, [KEY])
    echoed = {**PASSED, "request_id": f"r-{KEY}"}
    recorder.record(verdict(200, echoed, headers={"X-Request-Id": "r-1", "Bad Name": "v"}))
    (path,) = recorder.recorded
    assert path == tmp_path / "live-case-portrait.json"
    assert KEY not in path.read_text(encoding="utf-8")
    fixture = load_fixture(path, CONTRACTS)
    assert fixture.expect == {"result": "check_passed"}
    assert dict(fixture.provenance) == {
        "kind": "recorded",
        "date": fixture.provenance["date"],
        "host": "127.0.0.1:9",
        "case": "portrait",
    }
    assert fixture.response.headers["x-request-id"] == "r-1"
    assert fixture.response.headers["bad-name"] == "v"  # header names are made HTTP tokens
    assert (recorder.not_recorded, recorder.errors) == ({}, [])


@pytest.mark.parametrize(
    ("status", "body", "why"),
    [
        (200, {**PASSED, "request_id": ""}, "answers with breaking findings"),
        (200, "<html>busy</html>", "answers with breaking findings"),
        (401, {"message": "m", "request_id": "r"}, "answers with breaking findings"),
    ],
    ids=["breaking", "not-json", "no-code"],
)
def test_an_answer_replay_would_fail_on_is_counted_not_written(
    tmp_path: Path, status: int, body: Any, why: str
) -> None:
    recorder = Recorder(tmp_path, CONTRACTS, [KEY])
    recorder.record(verdict(status, body))
    assert recorder.recorded == []
    assert recorder.not_recorded == {why: 1}
    assert list(tmp_path.iterdir()) == []


def test_a_second_answer_to_the_same_request_is_not_recorded(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path, CONTRACTS, [KEY])
    first, again = case("portrait"), case("portrait again")
    recorder.record(verdict(200, PASSED, first))
    recorder.record(verdict(200, SHAPE_A, again))
    assert [path.name for path in recorder.recorded] == ["live-case-portrait.json"]
    assert load_fixture(recorder.recorded[0], CONTRACTS).expect == {"result": "check_passed"}
    assert recorder.not_recorded == {"answers to a request already recorded in this run": 1}


def test_only_judged_verdicts_are_recorded(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path, CONTRACTS, [KEY])
    failing = verdict(200, PASSED)
    recorder.record(Verdict(failing.planned, "failing", failing.interaction))
    recorder.record(Verdict(failing.planned, "not-sent"))
    assert (recorder.recorded, recorder.not_recorded) == ([], {})
