"""Judging a live answer: where "the endpoint is down" ends and "the contract changed" begins."""

from __future__ import annotations

import ast
import dataclasses
import json
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any, get_args
from unittest import mock

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from facedetect_contract.contracts.cases import Expect, LiveCase
from facedetect_contract.contracts.loader import CONTRACT_DIR, load_contracts
from facedetect_contract.contracts.outcome import classify
from facedetect_contract.core.interaction import Interaction, RecordedRequest, RecordedResponse
from facedetect_contract.core.redaction import Redactor
from facedetect_contract.core.violations import Severity, Violation
from facedetect_contract.live import judging
from facedetect_contract.live.judging import RUN_ERRORS, Status, Verdict, judge
from facedetect_contract.live.plan import PlannedRequest, case_requests, negative_probes
from facedetect_contract.report import LiveReport
from tests.helpers.bodies import DOCUMENTED_CROP, DOCUMENTED_FACE
from tests.helpers.live import live_run
from tests.helpers.suite import fail_on_findings

CONTRACTS = load_contracts()
KEY = "sk-judging-" + "c0ffee" * 6
PROBE = next(
    p for p in negative_probes("https://example.com/p.png", CONTRACTS) if p.name == "probe-no-key"
)
JSON = {"content-type": "application/json"}


def answer(status: int, content: bytes, content_type: str = "application/json") -> Interaction:
    return Interaction(
        "live-probe",
        RecordedRequest("POST", JSON, {"model": "emo-detect-v1"}),
        RecordedResponse.from_bytes(status, {"Content-Type": content_type}, content),
    )


def error_body(code: str) -> bytes:
    return b'{"code": "%s", "message": "m", "request_id": "r"}' % code.encode()


def verdict_of(final: Interaction, attempts: int = 3, planned: PlannedRequest = PROBE) -> Any:
    return judge(
        planned,
        final,
        [final] * attempts,
        contracts=CONTRACTS,
        redactor=Redactor([KEY]),
        endpoint="http://127.0.0.1:9/api/v1",
        strict_drift=False,
    )


def test_a_failing_endpoint_is_an_error_of_the_run_whose_reason_quotes_the_body() -> None:
    page = b"<html>\n  <body>Bad   Gateway: upstream " + KEY.encode() + b" down</body>" + b"x" * 300
    verdict = verdict_of(answer(502, page, "text/html"))
    assert (verdict.status, verdict.is_run_error, verdict.violations) == ("failing", True, ())
    assert verdict.reason.startswith(
        "endpoint failing: still HTTP 502 after 2 retries (an error of the run, not drift); "
        "the body begins '<html> <body>Bad Gateway: upstream <redacted> down</body>xxx"
    )
    assert verdict.reason.endswith("'; run again later")
    assert KEY not in verdict.reason
    assert len(verdict.attempts) == 3


def test_a_json_error_of_a_failing_endpoint_is_named_by_its_code() -> None:
    verdict = verdict_of(answer(503, error_body("ModelUnavailable")), attempts=1)
    assert verdict.reason.startswith(
        "endpoint failing: still HTTP 503 ModelUnavailable after 0 retries (an error of the run, "
        "not drift); the body begins "
    )


def test_a_throttled_endpoint_says_how_to_get_through_and_is_no_drift() -> None:
    verdict = verdict_of(answer(429, error_body("Throttling.RateQuota")))
    assert (verdict.status, verdict.violations, verdict.message) == ("throttled", (), None)
    assert verdict.reason == (
        "throttled: still HTTP 429 Throttling.RateQuota after 2 retries "
        "(an error of the run, not drift); lower --live-qps or run again later"
    )


def test_a_501_with_an_error_body_is_judged_by_the_checks() -> None:
    verdict = verdict_of(answer(501, error_body("NotImplemented")))
    assert (verdict.status, verdict.is_run_error) == ("judged", False)
    assert verdict.breaking  # 501 is no documented status: drift, not an outage
    assert verdict.message is not None
    assert verdict.message.startswith("probe-no-key: ")


