"""What the contract suite needs around its tests: its Hypothesis profiles, hooks and fixtures.

The suite (``tests/contract``, shipped in the wheel as ``facedetect_contract.suite``) and the
project's own tests import these from their ``conftest.py``, the hooks (``pytest_configure``,
``pytest_collectstart``, ``pytest_sessionfinish``) as well as the fixtures; the plugin itself
loads no profile and defines none of these names, so installing the package changes nothing in
another project.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from ..client import FaceDetectClient
from ..contracts.loader import Contracts
from ..doubles.fake import FaceDetectFake
from . import TEST_KEY
from .options import parametrize_by_model

if TYPE_CHECKING:
    from ..doubles.offline import InProcessExchange

__all__ = [
    "EXAMPLES_PER_PROPERTY",
    "contracts",
    "drop_idle_hypothesis_plugin",
    "fake",
    "load_hypothesis_profile",
    "offline_client",
    "offline_exchange",
    "parametrize_failure_shapes",
    "parametrize_replay",
    "profile_before_module",
    "pytest_collectstart",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_sessionfinish",
    "register_hypothesis_profiles",
]

EXAMPLES_PER_PROPERTY = 200
# Test modules that use no Hypothesis: a run that collects only these (``pytest --live`` on the
# live tests) never imports it, which is a fifth of its start-up.
NO_HYPOTHESIS_MODULES = frozenset({"test_live.py"})
_LOADED = pytest.StashKey[bool]()


def register_hypothesis_profiles() -> None:
    """Register the suite's profiles ``ci``, ``dev`` and ``debug`` (imports Hypothesis)."""
    from hypothesis import HealthCheck, Verbosity, settings  # noqa: PLC0415

    common: dict[str, Any] = {
        "max_examples": EXAMPLES_PER_PROPERTY,
        "deadline": None,
        "print_blob": True,
        "suppress_health_check": [HealthCheck.too_slow],
    }
    settings.register_profile("ci", derandomize=True, database=None, **common)
    # derandomize explicit: Hypothesis's own CI detection would otherwise leak in
    settings.register_profile("dev", derandomize=False, **common)
    settings.register_profile(
        "debug", parent=settings.get_profile("dev"), verbosity=Verbosity.verbose
    )


def load_hypothesis_profile(config: pytest.Config, *, when_needed: bool = False) -> None:
    """The suite's profile: ``--hypothesis-profile``, then ``CI=true`` -> ``ci``, else ``dev``.

    ``when_needed`` (from ``pytest_configure``): register the profiles now only when
    ``--hypothesis-profile`` names one (Hypothesis' plugin loads it next); otherwise wait for
    ``profile_before_module``, so a run of the live tests alone does not import Hypothesis.
    """
    named = config.getoption("hypothesis_profile", None) is not None
    if when_needed and not named:
        return
    if config.stash.get(_LOADED, False):
        return
    config.stash[_LOADED] = True
    register_hypothesis_profiles()
    if not named:
        from hypothesis import settings  # noqa: PLC0415

        settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "dev")


def profile_before_module(collector: pytest.Collector) -> None:
    """From ``pytest_collectstart``: load the profile before the first test module that may use
    Hypothesis is imported (its ``@settings`` then inherit the profile). Modules pytest only
    lists and never collects (a path narrowed the run) import nothing and load nothing."""
    if isinstance(collector, pytest.Module) and collector.path.name not in NO_HYPOTHESIS_MODULES:
        load_hypothesis_profile(collector.config)


def drop_idle_hypothesis_plugin(session: pytest.Session) -> None:
    """From ``pytest_sessionfinish``: when no test of the run imported Hypothesis, unregister its
    pytest plugin before the terminal summary, which imports Hypothesis only to find it has
    nothing to say (0.6 s: a tenth of ``pytest --live``). Kept whenever Hypothesis was imported
    or a report (from an xdist worker) carries its statistics or failing examples."""
    manager = session.config.pluginmanager
    plugin = manager.get_plugin("hypothesispytest")
    if plugin is None or "hypothesis" in sys.modules:
        return
    reporter = manager.get_plugin("terminalreporter")
    for reports in getattr(reporter, "stats", {}).values():
        for report in reports:
            if any(key.startswith("_hypothesis") for key in getattr(report, "__dict__", {})):
                return
    manager.unregister(plugin)


