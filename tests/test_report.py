"""The live run's report: rendered as JSON and Markdown, redacted, and written atomically."""

from __future__ import annotations

import json
from pathlib import Path

from facedetect_contract.redaction import Redactor
from facedetect_contract.report import LiveReport, looks_like_report, write_reports
from facedetect_contract.violations import Severity, Violation
from tests.test_live_run import KEY, live_run  # a report is made from a run


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
    json_path, markdown_path = write_reports(
        report, [tmp_path / "out" / "drift.json", tmp_path / "out" / "drift.md"], Redactor([KEY])
    )
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["outcome"] == "drift"
    assert data["findings"][0]["received"] == '"Bearer <redacted>\\" | <redacted>'
    markdown = markdown_path.read_text(encoding="utf-8")
    assert KEY not in json_path.read_text(encoding="utf-8") + markdown
    assert "sk-other-0123456789" not in markdown


def test_a_written_report_is_recognised_and_a_users_file_is_not(tmp_path: Path) -> None:
    run, _ = live_run(tmp_path, examples=0)
    run.execute(["probe-no-key"])
    paths = [tmp_path / "drift.json", tmp_path / "drift.md"]
    write_reports(LiveReport.from_run(run), paths, Redactor([KEY]))
    assert all(looks_like_report(path) for path in paths)
    notes = tmp_path / "notes.md"
    notes.write_text("# my notes\n\nface-detect live drift report, quoted\n", encoding="utf-8")
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"report": "something else"}), encoding="utf-8")
    assert not looks_like_report(notes)
    assert not looks_like_report(data)
    assert not looks_like_report(tmp_path / "missing.json")
