"""The open questions of the docs: ``contracts/face-detect/questions.json`` as typed Python.

Where the docs disagree or are silent, the contracts accept every documented reading, and live
traffic is what can settle the question. Each question has a stable id (``failure-shape``), its
readings with their sources, the contract keywords that encode each, what observation settles
it, and the change that would encode each reading once settled. Observations, reports, the
history and the notes in ``docs/endpoint.md`` all refer to these ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Change", "OpenQuestion", "Reading", "parse_questions"]


@dataclass(frozen=True)
class Change:
    """One file of a settling change: an RFC 6902 patch of a JSON file, or its deletion."""

    file: str  # relative to the repository root
    patch: tuple[Mapping[str, Any], ...] = ()
    delete: bool = False


@dataclass(frozen=True)
class Reading:
    """One documented answer to an open question."""

    id: str
    says: str
    sources: tuple[tuple[str, str | None], ...]  # (source id, date)
    encoded_by: tuple[tuple[str, str], ...]  # (contract file, JSON pointer)
    settle: tuple[Change, ...]


@dataclass(frozen=True)
class OpenQuestion:
    """A question the docs leave open, and what would close it."""

    id: str
    question: str
    readings: tuple[Reading, ...]
    settled_by: str
    notes: str  # docs/endpoint.md#<id>
    settled: str | None = None

    def reading(self, reading_id: str) -> Reading:
        for reading in self.readings:
            if reading.id == reading_id:
                return reading
        raise KeyError(
            f"question {self.id!r} has no reading {reading_id!r}; "
            f"readings: {[r.id for r in self.readings]}"
        )


def parse_questions(data: Mapping[str, Any]) -> dict[str, OpenQuestion]:
    """Questions by id; ``ValueError`` names a repeated id (the JSON is already validated)."""
    questions: dict[str, OpenQuestion] = {}
    for index, entry in enumerate(data["questions"]):
        if entry["id"] in questions:
            raise ValueError(f"/questions/{index}/id: {entry['id']!r} is used twice; rename one")
        readings = tuple(
            Reading(
                id=reading["id"],
                says=reading["says"],
                sources=tuple((s["source"], s.get("date")) for s in reading["sources"]),
                encoded_by=tuple((e["file"], e["pointer"]) for e in reading["encoded_by"]),
                settle=tuple(
                    Change(c["file"], tuple(c.get("patch", ())), bool(c.get("delete", False)))
                    for c in reading["settle"]
                ),
            )
            for reading in entry["readings"]
        )
        if len({r.id for r in readings}) != len(readings):
            raise ValueError(f"/questions/{index}/readings: two readings share an id")
        questions[entry["id"]] = OpenQuestion(
            id=entry["id"],
            question=entry["question"],
            readings=readings,
            settled_by=entry["settled_by"],
            notes=entry["notes"],
            settled=entry.get("settled"),
        )
    return questions
