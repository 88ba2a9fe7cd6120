"""The report model of a live run: everything it found and saw, one value every format renders.

It says what drifted (findings by severity, each with its stable id and JSON pointer, what was
received and what is documented, new or acknowledged by the baseline), what went wrong with the
run itself (an unreachable endpoint is an error, never drift), whether the run is complete, what
it spent, how fast the endpoint answered, where the boxes were, and what the endpoint was observed
to do on each open question (by id, linked to ``docs/endpoint.md``). ``redacted`` passes every text
through the run's redactor; nothing else may be written.

A person reads causes, not rows: findings are shown grouped (``grouping``: one change, one line,
each finding's stable id still listed), errors of the run by cause with the requests they hit, and
a run that judged no answer at all (the endpoint down, the configuration wrong) has a verdict of
its own, "not judged", that is neither drift nor a pass.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from .. import PROJECT_URL
from ..core import inert
from ..core.redaction import Redactor
from ..core.violations import Severity, Violation
from ..live.baseline import Baseline, BaselineEntry, Judgement
from ..live.budget import Spend
from ..live.judging import Verdict, drift_fails_the_run, failing
from ..live.observations import Observation
from ..live.result import CaseResult, RunError, RunResult
from .grouping import FindingGroup, group_findings

if TYPE_CHECKING:  # the run itself is never imported here: the report reads its result
    from ..live.run import LiveRun

__all__ = [
    "MODELS_HEADER",
    "NOTES",
    "NOTES_URL",
    "NOT_JUDGED",
    "REPORT_NAME",
    "ErrorCause",
    "LiveReport",
    "RunOutcome",
    "first_few",
    "folded_note",
    "notes_link",
    "pointers",
]

REPORT_NAME = "face-detect live drift report"
NOTES = "docs/endpoint.md"  # where each open question's id has its section
NOTES_URL = f"{PROJECT_URL}/blob/main/{NOTES}"  # the same, from a page opened anywhere
RunOutcome = Literal[  # the run's, not an answer's (``contracts.outcome.Outcome``)
    "passed",
    "passed with warnings",
    "drift",
    "not judged",
    "error",
    "incomplete",
    "nothing sent",
    "interrupted",
]
PASSING: frozenset[str] = frozenset({"passed", "passed with warnings"})
# The outcomes that do not pass, the gravest first: a run of several models says its gravest.
_SEVERITY: tuple[str, ...] = (
    "interrupted",
    "not judged",
    "drift",
    "error",
    "incomplete",
    "nothing sent",
    "passed with warnings",
    "passed",
)
NOT_JUDGED = "not judged"  # requests were sent, and no answer could be judged
# Why no answer was judged, by the status its requests got (judging.Status), in the reader's words.
_UNJUDGED_BECAUSE: Mapping[str, str] = {
    "unreachable": "the endpoint could not be reached",
    "misconfigured": "the configuration is wrong",
    "timed-out": "no answer came before the run's deadline",
    "throttled": "the endpoint throttled every retry",
    "failing": "the endpoint kept failing",
    "broken": "the endpoint's answers were broken",
    "error": "the suite failed",
}
# The columns of the Models table of a run of several models, in every format that has one.
MODELS_HEADER = (
    "model",
    "outcome",
    "requests sent / judged",
    "breaking",
    "additive",
    "errors",
    "images billed and cost",
)
_IDS_SHOWN = 10  # finding ids on one terminal line; the reports list them all


def first_few(items: Sequence[str]) -> str:
    """The first few of ``items``, and how many more (the reports list them all): a terminal
    line's and an error cause's list of names."""
    shown = ", ".join(items[:_IDS_SHOWN])
    more = len(items) - _IDS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def notes_link(question: str) -> str:
    """The absolute address of an open question's section in the notes: works where the report
    is read (a job summary, a mail), not only beside the checkout."""
    return f"{NOTES_URL}#{question}"


@dataclass(frozen=True)
class ErrorCause:
    """Errors of the run with one cause: the cause, said once, and the requests it hit."""

    cause: str
    requests: tuple[str, ...] = ()  # empty for an error of the run as a whole
    count: int = 1

    def line(
        self, said: str | None = None, listed: Callable[[Sequence[str]], str] = first_few
    ) -> str:
        """The cause with its count and the requests it hit: plain text, not yet escaped, unless
        a format passes the cause as it says it (``said``) and its own way to list names."""
        said = self.cause if said is None else said
        if not self.requests:
            return said if self.count == 1 else f"{said} ({self.count} times)"
        plural = "s" if self.count != 1 else ""
        return f"{said} ({self.count} request{plural}: {listed(self.requests)})"

    def to_dict(self) -> dict[str, Any]:
        return {"cause": self.cause, "count": self.count, "requests": list(self.requests)}


def error_causes(errors: Sequence[RunError], requests: Iterable[str]) -> tuple[ErrorCause, ...]:
    """``errors`` by cause, in first-seen order: an error of a known request joins the others
    with the same cause, so an endpoint down is one line, not one per request; any other error
    is a cause of its own, said whole (counted when it repeats)."""
    names = set(requests)
    by_cause: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for error in errors:
        name, cause = error.request, error.cause
        if not (name in names and cause):
            name, cause = "", str(error)
        counts[cause] = counts.get(cause, 0) + 1
        listed = by_cause.setdefault(cause, [])
        if name:
            listed.append(name)
    return tuple(
        ErrorCause(cause, tuple(dict.fromkeys(names)), counts[cause])
        for cause, names in by_cause.items()
    )


def _request_row(verdict: Verdict) -> dict[str, Any]:
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
        "elapsed_ms": (
            round(interaction.elapsed * 1000, 1)
            if interaction is not None and interaction.elapsed is not None
            else None
        ),
        "breaking": len(verdict.breaking),
        "additive": len(verdict.additive),
        "note": verdict.reason,
    }


def _encodable(finding: Violation) -> Violation:
    """``finding`` with every text UTF-8 can encode: a lone surrogate the endpoint sent (in a
    field name, a code) would otherwise fail its id, the baseline's match and every report."""
    texts = {
        f.name: inert.encodable(value)
        for f in dataclasses.fields(finding)
        if isinstance(value := getattr(finding, f.name), str)
    }
    changed = {name: value for name, value in texts.items() if value != getattr(finding, name)}
    return dataclasses.replace(finding, **changed) if changed else finding


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def latency_of(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Per request kind: p50, p95 and max of the final attempts' times, in milliseconds."""
    by_kind: dict[str, list[float]] = {}
    for row in rows:
        if row.get("elapsed_ms") is not None:
            by_kind.setdefault(row["kind"], []).append(float(row["elapsed_ms"]))
    return {
        kind: {
            "p50": round(statistics.median(values), 1),
            "p95": round(_percentile(values, 0.95), 1),
            "max": round(max(values), 1),
            "n": len(values),
        }
        for kind, values in by_kind.items()
    }


def _case_row(case: CaseResult) -> dict[str, Any]:
    """A case as the reports show it: its boxes, the boxes it is compared with, their IoU."""
    return {
        "name": case.case.name,
        "request": case.request,
        "image": case.case.image_url,
        "ratio": case.case.ratio,
        "expect": case.case.expect,
        "outcome": case.outcome,
        "boxes": {name: list(box) if box is not None else None for name, box in case.boxes},
        "reference": {name: list(box) for name, box in case.reference},
        "reference_source": case.reference_source,
        "iou": {name: round(value, 3) for name, value in case.iou},
        "image_size": list(case.case.image_size) if case.case.image_size else None,
    }


def pointers(group: FindingGroup) -> tuple[str, ...]:
    """Where a group's change is: its pointer ("/" for the whole answer), and the pointer it
    probably moved to when it is a rename."""
    rename = group.renamed_to
    return (group.pointer or "/", *((rename.pointer,) if rename is not None else ()))


def folded_note(group: FindingGroup) -> str:
    """What a group's list of answers leaves out: the findings folded into it (empty if none)."""
    return f" (and {group.folded} more finding(s) folded into these)" if group.folded else ""


def _group_dict(group: FindingGroup, *, acknowledged: bool) -> dict[str, Any]:
    rename = group.renamed_to
    return {
        "headline": group.headline(),
        "check": group.check,
        "pointer": group.pointer,
        "severity": str(group.severity),
        "title": group.title,
        "count": group.count,  # a folded finding counts for every finding it stands for
        "folded": group.folded,
        "interactions": list(group.interactions),
        "ids": [v.id for v in group.members],
        "renamed_to": rename.pointer if rename is not None else None,
        "missed_expects": group.missed_expects,
        "acknowledged": acknowledged,
    }


def _model_summary(report: LiveReport) -> dict[str, Any]:
    """One model's line of the report's ``models``: its outcome, counts and spend."""
    return {
        "model": report.model,
        "outcome": report.outcome,
        "exit_status": report.exit_status,
        "headline": report.headline(),
        "why_not_passed": report.why_not_passed(),
        "endpoint": report.endpoint,
        "sent": report.sent,
        "judged": report.judged,
        "breaking": len(report.by_severity(Severity.BREAKING)),
        "additive": len(report.by_severity(Severity.ADDITIVE)),
        "new": len(report.new()),
        "errors": len(report.errors),
        "spend": report.spend.to_dict(),
    }


@dataclass(frozen=True)
class LiveReport:
    """Everything a live run found and saw, ready to be written or summarised."""

    endpoint: str
    generated_at: str
    strict_drift: bool
    findings: tuple[Violation, ...]
    errors: tuple[RunError, ...]
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
    throttled: int = 0  # 429 answers seen, retried ones included
    acknowledged: Mapping[str, BaselineEntry] = field(default_factory=dict)  # finding id -> entry
    expired: tuple[BaselineEntry, ...] = ()
    stale: tuple[BaselineEntry, ...] = ()
    contracts_version: str = ""
    history: tuple[Mapping[str, Any], ...] = ()  # the history's records, for the trend (HTML)
    sources: tuple[tuple[str, str], ...] = ()  # (title, url) of the docs the checks rest on
    extra: Mapping[str, Any] = field(default_factory=dict)
    model: str = ""  # the model the run sent, named in the headline ("" when unknown)
    # The fields of the boxes the model gives, the ones a rendering may draw; None: not known
    # (a report made by hand), so whatever boxes the cases carry are drawn.
    box_names: tuple[str, ...] | None = None
    # A run of several models (``several.of_models``): each model's own report, its names
    # qualified ``<model>/<name>``; the fields above are then the models' merged.
    parts: tuple[LiveReport, ...] = ()

    def __post_init__(self) -> None:
        # However the report is made (``from_result``, ``dataclasses.replace``), its findings can be
        # identified, matched and written: a lone surrogate becomes an escape here.
        object.__setattr__(self, "findings", tuple(_encodable(v) for v in self.findings))

    @classmethod
    def from_run(
        cls,
        run: LiveRun,
        *,
        observe_questions: bool = True,
        baseline: Baseline | None = None,
        now: datetime | None = None,
        history: Sequence[Mapping[str, Any]] = (),
        images: float = 0.0,
    ) -> LiveReport:
        """The report of ``run`` as it stands: ``from_result`` of its result."""
        return cls.from_result(
            run.result(observe_questions=observe_questions),
            baseline=baseline,
            now=now,
            history=history,
            images=images,
        )

    @classmethod
    def from_result(
        cls,
        result: RunResult,
        *,
        baseline: Baseline | None = None,
        now: datetime | None = None,
        history: Sequence[Mapping[str, Any]] = (),
        images: float = 0.0,
    ) -> LiveReport:
        """The report of a run's ``result``. ``images``: seconds to fetch the cases' images in,
        embedded as thumbnails for the HTML report (0: none fetched, nothing sent to any image
        host)."""
        findings = sorted(
            (_encodable(v) for v in result.findings),
            key=lambda v: (v.severity is not Severity.BREAKING, v.interaction, v.pointer),
        )
        when = now or datetime.now(UTC)
        judged: Judgement | None = baseline.judge(findings, when.date()) if baseline else None
        cases = tuple(_case_row(case) for case in result.cases)
        if images > 0 and cases:
            # Imported here: Pillow and the fetcher only for a run that writes an HTML report.
            from . import thumbnails  # noqa: PLC0415

            cases = thumbnails.embed(cases, budget=images)
        return cls(
            endpoint=result.endpoint,
            generated_at=when.isoformat(timespec="seconds"),
            strict_drift=result.strict_drift,
            findings=tuple(findings),
            errors=result.errors,
            spend=result.spend,
            observations=result.observations,
            requests=tuple(_request_row(v) for v in result.verdicts),
            recorded=tuple(str(path) for path in result.recorded),
            duration_s=result.duration_s,
            not_recorded=result.not_recorded,
            selected=len(result.selected),
            missing=result.missing,
            interrupted=result.interrupted,
            cases=cases,
            throttled=result.throttled,
            acknowledged={v.id: entry for v, entry in judged.acknowledged} if judged else {},
            expired=judged.expired if judged else (),
            stale=judged.stale if judged else (),
            contracts_version=result.contracts_version,
            history=tuple(history),
            sources=result.sources,
            model=result.model,
            box_names=result.box_names,
        )

    # -- verdict -------------------------------------------------------------------------------

    @property
    def models(self) -> tuple[str, ...]:
        """The models the run sent to: its parts' (several), else its own (one, or none)."""
        if self.parts:
            return tuple(part.model for part in self.parts)
        return (self.model,) if self.model else ()

    def errors_of_no_model(self) -> tuple[RunError, ...]:
        """The errors of a run of several models that are no model's: the run's own (a report
        that could not be written, ...), which no part holds (all of them for one model)."""
        of_models = Counter(error for part in self.parts for error in part.errors)
        own = []
        for error in self.errors:
            if of_models[error]:
                of_models[error] -= 1
            else:
                own.append(error)
        return tuple(own)

    def failing_models(self) -> tuple[str, ...]:
        """The models of a run of several that were asked something and did not pass, in
        order (a model no selected test asked anything of is not one)."""
        return tuple(part.model for part in self._failing_parts())

    def by_severity(self, severity: Severity) -> tuple[Violation, ...]:
        return tuple(v for v in self.findings if v.severity is severity)

    def new(self, severity: Severity | None = None) -> tuple[Violation, ...]:
        """Findings the baseline does not acknowledge (all of them without a baseline)."""
        return tuple(
            v
            for v in self.findings
            if v.id not in self.acknowledged and (severity is None or v.severity is severity)
        )

    def failing(self) -> tuple[Violation, ...]:
        """The findings that fail the run (``judging.fails_the_run``, the rule every test of the
        suite fails by)."""
        return failing(
            self.findings,
            strict_drift=self.strict_drift,
            acknowledged=lambda v: v.id in self.acknowledged,
        )

    def groups(self) -> tuple[FindingGroup, ...]:
        """The new findings as a person reads them: one change, one group (``grouping``)."""
        return group_findings(self.new())

    def known(self) -> tuple[Violation, ...]:
        """The findings the baseline acknowledges."""
        return tuple(v for v in self.findings if v.id in self.acknowledged)

    def acknowledged_groups(self) -> tuple[FindingGroup, ...]:
        """The findings the baseline acknowledges, grouped the same way."""
        return group_findings(self.known())

    def error_causes(self) -> tuple[ErrorCause, ...]:
        """The errors of the run by cause, each with the requests it hit."""
        return error_causes(self.errors, (str(r["name"]) for r in self.requests))

    @property
    def sent(self) -> int:
        return sum(1 for r in self.requests if r["outcome"] != "not-sent")

    @property
    def judged(self) -> int:
        """Requests whose answer was judged against the contract."""
        return sum(1 for r in self.requests if r["outcome"] == "judged")

    @property
    def latency(self) -> dict[str, dict[str, float]]:
        return latency_of(self.requests)

    def not_judged_because(self) -> str:
        """Why no answer was judged although requests were sent, in the reader's words (empty
        when an answer was judged, or nothing was sent)."""
        if self.judged or self.findings:
            return ""
        statuses = Counter(
            str(r["outcome"]) for r in self.requests if r["outcome"] not in ("not-sent", "judged")
        )
        if not statuses:
            return ""
        if len(statuses) == 1:
            return _UNJUDGED_BECAUSE.get(next(iter(statuses)), "no answer could be judged")
        return "; ".join(
            f"{_UNJUDGED_BECAUSE.get(status, status)} ({count} request{'s' if count != 1 else ''})"
            for status, count in statuses.most_common()
        )

    @property
    def outcome(self) -> RunOutcome:
        """The run's outcome; for several models, a model the run asked for that did not pass
        (it judged nothing, sent nothing, ...) keeps the run from passing, with its outcome."""
        own = self._own_outcome()
        if own in PASSING and self.parts:
            failing = self._failing_parts()
            if failing:
                return min((part.outcome for part in failing), key=_SEVERITY.index)
        return own

    def _failing_parts(self) -> tuple[LiveReport, ...]:
        """The models the run asked something of (a test selected) that did not pass."""
        return tuple(part for part in self.parts if part.selected and part.exit_status)

    def _own_outcome(self) -> RunOutcome:
        if self.interrupted:
            return "interrupted"
        # Before drift: a run that judged no answer can say nothing of the endpoint's contract
        # (an expired baseline entry is still listed, and the run still fails).
        if self.not_judged_because():
            return "not judged"
        if drift_fails_the_run(
            self.findings,
            strict_drift=self.strict_drift,
            acknowledged=lambda v: v.id in self.acknowledged,
            expired=self.expired,
        ):
            return "drift"
        if self.errors:
            return "error"
        if self.missing:
            return "incomplete"
        if self.sent == 0:
            return "nothing sent"
        return "passed with warnings" if self.findings else "passed"

    @property
    def exit_status(self) -> int:
        """0 when the run checked something and found nothing breaking, else 1."""
        return 0 if self.outcome in PASSING else 1

    def why_not_passed(self) -> str:
        """One sentence on what keeps the outcome from "passed" (empty when it passed)."""
        outcome = self.outcome
        if self.parts and outcome != self._own_outcome():  # a model's own outcome
            return "; ".join(
                f"{part.model}: {part.why_not_passed()}" for part in self._failing_parts()
            )
        listed = "; ".join(entry.describe() for entry in self.expired)
        expired = f"baseline entries past their date: {listed}" if self.expired else ""
        if outcome == "drift" and not self.failing():
            return expired
        causes = self.error_causes()
        return {
            "interrupted": "the run was interrupted before every request was judged",
            "not judged": f"{self.not_judged_because()}: no answer was judged, so the run says "
            "nothing of drift (see the errors of the run)",
            "drift": "new breaking findings"
            + (
                f" of {', '.join(m for m in self.failing_models())}"
                if self.parts and self.failing_models()
                else ""
            )
            + " (see below)"
            + (", or additive ones under --strict-drift" if self.strict_drift else "")
            + (f"; and {expired}" if expired else ""),
            "error": f"errors of the run: {causes[0].line()}"
            + (f" (and {len(causes) - 1} more cause(s))" if len(causes) > 1 else "")
            if causes
            else "",
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
        """The verdict in one line: the outcome first, then the counts."""
        outcome = self.outcome
        if outcome == "not judged" and self.not_judged_because():
            text = f"not judged: {self.not_judged_because()}"
        else:
            breaking = len(self.by_severity(Severity.BREAKING))
            additive = len(self.by_severity(Severity.ADDITIVE))
            text = f"{outcome}: {breaking} breaking, {additive} additive finding(s)"
            grouped = len(self.groups()) + len(self.acknowledged_groups())
            if self.findings:
                text += f" in {grouped} group(s)"
            if known := self.known():
                text += f" ({len(known)} acknowledged)"
        if self.errors:
            causes = len(self.error_causes())
            text += (
                f"{'; ' if outcome == 'not judged' else ', '}{len(self.errors)} error(s) of the "
                f"run ({causes} cause{'s' if causes != 1 else ''})"
            )
        text += f"; {self.sent} of {len(self.requests)} request(s) sent"
        if self.parts:
            failing = self.failing_models()
            text += f" to {len(self.parts)} models ({', '.join(self.models)})"
            if failing:
                text += f"; not passed: {', '.join(failing)}"
        elif self.model:
            text += f" to {self.model}"
        if outcome == "not judged" and self.not_judged_because():
            text += ", none judged"
        return text

    def recording_line(self) -> str:
        """What ``--record`` wrote, and how many answers it left out and why."""
        text = f"recorded {len(self.recorded)} fixture(s)"
        if self.not_recorded:
            text += "; not recorded: " + ", ".join(
                f"{count} {why}" for why, count in self.not_recorded
            )
        return text

    def redacted(self, redactor: Redactor) -> LiveReport:
        """A copy whose every text passed the redactor: what may be written or shown."""
        clean = redactor.tree

        def violation(v: Violation) -> Violation:
            fields = {k: value for k, value in clean(v.to_dict()).items() if k != "id"}
            return Violation(**{**fields, "severity": v.severity})

        return dataclasses.replace(
            self,
            endpoint=redactor.text(self.endpoint),
            findings=tuple(violation(v) for v in self.findings),
            errors=tuple(
                RunError(redactor.text(e.cause), redactor.text(e.request)) for e in self.errors
            ),
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
            history=tuple(clean(list(self.history))),
            extra=clean(dict(self.extra)),
            parts=tuple(part.redacted(redactor) for part in self.parts),
        )

    def to_dict(self) -> dict[str, Any]:
        from .. import __version__  # noqa: PLC0415  # the package imports this module

        return {
            "report": REPORT_NAME,
            "tool": f"facedetect-contract {__version__}",
            "contracts": self.contracts_version,
            "generated_at": self.generated_at,
            "endpoint": self.endpoint,
            "model": self.model,
            "models": [
                _model_summary(part) for part in (self.parts or ((self,) if self.model else ()))
            ],
            "outcome": self.outcome,
            "exit_status": self.exit_status,
            "why_not_passed": self.why_not_passed(),
            "strict_drift": self.strict_drift,
            "counts": {
                "breaking": len(self.by_severity(Severity.BREAKING)),
                "additive": len(self.by_severity(Severity.ADDITIVE)),
                "new": len(self.new()),
                "acknowledged": len(self.known()),
                "errors": len(self.errors),
                "requests": len(self.requests),
                "selected": self.selected,
                "sent": self.sent,
                "missing": len(self.missing),
                "throttled": self.throttled,
                "judged": self.judged,
                "groups": len(self.groups()),
                "error_causes": len(self.error_causes()),
            },
            "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
            "findings": [
                {**v.to_dict(), "acknowledged": v.id in self.acknowledged} for v in self.findings
            ],
            # For people and summaries; ``findings`` above stays one by one for machines, the
            # baseline and the history, and every id is in exactly one group's ``ids``.
            "groups": [
                *(_group_dict(g, acknowledged=False) for g in self.groups()),
                *(_group_dict(g, acknowledged=True) for g in self.acknowledged_groups()),
            ],
            "baseline": {
                "acknowledged": [
                    {"id": finding_id, **entry.to_dict()}
                    for finding_id, entry in self.acknowledged.items()
                ],
                "expired": [entry.to_dict() for entry in self.expired],
                "stale": [entry.to_dict() for entry in self.stale],
            },
            "errors": [str(error) for error in self.errors],
            "error_causes": [cause.to_dict() for cause in self.error_causes()],
            "missing": list(self.missing),
            "spend": self.spend.to_dict(),
            "latency_ms": self.latency,
            "observations": [
                {**o.to_dict(), "notes": f"{NOTES}#{o.question}"} for o in self.observations
            ],
            "requests": list(self.requests),
            "cases": list(self.cases),
            "recorded": list(self.recorded),
            "not_recorded": dict(self.not_recorded),
            **dict(self.extra),
        }
