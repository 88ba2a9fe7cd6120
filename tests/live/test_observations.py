"""What a run saw on each open question: the reading its answers support, and their evidence."""

from __future__ import annotations

from typing import Any

import pytest

from facedetect_contract.contracts.cases import LiveCase
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.core.interaction import Interaction, RecordedRequest, RecordedResponse
from facedetect_contract.core.redaction import Redactor
from facedetect_contract.live import observations
from facedetect_contract.live.judging import Verdict, judge
from facedetect_contract.live.observations import MIXED, OBSERVERS, Observation, observe, observer
from facedetect_contract.live.plan import PlannedRequest, case_requests, negative_probes

CONTRACTS = load_contracts()
JSON = {"content-type": "application/json"}
NO_HUMAN = "https://example.com/portraits/no-human.png"
SHAPE_A = {
    "output": {"check_pass": False, "code": "InvalidFile.NoHuman", "message": "No human"},
    "usage": {"image_count": 1},
    "request_id": "r-a",
}
SHAPE_B = {"code": "InvalidFile.NoHuman", "message": "No human", "request_id": "r-b"}


def case(name: str) -> PlannedRequest:
    (planned,) = case_requests([LiveCase(name, NO_HUMAN, "1:1", "fail")], CONTRACTS)
    return planned


def verdict(
    planned: PlannedRequest, status: int, body: Any, *, before: tuple[Interaction, ...] = ()
) -> Verdict:
    """The judged verdict on ``planned`` answered ``status`` ``body`` (after ``before``)."""
    final = Interaction(
        f"live-{planned.name}",
        RecordedRequest("POST", JSON, planned.request.body),
        RecordedResponse(status, JSON, body),
    )
    return judge(
        planned,
        final,
        [*before, final],
        contracts=CONTRACTS,
        redactor=Redactor(),
        endpoint="http://127.0.0.1:9/api/v1",
        strict_drift=False,
    )


def observed(verdicts: list[Verdict]) -> dict[str, Observation]:
    return {o.question: o for o in observe(verdicts, CONTRACTS)}


def test_every_open_question_has_one_observer_and_one_observation_in_order() -> None:
    assert set(OBSERVERS) == set(CONTRACTS.questions)
    assert [o.question for o in observe([], CONTRACTS)] == list(CONTRACTS.questions)


def test_a_second_observer_of_a_question_is_refused() -> None:
    with pytest.raises(ValueError, match="'failure-shape' has two observers"):
        observer("failure-shape")(OBSERVERS["failure-shape"])


def test_a_case_failed_in_shape_a_supports_reading_a_with_its_interaction_as_evidence() -> None:
    seen = observed([verdict(case("nobody"), 200, SHAPE_A)])["failure-shape"]
    assert (seen.reading, seen.answer) == ("A", "shape A (HTTP 200 InvalidFile.NoHuman)")
    assert seen.evidence == ("live-case-nobody",)
    assert seen.observed


def test_a_shape_b_failure_that_billed_nothing_supports_b_and_not_billed() -> None:
    seen = observed([verdict(case("nobody"), 400, SHAPE_B)])
    assert (seen["failure-shape"].reading, seen["failure-billing"].reading) == ("B", "not-billed")
    assert seen["failure-billing"].answer == "not billed (HTTP 400 InvalidFile.NoHuman)"


def test_answers_that_disagree_are_mixed_and_each_is_evidence() -> None:
    seen = observed([verdict(case("a"), 200, SHAPE_A), verdict(case("b"), 400, SHAPE_B)])
    shape = seen["failure-shape"]
    assert shape.reading == MIXED
    assert (
        shape.answer
        == "shape A (HTTP 200 InvalidFile.NoHuman); shape B (HTTP 400 InvalidFile.NoHuman)"
    )
    assert shape.evidence == ("live-case-a", "live-case-b")
    assert seen["failure-billing"].reading == MIXED


