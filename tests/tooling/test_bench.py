"""The benchmark runs: ``bench/run.py --quick`` ends with one JSON line holding every figure; a
tiny run of section 6 (the doubles' own cost) adds its figures to that line."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("offline", "http", "live", "multi_model_live", "suite", "tiers", "double")
TARGET_NAMES = {
    "offline_vs_schemathesis",
    "http_vs_schemathesis_run",
    "live_vs_floor",
    "live_session_vs_floor",
    "multi_model_live_vs_floor",
    "suite_serial_seconds",
    "fast_tier_serial_seconds",
    "fast_tier_n2_seconds",
    "full_suite_seconds",
    "double_vs_respx",
}
# A key the run must never echo, standing in for a real DASHSCOPE_API_KEY in the environment.
ENVIRONMENT_KEY = "sk-test-bench-never-printed-0123456789"


@pytest.fixture(scope="module")
def quick_run() -> subprocess.CompletedProcess[str]:
    """One ``--quick`` run (section 1 with a few cases and repetitions, no subprocesses or
    servers), 5 cases a side and kind: the shape of the report is the subject, not the figures."""
    env = {**os.environ, "DASHSCOPE_API_KEY": ENVIRONMENT_KEY}
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--cases", "5"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def figures(quick_run: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert quick_run.returncode == 0, quick_run.stderr[-2000:]
    report: dict[str, Any] = json.loads(quick_run.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.process  # the bench as a child process: the slow tier
def test_the_last_line_is_one_json_object_with_every_section_and_target(
    figures: dict[str, Any],
) -> None:
    assert {*SECTIONS, "targets", "machine", "quick", "all_met", "verdict", "not_measured"} <= (
        figures.keys()
    )
    assert set(figures["targets"]) == TARGET_NAMES
    assert all(
        {"value", "target", "met", "unit"} <= verdict.keys()
        for verdict in figures["targets"].values()
    )
    # --quick measures one target of ten: never all met, whatever that one did.
    assert figures["verdict"] in ("no", "not judged")
    assert figures["all_met"] is False


@pytest.mark.process  # the bench as a child process: the slow tier
def test_the_offline_section_checks_every_generated_case_of_both_kinds(
    figures: dict[str, Any],
) -> None:
    offline = figures["offline"]
    planned = offline["cases"] * offline["repetitions"]  # per kind, summed over repetitions
    for kind in ("valid", "invalid"):
        assert offline["ours"][kind]["cases"] == planned
        assert offline["ours"][kind]["failing_cases"] == 0
        assert offline["ours"][kind]["cases_per_s"] > 0
    assert offline["validation"]["us_run_checks"] > 0
    assert offline["validation"]["seconds_per_figure"] == 0.05  # --quick: a smoke run
    if "positive" in offline["schemathesis"]:  # the bench extra is installed
        assert offline["schemathesis"]["positive"]["cases"] == planned
        assert offline["ratio"] > 0


@pytest.mark.process  # the bench as a child process: the slow tier
def test_the_offline_ratio_judged_is_the_median_of_the_repetitions(
    figures: dict[str, Any],
) -> None:
    offline = figures["offline"]
    assert offline["repetitions"] == 3  # --quick's default
    assert len(offline["ratios"]) == len(offline["per_repetition"]) == 3
    assert [one["seed"] for one in offline["per_repetition"]] == [0, 1, 2]
    if "positive" in offline["schemathesis"]:
        assert offline["ratio_min"] <= offline["ratio_median"] <= offline["ratio_max"]
        assert offline["ratio"] == offline["ratio_median"] == sorted(offline["ratios"])[1]
        assert figures["targets"]["offline_vs_schemathesis"]["value"] == offline["ratio"]


@pytest.mark.process  # the bench as a child process: the slow tier
def test_a_quick_run_skips_the_sections_that_start_servers_or_subprocesses(
    figures: dict[str, Any],
) -> None:
    assert figures["quick"] is True
    for section in ("http", "live", "multi_model_live", "suite", "tiers", "double"):
        assert figures[section]["status"] == "skipped"
    not_run = TARGET_NAMES - {"offline_vs_schemathesis"}
    assert all(figures["targets"][name]["met"] is None for name in not_run)
    assert not_run <= set(figures["not_measured"])


@pytest.mark.process  # the bench as a child process: the slow tier
def test_the_table_comes_first_and_no_key_is_printed(
    quick_run: subprocess.CompletedProcess[str],
) -> None:
    assert quick_run.stdout.startswith("section")
    assert ENVIRONMENT_KEY not in quick_run.stdout + quick_run.stderr
    lines = quick_run.stdout.strip().splitlines()
    assert lines[-2].startswith("all targets met: ")  # the table's last line, then the JSON
    assert "not measured: http_vs_schemathesis_run" in lines[-2]


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The package ``bench`` of this checkout, its modules imported as ``bench/run.py`` does."""
    monkeypatch.syspath_prepend(str(ROOT))
    importlib.import_module("bench.run")  # the entry point imports every module of the bench
    return importlib.import_module("bench")


