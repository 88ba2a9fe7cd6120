"""Fixtures of the project's own tests: the contract suite's, and the stub server."""

from __future__ import annotations

import os

import pytest

from facedetect_contract.doubles.server import RunningServer
from facedetect_contract.plugin import TEST_KEY
from facedetect_contract.plugin.harness import (  # noqa: F401  # fixtures, and the hook that
    contracts,  # gives `fake` the failure shapes of the run's contracts
    fake,
    offline_client,
    offline_exchange,
    pytest_generate_tests,
)
from tests.helpers.processes import CHILD_PYTEST_ADDOPTS, ROOT

STUB_KEY = OFFLINE_KEY = TEST_KEY  # the one key the fake and the stub accept in tests
# Hypothesis keeps a cache (its unicode charmap) in its storage directory, ``.hypothesis`` of the
# current one unless this variable names another. A child run in a fresh folder (pytester, a
# user's project) would build it again: 1.3 s of each run that draws text. Set for the session,
# so this process and every child it starts share the checkout's (a value already set is kept).
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(ROOT / ".hypothesis"))


@pytest.fixture(scope="session")
def stub_server(facedetect_session_stub: RunningServer) -> RunningServer:
    """The stub server on 127.0.0.1 (key TEST_KEY), serving fixtures/images/ under /images/."""
    return facedetect_session_stub


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytest's own, with the checkout's plugins (``CHILD_PYTEST_ADDOPTS``) for every run it
    makes. An inline run restores ``sys.modules`` after itself, so each would import
    Schemathesis' plugin afresh: about 2 s of each live run of these tests, for a plugin they do
    not test. (Pytester clears PYTEST_ADDOPTS when it starts; this sets it after.)"""
    monkeypatch.setenv("PYTEST_ADDOPTS", CHILD_PYTEST_ADDOPTS)
    return pytester
