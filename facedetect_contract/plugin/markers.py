"""The plugin's markers: registered with one line each, and the keyword arguments of the
``facedetect_fake`` and ``facedetect_mock`` markers checked (a wrong one is a usage error naming
the known ones)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from .options import LIVE_MARKER

__all__ = [
    "LIVE_MARKER",
    "LIVE_SKIP_REASON",
    "MOCK_OPTIONS",
    "fake_options",
    "mock_options",
    "register_markers",
]

LIVE_SKIP_REASON = "facedetect live: needs --live and DASHSCOPE_API_KEY (see the README, Live mode)"

# The facedetect_mock marker's keywords: the router's, not the fake's (those are facedetect_fake's).
MOCK_OPTIONS = {"strict": bool}


def register_markers(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{LIVE_MARKER}: talks to the face-detect endpoint (or --dashscope-base-url); needs --live",
    )
    config.addinivalue_line(
        "markers",
        "facedetect_fake(**kwargs): options of the facedetect_fake fixture "
        "(FaceDetectFake's keyword arguments, such as failure_shape='B')",
    )
    config.addinivalue_line(
        "markers",
        "facedetect_mock(strict=False): strict=True fails a request under the facedetect_mock "
        "fixture that neither the fake nor another respx route answers, instead of sending it on",
    )


def fake_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The ``facedetect_fake`` marker's keyword arguments (``FaceDetectFake``'s), checked."""
    from ..doubles.fake import FaceDetectFake  # noqa: PLC0415

    marker = request.node.get_closest_marker("facedetect_fake")
    options = dict(marker.kwargs) if marker is not None else {}
    if marker is not None and marker.args:
        raise pytest.UsageError("@pytest.mark.facedetect_fake takes keyword arguments only")
    allowed = set(inspect.signature(FaceDetectFake).parameters) - {"contracts"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        elsewhere = sorted(set(unknown) & set(MOCK_OPTIONS))
        hint = f"; {elsewhere} belong to @pytest.mark.facedetect_mock" if elsewhere else ""
        raise pytest.UsageError(
            f"@pytest.mark.facedetect_fake: unknown option(s) {unknown}; "
            f"known: {sorted(allowed)}{hint}"
        )
    return options


def mock_options(request: pytest.FixtureRequest) -> dict[str, bool]:
    """The ``facedetect_mock`` marker's keyword arguments (``MOCK_OPTIONS``), checked."""
    marker = request.node.get_closest_marker("facedetect_mock")
    if marker is None:
        return {}
    if marker.args:
        raise pytest.UsageError("@pytest.mark.facedetect_mock takes keyword arguments only")
    unknown = sorted(set(marker.kwargs) - set(MOCK_OPTIONS))
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.facedetect_mock: unknown option(s) {unknown}; known: "
            f"{sorted(MOCK_OPTIONS)} (the fake's own options go to @pytest.mark.facedetect_fake)"
        )
    for name, kind in MOCK_OPTIONS.items():
        value = marker.kwargs.get(name, False)
        if not isinstance(value, kind):
            raise pytest.UsageError(
                f"@pytest.mark.facedetect_mock: {name} must be True or False, not {value!r}"
            )
    return dict(marker.kwargs)