def test_the_live_floor_is_reported_both_ways_and_judged_on_the_stricter(
    bench: ModuleType,
) -> None:
    """429-answered requests cost the stub nothing: counting them flatters the ratio."""
    floors = bench.live.live_floors(requests=30, throttled=5, seconds=7.0, in_run=6.0)
    assert (floors["floor_seconds"], floors["ratio"]) == (6.0, 1.17)
    assert (floors["floor_seconds_excluding_429"], floors["ratio_excluding_429"]) == (5.0, 1.4)
    assert floors["requests_excluding_429"] == 25
    assert floors["ratio_in_run_excluding_429"] == 1.2
    verdict = bench.targets.targets({"live": {**floors, "unretried_429": 0}})["live_vs_floor"]
    assert (verdict["value"], verdict["met"]) == (1.4, False)


# --- the targets, on hand-made reports ----------------------------------------------------------


def _report(**changes: Any) -> dict[str, Any]:
    """A report whose every figure meets its target; ``changes`` replace whole sections."""

    def tier(seconds: float) -> dict[str, Any]:
        return {"seconds": seconds, "exit_code": 0, "timed_out": False, "passed": 900}

    report: dict[str, Any] = {
        "offline": {"ratio": 4.5, "ratios": [4.2, 4.5, 4.9]},
        "http": {"ratio": 2.4},
        "live": {
            "ratio": 1.05,
            "ratio_judged": 1.1,
            "unretried_429": 0,
            "session": {"exit_code": 0, "unretried_429": 0},
            "session_ratio": 1.1,
        },
        "multi_model_live": dict(_MODELS_MET),
        "suite": {"serial_seconds": 12.0, "serial_exit_code": 0, "min_examples_per_property": 200},
        "tiers": {"fast_serial": tier(50.0), "fast_n2": tier(30.0), "full": tier(500.0)},
        "double": {"ratio_vs_respx": 1.8, "fake_us_per_call": 450.0, "respx_us_per_call": 250.0},
    }
    return {**report, **changes}


# The run of every model side by side, within its target: exit 0, nothing left answered 429.
_MODELS_MET: dict[str, Any] = {
    "ratio_judged": 1.05,
    "exit_code": 0,
    "timed_out": False,
    "unretried_429": 0,
    "attribution_error": None,
}


def test_every_target_is_met_by_a_report_within_every_target(bench: ModuleType) -> None:
    report = _report()
    verdicts = bench.targets.targets(report)
    assert set(verdicts) == TARGET_NAMES
    assert all(verdict["met"] is True for verdict in verdicts.values()), verdicts
    assert bench.targets.all_met({**report, "targets": verdicts}) is True
    assert verdicts["offline_vs_schemathesis"] == {
        "value": 4.5,
        "target": 4.0,
        "met": True,
        "unit": "x",
    }


def test_every_target_is_not_met_by_a_report_past_every_target(bench: ModuleType) -> None:
    def tier(seconds: float) -> dict[str, Any]:
        return {"seconds": seconds, "exit_code": 0}

    report = _report(
        offline={"ratio": 3.9},
        http={"ratio": 1.9},
        live={"ratio_judged": 1.21, "unretried_429": 0, "session_ratio": 1.16},
        multi_model_live={**_MODELS_MET, "ratio_judged": 1.21},
        suite={"serial_seconds": 15.1, "serial_exit_code": 0, "min_examples_per_property": 200},
        tiers={"fast_serial": tier(60.1), "fast_n2": tier(35.1), "full": tier(600.1)},
        double={"ratio_vs_respx": 3.01},
    )
    verdicts = bench.targets.targets(report)
    assert all(verdict["met"] is False for verdict in verdicts.values()), verdicts
    assert bench.targets.all_met({**report, "targets": verdicts}) is False


