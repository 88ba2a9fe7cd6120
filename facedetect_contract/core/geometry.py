"""Box arithmetic shared by the checks, the fake and the generators.

A box is ``[x1, y1, x2, y2]`` in pixels (top-left, bottom-right). Whether x2/y2 are inclusive is
not documented (open question box-conventions), so a ratio comparison allows the tolerance the
endpoint profile gives (``endpoint.json`` /geometry).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

__all__ = [
    "Box",
    "contains",
    "ext_box_for",
    "iou",
    "is_box",
    "matches_ratio",
    "parse_ratio",
    "ratio_error_px",
]

Box = tuple[int, int, int, int]


def parse_ratio(ratio: str) -> tuple[int, int]:
    """``"3:4"`` -> ``(3, 4)``; raises ``ValueError`` for anything else."""
    left, sep, right = ratio.partition(":")
    if not sep or not left.isdigit() or not right.isdigit() or int(left) == 0 or int(right) == 0:
        raise ValueError(f"not a ratio of two positive integers: {ratio!r}")
    return int(left), int(right)


def is_box(value: object) -> bool:
    """Four non-negative integers (``bool`` excluded) with ``x1 < x2`` and ``y1 < y2``."""
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 4:
        return False
    if not all(type(v) is int and v >= 0 for v in value):
        return False
    return bool(value[0] < value[2] and value[1] < value[3])


def contains(outer: Sequence[int], inner: Sequence[int]) -> bool:
    """``inner`` lies inside ``outer`` (edges may touch)."""
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[2] <= outer[2]
        and inner[3] <= outer[3]
    )


def ratio_error_px(box: Sequence[int], ratio: tuple[int, int]) -> float:
    """How many pixels the box's width:height is off ``ratio`` (0 when exact)."""
    width, height = box[2] - box[0], box[3] - box[1]
    rw, rh = ratio
    # |w/h - rw/rh| scaled to pixels: one pixel of width is rh units, one of height rw units.
    return abs(width * rh - height * rw) / max(rw, rh)


def matches_ratio(box: Sequence[int], ratio: tuple[int, int], *, tolerance_px: int) -> bool:
    """Width:height equals ``ratio`` within ``tolerance_px`` pixels on either side."""
    width, height = box[2] - box[0], box[3] - box[1]
    rw, rh = ratio
    return abs(width * rh - height * rw) <= tolerance_px * max(rw, rh)  # exact, in integers


def ext_box_for(
    face: Sequence[int], image: tuple[int, int], ratio: tuple[int, int], *, scale: float = 2.5
) -> Box | None:
    """The crop box of ``ratio`` around ``face``, inside the image, or ``None`` when none fits.

    The box is ``scale`` times the face height (shrunk to fit the image), centred on the face and
    shifted, never resized, to stay inside the image, as the documented examples look.
    """
    image_w, image_h = image
    rw, rh = ratio
    face_w, face_h = face[2] - face[0], face[3] - face[1]
    unit = max(Fraction(face_h * scale) / rh, Fraction(face_w * scale) / rw)  # exact division
    unit = min(unit, Fraction(image_w, rw), Fraction(image_h, rh))
    width, height = int(unit * rw), int(unit * rh)
    if width < face_w or height < face_h:
        return None
    cx, cy = (face[0] + face[2]) // 2, (face[1] + face[3]) // 2
    x1 = min(max(cx - width // 2, 0), image_w - width)
    y1 = min(max(cy - height // 2, 0), image_h - height)
    x1 = min(x1, face[0])
    y1 = min(y1, face[1])
    x1 = max(x1, face[2] - width)
    y1 = max(y1, face[3] - height)
    return (x1, y1, x1 + width, y1 + height)


def iou(a: Sequence[int], b: Sequence[int]) -> float:
    """Intersection over union of two boxes, 0.0 when they do not overlap."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0
