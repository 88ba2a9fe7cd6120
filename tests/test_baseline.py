"""The baseline: acknowledged findings do not fail a run, new ones do, expired entries fail it,
unused ones are stale, and a malformed file is a usage error naming the entry and the field."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from facedetect_contract.baseline import (
    Baseline,
    BaselineEntry,
    BaselineError,
    load_baseline,
)
from facedetect_contract.fake import FakeRequest, FakeResponse
from facedetect_contract.fixtures import IMAGE_DIR
from facedetect_contract.server import serve_in_thread
from facedetect_contract.violations import Severity, Violation
from tests.test_live_safety import live as live_run

pytest_plugins = ["pytester"]

KEY = "sk-" + "1e2f" * 8  # no word of the reports inside: fragments of a key are redacted too
TEST_LIVE = Path(__file__).parent / "contract" / "test_live.py"
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


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"check": "c", "pointer": "/p"}], "entry 0: field 'reason' is missing or empty"),
        ([{"reason": "r"}], "entry 0: give field 'id'"),
        ([{"reason": "r", "id": "FD-1", "until": "next week"}], "entry 0: field 'until'"),
        ([{"reason": "r", "id": "FD-1", "colour": "red"}], "entry 0: unknown field(s) ['colour']"),
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


# --- end to end, through --baseline ------------------------------------------------------------


def with_a_score(request: FakeRequest, response: FakeResponse) -> FakeResponse:
    body = response.json()
    if isinstance(body.get("output"), dict) and body["output"].get("check_pass"):
        body["output"]["face_score"] = 0.97
    return FakeResponse(response.status, response.headers, json.dumps(body).encode())


def live(pytester: pytest.Pytester, base_url: str, *args: str) -> pytest.RunResult:
    """A live run of the cases file alone (test_live_safety's), strict, with both reports."""
    return live_run(
        pytester, base_url, "--strict-drift", "--drift-report", "r.json",
        "--drift-report", "r.md", *args,
    )  # fmt: skip


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    (pytester.path / "test_live.py").write_text(TEST_LIVE.read_text())
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    return pytester


def test_the_baseline_turns_a_strict_failure_green_and_update_writes_it(
    project: pytest.Pytester,
) -> None:
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR, response_hook=with_a_score) as stub:
        entry = {
            "name": "portrait",
            "image_url": stub.image_url("portrait.png"),
            "ratio": "1:1",
            "expect": "pass",
        }
        (project.path / "cases.json").write_text(json.dumps([entry]))
        first = live(project, stub.base_url)
        update = live(project, stub.base_url, "--baseline", "baseline.json", "--update-baseline")
        after = live(project, stub.base_url, "--baseline", "baseline.json")
    assert first.ret == 1  # a new additive finding under --strict-drift
    assert update.ret == 1  # the run that writes the baseline still reports what it found
    assert after.ret == 0
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
        entry = {
            "name": "portrait",
            "image_url": stub.image_url("portrait.png"),
            "ratio": "1:1",
            "expect": "pass",
        }
        (project.path / "cases.json").write_text(json.dumps([entry]))
        bad = live(project, stub.base_url, "--baseline", "bad.json")
        expired = live(project, stub.base_url, "--baseline", "old.json")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    assert "bad.json: entry 0: field 'reason' is missing" in bad.stderr.str()
    assert expired.ret == 1
    report = json.loads((project.path / "r.json").read_text())
    assert (
        "baseline entries past their date: FD-0000000000 (until 2020-01-01)"
        in report["why_not_passed"]
    )