def test_a_section_not_run_leaves_its_targets_not_measured(bench: ModuleType) -> None:
    skipped = {"status": "skipped", "reason": "--skip-*"}
    report = dict.fromkeys(SECTIONS, skipped)
    verdicts = bench.targets.targets(report)
    assert all(verdict["met"] is None for verdict in verdicts.values())
    assert bench.targets.not_measured(verdicts) == list(verdicts)
    # Nothing measured missed its target, and still no: a target not measured is not met.
    assert bench.targets.run_verdict({**report, "targets": verdicts}) == "not judged"
    assert bench.targets.all_met({**report, "targets": verdicts}) is False
    full_off = _report(tiers={**_report()["tiers"], "full": {"status": "skipped"}})
    verdicts = bench.targets.targets(full_off)
    assert verdicts["full_suite_seconds"]["met"] is None
    assert bench.targets.not_measured(verdicts) == ["full_suite_seconds"]
    assert bench.targets.run_verdict({**full_off, "targets": verdicts}) == "not judged"
    assert bench.targets.all_met({**full_off, "targets": verdicts}) is False
    # ... and the table never says "yes" for a target it did not measure.
    last = bench.targets.table({**full_off, "targets": verdicts}).splitlines()[-1]
    assert last == "all targets met: not judged (not measured: full_suite_seconds)"


def test_the_live_target_fails_on_a_request_left_answered_429_whatever_the_ratio(
    bench: ModuleType,
) -> None:
    verdict = bench.targets.targets(_report(live={"ratio_judged": 1.0, "unretried_429": 2}))[
        "live_vs_floor"
    ]
    assert (verdict["value"], verdict["met"]) == (1.0, False)
    assert "429" in verdict["reason"]
    # Judged on the stricter ratio (without the 429-answered requests), not the flattering one.
    verdict = bench.targets.targets(
        _report(live={"ratio": 1.1, "ratio_judged": 1.3, "unretried_429": 0})
    )["live_vs_floor"]
    assert (verdict["value"], verdict["met"]) == (1.3, False)


def test_the_session_path_is_judged_on_its_own_floor_its_exit_and_its_429s(
    bench: ModuleType,
) -> None:
    run = {"seconds": 6.9, "returncode": 0, "stdout": "passed: ...\n"}
    report = {"requests": [{"outcome": "judged"}], "duration_s": 6.1}
    session = bench.live.live_session_figures(run, 30, 0, report)
    assert (session["floor_seconds"], session["ratio_judged"]) == (6.0, 1.15)
    live = {"ratio_judged": 1.1, "unretried_429": 0, "session": session, "session_ratio": 1.15}
    verdict = bench.targets.targets(_report(live=live))["live_session_vs_floor"]
    assert (verdict["value"], verdict["target"], verdict["met"]) == (1.15, 1.15, True)
    failed = {**live, "session": {**session, "exit_code": 1}}
    verdict = bench.targets.targets(_report(live=failed))["live_session_vs_floor"]
    assert (verdict["met"], verdict["reason"]) == (False, "exit code 1")
    throttled = {**live, "session": {**session, "unretried_429": 1}}
    assert bench.targets.targets(_report(live=throttled))["live_session_vs_floor"]["met"] is False
    rows = bench.targets.table({"live": {**_LIVE_ROWS, "session": session}})
    assert "3 live session path vs floor (s)" in rows and "1.15x" in rows


_LIVE_ROWS = {"seconds": 7.0, "requests": 30, "floor_seconds": 6.0}


# --- several models side by side in one live run ------------------------------------------------

# Each model's documented rate, as the packaged contracts have them (the test reads them below).
_QPS = {"emoji-detect-v1": 1.0, "emo-detect-v1": 5.0, "liveportrait-detect": 5.0}


def test_the_documented_rates_the_model_tests_use_are_the_contracts(bench: ModuleType) -> None:
    from facedetect_contract.contracts.loader import load_contracts, packaged_models

    known = packaged_models()
    assert {model: load_contracts(known[model]).profile.qps for model in _QPS} == _QPS


def test_the_several_models_floor_is_the_largest_per_model_floor_not_the_sum(
    bench: ModuleType,
) -> None:
    """Side by side, the run can end when its slowest model is done: the floor is the largest
    ``requests / qps``; the sum would let a run that serialised its models pass."""
    requests = {"emoji-detect-v1": 28, "emo-detect-v1": 29, "liveportrait-detect": 25}
    floors = bench.multi_model.multi_model_floors(requests, _QPS, seconds=30.8, in_run=28.1)
    per_model = floors["per_model"]
    assert [per_model[m]["floor_seconds"] for m in _QPS] == [28.0, 5.8, 5.0]
    assert (floors["floor_seconds"], floors["slowest_model"]) == (28.0, "emoji-detect-v1")
    assert floors["floor_seconds_sum"] == 38.8  # reported, never judged
    assert (floors["ratio"], floors["ratio_in_run"], floors["ratio_judged"]) == (1.1, 1.0, 1.1)
    # A serialised run (38.8 s of pacing plus start-up) misses the target against the floor.
    serial = bench.multi_model.multi_model_floors(requests, _QPS, seconds=40.0)
    assert serial["ratio_judged"] == 1.43
    assert bench.targets.multi_model_verdict({**_MODELS_MET, **serial})["met"] is False
    # The slowest model is whichever has the largest floor, not the lowest rate.
    busy = bench.multi_model.multi_model_floors(
        {**requests, "emoji-detect-v1": 5, "emo-detect-v1": 40}, _QPS, seconds=9.0
    )
    assert (busy["floor_seconds"], busy["slowest_model"]) == (8.0, "emo-detect-v1")
    nothing = bench.multi_model.multi_model_floors({}, _QPS, seconds=3.0)
    assert (nothing["floor_seconds"], nothing["ratio_judged"]) == (None, None)


