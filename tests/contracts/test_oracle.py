"""The rejection oracle: what the docs demand of the answer to a request, read off the contract."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from facedetect_contract.contracts.loader import CONTRACT_DIR, Contracts, load_contracts
from facedetect_contract.contracts.oracle import expectation_for, expectation_of
from facedetect_contract.generation.generated import base_headers
from facedetect_contract.generation.strategies import GeneratedRequest

CONTRACTS = load_contracts()


@pytest.mark.parametrize(
    ("description", "mutate", "must_reject", "statuses"),
    [
        ("unknown field", lambda b: b.update(extra=1), None, None),
        ("missing ratio", lambda b: b["parameters"].pop("ratio"), None, None),
        ("bad ratio", lambda b: b["parameters"].update(ratio="2:1"), True, frozenset({400})),
        ("missing image_url", lambda b: b["input"].pop("image_url"), True, frozenset({400})),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_the_expectation_of_a_request_comes_from_the_contract(
    description: str, mutate: object, must_reject: bool | None, statuses: frozenset[int] | None
) -> None:
    body = {
        "model": "emo-detect-v1",
        "input": {"image_url": "https://e.com/p.png"},
        "parameters": {"ratio": "1:1"},
    }
    mutate(body)  # type: ignore[operator]
    expectation = expectation_for(
        GeneratedRequest(description, body, base_headers(CONTRACTS)), CONTRACTS
    )
    if must_reject is None:
        assert expectation is None
    else:
        assert expectation is not None
        assert (expectation.must_reject, expectation.statuses) == (must_reject, statuses)


BODY = {
    "model": "emo-detect-v1",
    "input": {"image_url": "https://e.com/p.png"},
    "parameters": {"ratio": "1:1"},
}
JSON_HEADERS = {"content-type": "application/json"}


def test_a_request_without_the_key_must_get_the_documented_401() -> None:
    expectation = expectation_of(
        body=BODY, headers=JSON_HEADERS, auth="none", is_json=True, contracts=CONTRACTS
    )
    assert expectation is not None
    assert expectation.must_reject
    assert (expectation.statuses, expectation.codes) == (
        frozenset({401}),
        frozenset({"InvalidApiKey"}),
    )
    assert expectation.source.startswith("https://")
    assert (
        expectation_of(
            body=BODY, headers=JSON_HEADERS, auth="key", is_json=True, contracts=CONTRACTS
        )
        is None
    )


def test_a_body_that_is_not_json_must_get_the_status_the_request_contract_names() -> None:
    expectation = expectation_of(
        body=None, headers=JSON_HEADERS, auth="key", is_json=False, contracts=CONTRACTS
    )
    assert expectation is not None
    assert (expectation.must_reject, expectation.statuses) == (True, frozenset({400}))
    assert expectation.reason == "body is not JSON"


def test_a_rejection_the_docs_only_infer_names_its_open_question() -> None:
    """The async header on a synchronous API: rejected by the contract, on an open question."""
    headers = {**JSON_HEADERS, "X-DashScope-Async": "enable"}
    inferred = expectation_of(
        body=BODY, headers=headers, auth="key", is_json=True, contracts=CONTRACTS
    )
    assert inferred is not None
    assert (inferred.must_reject, inferred.open_question) == (True, "async-header")
    documented = expectation_of(
        body={**BODY, "parameters": {"ratio": "2:1"}},
        headers=JSON_HEADERS,
        auth="key",
        is_json=True,
        contracts=CONTRACTS,
    )
    assert documented is not None
    assert documented.open_question is None


def test_editing_the_contract_changes_what_must_be_rejected(tmp_path: Path) -> None:
    directory = tmp_path / "face-detect"
    shutil.copytree(CONTRACT_DIR, directory)
    path = directory / "request.schema.json"
    schema = json.loads(path.read_text())
    schema["properties"]["parameters"]["properties"]["ratio"]["enum"].append("16:9")
    path.write_text(json.dumps(schema))
    wide = {**BODY, "parameters": {"ratio": "16:9"}}
    edited = Contracts(directory)
    assert (
        expectation_of(
            body=wide, headers=JSON_HEADERS, auth="key", is_json=True, contracts=CONTRACTS
        )
        is not None
    )
    assert (
        expectation_of(body=wide, headers=JSON_HEADERS, auth="key", is_json=True, contracts=edited)
        is None
    )


def test_a_broken_rule_at_the_top_of_the_body_is_placed_at_the_root_pointer() -> None:
    """The reason names where each rule broke; the body itself is '/', never an empty place."""
    expectation = expectation_for(
        GeneratedRequest("no model", {"input": {}}, base_headers(CONTRACTS)), CONTRACTS
    )
    assert expectation is not None and expectation.must_reject
    assert expectation.reason.startswith("/: 'model' is a required property"), expectation.reason
    assert "/input: 'image_url' is a required property" in expectation.reason