def test_what_nothing_observed_has_no_reading() -> None:
    probe = next(p for p in negative_probes(NO_HUMAN, CONTRACTS) if p.name == "probe-bad-key")
    refused = {"code": "InvalidApiKey", "message": "Invalid API-key provided.", "request_id": "r"}
    seen = observed([verdict(probe, 401, refused)])
    for question in ("failure-shape", "failure-billing", "box-conventions", "throttle-code"):
        assert seen[question].reading is None, question
        assert seen[question].answer.startswith("not observed"), question
        assert not seen[question].observed
        assert seen[question].evidence == ()
    assert seen["request-id-header"].reading == "absent"  # every JSON answer observes that one


def test_a_throttled_attempt_a_retry_got_past_still_answers_the_throttle_question() -> None:
    throttled = Interaction(
        "live-case-nobody-attempt-1",
        RecordedRequest("POST", JSON, {}),
        RecordedResponse(
            429,
            {**JSON, "retry-after": "1"},
            {"code": "Throttling.RateQuota", "message": "m", "request_id": "r"},
        ),
    )
    seen = observed([verdict(case("nobody"), 200, SHAPE_A, before=(throttled,))])
    code = seen["throttle-code"]
    assert (code.reading, code.answer) == (
        "Throttling.RateQuota",
        "HTTP 429 Throttling.RateQuota, Retry-After 1",
    )
    assert code.evidence == ("live-case-nobody-attempt-1",)


def test_an_observer_that_fails_is_reported_as_such_and_the_others_still_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object) -> tuple[str, str | None, list[str]]:
        raise RuntimeError("an answer nobody foresaw")

    monkeypatch.setitem(observations.OBSERVERS, "failure-shape", broken)
    seen = observed([verdict(case("nobody"), 200, SHAPE_A)])
    assert seen["failure-shape"].answer == "could not be observed (RuntimeError)"
    assert seen["failure-shape"].reading is None
    assert seen["failure-billing"].reading == "billed"


def test_verdicts_that_were_not_judged_are_no_evidence() -> None:
    judged = verdict(case("nobody"), 200, SHAPE_A)
    not_sent = Verdict(case("other"), "not-sent")
    unreachable = Verdict(case("third"), "unreachable", judged.interaction)
    seen = observed([not_sent, unreachable, judged])["failure-shape"]
    assert seen.evidence == ("live-case-nobody",)


OSS = "oss://dashscope-instant/0a1b2c/2026-12-07/portrait.png"  # a temporary-storage URL


def oss_case(name: str) -> PlannedRequest:
    (planned,) = case_requests([LiveCase(name, OSS, "1:1", "pass")], CONTRACTS)
    return planned


def test_an_oss_url_case_that_was_checked_supports_resolved_and_a_refused_one_refused() -> None:
    passed = {
        "output": {"check_pass": True, "face_bbox": [1, 2, 30, 40], "ext_bbox": [0, 0, 60, 60]},
        "usage": {"image_count": 1},
        "request_id": "r-p",
    }
    refusal = CONTRACTS.profile.rejection("url-invalid")
    refused = {"code": refusal.code, "message": refusal.message, "request_id": "r-r"}
    seen = observed([verdict(oss_case("resolved"), 200, passed)])["oss-url"]
    assert (seen.reading, seen.evidence) == ("resolved", ("live-case-resolved",))
    seen = observed([verdict(oss_case("refused"), 400, refused)])["oss-url"]
    assert (seen.reading, seen.answer) == ("refused", "oss:// URL: HTTP 400 InvalidURL")
    # An http(s) case says nothing about oss:// URLs.
    assert observed([verdict(case("nobody"), 200, SHAPE_A)])["oss-url"].reading is None


def test_only_a_reading_or_evidence_counts_as_observed() -> None:
    """The summary's "observed N of M open questions" counts questions the run's answers spoke
    to: never one with no observer, nor one whose observer failed."""
    assert not Observation("q", "t", "no observer").observed
    assert not Observation("q", "t", "could not be observed (KeyError)").observed
    assert not Observation("q", "t", "not observed: no JSON answer").observed
    assert Observation("q", "t", "HTTP 200", reading="A").observed
    assert Observation("q", "t", "file-size limit: not probed", evidence=("live-case-a",)).observed
