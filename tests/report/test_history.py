"""Drift over time: a simulated month of nightly live runs against the stub server.

The script: a new field appears on night 9 and is acknowledged in the baseline on night 10; the
boxes move on night 17 only; the failure shape is always B. Each night is a real live run (the
stub over HTTP, the suite's client, budget, judging and report), under --strict-drift so that
"green" means nothing new. The history it leaves must say when each finding came and went, the
baseline must keep nights 10-30 green but night 17, and the failure-shape question must settle on
night 14 with a diff that, applied to a copy of the contracts, still passes against a shape B
endpoint and fails against a shape A one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.contracts.cases import LiveCase
from facedetect_contract.contracts.fixtures import FIXTURE_DIR, IMAGE_DIR
from facedetect_contract.contracts.loader import CONTRACT_DIR, Contracts, load_contracts
from facedetect_contract.contracts.settling import change_for
from facedetect_contract.core.redaction import Redactor
from facedetect_contract.doubles.fake import FakeRequest, FakeResponse
from facedetect_contract.doubles.server import RunningServer, serve_in_thread
from facedetect_contract.live.baseline import Baseline, BaselineEntry, load_baseline
from facedetect_contract.live.run import LiveRun, LiveSettings
from facedetect_contract.report import LiveReport
from facedetect_contract.report.history import append, load_history, record_of, summarize
from tests.helpers.suite import LIVE_TESTS

KEY = "sk-history-" + "7a6b" * 8
pytest_plugins = ["pytester"]
START = datetime(2026, 11, 1, 3, 17, tzinfo=UTC)
NIGHTS = 30
NEW_FIELD_NIGHT, ACKNOWLEDGED_NIGHT, MOVED_NIGHT = 9, 10, 17


class Script:
    """What the endpoint does on a given night (a response hook of the stub)."""

    def __init__(self) -> None:
        self.night = 0

    def __call__(self, request: FakeRequest, response: FakeResponse) -> FakeResponse:
        body = response.json()
        output = body.get("output")
        if response.status == 200 and isinstance(output, dict) and output.get("check_pass"):
            if self.night >= NEW_FIELD_NIGHT:
                output["face_score"] = 0.97
            if self.night == MOVED_NIGHT:
                for name in ("face_bbox", "ext_bbox"):
                    x1, y1, x2, y2 = output[name]
                    output[name] = [x1 + 120, y1 + 60, x2 + 120, y2 + 60]
        return FakeResponse(response.status, response.headers, json.dumps(body).encode())


def cases(stub: RunningServer) -> tuple[LiveCase, ...]:
    url = stub.image_url("portrait.png")
    return (
        LiveCase("portrait", url, "1:1", "pass"),
        LiveCase("portrait tall", url, "3:4", "pass"),
        LiveCase("nobody", stub.image_url("no-human.png"), "1:1", "fail"),
    )


def one_night(
    stub: RunningServer,
    tmp: Path,
    night: int,
    *,
    contracts: Contracts | None = None,
    baseline: Baseline | None = None,
    history: Path | None = None,
    record: bool = False,
) -> LiveReport:
    settings = LiveSettings(
        base_url=stub.base_url,
        examples=0,
        qps=0,
        record=record,
        record_dir=tmp / "recorded",
        strict_drift=True,
        max_billed=10,
    )
    run = LiveRun(settings, cases(stub), contracts=contracts, environ={"DASHSCOPE_API_KEY": KEY})
    try:
        run.execute()
        records = load_history(history) if history is not None else []
        report = LiveReport.from_run(
            run, baseline=baseline, now=START + timedelta(days=night - 1), history=records
        )
    finally:
        run.close()
    if history is not None:
        append(history, record_of(report.redacted(Redactor([KEY]))))
    return report


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[LiveReport]]:
    tmp = tmp_path_factory.mktemp("month")
    script = Script()
    history = tmp / "history.jsonl"
    baseline_file = tmp / "baseline.json"
    reports = []
    with serve_in_thread(
        api_keys=[KEY], images_dir=IMAGE_DIR, failure_shape="B", response_hook=script
    ) as stub:
        for night in range(1, NIGHTS + 1):
            script.night = night
            if night == ACKNOWLEDGED_NIGHT:  # the team reads night 9's report and says so
                Baseline(
                    baseline_file,
                    (
                        BaselineEntry(
                            reason="a confidence score: harmless, our code ignores it",
                            check="response_schema_conformance",
                            pointer="/output/face_score",
                            interaction="live-case-*",
                            who="ops",
                        ),
                    ),
                ).write()
            baseline = load_baseline(baseline_file) if baseline_file.exists() else None
            reports.append(
                one_night(stub, tmp, night, baseline=baseline, history=history, record=night == 1)
            )
    return history, reports


def test_the_baseline_keeps_the_acknowledged_field_green_and_night_17_is_reported(
    month: tuple[Path, list[LiveReport]],
) -> None:
    _history, reports = month
    green = {night for night, report in enumerate(reports, 1) if report.exit_status == 0}
    assert green == set(range(1, NEW_FIELD_NIGHT)) | (
        set(range(ACKNOWLEDGED_NIGHT, NIGHTS + 1)) - {MOVED_NIGHT}
    )
    night_9, night_17 = reports[NEW_FIELD_NIGHT - 1], reports[MOVED_NIGHT - 1]
    assert {v.pointer for v in night_9.new()} == {"/output/face_score"}
    moved = {(v.check, v.pointer) for v in night_17.new()}
    assert ("behaviour_matches_recording", "/output/face_bbox") in moved
    assert night_17.acknowledged  # the acknowledged field is still acknowledged that night
    assert all(r.acknowledged for r in reports[ACKNOWLEDGED_NIGHT - 1 :])


def test_the_history_says_when_each_finding_came_and_went(
    month: tuple[Path, list[LiveReport]],
) -> None:
    history, _reports = month
    records = load_history(history)
    assert len(records) == NIGHTS
    assert [r["time"][:10] for r in records][:2] == ["2026-11-01", "2026-11-02"]
    summary = summarize(records)
    spans = {(f.pointer, f.interaction): f for f in summary.findings}
    new_field = spans[("/output/face_score", "live-case-portrait")]
    assert (new_field.first, new_field.last, new_field.nights) == (9, 30, 22)
    assert new_field.acknowledged_last
    moved = spans[("/output/face_bbox", "live-case-portrait")]
    assert (moved.first, moved.last, moved.nights) == (17, 17, 1)
    assert summary.latency["case"] and len(summary.latency["case"]) == NIGHTS


def test_the_failure_shape_settles_on_night_14_with_its_diff(
    month: tuple[Path, list[LiveReport]],
) -> None:
    history, _reports = month
    records = load_history(history)
    shapes = {q.question: q for q in summarize(records).questions}["failure-shape"]
    assert shapes.tally == {"B": NIGHTS}
    assert (shapes.settled_on, shapes.streak_reading) == (14, "B")
    before = {q.question: q for q in summarize(records[:13]).questions}["failure-shape"]
    assert before.settled_on is None  # 13 nights of B: not yet
    diff = change_for(load_contracts(), "failure-shape", "B")
    assert '-    "check-failed-a": {' in diff
    assert "deleted file mode" in diff and "check-failed-shape-a.json" in diff
    assert '+      "settled": "B"' in diff


def _apply(diff: str, tmp: Path) -> Path:
    """A copy of the repository's contracts and fixtures with ``diff`` applied by git."""
    root = tmp / "repo"
    shutil.copytree(CONTRACT_DIR.parent, root / "contracts")
    shutil.copytree(FIXTURE_DIR.parent, root / "fixtures")
    (root / "settle.patch").write_text(diff, encoding="utf-8")
    subprocess.run(["git", "apply", "settle.patch"], cwd=root, check=True, capture_output=True)
    return root / "contracts" / "face-detect"


