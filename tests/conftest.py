"""Fixtures of the project's own tests: the contract suite's, and the stub server."""

from __future__ import annotations

import os
import shlex
import signal
import tomllib
from pathlib import Path

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

STUB_KEY = OFFLINE_KEY = TEST_KEY  # the one key the fake and the stub accept in tests
ROOT = Path(__file__).resolve().parents[1]  # the checkout


def _checkout_plugins() -> str:
    """The plugin options of the checkout's addopts (pyproject.toml), from
    ``--disable-plugin-autoload`` on: read, not copied, so the two cannot drift apart."""
    addopts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "pytest"
    ]["ini_options"]["addopts"]
    return shlex.join(addopts[addopts.index("--disable-plugin-autoload") :])


# For the pytest runs the tests make in folders of their own: autoloaded, each run would load
# Schemathesis' plugin and rewrite all of Hypothesis where bytecode may not be cached (a second a
# run). The entry point itself is the consumer tests' subject (tests/consumer), in a fresh venv.
CHILD_PYTEST_ADDOPTS = _checkout_plugins()

# Hypothesis keeps a cache (its unicode charmap) in its storage directory, ``.hypothesis`` of the
# current one unless this variable names another. A child run in a fresh folder (pytester, a
# user's project) would build it again: 1.3 s of each run that draws text. Set for the session,
# so this process and every child it starts share the checkout's (a value already set is kept).
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(ROOT / ".hypothesis"))


def default_sigint() -> None:
    """``preexec_fn`` of a child a test stops with SIGINT: the default action restored (Python
    then raises KeyboardInterrupt). A shell that started this run in the background, as a CI
    runner may, left SIGINT ignored, and an ignored signal is inherited by every child."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a ``python -m pytest`` child: this one's, the checkout's plugins."""
    return {**os.environ, "PYTEST_ADDOPTS": CHILD_PYTEST_ADDOPTS, **extra}


@pytest.fixture(scope="session")
def stub_server(facedetect_stub: RunningServer) -> RunningServer:
    """The stub server on 127.0.0.1 (key TEST_KEY), serving fixtures/images/ under /images/."""
    return facedetect_stub


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytest's own, with the checkout's plugins (``CHILD_PYTEST_ADDOPTS``) for every run it
    makes. An inline run restores ``sys.modules`` after itself, so each would import
    Schemathesis' plugin afresh: about 2 s of each live run of these tests, for a plugin they do
    not test. (Pytester clears PYTEST_ADDOPTS when it starts; this sets it after.)"""
    monkeypatch.setenv("PYTEST_ADDOPTS", CHILD_PYTEST_ADDOPTS)
    return pytester
