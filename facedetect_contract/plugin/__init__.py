"""The pytest plugin: options, markers and fixtures, all namespaced. Inert until asked.

It translates pytest's surface into calls into the package. Installed, it is loaded through the
``pytest11`` entry point, and it changes nothing in a project's own tests: it loads no Hypothesis
profile, its markers and fixtures carry the ``facedetect_`` prefix, its base-URL option is
``--dashscope-base-url`` (so it lives beside pytest-base-url's ``--base-url``), and its live
machinery starts only with ``--live``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import inspect
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..core import inert
from ..core.data import PACKAGE_DIR

if TYPE_CHECKING:
    import respx

    from ..client import FaceDetectClient
    from ..contracts.loader import Contracts
    from ..doubles.fake import FaceDetectFake
    from ..doubles.server import RunningServer
    from ..live.judging import Verdict
    from ..live.run import LiveRun, LiveSettings

TEST_KEY = "sk-facedetect-test-key-not-a-secret"
"""The key the ``facedetect_fake`` and ``facedetect_stub`` fixtures accept (no real key is)."""

LIVE_MARKER = "facedetect_live"
LIVE_SKIP_REASON = "facedetect live: needs --live and DASHSCOPE_API_KEY (see the README, Live mode)"
LIVE_RUN = pytest.StashKey["LiveRun"]()
LIVE_REPORT = pytest.StashKey[Any]()  # the run's LiveReport, once written
_LOGGING = pytest.StashKey[Any]()
# Verdict fixture -> kind of planned request it is parametrized with.
_LIVE_FIXTURES = {
    "facedetect_live_case": "case",
    "facedetect_live_probe": "probe",
    "facedetect_live_example": "example",
}
# Options that only mean something with --live: given without it, they would do nothing.
_LIVE_ONLY = {
    "facedetect_live_cases": "--live-cases",
    "facedetect_live_examples": "--live-examples",
    "facedetect_max_billed": "--max-billed",
    "facedetect_live_qps": "--live-qps",
    "facedetect_live_timeout": "--live-timeout",
    "facedetect_live_deadline": "--live-deadline",
    "facedetect_live_repeat": "--live-repeat-cases",
    "facedetect_record": "--record",
    "facedetect_reports": "--drift-report",
    "facedetect_strict_drift": "--strict-drift",
    "facedetect_baseline": "--baseline",
    "facedetect_update_baseline": "--update-baseline",
    "facedetect_baseline_until": "--baseline-until",
    "facedetect_history": "--history",
}
_BASELINE = pytest.StashKey[Any]()  # the run's Baseline, when --baseline is given
_HISTORY = pytest.StashKey[Any]()  # the history's records before this run
_BASELINE_UNTIL = pytest.StashKey[Any]()  # --baseline-until's date, read before anything is sent
_BASELINE_UPDATE = pytest.StashKey[Any]()  # what --update-baseline wrote, for the summary


def _default(name: str) -> Any:
    """An option's default, declared once: the field of ``LiveSettings``."""
    from ..live.run import LiveSettings  # noqa: PLC0415  # heavy: only when --help or --live asks

    return next(f.default for f in fields(LiveSettings) if f.name == name)


