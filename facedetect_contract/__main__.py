"""``python -m facedetect_contract`` and the ``facedetect-contract`` command (the code is
in ``cli``; ``__main__:main`` is the entry point consumers' installs name)."""

from __future__ import annotations

import sys

from .cli import USAGE_ERROR, main, pytest_arguments, suite_dir

__all__ = [
    "USAGE_ERROR",
    "main",
    "pytest_arguments",
    "suite_dir",
]

if __name__ == "__main__":
    sys.exit(main())
