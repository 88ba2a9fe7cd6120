"""The checks of an answer's boxes: each box well formed, the face inside the crop, the crop at
the requested ratio, a passed check with both boxes (the geometry is ``core/geometry``'s).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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


@check(sources=("emo-detect-api",))
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
    face_at, crop_at = context.contracts.profile.response.boxes
    face = face_at.get(interaction.response.body)
    crop = crop_at.get(interaction.response.body)
    if geometry.is_box(face) and geometry.is_box(crop):
        return face, crop
    return None


@check(sources=("emo-detect-api",))
def face_bbox_inside_ext_bbox(interaction: Interaction, context: CheckContext) -> Iterator[Finding]:
    """The face box lies inside the extended (crop) box."""
    boxes = _boxes(interaction, context)
    face_at, crop_at = context.contracts.profile.response.boxes
    if boxes and not geometry.contains(boxes[1], boxes[0]):
        yield Finding(
            pointer=str(face_at),
            received=f"{face_at.name} {render_value(boxes[0])}, "
            f"{crop_at.name} {render_value(boxes[1])}",
            documented=f"{face_at.name} inside {crop_at.name}: the video model crops the image "
            f"to {crop_at.name}",
            title=f"{face_at.name} lies outside {crop_at.name}",
        )


@check(sources=("emo-detect-api",))
def ext_bbox_matches_ratio(interaction: Interaction, context: CheckContext) -> Iterator[Finding]:
    """The crop box's width:height equals the requested ratio (default 1:1) within the profile's
    tolerance."""
    boxes = _boxes(interaction, context)
    if not boxes:
        return
    contracts = context.contracts
    profile = contracts.profile
    asked = profile.request.ratio.get(interaction.request.body)
    ratio_text = asked if isinstance(asked, str) else contracts.default_ratio
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


@check(sources=("emo-detect-api",))
def check_pass_true_has_both_boxes(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """A passed check comes with both boxes."""
    fields = context.contracts.profile.response
    if fields.verdict.get(interaction.response.body) is not True:
        return
    for at in fields.boxes:
        box = at.get(interaction.response.body)
        if box is ABSENT or box is None:
            yield Finding(
                pointer=str(at),
                received=render_value(box),
                documented=f"{fields.verdict.name} true comes with {at.name}",
                title=f"check passed without {at.name}",
            )
