"""The checks read the chosen model's shape: for every contracts folder under ``contracts/`` (a
new folder is covered without a test edit), every check runs on its documented fixtures and finds
nothing, cites that model's own sources, skips (with its reason) what the model's answer lacks,
and catches the model's breaking drift (a renamed verdict, a missing box, a failure moved to
another status) at that model's own pointers."""

from __future__ import annotations

import ast
import copy
import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.checks import CHECKS, RUN_CHECKS, CheckContext, Finding, check, run_checks
from facedetect_contract.checks.registry import (
    NEEDS,
    CheckSourceError,
    RunContext,
    check_sources,
    run_run_checks,
    skip_reason,
    skipped_checks,
)
from facedetect_contract.contracts.fixtures import load_fixtures
from facedetect_contract.contracts.loader import Contracts, load_contracts
from facedetect_contract.contracts.outcome import classify
from facedetect_contract.core.interaction import Interaction, RecordedResponse
from facedetect_contract.core.violations import Severity, Violation
from tests.helpers.models import NAMES

ROOT = Path(__file__).resolve().parents[2]
# The checks of the answer's boxes (checks/boxes.py) and of boxes across a run.
BOX_CHECKS = [
    *sorted(name for name, c in CHECKS.items() if c.function.__module__.endswith(".boxes")),
    "every_crop_of_an_image_contains_its_face",
]


def contracts_of(name: str) -> Contracts:
    return load_contracts(ROOT / "contracts" / name)


def fixtures_of(name: str, contracts: Contracts) -> list[Interaction]:
    folder = ROOT / "fixtures" / name
    found = load_fixtures(folder, contracts)
    assert found, f"{folder}: no documented fixtures for {contracts.profile.model}"
    return found


def documented(name: str, outcome: str) -> tuple[Contracts, Interaction]:
    """The model's contracts and its first documented fixture whose answer is ``outcome``."""
    contracts = contracts_of(name)
    for fixture in fixtures_of(name, contracts):
        if classify(fixture.response, contracts).kind == outcome:
            return contracts, fixture
    raise AssertionError(f"fixtures/{name}: no documented answer of kind {outcome!r}")


def with_body(fixture: Interaction, body: Any, status: int | None = None) -> Interaction:
    response = fixture.response
    return dataclasses.replace(
        fixture,
        response=RecordedResponse(
            response.status if status is None else status, response.headers, body, True
        ),
    )


def breaking(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.severity is Severity.BREAKING]


