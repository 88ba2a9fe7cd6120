"""The package's public surface and its changelog stay in step."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import facedetect_contract

MODULES = sorted(
    m.name for m in pkgutil.iter_modules(facedetect_contract.__path__) if not m.name.startswith("_")
)


@pytest.mark.parametrize("name", [m for m in MODULES if m not in ("plugin",)])
def test_every_module_declares_all_and_every_name_in_it_exists(name: str) -> None:
    module = importlib.import_module(f"facedetect_contract.{name}")
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"facedetect_contract.{name} has no __all__"
    for item in exported:
        assert hasattr(module, item), f"{name}.__all__ names missing {item}"


def test_the_newest_changelog_version_is_the_package_version() -> None:
    changelog = (Path(__file__).parents[1] / "CHANGELOG.md").read_text()
    versions = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", changelog, re.MULTILINE)
    assert versions and versions[0] == facedetect_contract.__version__
    assert "## [Unreleased]" in changelog
