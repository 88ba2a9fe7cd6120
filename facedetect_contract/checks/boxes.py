"""The checks of an answer's boxes: each box well formed, the face inside the crop, the crop at
the requested ratio, a passed check with all its boxes (the geometry is ``core/geometry``'s).

Each says which boxes it needs (``needs``): a model whose profile has none of them
(liveportrait-detect) skips it with the reason, and a model whose boxes have other names
(emoji-detect-v1's ``bbox_face``) is judged at its own pointers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..contracts.outcome import nearest_answer
from ..core import geometry
from ..core.interaction import Interaction
from ..core.violations import ABSENT, render_value
from .registry import CheckContext, Finding, check

__all__ = [
    "boxes_are_ordered_integers",
    "check_pass_true_has_both_boxes",
    "ext_bbox_matches_ratio",
    "face_bbox_inside_ext_bbox",
]


@check(sources=("shape",), needs=("boxes",))
def boxes_are_ordered_integers(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """Each box present is 4 non-negative integers [x1, y1, x2, y2] with x1 < x2 and y1 < y2."""
    limit = context.contracts.profile.max_side_px  # no image side is longer, so no coordinate
    for at in context.contracts.profile.response.boxes:
        box = at.get(interaction.response.body)
        if box is ABSENT or box is None:
            continue
        if not geometry.is_box(box) or max(box) > limit:
            yield Finding(
                pointer=str(at),
                received=render_value(box),
                documented=f"[x1, y1, x2, y2]: 4 integers 0..{limit} (the longest side an "
                f"image may have), x1 < x2, y1 < y2",
                title=f"{at.name} is not a well-formed box",
            )


def _boxes(interaction: Interaction, context: CheckContext) -> tuple[Any, Any] | None:
    fields = context.contracts.profile.response
    face = fields.face_box.get(interaction.response.body)
    crop = fields.crop_box.get(interaction.response.body)
    if geometry.is_box(face) and geometry.is_box(crop):
        return face, crop
    return None


@check(sources=("shape",), needs=("face_box", "crop_box"))
def face_bbox_inside_ext_bbox(interaction: Interaction, context: CheckContext) -> Iterator[Finding]:
    """The face box lies inside the extended (crop) box."""
    boxes = _boxes(interaction, context)
    face_at, crop_at = (
        context.contracts.profile.response.face_box,
        context.contracts.profile.response.crop_box,
    )
    if boxes and not geometry.contains(boxes[1], boxes[0]):
        yield Finding(
            pointer=str(face_at),
            received=f"{face_at.name} {render_value(boxes[0])}, "
            f"{crop_at.name} {render_value(boxes[1])}",
            documented=f"{face_at.name} inside {crop_at.name}: the video model crops the image "
            f"to {crop_at.name}",
            title=f"{face_at.name} lies outside {crop_at.name}",
        )


@check(sources=("shape",), needs=("face_box", "crop_box", "ratio", "ratio_box"))
def ext_bbox_matches_ratio(interaction: Interaction, context: CheckContext) -> Iterator[Finding]:
    """The crop box's width:height equals the requested ratio (its documented default when the
    request leaves it out) within the profile's tolerance."""
    boxes = _boxes(interaction, context)
    if not boxes:
        return
    contracts = context.contracts
    profile = contracts.profile
    assert profile.ratio is not None  # needs=("ratio",): the check is skipped without one
    asked = profile.ratio.field.get(interaction.request.body)
    ratio_text = asked if isinstance(asked, str) else profile.ratio.default
    if ratio_text is None:
        return  # no ratio sent and none documented: the request's fault, judged as such
    try:
        ratio = geometry.parse_ratio(ratio_text)
    except ValueError:
        return  # an invalid ratio is the request's fault; the rejection checks judge that
    crop = profile.ratio_box.get(interaction.response.body)
    tolerance = profile.ratio_tolerance_px
    if not geometry.matches_ratio(crop, ratio, tolerance_px=tolerance):
        yield Finding(
            pointer=str(profile.ratio_box),
            received=f"{render_value(crop)}: {crop[2] - crop[0]}x{crop[3] - crop[1]} px",
            documented=f"width:height = {ratio_text} within {tolerance} px",
            title=f"{profile.ratio_box.name} does not have the requested ratio {ratio_text}",
        )


def _says_passed(interaction: Interaction, context: CheckContext) -> str | None:
    """How the answer says the check passed (its verdict true; a verdict-less model: the answer
    it comes closest to is its pass), or ``None`` when it does not."""
    profile = context.contracts.profile
    if profile.verdict is not None:
        verdict = profile.verdict.get(interaction.response.body)
        return f"{profile.verdict.name} true" if verdict is True else None
    kind = nearest_answer(interaction.response, context.contracts)
    return "a pass" if kind is not None and kind.outcome == "passed" else None


@check(sources=("shape",), needs=("boxes",))
def check_pass_true_has_both_boxes(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """A passed check comes with every box of the model's answer."""
    said = _says_passed(interaction, context)
    if said is None:
        return
    for at in context.contracts.profile.response.boxes:
        box = at.get(interaction.response.body)
        if box is ABSENT or box is None:
            yield Finding(
                pointer=str(at),
                received=render_value(box),
                documented=f"{said} comes with {at.name}",
                title=f"check passed without {at.name}",
            )