# --- the hooks a conftest takes by importing them -------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    load_hypothesis_profile(config, when_needed=True)


def pytest_collectstart(collector: pytest.Collector) -> None:
    profile_before_module(collector)  # before a test module imports Hypothesis


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    drop_idle_hypothesis_plugin(session)  # its summary would import Hypothesis for nothing


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_failure_shapes(metafunc)  # the fake in each shape the chosen contracts admit
    parametrize_replay(metafunc)


def parametrize_failure_shapes(metafunc: pytest.Metafunc) -> None:
    """Give the ``fake`` fixture (and what takes it) each failure shape the contracts of the
    run admit (open question failure-shape): read from the chosen folder, not at import; in a
    run of several models, each model's shapes with that model's contracts."""
    parametrize_by_model(
        metafunc,
        "fake",
        lambda contracts: [
            (shape, f"failure-shape-{shape}") for shape in contracts.profile.failure_shapes
        ],
        indirect=True,
        scope="session",
    )


def parametrize_replay(metafunc: pytest.Metafunc) -> None:
    """Give a ``replay_fixture`` argument every fixture replay serves: the packaged ones, and the
    recordings of ``--record-dir`` (or the ini key) when they are elsewhere, each read against
    the contracts of its model."""
    from ..contracts.fixtures import fixtures_beside  # noqa: PLC0415
    from . import record_dir  # noqa: PLC0415

    def found(contracts: Contracts) -> list[tuple[Any, str]]:
        return [
            (fixture, fixture.name)
            for fixture in fixtures_beside(record_dir(metafunc.config, contracts), contracts)
        ]

    parametrize_by_model(metafunc, "replay_fixture", found)


@pytest.fixture(scope="session")
def contracts(facedetect_contracts: Contracts) -> Contracts:
    """The contracts of the run (``--contracts``, the ini key, else the packaged ones)."""
    return facedetect_contracts


@pytest.fixture(scope="session")
def fake(request: pytest.FixtureRequest, contracts: Contracts) -> FaceDetectFake:
    """The fake in each failure shape the contracts admit (open question failure-shape),
    parametrized by ``parametrize_failure_shapes`` (the hook ``pytest_generate_tests``)."""
    shape = getattr(request, "param", None)
    if shape is None:
        raise pytest.UsageError(
            "the fixture fake is parametrized by the failure shapes of the run's contracts: "
            "import pytest_generate_tests from facedetect_contract.plugin.harness into your "
            "conftest.py (or call parametrize_failure_shapes from yours)"
        )
    return FaceDetectFake(api_keys={TEST_KEY}, contracts=contracts, failure_shape=shape)


@pytest.fixture(scope="session")
def offline_client(
    pytestconfig: pytest.Config, fake: FaceDetectFake, contracts: Contracts
) -> Iterator[FaceDetectClient]:
    """A client whose transport is a respx router serving the fake; no retry waits."""
    from ..doubles.offline import client_on_fake  # noqa: PLC0415

    base_url = pytestconfig.getoption("facedetect_base_url")
    with client_on_fake(fake, contracts, TEST_KEY, base_url) as client:
        yield client


@pytest.fixture(scope="session")
def offline_exchange(fake: FaceDetectFake, contracts: Contracts) -> InProcessExchange:
    """The fake exchanged with in-process: the client's interactions, without the HTTP stack,
    for properties whose subject is the endpoint's contract rather than the client."""
    from ..doubles.offline import InProcessExchange  # noqa: PLC0415

    return InProcessExchange(fake, TEST_KEY, contracts)
