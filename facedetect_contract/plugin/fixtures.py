"""The plugin's fixtures, all ``facedetect_``-prefixed: the contracts, the readings in force,
the fake (in-process, through respx, through the client), the stub server (shared, or one per
test when its markers ask), recordings replayed, and the live session's verdicts.

The markers (``markers.py``) are read here: ``facedetect_readings`` and the every-reading
parametrization through the ``facedetect_readings`` fixture, which every double takes;
``facedetect_faults`` by the mock, the client and the stub; ``facedetect_replay`` by the
replay. A stub shared by the session cannot play a test's readings or faults, so a test with
any gets a stub of its own."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from ..core import inert
from ..core.violations import ABSENT
from .markers import (
    LIVE_SKIP_REASON,
    READINGS_MARKER,
    REPLAY_MARKER,
    fake_options,
    marker_faults,
    marker_readings,
    mock_options,
    replay_folder,
)

if TYPE_CHECKING:
    import httpx
    import respx

    from ..client import FaceDetectClient
    from ..contracts.loader import Contracts
    from ..doubles.fake import FaceDetectFake
    from ..doubles.server import RunningServer, StubOptions
    from ..live.judging import Verdict
    from ..live.models import ModelsRun
    from ..live.run import LiveRun
    from ..session import LiveSession  # noqa: F401  # named in LIVE_SESSION's string

__all__ = [
    "LIVE_FIXTURES",
    "LIVE_SESSION",
    "STUB_ORIGINS",
    "TEST_KEY",
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
]

TEST_KEY = "sk-facedetect-test-key-not-a-secret"
"""The key the ``facedetect_fake`` and ``facedetect_stub`` fixtures accept (no real key is)."""

LIVE_SESSION = pytest.StashKey["LiveSession"]()
# (scheme, host, port) of each running facedetect_stub: facedetect_mock leaves them alone.
STUB_ORIGINS = pytest.StashKey[set[tuple[str, str, int | None]]]()
# Verdict fixture -> kind of planned request it is parametrized with.
LIVE_FIXTURES = {
    "facedetect_live_case": "case",
    "facedetect_live_probe": "probe",
    "facedetect_live_example": "example",
}
# The facedetect_fake marker's options a stub carries out (StubOptions' names for them).
_STUB_TAKES = ("api_keys", "images", "failure_shape")


def _fail(text: str) -> None:
    pytest.fail(text, pytrace=False)


# --- fixtures for any project -------------------------------------------------------------------


@pytest.fixture(scope="session")
def facedetect_contracts(request: pytest.FixtureRequest) -> Contracts:
    """The contracts of the run (schemas, error table, endpoint profile), loaded once: the folder
    ``--contracts`` or the ini key ``facedetect_contracts`` names, else the packaged ones. In a
    run of several models (``--model`` given more than once), each model's in turn: a test that
    takes them runs once per model."""
    from .options import contracts_of  # noqa: PLC0415

    chosen: Contracts | None = getattr(request, "param", None)
    return chosen if chosen is not None else contracts_of(request.config)


@pytest.fixture
def facedetect_api_key() -> str:
    """The key the fake and the stub server accept (``TEST_KEY``); never a real key."""
    return TEST_KEY


@pytest.fixture
def facedetect_readings(
    request: pytest.FixtureRequest, facedetect_contracts: Contracts
) -> Mapping[str, str]:
    """The reading of every open question the doubles play in this test (question -> reading):
    the ``facedetect_readings`` marker's, this run's of ``facedetect_every_reading``, the
    ``facedetect_fake`` marker's ``readings`` and ``failure_shape``, else the defaults."""
    from ..doubles.fake import FaceDetectFake  # noqa: PLC0415

    chosen = dict(getattr(request, "param", None) or {})  # the every-reading run's
    chosen.update(marker_readings(request.node, facedetect_contracts))
    options = fake_options(request)
    for question, reading in dict(options.get("readings") or {}).items():
        if chosen.get(question, reading) != reading:
            _fail(
                f"@pytest.mark.facedetect_fake(readings=...) plays {question}={reading}, "
                f"@pytest.mark.{READINGS_MARKER} {question}={chosen[question]}: give one"
            )
        chosen[question] = reading
    try:  # the fake says which readings it plays: the shorthand failure_shape included
        played = FaceDetectFake(
            api_keys=(),
            contracts=facedetect_contracts,
            readings=chosen,
            failure_shape=options.get("failure_shape"),
        ).readings
    except ValueError as exc:
        _fail(f"@pytest.mark.facedetect_fake and @pytest.mark.{READINGS_MARKER}: {exc}")
    return played


