"""The contract suite as it ships: the folder ``facedetect-contract run`` runs (inside the wheel,
else the checkout's ``tests/contract``), its live tests' file, and the suite's own
``fail_on_findings``, taken from that file.

The suite is the product, not test code: tests copy its live tests into a project of their own,
and call its ``fail_on_findings`` to show it follows the one rule of what fails a run. The module
is loaded from the suite's folder under a name of its own (``facedetect_contract_suite_live``),
not imported as a test module of the checkout, so a test holds what a consumer runs.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from types import ModuleType

from facedetect_contract.cli import suite_dir
from facedetect_contract.live.judging import Verdict
from facedetect_contract.live.run import LiveRun

__all__ = ["LIVE_TESTS", "SUITE_DIR", "fail_on_findings"]

SUITE_DIR = suite_dir()
LIVE_TESTS = SUITE_DIR / "test_live.py"  # the live tests a consumer's project runs


def _load(name: str) -> ModuleType:
    """The suite's module ``name`` (a file of SUITE_DIR), loaded from its file."""
    spec = importlib.util.spec_from_file_location(
        f"facedetect_contract_suite_{name.removeprefix('test_')}", SUITE_DIR / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None, f"{SUITE_DIR / name}.py: not loadable"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fail_on_findings: Callable[[Verdict, LiveRun], None] = _load("test_live").fail_on_findings
