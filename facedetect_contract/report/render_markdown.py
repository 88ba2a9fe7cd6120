"""The Markdown rendering of a report, made for CI job summaries.

It opens with a one-line verdict (the first line under the title: passed, drift, not judged, ...)
and the findings a person must look at, one row per change (``grouping``: the same check at the
same place across answers, a probable rename, the expects it made miss), each row listing the
stable ids of its findings in a fold; the errors of the run one line per cause; what is
acknowledged or only informative folds below. Every link is absolute (``PROJECT_URL``): a job
summary or a mail has no checkout beside it.

GitHub renders the summary, so every text that came from the endpoint, the cases file or the
baseline is inert (``inert.markdown_text`` for prose, ``inert.markdown_code`` for pointers, codes
and names): no image, link, HTML or heading of the endpoint's choosing. The only markup is ours.
GitHub drops a job summary over 1 MiB; the report stays under ``MAX_BYTES``, and the rows left out
are counted in a note that points at the JSON report, which has them all.

A run of several models (``report.parts``) is told model by model, for a reader who must see at
once which model changed: a "Models" table under the verdict (each model's outcome, requests,
findings, errors and spend), then each model's findings under its own heading (a model with none
says so in one line), the errors of the run per model, and each model's open questions. A model's
findings table gets its share of what the size limit leaves, so a flood in one model cannot push
another model's findings out. A report of one model renders as it always did.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence

from ..core.inert import markdown_code, markdown_text
from ..core.violations import Severity
from ..live.budget import Spend
from ..live.observations import Observation
from .grouping import FindingGroup
from .model import (
    MODELS_HEADER,
    NOTES_URL,
    REPORT_NAME,
    ErrorCause,
    LiveReport,
    folded_note,
    notes_link,
    pointers,
)

__all__ = ["MAX_BYTES", "render"]

MAX_BYTES = 900 * 1024  # under GitHub's 1 MiB per job summary, with room for a workflow's own
_RESERVE = 16 * 1024  # kept for the closing lines and the notes of what was cut
_MAX_CELL = 160  # characters of a value shown in a cell (before escaping)
_MAX_CAUSE = 400  # characters of an error's cause: said once, so said whole as a rule
_MAX_LISTED = 50  # names listed inline (requests not judged, a group's answers and ids)


def _clip(value: object, limit: int = _MAX_CELL) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _text(value: object) -> str:
    """Prose from outside (a title, a message, an error): inert inline Markdown."""
    return markdown_text(_clip(value))


def _code(value: object) -> str:
    """A pointer, a code or a name from outside: an inert code span."""
    return markdown_code(_clip(value))


class _Budget:
    """Bytes the report may still take; a table or list takes rows while they fit."""

    def __init__(self, limit: int, parent: _Budget | None = None) -> None:
        self.left = limit
        self._parent = parent

    def _spend(self, size: int) -> None:
        self.left -= size
        if self._parent is not None:
            self._parent._spend(size)

    def take(self, lines: Iterable[str]) -> list[str]:
        taken = list(lines)
        self._spend(sum(len(line.encode("utf-8")) + 1 for line in taken))
        return taken

    def share(self, ways: int) -> _Budget:
        """A budget of one of ``ways`` equal parts of what is left above the reserve (what it
        takes is taken from this one too): one model's table cannot crowd out the others'."""
        return _Budget(_RESERVE + max(0, self.left - _RESERVE) // max(1, ways), self)

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
            self._spend(size)
            shown.append(row)
        return shown


def _table(
    budget: _Budget, header: Sequence[str], rows: Iterable[Sequence[str]], what: str
) -> list[str]:
    head = budget.take(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)])
    return head + budget.rows(("| " + " | ".join(row) + " |" for row in rows), what)


def _ids(group: FindingGroup) -> str:
    """Every id the group stands for: one shown as it is, several in a fold (each stays
    searchable in the page; past ``_MAX_LISTED``, the JSON report lists the rest)."""
    ids = [v.id for v in group.members]
    if len(ids) == 1:
        return _code(ids[0])
    return f"<details><summary>{len(ids)} ids</summary>{_listed(ids)}</details>"


def _cause(cause: ErrorCause) -> str:
    """One cause of errors of the run: said once (clipped), with its count and every request."""
    return "- " + cause.line(markdown_text(_clip(cause.cause, _MAX_CAUSE)), _listed)


def _findings(budget: _Budget, groups: Sequence[FindingGroup]) -> list[str]:
    if not groups:
        return ["None."]
    return _table(
        budget,
        (
            "finding",
            "severity",
            "at (JSON pointer)",
            "check",
            "answers",
            "received",
            "documented",
            "ids",
        ),
        (
            (
                _text(group.headline()),
                _text(group.severity),
                " and ".join(_code(at) for at in pointers(group)),
                _code(group.check),
                _listed(group.interactions) + folded_note(group),
                _text(", ".join(group.received)),
                f"{_text(group.findings[0].documented)} ({_text(group.findings[0].source)})",
                _ids(group),
            )
            for group in groups
        ),
        "finding groups",
    )


def _folded(summary: str, lines: list[str]) -> list[str]:
    return ["", f"<details><summary>{summary}</summary>", "", *lines, "", "</details>"]


def _listed(names: Sequence[str]) -> str:
    """Names from outside as code spans, the first ``_MAX_LISTED`` of them."""
    shown = ", ".join(_code(name) for name in names[:_MAX_LISTED])
    more = len(names) - _MAX_LISTED
    return shown + (f" and {more} more (see the JSON report)" if more > 0 else "")


def _acknowledged(budget: _Budget, report: LiveReport) -> list[str]:
    """The findings ``report``'s baseline acknowledges, one row each with its entry."""
    return _table(
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
            for v in report.known()
        ),
        "acknowledged findings",
    )


