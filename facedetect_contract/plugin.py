"""The pytest plugin: options, markers, Hypothesis profiles and fixtures; nothing else.

It translates pytest's surface into calls into the package. Registered once, by the root
``conftest.py`` (``pytest_plugins``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import respx
from hypothesis import HealthCheck, Verbosity, settings

from .cases import DEFAULT_CASES_FILE, load_cases  # live mode
from .client import FaceDetectClient, endpoint_url
from .contracts import Contracts, load_contracts
from .fake import FaceDetectFake
from .fixtures import FIXTURE_DIR
from .live import DEFAULT_QPS, LiveRun, LiveSettings, Verdict, planned_names  # live mode
from .offline import mount_fake
from .redaction import Secret  # live mode
from .report import LiveReport  # live mode

# A key that only the offline fake knows. A real DASHSCOPE_API_KEY is never sent offline.
OFFLINE_KEY = "sk-offline-fake-key-not-a-secret"
EXAMPLES_PER_PROPERTY = 200

settings.register_profile(
    "ci",
    max_examples=EXAMPLES_PER_PROPERTY,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=EXAMPLES_PER_PROPERTY,
    derandomize=False,  # explicit: Hypothesis's own CI detection would otherwise leak in
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("debug", parent=settings.get_profile("dev"), verbosity=Verbosity.verbose)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("face-detect", "face-detect contract suite")
    group.addoption(
        "--base-url",
        metavar="URL",
        default=None,
        help="API root; the endpoint path is appended. Default: $DASHSCOPE_HTTP_BASE_URL, "
        "else https://dashscope.aliyuncs.com/api/v1. A gateway prefix (/qwen/api/v1) works.",
    )
    _add_live_options(parser, group)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "live: talks to the real endpoint (or --base-url); needs --live"
    )
    # Precedence: --hypothesis-profile, then CI=true -> 'ci' (derandomized), else 'dev'.
    if config.getoption("hypothesis_profile", None) is None:
        settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "dev")
    base_url = config.getoption("base_url")
    if base_url is not None:
        try:
            endpoint_url(base_url)
        except ValueError as exc:
            raise pytest.UsageError(f"--base-url: {exc}") from None
    _configure_live(config)


@pytest.fixture(scope="session")
def contracts() -> Contracts:
    """The face-detect contracts, loaded and checked once."""
    return load_contracts()


@pytest.fixture(scope="session", params=["A", "B"], ids=["failure-shape-A", "failure-shape-B"])
def fake(request: pytest.FixtureRequest, contracts: Contracts) -> FaceDetectFake:
    """The contract-faithful fake, knowing only the offline key, in each failure shape."""
    # Both documented shapes of a failed check (API notes 8.1) until live traffic settles it.
    return FaceDetectFake(api_keys={OFFLINE_KEY}, contracts=contracts, failure_shape=request.param)


@pytest.fixture(scope="session")
def offline_client(
    pytestconfig: pytest.Config, fake: FaceDetectFake, contracts: Contracts
) -> Iterator[FaceDetectClient]:
    """A client whose transport is a respx router serving the fake; no retry waits."""
    environ = {"DASHSCOPE_API_KEY": OFFLINE_KEY}
    base_url = pytestconfig.getoption("base_url")
    router = respx.Router(assert_all_mocked=True)
    client = FaceDetectClient(
        base_url=base_url,
        environ=environ,
        transport=httpx.MockTransport(router.handler),
        sleep=lambda _seconds: None,
        contracts=contracts,
    )
    mount_fake(router, fake, client.url)
    with client:
        yield client


# --- stub server (facedetect_contract.server) -------------------------------------------------
# A key that only the stub server knows; tests check it never reaches any output.
STUB_KEY = "sk-stub-server-key-not-a-secret"


@pytest.fixture(scope="session")
def stub_server() -> Iterator[RunningServer]:
    """The stub server on 127.0.0.1 (key STUB_KEY), serving fixtures/images/ under /images/."""
    # Imported here: only tests that use the stub pay for the server and Pillow.
    from .fixtures import IMAGE_DIR  # noqa: PLC0415
    from .server import serve_in_thread  # noqa: PLC0415

    with serve_in_thread(api_keys=[STUB_KEY], images_dir=IMAGE_DIR) as running:
        yield running


if TYPE_CHECKING:
    from .server import RunningServer
# --- end of stub server -----------------------------------------------------------------------


# --- live mode (facedetect_contract.live, .report) ------------------------------------------
# Translates --live and its options into one LiveRun on config.stash; the plan, the budget, the
# judging and the report are the package's. Tests marked `live` take a verdict fixture.

LIVE_RUN = pytest.StashKey[LiveRun]()
LIVE_REPORT = pytest.StashKey[LiveReport]()
LIVE_SKIP_REASON = "live: needs --live and DASHSCOPE_API_KEY (see the README, Live mode)"
# Verdict fixture -> kind of planned request it is parametrized with.
_LIVE_FIXTURES = {"live_case": "case", "live_probe": "probe", "live_example": "example"}
# Options that only mean something with --live: given without it, they would do nothing.
_LIVE_ONLY = {
    "live_cases": "--live-cases",
    "live_examples": "--live-examples",
    "max_billed": "--max-billed",
    "live_qps": "--live-qps",
    "record": "--record",
    "drift_report": "--drift-report",
    "strict_drift": "--strict-drift",
}


def _add_live_options(parser: pytest.Parser, group: pytest.OptionGroup) -> None:
    group.addoption(
        "--live",
        action="store_true",
        help="run the tests marked 'live' against --base-url with DASHSCOPE_API_KEY",
    )
    group.addoption(
        "--live-cases",
        metavar="PATH",
        default=None,
        help="JSON list of image cases {name, image_url, ratio, expect}; "
        "default: fixtures/live-cases.json",
    )
    group.addoption(
        "--live-examples",
        metavar="N",
        type=int,
        default=None,
        help="generated invalid requests to send live (default 20)",
    )
    group.addoption(
        "--max-billed",
        metavar="N",
        type=int,
        default=None,
        help="send at most N requests that can be billed, CNY 0.004 each (default 4)",
    )
    group.addoption(
        "--live-qps",
        metavar="QPS",
        type=float,
        default=None,
        help="pace live requests under QPS per second; 0: unpaced (default 5, the documented "
        "limit)",
    )
    group.addoption(
        "--record",
        action="store_true",
        help="write each live answer replay can serve (no breaking finding, a documented "
        "result) as a fixture, redacted, to facedetect_fixture_dir",
    )
    group.addoption(
        "--drift-report",
        metavar="PATH",
        default=None,
        help="write the live findings as JSON to PATH (.json) and as Markdown beside it (.md)",
    )
    group.addoption(
        "--strict-drift",
        action="store_true",
        help="additive findings (new fields, behaviour drift) fail the live run too",
    )
    parser.addini(
        "facedetect_fixture_dir",
        "directory --record writes fixtures to and behaviour drift compares with "
        "(default: fixtures/face-detect)",
        default="",
    )


def _default_fixture_dir(config: pytest.Config) -> Path:
    """The checkout's fixtures; installed from a wheel (no such folder), the rootdir's."""
    return FIXTURE_DIR if FIXTURE_DIR.is_dir() else config.rootpath / "fixtures" / "face-detect"


def _live_settings(config: pytest.Config) -> LiveSettings:
    # Relative paths: an option's are the invocation directory's, the ini key's the ini file's
    # directory (rootdir without one), as pytest resolves its own.
    here = config.invocation_params.dir
    cases, report = config.getoption("live_cases"), config.getoption("drift_report")
    examples, max_billed = config.getoption("live_examples"), config.getoption("max_billed")
    qps = config.getoption("live_qps")
    fixture_dir = config.getini("facedetect_fixture_dir")
    ini_dir = config.inipath.parent if config.inipath is not None else config.rootpath
    return LiveSettings(
        base_url=config.getoption("base_url"),
        cases_file=here / cases if cases is not None else DEFAULT_CASES_FILE,
        examples=20 if examples is None else examples,
        max_billed=4 if max_billed is None else max_billed,
        qps=DEFAULT_QPS if qps is None else qps,
        record=config.getoption("record"),
        record_dir=ini_dir / fixture_dir if fixture_dir else _default_fixture_dir(config),
        drift_report=here / report if report is not None else None,
        strict_drift=config.getoption("strict_drift"),
    )


def _configure_live(config: pytest.Config) -> None:
    if not config.getoption("live"):
        given = [
            flag for name, flag in _LIVE_ONLY.items() if config.getoption(name) not in (None, False)
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
    if Secret.from_env() is None:
        raise pytest.UsageError(
            "--live needs DASHSCOPE_API_KEY: export it (in CI, from a secret); the suite reads "
            "the key from there only and never prints it"
        )
    try:
        settings = _live_settings(config)
        run = LiveRun(settings, load_cases(settings.cases_file))
        _ = run.recordings  # a broken fixture file is a usage error, before anything is sent
    except ValueError as exc:  # cases file, option values, base URL, fixtures, contracts
        raise pytest.UsageError(str(exc)) from None
    config.stash[LIVE_RUN] = run


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if LIVE_RUN in config.stash:
        return
    skip = pytest.mark.skip(reason=LIVE_SKIP_REASON)
    for item in items:
        if item.get_closest_marker("live") is not None:
            item.add_marker(skip)


def _live_ids(config: pytest.Config) -> dict[str, tuple[str, ...]]:
    run = config.stash.get(LIVE_RUN, None)
    if run is not None:
        return planned_names(run.cases, run.settings.examples)
    try:  # without --live the tests are skipped; the ids still show what --live would send
        cases = load_cases(DEFAULT_CASES_FILE)
    except ValueError:
        cases = ()
    return planned_names(cases, 20)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for fixture, kind in _LIVE_FIXTURES.items():
        if fixture not in metafunc.fixturenames:
            continue
        names = _live_ids(metafunc.config)[kind]
        if not names:
            none = pytest.param(None, id="none", marks=pytest.mark.skip(reason=f"no {kind}s"))
            metafunc.parametrize(fixture, [none], indirect=True)
        else:
            ids = [name.split("-", 1)[1] for name in names]
            metafunc.parametrize(fixture, names, indirect=True, ids=ids)


@pytest.fixture(scope="session")
def live_run(request: pytest.FixtureRequest) -> LiveRun:
    """The live run: every selected live request, sent once, concurrently, within the budget."""
    run = request.config.stash.get(LIVE_RUN, None)
    if run is None:
        pytest.skip(LIVE_SKIP_REASON)
    # Only the selected tests' requests are sent (-k, deselection), all at once.
    params = [getattr(item, "callspec", None) for item in request.session.items]
    selected = [
        callspec.params[fixture]
        for callspec in params
        if callspec is not None
        for fixture in _LIVE_FIXTURES
        if callspec.params.get(fixture) is not None
    ]
    run.execute(selected)
    return run


def _live_verdict(run: LiveRun, name: str | None) -> Verdict:
    if name is None:
        pytest.skip("nothing planned")
    verdict = run.verdict(name)
    if verdict.status == "not-sent":
        pytest.skip(verdict.reason)
    if verdict.status != "judged":  # unreachable, throttled, failing: an error of the run
        pytest.fail(verdict.reason, pytrace=False)
    return verdict


@pytest.fixture
def live_case(request: pytest.FixtureRequest, live_run: LiveRun) -> Verdict:
    """The verdict on one live case: contracts, checks, its expect, behaviour drift."""
    return _live_verdict(live_run, request.param)


@pytest.fixture
def live_probe(request: pytest.FixtureRequest, live_run: LiveRun) -> Verdict:
    """The verdict on one free negative probe (a request the docs say is rejected)."""
    return _live_verdict(live_run, request.param)


@pytest.fixture
def live_example(request: pytest.FixtureRequest, live_run: LiveRun) -> Verdict:
    """The verdict on one generated invalid request."""
    return _live_verdict(live_run, request.param)


def pytest_sessionfinish(session: pytest.Session) -> None:
    run = session.config.stash.get(LIVE_RUN, None)
    if run is None:
        return
    report = LiveReport.from_run(run)
    run.close()
    session.config.stash[LIVE_REPORT] = report
    if run.settings.drift_report is not None:
        try:
            report.write(run.settings.drift_report, [Secret.from_env()])
        except OSError as exc:
            run.errors.append(f"--drift-report {run.settings.drift_report}: {exc.strerror}")
            session.config.stash[LIVE_REPORT] = report = LiveReport.from_run(run)
    # 0 only when nothing breaking was found; the tests fail on it, this covers the rest.
    if session.exitstatus == pytest.ExitCode.OK and report.exit_status:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    report = terminalreporter.config.stash.get(LIVE_REPORT, None)
    if report is None:
        return
    run = terminalreporter.config.stash[LIVE_RUN]
    terminalreporter.section("face-detect live mode")
    for line, colour in report.summary_lines():
        terminalreporter.line(run.redact(line), **({colour: True} if colour else {}))
    if run.settings.drift_report is not None:
        markdown = run.settings.drift_report.with_suffix(".md")
        terminalreporter.line(f"drift report: {run.settings.drift_report} (and {markdown.name})")


# --- end of live mode -----------------------------------------------------------------------
