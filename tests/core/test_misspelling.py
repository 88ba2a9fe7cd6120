"""Unknown fields of a user's file: named, each with the known field it most likely misspells."""

from __future__ import annotations

import pytest

from facedetect_contract.core.misspelling import unknown_fields

KNOWN = ("name", "face_bbox", "ext_bbox", "image_size")


def test_known_fields_are_not_a_problem() -> None:
    assert unknown_fields(["name", "face_bbox"], KNOWN) is None


@pytest.mark.parametrize(
    ("written", "meant"),
    [("face_box", "face_bbox"), ("FACE_BBOX", "face_bbox"), ("image-size", "image_size")],
    ids=["letter-missing", "capitals", "hyphen"],
)
def test_one_misspelled_field_is_named_with_the_field_meant(written: str, meant: str) -> None:
    assert unknown_fields(["name", written], KNOWN) == (
        f"unknown field {written!r}; did you mean {meant!r}?"
    )


def test_a_field_like_none_lists_the_known_fields_and_the_hint() -> None:
    assert unknown_fields(["owner"], KNOWN, hint="free text goes in 'note'") == (
        "unknown field 'owner'; the known fields are ['ext_bbox', 'face_bbox', 'image_size', "
        "'name'] (free text goes in 'note')"
    )


def test_several_unknown_fields_are_listed_in_the_order_written() -> None:
    assert unknown_fields(["zzz", "face_box"], KNOWN) == (
        "unknown fields 'zzz', 'face_box' (did you mean 'face_bbox'?); the known fields are "
        "['ext_bbox', 'face_bbox', 'image_size', 'name']"
    )
