"""Where the data lives: the copy packaged inside the wheel, else the checkout's own folder.

A wheel carries the contracts, fixtures and the contract suite inside the package (pyproject's
``force-include``); a source checkout keeps them at its top level. This is the one place that
decides, so moving a module never changes what its ``__file__`` means to the data it reads.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PACKAGE_DIR", "packaged_or_checkout"]

PACKAGE_DIR = Path(__file__).parents[1]  # facedetect_contract/


def packaged_or_checkout(packaged: str, checkout: str) -> Path:
    """``packaged`` (relative to the package) when the wheel carries it, else ``checkout``
    (relative to the checkout's root)."""
    inside = PACKAGE_DIR / packaged
    return inside if inside.exists() else PACKAGE_DIR.parent / checkout
