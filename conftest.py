"""The checkout's tests load the suite's Hypothesis profile (the plugin itself loads none)."""

from __future__ import annotations

import pytest

from facedetect_contract.harness import (
    drop_idle_hypothesis_plugin,
    load_hypothesis_profile,
    profile_before_module,
)


def pytest_configure(config: pytest.Config) -> None:
    load_hypothesis_profile(config, when_needed=True)


def pytest_collectstart(collector: pytest.Collector) -> None:
    profile_before_module(collector)  # before a test module imports Hypothesis


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    drop_idle_hypothesis_plugin(session)  # its summary would import Hypothesis for nothing