def _questions(budget: _Budget, observations: Sequence[Observation]) -> list[str]:
    return _table(
        budget,
        ("question", "observed", "reading", "evidence"),
        (
            (
                # The question ids are ours (questions.json), so the link is too.
                f"[{o.question}]({notes_link(o.question)})",
                _text(o.answer),
                _text(o.reading or "-"),
                _text(", ".join(o.evidence) or "-"),
            )
            for o in observations
        ),
        "open questions",
    )


# --- a run of several models ---------------------------------------------------------------------


def _billed(spend: Spend) -> str:
    """A model's images billed and what they cost (counts and the docs' price: ours)."""
    cost = spend.cost
    if cost is None:
        return f"{spend.images_billed}" + (", price not documented" if spend.images_billed else "")
    return f"{spend.images_billed}, " + " ".join(filter(None, (spend.currency, str(cost))))


def _counted(part: LiveReport, severity: Severity) -> str:
    """A model's findings of ``severity``, and how many of them the baseline acknowledges."""
    found = part.by_severity(severity)
    known = sum(1 for v in found if v.id in part.acknowledged)
    return f"{len(found)}" + (f" ({known} acknowledged)" if known else "")


def _models(budget: _Budget, report: LiveReport) -> list[str]:
    """One row per model: what a reader scans to see which model changed."""
    rows = (
        (
            _code(part.model),
            part.outcome if part.exit_status == 0 else f"**{part.outcome}**",  # ours
            f"{part.sent} / {part.judged} (of {len(part.requests)})",
            _counted(part, Severity.BREAKING),
            _counted(part, Severity.ADDITIVE),
            str(len(part.errors)),
            _billed(part.spend),
        )
        for part in report.parts
    )
    return budget.take(["## Models", ""]) + _table(budget, MODELS_HEADER, rows, "models") + [""]


def _findings_by_model(budget: _Budget, report: LiveReport) -> list[str]:
    lines: list[str] = []
    for index, part in enumerate(report.parts):
        groups = part.groups()
        known = len(part.known())
        also = f" ({known} acknowledged)" if known else ""
        if not groups:
            lines += budget.take([f"### {_code(part.model)}: no new finding{also}", ""])
            continue
        lines += budget.take(
            [
                f"### {_code(part.model)} ({part.outcome}): {len(groups)} group(s) of "
                f"{len(part.new())}{also}",
                "",
            ]
        )
        lines += _findings(budget.share(len(report.parts) - index), groups)
        lines += budget.take([""])
    return lines


