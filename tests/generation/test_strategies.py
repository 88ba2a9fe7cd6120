"""The generators follow the contracts: change a contract, and what is generated changes with it."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings

from facedetect_contract.contracts.loader import CONTRACT_DIR, Contracts, load_contracts
from facedetect_contract.generation.strategies import (
    GeneratedRequest,
    GeneratedResponse,
    error_responses,
    expectation_for,
    failed_responses,
    invalid_requests,
    responses,
    valid_requests,
)
from facedetect_contract.plugin.harness import EXAMPLES_PER_PROPERTY as EXAMPLES
from tests.helpers.strategies import draw_many, draw_until

CONTRACTS = load_contracts()


@pytest.fixture
def edited_contracts(tmp_path: Path) -> Contracts:
    """A copy of the contracts with a new ratio and a new documented parameter."""
    directory = tmp_path / "face-detect"
    shutil.copytree(CONTRACT_DIR, directory)
    path = directory / "request.schema.json"
    schema = json.loads(path.read_text())
    parameters = schema["properties"]["parameters"]["properties"]
    parameters["ratio"]["enum"].append("9:16")
    parameters["style"] = {"type": "string", "enum": ["calm", "active"]}
    path.write_text(json.dumps(schema))
    return Contracts(directory)


@given(request=valid_requests(CONTRACTS))
def test_every_valid_request_validates_against_the_request_contract(
    request: GeneratedRequest,
) -> None:
    """Round trip: drawn from the contract, accepted by the contract."""
    assert not list(load_contracts().validator("request").iter_errors(request.body))
    assert expectation_for(request, CONTRACTS) is None


def test_an_invalid_request_must_be_rejected_exactly_when_it_breaks_a_stated_rule() -> None:
    """must_reject where the contract (or the auth rule) is broken, never on a rule the docs are
    silent on (an unknown field): both branches taken, each often enough to mean something."""
    contracts = load_contracts()
    taken: Counter[str] = Counter()

    @settings(max_examples=EXAMPLES, database=None, derandomize=True)
    @given(request=invalid_requests(contracts))
    def judged(request: GeneratedRequest) -> None:
        if request.auth != "key" or request.content is not None:
            taken["auth or bytes"] += 1  # judged by the auth and the JSON rules, not a schema
            assert request.must_reject
            return
        headers = {**request.headers, "authorization": "Bearer k"}
        broken = list(contracts.validator("request").iter_errors(request.body)) + list(
            contracts.validator("request_headers").iter_errors(headers)
        )
        stated = [error for error in broken if error.validator != "additionalProperties"]
        if request.must_reject:
            taken["rejected"] += 1
            assert stated, request.description
        else:
            taken["silent"] += 1
            assert not stated, (request.description, [error.message for error in stated])

    judged()
    assert taken["rejected"] >= EXAMPLES // 4, taken
    assert taken["silent"] >= 2, taken  # one mutation family of ~60 (unknown fields) is silent
    assert taken["auth or bytes"] >= EXAMPLES // 50, taken


def test_a_new_enum_value_and_a_new_field_are_generated_without_code_edits(
    edited_contracts: Contracts,
) -> None:
    bodies = [r.body for r in draw_many(valid_requests(edited_contracts))]
    assert any(b["parameters"]["ratio"] == "9:16" for b in bodies)
    assert all(b["parameters"]["style"] in ("calm", "active") for b in bodies)
    drawn = draw_until(
        invalid_requests(edited_contracts),
        lambda found: any(r.description.startswith("/parameters/style") for r in found),
        600,
    )
    mutations = {r.description for r in drawn}
    assert any(d.startswith("/parameters/style") for d in mutations), sorted(mutations)


def _codes(found: list[GeneratedResponse]) -> set[str]:
    return {r.entry.code for r in found if r.entry is not None}


def test_responses_of_every_documented_kind_are_generated() -> None:
    kinds = {r.kind for r in draw_many(responses(CONTRACTS), EXAMPLES)}
    assert kinds == {"check_passed", "check_failed_a", "check_failed_b", "request_error"}
    portrait = load_contracts().portrait_codes
    failures = _codes(draw_until(failed_responses(CONTRACTS), lambda f: portrait <= _codes(f), 400))
    assert portrait <= failures
    errors = _codes(
        draw_many(error_responses(CONTRACTS), 800)
    )  # all 800: no failure code among them
    assert {"Throttling.RateQuota", "InternalError", "ModelUnavailable", "InvalidApiKey"} <= errors
    assert not errors & load_contracts().portrait_codes  # those are failures, not errors
