"""Test modules import no test module and no conftest: what tests share lives in
``tests/helpers/``, in a module named for what it holds (its ``__init__`` says why).

A helper kept in a test module is found by nobody, drags that module's tests and fixtures into
every importer, and breaks when the module is split or renamed; a conftest is pytest's to load,
and importing it as a module runs it a second time under another name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

__all__: list[str] = []

TESTS = Path(__file__).parents[1]  # tests/


def _module_of(path: Path, root: Path) -> list[str]:
    """The dotted name of ``path``'s package (the folders from ``root``'s parent on)."""
    return list(path.relative_to(root.parent).parent.parts)


def _is_test_code(dotted: str) -> bool:
    """A test module (``test_*``) or a conftest of the ``tests`` package."""
    parts = dotted.split(".")
    return parts[0] == "tests" and (parts[-1].startswith("test_") or parts[-1] == "conftest")


def imports_of_test_code(root: Path) -> dict[str, set[str]]:
    """Every module under ``root`` (a ``tests`` folder) that imports a test module or a conftest,
    relative imports resolved, ``from tests.x import test_y`` counted as importing
    ``tests.x.test_y``: by the importer's path (relative to ``root``'s parent), what it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        package = _module_of(path, root)
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                module = ".".join([*base, *(node.module or "").split(".")]).strip(".")
                imported.add(module)
                imported.update(f"{module}.{alias.name}" for alias in node.names)
        if offending := {name for name in imported if _is_test_code(name)}:
            found[path.relative_to(root.parent).as_posix()] = offending
    return found


def test_no_test_module_imports_another_test_module_or_a_conftest() -> None:
    unexpected = imports_of_test_code(TESTS)
    assert not unexpected, (
        "test modules importing test code (move what they import to tests/helpers/, in a "
        f"module named for what it holds): {unexpected}"
    )


@pytest.mark.parametrize(
    ("source", "imported"),
    [
        (
            "from tests.generation.test_strategies import draw_many\n",
            "tests.generation.test_strategies",
        ),
        ("from tests.generation import test_strategies\n", "tests.generation.test_strategies"),
        ("import tests.generation.test_strategies\n", "tests.generation.test_strategies"),
        ("from tests.conftest import ROOT\n", "tests.conftest"),
        ("from .conftest import ROOT\n", "tests.live.conftest"),
        ("from ..conftest import ROOT\n", "tests.conftest"),
        ("from .test_live_run import live_run\n", "tests.live.test_live_run"),
        ("from . import test_live_run\n", "tests.live.test_live_run"),
        (
            "def f():\n    from tests.contract.test_live import fail_on_findings\n",
            "tests.contract.test_live",
        ),
    ],
)
def test_a_planted_import_of_test_code_is_found(tmp_path: Path, source: str, imported: str) -> None:
    root = tmp_path / "tests"
    (root / "live").mkdir(parents=True)
    (root / "live" / "test_planted.py").write_text(source, encoding="utf-8")
    assert imported in imports_of_test_code(root)["tests/live/test_planted.py"]


def test_imports_of_helpers_and_of_the_package_are_not_test_code(tmp_path: Path) -> None:
    root = tmp_path / "tests"
    (root / "live").mkdir(parents=True)
    (root / "live" / "test_clean.py").write_text(
        "from tests.helpers.live import live_run\n"
        "from tests.hostile.proxy import FaultProxy\n"
        "from facedetect_contract.live.judging import judge\n"
        "from .proxy import FAULTS\n"
        "import pytest\n",
        encoding="utf-8",
    )
    assert imports_of_test_code(root) == {}
