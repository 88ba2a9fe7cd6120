"""The plugin's fixtures, all ``facedetect_``-prefixed: the contracts, the fake (in-process,
through respx, through the client), the stub server, and the live session's verdicts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from ..core import inert
from .markers import LIVE_SKIP_REASON, fake_options

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
# Verdict fixture -> kind of planned request it is parametrized with.
LIVE_FIXTURES = {
    "facedetect_live_case": "case",
    "facedetect_live_probe": "probe",
    "facedetect_live_example": "example",
}


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

    options = fake_options(request)
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
