"""Box arithmetic: the crop the fake computes obeys every documented geometric rule.

The rules come from docs/endpoint.md: a box is ``[x1, y1, x2, y2]``, the top-left and
bottom-right corners in pixels, non-negative integers; the face lies inside the ext box; the ext
box has the requested width:height (``1:1`` or ``3:4``) within the profile's tolerance of 1 px
(open question box-conventions); a live box whose IoU with its recorded box is below 0.9 moved.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from facedetect_contract.core import geometry
from facedetect_contract.plugin.harness import EXAMPLES_PER_PROPERTY
from tests.helpers.bodies import DOCUMENTED_CROP, DOCUMENTED_FACE
from tests.helpers.bodies import DOCUMENTED_IMAGE_SIZE as ASSUMED_IMAGE

# The documented pair at 1:1 (docs/endpoint.md, "Check passed"; fixture documented-pass-1-1),
# and ASSUMED_IMAGE, the project's assumption of the example image's size (endpoint.json).
RATIOS = [(1, 1), (3, 4)]  # the documented ratios, 1:1 (head shot) and 3:4 (half body)


def test_the_ext_box_contains_the_face_fits_the_image_and_has_the_ratio() -> None:
    """ext_box_for -> a box inside the image, around the face, of the ratio within 1 px; None
    only when no box of the ratio that holds the face fits in the image. Both branches taken,
    the box often enough to mean something."""
    taken: Counter[str] = Counter()

    @given(
        width=st.integers(400, 7000),
        height=st.integers(400, 7000),
        data=st.data(),
        ratio=st.sampled_from(RATIOS),
    )
    def crop(width: int, height: int, data: st.DataObject, ratio: tuple[int, int]) -> None:
        side = data.draw(st.integers(2, min(width, height)))
        x1 = data.draw(st.integers(0, width - side))
        y1 = data.draw(st.integers(0, height - side))
        face = (x1, y1, x1 + side, y1 + side)
        ext = geometry.ext_box_for(face, (width, height), ratio)
        event("a crop" if ext is not None else "no crop fits")
        if ext is None:
            taken["none"] += 1
            # The largest box of the exact ratio inside the image is too small for the face.
            k = min(width // ratio[0], height // ratio[1])
            assert k * ratio[0] < side or k * ratio[1] < side
            return
        taken["box"] += 1
        assert geometry.is_box(ext)
        assert geometry.contains(ext, face)
        assert geometry.contains((0, 0, width, height), ext)
        assert geometry.matches_ratio(ext, ratio, tolerance_px=1)

    crop()
    assert taken["box"] >= EXAMPLES_PER_PROPERTY // 2, taken
    assert taken["none"] >= 1, taken


def edge_or_anywhere(last: int) -> st.SearchStrategy[int]:
    """A coordinate in 0..last: anywhere (four draws in six), or against either edge (or a few
    pixels off it)."""
    anywhere = st.integers(0, last)
    near, far = st.integers(0, min(last, 8)), st.integers(max(0, last - 8), last)
    return st.one_of(anywhere, anywhere, anywhere, anywhere, near, far)


def face_side(image_side: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(2, image_side // 3), st.integers(2, image_side // 10))


def test_the_ext_box_is_scale_times_the_face_centred_on_it_unless_the_image_edge_intervenes() -> (
    None
):
    """ext_box_for's own rule (its docstring, "as the documented examples look"): the crop is
    ``scale`` times the face (the tighter side to the pixel) unless the image is too small for
    that, centred on the face, and shifted, never resized, to stay inside the image. Faces are
    rectangles anywhere in an image of any shape, so no axis can stand in for the other. Every
    branch is taken often enough to mean something."""
    scale = 2.5  # the default
    taken: Counter[str] = Counter()

    @given(
        width=st.integers(400, 7000),
        height=st.integers(400, 7000),
        data=st.data(),
        ratio=st.sampled_from(RATIOS),
    )
    def crop(width: int, height: int, data: st.DataObject, ratio: tuple[int, int]) -> None:
        # Any size up to a third of the image, or small (a tenth): a crop centred on the face
        # needs room on both sides, which large faces seldom leave.
        face_w = data.draw(face_side(width), label="face width")
        face_h = data.draw(face_side(height), label="face height")
        # Anywhere, and often against an edge: the shifted branches are then taken every run.
        x1 = data.draw(edge_or_anywhere(width - face_w), label="x1")
        y1 = data.draw(edge_or_anywhere(height - face_h), label="y1")
        face = (x1, y1, x1 + face_w, y1 + face_h)
        ext = geometry.ext_box_for(face, (width, height), ratio)
        if ext is None:
            taken["none"] += 1
            k = min(width // ratio[0], height // ratio[1])
            assert k * ratio[0] < face_w or k * ratio[1] < face_h
            return
        assert geometry.contains(ext, face)
        assert geometry.contains((0, 0, width, height), ext)
        assert geometry.matches_ratio(ext, ratio, tolerance_px=1)
        crop_w, crop_h = ext[2] - ext[0], ext[3] - ext[1]
        # No larger than it must be: one side at most scale times the face's.
        assert crop_w <= scale * face_w or crop_h <= scale * face_h
        if crop_w == width or crop_h == height:
            taken["as large as the image allows"] += 1
        else:  # scale times the face on both sides, less only what rounding down to a pixel costs
            taken["scale times the face"] += 1
            assert crop_w > scale * face_w - 1 and crop_h > scale * face_h - 1, (ext, face)
        for axis, side, image_side in ((0, crop_w, width), (1, crop_h, height)):
            face_centre = (face[axis] + face[axis + 2]) / 2
            if side == image_side:
                continue  # it fills the image on this axis: nowhere to shift it
            if ext[axis] > 0 and ext[axis + 2] < image_side:
                taken[f"centred on axis {axis}"] += 1
                assert abs((ext[axis] + ext[axis + 2]) / 2 - face_centre) <= 0.5, (axis, ext)
            elif ext[axis] == 0:  # centred, it would have crossed the near edge
                taken[f"shifted off the near edge on axis {axis}"] += 1
                assert face_centre - side / 2 <= 0.5, (axis, ext, face)
            else:  # ext[axis + 2] == image_side: centred, it would have crossed the far edge
                taken[f"shifted off the far edge on axis {axis}"] += 1
                assert face_centre + side / 2 >= image_side - 0.5, (axis, ext, face)

    crop()
    many = EXAMPLES_PER_PROPERTY // 5
    assert taken["scale times the face"] >= many, taken
    some = EXAMPLES_PER_PROPERTY // 10  # a face centred needs room on both sides: rarer
    assert taken["centred on axis 0"] >= some and taken["centred on axis 1"] >= some, taken
    for axis in (0, 1):
        assert taken[f"shifted off the near edge on axis {axis}"] >= 3, taken
        assert taken[f"shifted off the far edge on axis {axis}"] >= 3, taken
    assert taken["as large as the image allows"] + taken["none"] >= 1, taken


def test_the_crop_for_the_documented_face_has_the_documented_crop_size_within_one_pixel() -> None:
    """The documented pair is a 308x307 face in a 769x769 crop: scale 2.5 (the default) gives
    the same size to 1 px; the crop is square (ratio 1:1) and centred on the face."""
    ext = geometry.ext_box_for(DOCUMENTED_FACE, ASSUMED_IMAGE, (1, 1))
    assert ext == (71, 54, 841, 824)
    documented_side = DOCUMENTED_CROP[2] - DOCUMENTED_CROP[0]
    assert abs((ext[2] - ext[0]) - documented_side) <= 1
    assert abs((ext[3] - ext[1]) - documented_side) <= 1


@pytest.mark.parametrize(
    ("face", "image", "ratio", "expected"),
    [
        # A 100x120 face well inside a 2000x1500 image: 300x300 at 1:1 (2.5 x its height),
        # centred on (450, 360).
        ((400, 300, 500, 420), (2000, 1500), (1, 1), (300, 210, 600, 510)),
        # The same face at 3:4 (half body): 2.5 x its width is the tighter side, 250 px wide
        # (333 px high), centred on (450, 360).
        ((400, 300, 500, 420), (2000, 1500), (3, 4), (325, 194, 575, 527)),
        # A wide face (160x120) at 1:1: 2.5 x its width, 400x400, centred on (1080, 660).
        ((1000, 600, 1160, 720), (3000, 2000), (1, 1), (880, 460, 1280, 860)),
        # A face in the bottom-right corner: shifted left and up, not resized.
        ((1800, 1300, 1900, 1420), (2000, 1500), (1, 1), (1700, 1200, 2000, 1500)),
        # A face in the top-left corner: shifted right and down, not resized.
        ((10, 20, 110, 140), (2000, 1500), (1, 1), (0, 0, 300, 300)),
        # A tall face in a wide image whose height limits the crop: shrunk to the image's height.
        ((900, 100, 1000, 380), (3000, 400), (1, 1), (750, 0, 1150, 400)),
        # A wide face in a tall image whose width limits the crop: shrunk to the image's width.
        ((100, 900, 380, 1000), (400, 3000), (1, 1), (0, 750, 400, 1150)),
        # 3:4 in a 400x400 image: at most 300x400, narrower than a 350 px face: none fits.
        ((20, 20, 370, 370), (400, 400), (3, 4), None),
        # 1:1 in a 400x7000 image: a 400 px wide face is exactly as wide as any square can be.
        ((0, 100, 400, 500), (400, 7000), (1, 1), (0, 100, 400, 500)),
    ],
    ids=[
        "centred-1-1",
        "centred-3-4",
        "wide-face-1-1",
        "bottom-right-corner",
        "top-left-corner",
        "height-limited",
        "width-limited",
        "none-fits",
        "face-as-wide-as-image",
    ],
)
def test_the_ext_box_is_centred_on_the_face_and_shifted_to_stay_inside_the_image(
    face: geometry.Box,
    image: tuple[int, int],
    ratio: tuple[int, int],
    expected: geometry.Box | None,
) -> None:
    """ext_box_for's rule on known answers: centred, shifted inside the image, never resized."""
    assert geometry.ext_box_for(face, image, ratio) == expected


