"""Shared fixtures of the outside judges: the failure shapes, and a network that ends at loopback.

Each judge here is a third-party tool (openapi-core, Schemathesis, the dashscope SDK) talking to
the stub server on 127.0.0.1. The SDK's default base is the real endpoint; ``loopback_only``
makes a call that would leave the machine (a base address the SDK ignored, a host name to look
up) fail in the test instead of sending anything.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.doubles.server import RunningServer, serve_in_thread
from facedetect_contract.plugin import TEST_KEY
from tests.helpers.stub import Recorder

SHAPES = load_contracts().profile.failure_shapes


def is_loopback(host: object) -> bool:
    """Is ``host`` (a name, an address, bytes) this machine's loopback?"""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every name lookup and connection of this process that is not loopback."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not is_loopback(host):
            raise OSError(f"tests/outside: no network beyond 127.0.0.1 (lookup of {host!r})")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            raise OSError(f"tests/outside: no network beyond 127.0.0.1 (connect to {address!r})")
        real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(scope="module", params=SHAPES, ids=lambda shape: f"shape-{shape}")
def failure_shape(request: pytest.FixtureRequest) -> str:
    """Each failure shape of the profile: A (200, verdict false) and B (400 InvalidFile.*)."""
    return str(request.param)


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    """The response hook of the module's stub: every exchange, for the tests to read."""
    return Recorder()


@pytest.fixture(scope="module")
def stub(failure_shape: str, recorder: Recorder) -> Iterator[RunningServer]:
    """One stub per module and failure shape, recording through ``recorder``."""
    with serve_in_thread(
        api_keys=[TEST_KEY],
        images_dir=IMAGE_DIR,
        failure_shape=failure_shape,
        response_hook=recorder,
    ) as running:
        yield running