def test_the_several_models_floor_without_429s_is_the_stricter_and_judged(
    bench: ModuleType,
) -> None:
    requests = {"emoji-detect-v1": 28, "emo-detect-v1": 29, "liveportrait-detect": 25}
    floors = bench.multi_model.multi_model_floors(
        requests, _QPS, seconds=30.8, throttled={"emoji-detect-v1": 3}
    )
    assert floors["per_model"]["emoji-detect-v1"]["floor_seconds_excluding_429"] == 25.0
    assert (floors["floor_seconds_excluding_429"], floors["ratio_judged"]) == (25.0, 1.23)
    # A 429 whose body names no model is taken off every model (it may have been any of them).
    floors = bench.multi_model.multi_model_floors(
        requests, _QPS, seconds=30.8, throttled_naming_none=2
    )
    assert [floors["per_model"][m]["floor_seconds_excluding_429"] for m in _QPS] == [
        26.0,
        5.4,
        4.6,
    ]
    assert floors["ratio_judged"] == 1.18


def test_each_model_s_requests_are_the_report_s_attempts_only_when_the_stub_confirms_them(
    bench: ModuleType,
) -> None:
    """A third of the plan names no model in its body; the report says whose it was, and the
    stub's answers must add up to it."""
    attribute = bench.multi_model.attribute_requests
    named = {"emoji-detect-v1": 20, "emo-detect-v1": 21}
    attempts = {"emoji-detect-v1": 28, "emo-detect-v1": 29}
    assert attribute(named, 16, attempts) == (attempts, None)
    requests, error = attribute(named, 15, attempts)  # the stub answered one fewer
    assert requests is None
    assert "add up to 57 and the stub answered 56" in error
    # The right total, but a model the report charges with fewer than its body named.
    requests, error = attribute(named, 16, {"emoji-detect-v1": 38, "emo-detect-v1": 19})
    assert requests is None
    assert "emo-detect-v1 19 < 21" in error
    assert attribute(named, 16, None)[0] is None


def test_the_several_models_figures_come_from_the_stub_and_the_report(bench: ModuleType) -> None:
    run = {"seconds": 29.0, "returncode": 0, "timed_out": False, "stdout": "passed: ...\n"}

    def row(model: str, attempts: int, outcome: str = "judged") -> dict[str, Any]:
        return {"model": model, "attempts": attempts, "outcome": outcome}

    rows = [row("emoji-detect-v1", 1)] * 28 + [row("emo-detect-v1", 1)] * 29
    rows += [row("liveportrait-detect", 1)] * 23 + [row("liveportrait-detect", 2)]
    report = {"requests": rows, "duration_s": 28.1, "outcome": "passed"}
    named = {"emoji-detect-v1": 20, "emo-detect-v1": 21, "liveportrait-detect": 17, None: 24}
    timeline = {"first_answer_s": 1.1, "last_answer_s": 28.9, "last_named_answer_s": {}}

    def figures(**changes: Any) -> dict[str, Any]:
        given: dict[str, Any] = {
            "named": named,
            "throttled": {},
            "served": 82,
            "report": report,
            "timeline": timeline,
        }
        made: dict[str, Any] = bench.multi_model.multi_model_figures(
            run, _QPS, **{**given, **changes}
        )
        return made

    section = figures()
    assert section["attribution_error"] is None
    assert section["per_model"]["liveportrait-detect"]["requests"] == 25  # a retry counts
    assert (section["requests"], section["floor_seconds"], section["ratio_judged"]) == (
        82,
        28.0,
        1.04,
    )
    assert section["unretried_429"] == 0
    assert bench.targets.multi_model_verdict(section)["met"] is True
    # The stub served a request its hook never saw: the counts are not trusted.
    assert "served 83" in figures(served=83)["attribution_error"]
    assert bench.targets.multi_model_verdict(figures(served=83))["met"] is False
    # A planned request still answered 429 after its retries is counted, by model.
    throttled = {**report, "requests": [*rows[:-1], row("liveportrait-detect", 2, "throttled")]}
    left = figures(report=throttled)
    assert (left["unretried_429"], left["unretried_429_by_model"]["liveportrait-detect"]) == (1, 1)
    # No report: no per-model counts, no floor, and the target is not met.
    lost = figures(report={})
    assert (lost["floor_seconds"], lost["unretried_429"]) == (None, None)
    assert bench.targets.multi_model_verdict(lost)["met"] is False


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"exit_code": 1}, "exit code 1"),
        ({"exit_code": -9, "timed_out": True}, "timed out"),
        ({"unretried_429": 2}, "2 planned request(s) still answered 429"),
        ({"unretried_429": None}, "no report: its 429s unknown"),
        ({"attribution_error": "boom", "ratio_judged": None}, "requests by model: boom"),
        ({"exit_code": 1, "ratio_judged": None}, "exit code 1"),
        ({"ratio_judged": None}, "no floor: no request answered"),
    ],
)
def test_the_several_models_target_fails_on_a_failed_run_whatever_the_ratio(
    bench: ModuleType, changes: dict[str, Any], reason: str
) -> None:
    verdict = bench.targets.multi_model_verdict({**_MODELS_MET, **changes})
    assert (verdict["met"], verdict["reason"]) == (False, reason)
    verdicts = bench.targets.targets(_report(multi_model_live={**_MODELS_MET, **changes}))
    assert verdicts["multi_model_live_vs_floor"]["met"] is False