def test_the_scale_sets_the_crop_size_around_the_face() -> None:
    """``scale`` times the face: 1.0 is the face's own size (its larger side at 1:1)."""
    assert geometry.ext_box_for((400, 300, 500, 420), (2000, 1500), (1, 1), scale=1.0) == (
        390,
        300,
        510,
        420,
    )
    assert geometry.ext_box_for((400, 300, 500, 420), (2000, 1500), (1, 1), scale=4.0) == (
        210,
        120,
        690,
        600,
    )


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


@pytest.mark.parametrize(
    ("box", "ok"),
    [
        ((0, 0, 1, 1), True),  # a tuple is a sequence too; 0 is a non-negative integer
        ([71, 9, 840, 778], True),  # the documented crop box
        ([1, 2, 3, 2], False),  # zero height: y1 == y2
        ([1, 4, 3, 2], False),  # upside down: y1 > y2
        ([3, 2, 1, 4], False),  # mirrored: x1 > x2
        ([1, 2, 3, 4, 5], False),  # five numbers
        ([1, 2, 3, -4], False),  # a negative last corner
        ([1, 2, 3, False], False),  # a bool is not a pixel count, in any place
        ([1, 2, 3, 4.0], False),  # nor is a float
        ({1: 1, 2: 2, 3: 3, 4: 4}, False),  # a mapping is not a sequence of corners
        (1234, False),
        (None, False),
    ],
)
def test_a_box_is_top_left_and_bottom_right_corners_in_non_negative_integer_pixels(
    box: object, ok: bool
) -> None:
    """docs/endpoint.md: ``[x1, y1, x2, y2]``, top-left and bottom-right, non-negative integers."""
    assert geometry.is_box(box) is ok


