"""Findings grouped as a person reads them: one change, one line.

A renamed verdict field gives, per answer, "required field 'check_pass' is missing", "new
undocumented field 'checkPass'" and "did not meet its expect": nine rows for three answers, for one
change. Reports show groups instead:

- the same check at the same JSON pointer with the same severity, across answers, is one group with
  the count and the list of answers (each finding keeps its own stable id: the baseline and the
  history still match findings one by one, and the counts stay exact);
- a missing required field and a new undocumented field beside it (same parent object), present in
  exactly the same answers and named alike (the same letters once case, ``_`` and ``-`` are set
  aside, or close by ``difflib``), are one group: a probable rename;
- missed ``expect``\\ s on answers that all carry a breaking finding of another group are told
  under that group ("3 cases missed their expect because of it"), not as a cause of their own.

Every finding is in exactly one group's ``members``, so counts stay exact.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..core.violations import Severity, Violation, parent_pointer

__all__ = ["FindingGroup", "group_findings"]

# The titles the schema and expect checks give these findings (checks.py), read back here.
_MISSING = re.compile(r"required field '(?P<name>.*)' is missing")
_NEW = re.compile(r"new undocumented field '(?P<name>.*)'")
_EXPECT_CHECK = "live_case_meets_its_expect"
_SIMILAR = 0.75


@dataclass(frozen=True)
class FindingGroup:
    """Findings of one cause: their check, place and severity, every answer and every id."""

    check: str
    pointer: str
    severity: Severity
    title: str
    findings: tuple[Violation, ...]
    renamed_to: FindingGroup | None = None  # this missing field's probable new name
    consequences: tuple[FindingGroup, ...] = field(default=())  # expects missed because of it

    @property
    def count(self) -> int:
        """How many findings of its own it stands for (a folded finding counts what it folded)."""
        return sum(1 + v.folded for v in self.findings)

    @property
    def members(self) -> tuple[Violation, ...]:
        """Every finding this group stands for: its own, its rename's, its consequences'."""
        rename = self.renamed_to.findings if self.renamed_to is not None else ()
        return (*self.findings, *rename, *(v for c in self.consequences for v in c.findings))

    @property
    def interactions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.interaction for v in self.findings))

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(v.id for v in self.findings)

    @property
    def missed_expects(self) -> int:
        """Live cases that missed their expect because of this group (one finding each)."""
        return sum(c.count for c in self.consequences)

    @property
    def folded(self) -> int:
        """Findings its own findings stand for beyond themselves (``Violation.folded``)."""
        return sum(v.folded for v in self.findings)

    @property
    def received(self) -> tuple[str, ...]:
        """The distinct values received, in first-seen order."""
        return tuple(dict.fromkeys(v.received for v in self.findings))

    def headline(self) -> str:
        """One line: what changed, where, in how many answers (plain text, not yet escaped)."""
        answers = f"{self.count} answer" + ("s" if self.count != 1 else "")
        if self.renamed_to is not None:
            old = _field_name(self) or self.pointer
            new = _field_name(self.renamed_to) or self.renamed_to.pointer
            values = ", ".join(self.renamed_to.received[:3])
            line = (
                f"{old} is gone and {new} appeared (values {values}) in the same {answers}: "
                f"looks like a rename"
            )
        else:
            line = f"{self.title} ({answers})" if self.count > 1 else self.title
        missed = self.missed_expects
        if missed:
            line += (
                "; 1 live case missed its expect because of it"
                if missed == 1
                else f"; {missed} live cases missed their expect because of it"
            )
        return line


def _field_name(group: FindingGroup) -> str | None:
    for pattern in (_MISSING, _NEW):
        match = pattern.fullmatch(group.title)
        if match:
            return match.group("name")
    return None


def _alike(old: str, new: str) -> bool:
    def letters(name: str) -> str:
        return re.sub(r"[_\-\s]", "", name).lower()

    if letters(old) == letters(new):
        return True
    return difflib.SequenceMatcher(None, letters(old), letters(new)).ratio() >= _SIMILAR


def _title(findings: Sequence[Violation]) -> str:
    titles = dict.fromkeys(v.title for v in findings)
    return (
        next(iter(titles))
        if len(titles) == 1
        else f"{findings[0].check} at {findings[0].pointer or '/'}"
    )


def group_findings(findings: Iterable[Violation]) -> tuple[FindingGroup, ...]:
    """``findings`` as groups, in the order each group's first finding came."""
    buckets: dict[tuple[str, str, Severity], list[Violation]] = {}
    for violation in findings:
        key = (violation.check, violation.pointer, violation.severity)
        if violation.check == _EXPECT_CHECK:  # the case's name is in the title: one group
            key = (violation.check, "", violation.severity)
        buckets.setdefault(key, []).append(violation)
    groups = [
        FindingGroup(check, pointer, severity, _title(members), tuple(members))
        for (check, pointer, severity), members in buckets.items()
    ]
    groups = _pair_renames(groups)
    return tuple(_explain_expects(groups))


def _pair_renames(groups: list[FindingGroup]) -> list[FindingGroup]:
    missing = [g for g in groups if _MISSING.fullmatch(g.title)]
    new = [g for g in groups if _NEW.fullmatch(g.title)]
    taken: set[int] = set()
    paired: dict[int, FindingGroup] = {}
    for gone in missing:
        for candidate in new:
            beside = parent_pointer(candidate.pointer) == parent_pointer(gone.pointer)
            if id(candidate) in taken or not beside:
                continue
            same_answers = set(candidate.interactions) == set(gone.interactions)
            old_name, new_name = _field_name(gone), _field_name(candidate)
            if same_answers and old_name and new_name and _alike(old_name, new_name):
                taken.add(id(candidate))
                paired[id(gone)] = dataclasses.replace(gone, renamed_to=candidate)
                break
    return [paired.get(id(g), g) for g in groups if id(g) not in taken]


def _explain_expects(groups: list[FindingGroup]) -> list[FindingGroup]:
    causes: dict[int, list[FindingGroup]] = {}
    kept: set[int] = set()
    for grouped in groups:
        if grouped.check != _EXPECT_CHECK:
            continue
        answers = set(grouped.interactions)
        cause = next(
            (
                other
                for other in groups
                if other.check != _EXPECT_CHECK
                and other.severity is Severity.BREAKING
                and answers <= set(other.interactions)
            ),
            None,
        )
        if cause is None:
            kept.add(id(grouped))
        else:
            causes.setdefault(id(cause), []).append(grouped)
    return [
        dataclasses.replace(g, consequences=tuple(causes.get(id(g), ())))
        for g in groups
        if g.check != _EXPECT_CHECK or id(g) in kept
    ]
