"""The drift report of a live run: JSON for machines and a Markdown rendering for CI job summaries.

It says what drifted (findings by severity, each with its JSON pointer, what was received and
what is documented), what went wrong with the run itself (an unreachable endpoint is an error,
never drift), what the run spent, and what the endpoint was observed to do on the API file's
open questions. Every byte written passes ``redact_text`` with the run's key first.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from . import __version__
from .budget import Spend
from .fixtures import write_atomically
from .live import LiveRun, Verdict
from .observations import Observation, observe
from .redaction import Secret, redact_text, redact_tree
from .violations import Severity, Violation

__all__ = ["LiveReport", "Outcome"]

Outcome = Literal["passed", "passed with warnings", "drift", "error"]
_MAX_CELL = 160


def _request_row(verdict: Verdict) -> dict[str, Any]:
    interaction = verdict.interaction
    body = interaction.response.body if interaction is not None else None
    code = body.get("code") if isinstance(body, dict) else None
    return {
        "name": verdict.name,
        "kind": verdict.planned.kind,
        "description": verdict.planned.description,
        "outcome": verdict.status,
        "http_status": interaction.response.status if interaction is not None else None,
        "code": code if isinstance(code, str) else None,
        "billable": verdict.planned.billable,
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

    @classmethod
    def from_run(cls, run: LiveRun) -> LiveReport:
        verdicts = [run.verdicts[name] for name in run.plan if name in run.verdicts]
        findings = sorted(
            (v for verdict in verdicts for v in verdict.violations),
            key=lambda v: (v.severity is not Severity.BREAKING, v.interaction, v.pointer),
        )
        duration = (
            (run.finished - run.started).total_seconds()
            if run.started is not None and run.finished is not None
            else None
        )
        return cls(
            endpoint=run.url,
            generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
            strict_drift=run.settings.strict_drift,
            findings=tuple(findings),
            errors=tuple(run.errors),
            spend=run.spend,
            observations=tuple(observe(verdicts, run.contracts)),
            requests=tuple(_request_row(v) for v in verdicts),
            recorded=tuple(str(path) for path in run.recorded),
            duration_s=duration,
            not_recorded=tuple(sorted(run.not_recorded.items())),
        )

    # -- verdict -------------------------------------------------------------------------------

    def by_severity(self, severity: Severity) -> tuple[Violation, ...]:
        return tuple(v for v in self.findings if v.severity is severity)

    @property
    def outcome(self) -> Outcome:
        breaking = self.by_severity(Severity.BREAKING)
        additive = self.by_severity(Severity.ADDITIVE)
        if breaking or (self.strict_drift and additive):
            return "drift"
        if self.errors:
            return "error"
        return "passed with warnings" if additive else "passed"

    @property
    def exit_status(self) -> int:
        """0 when nothing breaking was found (additive findings are warnings), else 1."""
        return 0 if self.outcome in ("passed", "passed with warnings") else 1

    def headline(self) -> str:
        breaking = len(self.by_severity(Severity.BREAKING))
        additive = len(self.by_severity(Severity.ADDITIVE))
        text = f"{self.outcome}: {breaking} breaking, {additive} additive finding(s)"
        if self.errors:
            text += f", {len(self.errors)} error(s) of the run"
        return text

    # -- renderings ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": "face-detect live drift report",
            "tool": f"facedetect-contract {__version__}",
            "generated_at": self.generated_at,
            "endpoint": self.endpoint,
            "outcome": self.outcome,
            "exit_status": self.exit_status,
            "strict_drift": self.strict_drift,
            "counts": {
                "breaking": len(self.by_severity(Severity.BREAKING)),
                "additive": len(self.by_severity(Severity.ADDITIVE)),
                "errors": len(self.errors),
                "requests": len(self.requests),
                "sent": sum(1 for r in self.requests if r["outcome"] != "not-sent"),
            },
            "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
            "findings": [v.to_dict() for v in self.findings],
            "errors": list(self.errors),
            "spend": self.spend.to_dict(),
            "observations": [o.to_dict() for o in self.observations],
            "requests": list(self.requests),
            "recorded": list(self.recorded),
            "not_recorded": dict(self.not_recorded),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"

    def to_markdown(self) -> str:
        lines = [
            "# face-detect live drift report",
            "",
            f"**Outcome: {self.headline()}**",
            "",
            f"- endpoint: `{self.endpoint}`",
            f"- generated: {self.generated_at}"
            + (f" (run took {self.duration_s:.1f} s)" if self.duration_s is not None else ""),
            f"- spend: {self.spend}",
            "",
        ]
        for severity, heading in (
            (Severity.BREAKING, "Breaking findings"),
            (
                Severity.ADDITIVE,
                "Additive findings (warnings"
                + (", failing with --strict-drift)" if self.strict_drift else ")"),
            ),
        ):
            found = self.by_severity(severity)
            lines += [f"## {heading}: {len(found)}", ""]
            if found:
                lines += _table(
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
            else:
                lines.append("None.")
            lines.append("")
        lines += ["## Errors of the run", ""]
        lines += [f"- {_cell(error)}" for error in self.errors] or ["None."]
        lines += ["", "## Observed behaviour (open questions, API file section 8)", ""]
        lines += _table(
            ("#", "question", "observed", "evidence"),
            (
                (o.question, o.topic, o.answer, ", ".join(o.evidence) or "-")
                for o in self.observations
            ),
        )
        lines += ["", "## Requests", ""]
        lines += _table(
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
                for r in self.requests
            ),
        )
        if self.recorded or self.not_recorded:
            lines += ["", self.recording_line()]
        return "\n".join(lines) + "\n"

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
        for severity, tone in ((Severity.BREAKING, "red"), (Severity.ADDITIVE, "yellow")):
            for v in self.by_severity(severity):
                label = "BREAKING" if severity is Severity.BREAKING else "warning "
                lines.append(
                    (
                        f"{label} {v.interaction} at {v.pointer or '/'}: {v.check}: {v.title}",
                        "red" if tone == "red" else "yellow",
                    )
                )
        for error in self.errors:
            lines.append((f"ERROR    {error}", "red"))
        lines.append((str(self.spend), ""))
        if self.recorded or self.not_recorded:
            lines.append((self.recording_line(), ""))
        observed = sum(1 for o in self.observations if not o.answer.startswith("not observed"))
        lines.append(
            (f"observed {observed} of {len(self.observations)} open questions (section 8)", "")
        )
        return lines

    def redacted(self, secrets: Sequence[Secret | str | None] = ()) -> LiveReport:
        """A copy whose every text passed ``redact_text``: what may be written or shown."""

        def clean(value: Any) -> Any:
            return redact_tree(value, secrets)

        return dataclasses.replace(
            self,
            endpoint=redact_text(self.endpoint, secrets),
            findings=tuple(
                Violation(**{**clean(v.to_dict()), "severity": v.severity}) for v in self.findings
            ),
            errors=tuple(clean(list(self.errors))),
            observations=tuple(
                Observation(o.question, clean(o.topic), clean(o.answer), tuple(clean(o.evidence)))
                for o in self.observations
            ),
            requests=tuple(clean(list(self.requests))),
            recorded=tuple(clean(list(self.recorded))),
        )

    def write(self, path: Path, secrets: Sequence[Secret | str | None] = ()) -> tuple[Path, Path]:
        """Write ``path`` (JSON) and the Markdown beside it, atomically, key-like text redacted.

        Redaction happens on the values, before rendering, so neither file can be broken by it.
        """
        clean = self.redacted(secrets)
        markdown = path.with_suffix(".md")
        write_atomically(path, clean.to_json())
        write_atomically(markdown, clean.to_markdown())
        return path, markdown


def _cell(value: object) -> str:
    text = " ".join(str(value).split()).replace("|", "\\|")
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 3] + "..."


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(_cell(value) for value in row) + " |" for row in rows),
    ]
