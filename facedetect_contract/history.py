"""The history of live runs: one JSON line per run, and what the nights say together.

A nightly run stands alone; the history lets the nights add up: each finding's first and last
night, the readings each open question got night after night (``settling`` turns a long enough run
of one reading into a contract change), and how the endpoint's latency and boxes moved. Records
are appended atomically (the file is rewritten whole through a temp file, so a crash mid-write
leaves the previous history), and a malformed line is named with its number.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .fixtures import write_atomically
from .report.model import LiveReport

__all__ = [
    "HISTORY_FORMAT",
    "HistoryError",
    "Summary",
    "append",
    "load_history",
    "record_of",
    "summarize",
]

HISTORY_FORMAT = 1


class HistoryError(ValueError):
    """The history file is malformed; the message names the line and the fix."""


def record_of(report: LiveReport) -> dict[str, Any]:
    """The history line of one run's (redacted) report."""
    data = report.to_dict()
    return {
        "history": HISTORY_FORMAT,
        "time": data["generated_at"],
        "endpoint": data["endpoint"],
        "tool": data["tool"],
        "contracts": data["contracts"],
        "outcome": data["outcome"],
        "findings": [
            {
                key: finding[key]
                for key in ("id", "check", "pointer", "interaction", "severity", "title")
            }
            | {"acknowledged": finding["acknowledged"]}
            for finding in data["findings"]
        ],
        "observations": {
            o["question"]: {"reading": o["reading"], "answer": o["answer"]}
            for o in data["observations"]
        },
        "latency_ms": data["latency_ms"],
        "throttled": data["counts"]["throttled"],
        "spend": data["spend"],
        "iou": {case["request"]: case["iou"] for case in data["cases"] if case["iou"]},
    }


def load_history(path: Path, *, missing_ok: bool = True) -> list[dict[str, Any]]:
    """The records of ``path`` in order; ``HistoryError`` names a malformed line."""
    if not path.exists():
        if missing_ok:
            return []
        raise HistoryError(f"{path}: no such history file; a live run with --history makes one")
    if path.is_dir():
        raise HistoryError(f"{path}: is a directory; give the history file (JSON lines)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HistoryError(
            f"{path}: cannot read it as UTF-8 text ({exc}); check the path"
        ) from None
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            raise HistoryError(
                f"{path}:{number}: not a JSON object; remove the line or restore the file"
            ) from None
        if not isinstance(record, dict) or record.get("history") != HISTORY_FORMAT:
            raise HistoryError(
                f"{path}:{number}: not a history record of this suite (format {HISTORY_FORMAT})"
            )
        records.append(record)
    return records


def append(path: Path, record: Mapping[str, Any]) -> Path:
    """Add one record to the history, atomically (all of the old file, then the new line)."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    write_atomically(path, old + json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    return path


@dataclass(frozen=True)
class FindingSpan:
    """One finding over the nights: first and last night seen, and on how many nights."""

    id: str
    check: str
    pointer: str
    interaction: str
    title: str
    severity: str
    first: int  # 1-based night
    last: int
    nights: int
    acknowledged_last: bool


@dataclass(frozen=True)
class QuestionTally:
    """One open question over the nights."""

    question: str
    tally: Mapping[str, int]  # reading -> nights
    streak_reading: str | None  # the reading of the latest unbroken run of one reading
    streak: int  # its length, in observing nights
    settled_on: int | None  # the night it settled (N in a row, never another), if it did


@dataclass(frozen=True)
class Summary:
    """What a history says, for the terminal and the HTML report."""

    nights: int
    findings: tuple[FindingSpan, ...]
    questions: tuple[QuestionTally, ...]
    latency: Mapping[str, tuple[float, ...]] = field(default_factory=dict)  # kind -> p50 per night
    outcomes: tuple[str, ...] = ()

    def settled(self) -> tuple[QuestionTally, ...]:
        return tuple(q for q in self.questions if q.settled_on is not None)


def _tally_question(question: str, readings: Sequence[str | None], after: int) -> QuestionTally:
    tally: dict[str, int] = {}
    streak_reading, streak, settled_on = None, 0, None
    for night, reading in enumerate(readings, 1):
        if reading is None:
            continue  # a night that did not observe the question neither breaks nor adds
        tally[reading] = tally.get(reading, 0) + 1
        if reading == streak_reading:
            streak += 1
        else:
            streak_reading, streak = reading, 1
        if settled_on is None and streak >= after and len(tally) == 1:
            settled_on = night
    if len(tally) != 1:
        settled_on = None  # another reading was ever seen: not settled, whatever the streak
    return QuestionTally(question, tally, streak_reading, streak, settled_on)


def summarize(records: Sequence[Mapping[str, Any]], *, settle_after: int = 14) -> Summary:
    """The summary of a history, questions settled after ``settle_after`` equal nights."""
    if settle_after < 1:
        raise ValueError(f"--settle-after must be 1 or more, not {settle_after}")
    spans: dict[str, dict[str, Any]] = {}
    for night, record in enumerate(records, 1):
        for finding in record.get("findings", []):
            span = spans.setdefault(finding["id"], {**finding, "first": night, "nights": 0})
            span["last"] = night
            span["nights"] += 1
            span["acknowledged_last"] = finding.get("acknowledged", False)
    questions = sorted({q for record in records for q in record.get("observations", {})})
    latency: dict[str, list[float]] = {}
    for record in records:
        for kind, figures in record.get("latency_ms", {}).items():
            latency.setdefault(kind, []).append(float(figures.get("p50", 0.0)))
    return Summary(
        nights=len(records),
        findings=tuple(
            FindingSpan(
                id=span["id"],
                check=span["check"],
                pointer=span["pointer"],
                interaction=span["interaction"],
                title=span["title"],
                severity=span["severity"],
                first=span["first"],
                last=span["last"],
                nights=span["nights"],
                acknowledged_last=span["acknowledged_last"],
            )
            for span in spans.values()
        ),
        questions=tuple(
            _tally_question(
                question,
                [r.get("observations", {}).get(question, {}).get("reading") for r in records],
                settle_after,
            )
            for question in questions
        ),
        latency={kind: tuple(values) for kind, values in latency.items()},
        outcomes=tuple(str(r.get("outcome")) for r in records),
    )
