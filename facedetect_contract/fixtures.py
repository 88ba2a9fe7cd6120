"""The old import path of ``contracts.fixtures``, kept for consumers: all it exports."""

from __future__ import annotations

from .contracts.fixtures import *  # noqa: F403
from .contracts.fixtures import __all__  # noqa: F401  (the same list, never a copy)