@pytest.fixture
def facedetect_fake(
    request: pytest.FixtureRequest,
    facedetect_contracts: Contracts,
    facedetect_readings: Mapping[str, str],
) -> FaceDetectFake:
    """The contract-faithful fake, accepting ``TEST_KEY``; options from the
    ``facedetect_fake`` marker (``@pytest.mark.facedetect_fake(failure_shape="B")``), readings
    from ``facedetect_readings``."""
    from ..doubles.fake import FaceDetectFake  # noqa: PLC0415

    options = fake_options(request)
    options.setdefault("api_keys", [TEST_KEY])
    options["readings"] = dict(facedetect_readings)
    try:
        return FaceDetectFake(contracts=facedetect_contracts, **options)
    except ValueError as exc:
        raise pytest.UsageError(f"@pytest.mark.facedetect_fake: {exc}") from None


def _stub_origins(config: pytest.Config) -> Callable[[httpx.URL], bool]:
    def left_alone(url: httpx.URL) -> bool:
        # Read at each request: a stub started after the mock counts too.
        return (url.scheme, url.host, url.port) in config.stash.get(STUB_ORIGINS, set())

    return left_alone


@pytest.fixture
def facedetect_mock(
    request: pytest.FixtureRequest,
    facedetect_fake: FaceDetectFake,
    facedetect_contracts: Contracts,
) -> Iterator[respx.MockRouter]:
    """respx answering every httpx request to the endpoint's path (on any host) with the fake,
    with the ``facedetect_faults`` marker's faults.

    Every other request goes on untouched: to your own respx routes, else the network.
    ``@pytest.mark.facedetect_mock(strict=True)`` fails it instead, naming it."""
    from ..doubles.offline import mock_endpoint  # noqa: PLC0415

    strict = mock_options(request).get("strict", False)
    faults = marker_faults(request.node, facedetect_contracts)
    failed_before = request.session.testsfailed
    with mock_endpoint(
        facedetect_fake,
        facedetect_contracts,
        strict=strict,
        left_alone=_stub_origins(request.config),
        faults=faults,
    ) as mocked:
        yield mocked.router
    # The error was raised where the request was sent; code that swallowed it must not turn
    # the test green. A test that failed already has its report.
    if mocked.unrouted and request.session.testsfailed == failed_before:
        pytest.fail(
            "facedetect_mock(strict=True): unrouted request(s), their errors swallowed: "
            + ", ".join(mocked.unrouted),
            pytrace=False,
        )


@pytest.fixture
def facedetect_client(
    request: pytest.FixtureRequest,
    pytestconfig: pytest.Config,
    facedetect_fake: FaceDetectFake,
    facedetect_contracts: Contracts,
) -> Iterator[FaceDetectClient]:
    """A ``FaceDetectClient`` whose transport serves the fake in-process, with the
    ``facedetect_faults`` marker's faults; no retry waits."""
    from ..doubles.offline import client_on_fake  # noqa: PLC0415

    base_url = pytestconfig.getoption("facedetect_base_url")
    faults = marker_faults(request.node, facedetect_contracts)
    with client_on_fake(
        facedetect_fake, facedetect_contracts, TEST_KEY, base_url, faults
    ) as client:
        yield client


@contextlib.contextmanager
def _serving(config: pytest.Config, options: StubOptions) -> Iterator[RunningServer]:
    """A stub started with ``options``, its origin known to ``facedetect_mock`` while it runs."""
    import httpx  # noqa: PLC0415

    from ..doubles.server import serve_in_thread  # noqa: PLC0415

    with serve_in_thread(options) as running:
        # Its own image downloads and a test's requests to it reach it, never the fake.
        url = httpx.URL(running.url)
        origin = (url.scheme, url.host, url.port)
        origins = config.stash.setdefault(STUB_ORIGINS, set())
        origins.add(origin)
        try:
            yield running
        finally:
            origins.discard(origin)


def _stub_defaults(contracts: Contracts) -> StubOptions:
    from ..contracts.fixtures import IMAGE_DIR  # noqa: PLC0415
    from ..doubles.server import StubOptions  # noqa: PLC0415

    return StubOptions(api_keys=[TEST_KEY], images_dir=IMAGE_DIR, contracts=contracts)


@pytest.fixture(scope="session")
def facedetect_session_stub(
    pytestconfig: pytest.Config, facedetect_contracts: Contracts
) -> Iterator[RunningServer]:
    """One stub server for the whole session, at the defaults: what ``facedetect_stub`` is in a
    test without readings or faults (and what a session-scoped fixture of yours can take)."""
    with _serving(pytestconfig, _stub_defaults(facedetect_contracts)) as running:
        yield running


