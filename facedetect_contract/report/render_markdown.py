"""The Markdown rendering of a report, made for CI job summaries.

It opens with a one-line verdict and the findings a person must look at; what is acknowledged
or only informative folds below.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..violations import Severity, Violation
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


def _findings(found: Sequence[Violation]) -> list[str]:
    if not found:
        return ["None."]
    return _table(
        ("request", "at (JSON pointer)", "check", "received", "documented", "id"),
        (
            (
                v.interaction,
                f"`{v.pointer or '/'}`",
                f"{v.severity}: {v.check}: {v.title}",
                v.received,
                f"{v.documented} ({v.source})",
                v.id,
            )
            for v in found
        ),
    )


def _folded(summary: str, lines: list[str]) -> list[str]:
    return ["", f"<details><summary>{summary}</summary>", "", *lines, "", "</details>"]


def render(report: LiveReport) -> str:
    why = report.why_not_passed()
    new = [*report.new(Severity.BREAKING), *report.new(Severity.ADDITIVE)]
    acknowledged = [v for v in report.findings if v.id in report.acknowledged]
    latency = ", ".join(
        f"{kind} p50 {figures['p50']:g} ms, p95 {figures['p95']:g} ms"
        for kind, figures in report.latency.items()
    )
    lines = [
        f"# {REPORT_NAME}",
        "",
        f"**Outcome: {report.headline()}**" + (f" ({why})" if why else ""),
        "",
        f"- endpoint: `{report.endpoint}`",
        f"- generated: {report.generated_at}"
        + (f" (run took {report.duration_s:.1f} s)" if report.duration_s is not None else ""),
        f"- spend: {report.spend}",
        *([f"- latency: {latency}"] if latency else []),
        "",
        f"## New findings: {len(new)}"
        + (" (additive ones fail the run: --strict-drift)" if report.strict_drift else ""),
        "",
        *_findings(new),
        "",
        "## Errors of the run",
        "",
        *([f"- {_cell(error)}" for error in report.errors] or ["None."]),
    ]
    if report.expired:
        lines += ["", "## Baseline entries past their date", ""]
        lines += [f"- {_cell(e.describe())}: {_cell(e.reason)}" for e in report.expired]
    if report.missing:
        lines += ["", f"Not judged: {', '.join(report.missing)}."]
    if acknowledged:
        rows = _table(
            ("id", "finding", "reason", "who", "until"),
            (
                (
                    v.id,
                    f"{v.check} at `{v.pointer or '/'}` on {v.interaction}",
                    report.acknowledged[v.id].reason,
                    report.acknowledged[v.id].who or "-",
                    report.acknowledged[v.id].until or "-",
                )
                for v in acknowledged
            ),
        )
        lines += _folded(f"Acknowledged findings: {len(acknowledged)}", rows)
    if report.stale:
        stale = [f"- {_cell(e.describe())}: {_cell(e.reason)}" for e in report.stale]
        lines += _folded(f"Stale baseline entries (matched nothing): {len(report.stale)}", stale)
    lines += _folded(
        f"Open questions (notes: {NOTES})",
        _table(
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
    )
    lines += _folded(
        "Requests",
        _table(
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
    )
    if report.recorded or report.not_recorded:
        lines += ["", report.recording_line()]
    return "\n".join(lines) + "\n"
