"""The terminal summary of a live run: the lines pytest and ``facedetect-contract live`` print.

It is a view of the report, not a file format (``formats``): a few lines, each with the colour of
its severity, printed by the session after the run. Text the endpoint chose in them is shown
escaped (``inert.terminal``). A run of several models has, under its headline, one line per model
in the colour of that model's outcome: which model changed is the second thing read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ..core import inert
from ..core.violations import Severity
from .model import NOTES, first_few

if TYPE_CHECKING:
    from .model import LiveReport

__all__ = ["Tone", "summary_lines"]

Tone = Literal["red", "yellow", "green", ""]


def summary_lines(report: LiveReport) -> list[tuple[str, Tone]]:
    """Lines for the terminal summary, each with the colour of its severity; the text the
    endpoint chose in them is shown escaped (``inert.terminal``)."""
    return [(inert.terminal(line), tone) for line, tone in _lines(report)]


def _colour(report: LiveReport) -> Literal["red", "yellow", "green"]:
    # Red is drift's (and a failed run's); a run that judged nothing is not the endpoint's
    # fault as far as anyone knows: yellow, like a warning, and still no pass.
    if report.outcome == "not judged":
        return "yellow"
    if report.exit_status:
        return "red"
    return "yellow" if report.findings else "green"


def _lines(report: LiveReport) -> list[tuple[str, Tone]]:
    outcome = report.outcome
    quiet: Literal["red", "yellow"] = "yellow" if outcome == "not judged" else "red"
    lines: list[tuple[str, Tone]] = [
        (f"{report.headline()} (endpoint {report.endpoint})", _colour(report))
    ]
    lines += [(f"  {part.model}: {part.headline()}", _colour(part)) for part in report.parts]
    if report.why_not_passed() and outcome != "not judged":  # its headline says why
        lines.append((f"not passed: {report.why_not_passed()}", "red"))
    known = report.acknowledged_groups()
    for group in (*report.groups(), *known):
        tone: Tone
        if group in known:
            label, tone = "known   ", ""
        elif group.severity is Severity.BREAKING:
            label, tone = "BREAKING", "red"
        else:
            label, tone = "warning ", "yellow"
        lines.append(
            (
                f"{label} {group.headline()}: {group.check} at {group.pointer or '/'} in "
                f"{first_few(group.interactions)} [{first_few([v.id for v in group.members])}]",
                tone,
            )
        )
    for entry in report.expired:
        lines.append((f"EXPIRED  baseline entry {entry.describe()}: {entry.reason}", "red"))
    for entry in report.stale:
        lines.append((f"stale    baseline entry {entry.describe()} matched nothing", ""))
    for cause in report.error_causes():
        lines.append((f"ERROR    {cause.line()}", quiet))
    lines.append((str(report.spend), ""))
    if report.recorded or report.not_recorded:
        lines.append((report.recording_line(), ""))
    observed = sum(1 for o in report.observations if o.observed)
    lines.append(
        (f"observed {observed} of {len(report.observations)} open questions ({NOTES})", "")
    )
    return lines
