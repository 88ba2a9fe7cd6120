"""Section 4, the offline suite as users run it: ``python -m pytest tests/contract``.

The README's first command, serial and ``-n 2``: wall time, peak RSS of the largest process and of
the process tree, and examples per property test (``--hypothesis-show-statistics``). The sides
alternate over ``--repeat`` rounds and the fastest run of each is kept: a shared machine's noise
only ever adds time.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from .common import UNROUTABLE_BASE, child_env, run_child


def section_suite(repeat: int) -> dict[str, Any]:
    base = [sys.executable, "-m", "pytest", "tests/contract", "-q", "-p", "no:cacheprovider"]
    env = child_env(UNROUTABLE_BASE)
    serial: dict[str, Any] = {}
    parallel: dict[str, Any] = {}
    examples: list[int] = []
    for _round in range(repeat):  # alternate, keep each one's fastest run: the host may be shared
        # --hypothesis-show-statistics only adds the per-test example counts at the end.
        run = run_child([*base, "--hypothesis-show-statistics"], env=env)
        if not examples:
            examples = [int(n) for n in re.findall(r"- (\d+) passing, \d+ failing", run["stdout"])]
        if not serial or run["seconds"] < serial["seconds"]:
            serial = run
        run = run_child([*base, "-n", "2"], env=env)
        if not parallel or run["seconds"] < parallel["seconds"]:
            parallel = run
    return {
        "command": "python -m pytest tests/contract",
        "repeat": repeat,
        "serial_seconds": serial["seconds"],
        "serial_exit_code": serial["returncode"],
        "serial_peak_rss_mb": serial["peak_rss_mb"],
        "serial_tests": _passed(serial["stdout"]),
        "n2_seconds": parallel["seconds"],
        "n2_exit_code": parallel["returncode"],
        "n2_peak_rss_mb": parallel["peak_rss_mb"],
        "n2_peak_tree_rss_mb": parallel["peak_tree_rss_mb"],
        "property_tests": len(examples),
        "min_examples_per_property": min(examples) if examples else None,
    }


def _passed(output: str) -> int | None:
    match = re.search(r"(\d+) passed", output)
    return int(match.group(1)) if match else None
