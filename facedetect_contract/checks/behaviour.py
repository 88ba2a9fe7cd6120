"""The checks of an answer against what was expected of it in a live run: its live case's
``expect`` (a pass, a failure, either) and boxes, and the recording of the same request. A verdict
or a box that moved from the recording or the case is behaviour drift: additive, the endpoint
still keeps its contract.
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


@check(sources=("emo-detect-api",))
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
        verdict = context.contracts.profile.response.verdict
        yield Finding(
            pointer=str(verdict) if interaction.response.status == 200 else "",
            received=outcome.describe(),
            documented=f"expect {case.expect!r}: {wanted}",
            title=f"live case {case.name!r} did not meet its expect {case.expect!r}",
            source=f"{context.case_source or 'the live cases file'}, entry {case.name!r}",
        )


def _box_drift(
    live: Outcome,
    expected: Mapping[Pointer, Sequence[int] | None],
    where: str,
    source: str,
    context: CheckContext,
) -> Iterator[Finding]:
    threshold = context.contracts.profile.iou_min
    face_at, crop_at = context.contracts.profile.response.boxes
    for at, box in ((face_at, live.face_box), (crop_at, live.crop_box)):
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


@check(sources=("emo-detect-api",))
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
        source = f"fixtures/face-detect/{recording.name}.json"
        if (
            live.passed is not None
            and recorded.passed is not None
            and live.passed != recorded.passed
        ):
            yield Finding(
                pointer=str(context.contracts.profile.response.verdict),
                received=f"the portrait check {'passed' if live.passed else 'failed'}",
                documented=f"it {'passed' if recorded.passed else 'failed'} in {where}",
                title="behaviour drift: the portrait check flipped",
                severity=Severity.ADDITIVE,
                source=source,
            )
        else:
            face_at, crop_at = context.contracts.profile.response.boxes
            expected = {face_at: recorded.face_box, crop_at: recorded.crop_box}
            yield from _box_drift(live, expected, where, source, context)
    case = context.case
    if case is not None:
        face_at, crop_at = context.contracts.profile.response.boxes
        expected = {
            face_at: case.expected_box(face_at.name),
            crop_at: case.expected_box(crop_at.name),
        }
        yield from _box_drift(
            live,
            expected,
            f"live case {case.name!r}",
            f"{context.case_source or 'the live cases file'}, entry {case.name!r}",
            context,
        )