def test_the_settled_contract_passes_against_shape_b_and_fails_against_shape_a(
    tmp_path: Path,
) -> None:
    diff = change_for(load_contracts(), "failure-shape", "B")
    settled = Contracts(_apply(diff, tmp_path))
    assert settled.profile.failure_shapes == ("B",)
    assert settled.questions["failure-shape"].settled == "B"
    original = load_contracts()
    results: dict[str, Any] = {}
    for shape in ("B", "A"):
        with serve_in_thread(
            api_keys=[KEY], images_dir=IMAGE_DIR, failure_shape=shape, contracts=original
        ) as stub:
            results[shape] = one_night(stub, tmp_path / shape, 1, contracts=settled)
    assert results["B"].exit_status == 0, [str(v) for v in results["B"].findings]
    assert results["A"].exit_status == 1
    checks = {v.check for v in results["A"].findings}
    assert {"response_schema_conformance", "live_case_meets_its_expect"} <= checks


# --- the history file, the command, the flag ---------------------------------------------------


def test_a_malformed_history_line_is_named_with_its_number(tmp_path: Path) -> None:
    from facedetect_contract.report.history import HistoryError

    path = tmp_path / "history.jsonl"
    path.write_text('{"history": 1}\nnot json\n')
    with pytest.raises(HistoryError, match=r"history.jsonl:2: not a JSON object"):
        load_history(path)