def pytest_addoption(parser: pytest.Parser) -> None:
    from ..contracts.profile import profile_data  # noqa: PLC0415  # the raw JSON: no validators at start-up

    names = profile_data()
    group = parser.getgroup("face-detect", "face-detect contract suite (facedetect-contract)")
    group.addoption(
        "--dashscope-base-url",
        dest="facedetect_base_url",
        metavar="URL",
        default=None,
        help="API root of the face-detect endpoint; the endpoint path is appended. Default: "
        f"${names['base_url_env']}, else {names['default_base_url']}. A gateway "
        "prefix (/qwen/api/v1) works.",
    )
    group.addoption(
        "--live",
        dest="facedetect_live",
        action="store_true",
        help=f"run the tests marked {LIVE_MARKER} against --dashscope-base-url with "
        f"{names['api_key_env']}",
    )
    group.addoption(
        "--live-cases",
        dest="facedetect_live_cases",
        metavar="PATH",
        default=None,
        help=f"JSON list of image cases {{name, {names['image_field']}, {names['ratio_field']}, "
        "expect}; default: "
        "the packaged live-cases.json (the documented image at both ratios)",
    )
    group.addoption(
        "--live-examples",
        dest="facedetect_live_examples",
        metavar="N",
        type=int,
        default=None,
        help=f"generated invalid requests to send live (default {_default('examples')})",
    )
    group.addoption(
        "--max-billed",
        dest="facedetect_max_billed",
        metavar="N",
        type=int,
        default=None,
        help=f"send at most N attempts that can be billed (default {_default('max_billed')})",
    )
    group.addoption(
        "--live-qps",
        dest="facedetect_live_qps",
        metavar="QPS",
        type=float,
        default=None,
        help="pace live requests under QPS per second; 0: unpaced (default: the documented "
        "rate limit)",
    )
    group.addoption(
        "--live-timeout",
        dest="facedetect_live_timeout",
        metavar="SECONDS",
        type=float,
        default=None,
        help="each attempt's deadline, connection and whole answer "
        f"(default {_default('timeout'):g})",
    )
    group.addoption(
        "--live-deadline",
        dest="facedetect_live_deadline",
        metavar="SECONDS",
        type=float,
        default=None,
        help=f"the whole run's deadline (default {_default('deadline'):g}); what is not "
        "answered by then is an error of the run",
    )
    group.addoption(
        "--live-repeat-cases",
        dest="facedetect_live_repeat",
        action="store_true",
        help="send every case twice and check both answers agree (costs one image per case)",
    )
    group.addoption(
        "--record",
        dest="facedetect_record",
        action="store_true",
        help="write each live answer replay can serve as a redacted fixture to the record dir",
    )
    group.addoption(
        "--record-dir",
        dest="facedetect_record_dir",
        metavar="DIR",
        default=None,
        help="your recordings: --record writes them here, replay serves them beside the "
        "packaged fixtures, behaviour drift compares with them (default: the ini key "
        "facedetect_fixture_dir, else fixtures/face-detect of the checkout or of the current "
        "folder)",
    )
    group.addoption(
        "--drift-report",
        dest="facedetect_reports",
        metavar="PATH",
        action="append",
        default=None,
        help="write the live report to PATH in the format its suffix names (.json, .md, "
        ".html); give it once per format",
    )
    group.addoption(
        "--strict-drift",
        dest="facedetect_strict_drift",
        action="store_true",
        help="additive findings (new fields, behaviour drift) fail the live run too",
    )
    group.addoption(
        "--baseline",
        dest="facedetect_baseline",
        metavar="FILE",
        default=None,
        help="acknowledged findings: matching ones are reported, and do not fail the run",
    )
    group.addoption(
        "--update-baseline",
        dest="facedetect_update_baseline",
        action="store_true",
        help="write this run's findings into --baseline FILE (keeping reasons), atomically",
    )
    from ..live.baseline import DEFAULT_UNTIL_DAYS  # noqa: PLC0415  # _default has imported it

    group.addoption(
        "--baseline-until",
        dest="facedetect_baseline_until",
        metavar="DATE",
        default=None,
        help="until when the entries --update-baseline adds are acknowledged: YYYY-MM-DD, or "
        f"a number of days such as 90d (default {DEFAULT_UNTIL_DAYS}d after today, UTC)",
    )
    group.addoption(
        "--history",
        dest="facedetect_history",
        metavar="FILE",
        default=None,
        help="append this run to a JSON-lines history (facedetect-contract history FILE "
        "summarises it)",
    )
    parser.addini(
        "facedetect_fixture_dir",
        "directory --record writes fixtures to and behaviour drift compares with",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{LIVE_MARKER}: talks to the face-detect endpoint (or --dashscope-base-url); needs --live",
    )
    config.addinivalue_line(
        "markers",
        "facedetect_fake(**kwargs): options of the facedetect_fake fixture "
        "(FaceDetectFake's keyword arguments, such as failure_shape='B')",
    )
    base_url = config.getoption("facedetect_base_url")
    if base_url is not None:
        from ..client import endpoint_url  # noqa: PLC0415

        try:
            endpoint_url(base_url)
        except ValueError as exc:
            raise pytest.UsageError(f"--dashscope-base-url: {exc}") from None
    _configure_live(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    uninstall = config.stash.get(_LOGGING, None)
    if uninstall is not None:
        uninstall()


# --- fixtures for any project -------------------------------------------------------------------


@pytest.fixture(scope="session")
def facedetect_contracts() -> Contracts:
    """The face-detect contracts (schemas, error table, endpoint profile), loaded once."""
    from ..contracts.loader import load_contracts  # noqa: PLC0415

    return load_contracts()


@pytest.fixture
def facedetect_api_key() -> str:
    """The key the fake and the stub server accept (``TEST_KEY``); never a real key."""
    return TEST_KEY


@pytest.fixture
def facedetect_fake(
    request: pytest.FixtureRequest, facedetect_contracts: Contracts
) -> FaceDetectFake:
    """The contract-faithful fake, accepting ``TEST_KEY``; options from the
    ``facedetect_fake`` marker (``@pytest.mark.facedetect_fake(failure_shape="B")``)."""
    from ..doubles.fake import FaceDetectFake  # noqa: PLC0415

    marker = request.node.get_closest_marker("facedetect_fake")
    options = dict(marker.kwargs) if marker is not None else {}
    if marker is not None and marker.args:
        raise pytest.UsageError("@pytest.mark.facedetect_fake takes keyword arguments only")
    allowed = set(inspect.signature(FaceDetectFake).parameters) - {"contracts"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.facedetect_fake: unknown option(s) {unknown}; known: {sorted(allowed)}"
        )
    options.setdefault("api_keys", [TEST_KEY])
    try:
        return FaceDetectFake(contracts=facedetect_contracts, **options)
    except ValueError as exc:
        raise pytest.UsageError(f"@pytest.mark.facedetect_fake: {exc}") from None


@pytest.fixture
def facedetect_mock(
    facedetect_fake: FaceDetectFake, facedetect_contracts: Contracts
) -> Iterator[respx.MockRouter]:
    """respx mocking every httpx request to the endpoint path (on any host) with the fake.

    Other httpx traffic is not mocked (``assert_all_mocked=False``)."""
    import respx  # noqa: PLC0415

    from ..doubles.offline import fake_handler  # noqa: PLC0415

    path = facedetect_contracts.profile.path
    with respx.mock(assert_all_called=False, assert_all_mocked=False) as router:
        router.route(path__regex=f"{path}$").mock(side_effect=fake_handler(facedetect_fake))
        yield router


@pytest.fixture
def facedetect_client(
    pytestconfig: pytest.Config, facedetect_fake: FaceDetectFake, facedetect_contracts: Contracts
) -> Iterator[FaceDetectClient]:
    """A ``FaceDetectClient`` whose transport serves the fake in-process; no retry waits."""
    from ..doubles.offline import client_on_fake  # noqa: PLC0415

    base_url = pytestconfig.getoption("facedetect_base_url")
    with client_on_fake(facedetect_fake, facedetect_contracts, TEST_KEY, base_url) as client:
        yield client


@pytest.fixture(scope="session")
def facedetect_stub() -> Iterator[RunningServer]:
    """The stub server on 127.0.0.1 (key ``TEST_KEY``), serving the packaged images under
    ``/images/`` (``facedetect_stub.image_url("portrait.png")``)."""
    # Imported here: only tests that use the stub pay for the server and Pillow.
    from ..contracts.fixtures import IMAGE_DIR  # noqa: PLC0415
    from ..doubles.server import serve_in_thread  # noqa: PLC0415

    with serve_in_thread(api_keys=[TEST_KEY], images_dir=IMAGE_DIR) as running:
        yield running


# --- live mode (facedetect_contract.live.run, .report) ------------------------------------------
# Translates --live and its options into one LiveRun on config.stash; the plan, the budget, the
# judging and the report are the package's. Tests marked facedetect_live take a verdict fixture.


def record_dir(config: pytest.Config) -> Path:
    """Where this run's recordings are (``--record-dir``, the ini key, or the default)."""
    return _record_dir(config)


def _record_dir(config: pytest.Config) -> Path:
    # Precedence: --record-dir (relative to the invocation folder), then the ini key (relative
    # to the ini file's folder), then the checkout's fixtures, else the invocation folder's.
    from ..contracts.fixtures import FIXTURE_DIR  # noqa: PLC0415

    here = config.invocation_params.dir
    option = config.getoption("facedetect_record_dir")
    if option:
        return here / str(option)
    ini = config.getini("facedetect_fixture_dir")
    if ini:
        base = config.inipath.parent if config.inipath is not None else config.rootpath
        return Path(base) / str(ini)
    checkout = PACKAGE_DIR.parent / "facedetect_contract"
    return FIXTURE_DIR if checkout.is_dir() else here / "fixtures" / "face-detect"


def _live_settings(config: pytest.Config) -> LiveSettings:
    from ..contracts.cases import DEFAULT_CASES_FILE  # noqa: PLC0415
    from ..live.run import LiveSettings  # noqa: PLC0415

    # Relative paths are the invocation folder's, as pytest resolves its own options'.
    here = config.invocation_params.dir

    def option(name: str, default: str) -> Any:
        value = config.getoption(name)
        return _default(default) if value is None else value

    cases = config.getoption("facedetect_live_cases")
    baseline, history = (
        config.getoption("facedetect_baseline"),
        config.getoption("facedetect_history"),
    )
    return LiveSettings(
        base_url=config.getoption("facedetect_base_url"),
        cases_file=here / cases if cases is not None else DEFAULT_CASES_FILE,
        examples=option("facedetect_live_examples", "examples"),
        max_billed=option("facedetect_max_billed", "max_billed"),
        qps=config.getoption("facedetect_live_qps"),
        timeout=option("facedetect_live_timeout", "timeout"),
        deadline=option("facedetect_live_deadline", "deadline"),
        repeat_cases=config.getoption("facedetect_live_repeat"),
        record=config.getoption("facedetect_record"),
        record_dir=_record_dir(config),
        reports=tuple(here / p for p in config.getoption("facedetect_reports") or ()),
        strict_drift=config.getoption("facedetect_strict_drift"),
        baseline=here / baseline if baseline else None,
        update_baseline=config.getoption("facedetect_update_baseline"),
        history=here / history if history else None,
    )


def _configure_live(config: pytest.Config) -> None:
    if not config.getoption("facedetect_live"):
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
    from ..contracts.cases import load_cases  # noqa: PLC0415
    from ..contracts.loader import ContractFileError, load_contracts  # noqa: PLC0415
    from ..core.redaction import Secret, redact_log_records  # noqa: PLC0415
    from ..live.baseline import load_baseline, parse_until  # noqa: PLC0415
    from ..live.run import LiveRun  # noqa: PLC0415
    from ..report.history import load_history  # noqa: PLC0415
    from ..report.paths import check_outputs  # noqa: PLC0415

    try:
        contracts = load_contracts()
        key_env = contracts.profile.api_key_env
        secret = Secret.from_env(name=key_env)
    except (ContractFileError, ValueError) as exc:
        raise pytest.UsageError(str(exc)) from None
    if secret is None:
        raise pytest.UsageError(
            f"--live needs {key_env}: export it (in CI, from a secret); the suite reads the key "
            f"from there only and never prints it"
        )
    from ..contracts.loader import api_vocabulary  # noqa: PLC0415
    from ..core.redaction import key_problem  # noqa: PLC0415

    problem = key_problem(secret, api_vocabulary(contracts))
    if problem is not None:  # redacting it would erase the API's own words from the reports
        raise pytest.UsageError(f"{key_env}: {problem}")
    config.stash[_LOGGING] = redact_log_records([secret])
    try:
        settings = _live_settings(config)
        check_outputs(settings)
        until = config.getoption("facedetect_baseline_until")
        if until is not None:
            if not settings.update_baseline:
                raise ValueError(
                    "--baseline-until dates the entries --update-baseline adds; add "
                    "--update-baseline or drop it"
                )
            config.stash[_BASELINE_UNTIL] = parse_until(until)
        run = LiveRun(settings, load_cases(settings.cases_file, contracts), contracts=contracts)
        if run.url.startswith("https:"):  # a bad SSL_CERT_FILE stops the run before it sends
            from ..core.transport import ssl_context  # noqa: PLC0415

            ssl_context()
        _ = run.recordings  # a broken fixture file is a usage error, before anything is sent
        if settings.baseline is not None:
            run.baseline = config.stash[_BASELINE] = load_baseline(
                settings.baseline, missing_ok=settings.update_baseline
            )
        if settings.history is not None:
            config.stash[_HISTORY] = load_history(settings.history)
    except ValueError as exc:  # cases, baseline, history files, option values, base URL, ...
        raise pytest.UsageError(str(exc)) from None
    config.stash[LIVE_RUN] = run
    _write_unfinished(run)


def _write_unfinished(run: LiveRun) -> None:
    """Replace last run's reports at once by ones that say this run has not finished: a run
    killed before its end (a crash, a CI timeout) leaves no report saying "passed"."""
    if not run.settings.reports:
        return
    from ..report import LiveReport, write_reports  # noqa: PLC0415

    unfinished = dataclasses.replace(
        LiveReport.from_run(run, observe_questions=False), interrupted=True
    )
    try:
        write_reports(unfinished, run.settings.reports, run.redactor)
    except OSError as exc:
        raise pytest.UsageError(
            f"--drift-report: cannot write {exc.filename} ({exc.strerror}); give a path this "
            "run may write"
        ) from None
    except Exception:  # a renderer's fault: the end of the run says so; nothing says "passed"
        _write_each(unfinished, run)


def _write_each(report: Any, run: LiveRun) -> None:
    """Each report that can be written; an earlier one of ours that cannot is removed."""
    from ..report import looks_like_report, write_reports  # noqa: PLC0415

    for path in run.settings.reports:
        try:
            write_reports(report, [path], run.redactor)
        except Exception:  # the next path may still be written
            with contextlib.suppress(OSError):
                if looks_like_report(path):
                    path.unlink()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if LIVE_RUN in config.stash:
        return
    skip = pytest.mark.skip(reason=LIVE_SKIP_REASON)
    for item in items:
        if item.get_closest_marker(LIVE_MARKER) is not None:
            item.add_marker(skip)


def _live_ids(config: pytest.Config) -> dict[str, tuple[str, ...]]:
    from ..live.plan import planned_names  # noqa: PLC0415

    run = config.stash.get(LIVE_RUN, None)
    if run is not None:
        return planned_names(run.cases, run.settings.examples, repeat=run.settings.repeat_cases)
    from ..contracts.cases import DEFAULT_CASES_FILE, load_cases  # noqa: PLC0415

    try:  # without --live the tests are skipped; the ids still show what --live would send
        cases = load_cases(DEFAULT_CASES_FILE)
    except ValueError:
        cases = ()
    return planned_names(cases, _default("examples"))


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
def facedetect_live_run(request: pytest.FixtureRequest) -> LiveRun:
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
    # What start-up built lives to the end of the process: frozen, the collector need not walk
    # it again during the run, at pytest's unconfigure and at exit (a sixth of a second of every
    # live run). Garbage made from here on is collected as ever; start-up's few cycles stay.
    gc.freeze()
    run.execute(selected)
    return run


def _live_verdict(run: LiveRun, name: str | None) -> Verdict:
    if name is None:
        pytest.skip("nothing planned")
    verdict = run.verdict(name)
    # The reason may quote the endpoint (a code, a message): shown escaped in the terminal and
    # in JUnit XML, which cannot carry most control characters.
    if verdict.status == "not-sent":
        pytest.skip(inert.terminal(verdict.reason))
    if verdict.status != "judged":  # unreachable, throttled, failing, ...: an error of the run
        pytest.fail(inert.terminal(verdict.reason), pytrace=False)
    return verdict


@pytest.fixture
def facedetect_live_case(request: pytest.FixtureRequest, facedetect_live_run: LiveRun) -> Verdict:
    """The verdict on one live case: contracts, checks, its expect, behaviour drift."""
    return _live_verdict(facedetect_live_run, request.param)


@pytest.fixture
def facedetect_live_probe(request: pytest.FixtureRequest, facedetect_live_run: LiveRun) -> Verdict:
    """The verdict on one free negative probe (a request the docs say is rejected)."""
    return _live_verdict(facedetect_live_run, request.param)


@pytest.fixture
def facedetect_live_example(
    request: pytest.FixtureRequest, facedetect_live_run: LiveRun
) -> Verdict:
    """The verdict on one generated invalid request."""
    return _live_verdict(facedetect_live_run, request.param)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run = session.config.stash.get(LIVE_RUN, None)
    if run is None:
        return
    from ..contracts.fixtures import write_atomically  # noqa: PLC0415
    from ..report import LiveReport, render_reports  # noqa: PLC0415
    from ..report.history import append, record_of  # noqa: PLC0415

    if exitstatus == pytest.ExitCode.INTERRUPTED:
        run.interrupted = True
    baseline = session.config.stash.get(_BASELINE, None)
    history: list[dict[str, Any]] = session.config.stash.get(_HISTORY, [])
    settings = run.settings
    images = 0.0
    if any(path.suffix.lower() == ".html" for path in settings.reports):
        # The page must stand alone: the cases' images are fetched now, while their host still
        # answers, within what is left of the run's deadline (never past it).
        from ..report.thumbnails import TOTAL_BUDGET  # noqa: PLC0415

        images = min(TOTAL_BUDGET, run.seconds_left())
    try:
        report = LiveReport.from_run(run, baseline=baseline, history=history, images=images)
    except Exception as exc:  # a fault of the suite: an error of the run, never "passed"
        run.errors.append(run.redact(f"the report could not be made ({_why(exc)})"))
        report = _plainest_report(run)
    run.close()

    def tonight(report: LiveReport) -> LiveReport:
        # The report shows the trend with tonight's line, made from the report itself.
        if settings.history is None:
            return report
        return dataclasses.replace(
            report, history=(*history, record_of(report.redacted(run.redactor)))
        )

    # Order: every report rendered, then written (each atomically), then the baseline, and the
    # history line last, so it carries the outcome the reports and the exit status carry.
    try:
        report = tonight(report)
        for path, text in render_reports(report, settings.reports, run.redactor):
            write_atomically(path, text)
        if baseline is not None and settings.update_baseline:
            update = baseline.updated(
                report.redacted(run.redactor).findings,
                until=session.config.stash.get(_BASELINE_UNTIL, None),
            )
            update.write()
            session.config.stash[_BASELINE_UPDATE] = update  # written: the summary may say so
    except Exception as exc:  # a disk's or a renderer's fault: an error of the run
        run.errors.append(run.redact(f"writing the results failed: {_why(exc)}"))
        report = dataclasses.replace(report, errors=tuple(run.all_errors))
        with contextlib.suppress(Exception):  # the trend is the least of it
            report = tonight(report)
        _write_each(report, run)  # each report that can still be written says so
    if settings.history is not None:
        try:
            append(settings.history, record_of(report.redacted(run.redactor)))
        except Exception as exc:  # the reports must say the night is missing from the history
            run.errors.append(run.redact(f"writing the history failed: {_why(exc)}"))
            report = dataclasses.replace(report, errors=tuple(run.all_errors))
            _write_each(report, run)
    session.config.stash[LIVE_REPORT] = report
    # 0 only when the run checked something and found nothing breaking.
    if session.exitstatus == pytest.ExitCode.OK and report.exit_status:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _plainest_report(run: LiveRun) -> Any:
    """The report of a run whose full report could not be made: its errors, without the
    questions; failing that, its errors alone (an "error" outcome either way)."""
    from datetime import UTC, datetime  # noqa: PLC0415

    from ..report import LiveReport  # noqa: PLC0415

    try:
        return LiveReport.from_run(run, observe_questions=False)
    except Exception as exc:
        run.errors.append(run.redact(f"the report could not be made either ({_why(exc)})"))
        return LiveReport(
            endpoint=run.url,
            generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
            strict_drift=run.settings.strict_drift,
            findings=(),
            errors=tuple(run.all_errors),
            spend=run.spend,
            observations=(),
            requests=(),
            recorded=(),
            interrupted=run.interrupted,
        )


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror} ({exc.filename})"
    return f"{type(exc).__name__}: {exc}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    report = terminalreporter.config.stash.get(LIVE_REPORT, None)
    if report is None:
        return
    run = terminalreporter.config.stash[LIVE_RUN]
    terminalreporter.section("face-detect live mode")
    try:
        for line, colour in report.summary_lines():
            # Redacted, then shown escaped: the endpoint's text cannot move the cursor, clear
            # the screen, write the clipboard or forge a line of pytest's own.
            terminalreporter.line(
                inert.terminal(run.redact(line)), **({colour: True} if colour else {})
            )
        written = [path for path in run.settings.reports if path.exists()]
        if written:
            shown = ", ".join(inert.terminal(path) for path in written)
            terminalreporter.line(f"drift report: {shown}")
        update = terminalreporter.config.stash.get(_BASELINE_UPDATE, None)
        if update is not None:
            for line in update.summary_lines():
                terminalreporter.line(inert.terminal(run.redact(line)))
    except Exception as exc:  # the summary must not hide the outcome behind a traceback
        terminalreporter.line(
            f"outcome: {report.outcome} (the summary failed: {type(exc).__name__}; the reports "
            "say the rest)",
            red=True,
        )
