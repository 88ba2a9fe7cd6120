"""Settling an open question: the contract change that encodes the reading live traffic chose.

``questions.json`` gives, for each reading, the change that would encode it (RFC 6902 patches of
the contract files, or a fixture to delete). When the history shows one reading night after night,
``change_for`` renders that change, plus marking the question settled, as a unified diff against
the repository's files, which ``git apply`` takes. Nothing here writes a contract: the diff is for
a person to read and apply.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..core.pointers import Pointer
from .fixtures import FIXTURE_DIR
from .loader import QUESTIONS_FILE, Contracts
from .questions import Change

__all__ = ["apply_patch", "change_for", "resolve"]

CONTRACTS_PREFIX = "contracts/face-detect/"
FIXTURES_PREFIX = "fixtures/face-detect/"


def resolve(name: str, contracts: Contracts) -> Path:
    """The file a change names (relative to the repository root) in this installation."""
    if name.startswith(CONTRACTS_PREFIX):
        return contracts.directory / name.removeprefix(CONTRACTS_PREFIX)
    if name.startswith(FIXTURES_PREFIX):
        return FIXTURE_DIR / name.removeprefix(FIXTURES_PREFIX)
    raise ValueError(f"{name}: a change may name contracts/face-detect/ or fixtures/face-detect/")


def apply_patch(document: Any, operations: Iterable[Mapping[str, Any]]) -> Any:
    """``document`` with RFC 6902 ``add``/``remove``/``replace`` operations applied (a copy)."""
    result = copy.deepcopy(document)
    for operation in operations:
        pointer = Pointer.parse(operation["path"])
        parent = pointer.parent.get(result)
        name, op = pointer.name, operation["op"]
        if isinstance(parent, list):
            index = len(parent) if name == "-" else int(name)
            if op == "add":
                parent.insert(index, copy.deepcopy(operation["value"]))
            elif op == "remove":
                del parent[index]
            else:
                parent[index] = copy.deepcopy(operation["value"])
        elif isinstance(parent, dict):
            if op == "remove":
                del parent[name]
            elif op == "replace" and name not in parent:
                raise ValueError(f"{operation['path']}: nothing to replace")
            else:
                parent[name] = copy.deepcopy(operation["value"])
        else:
            raise ValueError(f"{operation['path']}: its parent is not an object or an array")
    return result


def _render(data: Any) -> str:
    """A data file as the repository keeps them (2-space indent, key order kept)."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _diff(name: str, before: str, after: str | None) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        [] if after is None else after.splitlines(keepends=True),
        fromfile=f"a/{name}",
        tofile="/dev/null" if after is None else f"b/{name}",
    )
    text = "".join(lines)
    if after is None:  # git apply wants to be told a file goes
        text = f"diff --git a/{name} b/{name}\ndeleted file mode 100644\n" + text
    return text


def change_for(contracts: Contracts, question_id: str, reading_id: str) -> str:
    """The unified diff that encodes ``reading_id`` as the answer to ``question_id``."""
    question = contracts.questions[question_id]
    reading = question.reading(reading_id)
    index = list(contracts.questions).index(question_id)
    mark = Change(
        CONTRACTS_PREFIX + QUESTIONS_FILE,
        ({"op": "add", "path": f"/questions/{index}/settled", "value": reading_id},),
    )
    edits: dict[str, str | None] = {}
    originals: dict[str, str] = {}
    for change in (*reading.settle, mark):
        path = resolve(change.file, contracts)
        originals.setdefault(change.file, path.read_text(encoding="utf-8"))
        current = edits.get(change.file, originals[change.file])
        if change.delete:
            edits[change.file] = None
        elif current is not None:
            edits[change.file] = _render(apply_patch(json.loads(current), change.patch))
    return "".join(_diff(name, originals[name], after) for name, after in edits.items())
