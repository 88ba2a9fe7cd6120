"""JSON pointers (RFC 6901): how the profile names a field, and how every module reads it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facedetect_contract.core.pointers import Pointer, escape, shown
from facedetect_contract.core.violations import ABSENT

DOCUMENT = {
    "output": {"face_bbox": [302, 286, 610, 593], "check_pass": None},
    "a/b": {"m~n": 1},
    "": "the empty key",
}


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", ()),
        ("/output/face_bbox", ("output", "face_bbox")),
        ("/a~1b/m~0n", ("a/b", "m~n")),
        ("/~01", ("~1",)),  # ~0 is undone last: "~01" is "~1", never "/"
        ("/~10", ("/0",)),
        ("/", ("",)),
    ],
)
def test_parsing_unescapes_and_printing_escapes_each_token(
    text: str, parts: tuple[str, ...]
) -> None:
    pointer = Pointer.parse(text)
    assert pointer.parts == parts
    assert str(pointer) == text
    assert str(Pointer.of(parts)) == text


@given(st.lists(st.text(alphabet="a~/1", max_size=6), max_size=4))
def test_any_tokens_survive_printing_and_parsing(parts: list[str]) -> None:
    assert Pointer.parse(str(Pointer.of(parts))).parts == tuple(parts)


def test_escape_turns_tilde_into_0_and_slash_into_1() -> None:
    assert escape("~/") == "~0~1"
    assert escape("a/~b") == "a~1~0b"
    assert escape(3) == "3"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/output/face_bbox/0", 302),
        ("/output/face_bbox/3", 593),
        ("/output/face_bbox/01", ABSENT),  # RFC 6901: an array index has no leading zero
        ("/output/face_bbox/00", ABSENT),
        ("/output/face_bbox/4", ABSENT),
        ("/output/face_bbox/-1", ABSENT),
        ("/output/face_bbox/\u0663", ABSENT),  # an Arabic-Indic three is a digit, not an index
    ],
)
def test_an_array_index_is_zero_or_digits_without_a_leading_zero(
    text: str, expected: object
) -> None:
    assert Pointer.parse(text).get(DOCUMENT) == expected


def test_a_pointer_not_starting_with_a_slash_is_refused() -> None:
    with pytest.raises(ValueError, match="must start with '/'"):
        Pointer.parse("output/face_bbox")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("", DOCUMENT),
        ("/output/face_bbox/0", 302),
        ("/output/face_bbox/3", 593),
        ("/output/check_pass", None),  # present, and null: not absent
        ("/a~1b/m~0n", 1),
        ("/", "the empty key"),
    ],
)
def test_get_reads_objects_and_list_indexes(text: str, value: object) -> None:
    assert Pointer.parse(text).get(DOCUMENT) == value
    assert Pointer.parse(text).present(DOCUMENT)


@pytest.mark.parametrize(
    "text",
    [
        "/usage",
        "/usage/image_count",
        "/output/face_bbox/4",  # past the end
        "/output/face_bbox/-1",
        "/output/face_bbox/01x",
        "/output/face_bbox/\u0661",  # an Arabic-Indic one: a digit to str.isdigit, no index
        "/output/face_bbox/0/x",  # through a number
        "/output/check_pass/x",  # through null
    ],
)
def test_get_with_a_missing_step_is_absent(text: str) -> None:
    assert Pointer.parse(text).get(DOCUMENT) is ABSENT
    assert not Pointer.parse(text).present(DOCUMENT)


def test_get_on_a_body_that_is_not_json_is_absent() -> None:
    assert Pointer.parse("/output").get("<html>busy</html>") is ABSENT
    assert Pointer.parse("/0").get("text") is ABSENT


def test_put_makes_the_objects_on_the_way_and_keeps_what_is_there() -> None:
    document: dict[str, object] = {"model": "emo-detect-v1", "parameters": {"other": 1}}
    assert Pointer.parse("/input/image_url").put(document, "https://e.com/p.png") is document
    Pointer.parse("/parameters/ratio").put(document, "1:1")
    assert document == {
        "model": "emo-detect-v1",
        "input": {"image_url": "https://e.com/p.png"},
        "parameters": {"other": 1, "ratio": "1:1"},
    }
    assert Pointer.parse("/a~1b/c").put({}, 1) == {"a/b": {"c": 1}}


def test_name_parent_and_child_walk_the_tokens() -> None:
    verdict = Pointer.parse("/output/check_pass")
    assert (verdict.name, str(verdict.parent)) == ("check_pass", "/output")
    assert verdict.parent.child("face_bbox", 0) == Pointer.parse("/output/face_bbox/0")
    assert Pointer.parse("").name == ""


def test_a_validation_error_s_path_is_shown_as_its_pointer_and_the_root_as_a_slash() -> None:
    assert shown([]) == "/"
    assert shown(["output", "face_bbox", 0]) == "/output/face_bbox/0"
    assert shown(["a/b", "c~d"]) == "/a~1b/c~0d"  # RFC 6901 escaping, as the findings' pointers
