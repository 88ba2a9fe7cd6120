"""The history of live runs: one JSON line per run, and what the nights say together.

A nightly run stands alone; the history lets the nights add up: each finding's first and last
night, the readings each open question got night after night (``settling`` turns a long enough run
of one reading into a contract change), and how the endpoint's latency and boxes moved.

A record is appended as one write at the end of the file, under an exclusive lock on it
(``fcntl.flock``), so concurrent runs sharing a history lose no night; where ``fcntl`` does not
exist (Windows) the append is unlocked: best effort. The file keeps its mode; a new one gets the
process's umask. Loading checks every field the summary and the reports read, and a malformed
record is a ``HistoryError`` naming its line and field.

A run of several models has one line too: its ``models`` map each model to its own outcome (a
run of one model has none), its findings and cases name ``<model>/<request>`` already, and its
open questions are each model's, keyed ``<model>/<question>`` (the models share question ids, and
one model's reading must not overwrite another's).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core import inert
from ..live.models import qualified
from .model import LiveReport

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: appends are not locked (best effort)
    fcntl = None  # type: ignore[assignment]

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
    record = {
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
    if report.parts:
        record["models"] = {part.model: part.outcome for part in report.parts}
        record["observations"] = {
            qualified(part.model, o.question): {"reading": o.reading, "answer": o.answer}
            for part in report.parts
            for o in part.observations
        }
    return record


def load_history(path: Path, *, missing_ok: bool = True) -> list[dict[str, Any]]:
    """The records of ``path`` in order; ``HistoryError`` names a malformed line and field."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if missing_ok:
            return []
        raise HistoryError(
            f"{path}: no such history file; a live run with --history makes one"
        ) from None
    except OSError as exc:
        raise HistoryError(f"{path}: cannot read it ({exc.strerror}); check the path") from None
    if stat.S_ISDIR(mode):
        raise HistoryError(f"{path}: is a directory; give the history file (JSON lines)")
    if not stat.S_ISREG(mode):  # a FIFO would hang the read, a device fill the memory
        raise HistoryError(f"{path}: is not a regular file; give the history file (JSON lines)")
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
        problem = _problem(record)
        if problem is not None:
            raise HistoryError(
                inert.terminal(
                    f"{path}:{number}: field {problem}; remove the line or restore the file"
                )
            )
        records.append(record)
    return records


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _objects_of(value: Any, where: str, item: Callable[[Any, str], str | None]) -> str | None:
    if not isinstance(value, dict):
        return f"{where} is {type(value).__name__}, not an object"
    for key, inner in value.items():
        problem = item(inner, f"{where}/{key}")
        if problem is not None:
            return problem
    return None


def _finding(value: Any, where: str) -> str | None:
    if not isinstance(value, dict):
        return f"{where} is {type(value).__name__}, not an object"
    for name in ("id", "check", "pointer", "interaction", "title", "severity"):
        if name not in value:
            return f"{where}/{name} is missing"
        if not _is_text(value[name]):
            return f"{where}/{name} is {type(value[name]).__name__}, not a string"
    if not isinstance(value.get("acknowledged", False), bool):
        return f"{where}/acknowledged is not true or false"
    return None


def _observation(value: Any, where: str) -> str | None:
    if not isinstance(value, dict):
        return f"{where} is {type(value).__name__}, not an object"
    reading = value.get("reading")
    if reading is not None and not _is_text(reading):
        return f"{where}/reading is {type(reading).__name__}, not a string or null"
    return None


def _latency(value: Any, where: str) -> str | None:
    if not isinstance(value, dict):
        return f"{where} is {type(value).__name__}, not an object"
    if "p50" in value and not _is_number(value["p50"]):
        return f"{where}/p50 is {type(value['p50']).__name__}, not a number"
    return None


def _outcome(value: Any, where: str) -> str | None:
    return None if _is_text(value) else f"{where} is {type(value).__name__}, not a string"


def _iou(value: Any, where: str) -> str | None:
    return _objects_of(
        value,
        where,
        lambda v, at: None if _is_number(v) else f"{at} is {type(v).__name__}, not a number",
    )


def _problem(record: Mapping[str, Any]) -> str | None:
    """What is wrong with one record's fields that the summary and the reports read (a JSON
    pointer and why), or ``None``."""
    for name in ("time", "outcome", "endpoint"):
        if name in record and not _is_text(record[name]):
            return f"/{name} is {type(record[name]).__name__}, not a string"
    findings = record.get("findings", [])
    if not isinstance(findings, list):
        return f"/findings is {type(findings).__name__}, not a list"
    for index, finding in enumerate(findings):
        problem = _finding(finding, f"/findings/{index}")
        if problem is not None:
            return problem
    for name, item in (
        ("observations", _observation),
        ("latency_ms", _latency),
        ("iou", _iou),
        ("models", _outcome),
    ):
        problem = _objects_of(record.get(name, {}), f"/{name}", item)
        if problem is not None:
            return problem
    return None


def append(path: Path, record: Mapping[str, Any]) -> Path:
    """Add one record at the end of the history, under an exclusive lock on the file."""
    line = json.dumps(inert.encodable(record), ensure_ascii=False, sort_keys=True) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: every write lands at the end, whatever another process wrote meanwhile; a new
    # file gets 0666 less the umask, an existing one keeps its mode. O_NONBLOCK: a FIFO without
    # a reader fails at once instead of hanging the run.
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0)
    handle = os.open(path, flags, 0o666)
    try:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise OSError(f"{path} is not a regular file")
        data = line.encode("utf-8")
        size = os.fstat(handle).st_size
        if size and _last_byte(path, size) != b"\n":
            data = b"\n" + data  # a line cut short by a crash stays its own (malformed) line
        while data:
            data = data[os.write(handle, data) :]
        os.fsync(handle)
    finally:
        os.close(handle)  # closing releases the lock
    return path


def _last_byte(path: Path, size: int) -> bytes:
    with open(path, "rb") as stream:
        stream.seek(size - 1)
        return stream.read(1)


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
    # A run of several models' nights: model -> its outcome on each night (None: not run).
    models: Mapping[str, tuple[str | None, ...]] = field(default_factory=dict)

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
        models={
            model: tuple(r.get("models", {}).get(model) for r in records)
            for model in dict.fromkeys(m for r in records for m in r.get("models", {}))
        },
    )
