"""The live cases file: loading, and errors that name the entry and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facedetect_contract.contracts.cases import DEFAULT_CASES_FILE, CasesFileError, load_cases
from facedetect_contract.contracts.loader import load_contracts
from tests.helpers.bodies import DOCUMENTED_IMAGE

CONTRACTS = load_contracts()


def write(tmp_path: Path, cases: object) -> Path:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases), encoding="utf-8")
    return path


def test_the_default_cases_are_the_documented_image_at_both_ratios_expected_to_pass() -> None:
    cases = load_cases(DEFAULT_CASES_FILE, CONTRACTS)
    assert [(c.image_url, c.ratio, c.expect) for c in cases] == [
        (DOCUMENTED_IMAGE, "1:1", "pass"),
        (DOCUMENTED_IMAGE, "3:4", "pass"),
    ]


def test_the_optional_fields_are_read(tmp_path: Path) -> None:
    entry = {
        "name": "Head shot, 1:1",
        "image_url": "https://example.com/a.png",
        "ratio": "1:1",
        "expect": "any",
        "face_bbox": [1, 2, 30, 40],
        "image_size": [800, 600],
        "note": "from the QA set",
    }
    (case,) = load_cases(write(tmp_path, [entry]), CONTRACTS)
    assert case.slug == "head-shot-1-1"
    assert case.expected_box("face_bbox") == (1, 2, 30, 40)
    assert case.expected_box("ext_bbox") is None
    assert case.image_size == (800, 600)
    assert case.extra["note"] == "from the QA set"
    assert case.body(CONTRACTS) == {
        "model": "emo-detect-v1",
        "input": {"image_url": "https://example.com/a.png"},
        "parameters": {"ratio": "1:1"},
    }


def portrait(name: str = "portrait-3-4", **fields: object) -> dict[str, object]:
    return {
        "name": name,
        "image_url": "https://e.com/a.png",
        "ratio": "3:4",
        "expect": "pass",
        **fields,
    }


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("face_box", "face_bbox"),
        ("ext_box", "ext_bbox"),
        ("imagesize", "image_size"),
        ("Face_BBox", "face_bbox"),
        ("notes", "note"),
    ],
    ids=["face-box", "ext-box", "imagesize", "capitals", "notes"],
)
def test_a_misspelled_optional_field_is_an_error_naming_the_field_meant(
    tmp_path: Path, written: str, meant: str
) -> None:
    entries = [portrait(f"p{i}") for i in range(3)] + [portrait(**{written: [1, 2, 30, 40]})]
    with pytest.raises(CasesFileError) as raised:
        load_cases(write(tmp_path, entries), CONTRACTS)
    assert str(raised.value) == (
        f"{tmp_path / 'cases.json'}: entry 3 ('portrait-3-4'): unknown field {written!r}; "
        f"did you mean {meant!r}?"
    )


def test_a_misspelled_required_field_is_named_as_misspelled_not_only_as_missing(
    tmp_path: Path,
) -> None:
    entry = portrait()
    entry["image_ulr"] = entry.pop("image_url")
    with pytest.raises(CasesFileError) as raised:
        load_cases(write(tmp_path, [entry]), CONTRACTS)
    assert "entry 0 ('portrait-3-4'): unknown field 'image_ulr'; did you mean 'image_url'?" in str(
        raised.value
    )


def test_a_field_like_no_known_one_is_an_error_listing_the_known_fields(tmp_path: Path) -> None:
    with pytest.raises(CasesFileError) as raised:
        load_cases(write(tmp_path, [portrait(owner="qa")]), CONTRACTS)
    assert str(raised.value).endswith(
        "entry 0 ('portrait-3-4'): unknown field 'owner'; the known fields are ['expect', "
        "'ext_bbox', 'face_bbox', 'image_size', 'image_url', 'name', 'note', 'ratio'] "
        "(free text goes in 'note')"
    )


def test_several_unknown_fields_are_all_named_each_with_its_closest_field(
    tmp_path: Path,
) -> None:
    with pytest.raises(CasesFileError) as raised:
        load_cases(write(tmp_path, [portrait(face_box=[1, 2, 3, 4], owner="qa")]), CONTRACTS)
    assert "unknown fields 'face_box' (did you mean 'face_bbox'?), 'owner'; the known" in str(
        raised.value
    )


def test_a_note_that_is_not_text_is_named(tmp_path: Path) -> None:
    with pytest.raises(CasesFileError, match=r"entry 0 \('portrait-3-4'\): field 'note' is 7"):
        load_cases(write(tmp_path, [portrait(note=7)]), CONTRACTS)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([["not", "an", "object"]], "entry 0: is list; make it a JSON object"),
        ([{"name": "a", "image_url": "https://e.com/a.png", "ratio": "1:1"}], "field 'expect'"),
        (
            [{"name": "!!", "image_url": "https://e.com/a.png", "ratio": "1:1", "expect": "pass"}],
            "entry 0 ('!!'): field 'name'",
        ),
        (
            [
                {
                    "name": "A b",
                    "image_url": "https://e.com/a.png",
                    "ratio": "1:1",
                    "expect": "pass",
                },
                {
                    "name": "a-B",
                    "image_url": "https://e.com/b.png",
                    "ratio": "1:1",
                    "expect": "pass",
                },
            ],
            "entry 1 ('a-B'): field 'name' gives the id 'a-b' that entry 0 already uses",
        ),
        (
            [
                {
                    "name": "a",
                    "image_url": "https://e.com/a.png",
                    "ratio": "1:1",
                    "expect": "pass",
                    "image_size": [0, 10],
                }
            ],
            "field 'image_size' is [0, 10]",
        ),
    ],
    ids=["not-an-object", "missing-expect", "nameless", "duplicate-id", "bad-size"],
)
def test_a_malformed_entry_is_named_with_its_field(
    tmp_path: Path, entries: object, message: str
) -> None:
    with pytest.raises(CasesFileError) as raised:
        load_cases(write(tmp_path, entries), CONTRACTS)
    assert message in str(raised.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CasesFileError, match="cannot read the cases file"):
        load_cases(tmp_path / "nowhere.json", CONTRACTS)


def test_the_local_stub_cases_of_the_readme_load_and_point_at_loopback() -> None:
    cases = load_cases(DEFAULT_CASES_FILE.with_name("live-cases-local.json"), CONTRACTS)
    assert {c.expect for c in cases} == {"pass", "fail"}
    assert all(c.image_url.startswith("http://127.0.0.1:8000/images/") for c in cases)
