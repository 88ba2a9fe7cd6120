"""The Markdown rendering of a report, made for CI job summaries.

It opens with a one-line verdict and the findings a person must look at; what is acknowledged
or only informative folds below.

GitHub renders the summary, so every text that came from the endpoint, the cases file or the
baseline is inert (``inert.markdown_text`` for prose, ``inert.markdown_code`` for pointers, codes
and names): no image, link, HTML or heading of the endpoint's choosing. The only markup is ours.
GitHub drops a job summary over 1 MiB; the report stays under ``MAX_BYTES``, and the rows left out
are counted in a note that points at the JSON report, which has them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..inert import markdown_code, markdown_text
from ..violations import Severity, Violation
from .model import NOTES, REPORT_NAME, LiveReport

__all__ = ["MAX_BYTES", "render"]

MAX_BYTES = 900 * 1024  # under GitHub's 1 MiB per job summary, with room for a workflow's own
_RESERVE = 16 * 1024  # kept for the closing lines and the notes of what was cut
_MAX_CELL = 160  # characters of a value shown in a cell (before escaping)
_MAX_LISTED = 50  # names listed inline (requests not judged)


def _clip(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 3] + "..."


def _text(value: object) -> str:
    """Prose from outside (a title, a message, an error): inert inline Markdown."""
    return markdown_text(_clip(value))


def _code(value: object) -> str:
    """A pointer, a code or a name from outside: an inert code span."""
    return markdown_code(_clip(value))


class _Budget:
    """Bytes the report may still take; a table or list takes rows while they fit."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def take(self, lines: Iterable[str]) -> list[str]:
        taken = list(lines)
        self.left -= sum(len(line.encode("utf-8")) + 1 for line in taken)
        return taken

    def rows(self, rows: Iterable[str], what: str) -> list[str]:
        """The rows that fit, then (when some did not) a line saying how many are not shown."""
        shown: list[str] = []
        pending = list(rows)
        for row in pending:
            size = len(row.encode("utf-8")) + 1
            if size > self.left - _RESERVE:
                cut = len(pending) - len(shown)
                note = (
                    f"{cut} more {what} not shown (the summary's size limit); see the JSON report"
                )
                return [*shown, *self.take(["", f"_{note}._"])]
            self.left -= size
            shown.append(row)
        return shown


def _table(
    budget: _Budget, header: Sequence[str], rows: Iterable[Sequence[str]], what: str
) -> list[str]:
    head = budget.take(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)])
    return head + budget.rows(("| " + " | ".join(row) + " |" for row in rows), what)


def _findings(budget: _Budget, found: Sequence[Violation]) -> list[str]:
    if not found:
        return ["None."]
    return _table(
        budget,
        ("request", "at (JSON pointer)", "check", "received", "documented", "id"),
        (
            (
                _code(v.interaction),
                _code(v.pointer or "/"),
                f"{_text(v.severity)}: {_code(v.check)}: {_text(v.title)}",
                _text(v.received),
                f"{_text(v.documented)} ({_text(v.source)})",
                _code(v.id),
            )
            for v in found
        ),
        "findings",
    )


def _folded(summary: str, lines: list[str]) -> list[str]:
    return ["", f"<details><summary>{summary}</summary>", "", *lines, "", "</details>"]


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(_code(name) for name in names[:_MAX_LISTED])
    more = len(names) - _MAX_LISTED
    return shown + (f" and {more} more (see the JSON report)" if more > 0 else "")


def render(report: LiveReport) -> str:
    budget = _Budget(MAX_BYTES)
    why = report.why_not_passed()
    new = [*report.new(Severity.BREAKING), *report.new(Severity.ADDITIVE)]
    acknowledged = [v for v in report.findings if v.id in report.acknowledged]
    latency = ", ".join(
        f"{_code(kind)} p50 {figures['p50']:g} ms, p95 {figures['p95']:g} ms"
        for kind, figures in report.latency.items()
    )
    # The headline, the time, the spend and the recording line are ours (counts and our words):
    # written as they are. Everything else passes through _text or _code.
    lines = budget.take(
        [
            f"# {REPORT_NAME}",
            "",
            f"**Outcome: {report.headline()}**" + (f" ({_text(why)})" if why else ""),
            "",
            f"- endpoint: {markdown_code(report.endpoint)}",
            f"- generated: {report.generated_at}"
            + (f" (run took {report.duration_s:.1f} s)" if report.duration_s is not None else ""),
            f"- spend: {report.spend}",
            *([f"- latency: {latency}"] if latency else []),
            "",
            f"## New findings: {len(new)}"
            + (" (additive ones fail the run: --strict-drift)" if report.strict_drift else ""),
            "",
        ]
    )
    lines += _findings(budget, new)
    lines += budget.take(["", "## Errors of the run", ""])
    lines += budget.rows((f"- {_text(error)}" for error in report.errors), "errors") or ["None."]
    if report.expired:
        lines += budget.take(["", "## Baseline entries past their date", ""])
        lines += budget.rows(
            (f"- {_text(e.describe())}: {_text(e.reason)}" for e in report.expired),
            "expired baseline entries",
        )
    if report.missing:
        lines += budget.take(["", f"Not judged: {_listed(report.missing)}."])
    if acknowledged:
        rows = _table(
            budget,
            ("id", "finding", "reason", "who", "until"),
            (
                (
                    _code(v.id),
                    f"{_code(v.check)} at {_code(v.pointer or '/')} on {_code(v.interaction)}",
                    _text(report.acknowledged[v.id].reason),
                    _text(report.acknowledged[v.id].who or "-"),
                    _text(report.acknowledged[v.id].until or "-"),
                )
                for v in acknowledged
            ),
            "acknowledged findings",
        )
        lines += _folded(f"Acknowledged findings: {len(acknowledged)}", rows)
    if report.stale:
        stale = budget.rows(
            (f"- {_text(e.describe())}: {_text(e.reason)}" for e in report.stale),
            "stale baseline entries",
        )
        lines += _folded(f"Stale baseline entries (matched nothing): {len(report.stale)}", stale)
    lines += _folded(
        f"Open questions (notes: {NOTES})",
        _table(
            budget,
            ("question", "observed", "reading", "evidence"),
            (
                (
                    # The question ids are ours (questions.json), so the link is too.
                    f"[{o.question}]({NOTES}#{o.question})",
                    _text(o.answer),
                    _text(o.reading or "-"),
                    _text(", ".join(o.evidence) or "-"),
                )
                for o in report.observations
            ),
            "open questions",
        ),
    )
    lines += _folded(
        "Requests",
        _table(
            budget,
            ("request", "what", "answer", "billable", "findings"),
            (
                (
                    _code(r["name"]),
                    _text(r["description"]),
                    (
                        _text(f"HTTP {r['http_status']} {r['code'] or ''}".strip())
                        if r["http_status"] is not None
                        else _text(r["outcome"])
                    ),
                    "yes" if r["billable"] else "no",
                    f"{r['breaking']} breaking, {r['additive']} additive",
                )
                for r in report.requests
            ),
            "requests",
        ),
    )
    if report.recorded or report.not_recorded:
        lines += ["", report.recording_line()]  # counts and our own reasons
    return "\n".join(lines) + "\n"