def _errors_by_model(budget: _Budget, report: LiveReport) -> list[str]:
    own = report.errors_of_no_model()
    sections = [
        *([("the run itself", dataclasses.replace(report, errors=own, parts=()))] if own else []),
        *((_code(part.model), part) for part in report.parts),
    ]
    lines: list[str] = []
    for label, part in sections:
        causes = part.error_causes()
        if not causes:
            lines += budget.take([f"- {label}: none"])
            continue
        lines += budget.take([f"- {label}: {len(part.errors)} from {len(causes)} cause(s)"])
        lines += budget.rows(("  " + _cause(cause) for cause in causes), "errors")
    return lines


def _each_model(
    budget: _Budget, parts: Iterable[LiveReport], section: Callable[[LiveReport], list[str]]
) -> list[str]:
    """``section`` of each of ``parts`` under its model's name (in a fold: no heading)."""
    lines: list[str] = []
    for part in parts:
        lines += budget.take([f"**{_code(part.model)}**", ""])
        lines += section(part)
        lines += budget.take([""])
    return lines[:-1]


def render(report: LiveReport) -> str:
    budget = _Budget(MAX_BYTES)
    several = bool(report.parts)
    # A "not judged" headline says why already.
    why = report.why_not_passed() if report.outcome != "not judged" else ""
    new = report.new()
    groups = report.groups()
    acknowledged = report.known()
    latency = ", ".join(
        f"{_code(kind)} p50 {figures['p50']:g} ms, p95 {figures['p95']:g} ms"
        for kind, figures in report.latency.items()
    )
    # The headline, the time, the spend and the recording line are ours (counts and our words):
    # written as they are. Everything else passes through _text or _code.
    lines = budget.take(
        [
            f"# {REPORT_NAME}",
            # The verdict is the very next line: what a glance at the summary reads first.
            f"**Outcome: {report.headline()}**" + (f" ({_text(why)})" if why else ""),
            "",
            f"- endpoint: {markdown_code(report.endpoint)}",
            f"- generated: {report.generated_at}"
            + (f" (run took {report.duration_s:.1f} s)" if report.duration_s is not None else ""),
            f"- spend: {report.spend}",
            *([f"- latency: {latency}"] if latency else []),
            "",
        ]
    )
    if several:
        lines += _models(budget, report)
    lines += budget.take(
        [
            f"## New findings: {len(groups)} group(s) of {len(new)}"
            + (" (additive ones fail the run: --strict-drift)" if report.strict_drift else ""),
            "",
        ]
    )
    if several:
        lines += _findings_by_model(budget, report)[:-1]
    else:
        lines += _findings(budget, groups)
    causes = report.error_causes()
    lines += budget.take(
        [
            "",
            "## Errors of the run"
            + (f": {len(report.errors)} from {len(causes)} cause(s)" if causes else ""),
            "",
        ]
    )
    if several and causes:
        lines += _errors_by_model(budget, report)
    else:
        lines += budget.rows((_cause(cause) for cause in causes), "errors") or ["None."]
    if report.expired:
        lines += budget.take(["", "## Baseline entries past their date", ""])
        lines += budget.rows(
            (f"- {_text(e.describe())}: {_text(e.reason)}" for e in report.expired),
            "expired baseline entries",
        )
    if report.missing:
        lines += budget.take(["", f"Not judged: {_listed(report.missing)}."])
    if acknowledged:
        rows = (
            _each_model(
                budget,
                (part for part in report.parts if part.known()),
                lambda part: _acknowledged(budget, part),
            )
            if several
            else _acknowledged(budget, report)
        )
        lines += _folded(f"Acknowledged findings: {len(acknowledged)}", rows)
    if report.stale:
        stale = budget.rows(
            (f"- {_text(e.describe())}: {_text(e.reason)}" for e in report.stale),
            "stale baseline entries",
        )
        lines += _folded(f"Stale baseline entries (matched nothing): {len(report.stale)}", stale)
    lines += _folded(
        f"Open questions (notes: {NOTES_URL})",
        _each_model(budget, report.parts, lambda part: _questions(budget, part.observations))
        if several
        else _questions(budget, report.observations),
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
