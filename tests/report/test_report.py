"""The live run's report: rendered as JSON and Markdown, redacted, and written atomically."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.contracts.fixtures import FIXTURE_DIR
from facedetect_contract.core.redaction import Redactor
from facedetect_contract.core.violations import Severity, Violation
from facedetect_contract.live import judging
from facedetect_contract.live.baseline import BaselineEntry
from facedetect_contract.live.result import RunError
from facedetect_contract.live.run import LiveSettings
from facedetect_contract.report import (
    LiveReport,
    looks_like_report,
    paths,
    render_html,
    render_markdown,
    write_reports,
)
from facedetect_contract.report.model import NOTES_URL
from facedetect_contract.report.terminal import summary_lines
from tests.helpers.live import KEY, live_run  # a report is made from a run


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


# --- hostile text, hostile sizes, hostile paths --------------------------------------------------

HOSTILE_TEXTS = (
    "![px](http://host/pixel.png)",
    "<img src=x>",
    "</details><h1>Outcome: passed</h1>",
    "name\n```\n# forged\n```",
    "\x1b]52;c;ZXZpbA==\x07\x1b[2J\r= 55 passed =",
    "\ud83d",
)


def hostile_report(tmp_path: Path, count: int = 1) -> LiveReport:
    run, _ = live_run(tmp_path, examples=0)
    run.execute(["probe-no-key"])
    report = LiveReport.from_run(run)
    findings = tuple(
        Violation(
            "new_field",
            f"live-case-{text}",
            f"/output/{text}/{n}",  # each its own place: a group of its own, a row of its own
            text,
            f"documented {text}",
            Severity.BREAKING if n % 2 else Severity.ADDITIVE,
            "s",
            f"new undocumented field {text}",
        )
        for n in range(count)
        for text in HOSTILE_TEXTS
    )
    return dataclasses.replace(
        report, findings=findings, errors=tuple(RunError(f"error {text}") for text in HOSTILE_TEXTS)
    )


def test_the_markdown_report_shows_the_endpoints_text_and_none_of_its_markup(
    tmp_path: Path,
) -> None:
    cmarkgfm = pytest.importorskip("cmarkgfm")
    from cmarkgfm.cmark import Options

    markdown = render_markdown.render(hostile_report(tmp_path))
    page = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    assert "<img" not in page
    assert re.findall(r"<h1>.*?</h1>", page) == ["<h1>face-detect live drift report</h1>"]
    assert page.count("<strong>Outcome:") == 1
    # Absolute: a job summary has no checkout beside it.
    assert all(href.startswith(f"{NOTES_URL}#") for href in re.findall(r'href="(.*?)"', page))
    assert page.count("<details>") == page.count("</details>")
    assert "\x1b" not in markdown and "\r" not in markdown and "\n```" not in markdown


def test_a_finding_flood_keeps_the_markdown_report_under_githubs_limit_and_says_what_was_cut(
    tmp_path: Path,
) -> None:
    report = hostile_report(tmp_path, count=2000)  # 12,000 findings, a cell of 160 each
    markdown = render_markdown.render(report)
    assert len(markdown.encode("utf-8")) <= render_markdown.MAX_BYTES < 1024 * 1024
    cut = re.search(r"_(\d+) more finding groups not shown .*see the JSON report\._", markdown)
    assert cut is not None
    shown = markdown.count("| `FD-")  # one id per row: each group holds one finding
    assert shown + int(cut.group(1)) == len(report.groups()) == len(report.new())
    assert markdown.rstrip().endswith("</details>")  # the closing sections are still there


def test_a_report_with_lone_surrogates_is_written_in_every_format(tmp_path: Path) -> None:
    paths = [tmp_path / "drift.json", tmp_path / "drift.md", tmp_path / "drift.html"]
    write_reports(hostile_report(tmp_path), paths, Redactor([KEY]))
    data = json.loads(paths[0].read_text(encoding="utf-8"))
    assert data["outcome"] == "error"  # the errors of the run carry surrogates too
    assert any("\\ud83d" in f["pointer"] for f in data["findings"])
    assert all("\\ud83d" in path.read_text(encoding="utf-8") for path in paths[1:])
    assert all(looks_like_report(path) for path in paths)


def test_the_terminal_summary_shows_control_characters_escaped(tmp_path: Path) -> None:
    lines = [line for line, _ in summary_lines(hostile_report(tmp_path))]
    assert not any(re.search("[\x00-\x1f\x7f-\x9f\ud800-\udfff]", line) for line in lines)
    assert any("\\x1b]52" in line for line in lines)


def test_a_large_json_report_is_recognised_from_its_first_bytes(tmp_path: Path) -> None:
    path = tmp_path / "drift.json"
    write_reports(hostile_report(tmp_path, count=50), [path], Redactor([KEY]))
    assert path.stat().st_size > 16 * paths.PEEK
    assert path.read_text(encoding="utf-8").startswith('{\n  "report": ')
    assert looks_like_report(path)


def test_a_fifo_or_a_device_is_never_read_as_a_report(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.md"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    assert not looks_like_report(fifo)  # returns at once: no writer is waited for
    assert not looks_like_report(zero)  # reads nothing: no MemoryError


def _settings(tmp_path: Path, **options: object) -> LiveSettings:
    cases = tmp_path / "cases.json"
    cases.write_text("[]")
    return LiveSettings(cases_file=cases, record_dir=tmp_path / "recorded", **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"reports": ("fifo.md",)}, "--drift-report {tmp}/fifo.md: is a FIFO"),
        ({"reports": ("zero.json",)}, "--drift-report {tmp}/zero.json: is a device"),
        ({"history": "fifo.md"}, "--history {tmp}/fifo.md: is a FIFO"),
        ({"history": "folder"}, "--history {tmp}/folder: is a directory"),
        ({"history": "cases.json"}, "is an input of the run (the cases file, --live-cases)"),
        ({"history": "recorded/sub/h.jsonl"}, "is in the fixture folder"),
        ({"reports": ("recorded/r.md",)}, "is in the fixture folder"),
        ({"baseline": "zero.json"}, "--baseline {tmp}/zero.json: is a device"),
        (
            {"baseline": "recorded/b.json", "update_baseline": True},
            "(the record folder, --record-dir)",
        ),
        (
            {"baseline": "b.json", "history": "b.json"},
            "is an input of the run (the baseline, read only",
        ),
        ({"history": "h.json", "reports": ("h.json",)}, "is also given as --drift-report"),
    ],
    ids=[
        "report-fifo",
        "report-dev-zero",
        "history-fifo",
        "history-directory",
        "history-cases-file",
        "history-in-record-folder",
        "report-in-record-folder",
        "read-baseline-dev-zero",
        "updated-baseline-in-record-folder",
        "history-is-the-read-baseline",
        "history-is-a-report",
    ],
)
def test_a_path_the_run_must_not_write_is_named_with_its_option(
    tmp_path: Path, options: dict[str, Any], says: str
) -> None:
    os.mkfifo(tmp_path / "fifo.md")
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    (tmp_path / "folder").mkdir()
    (tmp_path / "b.json").write_text('{"baseline": "x", "entries": []}')
    given = {
        name: (
            tuple(tmp_path / p for p in value)
            if isinstance(value, tuple)
            else tmp_path / value
            if isinstance(value, str)
            else value
        )
        for name, value in options.items()
    }
    with pytest.raises(ValueError, match=re.escape(says.format(tmp=tmp_path))):
        paths.check_outputs(_settings(tmp_path, **given))


def test_a_path_in_the_packaged_fixture_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"in the fixture folder .* \(the packaged fixtures\)"):
        paths.check_outputs(_settings(tmp_path, history=FIXTURE_DIR / "history.jsonl"))


# --- what fails the run: the report follows judging's one rule ------------------------------------

EXPIRED = BaselineEntry(reason="until the fix ships", id="FD-0000000000", until=dt.date(2020, 1, 1))


def passed_report(tmp_path: Path) -> LiveReport:
    run, _ = live_run(tmp_path, examples=0)
    run.execute(["probe-no-key"])
    report = LiveReport.from_run(run)
    assert (report.outcome, report.exit_status, report.findings) == ("passed", 0, ())
    return report


def a_finding(severity: Severity) -> Violation:
    return Violation("c", "live-case-x", "/output/x", "1", "d", severity, "s", "t")


def test_a_baseline_entry_past_its_date_fails_a_run_that_found_nothing(tmp_path: Path) -> None:
    """Rule (baseline): an acknowledgement nobody revisited fails the run, named, even when no
    finding does: outcome drift, exit status 1, in every format."""
    report = dataclasses.replace(passed_report(tmp_path), expired=(EXPIRED,))
    assert report.failing() == ()
    assert (report.outcome, report.exit_status) == ("drift", 1)
    why = "baseline entries past their date: FD-0000000000 (until 2020-01-01)"
    assert report.why_not_passed() == why
    data = report.to_dict()
    assert (data["outcome"], data["exit_status"], data["why_not_passed"]) == ("drift", 1, why)
    assert (
        "EXPIRED  baseline entry FD-0000000000 (until 2020-01-01): until the fix ships",
        "red",
    ) in summary_lines(report)


@pytest.mark.parametrize(
    ("severity", "strict_drift"),
    [(Severity.BREAKING, False), (Severity.ADDITIVE, True)],
    ids=["breaking", "additive under strict drift"],
)
def test_a_run_failed_by_a_finding_and_an_expired_entry_names_both_why_it_did_not_pass(
    tmp_path: Path, severity: Severity, strict_drift: bool
) -> None:
    report = dataclasses.replace(
        passed_report(tmp_path),
        findings=(a_finding(severity),),
        expired=(EXPIRED,),
        strict_drift=strict_drift,
    )
    assert report.failing() == report.findings
    assert (report.outcome, report.exit_status) == ("drift", 1)
    why = report.why_not_passed()
    assert why.startswith("new breaking findings (see below)")
    assert why.endswith("; and baseline entries past their date: FD-0000000000 (until 2020-01-01)")


@pytest.mark.parametrize("severity", list(Severity), ids=str)
@pytest.mark.parametrize("strict_drift", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize("acknowledged", [False, True], ids=["new", "acknowledged"])
def test_the_outcome_and_exit_status_follow_the_finding_rule_of_judging(
    tmp_path: Path, severity: Severity, strict_drift: bool, acknowledged: bool
) -> None:
    """The report's outcome is drift (exit 1) exactly when ``judging.fails_the_run`` says a
    finding fails the run, else passed with warnings (exit 0)."""
    finding = a_finding(severity)
    report = dataclasses.replace(
        passed_report(tmp_path),
        findings=(finding,),
        strict_drift=strict_drift,
        acknowledged={finding.id: BaselineEntry("seen", id=finding.id)} if acknowledged else {},
    )
    fails = judging.fails_the_run(finding, strict_drift=strict_drift, acknowledged=acknowledged)
    assert report.failing() == ((finding,) if fails else ())
    assert (report.outcome, report.exit_status) == (
        ("drift", 1) if fails else ("passed with warnings", 0)
    )


def test_an_acknowledged_finding_is_counted_and_listed_as_such_in_every_format(
    tmp_path: Path,
) -> None:
    finding = a_finding(Severity.BREAKING)
    report = dataclasses.replace(
        passed_report(tmp_path),
        findings=(finding,),
        acknowledged={finding.id: BaselineEntry("seen", id=finding.id)},
    )
    assert report.known() == (finding,) and report.new() == ()
    assert report.to_dict()["counts"]["acknowledged"] == 1
    assert "Acknowledged findings: 1" in render_markdown.render(report)


def test_a_group_standing_for_folded_findings_says_how_many_in_markdown_and_html(
    tmp_path: Path,
) -> None:
    folded = dataclasses.replace(a_finding(Severity.BREAKING), folded=7)
    report = dataclasses.replace(passed_report(tmp_path), findings=(folded,))
    note = "(and 7 more finding(s) folded into these)"
    assert note in render_markdown.render(report).replace("\\", "")
    assert note in render_html.render(report)
