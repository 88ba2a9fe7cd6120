"""The summary of a live history (``facedetect-contract history``): the nights told in lines.

``history`` keeps the records and counts (``summarize``); this module says them: the outcomes
over the nights, each finding's first and last night, each open question's readings and whether
it settled, the latency trend as a sparkline, and the contract change of every question that
settled and is still open in the contracts. Every line may quote the endpoint (pointers, titles,
readings): each is shown escaped (``inert.terminal``). Nothing is printed or written here: the
command does that. Nights of several models add each model's outcomes; their questions are each
model's (``<model>/<question>``), and the contract change is proposed for the questions of the
model whose contracts are given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..contracts.loader import Contracts
from ..contracts.settling import change_for
from ..core import inert
from ..live.models import split_qualified
from .history import QuestionTally, Summary

__all__ = ["contract_changes", "summary_lines"]

_BARS = "▁▂▃▄▅▆▇█"


def _sparkline(values: Sequence[float]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(_BARS[min(7, int((v - low) / span * 7.999))] for v in values)


def summary_lines(
    file: Path, records: Sequence[Mapping[str, Any]], summary: Summary, *, settle_after: int
) -> list[str]:
    """The summary of the history read from ``file``, one escaped line each."""
    times = [str(r.get("time", "?"))[:10] for r in records]
    outcomes = Counter(summary.outcomes)
    lines = [
        f"history of {file}: {summary.nights} night(s)"
        + (f", {times[0]} .. {times[-1]}" if times else "")
        + "; outcomes: "
        + ", ".join(f"{outcome} {n}" for outcome, n in outcomes.most_common()),
    ]
    if summary.models:
        lines.append("models (outcomes over the nights they ran, the last night's):")
    for model, nights in summary.models.items():
        ran = [outcome for outcome in nights if outcome is not None]
        tally = ", ".join(f"{outcome} {n}" for outcome, n in Counter(ran).most_common())
        lines.append(f"  {model}: {tally}; last: {nights[-1] or 'not run'}")
    lines.append("findings (first night, last night, nights):")
    for span in sorted(summary.findings, key=lambda f: (f.first, f.id)):
        known = ", acknowledged" if span.acknowledged_last else ""
        lines.append(
            f"  {span.id} {span.severity} {span.check} at {span.pointer or '/'} on "
            f"{span.interaction}: {span.title}: nights {span.first}-{span.last} "
            f"({span.nights} night(s)){known}"
        )
    if not summary.findings:
        lines.append("  none")
    lines.append(f"open questions (settled after {settle_after} equal readings in a row):")
    for question in summary.questions:
        tally = ", ".join(f"{reading} {n}x" for reading, n in sorted(question.tally.items()))
        state = (
            f"settled on night {question.settled_on} ({question.streak_reading})"
            if question.settled_on is not None
            else f"open (latest streak: {question.streak_reading or '-'} x{question.streak})"
        )
        lines.append(f"  {question.question}: {tally or 'never observed'}; {state}")
    lines.append("latency p50 over the nights (ms):")
    for kind, values in sorted(summary.latency.items()):
        lines.append(
            f"  {kind}: {values[0]:g} -> {values[-1]:g} (min {min(values):g}, max "
            f"{max(values):g}) {_sparkline(values)}"
        )
    return [inert.terminal(line) for line in lines]


def contract_changes(summary: Summary, contracts: Contracts) -> str:
    """The unified diff (``git apply`` takes it) that settles, in ``contracts``, each question
    the history settled and the contracts still leave open; empty when there is none."""
    diffs: dict[str, str] = {}  # one change a question (a history of one model, then several)
    for question in summary.questions:
        name = _question_of(question, contracts)
        if question.settled_on is not None and name in contracts.questions:
            assert question.streak_reading is not None
            if contracts.questions[name].settled is None and name not in diffs:
                diffs[name] = change_for(contracts, name, question.streak_reading)
    return "".join(diffs.values())


def _question_of(question: QuestionTally, contracts: Contracts) -> str:
    """The id in ``contracts`` of a question of the history: as it is, or (a run of several
    models) its model's question when the model is the contracts'; else none ("")."""
    if question.question in contracts.questions:
        return question.question
    try:
        model, name = split_qualified(question.question)
    except KeyError:
        return ""
    return name if model == contracts.profile.model else ""
