"""What a check reports: a violation with where, what was received, what is documented, and why."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

__all__ = ["ABSENT", "Severity", "Violation", "render_value"]

_MAX_RENDERED = 200


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()
"""Stands for a field that is not in the response at all (as opposed to ``null``)."""


class Severity(StrEnum):
    """Breaking: a client built on the docs would break. Additive: new, undocumented, harmless."""

    BREAKING = "breaking"
    ADDITIVE = "additive"


def render_value(value: Any) -> str:
    """A short JSON rendering of a received value, for messages and reports."""
    if value is ABSENT:
        return "(absent)"
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _MAX_RENDERED else text[: _MAX_RENDERED - 3] + "..."


@dataclass(frozen=True)
class Violation:
    """One broken (or newly extended) rule in one interaction."""

    check: str
    interaction: str
    pointer: str
    received: str
    documented: str
    severity: Severity
    source: str
    title: str

    def __str__(self) -> str:
        return (
            f"[{self.severity}] {self.check}: {self.title}\n"
            f"  interaction: {self.interaction}\n"
            f"  at:          {self.pointer or '/'} (JSON pointer into the response)\n"
            f"  received:    {self.received}\n"
            f"  documented:  {self.documented}\n"
            f"  source:      {self.source}"
        )

    @property
    def id(self) -> str:
        """A stable id: the same check, interaction and place give the same id every night."""
        key = f"{self.check}|{self.interaction}|{self.pointer}".encode()
        return "FD-" + hashlib.sha256(key).hexdigest()[:10]

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready mapping, as written to reports."""
        return {"id": self.id, **{key: str(value) for key, value in asdict(self).items()}}