def test_the_loop_covers_every_model_the_issue_names() -> None:
    assert {"face-detect", "liveportrait-detect", "emoji-detect-v1"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_check_runs_on_the_documented_fixtures_and_finds_nothing(name: str) -> None:
    contracts = contracts_of(name)
    fixtures = fixtures_of(name, contracts)
    for fixture in fixtures:
        assert run_checks(fixture, contracts) == [], fixture.name
    # The docs elide their examples' request ids, so documented fixtures share one: uniqueness is
    # a rule of a run, judged in the run checks' own tests; every other run check sees them all.
    across = [name for name in RUN_CHECKS if name != "request_id_is_unique_in_the_run"]
    answers = RunContext(contracts, [(f, None) for f in fixtures])
    assert run_run_checks(answers, only=across) == []
    for fixture in fixtures:
        assert run_run_checks(RunContext(contracts, [(fixture, None)])) == [], fixture.name


@pytest.mark.parametrize("name", NAMES)
def test_every_check_that_applies_cites_sources_of_the_model_itself(name: str) -> None:
    """Roles resolve to the chosen profile's own ids (no check assumes emo-detect-api's)."""
    contracts = contracts_of(name)
    cited = check_sources(contracts)  # raises CheckSourceError when a role is not filled
    assert set(cited) == {*CHECKS, *RUN_CHECKS} - set(skipped_checks(contracts))
    for name_of_check, ids in cited.items():
        assert ids, name_of_check
        assert all(i in contracts.profile.sources for i in ids), (name_of_check, ids)
    shape_page = contracts.profile.section_sources["shape"]
    assert cited["request_id_is_non_empty_string"] == shape_page


@pytest.mark.parametrize("name", NAMES)
def test_a_violation_names_the_model_s_own_documentation(name: str) -> None:
    contracts, fixture = documented(name, "passed")
    body = copy.deepcopy(fixture.response.body)
    contracts.profile.response.request_id.put(body, "")
    (violation,) = run_checks(
        with_body(fixture, body), contracts, only=["request_id_is_non_empty_string"]
    )
    source = contracts.profile.source(contracts.profile.section_sources["shape"][0])
    assert violation.source == str(source)


@pytest.mark.parametrize("name", NAMES)
def test_each_box_check_applies_exactly_where_the_model_has_boxes(name: str) -> None:
    contracts = contracts_of(name)
    for box_check in BOX_CHECKS:
        reason = skip_reason(box_check, contracts)
        if contracts.profile.boxes:
            assert reason is None, (box_check, reason)
        else:
            assert reason is not None, box_check
            assert contracts.profile.model in reason
            assert "/shape/boxes" in reason, reason
            assert skipped_checks(contracts)[box_check] == reason


def test_the_box_checks_are_skipped_on_liveportrait_and_apply_on_face_detect_and_emoji() -> None:
    skipped = skipped_checks(contracts_of("liveportrait-detect"))
    for box_check in BOX_CHECKS:
        assert skipped[box_check].startswith("liveportrait-detect has no "), skipped[box_check]
        assert skip_reason(box_check, contracts_of("face-detect")) is None
        assert skip_reason(box_check, contracts_of("emoji-detect-v1")) is None
    assert len(BOX_CHECKS) == 5
    # what face-detect checks is what it checked before: nothing skipped there
    assert skipped_checks(contracts_of("face-detect")) == {}


def test_a_skipped_check_called_directly_finds_nothing_and_never_crashes() -> None:
    contracts, fixture = documented("liveportrait-detect", "passed")
    for box_check in BOX_CHECKS:
        registered = {**CHECKS, **RUN_CHECKS}[box_check]
        if registered.scope == "run":
            assert registered(RunContext(contracts, [(fixture, None)])) == []
        else:
            assert registered(fixture, CheckContext(contracts)) == []


@pytest.mark.parametrize("name", [n for n in NAMES if contracts_of(n).profile.boxes])
def test_a_box_check_applies_on_a_model_with_boxes_and_finds_a_broken_box(name: str) -> None:
    """Not a silent pass where it applies: a box out of order is found at the model's pointer."""
    contracts, fixture = documented(name, "passed")
    for at in contracts.profile.response.boxes:
        body = copy.deepcopy(fixture.response.body)
        box = at.get(body)
        at.put(body, [box[2], box[3], box[0], box[1]])
        violations = run_checks(with_body(fixture, body), contracts)
        found = {(v.check, v.pointer) for v in breaking(violations)}
        assert ("boxes_are_ordered_integers", str(at)) in found, found


@pytest.mark.parametrize("name", [n for n in NAMES if contracts_of(n).profile.verdict is not None])
def test_a_renamed_verdict_is_breaking_drift_of_that_model(name: str) -> None:
    contracts, fixture = documented(name, "passed")
    verdict = contracts.profile.verdict
    assert verdict is not None
    body = copy.deepcopy(fixture.response.body)
    parent = verdict.parent.get(body)
    parent[f"{verdict.name}_renamed"] = parent.pop(verdict.name)
    violations = run_checks(with_body(fixture, body), contracts)
    assert str(verdict) in {v.pointer for v in breaking(violations)}, violations


@pytest.mark.parametrize("name", [n for n in NAMES if contracts_of(n).profile.boxes])
def test_a_missing_box_is_breaking_drift_of_that_model(name: str) -> None:
    contracts, fixture = documented(name, "passed")
    for at in contracts.profile.response.boxes:
        body = copy.deepcopy(fixture.response.body)
        del at.parent.get(body)[at.name]
        found = {
            (v.check, v.pointer) for v in breaking(run_checks(with_body(fixture, body), contracts))
        }
        assert ("check_pass_true_has_both_boxes", str(at)) in found, found
        assert ("response_schema_conformance", str(at)) in found, found


def test_a_box_missing_on_emoji_is_found() -> None:
    contracts, fixture = documented("emoji-detect-v1", "passed")
    crop = contracts.profile.boxes["crop_box"]
    body = copy.deepcopy(fixture.response.body)
    del crop.parent.get(body)[crop.name]
    titles = {v.title for v in breaking(run_checks(with_body(fixture, body), contracts))}
    assert f"check passed without {crop.name}" in titles, titles


@pytest.mark.parametrize("name", NAMES)
def test_a_failure_moved_to_another_status_is_breaking_drift_of_that_model(name: str) -> None:
    """The documented failure's body under a status the model does not give it: breaking."""
    contracts, fixture = documented(name, "failed")
    moved = 500 if fixture.response.status != 500 else 400
    violations = breaking(run_checks(with_body(fixture, fixture.response.body, moved), contracts))
    assert violations, f"{name}: a failure moved to HTTP {moved} went unnoticed"


@pytest.mark.parametrize("name", NAMES)
def test_the_drift_of_one_model_is_not_drift_of_another(name: str) -> None:
    """The checks judge by the chosen model: face-detect's documented pass is breaking drift for
    every other model, and the model's own is not."""
    _, face_pass = documented("face-detect", "passed")
    contracts, own = documented(name, "passed")
    assert run_checks(own, contracts) == []
    if name != "face-detect":
        assert breaking(run_checks(face_pass, contracts))


def test_a_check_citing_a_document_the_model_lacks_is_named_with_the_fix(registry: None) -> None:
    @check(sources=("geometry",))
    def cites_the_geometry(interaction: Interaction, context: CheckContext) -> Iterator[Finding]:
        yield Finding("", "x", "y", "always")

    @check(sources=("emo-detect-api",))
    def cites_emo_s_page(interaction: Interaction, context: CheckContext) -> Iterator[Finding]:
        yield Finding("", "x", "y", "always")

    contracts, fixture = documented("liveportrait-detect", "passed")
    with pytest.raises(CheckSourceError) as raised:
        run_checks(fixture, contracts, only=["cites_the_geometry"])
    message = str(raised.value)
    for part in ("cites_the_geometry", "'geometry'", "liveportrait-detect", "add it"):
        assert part in message, message
    with pytest.raises(
        CheckSourceError, match=r"'emo-detect-api' is not in endpoint\.json /sources"
    ):
        run_checks(fixture, contracts, only=["cites_emo_s_page"])
    with pytest.raises(CheckSourceError, match="liveportrait-detect"):
        check_sources(contracts)  # before a run: the first check the profile cannot cite
    # face-detect has both: a source id is still a valid citation where the profile has it
    face, face_fixture = documented("face-detect", "passed")
    (violation,) = run_checks(face_fixture, face, only=["cites_emo_s_page"])
    assert violation.source == str(face.profile.source("emo-detect-api"))


def test_a_check_needing_an_unknown_part_is_refused_at_registration(registry: None) -> None:
    with pytest.raises(ValueError, match="no such part of the answer's shape"):
        check(sources=("shape",), needs=("wings",))
    assert set(NEEDS) >= {"verdict", "boxes", "face_box", "crop_box", "ratio"}


def test_a_check_needing_a_verdict_is_skipped_on_a_verdict_less_model(registry: None) -> None:
    seen: list[str] = []

    @check(sources=("shape",), needs=("verdict",))
    def reads_the_verdict(interaction: Interaction, context: CheckContext) -> Iterator[Finding]:
        seen.append(interaction.name)
        yield from ()

    emoji, fixture = documented("emoji-detect-v1", "passed")
    assert run_checks(fixture, emoji, only=["reads_the_verdict"]) == []
    assert seen == []
    reason = skip_reason("reads_the_verdict", emoji)
    assert reason is not None and "/shape/verdict" in reason
    face, face_fixture = documented("face-detect", "passed")
    run_checks(face_fixture, face, only=["reads_the_verdict"])
    assert seen == [face_fixture.name]


def test_the_ratio_check_reads_the_model_s_own_ratio_and_default() -> None:
    """emoji-detect-v1 documents no default ratio: a request without one is not judged by a
    default it does not have (no crash), and a crop off 1:1 is found where one was sent."""
    contracts, fixture = documented("emoji-detect-v1", "passed")
    assert contracts.profile.ratio is not None and contracts.profile.ratio.default is None
    request_body = copy.deepcopy(fixture.request.body)
    del contracts.profile.ratio.field.parent.get(request_body)[contracts.profile.ratio.field.name]
    unsent = dataclasses.replace(
        fixture, request=dataclasses.replace(fixture.request, body=request_body)
    )
    assert run_checks(unsent, contracts, only=["ext_bbox_matches_ratio"]) == []
    body = copy.deepcopy(fixture.response.body)
    crop = contracts.profile.boxes["crop_box"]
    x1, y1, x2, y2 = crop.get(body)
    crop.put(body, [x1, y1, x2, y2 - (y2 - y1) // 3])
    (violation,) = run_checks(with_body(fixture, body), contracts, only=["ext_bbox_matches_ratio"])
    assert violation.pointer == str(crop)


def _constants(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of each string constant of a module that is no docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.lineno, node.value


@pytest.mark.parametrize("name", NAMES)
def test_no_field_name_or_model_of_any_model_is_a_literal_in_the_checks_or_generation(
    name: str,
) -> None:
    """The profile scan (tests/contracts/test_profile.py) reads face-detect's facts; this reads
    each model's: its model name, its verdict's and its boxes' names, and every response field
    name of its profile spelled as a literal in checks/ or generation/ is an assumption."""
    profile = contracts_of(name).profile
    fields = profile.response
    pointers = [getattr(fields, f) for f in fields.__dataclass_fields__ if fields.states(f)]
    names = {p.name for p in pointers if "_" in p.name} | {profile.model}
    # A one-word name ('pass', 'code') is also a word of the suite's own vocabulary (a live
    # case's expect 'pass'): only its pointer is a fact; a name with '_' is one wherever it is.
    exact = {str(p) for p in pointers}
    package = ROOT / "facedetect_contract"
    found = [
        (str(path.relative_to(ROOT)), line, text)
        for folder in ("checks", "generation")
        for path in sorted((package / folder).glob("*.py"))
        for line, text in _constants(path)
        if text in exact
        or any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text) for n in names)
    ]
    assert not found, found
