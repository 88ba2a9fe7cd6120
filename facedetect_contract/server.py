"""The old import path of ``doubles.server``, kept for consumers."""

from __future__ import annotations

from .doubles.server import (
    DEFAULT_PREFIX,
    IMAGES_PATH,
    MAX_BODY_BYTES,
    ResponseHook,
    RunningServer,
    StubOptions,
    StubServer,
    serve_in_thread,
)

__all__ = [
    "DEFAULT_PREFIX",
    "IMAGES_PATH",
    "MAX_BODY_BYTES",
    "ResponseHook",
    "RunningServer",
    "StubOptions",
    "StubServer",
    "serve_in_thread",
]
