"""jsonschema-rs gives jsonschema's verdict wherever ``Contracts.is_valid`` lets it answer.

jsonschema stays the reference and the only source of errors; the fast validator only decides
"valid?" first. These tests hold both to the same verdict, for every schema the fast path covers,
on every recorded response, every generated response, generated mutations of them and arbitrary
JSON values.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import jsonschema_rs  # noqa: F401  # a runtime dependency: missing, this file errors, never skips
import pytest
from hypothesis import given
from hypothesis import strategies as st

from facedetect_contract.contracts.fixtures import FIXTURE_DIR, load_fixtures
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.core.interaction import Interaction
from facedetect_contract.generation.strategies import GeneratedResponse, responses

CONTRACTS = load_contracts()
FAST = sorted(CONTRACTS.fast_schemas)

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from([0, 1, -1, 1.0, 0.0, 2**63, 2**64, -(2**63) - 1, "", "1", []]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def assert_same_verdicts(instance: Any) -> None:
    for name in FAST:
        fast = CONTRACTS.is_valid(name, instance)
        reference = CONTRACTS.validator(name).is_valid(instance)
        assert fast == reference, (
            f"{name}: jsonschema-rs says valid={fast}, jsonschema says valid={reference} "
            f"for {instance!r}"
        )


def _paths(node: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


@st.composite
def mutated_bodies(draw: st.DrawFn) -> Any:
    """A generated response body with one value replaced, removed, or a field added."""
    body = copy.deepcopy(draw(responses(CONTRACTS)).body)
    path = draw(st.sampled_from(list(_paths(body))))
    value = draw(JSON_VALUES)
    if not path:
        return value
    parent = body
    for part in path[:-1]:
        parent = parent[part]
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "replace":
        parent[path[-1]] = value
    elif action == "remove":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(st.text(min_size=1, max_size=12))] = value
    else:
        parent.append(value)
    return body


def test_the_response_contracts_are_decided_by_the_fast_validator() -> None:
    assert {"check_passed", "check_failed", "error_body"} <= CONTRACTS.fast_schemas


def test_schemas_with_a_pattern_or_format_stay_on_jsonschema() -> None:
    assert not {"request", "request_headers"} & CONTRACTS.fast_schemas


@pytest.mark.parametrize("interaction", load_fixtures(FIXTURE_DIR, CONTRACTS), ids=lambda i: i.name)
def test_both_validators_agree_on_every_recorded_response(interaction: Interaction) -> None:
    assert_same_verdicts(interaction.response.body)


@given(response=responses(CONTRACTS))
def test_both_validators_agree_on_every_generated_response(response: GeneratedResponse) -> None:
    """Generated responses of every documented kind: same verdict, and that verdict is valid."""
    assert_same_verdicts(response.body)


@given(body=mutated_bodies())
def test_both_validators_agree_on_mutated_responses(body: Any) -> None:
    """One value replaced, removed or added anywhere in a generated body: same verdict."""
    assert_same_verdicts(body)


@given(value=JSON_VALUES)
def test_both_validators_agree_on_arbitrary_json(value: Any) -> None:
    """Any JSON value (and Python's extras: NaN, infinities, huge integers): same verdict."""
    assert_same_verdicts(value)
