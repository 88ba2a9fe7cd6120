"""One live run: settings, plan, budget, judging, recording, observations, baseline.

Its public names are those of ``run``, loaded on first use: importing a sibling
module (at pytest's start-up) must not load it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .run import (
        LiveRun,
        LiveSettings,
        Verdict,
        planned_names,
    )

__all__ = [
    "LiveRun",
    "LiveSettings",
    "Verdict",
    "planned_names",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module(".run", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
