"""The old import path of ``doubles.fake``, kept for consumers: all it exports."""

from __future__ import annotations

from .doubles.fake import *  # noqa: F403
from .doubles.fake import __all__  # noqa: F401  (the same list, never a copy)