def test_the_several_models_target_is_at_most_1_2_and_not_measured_when_not_run(
    bench: ModuleType,
) -> None:
    for value, met in ((1.2, True), (1.03, True), (1.21, False)):
        verdict = bench.targets.multi_model_verdict({**_MODELS_MET, "ratio_judged": value})
        assert (verdict["value"], verdict["target"], verdict["met"]) == (value, 1.2, met)
    skipped = _report(multi_model_live={"status": "skipped", "reason": "--skip-*"})
    verdicts = bench.targets.targets(skipped)
    assert verdicts["multi_model_live_vs_floor"]["met"] is None
    assert bench.targets.not_measured(verdicts) == ["multi_model_live_vs_floor"]
    errored = _report(multi_model_live={"status": "error", "reason": "OSError: boom"})
    assert bench.targets.errored(errored) == ["multi_model_live"]


def test_the_several_models_rows_are_printed(bench: ModuleType) -> None:
    requests = {"emoji-detect-v1": 28, "emo-detect-v1": 29, "liveportrait-detect": 25}
    floors = bench.multi_model.multi_model_floors(requests, _QPS, seconds=29.0, in_run=28.1)
    section = {**_MODELS_MET, **floors, "models": list(_QPS), "requests": 82, "seconds": 29.0}
    report = _report(multi_model_live=section)
    table = bench.targets.table({**report, "targets": bench.targets.targets(report)})
    lines = table.splitlines()
    assert next(line for line in lines if line.startswith("3 live 3 models vs floor (s)"))
    assert "floor 28.0, the largest (sum 38.8)" in table
    emoji = next(line for line in lines if line.startswith("  emoji-detect-v1 at 1 QPS"))
    assert "28 requests" in emoji and "floor 28.0 (the floor)" in emoji
    assert "target <= 1.2x" in _target_row(table, "multi_model_live_vs_floor")


