"""The one registry of report formats: every consumer of a format reads ``FORMATS``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from facedetect_contract.core.redaction import Redactor
from facedetect_contract.live.run import LiveSettings
from facedetect_contract.report import FORMATS, Format, LiveReport, paths, write_reports
from facedetect_contract.report.model import REPORT_NAME
from facedetect_contract.session import live_options
from tests.helpers.live import KEY, live_run


@pytest.fixture
def report(tmp_path: Path) -> LiveReport:
    run, _ = live_run(tmp_path, examples=0)
    run.execute(["probe-no-key"])
    return LiveReport.from_run(run)


def _text(report: LiveReport) -> str:
    return f"{REPORT_NAME}, as text: {report.outcome}\n"


TEXT = Format("text", ".txt", _text, lambda head, tail: head.startswith(f"{REPORT_NAME},"))


@pytest.mark.parametrize("suffix", list(FORMATS))
def test_each_format_is_recognised_by_its_own_signature_and_not_by_anothers(
    tmp_path: Path, report: LiveReport, suffix: str
) -> None:
    (path,) = write_reports(report, [tmp_path / f"drift{suffix.upper()}"], Redactor([KEY]))
    assert paths.looks_like_report(path)  # the suffix's case does not matter
    for other in FORMATS:
        if other != suffix:
            # another format's report, renamed to this suffix, is not this format's report
            moved = path.rename(tmp_path / f"moved{other}")
            assert not paths.looks_like_report(moved)
            path = moved.rename(path)


def test_a_format_added_to_the_registry_is_written_recognised_and_accepted_as_a_report_path(
    tmp_path: Path, report: LiveReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(FORMATS, TEXT.suffix, TEXT)
    path = tmp_path / "drift.txt"
    paths.report_format(path)  # accepted: no error
    write_reports(report, [path], Redactor([KEY]))
    assert path.read_text(encoding="utf-8") == _text(report)
    assert paths.looks_like_report(path)
    with pytest.raises(ValueError, match=re.escape("'.html', '.txt']")):
        paths.report_format(tmp_path / "drift.csv")  # the refusal lists it too


def test_a_file_whose_suffix_names_no_format_is_never_taken_for_a_report(tmp_path: Path) -> None:
    path = tmp_path / "drift.txt"
    path.write_text(f"# {REPORT_NAME}\n")  # the Markdown signature, in no format's file
    assert not paths.looks_like_report(path)


def test_a_report_path_of_no_format_is_refused_before_the_run_naming_the_formats(
    tmp_path: Path,
) -> None:
    cases = tmp_path / "cases.json"
    cases.write_text("[]")
    settings = LiveSettings(cases_file=cases, record_dir=tmp_path / "recorded")
    # Set past LiveSettings' own check (live/run.py) so that check_outputs alone is judged.
    object.__setattr__(settings, "reports", (tmp_path / "report.txt",))
    with pytest.raises(
        ValueError,
        match=re.escape(
            f"--drift-report {tmp_path / 'report.txt'}: give a path ending in one of "
            "['.json', '.md', '.html'] (one option per format)"
        ),
    ):
        paths.check_outputs(settings)


def test_the_drift_report_option_help_names_every_registered_format() -> None:
    (attrs,) = [attrs for flags, attrs in live_options() if flags == ("--drift-report",)]
    named = re.findall(r"\.[a-z]+\b", attrs["help"])
    assert named == list(FORMATS)
