"""The baseline: findings a team has seen and acknowledged, so a nightly run fails only on new ones.

A JSON file of entries, each naming a finding by its check, its JSON pointer and an interaction
pattern (``live-case-*``), or by its stable id, with the reason it is acknowledged, who said so
and, optionally, until when. A finding an entry matches is reported as acknowledged and does not
fail the run (even under ``--strict-drift``); an entry past its ``until`` date fails the run,
naming it; an entry nothing matched is stale. ``update`` writes a run's findings into the file,
keeping the reasons and names already there, atomically.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .fixtures import write_atomically
from .interaction import read_json_file
from .violations import Violation

__all__ = [
    "BASELINE_NAME",
    "Baseline",
    "BaselineEntry",
    "BaselineError",
    "Judgement",
    "load_baseline",
]

BASELINE_NAME = "face-detect acknowledged findings"
_FIELDS = {"check", "pointer", "interaction", "id", "reason", "who", "until"}


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
        today = today or dt.datetime.now(dt.UTC).date()
        return any(e.matches(finding) and not e.expired(today) for e in self.entries)

    def judge(self, findings: Iterable[Violation], today: dt.date | None = None) -> Judgement:
        today = today or dt.datetime.now(dt.UTC).date()
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

    def updated(self, findings: Sequence[Violation], *, who: str = "") -> Baseline:
        """The baseline that acknowledges exactly these findings, keeping what entries said."""
        entries = []
        for finding in findings:
            known = next((e for e in self.entries if e.matches(finding)), None)
            if known is not None:
                if known not in entries:
                    entries.append(known)
                continue
            entries.append(
                BaselineEntry(
                    reason=f"acknowledged: {finding.title} (say why)",
                    check=finding.check,
                    pointer=finding.pointer,
                    interaction=finding.interaction,
                    who=who,
                )
            )
        return Baseline(self.path, tuple(entries))

    def write(self) -> Path:
        data = {"baseline": BASELINE_NAME, "entries": [e.to_dict() for e in self.entries]}
        write_atomically(self.path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return self.path


def _entry(raw: Any, where: str) -> BaselineEntry:
    if not isinstance(raw, dict):
        raise BaselineError(f"{where}: is {type(raw).__name__}; make it an object")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise BaselineError(f"{where}: unknown field(s) {unknown}; known: {sorted(_FIELDS)}")
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
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise BaselineError(
            f'{path}: give {{"baseline": "{BASELINE_NAME}", "entries": [...]}}; found '
            f"{type(data).__name__}"
        )
    return Baseline(
        path, tuple(_entry(raw, f"{path}: entry {i}") for i, raw in enumerate(data["entries"]))
    )
