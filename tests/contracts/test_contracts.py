"""Data integrity: the contracts and the error table load, cite their sources, and a broken file is
named with the field and the fix."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from facedetect_contract.contracts.fixtures import FIXTURE_DIR, dump_fixture
from facedetect_contract.contracts.loader import (
    CONTRACT_DIR,
    SCHEMA_FILES,
    ContractFileError,
    Contracts,
)

SOURCE = re.compile(r"https://\S+")
FIXTURE_FILES = sorted(FIXTURE_DIR.glob("*.json"))


@pytest.mark.parametrize("filename", sorted(SCHEMA_FILES.values()))
def test_every_contract_is_a_valid_2020_12_schema_that_names_its_source(filename: str) -> None:
    schema = json.loads((CONTRACT_DIR / filename).read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    if filename.startswith(("request", "response", "error", "common")):
        assert SOURCE.search(json.dumps(schema)), f"{filename} cites no doc source"


def test_every_error_table_row_names_its_source_and_only_server_and_throttling_rows_are_retryable(
    contracts: Contracts,
) -> None:
    for entry in contracts.errors:
        assert SOURCE.search(entry.source)
        assert entry.retryable == (entry.status in (429, 500, 503)), entry


def test_data_files_are_machine_formatted() -> None:
    for path in [*CONTRACT_DIR.glob("*.json"), *FIXTURE_FILES]:
        text = path.read_text()
        data = json.loads(text)
        if path.parent == FIXTURE_DIR:
            assert text == dump_fixture(data, []), (
                f"{path}: reformat with dump_fixture (sorted keys, indent 2)"
            )
        else:
            assert text == json.dumps(data, indent=2, ensure_ascii=False) + "\n", (
                f"{path}: indent 2, newline"
            )


def broken_copy(tmp_path: Path, filename: str, text: str) -> Path:
    directory = tmp_path / "face-detect"
    shutil.copytree(CONTRACT_DIR, directory)
    (directory / filename).write_text(text)
    return directory


@pytest.mark.parametrize(
    ("filename", "text", "expected"),
    [
        ("request.schema.json", "{not json", r"request\.schema\.json:1:2: not valid JSON"),
        (
            "common.schema.json",
            '{"type": "objekt"}',
            r"common\.schema\.json: at /type: not a valid JSON Schema",
        ),
        ("errors.json", '{"errors": [{"status": 200}]}', r"errors\.json: at /errors/0: .*required"),
    ],
    ids=["not JSON", "bad keyword", "bad error row"],
)
def test_a_broken_contract_file_is_named_with_the_field_and_the_fix(
    tmp_path: Path, filename: str, text: str, expected: str
) -> None:
    with pytest.raises(ContractFileError, match=expected):
        Contracts(broken_copy(tmp_path, filename, text))


@pytest.mark.parametrize("fast_path", [True, False], ids=["jsonschema-rs", "jsonschema alone"])
def test_a_schema_is_checked_against_the_meta_schema_with_or_without_jsonschema_rs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_path: bool
) -> None:
    """jsonschema-rs is the fast path of the meta-schema check; without it (an optional
    accelerator) jsonschema refuses the same schema with the same message."""
    import facedetect_contract.contracts.loader as module

    if not fast_path:
        monkeypatch.setattr(module, "jsonschema_rs", None)
    directory = broken_copy(tmp_path, "common.schema.json", '{"minLength": -1}')
    with pytest.raises(ContractFileError, match=r"common\.schema\.json: at /minLength: "):
        Contracts(directory)
    Contracts(CONTRACT_DIR)  # and the real ones pass either way


def test_a_schema_jsonschema_rs_refuses_is_refused_with_its_message_when_jsonschema_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two validators disagreeing on a schema: the stricter verdict stands, with rs's path
    and message, rather than a schema one of them cannot read."""
    import types

    import facedetect_contract.contracts.loader as module

    class Refusal(Exception):
        instance_path = ("properties", "ratio")
        message = "not what rs reads"

    def validate(schema: object) -> None:
        if isinstance(schema, dict) and schema.get("$comment") == "rs refuses this":
            raise Refusal

    stand_in = types.SimpleNamespace(
        meta=types.SimpleNamespace(validate=validate), ValidationError=Refusal
    )
    monkeypatch.setattr(module, "jsonschema_rs", stand_in)
    directory = broken_copy(tmp_path, "common.schema.json", '{"$comment": "rs refuses this"}')
    with pytest.raises(
        ContractFileError, match=r"common\.schema\.json: at /properties/ratio: .*not what rs reads"
    ):
        Contracts(directory)


def test_a_missing_contract_file_says_how_to_restore_it(tmp_path: Path) -> None:
    directory = broken_copy(tmp_path, "error.schema.json", "{}")
    (directory / "error.schema.json").unlink()
    with pytest.raises(ContractFileError, match="git checkout"):
        Contracts(directory)


class CountingValidator:
    """Wraps a schema's validator and counts its runs."""

    def __init__(self, real: Draft202012Validator) -> None:
        self.real, self.runs = real, 0

    def iter_errors(self, instance: object) -> object:
        self.runs += 1
        return self.real.iter_errors(instance)


def test_bytes_that_passed_a_schema_are_not_validated_again_and_errors_always_are() -> None:
    good = FIXTURE_DIR.joinpath("documented-pass-1-1.json").read_bytes()
    bad = json.dumps({**json.loads(good), "name": 7}).encode()
    contracts, other = Contracts(CONTRACT_DIR), Contracts(CONTRACT_DIR)
    counted = contracts.validators["interaction"] = CountingValidator(  # type: ignore[assignment]
        contracts.validators["interaction"]
    )
    for _ in range(2):
        assert contracts.schema_errors("interaction", json.loads(good), content=good) == []
    assert counted.runs == 1
    assert contracts.schema_errors("interaction", json.loads(good)) == []  # no bytes: validated
    assert counted.runs == 2
    for _ in range(2):  # an error is never remembered
        errors = contracts.schema_errors("interaction", json.loads(bad), content=bad)
        assert [list(e.absolute_path) for e in errors] == [["name"]]
    assert counted.runs == 4
    counted_other = other.validators["interaction"] = CountingValidator(  # type: ignore[assignment]
        other.validators["interaction"]
    )
    assert other.schema_errors("interaction", json.loads(good), content=good) == []
    assert counted_other.runs == 1  # each Contracts remembers what passed its own schemas
