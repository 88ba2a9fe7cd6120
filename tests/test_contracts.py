"""Data integrity: the contracts, the error table, the fixtures and the OpenAPI document."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from facedetect_contract.checks import run_checks
from facedetect_contract.contracts import CONTRACT_DIR, SCHEMA_FILES, ContractFileError, Contracts
from facedetect_contract.fixtures import FIXTURE_DIR, FixtureFileError, dump_fixture, load_fixture
from facedetect_contract.openapi import OPENAPI_FILE, build_openapi, render_openapi
from facedetect_contract.violations import Severity

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


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[p.stem for p in FIXTURE_FILES])
def test_every_fixture_matches_its_contracts_with_no_violation(
    path: Path, contracts: Contracts
) -> None:
    interaction = load_fixture(path, contracts)
    violations = run_checks(interaction, contracts)
    if interaction.provenance["kind"] == "documented":
        assert violations == []
    else:  # real traffic may show a new field (additive); a breaking finding is not recorded
        assert [v for v in violations if v.severity is Severity.BREAKING] == []
    if (interaction.expect or {}).get("result") in ("check_passed", "check_failed"):
        assert not list(contracts.validator("request").iter_errors(interaction.request.body))
    assert "authorization" not in interaction.request.headers or interaction.request.headers[
        "authorization"
    ] in (
        "Bearer <redacted>",
        "Bearer <invalid>",
    )


def test_the_committed_openapi_document_is_up_to_date(contracts: Contracts) -> None:
    committed = (CONTRACT_DIR / OPENAPI_FILE).read_text()
    assert committed == render_openapi(contracts), (
        "contracts/face-detect/openapi.json is stale: run `python -m facedetect_contract openapi --write`"
    )


def test_the_openapi_document_covers_every_documented_status_and_resolves_every_ref(
    contracts: Contracts,
) -> None:
    document = build_openapi(contracts)
    operation = document["paths"]["/services/aigc/image2video/face-detect"]["post"]
    assert {int(s) for s in operation["responses"]} == contracts.documented_statuses
    text = json.dumps(document)
    for ref in set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text)):
        assert ref in document["components"]["schemas"], ref
    assert not re.findall(r'"\$ref": "(?!#/components/schemas/)', text), (
        "a $ref still points into a file"
    )


def test_schemathesis_loads_the_openapi_document() -> None:
    schemathesis = pytest.importorskip("schemathesis")
    schema = schemathesis.openapi.from_dict(build_openapi())
    assert schema["/services/aigc/image2video/face-detect"]["POST"] is not None


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


def test_a_missing_contract_file_says_how_to_restore_it(tmp_path: Path) -> None:
    directory = broken_copy(tmp_path, "error.schema.json", "{}")
    (directory / "error.schema.json").unlink()
    with pytest.raises(ContractFileError, match="git checkout"):
        Contracts(directory)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("provenance"), r"field /: 'provenance' is a required property"),
        (
            lambda d: d["response"].update(status="200"),
            r"field /response/status: '200' is not of type 'integer'",
        ),
        (
            lambda d: d["request"]["headers"].update(authorization="Bearer sk-realkey"),
            r"field /request/headers/authorization",
        ),
    ],
    ids=["no provenance", "status as string", "unredacted key"],
)
def test_a_broken_fixture_is_named_with_the_field_and_the_fix(
    tmp_path: Path, change: object, expected: str
) -> None:
    data = json.loads(FIXTURE_FILES[0].read_text())
    change(data)  # type: ignore[operator]
    path = tmp_path / FIXTURE_FILES[0].name
    path.write_text(json.dumps(data))
    with pytest.raises(FixtureFileError, match=expected):
        load_fixture(path)
