"""The layers are a contract a linter checks (import-linter, pyproject's ``[tool.importlinter]``):
it holds on the package, fails on a planted upward import, and the package has no import circle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
LINT = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"

grimp = pytest.importorskip("grimp")


def lint_imports(package_root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    return subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=package_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_of_the_package(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "facedetect_contract",
        tmp_path / "facedetect_contract",
        ignore=shutil.ignore_patterns("__pycache__", "_contracts", "_data", "suite"),
    )
    return tmp_path


def test_the_package_keeps_its_layers(tmp_path: Path) -> None:
    result = lint_imports(copy_of_the_package(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_a_planted_upward_import_breaks_the_layers_contract(tmp_path: Path) -> None:
    root = copy_of_the_package(tmp_path)
    pointers = root / "facedetect_contract" / "core" / "pointers.py"
    pointers.write_text(pointers.read_text() + "\nfrom ..report import model  # planted\n")
    result = lint_imports(root)
    assert result.returncode != 0
    # The planted line itself is the broken chain, and the only breakage.
    assert "Contracts: 0 kept, 1 broken." in result.stdout, result.stdout + result.stderr
    assert "facedetect_contract.core.pointers -> facedetect_contract.report.model" in result.stdout


def test_no_module_of_the_package_is_in_an_import_circle() -> None:
    sys.path.insert(0, str(ROOT))
    try:
        graph = grimp.build_graph("facedetect_contract")
    finally:
        sys.path.remove(str(ROOT))
    circles = [
        (importer, imported)
        for importer in sorted(graph.modules)
        for imported in sorted(graph.find_modules_directly_imported_by(importer))
        if graph.find_shortest_chain(importer=imported, imported=importer)
    ]
    assert circles == []
