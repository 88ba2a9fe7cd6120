"""Box arithmetic: the crop the fake computes obeys every documented geometric rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facedetect_contract import geometry


@given(
    width=st.integers(400, 7000),
    height=st.integers(400, 7000),
    data=st.data(),
    ratio=st.sampled_from([(1, 1), (3, 4)]),
)
def test_the_ext_box_contains_the_face_fits_the_image_and_has_the_ratio(
    width: int, height: int, data: st.DataObject, ratio: tuple[int, int]
) -> None:
    """ext_box_for -> None, or a box inside the image, around the face, of the ratio within 1 px."""
    side = data.draw(st.integers(2, min(width, height)))
    x1 = data.draw(st.integers(0, width - side))
    y1 = data.draw(st.integers(0, height - side))
    face = (x1, y1, x1 + side, y1 + side)
    ext = geometry.ext_box_for(face, (width, height), ratio)
    if ext is None:
        return
    assert geometry.is_box(ext)
    assert geometry.contains(ext, face)
    assert geometry.contains((0, 0, width, height), ext)
    assert geometry.matches_ratio(ext, ratio, tolerance_px=1)


@pytest.mark.parametrize(
    ("box", "ok"),
    [
        ([1, 2, 3, 4], True),
        ([1, 2, 1, 4], False),
        ([True, 2, 3, 4], False),
        ([1, 2, 3], False),
        ("1234", False),
        ([1.0, 2, 3, 4], False),
        ([-1, 2, 3, 4], False),
    ],
)
def test_a_box_is_four_ordered_non_negative_integers(box: object, ok: bool) -> None:
    assert geometry.is_box(box) is ok


def test_the_documented_pairs_are_square_within_one_pixel() -> None:
    assert geometry.matches_ratio([71, 9, 840, 778], (1, 1), tolerance_px=1)
    assert geometry.matches_ratio([225, 0, 931, 706], (1, 1), tolerance_px=1)
    assert not geometry.matches_ratio([71, 9, 840, 778], (3, 4), tolerance_px=1)


@pytest.mark.parametrize("bad", ["1-1", "0:1", "a:b", "", "1:"])
def test_a_malformed_ratio_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="ratio"):
        geometry.parse_ratio(bad)


def test_iou_is_one_for_the_same_box_and_zero_for_disjoint_boxes() -> None:
    assert geometry.iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert geometry.iou([0, 0, 10, 10], [20, 20, 30, 30]) == 0.0
    assert geometry.iou([0, 0, 10, 10], [5, 0, 15, 10]) == pytest.approx(1 / 3)
