"""The report model of a live run: everything it found and saw, one value every format renders.

It says what drifted (findings by severity, each with its JSON pointer, what was received and
what is documented), what went wrong with the run itself (an unreachable endpoint is an error,
never drift), whether the run is complete, what it spent, and what the endpoint was observed to
do on each open question (by id, linked to ``docs/endpoint.md``). ``redacted`` passes every text
through the run's redactor; nothing else may be written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from ..budget import Spend
from ..live import LiveRun
from ..observations import Observation, observe
from ..redaction import Redactor
from ..violations import Severity, Violation

__all__ = ["NOTES", "REPORT_NAME", "LiveReport", "Outcome"]

REPORT_NAME = "face-detect live drift report"
NOTES = "docs/endpoint.md"  # where each open question's id has its section
Outcome = Literal[
    "passed", "passed with warnings", "drift", "error", "incomplete", "nothing sent", "interrupted"
]
PASSING: frozenset[str] = frozenset({"passed", "passed with warnings"})


def _request_row(verdict: Any) -> dict[str, Any]:
    interaction = verdict.interaction
    outcome = verdict.outcome
    return {
        "name": verdict.name,
        "kind": verdict.planned.kind,
        "description": verdict.planned.description,
        "outcome": verdict.status,
        "http_status": interaction.response.status if interaction is not None else None,
        "code": outcome.code if outcome is not None else None,
        "billable": verdict.planned.billable,
        "attempts": len(verdict.attempts),
        "breaking": len(verdict.breaking),
        "additive": len(verdict.additive),
        "note": verdict.reason,
    }


@dataclass(frozen=True)
class LiveReport:
    """Everything a live run found and saw, ready to be written or summarised."""

    endpoint: str
    generated_at: str
    strict_drift: bool
    findings: tuple[Violation, ...]
    errors: tuple[str, ...]
    spend: Spend
    observations: tuple[Observation, ...]
    requests: tuple[dict[str, Any], ...]
    recorded: tuple[str, ...]
    duration_s: float | None = None
    not_recorded: tuple[tuple[str, int], ...] = ()  # (why, how many answers) under --record
    selected: int = 0  # requests the tests asked for
    missing: tuple[str, ...] = ()  # selected requests with no verdict
    interrupted: bool = False
    cases: tuple[dict[str, Any], ...] = ()  # for renderings that draw the boxes
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_run(cls, run: LiveRun, *, observe_questions: bool = True) -> LiveReport:
        verdicts = [run.verdicts[name] for name in run.plan if name in run.verdicts]
        findings = sorted(
            [*(v for verdict in verdicts for v in verdict.violations), *run.run_findings],
            key=lambda v: (v.severity is not Severity.BREAKING, v.interaction, v.pointer),
        )
        duration = (
            (run.finished - run.started).total_seconds()
            if run.started is not None and run.finished is not None
            else None
        )
        cases = tuple(
            {
                "name": v.planned.case.name,
                "request": v.name,
                "image": v.planned.case.image_url,
                "ratio": v.planned.case.ratio,
                "expect": v.planned.case.expect,
                "outcome": v.outcome.kind if v.outcome is not None else v.status,
                "face_box": list(v.outcome.face_box) if v.outcome and v.outcome.face_box else None,
                "crop_box": list(v.outcome.crop_box) if v.outcome and v.outcome.crop_box else None,
                "expected": {
                    at.name: list(box)
                    for at in run.contracts.profile.response.boxes
                    if (box := v.planned.case.expected_box(at.name)) is not None
                },
                "image_size": list(v.planned.case.image_size or ()) or None,
            }
            for v in verdicts
            if v.planned.case is not None
        )
        return cls(
            endpoint=run.url,
            generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
            strict_drift=run.settings.strict_drift,
            findings=tuple(findings),
            errors=tuple(run.all_errors),
            spend=run.spend,
            observations=tuple(observe(verdicts, run.contracts)) if observe_questions else (),
            requests=tuple(_request_row(v) for v in verdicts),
            recorded=tuple(str(path) for path in run.recorded),
            duration_s=duration,
            not_recorded=tuple(sorted(run.not_recorded.items())),
            selected=len(run.selected),
            missing=run.missing,
            interrupted=run.interrupted,
            cases=cases,
        )

    # -- verdict -------------------------------------------------------------------------------

    def by_severity(self, severity: Severity) -> tuple[Violation, ...]:
        return tuple(v for v in self.findings if v.severity is severity)

    @property
    def sent(self) -> int:
        return sum(1 for r in self.requests if r["outcome"] != "not-sent")

    @property
    def outcome(self) -> Outcome:
        breaking = self.by_severity(Severity.BREAKING)
        additive = self.by_severity(Severity.ADDITIVE)
        if self.interrupted:
            return "interrupted"
        if breaking or (self.strict_drift and additive):
            return "drift"
        if self.errors:
            return "error"
        if self.missing:
            return "incomplete"
        if self.sent == 0:
            return "nothing sent"
        return "passed with warnings" if additive else "passed"

    @property
    def exit_status(self) -> int:
        """0 when the run checked something and found nothing breaking, else 1."""
        return 0 if self.outcome in PASSING else 1

    def why_not_passed(self) -> str:
        """One sentence on what keeps the outcome from "passed" (empty when it passed)."""
        outcome = self.outcome
        return {
            "interrupted": "the run was interrupted before every request was judged",
            "drift": "breaking findings (see below)"
            + (", or additive ones under --strict-drift" if self.strict_drift else ""),
            "error": "errors of the run: the endpoint could not be judged on every request",
            "incomplete": f"{len(self.missing)} selected request(s) got no verdict",
            "nothing sent": (
                "no request was sent: "
                + (
                    "no live test was selected"
                    if self.selected == 0
                    else "every selected request was skipped (the budget, or the deadline)"
                )
            ),
        }.get(outcome, "")

    def headline(self) -> str:
        breaking = len(self.by_severity(Severity.BREAKING))
        additive = len(self.by_severity(Severity.ADDITIVE))
        text = f"{self.outcome}: {breaking} breaking, {additive} additive finding(s)"
        if self.errors:
            text += f", {len(self.errors)} error(s) of the run"
        text += f"; {self.sent} of {len(self.requests)} request(s) sent"
        return text

    def recording_line(self) -> str:
        """What ``--record`` wrote, and how many answers it left out and why."""
        text = f"recorded {len(self.recorded)} fixture(s)"
        if self.not_recorded:
            text += "; not recorded: " + ", ".join(
                f"{count} {why}" for why, count in self.not_recorded
            )
        return text

    def summary_lines(self) -> list[tuple[str, Literal["red", "yellow", "green", ""]]]:
        """Lines for the terminal summary, each with the colour of its severity."""
        colour: Literal["red", "yellow", "green"] = (
            "red" if self.exit_status else ("yellow" if self.findings else "green")
        )
        lines: list[tuple[str, Literal["red", "yellow", "green", ""]]] = [
            (f"{self.headline()} (endpoint {self.endpoint})", colour)
        ]
        if self.why_not_passed():
            lines.append((f"not passed: {self.why_not_passed()}", "red"))
        for severity in (Severity.BREAKING, Severity.ADDITIVE):
            for v in self.by_severity(severity):
                label = "BREAKING" if severity is Severity.BREAKING else "warning "
                tone: Literal["red", "yellow"] = (
                    "red" if severity is Severity.BREAKING else "yellow"
                )
                lines.append(
                    (f"{label} {v.interaction} at {v.pointer or '/'}: {v.check}: {v.title}", tone)
                )
        for error in self.errors:
            lines.append((f"ERROR    {error}", "red"))
        lines.append((str(self.spend), ""))
        if self.recorded or self.not_recorded:
            lines.append((self.recording_line(), ""))
        observed = sum(1 for o in self.observations if o.observed)
        lines.append(
            (f"observed {observed} of {len(self.observations)} open questions ({NOTES})", "")
        )
        return lines

    def redacted(self, redactor: Redactor) -> LiveReport:
        """A copy whose every text passed the redactor: what may be written or shown."""
        clean = redactor.tree
        return dataclasses.replace(
            self,
            endpoint=redactor.text(self.endpoint),
            findings=tuple(
                Violation(**{**clean(v.to_dict()), "severity": v.severity}) for v in self.findings
            ),
            errors=tuple(clean(list(self.errors))),
            observations=tuple(
                Observation(
                    o.question,
                    clean(o.topic),
                    clean(o.answer),
                    o.reading,
                    tuple(clean(list(o.evidence))),
                )
                for o in self.observations
            ),
            requests=tuple(clean(list(self.requests))),
            recorded=tuple(clean(list(self.recorded))),
            missing=tuple(clean(list(self.missing))),
            cases=tuple(clean(list(self.cases))),
            extra=clean(dict(self.extra)),
        )

    def to_dict(self) -> dict[str, Any]:
        from .. import __version__  # noqa: PLC0415  # the package imports this module

        return {
            "report": REPORT_NAME,
            "tool": f"facedetect-contract {__version__}",
            "generated_at": self.generated_at,
            "endpoint": self.endpoint,
            "outcome": self.outcome,
            "exit_status": self.exit_status,
            "why_not_passed": self.why_not_passed(),
            "strict_drift": self.strict_drift,
            "counts": {
                "breaking": len(self.by_severity(Severity.BREAKING)),
                "additive": len(self.by_severity(Severity.ADDITIVE)),
                "errors": len(self.errors),
                "requests": len(self.requests),
                "selected": self.selected,
                "sent": self.sent,
                "missing": len(self.missing),
            },
            "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
            "findings": [v.to_dict() for v in self.findings],
            "errors": list(self.errors),
            "missing": list(self.missing),
            "spend": self.spend.to_dict(),
            "observations": [
                {**o.to_dict(), "notes": f"{NOTES}#{o.question}"} for o in self.observations
            ],
            "requests": list(self.requests),
            "cases": list(self.cases),
            "recorded": list(self.recorded),
            "not_recorded": dict(self.not_recorded),
            **dict(self.extra),
        }
