"""The open questions of the docs: each has readings to choose from and a change that would encode
each one, on files that exist."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.contracts.loader import CONTRACT_DIR, load_contracts
from facedetect_contract.contracts.questions import OpenQuestion, parse_questions
from facedetect_contract.core.pointers import Pointer

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = list(load_contracts().questions.values())
RAW = json.loads((CONTRACT_DIR / "questions.json").read_text(encoding="utf-8"))


def apply(document: Any, operations: tuple[Mapping[str, Any], ...]) -> Any:
    """A settle change's RFC 6902 operations applied in order to a copy of ``document``;
    ``KeyError`` or ``IndexError`` when one names a place that is not there."""
    document = copy.deepcopy(document)
    for operation in operations:
        assert operation["op"] in ("add", "remove", "replace"), operation
        pointer = Pointer.parse(operation["path"])
        parent = pointer.parent.get(document)
        if not isinstance(parent, dict | list):
            raise KeyError(f"{operation['path']}: {pointer.parent} is no object or array")
        key: Any = pointer.name
        if isinstance(parent, list):
            key = len(parent) if key == "-" else int(key)
        if operation["op"] in ("remove", "replace"):
            parent.pop(key)  # nothing there: KeyError or IndexError
        if operation["op"] in ("add", "replace"):
            if isinstance(parent, list):
                parent.insert(key, operation["value"])
            else:
                parent[key] = operation["value"]
    return document


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_every_question_has_at_least_two_readings(question: OpenQuestion) -> None:
    assert len(question.readings) >= 2, [r.id for r in question.readings]


def test_question_ids_and_the_reading_ids_of_each_question_are_unique() -> None:
    ids = [entry["id"] for entry in RAW["questions"]]
    assert len(ids) == len(set(ids)) == len(QUESTIONS)
    for entry in RAW["questions"]:
        readings = [reading["id"] for reading in entry["readings"]]
        assert len(readings) == len(set(readings)), entry["id"]


def test_a_repeated_question_id_is_refused_with_its_place() -> None:
    data = {"questions": [RAW["questions"][0], RAW["questions"][0]]}
    with pytest.raises(ValueError, match=r"/questions/1/id: .* is used twice"):
        parse_questions(data)


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_every_settle_change_names_a_file_of_the_repository_and_applies_to_it(
    question: OpenQuestion,
) -> None:
    for reading in question.readings:
        for change in reading.settle:
            path = ROOT / change.file
            assert path.is_file(), f"{question.id}/{reading.id}: {change.file} does not exist"
            assert change.delete or change.patch, f"{question.id}/{reading.id}: an empty change"
            if change.patch:
                apply(json.loads(path.read_text(encoding="utf-8")), change.patch)


def test_asking_for_an_unknown_reading_names_the_readings_there_are() -> None:
    question = load_contracts().questions["failure-shape"]
    assert question.reading("B").id == "B"
    with pytest.raises(KeyError, match=r"'failure-shape' has no reading 'C'.*\['A', 'B'\]"):
        question.reading("C")


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_every_reading_says_how_the_double_plays_it_and_the_default_is_a_reading(
    question: OpenQuestion,
) -> None:
    """questions.schema.json requires a ``play``; the double plays ``double_default`` unless told."""
    entry = next(e for e in RAW["questions"] if e["id"] == question.id)
    assert all("play" in reading for reading in entry["readings"]), question.id
    assert "double_default" in entry, f"{question.id}: say which reading the double plays"
    assert question.default_reading in [r.id for r in question.readings]


def test_a_double_default_that_is_no_reading_is_refused_with_its_place() -> None:
    entry = {**RAW["questions"][0], "double_default": "Z"}
    with pytest.raises(ValueError, match=r"/questions/0/double_default: 'Z' is no reading"):
        parse_questions({"questions": [entry]})


def test_a_reading_without_a_play_breaks_the_schema() -> None:
    data = copy.deepcopy(RAW)
    del data["questions"][0]["readings"][0]["play"]
    errors = load_contracts().schema_errors("questions", data)
    assert any("'play' is a required property" in error.message for error in errors)
