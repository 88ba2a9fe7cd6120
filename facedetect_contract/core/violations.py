"""What a check reports: a violation with where, what was received, what is documented, and why.

An endpoint decides how many findings its answers make (an answer with 50,000 unknown fields makes
50,000), and every one costs time and report space inside the run's deadline. ``fold`` bounds
them: past a cap, the findings of one kind become one finding carrying the exact count of those it
stands for (``Violation.folded``), never dropped. A finding that is not folded keeps its id, and a
finding that stands for others keeps the id it had on its own, so a baseline still matches it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, TypeVar

from .inert import printable

__all__ = [
    "ABSENT",
    "Severity",
    "Violation",
    "fold",
    "fold_tagged",
    "parent_pointer",
    "render_value",
]

T = TypeVar("T")

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
    folded: int = 0  # how many more findings this one stands for (see ``fold``)

    def __str__(self) -> str:
        # Each field may carry the endpoint's text: printable, so no escape sequence, carriage
        # return or newline of its choosing reaches a terminal or a JUnit file.
        p = printable
        text = (
            f"[{self.severity}] {p(self.check)}: {p(self.title)}\n"
            f"  interaction: {p(self.interaction)}\n"
            f"  at:          {p(self.pointer or '/')} (JSON pointer into the response)\n"
            f"  received:    {p(self.received)}\n"
            f"  documented:  {p(self.documented)}\n"
            f"  source:      {p(self.source)}"
        )
        if self.folded:
            text += f"\n  folded:      {self.folded} more like it, not listed one by one"
        return text

    @property
    def id(self) -> str:
        """A stable id: the same check, interaction and place give the same id every night."""
        # surrogatepass: a lone surrogate the endpoint sent still gives an id (never a crash).
        key = f"{self.check}|{self.interaction}|{self.pointer}".encode("utf-8", "surrogatepass")
        return "FD-" + hashlib.sha256(key).hexdigest()[:10]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping, as written to reports (``folded``, a number, only when not 0)."""
        fields = {key: str(value) for key, value in asdict(self).items() if key != "folded"}
        return {"id": self.id, **fields, **({"folded": self.folded} if self.folded else {})}


def parent_pointer(pointer: str) -> str:
    """The JSON pointer of the object or array that holds ``pointer`` ('' for the root)."""
    return pointer.rpartition("/")[0]


def fold(
    violations: Sequence[Violation],
    *,
    key: Callable[[Violation], Hashable],
    keep: int,
    limit: int | None = None,
    where: str | Callable[[Violation], str],
    exempt: Callable[[Violation], bool] = lambda _: False,
) -> tuple[Violation, ...]:
    """``violations`` with each group (same ``key``) cut to its first ``keep`` findings, then the
    total cut to ``limit`` (the first ones kept): in each group, the first finding past a cut
    stands for the rest of that group, its ``folded`` the exact number of findings (with what they
    stood for) it replaces, its title saying so (``where``: "at /output", "in other answers").

    Order is kept, so the same answers fold the same way every night. ``exempt`` findings (those
    a baseline acknowledges) are never folded and count towards no cap: their ids must match.
    """
    tagged = fold_tagged(
        [(None, v) for v in violations],
        key=key,
        keep=keep,
        limit=limit,
        where=where,
        exempt=exempt,
    )
    return tuple(v for _, v in tagged)


def fold_tagged(
    items: Sequence[tuple[T, Violation]],
    *,
    key: Callable[[Violation], Hashable],
    keep: int,
    limit: int | None = None,
    where: str | Callable[[Violation], str],
    exempt: Callable[[Violation], bool] = lambda _: False,
) -> list[tuple[T, Violation]]:
    """``fold`` of findings that each carry a tag (the verdict they belong to), tags kept."""
    standing: dict[Hashable, int] = {}  # group -> index in ``kept`` of the finding standing for it
    extra: dict[int, int] = {}  # index in ``kept`` -> findings folded into it
    seen: dict[Hashable, int] = {}
    kept: list[tuple[T, Violation]] = []
    counted = 0
    for tag, violation in items:
        if exempt(violation):
            kept.append((tag, violation))
            continue
        group = key(violation)
        seen[group] = seen.get(group, 0) + 1
        if seen[group] <= keep and (limit is None or counted < limit):
            kept.append((tag, violation))
            counted += 1
        elif group in standing:
            index = standing[group]
            extra[index] = extra.get(index, 0) + 1 + violation.folded
        else:
            standing[group] = len(kept)
            kept.append((tag, violation))
            counted += 1
    for index, count in extra.items():
        tag, violation = kept[index]
        total = violation.folded + count
        place = where(violation) if callable(where) else where
        kept[index] = (
            tag,
            dataclasses.replace(
                violation,
                folded=total,
                title=f"{_unfolded(violation.title)} (and {total} more like it {place})",
            ),
        )
    return kept


def _unfolded(title: str) -> str:
    """A title without the note an earlier ``fold`` added (folding twice says one total)."""
    head, sep, tail = title.rpartition(" (and ")
    return head if sep and tail.endswith(")") and " more like it " in tail else title
