"""The checks of an answer against what was expected of it in a live run: its live case's
``expect`` (a pass, a failure, either) and boxes, and the recording of the same request. A verdict
or a box that moved from the recording or the case is behaviour drift: additive, the endpoint
still keeps its contract. Only the boxes the model's answer has are compared (none for a model
without boxes), and a verdict-less model's pass or fail is pointed at by its output.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from ..contracts.outcome import Outcome, classify
from ..core import geometry
from ..core.interaction import Interaction
from ..core.pointers import Pointer
from ..core.violations import Severity, render_value
from .registry import CheckContext, Finding, check

__all__ = ["behaviour_matches_recording", "live_case_meets_its_expect"]


_EXPECTS = {
    "pass": ("the portrait check passes", (True,)),
    "fail": ("the portrait check fails (shape A or B)", (False,)),
    "any": ("the portrait check passes or fails, not a request failure", (True, False)),
}


@check(sources=("shape",))
def live_case_meets_its_expect(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """A live case's answer is what its ``expect`` says: a pass, a failure, or either."""
    case = context.case
    if case is None:
        return
    outcome = context.outcome_of(interaction)
    wanted, admitted = _EXPECTS[case.expect]
    if outcome.passed not in admitted:
        yield Finding(
            pointer=context.contracts.profile.verdict_at
            if interaction.response.status == 200
            else "",
            received=outcome.describe(),
            documented=f"expect {case.expect!r}: {wanted}",
            title=f"live case {case.name!r} did not meet its expect {case.expect!r}",
            source=f"{context.case_source or 'the live cases file'}, entry {case.name!r}",
        )


def _live_boxes(live: Outcome, context: CheckContext) -> list[tuple[Pointer, geometry.Box | None]]:
    """(pointer, the box the outcome read there) for each box of the model's answer."""
    return [(at, live.box(role)) for role, at in context.contracts.profile.boxes.items()]


def _box_drift(
    live: Outcome,
    expected: Mapping[Pointer, Sequence[int] | None],
    where: str,
    source: str,
    context: CheckContext,
) -> Iterator[Finding]:
    if not expected or not context.contracts.profile.states("iou_min"):
        return  # no boxes, or no threshold (/behaviour_drift) to compare them by: the verdict alone
    threshold = context.contracts.profile.iou_min
    for at, box in _live_boxes(live, context):
        wanted = expected.get(at)
        if box is None or wanted is None:
            continue
        overlap = geometry.iou(box, wanted)
        if overlap < threshold:
            yield Finding(
                pointer=str(at),
                received=f"{render_value(list(box))} (IoU {overlap:.2f} with {where})",
                documented=f"{render_value(list(wanted))} in {where}: IoU >= {threshold}",
                title=f"behaviour drift: {at.name} moved (IoU {overlap:.2f} < {threshold})",
                severity=Severity.ADDITIVE,
                source=source,
            )


@check(sources=("shape",))
def behaviour_matches_recording(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """The same request gets the same verdict and boxes (IoU at least the profile's threshold) as
    its recording and as the boxes its live case expects; a change is behaviour drift (additive)."""
    live = context.outcome_of(interaction)
    recording = context.recording
    if recording is not None:
        recorded = classify(recording.response, context.contracts)
        kind, date = recording.provenance.get("kind", "?"), recording.provenance.get("date", "?")
        where = f"fixture {recording.name!r} ({kind} {date})"
        source = f"fixtures/{context.contracts.directory.name}/{recording.name}.json"
        if (
            live.passed is not None
            and recorded.passed is not None
            and live.passed != recorded.passed
        ):
            yield Finding(
                pointer=context.contracts.profile.verdict_at,
                received=f"the portrait check {'passed' if live.passed else 'failed'}",
                documented=f"it {'passed' if recorded.passed else 'failed'} in {where}",
                title="behaviour drift: the portrait check flipped",
                severity=Severity.ADDITIVE,
                source=source,
            )
        else:
            expected = dict(_live_boxes(recorded, context))
            yield from _box_drift(live, expected, where, source, context)
    case = context.case
    if case is not None:
        expected = {
            at: case.expected_box(at.name) for at in context.contracts.profile.response.boxes
        }
        yield from _box_drift(
            live,
            expected,
            f"live case {case.name!r}",
            f"{context.case_source or 'the live cases file'}, entry {case.name!r}",
            context,
        )
