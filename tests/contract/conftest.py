"""The contract suite's own setting: its Hypothesis profile and the fixtures its tests take.

This folder ships in the wheel as ``facedetect_contract.suite`` (``facedetect-contract run``), so
it depends on nothing outside the package.
"""

from __future__ import annotations

import pytest

from facedetect_contract.harness import (  # noqa: F401  # fixtures and hooks, by importing them
    contracts,
    drop_idle_hypothesis_plugin,
    fake,
    load_hypothesis_profile,
    offline_client,
    offline_exchange,
    parametrize_replay,
    profile_before_module,
)


def pytest_configure(config: pytest.Config) -> None:
    load_hypothesis_profile(config, when_needed=True)


def pytest_collectstart(collector: pytest.Collector) -> None:
    profile_before_module(collector)  # before a test module imports Hypothesis


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_replay(metafunc)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    drop_idle_hypothesis_plugin(session)  # its summary would import Hypothesis for nothing
