"""What every section of the benchmark shares: where it runs, the one Hypothesis harness both
sides of section 1 (and this suite's client in section 2) run under, the tally of one side's
cases and time, ratios and their spread over repetitions, running a child process with its wall
time and peak memory, and reading pytest's summary line.

A section module holds what only it measures; anything two of them need lives here, so the
figures of every section are taken the same way. Children run in the checkout (``ROOT``) with
``child_env``: the caller's environment plus the sentinel key and a loopback base URL, nothing
else new; each is killed after ``SUBPROCESS_TIMEOUT`` seconds.
"""

from __future__ import annotations

import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
SENTINEL_KEY = "sk-bench-sentinel"  # the only key this benchmark sends, to loopback only
UNROUTABLE_BASE = "http://127.0.0.1:9/api/v1"  # in-process runs: a loopback URL nothing serves
SUBPROCESS_TIMEOUT = 900  # seconds; a hung child is killed, never waited on forever

Body = Callable[[Any], None]


# --- the common harness ----------------------------------------------------------------------


def run_given(
    strategy: st.SearchStrategy[Any], cases: int, body: Body, seed: int
) -> tuple[int, float]:
    """Run ``body`` on ``cases`` examples of ``strategy`` drawn from ``seed``: (run, seconds)."""
    count = 0

    @hypothesis.seed(seed)
    @settings(
        max_examples=cases,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(value: Any) -> None:
        nonlocal count
        count += 1
        body(value)

    start = time.perf_counter()
    run()
    return count, time.perf_counter() - start


@dataclass
class Tally:
    """One side's cases and seconds (in all, and per step), summed over the seeds it ran."""

    cases: int = 0
    seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)
    failing: int = 0
    requests: int = 0
    failures: set[str] = field(default_factory=set)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.steps[name] = self.steps.get(name, 0.0) + time.perf_counter() - start

    def add(self, cases: int, seconds: float) -> None:
        self.cases += cases
        self.seconds += seconds

    def figures(self) -> dict[str, Any]:
        per_case = 1e6 / max(self.cases, 1)
        send_s, check_s = self.steps.get("send", 0.0), self.steps.get("check", 0.0)
        return {
            "cases": self.cases,
            "seconds": round(self.seconds, 3),
            "cases_per_s": per_second(self.cases, self.seconds),
            "us_generate": round((self.seconds - send_s - check_s) * per_case),
            "us_send": round(send_s * per_case),
            "us_check": round(check_s * per_case),
            "failing_cases": self.failing,
        }


def per_second(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def ratio(ours: float | None, theirs: float | None) -> float | None:
    if not ours or not theirs:
        return None
    return round(ours / theirs, 2)


def spread(ratios: list[float | None]) -> dict[str, float | None]:
    """Min, median and max of the repetitions' ratios (a repetition without one is left out);
    all None when none has one. The median of an even count is the mean of the middle two."""
    measured = [r for r in ratios if r is not None]
    if not measured:
        return {"ratio_min": None, "ratio_median": None, "ratio_max": None}
    return {
        "ratio_min": min(measured),
        "ratio_median": round(statistics.median(measured), 2),
        "ratio_max": max(measured),
    }


def pytest_counts(output: str) -> dict[str, int | None]:
    """The outcome counts of pytest's last summary line (``3 failed, 120 passed, 2 skipped in
    ...``): passed, failed, errors, skipped, ... (an outcome absent from the line is 0); all None
    when there is no summary line (a run killed, or one that crashed before it)."""
    lines = [line for line in output.splitlines() if re.search(r"\bin [0-9.]+s\b", line)]
    outcomes = ("passed", "failed", "errors", "skipped", "deselected", "xfailed", "xpassed")
    if not lines:
        return dict.fromkeys(outcomes)
    last = lines[-1]
    counts: dict[str, int | None] = dict.fromkeys(outcomes, 0)
    for number, word in re.findall(r"(\d+) (\w+)", last):
        key = {"error": "errors"}.get(word, word)
        if key in counts:
            counts[key] = int(number)
    return counts


# --- running children ------------------------------------------------------------------------


def run_child(command: list[str], *, env: dict[str, str]) -> dict[str, Any]:
    """Run ``command`` in ROOT: wall seconds, output, exit code and peak memory; killed after
    ``SUBPROCESS_TIMEOUT`` seconds (then ``timed_out`` and a non-zero exit code)."""
    start = time.perf_counter()
    expired = threading.Event()
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err) as child,
    ):

        def kill() -> None:
            expired.set()
            child.kill()

        # A blocking wait sees the exit at once (wait(timeout=...) polls, up to 50 ms late);
        # the timer kills a child that outlives the timeout. The end is taken before the
        # sampler stops (its thread sleeps between samples).
        timer = threading.Timer(SUBPROCESS_TIMEOUT, kill)
        sampler = _TreeSampler(child.pid)
        sampler.start()
        timer.start()
        try:
            child.wait()
            seconds = time.perf_counter() - start
        finally:
            timer.cancel()
            sampler.stop()
        timed_out = expired.is_set()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    return {
        "seconds": round(seconds, 2),
        "returncode": child.returncode,
        "timed_out": timed_out,
        "stdout": stdout,
        "stderr": stderr,
        "peak_rss_mb": _mb(max(sampler.hwm_kb.values(), default=0)),
        "peak_tree_rss_mb": _mb(sampler.tree_peak_kb),
    }


