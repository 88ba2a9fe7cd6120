"""The plugin's markers: registered with one line each, and the ``facedetect_fake`` marker's
keyword arguments checked (a wrong one is a usage error naming the known ones)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from .options import LIVE_MARKER

__all__ = ["LIVE_MARKER", "LIVE_SKIP_REASON", "fake_options", "register_markers"]

LIVE_SKIP_REASON = "facedetect live: needs --live and DASHSCOPE_API_KEY (see the README, Live mode)"


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
        raise pytest.UsageError(
            f"@pytest.mark.facedetect_fake: unknown option(s) {unknown}; known: {sorted(allowed)}"
        )
    return options