@pytest.fixture
def facedetect_stub(
    request: pytest.FixtureRequest,
    facedetect_contracts: Contracts,
    facedetect_readings: Mapping[str, str],
) -> Iterator[RunningServer]:
    """The stub server on 127.0.0.1 (key ``TEST_KEY``), serving the packaged images under
    ``/images/`` (``facedetect_stub.image_url("portrait.png")``); ``facedetect_mock`` never
    touches a request to it. A test with none of the markers ``facedetect_readings``,
    ``facedetect_every_reading``, ``facedetect_faults``, ``facedetect_fake`` shares the
    session's stub; a test with any gets a stub of its own, stopped after it."""
    node = request.node
    callspec = getattr(node, "callspec", None)
    every = callspec is not None and "facedetect_readings" in callspec.params
    marked = any(
        node.get_closest_marker(name) is not None
        for name in ("facedetect_fake", READINGS_MARKER, "facedetect_faults")
    )
    if not (marked or every):
        yield request.getfixturevalue("facedetect_session_stub")
        return
    options = _stub_defaults(facedetect_contracts).changed(
        **_fake_for_the_stub(request, "facedetect_stub"),
        readings=dict(facedetect_readings),
        faults=marker_faults(node, facedetect_contracts),
    )
    with _serving(request.config, options) as running:
        yield running


def _fake_for_the_stub(request: pytest.FixtureRequest, fixture: str) -> dict[str, Any]:
    """The ``facedetect_fake`` marker's options a stub carries out (``_STUB_TAKES``); any other
    fails the test naming it, never ignored."""
    fake = fake_options(request)
    refused = sorted(set(fake) - {*_STUB_TAKES, "readings"})
    if refused:
        _fail(
            f"@pytest.mark.facedetect_fake: {fixture} cannot carry out {refused} (it "
            f"takes {', '.join(_STUB_TAKES)} and readings); use facedetect_fake or "
            "facedetect_mock for them"
        )
    return {name: fake[name] for name in _STUB_TAKES if name in fake}


@pytest.fixture
def facedetect_stub_factory(
    request: pytest.FixtureRequest,
    facedetect_contracts: Contracts,
    facedetect_readings: Mapping[str, str],
) -> Iterator[Callable[..., RunningServer]]:
    """A callable starting a stub server per call: ``facedetect_stub_factory(faults=["drop"],
    readings={...})`` takes ``StubOptions``' keywords (or a ``StubOptions`` first) and returns
    the started ``RunningServer``; every one is stopped after the test. Unless a call says
    otherwise: key ``TEST_KEY``, the packaged images, the ``facedetect_fake`` marker's keys,
    images and failure shape, the test's readings (those not the defaults) and the
    ``facedetect_faults`` marker's faults."""
    from ..contracts.questions import default_readings  # noqa: PLC0415

    defaults = default_readings(facedetect_contracts.questions)
    readings = {q: r for q, r in facedetect_readings.items() if defaults.get(q) != r}
    base = _stub_defaults(facedetect_contracts).changed(
        **_fake_for_the_stub(request, "facedetect_stub_factory"),
        readings=readings,
        faults=marker_faults(request.node, facedetect_contracts),
    )
    with contextlib.ExitStack() as started:

        def start(options: StubOptions | None = None, /, **changes: Any) -> RunningServer:
            chosen = (options or base).changed(**changes)
            return started.enter_context(_serving(request.config, chosen))

        yield start


def _described(request: httpx.Request, contracts: Contracts) -> str:
    """The request as a reader finds it: method, path, the body's model and image URL (where
    the profile says they are)."""
    try:
        body = json.loads(request.content)
    except ValueError:
        body = None
    fields = contracts.profile.request
    model, image = (at.get(body) for at in (fields.model, fields.image_url))
    model, image = (None if v is ABSENT else v for v in (model, image))
    return f"{request.method} {request.url.path} (model {model!r}, image URL {image!r})"