@pytest.mark.parametrize(
    ("inner", "inside"),
    [
        (DOCUMENTED_FACE, True),  # the documented pair: the face lies inside the ext box
        (DOCUMENTED_CROP, True),  # edges may touch: a box contains itself
        ((70, 286, 610, 593), False),  # 1 px out on the left
        ((302, 8, 610, 593), False),  # 1 px out at the top
        ((302, 286, 841, 593), False),  # 1 px out on the right
        ((302, 286, 610, 779), False),  # 1 px out at the bottom
        ((71, 9, 100, 100), True),  # touching the top-left corner
        ((800, 700, 840, 778), True),  # touching the bottom-right corner
    ],
)
def test_the_face_lies_inside_the_ext_box_edges_may_touch(
    inner: geometry.Box, inside: bool
) -> None:
    """docs/endpoint.md: in every example the face box lies inside the ext box."""
    assert geometry.contains(DOCUMENTED_CROP, inner) is inside


def test_the_documented_pairs_are_square_within_one_pixel() -> None:
    assert geometry.matches_ratio([71, 9, 840, 778], (1, 1), tolerance_px=1)
    assert geometry.matches_ratio([225, 0, 931, 706], (1, 1), tolerance_px=1)
    assert not geometry.matches_ratio([71, 9, 840, 778], (3, 4), tolerance_px=1)


