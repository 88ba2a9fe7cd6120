"""The benchmark runs: ``bench/run.py --quick`` ends with one JSON line holding every figure."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("offline", "http", "live", "suite")
# A key the run must never echo, standing in for a real DASHSCOPE_API_KEY in the environment.
ENVIRONMENT_KEY = "sk-test-bench-never-printed-0123456789"


@pytest.fixture(scope="module")
def quick_run() -> subprocess.CompletedProcess[str]:
    """One ``--quick`` run (section 1 with a few cases, no subprocesses or servers)."""
    env = {**os.environ, "DASHSCOPE_API_KEY": ENVIRONMENT_KEY}
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick"],
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


def test_the_last_line_is_one_json_object_with_every_section_and_target(
    figures: dict[str, Any],
) -> None:
    assert {*SECTIONS, "targets", "machine", "quick"} <= figures.keys()
    assert set(figures["targets"]) == {
        "offline_vs_schemathesis",
        "http_vs_schemathesis_run",
        "live_vs_floor",
        "suite_serial_seconds",
    }
    assert all(
        {"value", "target", "met"} <= verdict.keys() for verdict in figures["targets"].values()
    )


def test_the_offline_section_checks_every_generated_case_of_both_kinds(
    figures: dict[str, Any],
) -> None:
    offline = figures["offline"]
    for kind in ("valid", "invalid"):
        assert offline["ours"][kind]["cases"] == offline["cases"]
        assert offline["ours"][kind]["failing_cases"] == 0
        assert offline["ours"][kind]["cases_per_s"] > 0
    assert offline["validation"]["us_run_checks"] > 0
    if "positive" in offline["schemathesis"]:  # the bench extra is installed
        assert offline["schemathesis"]["positive"]["cases"] == offline["cases"]
        assert offline["ratio"] > 0


def test_a_quick_run_skips_the_sections_that_start_servers_or_subprocesses(
    figures: dict[str, Any],
) -> None:
    assert figures["quick"] is True
    for section in ("http", "live", "suite"):
        assert figures[section]["status"] == "skipped"


def test_the_table_comes_first_and_no_key_is_printed(
    quick_run: subprocess.CompletedProcess[str],
) -> None:
    assert quick_run.stdout.startswith("section")
    assert ENVIRONMENT_KEY not in quick_run.stdout + quick_run.stderr


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
