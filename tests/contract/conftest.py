"""The contract suite's own setting: its Hypothesis profile and the fixtures its tests take.

This folder ships in the wheel as ``facedetect_contract.suite`` (``facedetect-contract run``), so
it depends on nothing outside the package.
"""

from __future__ import annotations

import pytest

from facedetect_contract.plugin.harness import (  # noqa: F401  # fixtures and hooks, by importing them
    contracts,
    fake,
    offline_client,
    offline_exchange,
    parametrize_replay,
    pytest_collectstart,
    pytest_configure,
    pytest_sessionfinish,
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_replay(metafunc)
