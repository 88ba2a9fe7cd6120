"""The old import path of ``doubles.server``, kept for consumers: all it exports."""

from __future__ import annotations

from .doubles.server import *  # noqa: F403
from .doubles.server import __all__  # noqa: F401  (the same list, never a copy)
