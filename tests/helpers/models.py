"""The packaged models' contracts folders, as every test of every model takes them: found by the
loader's own ``packaged_models`` (a new folder is covered with no test edit), in path order."""

from __future__ import annotations

from pathlib import Path

from facedetect_contract.contracts.loader import CONTRACT_DIR, packaged_models

__all__ = ["FOLDERS", "NAMES", "SIBLINGS"]

FOLDERS: tuple[Path, ...] = tuple(sorted(packaged_models().values()))
NAMES: tuple[str, ...] = tuple(folder.name for folder in FOLDERS)  # the folders' names: ids
# Every folder shipped beside face-detect's.
SIBLINGS: tuple[str, ...] = tuple(folder.name for folder in FOLDERS if folder != CONTRACT_DIR)
