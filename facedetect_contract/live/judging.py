"""Judging one live answer: an error of the run, or a verdict with the findings of every check.

Where the line runs between "the endpoint is down" and "the contract changed": an answer that
never came (refused, timed out), that could not be read (cut short, undecodable, oversized), or
that is still an endpoint fault after the retries (``contracts.faults``, the predicate the client
retries by: 429; 500/503; a gateway's 502/504, or any 5xx whose body is not JSON) is an error of
the run: it says nothing about the contract. Everything else is judged by the registered checks,
with the request's live case and recording as context, and can be drift.

Which findings fail the run is decided here once, ``fails_the_run``: a breaking finding, or an
additive one under ``--strict-drift``, that no baseline entry in date acknowledges. The verdict's
failure message, the report's outcome and exit status, and the shipped suite's tests all ask it;
``drift_fails_the_run`` adds the run-wide part (a baseline entry past its date fails the run).

Whatever an answer holds, judging it is bounded: its findings are folded (``violations.fold``)
to ``PER_PLACE`` per check and place and ``PER_ANSWER`` in all, each fold counted, and the text
the endpoint chose is made printable (``inert``) before it reaches a reason or a message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ..checks import CheckContext, run_checks
from ..contracts import faults
from ..contracts.loader import Contracts
from ..contracts.outcome import Outcome, classify
from ..core.inert import printable, terminal
from ..core.interaction import Interaction
from ..core.redaction import Redactor
from ..core.violations import Severity, Violation, fold, parent_pointer, render_value
from .plan import PlannedRequest

__all__ = [
    "PER_ANSWER",
    "PER_PLACE",
    "RUN_ERRORS",
    "Status",
    "Verdict",
    "drift_fails_the_run",
    "failing",
    "fails_the_run",
    "fold_answer",
    "judge",
]

# Findings of one answer kept one by one: per check and place (the object or array holding the
# pointer: 4,000 unknown fields of /output are one place), and in all. Enough to show every
# kind of finding an answer makes; the rest are counted in the finding that stands for them.
PER_PLACE = 10
PER_ANSWER = 50

Status = Literal[
    "judged",
    "not-sent",
    "unreachable",
    "broken",
    "throttled",
    "failing",
    "error",
    "timed-out",
    "misconfigured",  # no answer of the run was one the contracts document (configuration.py)
]
RUN_ERRORS: frozenset[str] = frozenset(
    {"unreachable", "broken", "throttled", "failing", "error", "timed-out", "misconfigured"}
)


@dataclass(frozen=True)
class Verdict:
    """What became of one planned request: judged (with its findings), not sent, or an error."""

    planned: PlannedRequest
    status: Status
    interaction: Interaction | None = None
    violations: tuple[Violation, ...] = ()
    attempts: tuple[Interaction, ...] = ()
    reason: str = ""
    message: str | None = None  # why its test fails (redacted); None when it passes
    outcome: Outcome | None = None

    @property
    def name(self) -> str:
        return self.planned.name

    @property
    def is_run_error(self) -> bool:
        return self.status in RUN_ERRORS

    @property
    def breaking(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity is Severity.BREAKING)

    @property
    def additive(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity is Severity.ADDITIVE)


def fails_the_run(finding: Violation, *, strict_drift: bool, acknowledged: bool) -> bool:
    """Whether ``finding`` fails the run: it is breaking, or additive under ``--strict-drift``,
    and no baseline entry in date acknowledges it (an acknowledged one fails nothing, under
    ``--strict-drift`` too). The one rule: judging, the report and the suite all ask it."""
    return (finding.severity is Severity.BREAKING or strict_drift) and not acknowledged


def failing(
    findings: Iterable[Violation],
    *,
    strict_drift: bool,
    acknowledged: Callable[[Violation], bool],
) -> tuple[Violation, ...]:
    """The ``findings`` that fail the run (``fails_the_run``), in their order."""
    return tuple(
        v
        for v in findings
        if fails_the_run(v, strict_drift=strict_drift, acknowledged=acknowledged(v))
    )


def drift_fails_the_run(
    findings: Iterable[Violation],
    *,
    strict_drift: bool,
    acknowledged: Callable[[Violation], bool] = lambda _: False,
    expired: Sequence[object] = (),
) -> bool:
    """Whether what the run found fails it: a finding that fails the run, or a baseline entry
    past its date (``expired``; an acknowledgement nobody revisited must not hide a finding for
    good, so it fails the run, named, until someone renews or drops it)."""
    return bool(expired) or bool(
        failing(findings, strict_drift=strict_drift, acknowledged=acknowledged)
    )


def _failure_reason(
    kind: faults.EndpointFault,
    interaction: Interaction,
    retries: int,
    contracts: Contracts,
) -> str:
    response = interaction.response
    code = contracts.profile.response.error_code.get(response.body)
    # The code and the body are the endpoint's text: shown printable, cut short.
    shown = f" {terminal(code[:80])}" if isinstance(code, str) else ""
    answer = f"HTTP {response.status}{shown}"
    after = f"after {retries} retries (an error of the run, not drift)"
    if kind == "throttled":
        return f"throttled: still {answer} {after}; lower --live-qps or run again later"
    start = response.body if isinstance(response.body, str) else render_value(response.body)
    start = " ".join(str(start).split())[:120]
    body = f"; the body begins '{terminal(start)}'" if start else ""
    return f"endpoint failing: still {answer} {after}{body}; run again later"


def fold_answer(
    violations: Sequence[Violation], *, exempt: Callable[[Violation], bool] = lambda _: False
) -> tuple[Violation, ...]:
    """One answer's findings, at most ``PER_PLACE`` per check and place and about ``PER_ANSWER``
    in all (one more per check and severity, standing for the rest), none lost from the count."""
    per_place = fold(
        violations,
        key=lambda v: (v.check, v.severity, parent_pointer(v.pointer)),
        keep=PER_PLACE,
        where=lambda v: f"at {parent_pointer(v.pointer) or '/'}",
        exempt=exempt,
    )
    return fold(
        per_place,
        key=lambda v: (v.check, v.severity),
        keep=PER_ANSWER,
        limit=PER_ANSWER,
        where="in this answer",
        exempt=exempt,
    )


def judge(
    planned: PlannedRequest,
    interaction: Interaction,
    attempts: Sequence[Interaction],
    *,
    contracts: Contracts,
    redactor: Redactor,
    endpoint: str,
    strict_drift: bool,
    recording: Interaction | None = None,
    cases_source: str = "",
    acknowledged: Callable[[Violation], bool] = lambda _: False,
) -> Verdict:
    """The verdict on one request's final answer (``attempts`` are all of its attempts)."""
    failure = faults.endpoint_fault(interaction.response, contracts)
    if failure is not None:
        reason = redactor.text(_failure_reason(failure, interaction, len(attempts) - 1, contracts))
        return Verdict(planned, failure, interaction, attempts=tuple(attempts), reason=reason)
    context = CheckContext(
        contracts,
        case=planned.case,
        case_source=cases_source,
        recording=recording,
    )
    violations = fold_answer(run_checks(interaction, context), exempt=acknowledged)
    failed = failing(violations, strict_drift=strict_drift, acknowledged=acknowledged)
    message = None
    if failed:
        lines = [
            f"{planned.name}: {planned.description}",
            f"endpoint: {endpoint}",
            *(str(v) for v in failed),
        ]
        if len(failed) < len(violations):
            lines.append(
                f"(and {len(violations) - len(failed)} additive or acknowledged finding(s), "
                "not failing)"
            )
        # Redacted first, then each line printable (a finding's own lines already are).
        redacted = redactor.text("\n".join(lines))
        message = "\n".join(printable(line) for line in redacted.split("\n"))
    return Verdict(
        planned,
        "judged",
        interaction,
        tuple(violations),
        tuple(attempts),
        message=message,
        outcome=classify(interaction.response, contracts),
    )
