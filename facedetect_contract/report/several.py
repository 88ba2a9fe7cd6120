"""The report of a run of several models: one report, its parts the models', grouped by model.

A run guarding several models on the path (``live.models``) makes one report per model from its
result (``LiveReport.from_result``), and this module makes them one: every request, finding, error,
case and observation of a model is named ``<model>/<name>`` (so a finding's id, the baseline's
match and the history are that model's), the figures are the sums (one budget, each model's spend
kept), the baseline judges the findings once, and each model's own report stays in ``parts`` with
the acknowledgments that concern it, for the formats to show the run model by model. The outcome
and the exit status are the merged report's: a breaking finding of one model fails the run, and
the findings name that model.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..core.violations import Violation
from ..live.baseline import Baseline
from ..live.budget import Spend
from ..live.models import qualified, qualified_finding
from ..live.result import RunError
from .model import LiveReport

__all__ = ["of_models", "qualified_report"]


def _rows(rows: Sequence[Mapping[str, Any]], key: str, model: str) -> tuple[dict[str, Any], ...]:
    return tuple(
        {**row, key: qualified(model, str(row[key])), "model": model}
        if row.get(key) is not None
        else {**row, "model": model}
        for row in rows
    )


def qualified_report(part: LiveReport) -> LiveReport:
    """``part`` (one model's report) with every name its model's: ``<model>/<name>``."""
    model = part.model

    def finding(v: Violation) -> Violation:
        return qualified_finding(model, v)

    names = {str(row["name"]) for row in part.requests}

    def evidence(item: str) -> str:  # a request's name, or its interaction's (live-<name>)
        return qualified(model, item) if item.removeprefix("live-") in names else item

    spend = part.spend
    spend = dataclasses.replace(
        spend,
        not_sent=tuple(qualified(model, n) for n in spend.not_sent),
        retries_not_sent=tuple(qualified(model, n) for n in spend.retries_not_sent),
        billed_unexpectedly=tuple(qualified(model, n) for n in spend.billed_unexpectedly),
    )
    return dataclasses.replace(
        part,
        findings=tuple(finding(v) for v in part.findings),
        errors=tuple(
            RunError(e.cause, qualified(model, e.request))
            if e.request
            else RunError(f"{model}: {e.cause}")
            for e in part.errors
        ),
        observations=tuple(
            dataclasses.replace(
                o,
                topic=f"{model}: {o.topic}",
                evidence=tuple(evidence(e) for e in o.evidence),
            )
            for o in part.observations
        ),
        requests=_rows(part.requests, "name", model),
        missing=tuple(qualified(model, name) for name in part.missing),
        cases=_rows(part.cases, "request", model),
        spend=spend,
    )


def of_models(
    parts: Sequence[LiveReport],
    *,
    baseline: Baseline | None = None,
    now: datetime | None = None,
    history: Sequence[Mapping[str, Any]] = (),
    errors: Sequence[RunError] = (),
) -> LiveReport:
    """The one report of a run of several models from each model's own (``from_result``
    without a baseline); ``errors``: the run's own, of no model."""
    if not parts:
        raise ValueError("a report of several models needs at least one model's report")
    own = [qualified_report(part) for part in parts]
    findings = tuple(v for part in own for v in part.findings)
    when = now or datetime.now(UTC)
    judged = baseline.judge(findings, when.date()) if baseline is not None else None
    acknowledged = {v.id: entry for v, entry in judged.acknowledged} if judged else {}
    expired = judged.expired if judged else ()

    def judged_part(part: LiveReport) -> LiveReport:
        ids = {v.id for v in part.findings}
        return dataclasses.replace(
            part,
            acknowledged={i: e for i, e in acknowledged.items() if i in ids},
            expired=tuple(e for e in expired if any(e.matches(v) for v in part.findings)),
        )

    own = [judged_part(part) for part in own]
    not_recorded: Counter[str] = Counter()
    for part in own:
        not_recorded.update(dict(part.not_recorded))
    durations = [part.duration_s for part in own if part.duration_s is not None]
    return LiveReport(
        endpoint=", ".join(dict.fromkeys(part.endpoint for part in own)),
        generated_at=when.isoformat(timespec="seconds"),
        strict_drift=any(part.strict_drift for part in own),
        findings=findings,
        errors=(*errors, *(e for part in own for e in part.errors)),
        spend=Spend.of_models((part.model, part.spend) for part in own),
        observations=tuple(o for part in own for o in part.observations),
        requests=tuple(row for part in own for row in part.requests),
        recorded=tuple(path for part in own for path in part.recorded),
        duration_s=max(durations) if durations else None,
        not_recorded=tuple(sorted(not_recorded.items())),
        selected=sum(part.selected for part in own),
        missing=tuple(name for part in own for name in part.missing),
        interrupted=any(part.interrupted for part in own),
        cases=tuple(row for part in own for row in part.cases),
        throttled=sum(part.throttled for part in own),
        acknowledged=acknowledged,
        expired=expired,
        stale=judged.stale if judged else (),
        contracts_version=", ".join(
            dict.fromkeys(f"{part.model} {part.contracts_version}" for part in own)
        ),
        history=tuple(history),
        sources=tuple(dict.fromkeys(source for part in own for source in part.sources)),
        model="",
        box_names=None,  # each case row draws the boxes its model gives
        parts=tuple(own),
    )
