"""The open questions of the docs: ``contracts/face-detect/questions.json`` as typed Python.

Where the docs disagree or are silent, the contracts accept every documented reading, and live
traffic is what can settle the question. Each question has a stable id (``failure-shape``), its
readings with their sources, the contract keywords that encode each, what observation settles
it, and the change that would encode each reading once settled. Observations, reports, the
history and the notes in ``docs/endpoint.md`` all refer to these ids.

Each reading also says how the test double plays it (``play``, a small vocabulary described in
``questions.schema.json`` and ``docs/double.md``), so adding a reading with its ``play`` makes it
playable with no Python change. ``check_plays`` names the file, question, reading and field of a
play the contracts cannot carry out; ``reading_pairs`` and ``pairwise_cover`` are what a test
parametrizes over (every reading once; every pair of readings of two questions at least once).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core import ecma
from ..core.pointers import Pointer
from .profile import EndpointProfile

__all__ = [
    "AdmitUrl",
    "AnswerEdit",
    "Change",
    "OpenQuestion",
    "Play",
    "Reading",
    "Refusal",
    "check_plays",
    "combination_id",
    "default_readings",
    "pairwise_cover",
    "parse_questions",
    "reading_id",
    "reading_pairs",
]


@dataclass(frozen=True)
class Change:
    """One file of a settling change: an RFC 6902 patch of a JSON file, or its deletion."""

    file: str  # relative to the repository root
    patch: tuple[Mapping[str, Any], ...] = ()
    delete: bool = False


@dataclass(frozen=True)
class Refusal:
    """The answer a refused request gets: a rule of the profile's rejections, or an error code."""

    rejection: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class AnswerEdit:
    """Edits of the answers of some kinds: fields set, removed, or offsets added to an array."""

    on: tuple[str, ...]
    set: Mapping[str, Any] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    offset: Mapping[str, tuple[int, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class AdmitUrl:
    """Image URLs beyond the request contract, admitted when a header carries a value."""

    matches: str  # ECMA-262
    header: str
    value: str
    otherwise: Refusal


@dataclass(frozen=True)
class Play:
    """How the test double plays a reading (``questions.schema.json`` ``$defs/play``)."""

    failure_answer: str | None = None
    answers: tuple[AnswerEdit, ...] = ()
    require: tuple[tuple[str, Refusal], ...] = ()  # (request field, refusal)
    refuse: tuple[tuple[str, str, Refusal], ...] = ()  # (request field, pattern, refusal)
    refuse_headers: tuple[tuple[str, Refusal], ...] = ()  # (header, refusal)
    admit_urls: tuple[AdmitUrl, ...] = ()
    unknown_fields: Refusal | None = None
    rejections: Mapping[str, str] = field(default_factory=dict)  # rule -> code
    add_headers: tuple[tuple[str, str], ...] = ()  # (header, answer field)


@dataclass(frozen=True)
class Reading:
    """One documented answer to an open question."""

    id: str
    says: str
    sources: tuple[tuple[str, str | None], ...]  # (source id, date)
    encoded_by: tuple[tuple[str, str], ...]  # (contract file, JSON pointer)
    settle: tuple[Change, ...]
    play: Play = Play()


@dataclass(frozen=True)
class OpenQuestion:
    """A question the docs leave open, and what would close it."""

    id: str
    question: str
    readings: tuple[Reading, ...]
    settled_by: str
    notes: str  # docs/endpoint.md#<id>
    settled: str | None = None
    double_default: str | None = None  # the reading the test double plays unless told

    @property
    def playable(self) -> tuple[Reading, ...]:
        """The readings the test double can play: all of them, or the one it was settled as."""
        return tuple(r for r in self.readings if self.settled in (None, r.id))

    @property
    def default_reading(self) -> str:
        """The reading the test double plays unless told: the settled one, else
        ``double_default``, else the first."""
        return self.settled or self.double_default or self.readings[0].id

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
                play=_play(reading.get("play", {})),
            )
            for reading in entry["readings"]
        )
        if len({r.id for r in readings}) != len(readings):
            raise ValueError(f"/questions/{index}/readings: two readings share an id")
        default = entry.get("double_default")
        if default is not None and default not in {r.id for r in readings}:
            raise ValueError(
                f"/questions/{index}/double_default: {default!r} is no reading of "
                f"{entry['id']!r}; use one of {[r.id for r in readings]}"
            )
        questions[entry["id"]] = OpenQuestion(
            id=entry["id"],
            question=entry["question"],
            readings=readings,
            settled_by=entry["settled_by"],
            notes=entry["notes"],
            settled=entry.get("settled"),
            double_default=default,
        )
    return questions