def test_appending_keeps_every_earlier_line(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    for night in range(3):
        append(path, {"history": 1, "night": night})
    assert [r["night"] for r in load_history(path)] == [0, 1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["history.jsonl"]  # no temp file left


def test_a_question_with_two_readings_never_settles() -> None:
    records = [{"observations": {"failure-shape": {"reading": "B"}}}] * 20
    records = [*records, {"observations": {"failure-shape": {"reading": "A"}}}]
    (question,) = summarize(records, settle_after=14).questions
    assert question.settled_on is None
    assert question.tally == {"B": 20, "A": 1}


def test_nights_that_did_not_observe_a_question_neither_break_nor_count() -> None:
    seen = {"observations": {"humanoid-returned": {"reading": "returned"}}}
    unseen = {"observations": {"humanoid-returned": {"reading": None}}}
    (question,) = summarize([seen, unseen] * 3, settle_after=3).questions
    assert (question.settled_on, question.streak) == (5, 3)


def test_the_history_command_prints_the_summary_and_the_settling_diff(
    month: tuple[Path, list[LiveReport]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from facedetect_contract.__main__ import main

    history, _reports = month
    assert main(["history", str(history)]) == 0
    out = capsys.readouterr().out
    assert f"{NIGHTS} night(s), 2026-11-01 .. 2026-11-30" in out
    assert "nights 9-30 (22 night(s)), acknowledged" in out
    assert "failure-shape: B 30x; settled on night 14 (B)" in out
    assert "--- a/contracts/face-detect/endpoint.json" in out
    patch = tmp_path / "settle.patch"
    assert main(["history", str(history), "--diff", str(patch)]) == 0
    assert "deleted file mode" in patch.read_text()
    assert (
        main(["history", str(tmp_path / "nowhere.jsonl")]) == 4
    )  # a usage error, as every command's


def test_live_mode_appends_one_line_per_run_to_its_history(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    (pytester.path / "test_live.py").write_text(LIVE_TESTS.read_text())
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR) as stub:
        entry = {
            "name": "p",
            "image_url": stub.image_url("portrait.png"),
            "ratio": "1:1",
            "expect": "pass",
        }
        (pytester.path / "cases.json").write_text(json.dumps([entry]))
        for _ in range(2):
            result = pytester.runpytest(
                "--live",
                "--dashscope-base-url",
                stub.base_url,
                "--live-cases",
                "cases.json",
                "--live-examples",
                "0",
                "--live-qps",
                "0",
                "--history",
                "h.jsonl",
                "--drift-report",
                "r.html",
                "-p",
                "no:cacheprovider",
            )
            assert result.ret == 0
    records = load_history(pytester.path / "h.jsonl")
    assert len(records) == 2
    assert records[0]["contracts"] == load_contracts().version
    assert records[1]["observations"]["humanoid-returned"]["reading"] == "not-returned"
    assert "2 night(s)." in (pytester.path / "r.html").read_text()


def test_a_line_cut_short_by_a_crash_stays_its_own_line_and_is_named(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text('{"history": 1, "outcome": "pass')  # a crash mid-line
    append(history, {"history": 1, "outcome": "passed"})
    assert history.read_text().splitlines()[1] == '{"history": 1, "outcome": "passed"}'
    with pytest.raises(ValueError, match=f"{history}:1: not a JSON object"):
        load_history(history)


def test_a_history_that_is_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "history.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        load_history(fifo)


def test_a_record_with_a_lone_surrogate_is_appended_and_read_back(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    append(history, {"history": 1, "endpoint": "http://e/\ud83d", "findings": []})
    (record,) = load_history(history)
    assert record["endpoint"] == "http://e/\\ud83d"
