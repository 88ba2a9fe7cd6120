"""The endpoint's facts, loaded and typed: contracts, profile, fixtures, cases.

Its public names are those of ``loader``, loaded on first use: importing a sibling
module (at pytest's start-up) must not load it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .loader import (
        CONTRACT_DIR,
        SCHEMA_FILES,
        ContractFileError,
        Contracts,
        ErrorEntry,
        api_vocabulary,
        key_from_env,
        load_contracts,
    )

__all__ = [
    "CONTRACT_DIR",
    "SCHEMA_FILES",
    "ContractFileError",
    "Contracts",
    "ErrorEntry",
    "api_vocabulary",
    "key_from_env",
    "load_contracts",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module(".loader", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
