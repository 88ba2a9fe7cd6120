"""The fixture files: each one matches its contracts, and a broken one is named with its field."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from facedetect_contract.checks import run_checks
from facedetect_contract.contracts.fixtures import (
    FIXTURE_DIR,
    FixtureFileError,
    load_fixture,
    write_atomically,
)
from facedetect_contract.contracts.loader import Contracts, load_contracts
from facedetect_contract.core.violations import Severity

CONTRACTS = load_contracts()

FIXTURE_FILES = sorted(FIXTURE_DIR.glob("*.json"))


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
        load_fixture(path, CONTRACTS)


def test_a_fixture_edited_after_it_was_read_is_validated_again(tmp_path: Path) -> None:
    path = tmp_path / FIXTURE_FILES[0].name
    path.write_bytes(FIXTURE_FILES[0].read_bytes())
    assert load_fixture(path, CONTRACTS).name == path.stem
    data = json.loads(path.read_text())
    data["response"]["status"] = "200"
    path.write_text(json.dumps(data))
    with pytest.raises(FixtureFileError, match="field /response/status"):
        load_fixture(path, CONTRACTS)


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_a_written_file_gets_the_umasks_mode_not_0600(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "new.json"
    write_atomically(path, "{}\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_rewritten_file_keeps_its_mode(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "kept.json"
    path.write_text("old\n")
    path.chmod(0o640)
    write_atomically(path, "new\n")
    assert (path.read_text(), stat.S_IMODE(path.stat().st_mode)) == ("new\n", 0o640)


def test_a_lone_surrogate_is_written_as_its_escape_not_lost(tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    write_atomically(path, json.dumps({"field\ud83d": 1}, ensure_ascii=False))
    assert json.loads(path.read_text(encoding="utf-8")) == {"field\ud83d": 1}
