"""The baseline: findings a team has seen and acknowledged, so a nightly run fails only on new ones.

A JSON file of entries, each naming a finding by its check, its JSON pointer and an interaction
pattern (``live-case-*``), or by its stable id, with the reason it is acknowledged, who said so
and, optionally, until when. A finding an entry matches is reported as acknowledged and does not
fail the run (even under ``--strict-drift``); an entry past its ``until`` date fails the run,
naming it; an entry nothing matched is stale. A field the loader does not know is an error naming
the field meant. ``updated`` makes a run's findings the file's entries (those already there keep
their reason, who and until; the new ones get an ``until``, so an acknowledgement is revisited)
and says what it added, kept and dropped; ``write`` writes it atomically.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contracts.fixtures import write_atomically
from ..core.inert import terminal
from ..core.interaction import read_json_file
from ..core.misspelling import unknown_fields
from ..core.violations import Violation

__all__ = [
    "BASELINE_NAME",
    "DEFAULT_UNTIL_DAYS",
    "Baseline",
    "BaselineEntry",
    "BaselineError",
    "BaselineUpdate",
    "Judgement",
    "load_baseline",
    "parse_until",
]

BASELINE_NAME = "face-detect acknowledged findings"
# The fields of the file and of an entry; the loader refuses any other, naming the one meant.
_FILE_FIELDS = ("baseline", "entries")
_FIELDS = ("check", "pointer", "interaction", "id", "reason", "who", "until")
# An acknowledgement nobody revisits hides a finding for good: an entry an update adds lapses
# after this many days (then the run fails, naming it) unless --baseline-until says otherwise.
DEFAULT_UNTIL_DAYS = 30
_DAYS = re.compile(r"([0-9]{1,5})d")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _today() -> dt.date:
    """Today in UTC: an ``until`` date means the same day on every runner."""
    return dt.datetime.now(dt.UTC).date()


def parse_until(
    text: str, *, today: dt.date | None = None, option: str = "--baseline-until"
) -> dt.date:
    """The ``until`` date of ``text``: ``YYYY-MM-DD``, or ``Nd``, N days after ``today`` (UTC).

    ``ValueError`` naming ``option`` unless it is a date after today: an entry added with an
    earlier one would fail the very next run.
    """
    today = today or _today()
    value, until = text.strip(), None
    try:
        if (days := _DAYS.fullmatch(value)) is not None:
            until = today + dt.timedelta(days=int(days[1]))
        elif _DATE.fullmatch(value):
            until = dt.date.fromisoformat(value)
    except ValueError:  # 2027-02-30 (five digits of days overflow no date)
        until = None
    if until is None:
        raise ValueError(
            f"{option} {text!r}: give a date YYYY-MM-DD or a number of days such as "
            f"{DEFAULT_UNTIL_DAYS}d"
        )
    if until <= today:
        raise ValueError(
            f"{option} {text!r} is not after today ({today.isoformat()}, UTC): the entries it "
            f"adds would fail the next run; give a later date"
        )
    return until


class BaselineError(ValueError):
    """The baseline file is malformed; the message names the entry, the field and the fix."""


@dataclass(frozen=True)
class BaselineEntry:
    """One acknowledged finding (or family of findings, by interaction pattern)."""

    reason: str
    check: str | None = None
    pointer: str | None = None
    interaction: str = "*"
    id: str | None = None
    who: str = ""
    until: dt.date | None = None

    def matches(self, finding: Violation) -> bool:
        if self.id is not None:
            return finding.id == self.id
        return (
            finding.check == self.check
            and finding.pointer == (self.pointer or "")
            and fnmatch.fnmatchcase(finding.interaction, self.interaction)
        )

    def expired(self, today: dt.date) -> bool:
        return self.until is not None and today > self.until

    def describe(self) -> str:
        what = self.id or f"{self.check} at {self.pointer or '/'} on {self.interaction}"
        return what + (f" (until {self.until.isoformat()})" if self.until else "")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.id is not None:
            data["id"] = self.id
        else:
            data |= {
                "check": self.check,
                "pointer": self.pointer or "",
                "interaction": self.interaction,
            }
        data["reason"] = self.reason
        if self.who:
            data["who"] = self.who
        if self.until is not None:
            data["until"] = self.until.isoformat()
        return data


@dataclass(frozen=True)
class Judgement:
    """A run's findings seen through the baseline."""

    new: tuple[Violation, ...]
    acknowledged: tuple[tuple[Violation, BaselineEntry], ...]
    expired: tuple[BaselineEntry, ...]
    stale: tuple[BaselineEntry, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "new": [v.id for v in self.new],
            "acknowledged": [
                {"id": v.id, "reason": entry.reason, "who": entry.who}
                for v, entry in self.acknowledged
            ],
            "expired": [entry.to_dict() for entry in self.expired],
            "stale": [entry.to_dict() for entry in self.stale],
        }


