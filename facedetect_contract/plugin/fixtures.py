"""The plugin's fixtures, all ``facedetect_``-prefixed: the contracts, the fake (in-process,
through respx, through the client), the stub server, and the live session's verdicts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from ..core import inert
from .markers import LIVE_SKIP_REASON, fake_options, mock_options

if TYPE_CHECKING:
    import respx

    from ..client import FaceDetectClient
    from ..contracts.loader import Contracts
    from ..doubles.fake import FaceDetectFake
    from ..doubles.server import RunningServer
    from ..live.judging import Verdict
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
    "facedetect_stub",
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


# --- fixtures for any project -------------------------------------------------------------------


@pytest.fixture(scope="session")
def facedetect_contracts(pytestconfig: pytest.Config) -> Contracts:
    """The contracts of the run (schemas, error table, endpoint profile), loaded once: the folder
    ``--contracts`` or the ini key ``facedetect_contracts`` names, else the packaged ones."""
    from .options import contracts_of  # noqa: PLC0415

    return contracts_of(pytestconfig)


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

    options = fake_options(request)
    options.setdefault("api_keys", [TEST_KEY])
    try:
        return FaceDetectFake(contracts=facedetect_contracts, **options)
    except ValueError as exc:
        raise pytest.UsageError(f"@pytest.mark.facedetect_fake: {exc}") from None


@pytest.fixture
def facedetect_mock(
    request: pytest.FixtureRequest,
    facedetect_fake: FaceDetectFake,
    facedetect_contracts: Contracts,
) -> Iterator[respx.MockRouter]:
    """respx answering every httpx request to the endpoint's path (on any host) with the fake.

    Every other request goes on untouched: to your own respx routes, else the network.
    ``@pytest.mark.facedetect_mock(strict=True)`` fails it instead, naming it."""
    import httpx  # noqa: PLC0415

    from ..doubles.offline import mock_endpoint  # noqa: PLC0415

    strict = mock_options(request).get("strict", False)
    config = request.config

    def left_alone(url: httpx.URL) -> bool:
        # Read at each request: a stub started after this fixture counts too.
        return (url.scheme, url.host, url.port) in config.stash.get(STUB_ORIGINS, set())

    failed_before = request.session.testsfailed
    with mock_endpoint(
        facedetect_fake, facedetect_contracts, strict=strict, left_alone=left_alone
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
    pytestconfig: pytest.Config, facedetect_fake: FaceDetectFake, facedetect_contracts: Contracts
) -> Iterator[FaceDetectClient]:
    """A ``FaceDetectClient`` whose transport serves the fake in-process; no retry waits."""
    from ..doubles.offline import client_on_fake  # noqa: PLC0415

    base_url = pytestconfig.getoption("facedetect_base_url")
    with client_on_fake(facedetect_fake, facedetect_contracts, TEST_KEY, base_url) as client:
        yield client


@pytest.fixture(scope="session")
def facedetect_stub(
    pytestconfig: pytest.Config, facedetect_contracts: Contracts
) -> Iterator[RunningServer]:
    """The stub server on 127.0.0.1 (key ``TEST_KEY``), serving the packaged images under
    ``/images/`` (``facedetect_stub.image_url("portrait.png")``); ``facedetect_mock`` never
    touches a request to it."""
    # Imported here: only tests that use the stub pay for the server and Pillow.
    import httpx  # noqa: PLC0415

    from ..contracts.fixtures import IMAGE_DIR  # noqa: PLC0415
    from ..doubles.server import serve_in_thread  # noqa: PLC0415

    with serve_in_thread(
        api_keys=[TEST_KEY], images_dir=IMAGE_DIR, contracts=facedetect_contracts
    ) as running:
        # Its own image downloads and a test's requests to it reach it, never the fake.
        url = httpx.URL(running.url)
        origin = (url.scheme, url.host, url.port)
        origins = pytestconfig.stash.setdefault(STUB_ORIGINS, set())
        origins.add(origin)
        try:
            yield running
        finally:
            origins.discard(origin)


# --- live mode: the session (facedetect_contract.session) on config.stash ----------------------
# Tests marked facedetect_live take a verdict fixture; the plan, the budget, the judging and the
# report are the package's.


@pytest.fixture(scope="session")
def facedetect_live_run(request: pytest.FixtureRequest) -> LiveRun:
    """The live run: every selected live request, sent once, concurrently, within the budget."""
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
