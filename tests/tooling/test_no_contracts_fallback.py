"""The contracts folder is chosen once, at the surface (``--contracts``, the ini key): below it
every function is handed its contracts. A ``load_contracts()`` without a folder (``contracts or
load_contracts()``, a default factory) below the surface would silently judge by the packaged
face-detect contracts whatever the user chose; this scan finds one, and is seen finding one
planted in a copy of the package."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import facedetect_contract

PACKAGE = Path(facedetect_contract.__file__).parent

# Where a default is the point: the surfaces a user calls directly.
SURFACE = {
    "cli.py": "the commands: --contracts, else the packaged folder; their help texts",
    "session.py": "contracts_from: the surfaces' one default",
    "client.py": "FaceDetectClient and endpoint_url: the consumer's API keeps its default",
    "plugin/": "pytest: --contracts or the ini key, else the packaged folder",
}
# Public constructors of other layers that keep their default for consumers (issue 19).
KEPT = {
    "doubles/": "FaceDetectFake, StubServer, serve_in_thread, the offline helpers: public",
    "live/run.py": "LiveRun(contracts=None): public",
}


def fallbacks(package: Path) -> list[str]:
    """``path:line`` of every ``load_contracts()`` called without a folder outside the allowed
    files (an ``or`` fallback, a default factory, a bare call)."""
    found = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        if any(relative.startswith(allowed) for allowed in (*SURFACE, *KEPT)):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and not node.args and not node.keywords):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name == "load_contracts":
                found.append(f"{relative}:{node.lineno}")
    return found


def test_no_function_below_the_surface_falls_back_to_the_packaged_contracts() -> None:
    assert fallbacks(PACKAGE) == [], (
        "these load the packaged contracts behind the caller's back: take a Contracts parameter "
        "(required) and let the surface choose the folder"
    )


def test_the_scan_finds_a_planted_fallback(tmp_path: Path) -> None:
    copy = tmp_path / "facedetect_contract"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "_*data*"))
    planted = copy / "generation" / "strategies.py"
    text = planted.read_text(encoding="utf-8")
    planted.write_text(
        text + "\n\ndef planted(contracts=None):\n    return contracts or load_contracts()\n",
        encoding="utf-8",
    )
    lines = len(planted.read_text(encoding="utf-8").splitlines())
    assert fallbacks(copy) == [f"generation/strategies.py:{lines}"]


def test_every_allowed_file_exists() -> None:
    """An allowed path that moved would allow nothing, silently."""
    for allowed in (*SURFACE, *KEPT):
        assert (PACKAGE / allowed).exists(), allowed
