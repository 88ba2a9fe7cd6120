"""The pytest plugin: options, markers and fixtures, all namespaced. Inert until asked.

It translates pytest's surface into calls into the package: ``options`` (``pytest --help``'s
group and the ini key), ``markers``, ``fixtures``, and here the hooks, whose live-mode bodies
delegate to the session (``facedetect_contract.session``: settings in, report out). Installed,
it is loaded through the ``pytest11`` entry point, which names this module: pytest takes hooks
and fixtures from it, so every one is imported here. It changes nothing in a project's own
tests: it loads no Hypothesis profile, its markers and fixtures carry the ``facedetect_`` prefix,
its base-URL option is ``--dashscope-base-url`` (so it lives beside pytest-base-url's
``--base-url``), and its live machinery starts only with ``--live``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .fixtures import (
    LIVE_FIXTURES,
    LIVE_SESSION,
    TEST_KEY,
    facedetect_api_key,
    facedetect_client,
    facedetect_contracts,
    facedetect_fake,
    facedetect_live_case,
    facedetect_live_example,
    facedetect_live_probe,
    facedetect_live_run,
    facedetect_mock,
    facedetect_readings,
    facedetect_replay,
    facedetect_session_stub,
    facedetect_stub,
    facedetect_stub_factory,
)
from .markers import (
    LIVE_MARKER,
    LIVE_SKIP_REASON,
    every_reading_pairwise,
    every_reading_params,
    register_markers,
    unapplied_markers,
)
from .options import (
    all_contracts_of,
    contracts_chosen,
    contracts_of,
    live_option_values,
    parametrize_by_model,
    parametrize_models,
    pytest_addoption,
    record_dir,
)

if TYPE_CHECKING:
    from ..contracts.cases import LiveCase
    from ..contracts.loader import Contracts
    from ..session import LiveSession

__all__ = [
    "LIVE_MARKER",
    "LIVE_SESSION",
    "LIVE_SKIP_REASON",
    "TEST_KEY",
    "contracts_of",
    "facedetect_api_key",
    "facedetect_client",
    "facedetect_contracts",
    "facedetect_fake",
    "facedetect_live_case",
    "facedetect_live_example",
    "facedetect_live_probe",
    "facedetect_live_run",
    "facedetect_mock",
    "facedetect_readings",
    "facedetect_replay",
    "facedetect_session_stub",
    "facedetect_stub",
    "facedetect_stub_factory",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_runtest_setup",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_unconfigure",
    "record_dir",
]

_LOGGING = pytest.StashKey[Any]()


def pytest_configure(config: pytest.Config) -> None:
    register_markers(config)
    base_url = config.getoption("facedetect_base_url")
    if base_url is not None:
        from ..client import endpoint_url  # noqa: PLC0415

        try:
            endpoint_url(base_url)
        except ValueError as exc:
            raise pytest.UsageError(f"--dashscope-base-url: {exc}") from None
    if contracts_chosen(config):  # a folder named is loaded now: a bad one is a usage error
        all_contracts_of(config)
    _configure_live(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    uninstall = config.stash.get(_LOGGING, None)
    if uninstall is not None:
        uninstall()


def _configure_live(config: pytest.Config) -> None:
    """``--live``: the session made from the options, on ``config.stash``, its unfinished
    reports written; every error of its making is a usage error, before anything is sent."""
    from ..session import live_only_flags  # noqa: PLC0415

    if not config.getoption("facedetect_live"):
        given = [
            flag
            for name, flag in live_only_flags().items()
            if config.getoption(name) not in (None, False)
        ]
        if given:
            raise pytest.UsageError(
                f"{', '.join(given)} only take effect with --live; add --live or drop them"
            )
        return
    if config.getoption("numprocesses", None):
        raise pytest.UsageError(
            "--live sends its requests concurrently itself, once per run; drop -n (xdist would "
            "send them once per worker, over the budget)"
        )
    from ..contracts.loader import ContractFileError  # noqa: PLC0415
    from ..core.redaction import redact_log_records  # noqa: PLC0415
    from ..session import LiveSession, live_key, live_settings  # noqa: PLC0415

    try:
        chosen = all_contracts_of(config)  # --contracts, --model, the ini keys, else packaged
        secrets = [live_key(contracts) for contracts in chosen]
    except (ContractFileError, ValueError) as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_LOGGING] = redact_log_records(secrets)
    try:
        settings = live_settings(
            live_option_values(config),
            base_url=config.getoption("facedetect_base_url"),
            here=config.invocation_params.dir,  # relative paths: as pytest resolves its own
            record_dir=record_dir(config, chosen[0]),
            models=len(chosen),
        )
        session = LiveSession(
            settings,
            contracts=chosen,
            baseline_until=config.getoption("facedetect_baseline_until"),
            record_dir_of=lambda contracts: record_dir(config, contracts),
        )
        session.start()
    except ValueError as exc:  # cases, baseline, history files, option values, base URL, ...
        raise pytest.UsageError(str(exc)) from None
    config.stash[LIVE_SESSION] = session


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if LIVE_SESSION in config.stash:
        return
    skip = pytest.mark.skip(reason=LIVE_SKIP_REASON)
    for item in items:
        if item.get_closest_marker(LIVE_MARKER) is not None:
            item.add_marker(skip)


def _live_ids(config: pytest.Config) -> dict[str, tuple[str, ...]]:
    from ..live.plan import planned_names  # noqa: PLC0415

    session = config.stash.get(LIVE_SESSION, None)
    if session is not None:
        return session.planned_names()
    from ..contracts.cases import default_cases  # noqa: PLC0415
    from ..live.models import names_by_kind  # noqa: PLC0415
    from ..session import default  # noqa: PLC0415

    def cases_of(contracts: Contracts) -> tuple[LiveCase, ...]:
        try:
            return default_cases(contracts)
        except ValueError:
            return ()

    # Without --live the tests are skipped; the ids still show what --live would send.
    return names_by_kind(
        (
            contracts.profile.model,
            planned_names(cases_of(contracts), default("examples"), contracts=contracts),
        )
        for contracts in all_contracts_of(config)
    )


def _live_id(name: str) -> str:
    """A live test's id: its request's name without its kind (``documented-1-1``), after its
    model in a run of several (``emo-detect-v1/documented-1-1``)."""
    from ..live.models import SEPARATOR  # noqa: PLC0415

    model, separator, own = name.rpartition(SEPARATOR)
    short = own.split("-", 1)[1]
    return f"{model}{separator}{short}"


@pytest.hookimpl(trylast=True)  # after the harness's (conftest) hooks: they pair their own
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    _every_reading(metafunc)
    parametrize_models(metafunc)  # several models: a test taking the contracts, once per model
    for fixture, kind in LIVE_FIXTURES.items():
        if fixture not in metafunc.fixturenames:
            continue
        names = _live_ids(metafunc.config)[kind]
        if not names:
            none = pytest.param(None, id="none", marks=pytest.mark.skip(reason=f"no {kind}s"))
            metafunc.parametrize(fixture, [none], indirect=True)
        else:
            metafunc.parametrize(fixture, names, indirect=True, ids=[_live_id(n) for n in names])


def _every_reading(metafunc: pytest.Metafunc) -> None:
    """``facedetect_every_reading``: one run per reading (or per pairwise combination), through
    the ``facedetect_readings`` fixture every double takes. A test that takes no double is left
    alone here and fails at setup (``pytest_runtest_setup``), the marker named."""
    pairwise = every_reading_pairwise(metafunc.definition)
    if pairwise is None:
        return
    parametrize_by_model(
        metafunc,
        "facedetect_readings",
        lambda contracts: [
            (readings, name)
            for name, readings in every_reading_params(
                metafunc.definition, contracts, pairwise=pairwise
            )
        ],
        indirect=True,
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A marker of the plugin that no fixture of the test carries out fails the test: a test of
    throttling that throttles nothing is no green."""
    problems = unapplied_markers(item)
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    live: LiveSession | None = session.config.stash.get(LIVE_SESSION, None)
    if live is None:
        return
    live.finish(interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)
    # 0 only when the run checked something and found nothing breaking.
    if session.exitstatus == pytest.ExitCode.OK and live.exit_status:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    live = terminalreporter.config.stash.get(LIVE_SESSION, None)
    if live is None or live.report is None:
        return
    terminalreporter.section(live.banner)
    for line, colour in live.summary_lines():
        terminalreporter.line(line, **({colour: True} if colour else {}))
