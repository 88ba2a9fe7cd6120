"""The package's public surface and its changelog stay in step."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import facedetect_contract

MODULES = sorted(
    m.name.removeprefix("facedetect_contract.")
    for m in pkgutil.walk_packages(facedetect_contract.__path__, "facedetect_contract.")
    if not any(part.startswith("_") for part in m.name.split("."))
)


@pytest.mark.parametrize("name", [m for m in MODULES if m not in ("plugin",)])
def test_every_module_declares_all_and_every_name_in_it_exists(name: str) -> None:
    module = importlib.import_module(f"facedetect_contract.{name}")
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"facedetect_contract.{name} has no __all__"
    for item in exported:
        assert hasattr(module, item), f"{name}.__all__ names missing {item}"


ROOT = Path(__file__).parents[1]


def test_the_package_metadata_names_the_project_its_license_and_the_consumer_pin() -> None:
    """What an installer and a registry show: the project's address, the license file, and the
    version the consumer workflow template installs (the one being released)."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["urls"]["Homepage"] == facedetect_contract.PROJECT_URL
    assert all(url.startswith(facedetect_contract.PROJECT_URL) for url in project["urls"].values())
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    template = (ROOT / "docs" / "workflows" / "consumer.yml").read_text()
    pinned = re.search(r'FACEDETECT_CONTRACT: "facedetect-contract==([^"]+)"', template)
    assert pinned is not None and pinned.group(1) == facedetect_contract.__version__
    examples = re.findall(r"facedetect_contract-([\d.]+)-py3|@v([\d.]*\d)", template)
    assert len(examples) == 2  # the wheel's and the tag's, each of the version being released
    assert all(facedetect_contract.__version__ in pair for pair in examples)


def test_the_newest_changelog_version_is_the_package_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    versions = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", changelog, re.MULTILINE)
    assert versions and versions[0] == facedetect_contract.__version__
    assert "## [Unreleased]" in changelog