# --- errors of the run ------------------------------------------------------------------------


def test_every_status_but_judged_and_not_sent_is_an_error_of_the_run() -> None:
    """Rule (never a false green): unreachable, broken, throttled, failing, error and timed-out
    say nothing about the contract; they are errors of the run, judged and not-sent are not."""
    statuses = set(get_args(Status))
    assert statuses - {"judged", "not-sent"} == RUN_ERRORS
    for status in sorted(statuses):
        verdict = Verdict(PROBE, status)
        assert verdict.is_run_error is (status not in ("judged", "not-sent")), status


def test_a_request_not_sent_has_no_answer_attempts_findings_or_reason() -> None:
    """Rule (budget): a request not sent to stay within the budget got nothing back."""
    verdict = Verdict(PROBE, "not-sent")
    assert (verdict.name, verdict.interaction, verdict.attempts) == ("probe-no-key", None, ())
    assert (verdict.violations, verdict.breaking, verdict.additive) == ((), (), ())
    assert (verdict.reason, verdict.message, verdict.outcome) == ("", None, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.status = "judged"  # type: ignore[misc]


def test_an_error_of_the_run_keeps_its_request_its_answer_and_every_attempt() -> None:
    """Rule (errors of the run): the report says which request met the outage, and with what."""
    final = answer(503, error_body("ModelUnavailable"))
    first = answer(503, error_body("ModelUnavailable"))
    verdict = judge(
        PROBE,
        final,
        [first, final],
        contracts=CONTRACTS,
        redactor=Redactor([KEY]),
        endpoint="http://127.0.0.1:9/api/v1",
        strict_drift=True,
    )
    assert (verdict.planned, verdict.name, verdict.status) == (PROBE, "probe-no-key", "failing")
    assert verdict.interaction is final
    assert verdict.attempts == (first, final)
    assert (verdict.violations, verdict.message, verdict.outcome) == ((), None, None)
    assert "after 1 retries" in verdict.reason


def test_a_failing_endpoint_quotes_the_first_120_characters_of_its_body() -> None:
    """Rule (errors of the run): the reason gives the body's first characters, whitespace
    runs collapsed, and a JSON body as JSON."""
    verdict = verdict_of(answer(502, b"  Bad \n\t Gateway " + b"y" * 300, "text/plain"))
    quoted = verdict.reason.split("the body begins ", 1)[1].rsplit("; run again later", 1)[0]
    assert quoted == repr(("Bad Gateway " + "y" * 300)[:120])
    json_error = verdict_of(answer(503, error_body("ModelUnavailable")))
    assert json_error.reason == (
        "endpoint failing: still HTTP 503 ModelUnavailable after 2 retries (an error of the run, "
        "not drift); the body begins "
        """'{"code": "ModelUnavailable", "message": "m", "request_id": "r"}'; run again later"""
    )


def test_a_failing_endpoint_with_an_empty_body_quotes_nothing() -> None:
    """Rule (errors of the run): with no body there is nothing to quote."""
    verdict = verdict_of(answer(503, b"", "text/plain"))
    assert verdict.status == "failing"
    assert verdict.reason == (
        "endpoint failing: still HTTP 503 after 2 retries (an error of the run, not drift); "
        "run again later"
    )
    assert "body begins" not in verdict.reason


# --- judged answers ---------------------------------------------------------------------------

IMAGE = "https://example.com/portraits/me.png"
FACE, CROP = list(DOCUMENTED_FACE), list(DOCUMENTED_CROP)  # as JSON arrays


def head_shot(expect: Expect = "pass", **extra: Any) -> PlannedRequest:
    (planned,) = case_requests([LiveCase("head shot", IMAGE, "1:1", expect, extra)], CONTRACTS)
    return planned


def passed(face: list[int] = FACE, crop: list[int] = CROP, **more: Any) -> dict[str, Any]:
    return {
        "output": {"check_pass": True, "face_bbox": face, "ext_bbox": crop, **more},
        "usage": {"image_count": 1},
        "request_id": "r-pass",
    }


SHAPE_A = {
    "output": {"check_pass": False, "code": "InvalidFile.NoHuman", "message": ""},
    "usage": {"image_count": 1},
    "request_id": "r-a",
}


def live(planned: PlannedRequest, body: Any, status: int = 200) -> Interaction:
    return Interaction(
        f"live-{planned.name}",
        RecordedRequest("POST", JSON, planned.request.body),
        RecordedResponse(status, JSON, body),
    )


def judged(
    planned: PlannedRequest,
    final: Interaction,
    *,
    strict_drift: bool = False,
    **options: Any,
) -> Verdict:
    return judge(
        planned,
        final,
        [final],
        contracts=CONTRACTS,
        redactor=Redactor([KEY]),
        endpoint=ENDPOINT,
        strict_drift=strict_drift,
        **options,
    )


ENDPOINT = "https://gw.example.com/qwen/api/v1"


def test_a_conforming_answer_is_judged_with_its_outcome_and_no_message() -> None:
    """Rule (verdict): an answer every check accepts passes: no findings, no failure message;
    the verdict keeps the request, the answer, its attempts and the one classifier's outcome."""
    planned = head_shot()
    final = live(planned, passed())
    verdict = judged(planned, final)
    assert (verdict.status, verdict.is_run_error, verdict.violations) == ("judged", False, ())
    assert verdict.message is None
    assert (verdict.planned, verdict.interaction, verdict.attempts) == (planned, final, (final,))
    assert verdict.outcome == classify(final.response, CONTRACTS)
    assert verdict.outcome is not None
    assert verdict.outcome.kind == "passed"


def test_an_additive_finding_fails_only_under_strict_drift() -> None:
    """Rule (--strict-drift): an additive finding (a new field) is a warning that does not fail
    the request, unless --strict-drift; a breaking one fails it either way."""
    planned = head_shot()
    final = live(planned, passed(blur=0.25))
    lenient = judged(planned, final)
    assert [v.severity for v in lenient.violations] == [Severity.ADDITIVE]
    assert (lenient.additive, lenient.breaking, lenient.message) == (lenient.violations, (), None)
    strict = judged(planned, final, strict_drift=True)
    assert strict.violations == lenient.violations
    assert strict.message is not None
    assert str(strict.violations[0]) in strict.message
    assert "not failing" not in strict.message  # every finding fails: none left to count


def test_a_breaking_finding_fails_and_the_message_names_the_request_the_endpoint_and_it() -> None:
    """Rule (failure message): it names the request (its id and what it is), the endpoint and
    every failing finding, one line each, and counts the findings that do not fail."""
    planned = head_shot()
    final = live(planned, passed(face=[0, 0, 100, 100], blur=0.25))  # outside the crop
    verdict = judged(planned, final)
    assert {v.check for v in verdict.breaking} == {"face_bbox_inside_ext_bbox"}
    assert len(verdict.additive) == 1
    assert verdict.message is not None
    lines = verdict.message.splitlines()
    assert lines[0] == f"case-head-shot: {planned.description}"
    assert lines[1] == f"endpoint: {ENDPOINT}"
    for finding in verdict.breaking:
        assert str(finding) in verdict.message
    assert str(verdict.additive[0]) not in verdict.message
    assert lines[-1] == "(and 1 additive or acknowledged finding(s), not failing)"


def test_an_acknowledged_finding_never_fails_even_a_breaking_one() -> None:
    """Rule (baseline): a finding the baseline acknowledges is reported and never fails, under
    --strict-drift too; the others still do."""
    planned = head_shot()
    final = live(planned, passed(face=[0, 0, 100, 100], blur=0.25))
    inside = "face_bbox_inside_ext_bbox"
    verdict = judged(planned, final, strict_drift=True, acknowledged=lambda v: v.check == inside)
    assert inside in {v.check for v in verdict.breaking}
    assert verdict.message is not None
    assert inside not in verdict.message
    assert str(verdict.additive[0]) in verdict.message
    assert "(and 1 additive or acknowledged finding(s), not failing)" in verdict.message
    everything = judged(planned, final, strict_drift=True, acknowledged=lambda v: True)
    assert everything.violations == verdict.violations
    assert everything.message is None


def test_a_live_case_is_judged_against_its_expect_and_names_its_cases_file() -> None:
    """Rule (live cases): an answer that is not what the case's expect says is breaking, and the
    finding names the cases file entry (the cases file when no path is given)."""
    planned = head_shot("pass")
    final = live(planned, SHAPE_A)
    verdict = judged(planned, final, cases_source="nightly/cases.json")
    expect = [v for v in verdict.breaking if v.check == "live_case_meets_its_expect"]
    assert len(expect) == 1
    assert expect[0].source == "nightly/cases.json, entry 'head shot'"
    assert verdict.message is not None
    assert "nightly/cases.json, entry 'head shot'" in verdict.message
    unnamed = judged(planned, final)
    assert "live_case_meets_its_expect" in {v.check for v in unnamed.breaking}
    assert unnamed.message is not None
    assert "the live cases file, entry 'head shot'" in unnamed.message
    assert judged(head_shot("any"), live(head_shot("any"), SHAPE_A)).message is None


def test_behaviour_drift_is_judged_against_the_recording_and_the_cases_boxes() -> None:
    """Rule (behaviour drift): a box that moved from its recording, or from the box the case
    expects, is additive; it fails only under --strict-drift."""
    planned = head_shot()
    moved = live(planned, passed(face=[100, 100, 400, 400]))
    recording = Interaction(
        "recorded-head-shot",
        RecordedRequest("POST", JSON, planned.request.body),
        RecordedResponse(200, JSON, passed()),
        provenance={"kind": "recorded", "date": "2026-03-01"},
    )
    lenient = judged(planned, moved, recording=recording)
    drift = [v for v in lenient.violations if v.check == "behaviour_matches_recording"]
    assert [v.source for v in drift] == ["fixtures/face-detect/recorded-head-shot.json"]
    assert lenient.message is None
    assert judged(planned, moved).violations == ()  # no recording, no expected box: no drift
    expected = head_shot(face_bbox=FACE)
    strict = judged(expected, live(expected, passed(face=[100, 100, 400, 400])), strict_drift=True)
    assert [v.source for v in strict.additive] == ["the live cases file, entry 'head shot'"]
    assert strict.message is not None
    assert "behaviour drift: face_bbox moved" in strict.message


def test_the_failure_message_never_contains_the_api_key() -> None:
    """Rule (no key in any output): the message is redacted, whatever the answer or the
    endpoint echo of the key."""
    planned = head_shot()
    echoed = live(planned, passed(face=[0, 0, 100, 100], note=f"key {KEY} seen"))
    verdict = judge(
        planned,
        echoed,
        [echoed],
        contracts=CONTRACTS,
        redactor=Redactor([KEY]),
        endpoint=f"https://gw.example.com/{KEY}/api/v1",
        strict_drift=True,
    )
    assert verdict.message is not None
    assert KEY not in verdict.message
    assert KEY[:12] not in verdict.message
    assert "endpoint: https://gw.example.com/<redacted>/api/v1" in verdict.message


# --- the rule, for any findings ---------------------------------------------------------------


def finding(index: int, severity: Severity) -> Violation:
    return Violation(
        check=f"check_{index}",
        interaction="live-case-head-shot",
        pointer=f"/output/field_{index}",
        received=f"received {index}",
        documented="documented",
        severity=severity,
        source="https://help.aliyun.com/zh/model-studio/emo-detect-api (2026-02-11)",
        title=f"finding {index}",
    )


def test_property_a_finding_fails_iff_breaking_or_strict_and_not_acknowledged() -> None:
    """Rule (verdict): a finding fails when it is breaking, or additive under --strict-drift,
    and the baseline does not acknowledge it. The message lists exactly the failing ones and
    counts the rest; without any failing finding there is no message."""
    planned = head_shot()
    final = live(planned, passed())
    seen: Counter[str] = Counter()

    @given(
        severities=st.lists(st.sampled_from(list(Severity)), max_size=6),
        acknowledged_mask=st.lists(st.booleans(), min_size=6, max_size=6),
        strict=st.booleans(),
    )
    # One example per branch, so each is taken whatever the generated examples are.
    @example(severities=[], acknowledged_mask=[False] * 6, strict=False)
    @example(severities=[Severity.BREAKING] * 2, acknowledged_mask=[False] * 6, strict=False)
    @example(severities=list(Severity), acknowledged_mask=[True] + [False] * 5, strict=True)
    def rule(severities: list[Severity], acknowledged_mask: list[bool], strict: bool) -> None:
        found = [finding(i, s) for i, s in enumerate(severities)]
        acknowledged = {v.check for v, ack in zip(found, acknowledged_mask, strict=False) if ack}
        with mock.patch.object(judging, "run_checks", return_value=found):
            verdict = judged(
                planned,
                final,
                strict_drift=strict,
                acknowledged=lambda v: v.check in acknowledged,
            )
        failing = [
            v
            for v in found
            if (v.severity is Severity.BREAKING or strict) and v.check not in acknowledged
        ]
        assert verdict.violations == tuple(found)
        if not failing:
            seen["passes"] += 1
            assert verdict.message is None
            return
        assert verdict.message is not None
        for v in found:
            assert (f"] {v.check}: " in verdict.message) is (v in failing)
        rest = len(found) - len(failing)
        if rest:
            seen["some fail, some do not"] += 1
            assert verdict.message.endswith(
                f"(and {rest} additive or acknowledged finding(s), not failing)"
            )
        else:
            seen["all fail"] += 1
            assert "not failing" not in verdict.message
        event(f"{'strict' if strict else 'lenient'}: {len(failing)} failing, {rest} not")

    rule()
    assert min(seen["passes"], seen["all fail"], seen["some fail, some do not"]) >= 1, seen


def flooded(count: int) -> Interaction:
    """A documented pass with ``count`` undocumented fields in its output."""
    body = json.loads(
        (CONTRACT_DIR.parent.parent / "fixtures/face-detect/documented-pass-1-1.json").read_text()
    )["response"]["body"]
    body["output"].update({f"extra_{i:06d}": i for i in range(count)})
    return answer(200, json.dumps(body).encode())


@pytest.mark.parametrize("count", [4000, 50_000])
def test_a_flood_of_undocumented_fields_folds_into_few_findings_with_the_exact_count(
    count: int,
) -> None:
    import time  # here only: the module measures nothing else

    started = time.monotonic()
    verdict = verdict_of(flooded(count))
    elapsed = time.monotonic() - started
    print(f"judging {count} undocumented fields: {elapsed:.3f} s")
    assert len(verdict.violations) == judging.PER_PLACE + 1
    assert sum(1 + v.folded for v in verdict.violations) == count
    shown = [v for v in verdict.violations if not v.folded]
    unfolded = judge(
        PROBE,
        flooded(judging.PER_PLACE),
        [],
        contracts=CONTRACTS,
        redactor=Redactor([KEY]),
        endpoint="e",
        strict_drift=False,
    )
    assert [v.id for v in shown] == [v.id for v in unfolded.violations]  # ids unchanged
    assert "more like it at /output" in verdict.violations[-1].title
    assert elapsed < 5.0


def test_the_endpoints_error_code_and_body_reach_a_reason_printable() -> None:
    hostile = b'{"code": "Bad\\u001b]52;c;ZWNobw==\\u0007\\r= 55 passed =", "request_id": "r"}'
    verdict = verdict_of(answer(503, hostile))
    assert "\x1b" not in verdict.reason and "\r" not in verdict.reason
    assert "\\x1b]52" in verdict.reason
    body = verdict_of(answer(502, b"<html>\x1b[2J\rgateway</html>", "text/html"))
    assert "\x1b" not in body.reason and "\\x1b[2J" in body.reason


def test_a_finding_at_a_pointer_holding_a_lone_surrogate_still_has_a_stable_id() -> None:
    from facedetect_contract.core.violations import Severity, Violation

    made = Violation("c", "live-case-a", "/output/\ud83d", "r", "d", Severity.ADDITIVE, "s", "t")
    assert made.id == Violation(**{**made.__dict__}).id and made.id.startswith("FD-")


# --- what fails the run: one rule, asked by judging, the report and the shipped suite -----------


@pytest.mark.parametrize("severity", list(Severity), ids=str)
@pytest.mark.parametrize("strict_drift", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize("acknowledged", [False, True], ids=["new", "acknowledged"])
def test_a_finding_fails_the_run_iff_breaking_or_strict_and_not_acknowledged(
    severity: Severity, strict_drift: bool, acknowledged: bool
) -> None:
    fails = judging.fails_the_run(
        finding(0, severity), strict_drift=strict_drift, acknowledged=acknowledged
    )
    assert fails is ((severity is Severity.BREAKING or strict_drift) and not acknowledged)


def test_a_baseline_entry_past_its_date_fails_the_run_when_no_finding_does() -> None:
    """Rule (baseline): an acknowledgement nobody revisited fails the run until it is renewed
    or dropped, even with every finding acknowledged or none at all."""
    additive = finding(0, Severity.ADDITIVE)
    assert not judging.drift_fails_the_run([additive], strict_drift=False)
    assert judging.drift_fails_the_run([], strict_drift=False, expired=["an entry"])
    assert judging.drift_fails_the_run(
        [additive], strict_drift=True, acknowledged=lambda _: True, expired=["an entry"]
    )
    assert judging.drift_fails_the_run([additive], strict_drift=True)


@pytest.mark.parametrize("rule_says", [True, False], ids=["fails", "does not fail"])
def test_judging_the_report_and_the_shipped_suite_all_follow_the_one_rule(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, rule_says: bool
) -> None:
    """Whatever ``judging.fails_the_run`` says of a finding (here the opposite of what the rule
    says of an additive or a breaking one), the verdict's message, the report's outcome and exit
    status and the shipped suite's test follow it: none of them decides on its own."""
    found = finding(0, Severity.ADDITIVE if rule_says else Severity.BREAKING)
    monkeypatch.setattr(judging, "fails_the_run", lambda *_args, **_options: rule_says)
    planned = head_shot()
    with mock.patch.object(judging, "run_checks", return_value=[found]):
        verdict = judged(planned, live(planned, passed()))
    assert (verdict.message is not None) is rule_says

    run, _ = live_run(tmp_path, examples=0)
    run.execute(["probe-no-key"])
    report = dataclasses.replace(LiveReport.from_run(run), findings=(found,))
    assert (report.outcome, report.exit_status) == (
        ("drift", 1) if rule_says else ("passed with warnings", 0)
    )

    quiet = Verdict(planned, "judged", violations=(found,))  # no message: the rule alone decides
    suite_run = SimpleNamespace(
        settings=SimpleNamespace(strict_drift=False), baseline=None, redact=lambda text: text
    )
    if rule_says:
        with pytest.raises(pytest.fail.Exception, match=found.check):
            fail_on_findings(quiet, suite_run)  # type: ignore[arg-type]  # what it reads of a run
    else:
        fail_on_findings(quiet, suite_run)  # type: ignore[arg-type]


def test_no_module_but_judging_spells_the_finding_rule() -> None:
    """The rule is written once: no boolean expression outside ``live/judging.py`` (in the
    package or the shipped suite) weighs ``strict_drift``, as the three copies did."""
    package = Path(judging.__file__).parent.parent
    suite = Path(__file__).parent.parent / "contract"
    spelled = set()
    for path in [*package.rglob("*.py"), *suite.rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.BoolOp) and "strict_drift" in ast.unparse(node):
                spelled.add(
                    path.name if path.is_relative_to(suite) else str(path.relative_to(package))
                )
    assert spelled == {"live/judging.py"}


def _finding(check: str, pointer: str, severity: Severity = Severity.ADDITIVE) -> Violation:
    return Violation(check, "live-case-a", pointer, "r", "d", severity, "s", f"t {pointer}")


@pytest.mark.parametrize(
    ("findings", "kept", "last_folded", "last_title_ends"),
    [
        # 12 of one check at one place: 10 kept, the 11th stands for itself and 1 more.
        (
            [_finding("A", f"/output/x{i}") for i in range(12)],
            11,
            1,
            "(and 1 more like it at /output)",
        ),
        ([_finding("A", f"/x{i}") for i in range(12)], 11, 1, "(and 1 more like it at /)"),
        ([_finding("A", f"/output/x{i}") for i in range(10)], 10, 0, "t /output/x9"),
        # 60 places of one check: 50 kept in the answer, the 51st stands for the other 9.
        (
            [_finding("C", f"/p{i}/x") for i in range(60)],
            51,
            9,
            "(and 9 more like it in this answer)",
        ),
        ([_finding("C", f"/p{i}/x") for i in range(50)], 50, 0, "t /p49/x"),
    ],
    ids=["place", "root", "ten-at-a-place", "answer", "fifty-in-an-answer"],
)
def test_an_answers_findings_fold_at_ten_per_place_and_fifty_in_all_counting_every_one(
    findings: list[Violation], kept: int, last_folded: int, last_title_ends: str
) -> None:
    folded = judging.fold_answer(findings)
    assert len(folded) == kept
    assert folded[-1].folded == last_folded and folded[-1].title.endswith(last_title_ends)
    assert sum(1 + v.folded for v in folded) == len(findings)  # none lost from the count


def test_findings_of_another_check_severity_or_place_fold_apart() -> None:
    twelve = [_finding("A", f"/output/x{i}") for i in range(12)]
    apart = [
        *twelve,
        *(_finding("B", f"/output/y{i}") for i in range(3)),
        *(_finding("A", f"/output/z{i}", Severity.BREAKING) for i in range(3)),
        *(_finding("A", f"/usage/w{i}") for i in range(3)),
    ]
    folded = judging.fold_answer(apart)
    assert len(folded) == 11 + 9 and sum(v.folded for v in folded) == 1
    # Across places, one check and severity share the answer's cap: 6 places of 10 fold to 50.
    places = [_finding("A", f"/p{p}/x{i}") for p in range(6) for i in range(10)]
    across = judging.fold_answer(places)
    assert len(across) == 51 and across[-1].folded == 9
    mixed = [_finding("A", f"/p{p}/x") for p in range(30)]
    mixed += [_finding("B", f"/q{p}/x") for p in range(30)]
    assert len(judging.fold_answer(mixed)) == 51  # one cap for the answer, one more standing


def test_acknowledged_findings_are_never_folded_by_the_answers_caps() -> None:
    findings = [_finding("A", f"/output/x{i}") for i in range(60)]
    assert len(judging.fold_answer(findings, exempt=lambda _: True)) == 60
    interaction = flooded(60)
    verdict = judge(
        PROBE,
        interaction,
        [interaction],
        contracts=CONTRACTS,
        redactor=Redactor([KEY]),
        endpoint="e",
        strict_drift=True,  # additive findings fail, but for the acknowledged ones
        acknowledged=lambda v: "/extra_" in v.pointer and not v.pointer.endswith("_000000"),
    )
    extras = [v for v in verdict.violations if "/extra_" in v.pointer]
    assert len(extras) == 60 and not any(v.folded for v in extras)
    assert verdict.message is not None
    assert verdict.message.endswith("(and 59 additive or acknowledged finding(s), not failing)")


def test_an_endpoints_error_code_is_cut_at_80_characters_in_a_reason() -> None:
    code = "C" * 200
    verdict = verdict_of(answer(503, error_body(code)))
    assert verdict.reason.startswith(f"endpoint failing: still HTTP 503 {'C' * 80} after ")
