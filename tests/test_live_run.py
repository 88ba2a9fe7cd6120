"""The live run driven offline: the fake behind an httpx mock transport, no socket, no waits."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from facedetect_contract.cases import DEFAULT_CASES_FILE, LiveCase, load_cases
from facedetect_contract.fake import FaceDetectFake
from facedetect_contract.fixtures import FIXTURE_DIR
from facedetect_contract.live import LiveRun, LiveSettings, Pacer
from facedetect_contract.offline import fake_handler
from facedetect_contract.report import LiveReport
from facedetect_contract.violations import Severity, Violation

KEY = "sk-unit-" + "ab12" * 8


def live_run(
    tmp_path: Path,
    cases: tuple[LiveCase, ...] | None = None,
    *,
    failure_shape: str = "A",
    **settings: object,
) -> tuple[LiveRun, FaceDetectFake]:
    fake = FaceDetectFake(api_keys={KEY}, failure_shape=failure_shape)  # type: ignore[arg-type]
    options: dict[str, object] = {"qps": 0, "examples": 3, "record_dir": tmp_path, **settings}
    run = LiveRun(
        LiveSettings(**options),  # type: ignore[arg-type]
        cases or load_cases(DEFAULT_CASES_FILE),
        environ={"DASHSCOPE_API_KEY": KEY},
        transport=httpx.MockTransport(fake_handler(fake)),
        sleep=lambda _seconds: None,
    )
    return run, fake


def test_a_run_against_the_fake_judges_every_request_without_a_finding(tmp_path: Path) -> None:
    run, fake = live_run(tmp_path)
    run.execute()
    assert {v.status for v in run.verdicts.values()} == {"judged"}
    assert run.violations == []
    assert run.exit_status() == 0
    assert run.spend.images_billed == fake.billed == 2


def test_the_cases_get_the_budget_before_anything_else(tmp_path: Path) -> None:
    run, fake = live_run(tmp_path, max_billed=1)
    run.execute()
    not_sent = {name for name, v in run.verdicts.items() if v.status == "not-sent"}
    assert not_sent == {"case-documented-3-4", "probe-async-header"}
    assert fake.billed == 1


def test_only_the_named_requests_are_sent(tmp_path: Path) -> None:
    run, fake = live_run(tmp_path)
    run.execute(["probe-no-key", "probe-bad-key"])
    assert set(run.verdicts) == {"probe-no-key", "probe-bad-key"}
    assert fake.requests == 2


def test_the_documented_fixture_is_the_recording_a_live_case_is_compared_with(
    tmp_path: Path,
) -> None:
    """The fake crops the documented image differently from the docs' example: that is drift."""
    run, _ = live_run(tmp_path, record_dir=FIXTURE_DIR)
    verdict = run.verdict("case-documented-1-1")
    (finding,) = verdict.violations
    assert (finding.check, finding.pointer) == ("behaviour_matches_recording", "/output/ext_bbox")
    assert finding.severity is Severity.ADDITIVE
    assert "documented-pass-1-1" in finding.documented


def test_a_shape_b_failure_is_observed_and_meets_expect_fail(tmp_path: Path) -> None:
    nobody = LiveCase("nobody", "https://example.com/portraits/no-human.png", "1:1", "fail")
    run, _ = live_run(tmp_path, (nobody,), failure_shape="B", examples=0)
    run.execute()
    assert run.violations == []
    answers = {o.question: o.answer for o in LiveReport.from_run(run).observations}
    assert answers["8.1"] == "shape B (HTTP 400 InvalidFile.NoHuman)"
    assert answers["8.5"] == "not billed (HTTP 400 InvalidFile.NoHuman)"


def test_a_case_that_misses_its_expect_is_a_breaking_finding(tmp_path: Path) -> None:
    wrong = LiveCase("wrong", "https://example.com/portraits/no-human.png", "1:1", "pass")
    run, _ = live_run(tmp_path, (wrong,), examples=0)
    verdict = run.verdict("case-wrong")
    (finding,) = verdict.breaking
    assert finding.check == "live_case_meets_its_expect"
    assert finding.pointer == "/output/check_pass"
    assert verdict.failure_message() is not None
    assert run.exit_status() == 1


def test_the_pacer_never_starts_more_than_qps_requests_in_a_stretched_second() -> None:
    now = [0.0]
    starts: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(5, clock=lambda: now[0], sleep=sleep)
    for _ in range(12):
        pacer.wait()
        starts.append(now[0])
    window = 5 / 4.5
    assert starts[:5] == [0.0] * 5
    assert starts[5:10] == pytest.approx([window] * 5)
    assert starts[10:] == pytest.approx([2 * window] * 2)
    for index, start in enumerate(starts):
        in_window = [s for s in starts[: index + 1] if s > start - window + 1e-9]
        assert len(in_window) <= 5
    slept: list[float] = []
    Pacer(0, sleep=slept.append).wait()
    assert slept == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"examples": -1}, "--live-examples must be 0 or more"),
        ({"max_billed": -2}, "--max-billed must be 0 or more"),
        ({"qps": float("nan")}, "--live-qps must be 0"),
        ({"drift_report": Path("report.txt")}, "give a .json path"),
    ],
    ids=["examples", "max-billed", "qps", "report"],
)
def test_wrong_settings_name_their_option(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LiveSettings(**options)  # type: ignore[arg-type]


def test_the_written_report_is_valid_json_and_markdown_without_the_key(tmp_path: Path) -> None:
    run, _ = live_run(tmp_path, examples=0)
    run.execute()
    echoed = f'"Bearer {KEY}\\" | sk-other-0123456789'
    report = LiveReport.from_run(run)
    report = LiveReport(
        **{
            **report.__dict__,
            "findings": (
                Violation("c", "live-case-x", "/a", echoed, "d", Severity.BREAKING, "s", "t"),
            ),
        }
    )
    json_path, markdown_path = report.write(tmp_path / "out" / "drift.json", [KEY])
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["outcome"] == "drift"
    assert data["findings"][0]["received"] == '"Bearer <redacted>\\" | <redacted>'
    markdown = markdown_path.read_text(encoding="utf-8")
    assert KEY not in json_path.read_text(encoding="utf-8") + markdown
    assert "sk-other-0123456789" not in markdown