def _refusal(data: Mapping[str, Any]) -> Refusal:
    return Refusal(data.get("rejection"), data.get("code"))


def _play(data: Mapping[str, Any]) -> Play:
    """The typed play of a reading (its JSON is already validated against the schema)."""
    return Play(
        failure_answer=data.get("failure_answer"),
        answers=tuple(
            AnswerEdit(
                on=tuple(edit["on"]),
                set=dict(edit.get("set", {})),
                remove=tuple(edit.get("remove", ())),
                offset={at: tuple(by) for at, by in edit.get("offset", {}).items()},
            )
            for edit in data.get("answers", ())
        ),
        require=tuple((r["field"], _refusal(r["refuse"])) for r in data.get("require", ())),
        refuse=tuple(
            (r["field"], r["matches"], _refusal(r["refuse"])) for r in data.get("refuse", ())
        ),
        refuse_headers=tuple(
            (r["header"], _refusal(r["refuse"])) for r in data.get("refuse_headers", ())
        ),
        admit_urls=tuple(
            AdmitUrl(a["matches"], a["header"], a["value"], _refusal(a["otherwise"]))
            for a in data.get("admit_urls", ())
        ),
        unknown_fields=_refusal(data["unknown_fields"]) if "unknown_fields" in data else None,
        rejections=dict(data.get("rejections", {})),
        add_headers=tuple((h["header"], h["from"]) for h in data.get("add_headers", ())),
    )


# --- what a play may name, checked against the profile and the error table ---------------------


def _field_pointer(at: str, fields: Any, part: str) -> Pointer:
    """``at``: a field name of the profile's ``part`` (``fields``), or a JSON pointer."""
    if at.startswith("/"):
        return Pointer.parse(at)
    if at not in fields.__dataclass_fields__:
        raise KeyError(
            f"{at!r} is no field of endpoint.json's {part}; use one of "
            f"{sorted(fields.__dataclass_fields__)} or a JSON pointer"
        )
    pointer: Pointer = getattr(fields, at)
    return pointer


def answer_pointer(at: str, profile: EndpointProfile) -> Pointer:
    """A play's place in an answer: a field name of the profile's ``response``, or a pointer."""
    return _field_pointer(at, profile.response, "response")


def request_pointer(at: str, profile: EndpointProfile) -> Pointer:
    """A play's place in a request body: a field name of the profile's ``request``, or a pointer."""
    return _field_pointer(at, profile.request, "request")


def check_plays(
    questions: Mapping[str, OpenQuestion],
    profile: EndpointProfile,
    documented: Callable[[str], bool],
    file: Path | str,
) -> None:
    """``ValueError`` naming the file, question, reading and field of the first play the
    contracts cannot carry out: an answer kind, rejection rule, code (``documented(code)``),
    response or request field or pattern they do not have."""
    answers = {kind.name: kind for kind in profile.answers}
    failed = sorted(name for name, kind in answers.items() if kind.outcome == "failed")
    # The answer kind of a reading a question was settled against is gone from the profile: a
    # play of another question may still name it, for the reading that is played no more.
    retired = {
        r.play.failure_answer
        for q in questions.values()
        for r in q.readings
        if r not in q.playable and r.play.failure_answer is not None
    }

    def refusal(where: str, value: Refusal) -> str | None:
        if value.rejection is not None and value.rejection not in profile.rejections:
            return (
                f"{where}/rejection: no rule {value.rejection!r} in endpoint.json's "
                f"rejections; use one of {sorted(profile.rejections)}"
            )
        if value.code is not None and not documented(value.code):
            return f"{where}/code: {value.code!r} is not in errors.json; use a documented code"
        return None

    def pattern(where: str, text: str) -> str | None:
        try:
            ecma.search(text, "")
        except re.error as exc:
            return f"{where}: {text!r} is no regular expression ({exc}); fix it"
        return None

    def place(where: str, at: str, of: Callable[[str, EndpointProfile], Pointer]) -> str | None:
        try:
            of(at, profile)
        except (KeyError, ValueError) as exc:
            return f"{where}: {exc.args[0] if exc.args else exc}"
        return None

    for question in questions.values():
        for reading in question.playable:  # one settled against is played no more
            play, problems = reading.play, list[str | None]()
            if play.failure_answer is not None and play.failure_answer not in failed:
                problems.append(
                    f"play/failure_answer: {play.failure_answer!r} is no answer kind "
                    f"of endpoint.json whose outcome is failed; use one of {failed}"
                )
            for i, edit in enumerate(play.answers):
                for name in edit.on:
                    if name not in answers and name not in retired:
                        problems.append(
                            f"play/answers/{i}/on: no answer kind {name!r} in "
                            f"endpoint.json; use one of {sorted(answers)}"
                        )
                for key, ats in (
                    ("set", edit.set),
                    ("remove", edit.remove),
                    ("offset", edit.offset),
                ):
                    problems += [place(f"play/answers/{i}/{key}", at, answer_pointer) for at in ats]
            for i, (at, value) in enumerate(play.require):
                problems.append(place(f"play/require/{i}/field", at, request_pointer))
                problems.append(refusal(f"play/require/{i}/refuse", value))
            for i, (at, text, value) in enumerate(play.refuse):
                problems.append(place(f"play/refuse/{i}/field", at, request_pointer))
                problems.append(pattern(f"play/refuse/{i}/matches", text))
                problems.append(refusal(f"play/refuse/{i}/refuse", value))
            for i, (_, value) in enumerate(play.refuse_headers):
                problems.append(refusal(f"play/refuse_headers/{i}/refuse", value))
            for i, admit in enumerate(play.admit_urls):
                problems.append(pattern(f"play/admit_urls/{i}/matches", admit.matches))
                problems.append(refusal(f"play/admit_urls/{i}/otherwise", admit.otherwise))
            if play.unknown_fields is not None:
                problems.append(refusal("play/unknown_fields", play.unknown_fields))
            for rule, code in play.rejections.items():
                if rule not in profile.rejections:
                    problems.append(
                        f"play/rejections/{rule}: no rule {rule!r} in endpoint.json's "
                        f"rejections; use one of {sorted(profile.rejections)}"
                    )
                elif not documented(code):
                    problems.append(
                        f"play/rejections/{rule}: {code!r} is not in errors.json; "
                        f"use a documented code"
                    )
            for i, (_, at) in enumerate(play.add_headers):
                problems.append(place(f"play/add_headers/{i}/from", at, answer_pointer))
            first = next((p for p in problems if p is not None), None)
            if first is not None:
                raise ValueError(
                    f"{file}: question {question.id!r}, reading {reading.id!r}: at {first}"
                )


