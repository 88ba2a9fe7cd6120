"""Section 5, the project's test tiers as developers run them: wall time, exit code, counts.

The fast tier is ``python3 dev.py fast``'s: ``python -m pytest -m "not (SLOW)" -q -p
no:cacheprovider``, its marker expression read from dev.py's ``SLOW`` (never repeated here, so
the two cannot drift), run serial and with ``-n 2``, once each. With ``--full``, also the whole
suite, slow tier included, ``python -m pytest -q -p no:cacheprovider -n 2`` (off by default: it
takes minutes). Each run is a child (``run_child``: wall time from outside, peak memory, killed
after ``SUBPROCESS_TIMEOUT``); a run that exits non-zero fails its target whatever its time, so
its exit code, the counts of its summary line and the tail of its output are reported.
"""

from __future__ import annotations

import ast
import shlex
import sys
from pathlib import Path
from typing import Any

from .common import ROOT, UNROUTABLE_BASE, child_env, pytest_counts, run_child

DEV = ROOT / "dev.py"


def slow_markers(dev: Path = DEV) -> str:
    """dev.py's ``SLOW``: the slow tier's marker expression, read from the file, not executed."""
    for node in ast.parse(dev.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "SLOW" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise ValueError(f"{dev.name} defines no SLOW = '...' (the slow tier's markers)")


def fast_tier_command(markers: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-m", markers, "-q", "-p", "no:cacheprovider"]


FULL_COMMAND = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2"]


def tier_run(command: list[str]) -> dict[str, Any]:
    """One run of a tier: wall seconds, exit code, the summary's counts, peak memory."""
    run = run_child(command, env=child_env(UNROUTABLE_BASE))
    figures: dict[str, Any] = {
        "command": shlex.join(["python", *command[1:]]),
        "seconds": run["seconds"],
        "exit_code": run["returncode"],
        "timed_out": run["timed_out"],
        **pytest_counts(run["stdout"]),
        "peak_rss_mb": run["peak_rss_mb"],
        "peak_tree_rss_mb": run["peak_tree_rss_mb"],
    }
    if run["returncode"] != 0:  # what failed, to read without running it again
        figures["output_tail"] = (run["stdout"][-1500:] + run["stderr"][-500:]).strip()
    return figures


def section_tiers(*, full: bool) -> dict[str, Any]:
    markers = f"not ({slow_markers()})"
    fast = fast_tier_command(markers)
    result: dict[str, Any] = {
        "markers": markers,
        "fast_serial": tier_run(fast),
        "fast_n2": tier_run([*fast, "-n", "2"]),
    }
    result["full"] = (
        tier_run(FULL_COMMAND)
        if full
        else {"status": "skipped", "reason": "not measured without --full"}
    )
    return result
