"""The Markdown rendering of a report, made for CI job summaries.

It opens with a one-line verdict and the findings a person must look at; what is acknowledged
or only informative folds below.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..violations import Severity
from .model import NOTES, REPORT_NAME, LiveReport

__all__ = ["render"]

_MAX_CELL = 160


def _cell(value: object) -> str:
    text = " ".join(str(value).split()).replace("|", "\\|")
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 3] + "..."


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(_cell(value) for value in row) + " |" for row in rows),
    ]


def _findings(report: LiveReport, severity: Severity) -> list[str]:
    found = report.by_severity(severity)
    if not found:
        return ["None."]
    return _table(
        ("request", "at (JSON pointer)", "check", "received", "documented"),
        (
            (
                v.interaction,
                f"`{v.pointer or '/'}`",
                f"{v.check}: {v.title}",
                v.received,
                f"{v.documented} ({v.source})",
            )
            for v in found
        ),
    )


def render(report: LiveReport) -> str:
    why = report.why_not_passed()
    lines = [
        f"# {REPORT_NAME}",
        "",
        f"**Outcome: {report.headline()}**" + (f" ({why})" if why else ""),
        "",
        f"- endpoint: `{report.endpoint}`",
        f"- generated: {report.generated_at}"
        + (f" (run took {report.duration_s:.1f} s)" if report.duration_s is not None else ""),
        f"- spend: {report.spend}",
        "",
        f"## Breaking findings: {len(report.by_severity(Severity.BREAKING))}",
        "",
        *_findings(report, Severity.BREAKING),
        "",
        "## Additive findings (warnings"
        + (", failing with --strict-drift" if report.strict_drift else "")
        + f"): {len(report.by_severity(Severity.ADDITIVE))}",
        "",
        *_findings(report, Severity.ADDITIVE),
        "",
        "## Errors of the run",
        "",
        *([f"- {_cell(error)}" for error in report.errors] or ["None."]),
    ]
    if report.missing:
        lines += ["", f"Not judged: {', '.join(report.missing)}."]
    lines += [
        "",
        f"## Open questions (notes: {NOTES})",
        "",
        *_table(
            ("question", "observed", "reading", "evidence"),
            (
                (
                    f"[{o.question}]({NOTES}#{o.question})",
                    o.answer,
                    o.reading or "-",
                    ", ".join(o.evidence) or "-",
                )
                for o in report.observations
            ),
        ),
        "",
        "<details><summary>Requests</summary>",
        "",
        *_table(
            ("request", "what", "answer", "billable", "findings"),
            (
                (
                    r["name"],
                    r["description"],
                    (
                        f"HTTP {r['http_status']} {r['code'] or ''}".strip()
                        if r["http_status"] is not None
                        else r["outcome"]
                    ),
                    "yes" if r["billable"] else "no",
                    f"{r['breaking']} breaking, {r['additive']} additive",
                )
                for r in report.requests
            ),
        ),
        "",
        "</details>",
    ]
    if report.recorded or report.not_recorded:
        lines += ["", report.recording_line()]
    return "\n".join(lines) + "\n"