# --- the readings as test parameters ------------------------------------------------------------


def reading_id(question: str, reading: str) -> str:
    """A reading's readable id as a test parameter: ``failure-shape=B``."""
    return f"{question}={reading}"


def reading_pairs(questions: Mapping[str, OpenQuestion]) -> list[tuple[str, str]]:
    """Every (question, reading), in the file's order (``reading_id`` names each)."""
    return [(q.id, r.id) for q in questions.values() for r in q.playable]


def default_readings(questions: Mapping[str, OpenQuestion]) -> dict[str, str]:
    """The reading the test double plays for each question unless told."""
    return {q.id: q.default_reading for q in questions.values()}


def combination_id(combination: Mapping[str, str], questions: Mapping[str, OpenQuestion]) -> str:
    """A combination's readable id: the readings it plays that are not the defaults, or
    ``defaults``."""
    defaults = default_readings(questions)
    changed = [reading_id(q, r) for q, r in combination.items() if defaults.get(q) != r]
    return ",".join(changed) or "defaults"


def pairwise_cover(questions: Mapping[str, OpenQuestion]) -> list[dict[str, str]]:
    """Combinations of readings (one per question) in which every pair of readings of two
    different questions appears at least once: a greedy, deterministic cover, close to the
    product of the two largest reading counts in size."""
    ids = list(questions)
    options = {q: [r.id for r in questions[q].playable] for q in ids}
    uncovered = {
        ((a, x), (b, y))
        for i, a in enumerate(ids)
        for b in ids[i + 1 :]
        for x in options[a]
        for y in options[b]
    }
    order = sorted(ids, key=lambda q: -len(options[q]))  # stable: ties keep the file's order
    cover: list[dict[str, str]] = []

    def key(a: tuple[str, str], b: tuple[str, str]) -> tuple[tuple[str, str], tuple[str, str]]:
        return (a, b) if ids.index(a[0]) < ids.index(b[0]) else (b, a)

    def pending(choice: tuple[str, str]) -> int:
        return sum(1 for pair in uncovered if choice in pair)

    while uncovered:
        row: dict[str, str] = {}
        for q in order:
            best: tuple[int, int, int] | None = None
            for index, r in enumerate(options[q]):
                new = sum(1 for p, v in row.items() if key((q, r), (p, v)) in uncovered)
                score = (new, pending((q, r)), -index)  # ties: the first reading
                if best is None or score > best:
                    best, row[q] = score, r
        covered = {key((a, row[a]), (b, row[b])) for a in ids for b in ids if a != b}
        if not covered & uncovered:  # cannot happen: the first choice always covers a pair
            raise AssertionError("pairwise_cover made no progress")
        uncovered -= covered
        cover.append({q: row[q] for q in ids})
    return cover
