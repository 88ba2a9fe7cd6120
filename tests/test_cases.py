"""The live cases file: loading, and errors that name the entry and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facedetect_contract.cases import DEFAULT_CASES_FILE, CasesFileError, load_cases

DOCUMENTED_IMAGE = (
    "https://help-static-aliyun-doc.aliyuncs.com/file-manage-files/zh-CN/20251225/onmomb/emo.png"
)


def write(tmp_path: Path, cases: object) -> Path:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases), encoding="utf-8")
    return path


def test_the_default_cases_are_the_documented_image_at_both_ratios_expected_to_pass() -> None:
    cases = load_cases(DEFAULT_CASES_FILE)
    assert [(c.image_url, c.ratio, c.expect) for c in cases] == [
        (DOCUMENTED_IMAGE, "1:1", "pass"),
        (DOCUMENTED_IMAGE, "3:4", "pass"),
    ]


def test_extra_keys_are_kept_and_known_ones_are_read(tmp_path: Path) -> None:
    entry = {
        "name": "Head shot, 1:1",
        "image_url": "https://example.com/a.png",
        "ratio": "1:1",
        "expect": "any",
        "face_bbox": [1, 2, 30, 40],
        "image_size": [800, 600],
        "owner": "qa",
    }
    (case,) = load_cases(write(tmp_path, [entry]))
    assert case.slug == "head-shot-1-1"
    assert case.expected_box("face_bbox") == (1, 2, 30, 40)
    assert case.expected_box("ext_bbox") is None
    assert case.image_size == (800, 600)
    assert case.extra["owner"] == "qa"
    assert case.body() == {
        "model": "emo-detect-v1",
        "input": {"image_url": "https://example.com/a.png"},
        "parameters": {"ratio": "1:1"},
    }


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
        load_cases(write(tmp_path, entries))
    assert message in str(raised.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CasesFileError, match="cannot read the cases file"):
        load_cases(tmp_path / "nowhere.json")


def test_the_local_stub_cases_of_the_readme_load_and_point_at_loopback() -> None:
    cases = load_cases(DEFAULT_CASES_FILE.with_name("live-cases-local.json"))
    assert {c.expect for c in cases} == {"pass", "fail"}
    assert all(c.image_url.startswith("http://127.0.0.1:8000/images/") for c in cases)
