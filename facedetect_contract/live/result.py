"""The result of a live run, frozen: what the run knew when it was asked, for the report to tell.

The report used to reach into the running ``LiveRun`` and work out again what the run had known:
each answer's outcome, the recording a case was compared with, the open questions' observations,
the boxes per case and their overlap. Two places deriving one fact can disagree, and the report
had to import the run. Now the run hands over this value (``LiveRun.result``), made once, that
nothing can change afterwards; the report (``report.model``) only tells it.

Errors of the run are (request, cause) pairs (``RunError``), not ``"<request>: <cause>"`` strings
a reader splits again: a cause may itself hold ``": "``, and an error of the whole run may begin
with a word that is also a request's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..contracts.cases import LiveCase
from ..contracts.loader import Contracts
from ..contracts.outcome import Outcome
from ..core import geometry
from ..core.interaction import Interaction
from ..core.violations import Violation
from .budget import Spend
from .judging import Verdict
from .observations import Observation

__all__ = ["CaseResult", "RequestResult", "RunError", "RunResult"]


def _recorded_box(recorded: Outcome, role: str) -> geometry.Box | None:
    """The box of ``role`` (``face_box``, ``crop_box``: the profile's roles) a recording had."""
    box: geometry.Box | None = getattr(recorded, role, None)  # Outcome names its boxes by role
    return box


@dataclass(frozen=True)
class RunError:
    """One error of the run: its cause, and the request it hit (empty: the run as a whole)."""

    cause: str
    request: str = ""

    def __str__(self) -> str:
        """The error as one line, as the run used to say it: ``"<request>: <cause>"``."""
        return f"{self.request}: {self.cause}" if self.request else self.cause

    def __contains__(self, text: object) -> bool:
        """Whether ``text`` is part of the error's line (the test ``"..." in error`` that read
        the string form still reads it)."""
        return isinstance(text, str) and text in str(self)


@dataclass(frozen=True)
class RequestResult:
    """One request of the run: its verdict, and the recording its answer was compared with
    (with that recording's outcome), when there was one."""

    verdict: Verdict
    recording: Interaction | None = None
    recorded: Outcome | None = None  # the recording's outcome, as the contracts classify it

    @property
    def name(self) -> str:
        return self.verdict.name


@dataclass(frozen=True)
class CaseResult:
    """One live case as the run saw it: the boxes received (read at their documented pointers,
    whatever the verdict), the boxes they are compared with and where those come from (a
    recording, or the cases file, which wins), and the IoU of each pair."""

    case: LiveCase
    request: str
    outcome: str  # the answer's kind, or the verdict's status when no answer was classified
    boxes: tuple[tuple[str, geometry.Box | None], ...]  # (field name, box) per documented box
    reference: tuple[tuple[str, geometry.Box], ...]
    reference_source: str
    iou: tuple[tuple[str, float], ...]

    @classmethod
    def of(cls, request: RequestResult, contracts: Contracts) -> CaseResult | None:
        """The case row of ``request`` (``None`` when it is no case)."""
        verdict = request.verdict
        case = verdict.planned.case
        if case is None:
            return None
        boxes = contracts.profile.boxes  # role -> pointer; none for a model without boxes
        # Read at their documented pointers whatever the verdict: a drift case (its verdict
        # field renamed, a box moved) still shows the boxes it received.
        answer = verdict.interaction.response if verdict.interaction is not None else None
        body = answer.body if answer is not None and answer.body_is_json else None
        live: dict[str, geometry.Box | None] = {
            at.name: _box(value) if geometry.is_box(value := at.get(body)) else None
            for at in boxes.values()
        }
        reference: dict[str, geometry.Box] = {}
        source = ""
        recorded = request.recorded
        if request.recording is not None and recorded is not None:
            for role, at in boxes.items():
                box = _recorded_box(recorded, role)
                if box is not None:
                    reference[at.name] = _box(box)
            source = f"fixture {request.recording.name}"
        for at in boxes.values():
            expected = case.expected_box(at.name)
            if expected is not None:
                reference[at.name] = _box(expected)
                source = "the cases file"
        iou = {
            name: geometry.iou(mine, box)
            for name, box in reference.items()
            if (mine := live.get(name)) is not None
        }
        outcome = verdict.outcome
        return cls(
            case=case,
            request=verdict.name,
            outcome=outcome.kind if outcome is not None else verdict.status,
            boxes=tuple(live.items()),
            reference=tuple(reference.items()),
            reference_source=source,
            iou=tuple(iou.items()),
        )


def _box(value: Sequence[int]) -> geometry.Box:
    a, b, c, d = value
    return (a, b, c, d)


@dataclass(frozen=True)
class RunResult:
    """Everything a live run found and saw, as it stood when asked; nothing can change it."""

    endpoint: str
    strict_drift: bool
    contracts_version: str
    requests: tuple[RequestResult, ...]  # in the plan's order, each with a verdict
    cases: tuple[CaseResult, ...]
    run_findings: tuple[Violation, ...]  # the checks across the run's answers
    errors: tuple[RunError, ...]
    spend: Spend
    observations: tuple[Observation, ...]  # empty when the questions were not observed
    recorded: tuple[Path, ...]
    not_recorded: tuple[tuple[str, int], ...]  # (why, how many answers) under --record
    selected: frozenset[str]  # every request a test asked for
    missing: tuple[str, ...]  # selected requests with no verdict
    interrupted: bool
    started: datetime | None
    finished: datetime | None
    throttled: int  # throttled answers seen, retried ones included
    sources: tuple[tuple[str, str], ...]  # (title, url) of the docs the checks rest on
    model: str = ""  # the model the run sent (the profile's)
    box_names: tuple[str, ...] = ()  # the fields of the boxes the model gives (none: no boxes)

    @property
    def verdicts(self) -> tuple[Verdict, ...]:
        return tuple(r.verdict for r in self.requests)

    @property
    def findings(self) -> tuple[Violation, ...]:
        """Every finding: each answer's, in the plan's order, then the run's."""
        return (*(v for r in self.requests for v in r.verdict.violations), *self.run_findings)

    @property
    def duration_s(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return (self.finished - self.started).total_seconds()