@dataclass(frozen=True)
class Baseline:
    """The entries of one baseline file."""

    path: Path
    entries: tuple[BaselineEntry, ...] = field(default=())

    def acknowledges(self, finding: Violation, today: dt.date | None = None) -> bool:
        """Whether an entry still in date acknowledges this finding (so it fails no test)."""
        today = today or _today()
        return any(e.matches(finding) and not e.expired(today) for e in self.entries)

    def judge(self, findings: Iterable[Violation], today: dt.date | None = None) -> Judgement:
        today = today or _today()
        new, acknowledged, used = [], [], set()
        for finding in findings:
            entry = next((e for e in self.entries if e.matches(finding)), None)
            if entry is None:
                new.append(finding)
            else:
                acknowledged.append((finding, entry))
                used.add(entry)
        expired = tuple(e for e in self.entries if e.expired(today))
        stale = tuple(e for e in self.entries if e not in used and not e.expired(today))
        return Judgement(tuple(new), tuple(acknowledged), expired, stale)

    def updated(
        self,
        findings: Sequence[Violation],
        *,
        who: str = "",
        until: dt.date | None = None,
        today: dt.date | None = None,
    ) -> BaselineUpdate:
        """The baseline that acknowledges exactly these findings, and what changed.

        An entry that matches a finding is kept as it is (reason, who, until); each other finding
        gets a new entry acknowledged ``until`` (default: ``DEFAULT_UNTIL_DAYS`` after ``today``,
        UTC); an entry that matches none is dropped.
        """
        today = today or _today()
        until = until or today + dt.timedelta(days=DEFAULT_UNTIL_DAYS)
        entries: list[BaselineEntry] = []
        kept: list[int] = []  # indices: two equal entries in the file are two entries
        added: list[tuple[BaselineEntry, str]] = []
        for finding in findings:
            index = next((i for i, e in enumerate(self.entries) if e.matches(finding)), None)
            if index is not None:
                if index not in kept:
                    kept.append(index)
                    entries.append(self.entries[index])
                continue
            if any(entry.matches(finding) for entry, _ in added):
                continue  # the same finding twice (a case sent twice): one entry
            entry = BaselineEntry(
                reason=f"acknowledged: {finding.title} (say why)",
                check=finding.check,
                pointer=finding.pointer,
                interaction=finding.interaction,
                who=who,
                until=until,
            )
            entries.append(entry)
            added.append((entry, finding.id))
        return BaselineUpdate(
            Baseline(self.path, tuple(entries)),
            added=tuple(added),
            kept=tuple(self.entries[i] for i in kept),
            dropped=tuple(e for i, e in enumerate(self.entries) if i not in kept),
            until=until,
            today=today,
        )

    def write(self) -> Path:
        data = {"baseline": BASELINE_NAME, "entries": [e.to_dict() for e in self.entries]}
        write_atomically(self.path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return self.path


@dataclass(frozen=True)
class BaselineUpdate:
    """What ``Baseline.updated`` made: the baseline to write, and what it added, kept, dropped."""

    baseline: Baseline
    added: tuple[tuple[BaselineEntry, str], ...]  # each with the id of the finding it is for
    kept: tuple[BaselineEntry, ...]
    dropped: tuple[BaselineEntry, ...]  # in the file before, matched no finding of the run
    until: dt.date  # the new entries'
    today: dt.date

    def write(self) -> Path:
        """Write the updated baseline (atomically); its path."""
        return self.baseline.write()

    def summary_lines(self) -> list[str]:
        """What the update did, for the terminal: a count line, then one line per entry."""
        past = sum(e.expired(self.today) for e in self.kept)
        counts = (
            f"{len(self.added)} added"
            + (f" (until {self.until.isoformat()})" if self.added else "")
            + f", {len(self.kept)} kept"
            + (f" ({past} past {'its' if past == 1 else 'their'} date)" if past else "")
            + f", {len(self.dropped)} dropped"
            + (" (matched nothing)" if self.dropped else "")
        )
        # Pointers and checks name fields the endpoint chose: shown inert.
        return [
            f"baseline updated: {counts}: {self.baseline.path}",
            *(f"  added   {terminal(e.describe())} [{finding}]" for e, finding in self.added),
            *(f"  kept    {terminal(e.describe())}" for e in self.kept),
            *(f"  dropped {terminal(e.describe())}" for e in self.dropped),
        ]


def _where(path: Path, index: int, raw: Any) -> str:
    """``FILE: entry N ('NAME')``: an entry is named by its id, else its check and pointer."""
    name = None
    if isinstance(raw, dict):
        if isinstance(raw.get("id"), str):
            name = raw["id"]
        elif isinstance(raw.get("check"), str):
            pointer = raw.get("pointer")
            name = raw["check"] + (f" at {pointer}" if isinstance(pointer, str) else "")
    return f"{path}: entry {index}" + (f" ({name!r})" if name is not None else "")


def _entry(raw: Any, where: str) -> BaselineEntry:
    if not isinstance(raw, dict):
        raise BaselineError(f"{where}: is {type(raw).__name__}; make it an object")
    unknown = unknown_fields(raw, _FIELDS)
    if unknown is not None:
        raise BaselineError(f"{where}: {unknown}")
    for name in raw:
        if not isinstance(raw[name], str):
            raise BaselineError(
                f"{where}: field {name!r} is {json.dumps(raw[name])}; give a string"
            )
    if not raw.get("reason", "").strip():
        raise BaselineError(
            f"{where}: field 'reason' is missing or empty; say why it is acknowledged"
        )
    if "id" not in raw and "check" not in raw:
        raise BaselineError(
            f"{where}: give field 'id' (a finding's id) or 'check' with 'pointer' and "
            f"'interaction' (a pattern such as live-case-*)"
        )
    until = None
    if "until" in raw:
        try:
            until = dt.date.fromisoformat(raw["until"])
        except ValueError:
            raise BaselineError(
                f"{where}: field 'until' is {json.dumps(raw['until'])}; give a date YYYY-MM-DD"
            ) from None
    return BaselineEntry(
        reason=raw["reason"],
        check=raw.get("check"),
        pointer=raw.get("pointer"),
        interaction=raw.get("interaction", "*"),
        id=raw.get("id"),
        who=raw.get("who", ""),
        until=until,
    )


def load_baseline(path: Path, *, missing_ok: bool = False) -> Baseline:
    """The baseline of ``path``; ``BaselineError`` names the entry and the field of a problem.

    ``missing_ok``: a file that does not exist yet is an empty baseline (``--update-baseline``).
    """
    if not path.exists() and missing_ok:
        return Baseline(path)
    if path.is_dir():
        raise BaselineError(f"{path}: is a directory; give the baseline file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BaselineError(
            f"{path}: cannot read the baseline ({exc.strerror}); check the path"
        ) from None
    data = read_json_file(path, raw, BaselineError)
    unknown = unknown_fields(data, _FILE_FIELDS) if isinstance(data, dict) else None
    if unknown is not None:
        raise BaselineError(f"{path}: top level: {unknown}")
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise BaselineError(
            f'{path}: give {{"baseline": "{BASELINE_NAME}", "entries": [...]}}; found '
            f"{type(data).__name__}"
        )
    return Baseline(
        path, tuple(_entry(raw, _where(path, i, raw)) for i, raw in enumerate(data["entries"]))
    )
