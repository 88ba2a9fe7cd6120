"""The pytest plugin: options, markers, Hypothesis profiles and fixtures; nothing else.

It translates pytest's surface into calls into the package. Registered once, by the root
``conftest.py`` (``pytest_plugins``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest
import respx
from hypothesis import HealthCheck, Verbosity, settings

from .client import FaceDetectClient, endpoint_url
from .contracts import Contracts, load_contracts
from .fake import FaceDetectFake
from .fixtures import FIXTURE_DIR, load_fixtures
from .interaction import Interaction
from .offline import mount_fake

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


@pytest.fixture(scope="session")
def contracts() -> Contracts:
    """The face-detect contracts, loaded and checked once."""
    return load_contracts()


@pytest.fixture(scope="session")
def fixture_interactions(contracts: Contracts) -> list[Interaction]:
    """Every interaction stored under fixtures/face-detect/."""
    return load_fixtures(FIXTURE_DIR, contracts)


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