def test_only_runs_one_section_and_its_figures_are_the_json_line_s(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tuple(bench.run.SKIP_FLAGS) == bench.targets.SECTIONS
    section = {**_MODELS_MET, "ratio": 1.04, "ratio_judged": 1.05, "seconds": 29.4}
    monkeypatch.setattr(bench.run, "section_multi_model_live", lambda: section)
    ran: list[str] = []  # any other section (or the warm-up) run instead of skipped, cheaply

    def running(name: str) -> Any:
        def run(*_: Any) -> dict[str, Any]:
            ran.append(name)
            return {"ran": name}

        return run

    for name in ("offline", "http", "live", "suite", "tiers", "double"):
        monkeypatch.setattr(bench.run, f"section_{name}", running(name))
    monkeypatch.setattr(bench.run, "warm_pytest", running("warmup"))
    status = bench.run.main(["--only", "multi_model_live", "--json-only"])
    assert ran == []
    assert status == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["multi_model_live"]["ratio"] == 1.04
    assert report["targets"]["multi_model_live_vs_floor"]["met"] is True
    others = [name for name in bench.targets.SECTIONS if name != "multi_model_live"]
    assert all(report[name]["reason"] == "--only multi_model_live" for name in others)
    with pytest.raises(SystemExit) as exited:
        bench.run.main(["--only", "nothing"])
    assert exited.value.code == 2
    assert "--only" in capsys.readouterr().err


def test_a_tier_that_exits_non_zero_is_not_met_whatever_its_time(bench: ModuleType) -> None:
    tiers = _report()["tiers"]
    failed = {**tiers, "fast_serial": {**tiers["fast_serial"], "exit_code": 1}}
    timed_out = {**tiers, "fast_n2": {**tiers["fast_n2"], "exit_code": -9, "timed_out": True}}
    verdicts = bench.targets.targets(_report(tiers=failed))
    assert verdicts["fast_tier_serial_seconds"]["met"] is False
    assert verdicts["fast_tier_serial_seconds"]["reason"] == "exit code 1"
    assert verdicts["fast_tier_n2_seconds"]["met"] is True
    verdicts = bench.targets.targets(_report(tiers=timed_out))
    assert (
        verdicts["fast_tier_n2_seconds"]["met"],
        verdicts["fast_tier_n2_seconds"]["reason"],
    ) == (
        False,
        "timed out",
    )
    suite = {**_report()["suite"], "serial_exit_code": 1}
    assert bench.targets.targets(_report(suite=suite))["suite_serial_seconds"]["met"] is False


def test_all_met_is_no_when_a_section_errored_or_a_target_missed(bench: ModuleType) -> None:
    errored = _report(http={"status": "error", "reason": "OSError: boom"})
    verdicts = bench.targets.targets(errored)
    assert all(verdict["met"] is not False for verdict in verdicts.values())
    assert bench.targets.all_met({**errored, "targets": verdicts}) is False
    assert bench.targets.run_verdict({**errored, "targets": verdicts}) == "no"
    missed = _report(offline={"ratio": 3.0})
    report = {**missed, "targets": bench.targets.targets(missed)}
    report["all_met"] = bench.targets.all_met(report)
    assert report["all_met"] is False
    last = bench.targets.table(report).splitlines()[-1]
    assert last == "all targets met: no (not met: offline_vs_schemathesis)"


def test_the_repetitions_spread_is_min_median_and_max(bench: ModuleType) -> None:
    spread = bench.common.spread
    assert spread([4.1, 3.0, 5.2]) == {"ratio_min": 3.0, "ratio_median": 4.1, "ratio_max": 5.2}
    # An even count: the mean of the middle two; a repetition without a ratio is left out.
    assert spread([4.1, None, 3.0, 5.2, 4.6]) == {
        "ratio_min": 3.0,
        "ratio_median": 4.35,
        "ratio_max": 5.2,
    }
    assert (
        spread([None])
        == spread([])
        == {
            "ratio_min": None,
            "ratio_median": None,
            "ratio_max": None,
        }
    )


def dev_py() -> ModuleType:
    dev = importlib.util.spec_from_file_location("facedetect_dev", ROOT / "dev.py")
    assert dev is not None and dev.loader is not None
    module = importlib.util.module_from_spec(dev)
    dev.loader.exec_module(module)
    return module


def test_dev_py_bench_installs_whatever_the_tests_it_times_need() -> None:
    """A fresh clone's first ``dev.py bench`` timed tiers whose tests could not import libcst:
    the bench's extras must hold the test commands'."""
    commands = dev_py().COMMANDS
    bench_extras = set(commands["bench"][0])
    assert set(commands["test"][0]) <= bench_extras
    assert set(commands["fast"][0]) <= bench_extras


def test_the_fast_tier_runs_dev_py_s_marker_expression(bench: ModuleType) -> None:
    module = dev_py()
    command = bench.tiers.fast_tier_command(f"not ({bench.tiers.slow_markers()})")
    assert command[command.index("pytest") + 1 :][:2] == ["-m", f"not ({module.SLOW})"]
    assert {"-q", "no:cacheprovider"} <= set(command)


def test_pytest_s_summary_line_is_read_into_counts(bench: ModuleType) -> None:
    output = "tests/x.py ..F\nFAILED tests/x.py::t - boom\n2 failed, 910 passed, 3 skipped, "
    output += "40 deselected, 1 error in 58.21s (0:00:58)\n"
    counts = bench.common.pytest_counts(output)
    assert counts["passed"] == 910
    assert (counts["failed"], counts["errors"], counts["skipped"]) == (2, 1, 3)
    assert counts["deselected"] == 40
    assert bench.common.pytest_counts("....\nKilled\n")["passed"] is None  # no summary line
    assert bench.common.pytest_counts("1 passed in 0.01s")["failed"] == 0


def test_the_live_start_up_is_an_error_when_the_collect_only_run_sent_a_request(
    bench: ModuleType,
) -> None:
    collect = {"seconds": 0.62, "returncode": 1, "stdout": "29 tests collected in 0.4s\n"}
    startup = bench.live.live_startup(collect, 0, seconds=9.0, in_run=8.19)
    assert startup["startup_collect_only_s"] == 0.62
    assert startup["startup_outside_run_s"] == 0.81
    assert "startup_collect_only_error" not in startup
    startup = bench.live.live_startup(collect, 1, seconds=9.0, in_run=None)
    assert startup["startup_collect_only_s"] is None
    assert "1 request" in startup["startup_collect_only_error"]
    assert startup["startup_outside_run_s"] is None


def test_the_stub_load_s_bomb_claims_its_size_in_a_header_pillow_reads() -> None:
    """The image load is only a load if the bomb really claims 100,000 x 100,000 pixels."""
    import io

    from PIL import Image

    from bench.stub_load import bomb_png

    with pytest.raises(Image.DecompressionBombError, match="10000000000 pixels"):
        Image.open(io.BytesIO(bomb_png(100_000, 100_000)))
    with Image.open(io.BytesIO(bomb_png(40, 30))) as picture:  # the same file, small: a PNG
        assert picture.size == (40, 30)


def test_a_child_is_timed_to_its_exit_and_killed_at_the_timeout(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wall time of a child is its own: the exit seen at once, not up to a poll later; a
    child past the timeout is killed and says so."""
    env = dict(os.environ)
    quick = bench.common.run_child([sys.executable, "-c", "print('out')"], env=env)
    assert (quick["returncode"], quick["timed_out"], quick["stdout"]) == (0, False, "out\n")
    monkeypatch.setattr(bench.common, "SUBPROCESS_TIMEOUT", 0.5)
    slow = bench.common.run_child([sys.executable, "-c", "import time; time.sleep(30)"], env=env)
    assert slow["timed_out"] is True
    assert slow["returncode"] != 0
    assert slow["seconds"] < 10


def test_dev_py_says_a_long_step_still_runs_and_when_it_is_done(
    capsys: pytest.CaptureFixture[str],
) -> None:
    module = dev_py()
    sleeper = [sys.executable, "-c", "import time; time.sleep(0.35)"]
    module.run_saying_progress(sleeper, what="installing", every=0.1)
    err = capsys.readouterr().err
    assert err.count("dev.py: still installing (") >= 2
    assert "dev.py: done installing in " in err
    with pytest.raises(subprocess.CalledProcessError):
        module.run_saying_progress([sys.executable, "-c", "raise SystemExit(3)"], what="x")


# --- section 6: the doubles' own cost ----------------------------------------------------------

DOUBLE_KEYS = ("ratio_vs_respx", "fake_us_per_call", "respx_us_per_call", "stub_answers_per_second")


@pytest.fixture(scope="module")
def double_run() -> subprocess.CompletedProcess[str]:
    """Section 6 alone, a few calls and a fifth of a second of the stub: the keys are the
    subject, not the figures (too few calls to judge)."""
    env = {**os.environ, "DASHSCOPE_API_KEY": ENVIRONMENT_KEY}
    skips = ["--skip-offline", "--skip-http", "--skip-live", "--skip-multi-model"]
    skips += ["--skip-suite", "--skip-tiers"]
    tiny = ["--double-calls", "60", "--double-rounds", "3", "--stub-seconds", "0.2"]
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), *skips, *tiny],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.process  # the bench as a child process: the slow tier
def test_the_doubles_figures_are_in_the_json_line_as_positive_numbers(
    double_run: subprocess.CompletedProcess[str],
) -> None:
    assert double_run.returncode == 0, double_run.stderr[-2000:] + double_run.stdout[-2000:]
    report = json.loads(double_run.stdout.strip().splitlines()[-1])
    double = report["double"]
    for key in DOUBLE_KEYS:
        value = double[key]
        assert isinstance(value, int | float) and not isinstance(value, bool), (key, value)
        assert value > 0, (key, value)
    assert (double["calls"], double["rounds"], len(double["ratios"])) == (60, 3, 3)
    # The judged figure is the median of the rounds' ratios, and it is the target's value.
    assert double["ratio_vs_respx"] == sorted(double["ratios"])[1]
    assert double["ratio_min"] <= double["ratio_vs_respx"] <= double["ratio_max"]
    assert report["targets"]["double_vs_respx"]["value"] == double["ratio_vs_respx"]
    assert report["targets"]["double_vs_respx"]["met"] in (True, False)
    assert double["answer_bytes"] > 0
    assert double["stub_answers"] >= 1
    assert report["offline"]["status"] == "skipped"
    assert "double_vs_respx" not in report["not_measured"]


def test_the_doubles_rows_are_printed_and_no_key_is(
    double_run: subprocess.CompletedProcess[str],
) -> None:
    out = double_run.stdout
    assert ENVIRONMENT_KEY not in out + double_run.stderr
    assert "6 fake vs bare respx (us/call)" in out
    assert "answers/s" in out
    assert "target double_vs_respx" in out
    assert "1 offline" in out and "--skip-offline" in out


def _target_row(table: str, name: str) -> str:
    return next(line for line in table.splitlines() if line.startswith(f"target {name} "))


def test_the_double_target_is_at_most_three_times_bare_respx(bench: ModuleType) -> None:
    """Injected figures, not timing: 3.0x is met, above it is NOT met, and the table says so."""
    for value, met in ((3.0, True), (2.1, True), (3.01, False), (7.5, False)):
        report = _report(double={"ratio_vs_respx": value})
        verdicts = bench.targets.targets(report)
        assert verdicts["double_vs_respx"] == {
            "value": value,
            "target": 3.0,
            "met": met,
            "unit": "x",
        }
        table = bench.targets.table({**report, "targets": verdicts})
        row = _target_row(table, "double_vs_respx")
        assert "target <= 3.0x" in row
        assert row.endswith("NOT met") is (not met)
        assert row.endswith(" met")
        last = table.splitlines()[-1]
        expected = (
            "all targets met: yes" if met else "all targets met: no (not met: double_vs_respx)"
        )
        assert last == expected
    skipped = bench.targets.targets(_report(double={"status": "skipped", "reason": "--quick"}))
    assert skipped["double_vs_respx"]["met"] is None


def test_a_double_section_that_crashed_makes_the_run_an_error(bench: ModuleType) -> None:
    report = _report(double={"status": "error", "reason": "WrongAnswer: fake: 401"})
    assert bench.targets.errored(report) == ["double"]
    assert bench.targets.run_verdict({**report, "targets": bench.targets.targets(report)}) == "no"
    table = bench.targets.table({**report, "targets": bench.targets.targets(report)})
    row = next(line for line in table.splitlines() if line.startswith("6 doubles "))
    assert row.split()[2:4] == ["error", "WrongAnswer:"]


def test_a_double_answering_anything_but_the_expected_200_is_an_error(bench: ModuleType) -> None:
    """A double that answers cheaply with a 401, or with other bytes, must not flatter its figure."""
    import httpx

    request = ({"content-type": "application/json"}, b"{}")
    post_many = bench.double._post_many

    def answering(status: int, body: bytes) -> httpx.Client:
        return httpx.Client(
            transport=httpx.MockTransport(lambda _r: httpx.Response(status, content=body))
        )

    with answering(200, b"ok") as client:
        assert post_many(client, "http://127.0.0.1:9/x", request, 3, expected=b"ok", side="s") > 0
        with pytest.raises(bench.double.WrongAnswer, match="bare respx"):
            post_many(client, "http://127.0.0.1:9/x", request, 3, expected=b"no", side="bare respx")
    with answering(401, b"{}") as client, pytest.raises(bench.double.WrongAnswer, match="401"):
        post_many(client, "http://127.0.0.1:9/x", request, 3, side="fake")


def test_the_documented_request_is_built_from_the_contract(bench: ModuleType) -> None:
    from facedetect_contract.contracts.loader import load_contracts

    contracts = load_contracts()
    profile = contracts.profile
    headers, content = bench.double.documented_request(contracts)
    body = json.loads(content)
    assert profile.request.model.get(body) == profile.model
    assert profile.request.image_url.get(body) == profile.example_images[0].url
    assert profile.request.ratio.get(body) == contracts.default_ratio
    assert headers["content-type"] == profile.content_type


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--double-rounds", "0"], "--double-rounds"),
        (["--double-calls", "2", "--double-rounds", "3"], "--double-calls"),
        (["--stub-seconds", "0"], "--stub-seconds"),
        (["--stub-seconds", "600"], "--stub-seconds"),
    ],
)
def test_the_double_options_are_checked(
    bench: ModuleType, capsys: pytest.CaptureFixture[str], options: list[str], named: str
) -> None:
    # Were an option let through, this run measures nothing (--quick, section 1 skipped).
    with pytest.raises(SystemExit) as exited:
        bench.run.main(["--quick", "--skip-offline", "--json-only", *options])
    assert exited.value.code == 2
    assert named in capsys.readouterr().err