@pytest.mark.parametrize(
    ("box", "ratio", "within_one_px", "error_px"),
    [
        # The documented pair and the public client pair: exactly square.
        ((71, 9, 840, 778), (1, 1), True, 0.0),
        ((225, 0, 931, 706), (1, 1), True, 0.0),
        # The sibling's example is 1 px off square: within the tolerance.
        ((71, 9, 841, 778), (1, 1), True, 1.0),
        ((71, 9, 840, 779), (1, 1), True, 1.0),
        ((71, 9, 839, 778), (1, 1), True, 1.0),
        # 2 px off square is not.
        ((71, 9, 842, 778), (1, 1), False, 2.0),
        ((71, 9, 838, 778), (1, 1), False, 2.0),
        # 3:4, exactly: 300x400 anywhere in the image.
        ((100, 50, 400, 450), (3, 4), True, 0.0),
        # 3:4, one pixel too wide (301x400) or too narrow: 1 px, within the tolerance.
        ((100, 50, 401, 450), (3, 4), True, 1.0),
        ((100, 50, 399, 450), (3, 4), True, 1.0),
        # 3:4, one pixel too tall: 3/4 of a pixel at the wider scale.
        ((100, 50, 400, 451), (3, 4), True, 0.75),
        # 3:4, two pixels too wide: 2 px, outside it.
        ((100, 50, 402, 450), (3, 4), False, 2.0),
        # A 1:1 box is not 3:4, nor a 3:4 box 1:1 (300x400 is 100 px off square).
        ((100, 50, 400, 450), (1, 1), False, 100.0),
    ],
)
def test_the_ext_box_has_the_requested_ratio_within_one_pixel(
    box: geometry.Box, ratio: tuple[int, int], within_one_px: bool, error_px: float
) -> None:
    """endpoint.json /geometry: width:height equals the ratio within ratio_tolerance_px = 1 (open
    question box-conventions); ratio_error_px says by how much, in pixels of the box's side."""
    assert geometry.matches_ratio(box, ratio, tolerance_px=1) is within_one_px
    assert geometry.ratio_error_px(box, ratio) == pytest.approx(error_px)
    assert (geometry.ratio_error_px(box, ratio) <= 1) is within_one_px


def test_a_tolerance_of_zero_accepts_the_exact_ratio_only() -> None:
    """The tolerance is the profile's (endpoint.json /geometry), not a constant: 0 is exact."""
    assert geometry.matches_ratio((100, 50, 400, 450), (3, 4), tolerance_px=0)
    assert not geometry.matches_ratio((100, 50, 401, 450), (3, 4), tolerance_px=0)
    assert geometry.matches_ratio((100, 50, 402, 450), (3, 4), tolerance_px=2)


