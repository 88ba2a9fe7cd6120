"""The checks across the answers of one run (``scope="run"``): the same image gives the same face
box at every ratio and every crop holds that face, no two answers share a request id, a case sent
twice gets the same answer. Each finding names the answer it is about. The box checks need the
model's boxes (skipped, with the reason, for a model without them); a repeated case compares the
verdict and whichever boxes the model has.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..contracts.outcome import Outcome
from ..core import geometry
from ..core.interaction import Interaction
from ..core.violations import Severity, render_value
from .registry import Finding, RunContext, check

__all__ = [
    "every_crop_of_an_image_contains_its_face",
    "repeated_case_gives_the_same_answer",
    "request_id_is_unique_in_the_run",
    "same_image_same_face_box",
]


def _by_image(context: RunContext) -> dict[str, list[tuple[Interaction, Outcome]]]:
    """The passed answers to live cases, grouped by the image they checked."""
    groups: dict[str, list[tuple[Interaction, Outcome]]] = {}
    for interaction, case in context.answers:
        outcome = context.outcomes.get(interaction.name)
        if case is not None and outcome is not None and outcome.kind == "passed":
            groups.setdefault(case.image_url, []).append((interaction, outcome))
    return groups


@check(sources=("shape",), scope="run", needs=("face_box", "iou_min"))
def same_image_same_face_box(context: RunContext) -> Iterator[Finding]:
    """The same image checked at both ratios gets the same face box (IoU at least the profile's
    threshold): the ratio shapes the crop, not where the face is."""
    threshold = context.contracts.profile.iou_min
    face_at = context.contracts.profile.response.face_box
    for answers in _by_image(context).values():
        first, first_outcome = answers[0]
        for other, outcome in answers[1:]:
            if first_outcome.face_box is None or outcome.face_box is None:
                continue  # a passed outcome has both boxes; this keeps mypy and the reader sure
            overlap = geometry.iou(first_outcome.face_box, outcome.face_box)
            if overlap < threshold:
                yield Finding(
                    pointer=str(face_at),
                    received=f"{render_value(list(outcome.face_box))} (IoU {overlap:.2f} with "
                    f"{render_value(list(first_outcome.face_box))} of {first.name})",
                    documented=f"one face, one box: IoU >= {threshold} across ratios",
                    title=f"{face_at.name} of the same image moved with the ratio",
                    severity=Severity.ADDITIVE,
                    interaction=other.name,
                )


@check(sources=("shape",), scope="run", needs=("face_box", "crop_box"))
def every_crop_of_an_image_contains_its_face(context: RunContext) -> Iterator[Finding]:
    """Each crop box of an image contains the face box every answer for that image gives."""
    fields = context.contracts.profile.response
    face_at, crop_at = fields.face_box, fields.crop_box
    for answers in _by_image(context).values():
        faces = [(i.name, o.face_box) for i, o in answers if o.face_box is not None]
        for interaction, outcome in answers:
            for name, face in faces:
                if name == interaction.name or outcome.crop_box is None or face is None:
                    continue
                if not geometry.contains(outcome.crop_box, face):
                    yield Finding(
                        pointer=str(crop_at),
                        received=f"{crop_at.name} {render_value(list(outcome.crop_box))}, "
                        f"{face_at.name} {render_value(list(face))} of {name}",
                        documented=f"every {crop_at.name} of an image contains its face",
                        title=f"{crop_at.name} leaves out the face another answer found",
                        severity=Severity.ADDITIVE,
                        interaction=interaction.name,
                    )


@check(sources=("shape",), scope="run")
def request_id_is_unique_in_the_run(context: RunContext) -> Iterator[Finding]:
    """No two answers of a run carry the same request id: it is the unique id of the request."""
    at = context.contracts.profile.response.request_id
    first: dict[str, str] = {}
    for interaction, _case in context.answers:
        request_id = at.get(interaction.response.body)
        if not isinstance(request_id, str) or not request_id:
            continue  # request_id_is_non_empty_string reports it
        if request_id in first:
            yield Finding(
                pointer=str(at),
                received=f"{render_value(request_id)}, as {first[request_id]} had",
                documented="the unique id of the request: one per answer",
                title=f"{at.name} repeats another answer's",
                interaction=interaction.name,
            )
        else:
            first[request_id] = interaction.name


@check(sources=("shape",), scope="run")
def repeated_case_gives_the_same_answer(context: RunContext) -> Iterator[Finding]:
    """A case sent twice in one run (``--live-repeat-cases``) gets the same verdict and boxes."""
    profile = context.contracts.profile
    for again, first in context.repeated.items():
        a, b = context.outcomes.get(first), context.outcomes.get(again)
        if a is None or b is None:
            continue
        if a.passed != b.passed:
            yield Finding(
                pointer=profile.verdict_at,  # a verdict-less model: its output says it
                received=b.describe(),
                documented=f"{a.describe()}, as the first time ({first})",
                title="the same case, asked twice, got another verdict",
                severity=Severity.ADDITIVE,
                interaction=again,
            )
            continue
        if not profile.boxes or not profile.states("iou_min"):
            continue  # no boxes, or no threshold to compare them by: the verdict is all there is
        threshold = profile.iou_min
        for at, (x, y) in ((at, (a.box(role), b.box(role))) for role, at in profile.boxes.items()):
            if x is not None and y is not None and geometry.iou(x, y) < threshold:
                yield Finding(
                    pointer=str(at),
                    received=f"{render_value(list(y))} (IoU {geometry.iou(x, y):.2f})",
                    documented=f"{render_value(list(x))} as the first time ({first})",
                    title=f"the same case, asked twice, got another {at.name}",
                    severity=Severity.ADDITIVE,
                    interaction=again,
                )
