"""The baseline: acknowledged findings do not fail a run, new ones do, expired entries fail it,
unused ones are stale, a malformed file is a usage error naming the entry and the field (an
unknown one with the field meant), and an update dates what it adds and says what it did."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.core.violations import Severity, Violation
from facedetect_contract.doubles.fake import FakeRequest, FakeResponse
from facedetect_contract.doubles.server import RunningServer, serve_in_thread
from facedetect_contract.live import baseline
from facedetect_contract.live.baseline import (
    Baseline,
    BaselineEntry,
    BaselineError,
    load_baseline,
)
from tests.helpers.live import live_pytest
from tests.helpers.suite import LIVE_TESTS

pytest_plugins = ["pytester"]

KEY = "sk-" + "1e2f" * 8  # no word of the reports inside: fragments of a key are redacted too
TODAY = dt.date(2026, 12, 1)


def finding(
    pointer: str = "/output/face_score", interaction: str = "live-case-portrait"
) -> Violation:
    return Violation(
        "response_schema_conformance",
        interaction,
        pointer,
        "0.97",
        "no field",
        Severity.ADDITIVE,
        "https://help.aliyun.com/zh/model-studio/emo-detect-api",
        "new undocumented field",
    )


ENTRY = BaselineEntry(
    reason="harmless",
    check="response_schema_conformance",
    pointer="/output/face_score",
    interaction="live-case-*",
)


def test_a_matching_entry_acknowledges_a_finding_and_a_new_one_stays_new() -> None:
    other = finding("/output/blur")
    judged = Baseline(Path("b.json"), (ENTRY,)).judge([finding(), other], TODAY)
    assert [v for v, _ in judged.acknowledged] == [finding()]
    assert judged.new == (other,)
    assert judged.stale == () and judged.expired == ()


def test_an_entry_may_name_a_finding_by_its_stable_id() -> None:
    by_id = BaselineEntry(reason="known", id=finding().id)
    assert finding().id == finding().id  # the same check, interaction and place: the same id
    assert Baseline(Path("b.json"), (by_id,)).judge([finding()], TODAY).new == ()


def test_an_interaction_pattern_does_not_match_another_interaction() -> None:
    probe = finding(interaction="live-probe-no-key")
    assert Baseline(Path("b.json"), (ENTRY,)).judge([probe], TODAY).new == (probe,)


def test_an_entry_past_its_date_is_expired_and_one_nothing_matched_is_stale() -> None:
    old = BaselineEntry(reason="until the fix", id="FD-0000000000", until=dt.date(2026, 11, 30))
    judged = Baseline(Path("b.json"), (ENTRY, old)).judge([], TODAY)
    assert judged.expired == (old,)
    assert judged.stale == (ENTRY,)


def test_updating_keeps_the_reasons_already_written(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    Baseline(path, (ENTRY,)).write()
    updated = load_baseline(path).updated([finding(), finding("/output/blur")], who="ci")
    updated.write()
    entries = json.loads(path.read_text())["entries"]
    assert entries[0]["reason"] == "harmless"
    assert entries[1]["pointer"] == "/output/blur" and entries[1]["who"] == "ci"
    assert load_baseline(path).judge([finding(), finding("/output/blur")], TODAY).new == ()


# --- the update: until dates, and what it says it did -----------------------------------------

KEPT = BaselineEntry(reason="a score, harmless", id=finding().id, until=dt.date(2027, 3, 1))
LAPSED = BaselineEntry(reason="until the fix", id=finding("/output/old").id, until=TODAY)
GONE = BaselineEntry(reason="fixed since", check="c", pointer="/output/gone", interaction="x")


def test_an_update_gives_new_entries_an_until_thirty_days_after_today_by_default(
    tmp_path: Path,
) -> None:
    path = tmp_path / "baseline.json"
    Baseline(path).updated([finding("/output/blur")], today=TODAY).write()
    (entry,) = json.loads(path.read_text())["entries"]
    assert entry["until"] == "2026-12-31"
    assert baseline.DEFAULT_UNTIL_DAYS == 30


def test_an_update_gives_new_entries_the_until_asked_and_keeps_the_until_of_known_ones() -> None:
    before = Baseline(Path("b.json"), (KEPT, LAPSED))
    update = before.updated(
        [finding(), finding("/output/old"), finding("/output/blur")],
        until=dt.date(2027, 1, 6),
        today=TODAY,
    )
    assert [e.until for e in update.baseline.entries] == [
        dt.date(2027, 3, 1),
        TODAY,  # past its date tomorrow: the run that judges it fails, as the file says
        dt.date(2027, 1, 6),
    ]


def test_an_update_counts_what_it_added_kept_and_dropped() -> None:
    before = Baseline(Path("b.json"), (KEPT, GONE))
    update = before.updated(
        [finding(), finding("/output/blur"), finding("/output/blur"), finding("/output/x")],
        today=TODAY,
    )
    assert [(e.pointer, finding_id) for e, finding_id in update.added] == [
        ("/output/blur", finding("/output/blur").id),
        ("/output/x", finding("/output/x").id),
    ]
    assert update.kept == (KEPT,)
    assert update.dropped == (GONE,)
    assert len(update.baseline.entries) == 3  # the same finding twice is one entry


def test_an_update_says_what_it_did_one_line_per_entry(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    before = Baseline(path, (KEPT, GONE, LAPSED))
    update = before.updated(
        [finding(), finding("/output/old"), finding("/output/blur")],
        until=dt.date(2027, 1, 6),
        today=TODAY + dt.timedelta(days=1),
    )
    blur = finding("/output/blur")
    assert update.summary_lines() == [
        "baseline updated: 1 added (until 2027-01-06), 2 kept (1 past its date), "
        f"1 dropped (matched nothing): {path}",
        "  added   response_schema_conformance at /output/blur on live-case-portrait "
        f"(until 2027-01-06) [{blur.id}]",
        f"  kept    {finding().id} (until 2027-03-01)",
        f"  kept    {finding('/output/old').id} (until 2026-12-01)",
        "  dropped c at /output/gone on x",
    ]
    assert update.write() == path


def test_an_update_that_changed_nothing_says_so_in_its_counts() -> None:
    update = Baseline(Path("b.json"), (KEPT,)).updated([finding()], today=TODAY)
    assert update.summary_lines() == [
        "baseline updated: 0 added, 1 kept, 0 dropped: b.json",
        f"  kept    {finding().id} (until 2027-03-01)",
    ]


def test_an_update_shows_a_pointer_the_endpoint_chose_inert() -> None:
    forged = finding("/output/\x1b]8;;https://evil.example\x07link")
    (line,) = Baseline(Path("b.json")).updated([forged], today=TODAY).summary_lines()[1:]
    assert "\x1b" not in line and "\x07" not in line
    assert "/output/\\x1b]8;;https://evil.example\\x07link" in line


@pytest.mark.parametrize(
    ("text", "until"),
    [
        ("2027-01-06", dt.date(2027, 1, 6)),
        ("30d", dt.date(2026, 12, 31)),
        (" 1d ", dt.date(2026, 12, 2)),
        ("2026-12-02", dt.date(2026, 12, 2)),
    ],
    ids=["date", "days", "spaces", "tomorrow"],
)
def test_baseline_until_takes_a_date_or_a_number_of_days(text: str, until: dt.date) -> None:
    assert baseline.parse_until(text, today=TODAY) == until


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("next week", "--baseline-until 'next week': give a date YYYY-MM-DD or a number of days"),
        ("2027-02-30", "--baseline-until '2027-02-30': give a date YYYY-MM-DD"),
        ("20270106", "--baseline-until '20270106': give a date YYYY-MM-DD"),
        ("30", "--baseline-until '30': give a date YYYY-MM-DD or a number of days such as 30d"),
        ("-5d", "--baseline-until '-5d': give a date"),
        ("\u0663d", "give a date"),  # an Arabic-Indic three is a digit to int(), not here
        ("", "--baseline-until '': give a date"),
        ("0d", "--baseline-until '0d' is not after today (2026-12-01, UTC)"),
        ("2026-12-01", "--baseline-until '2026-12-01' is not after today (2026-12-01, UTC)"),
        ("2020-01-01", "is not after today (2026-12-01, UTC): the entries it adds would fail"),
    ],
    ids=[
        "words",
        "no-such-day",
        "basic-iso",
        "no-unit",
        "negative",
        "other-digits",
        "empty",
        "zero-days",
        "today",
        "past",
    ],
)
def test_a_bad_baseline_until_is_an_error_naming_the_option(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="--baseline-until") as raised:
        baseline.parse_until(text, today=TODAY)
    assert message in str(raised.value)


# --- the file: every field known ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"check": "c", "pointer": "/p"}], "entry 0 ('c at /p'): field 'reason' is missing"),
        ([{"reason": "r"}], "entry 0: give field 'id'"),
        ([{"reason": "r", "id": "FD-1", "until": "next week"}], "entry 0 ('FD-1'): field 'until'"),
        (
            [{"reason": "r", "id": "FD-1", "colour": "red"}],
            "entry 0 ('FD-1'): unknown field 'colour'; the known fields are ['check', 'id', "
            "'interaction', 'pointer', 'reason', 'until', 'who']",
        ),
        ([{"reason": "r", "id": 7}], "entry 0: field 'id' is 7"),
        (["not an object"], "entry 0: is str"),
    ],
    ids=[
        "no-reason",
        "no-id-or-check",
        "bad-date",
        "unknown-field",
        "not-a-string",
        "not-an-object",
    ],
)
def test_a_malformed_entry_is_named_with_its_field(
    tmp_path: Path, entries: list[object], message: str
) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"baseline": "x", "entries": entries}))
    with pytest.raises(BaselineError, match=r"baseline\.json") as raised:
        load_baseline(path)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("entry", "name", "written", "meant"),
    [
        ({"id": "FD-1", "reason": "r", "untill": "2027-01-06"}, "FD-1", "untill", "until"),
        (
            {"check": "c", "pointer": "/p", "reason": "r", "interation": "live-case-*"},
            "c at /p",
            "interation",
            "interaction",
        ),
        ({"id": "FD-1", "reasons": "r"}, "FD-1", "reasons", "reason"),
        ({"id": "FD-1", "reason": "r", "Who": "ops"}, "FD-1", "Who", "who"),
    ],
    ids=["untill", "interation", "reasons", "capital"],
)
def test_a_misspelled_entry_field_is_an_error_naming_the_entry_and_the_field_meant(
    tmp_path: Path, entry: dict[str, str], name: str, written: str, meant: str
) -> None:
    path = tmp_path / "baseline.json"
    fine = {"id": "FD-0", "reason": "r"}
    path.write_text(json.dumps({"baseline": "x", "entries": [fine, fine, fine, entry]}))
    with pytest.raises(BaselineError) as raised:
        load_baseline(path)
    assert str(raised.value) == (
        f"{path}: entry 3 ({name!r}): unknown field {written!r}; did you mean {meant!r}?"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"baseline": "x", "entires": []}, "top level: unknown field 'entires'; did you mean"),
        (
            {"baseline": "x", "entries": [], "owner": "qa"},
            "top level: unknown field 'owner'; the known fields are ['baseline', 'entries']",
        ),
    ],
    ids=["misspelled", "like-none"],
)
def test_an_unknown_field_at_the_top_of_the_file_is_named(
    tmp_path: Path, data: dict[str, object], message: str
) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(data))
    with pytest.raises(BaselineError) as raised:
        load_baseline(path)
    assert str(raised.value).startswith(f"{path}: {message}")


# --- end to end, through --baseline ------------------------------------------------------------


def with_a_score(request: FakeRequest, response: FakeResponse) -> FakeResponse:
    body = response.json()
    if isinstance(body.get("output"), dict) and body["output"].get("check_pass"):
        body["output"]["face_score"] = 0.97
    return FakeResponse(response.status, response.headers, json.dumps(body).encode())


def live(pytester: pytest.Pytester, base_url: str, *args: str) -> pytest.RunResult:
    """A live run of the cases file alone (tests/helpers/live.py), strict, with both reports."""
    return live_pytest(
        pytester, base_url, "--strict-drift", "--drift-report", "r.json",
        "--drift-report", "r.md", *args,
    )  # fmt: skip


def write_portrait_case(project: pytest.Pytester, stub: RunningServer) -> None:
    """The cases file: one portrait the stub serves, expected to pass."""
    entry = {
        "name": "portrait",
        "image_url": stub.image_url("portrait.png"),
        "ratio": "1:1",
        "expect": "pass",
    }
    (project.path / "cases.json").write_text(json.dumps([entry]))


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    (pytester.path / "test_live.py").write_text(LIVE_TESTS.read_text())
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    return pytester


def test_the_baseline_turns_a_strict_failure_green_and_update_writes_it(
    project: pytest.Pytester,
) -> None:
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR, response_hook=with_a_score) as stub:
        write_portrait_case(project, stub)
        first = live(project, stub.base_url)
        update = live(project, stub.base_url, "--baseline", "baseline.json", "--update-baseline")
        after = live(project, stub.base_url, "--baseline", "baseline.json")
    assert first.ret == 1  # a new additive finding under --strict-drift
    assert update.ret == 1  # the run that writes the baseline still reports what it found
    assert after.ret == 0
    (written,) = json.loads((project.path / "baseline.json").read_text())["entries"]
    assert dt.date.fromisoformat(written["until"]) > dt.datetime.now(dt.UTC).date()
    report = json.loads((project.path / "r.json").read_text())
    assert report["counts"]["acknowledged"] == 1 and report["counts"]["new"] == 0
    markdown = (project.path / "r.md").read_text()
    assert "## New findings: 0" in markdown
    assert "<details><summary>Acknowledged findings: 1</summary>" in markdown


def test_a_malformed_baseline_is_a_usage_error_and_an_expired_entry_fails_the_run(
    project: pytest.Pytester,
) -> None:
    (project.path / "bad.json").write_text('{"baseline": "x", "entries": [{"check": "c"}]}')
    (project.path / "old.json").write_text(
        json.dumps(
            {
                "baseline": "x",
                "entries": [
                    {"id": "FD-0000000000", "reason": "until the fix ships", "until": "2020-01-01"}
                ],
            }
        )
    )
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR) as stub:
        write_portrait_case(project, stub)
        bad = live(project, stub.base_url, "--baseline", "bad.json")
        expired = live(project, stub.base_url, "--baseline", "old.json")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    assert "bad.json: entry 0 ('c'): field 'reason' is missing" in bad.stderr.str()
    assert expired.ret == 1
    report = json.loads((project.path / "r.json").read_text())
    assert (
        "baseline entries past their date: FD-0000000000 (until 2020-01-01)"
        in report["why_not_passed"]
    )


def test_update_baseline_dates_what_it_adds_and_says_what_it_did(project: pytest.Pytester) -> None:
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR, response_hook=with_a_score) as stub:
        write_portrait_case(project, stub)
        write = ("--baseline", "baseline.json", "--update-baseline")
        first = live(project, stub.base_url, *write, "--baseline-until", "2099-01-06")
        again = live(project, stub.base_url, *write)
    path = project.path / "baseline.json"
    first.stdout.fnmatch_lines(
        [f"baseline updated: 1 added (until 2099-01-06), 0 kept, 0 dropped: {path}"]
    )
    again.stdout.fnmatch_lines([f"baseline updated: 0 added, 1 kept, 0 dropped: {path}"])
    (written,) = json.loads(path.read_text())["entries"]
    assert written["until"] == "2099-01-06"  # kept as it was, not re-dated by the second update


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--baseline", "b.json", "--update-baseline", "--baseline-until", "next week"),
            "--baseline-until 'next week': give a date YYYY-MM-DD or a number of days",
        ),
        (
            ("--baseline", "b.json", "--update-baseline", "--baseline-until", "2020-01-01"),
            "--baseline-until '2020-01-01' is not after today",
        ),
        (
            ("--baseline", "b.json", "--baseline-until", "30d"),
            "--baseline-until dates the entries --update-baseline adds; add --update-baseline",
        ),
    ],
    ids=["not-a-date", "past", "without-update"],
)
def test_a_wrong_baseline_until_is_a_usage_error_before_anything_is_sent(
    project: pytest.Pytester, args: tuple[str, ...], message: str
) -> None:
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR) as stub:
        write_portrait_case(project, stub)
        result = live(project, stub.base_url, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()
    assert not (project.path / "b.json").exists()
