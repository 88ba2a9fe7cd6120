"""Fixtures of the checks' tests: a registry a test may register checks in for itself alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from facedetect_contract.checks import CHECKS, RUN_CHECKS


@pytest.fixture
def registry() -> Iterator[None]:
    """Registers checks for one test only: the registries are as they were afterwards, in order."""
    saved_run, saved = dict(RUN_CHECKS), dict(CHECKS)
    yield
    RUN_CHECKS.clear()
    RUN_CHECKS.update(saved_run)
    CHECKS.clear()
    CHECKS.update(saved)