@pytest.fixture
def facedetect_replay(
    request: pytest.FixtureRequest, facedetect_contracts: Contracts
) -> Iterator[respx.MockRouter]:
    """respx answering every httpx request to the endpoint's path (any host) with the recording
    made for it: from the folder the ``facedetect_replay`` marker names (``--record-dir``
    output; relative to the test file's folder), else the packaged documented fixtures.
    Matched as the suite's replay matches (method, kind of key, content type, async header,
    body). A request no recording answers fails the test, naming it and the folder; every
    other request goes on untouched."""
    from ..contracts.fixtures import fixture_dir, load_fixtures  # noqa: PLC0415
    from ..doubles.fake import FaceDetectFake  # noqa: PLC0415
    from ..doubles.offline import UnmatchedRequest, mock_endpoint, replay_handler  # noqa: PLC0415

    folder = replay_folder(request.node) or fixture_dir(facedetect_contracts)  # the model's
    try:
        recordings = load_fixtures(folder, facedetect_contracts)
    except ValueError as exc:
        _fail(f"@pytest.mark.{REPLAY_MARKER}: {exc}")
    if not recordings:
        _fail(f"@pytest.mark.{REPLAY_MARKER}: no recording (*.json) in {folder}")
    handler = replay_handler(recordings, facedetect_contracts)
    unmatched: list[str] = []

    def answer(sent: httpx.Request) -> httpx.Response:
        try:
            response: httpx.Response = handler(sent)
        except UnmatchedRequest as exc:
            named = inert.terminal(_described(sent, facedetect_contracts))
            unmatched.append(named)
            raise UnmatchedRequest(
                f"facedetect_replay: no recording in {folder} answers {named}; "
                + inert.terminal(str(exc))
            ) from None
        return response

    # The fake never answers: the endpoint's route is the recordings' (the mock's routing and
    # its pass-through of every other request are kept).
    unused = FaceDetectFake(api_keys=(), contracts=facedetect_contracts)
    failed_before = request.session.testsfailed
    with mock_endpoint(
        unused, facedetect_contracts, left_alone=_stub_origins(request.config)
    ) as mocked:
        routes = mocked.router.routes
        if "face-detect" not in routes:  # pragma: no cover  # mock_endpoint renamed its route
            raise AssertionError("mock_endpoint has no route named 'face-detect' to replay on")
        routes["face-detect"].mock(side_effect=answer)
        yield mocked.router
    if unmatched and request.session.testsfailed == failed_before:
        _fail(
            f"facedetect_replay: no recording in {folder} answers "
            + ", ".join(unmatched)
            + " (the error was swallowed by the code under test)"
        )


# --- live mode: the session (facedetect_contract.session) on config.stash ----------------------
# Tests marked facedetect_live take a verdict fixture; the plan, the budget, the judging and the
# report are the package's.


@pytest.fixture(scope="session")
def facedetect_live_run(request: pytest.FixtureRequest) -> LiveRun | ModelsRun:
    """The live run: every selected live request, sent once, concurrently, within the budget
    (the runs of several models side by side, when several were chosen)."""
    session = request.config.stash.get(LIVE_SESSION, None)
    if session is None:
        pytest.skip(LIVE_SKIP_REASON)
    # Only the selected tests' requests are sent (-k, deselection), all at once.
    params = [getattr(item, "callspec", None) for item in request.session.items]
    selected = [
        callspec.params[fixture]
        for callspec in params
        if callspec is not None
        for fixture in LIVE_FIXTURES
        if callspec.params.get(fixture) is not None
    ]
    return session.run(selected)


def _live_verdict(run: LiveRun | ModelsRun, name: str | None) -> Verdict:
    if name is None:
        pytest.skip("nothing planned")
    verdict = run.verdict(name)
    # The reason may quote the endpoint (a code, a message): shown escaped in the terminal and
    # in JUnit XML, which cannot carry most control characters.
    # Redacted by the run's every key (several models: each run redacts its own).
    reason = run.redact(verdict.reason)
    if verdict.status == "not-sent":
        pytest.skip(inert.terminal(reason))
    if verdict.status != "judged":  # unreachable, throttled, failing, ...: an error of the run
        pytest.fail(inert.terminal(reason), pytrace=False)
    return verdict


@pytest.fixture
def facedetect_live_case(
    request: pytest.FixtureRequest, facedetect_live_run: LiveRun | ModelsRun
) -> Verdict:
    """The verdict on one live case: contracts, checks, its expect, behaviour drift."""
    return _live_verdict(facedetect_live_run, request.param)


@pytest.fixture
def facedetect_live_probe(
    request: pytest.FixtureRequest, facedetect_live_run: LiveRun | ModelsRun
) -> Verdict:
    """The verdict on one free negative probe (a request the docs say is rejected)."""
    return _live_verdict(facedetect_live_run, request.param)


@pytest.fixture
def facedetect_live_example(
    request: pytest.FixtureRequest, facedetect_live_run: LiveRun | ModelsRun
) -> Verdict:
    """The verdict on one generated invalid request."""
    return _live_verdict(facedetect_live_run, request.param)