@pytest.mark.parametrize(
    ("text", "ratio"), [("1:1", (1, 1)), ("3:4", (3, 4)), ("4:3", (4, 3)), ("16:9", (16, 9))]
)
def test_a_ratio_is_width_colon_height_in_positive_integers(
    text: str, ratio: tuple[int, int]
) -> None:
    """docs/endpoint.md: ``parameters.ratio`` is ``"1:1"`` or ``"3:4"``, width:height; the parse
    keeps the order (3:4 is half body, 4:3 is not) and reads any two positive integers."""
    assert geometry.parse_ratio(text) == ratio


@pytest.mark.parametrize("bad", ["1-1", "0:1", "a:b", "", "1:"])
def test_a_malformed_ratio_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="ratio"):
        geometry.parse_ratio(bad)


@pytest.mark.parametrize("bad", ["1:0", "0:0", ":1", "1:a", "1:1:1", "1", "-1:1", "1.5:1"])
def test_a_ratio_that_is_not_two_positive_integers_is_refused_naming_it(bad: str) -> None:
    """The message says what a ratio must be and quotes what was given."""
    message = f"not a ratio of two positive integers: {bad!r}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        geometry.parse_ratio(bad)


def test_iou_is_one_for_the_same_box_and_zero_for_disjoint_boxes() -> None:
    assert geometry.iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert geometry.iou([0, 0, 10, 10], [20, 20, 30, 30]) == 0.0
    assert geometry.iou([0, 0, 10, 10], [5, 0, 15, 10]) == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # Rectangles away from the origin, overlapping in x only partly: 40x20 each, 10 px apart.
        ((100, 200, 140, 220), (110, 200, 150, 220), (30 * 20) / (2 * 800 - 30 * 20)),
        # Overlapping in y only partly: 20x40 each, 10 px apart vertically.
        ((100, 200, 120, 240), (100, 210, 120, 250), (20 * 30) / (2 * 800 - 20 * 30)),
        # Overlapping in both, different sizes: 100x50 and 60x80 boxes.
        ((100, 200, 200, 250), (150, 220, 210, 300), (50 * 30) / (5000 + 4800 - 50 * 30)),
        # One inside the other: the area ratio.
        (DOCUMENTED_CROP, DOCUMENTED_FACE, (308 * 307) / (769 * 769)),
        # Disjoint in x although overlapping in y, and the other way round.
        ((100, 200, 140, 260), (150, 200, 190, 260), 0.0),
        ((100, 200, 160, 240), (100, 250, 160, 290), 0.0),
        # Touching edges share no area.
        ((100, 200, 140, 260), (140, 200, 180, 260), 0.0),
        # Boxes with no area at all (not boxes by is_box): no overlap, so 0, never a division.
        ((5, 5, 5, 5), (5, 5, 5, 5), 0.0),
    ],
)
def test_iou_is_the_shared_area_over_the_joint_area_in_either_order(
    a: geometry.Box, b: geometry.Box, expected: float
) -> None:
    """The behaviour-drift rule (endpoint.json /behaviour_drift, IoU below 0.9 moved) needs the
    true IoU on both axes, for boxes anywhere, whichever box comes first."""
    assert geometry.iou(a, b) == pytest.approx(expected)
    assert geometry.iou(b, a) == pytest.approx(expected)


def test_a_face_shifted_by_six_pixels_of_a_hundred_has_moved() -> None:
    """IoU of a 100 px square and its shift by dx is (100 - dx) / (100 + dx): 0.9 is crossed
    between 5 px (0.905) and 6 px (0.887), along either axis."""
    face = (300, 400, 400, 500)
    assert geometry.iou(face, (305, 400, 405, 500)) == pytest.approx(95 / 105)
    assert geometry.iou(face, (300, 406, 400, 506)) == pytest.approx(94 / 106)
    assert (
        geometry.iou(face, (305, 400, 405, 500)) >= 0.9 > geometry.iou(face, (306, 400, 406, 500))
    )