def _mb(kilobytes: int) -> float | None:
    return round(kilobytes / 1024, 1) if kilobytes else None


class _TreeSampler:
    """Every 50 ms, the memory of a process and its descendants, from Linux's /proc.

    ``hwm_kb``: each process's own peak (VmHWM), so the largest process is known; unlike
    ``ru_maxrss`` of a child, it does not start from the forking parent's size. ``tree_peak_kb``:
    the largest sum of the tree's resident sets seen. Elsewhere both stay empty (reported null).
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.hwm_kb: dict[int, int] = {}
        self.tree_peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        if Path("/proc/self/status").exists():
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _run(self) -> None:
        while True:  # until stop(); the child is bounded by SUBPROCESS_TIMEOUT
            self._sample()
            if self._stop.wait(0.05):
                return

    def _sample(self) -> None:
        parents: dict[int, int] = {}
        status: dict[int, dict[str, str]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, KeyError):
                lines = (entry / "status").read_text().splitlines()
                values = dict(line.split(":", 1) for line in lines if ":" in line)
                parents[int(entry.name)] = int(values["PPid"])
                status[int(entry.name)] = values
        tree, frontier = {self.pid}, [self.pid]
        while frontier:  # bounded: each pid joins the tree once
            parent = frontier.pop()
            for pid, ppid in parents.items():
                if ppid == parent and pid not in tree:
                    tree.add(pid)
                    frontier.append(pid)
        total = 0
        for pid in tree & status.keys():
            values = status[pid]
            total += int(values.get("VmRSS", "0 kB").split()[0])
            hwm = int(values.get("VmHWM", "0 kB").split()[0])
            self.hwm_kb[pid] = max(self.hwm_kb.get(pid, 0), hwm)
        self.tree_peak_kb = max(self.tree_peak_kb, total)


def child_env(base_url: str) -> dict[str, str]:
    """The environment of a child: the sentinel key and a loopback base URL, nothing else new."""
    env = dict(os.environ)
    env["DASHSCOPE_API_KEY"] = SENTINEL_KEY
    env["DASHSCOPE_HTTP_BASE_URL"] = base_url
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("PYTEST_ADDOPTS", None)
    return env


def warm_pytest() -> dict[str, Any]:
    """Collect the tests once with bytecode writes allowed, before any timed pytest child.

    pytest rewrites the assertions of every plugin's distribution (Hypothesis's among them) and
    caches the result as .pyc; with PYTHONDONTWRITEBYTECODE=1 (set on these machines) nothing is
    cached, and each start pays ~0.9 s rewriting Hypothesis again. One collection fills the cache,
    as any earlier run does on a default Python; the timed children keep the caller's environment.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    run = run_child([*command, "tests"], env=env)
    return {
        "seconds": run["seconds"],
        "exit_code": run["returncode"],
        "bytecode_writes_forbidden": os.environ.get("PYTHONDONTWRITEBYTECODE", "") != "",
    }
