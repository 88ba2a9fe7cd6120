"""Mutations: the ways a valid request is broken, each named by its family and its place."""

from __future__ import annotations

import pytest

from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.generation.mutations import Mutation, body_mutations, header_mutations
from tests.helpers.strategies import draw_many


def test_invalid_requests_cover_every_family_the_issue_names() -> None:
    contracts = load_contracts()
    families = [
        *(s.map(lambda pair: pair[0]) for s in body_mutations(contracts)),
        *(s.map(lambda probe: probe.mutation) for s in header_mutations(contracts)),
    ]
    drawn = [m.describe() for family in families for m in draw_many(family, 3)]  # type: ignore[arg-type]
    descriptions = " | ".join(drawn)
    for family in (
        "/model (required) missing",
        "/input/image_url (required) missing",
        "/parameters/ratio not in enum",
        "/model of type integer",
        "/input of type array",
        "empty",
        "huge",
        "'file:///tmp/portrait.png'",
        "'ftp://",
        "'oss://",
        "malformed JSON",
        "instead of an object",
        "Content-Type",
        "no Authorization header",
        "unknown API key",
        "x-dashscope-async: enable",
        "unknown field",
    ):
        assert family in descriptions, family


@pytest.mark.parametrize(
    ("mutations", "key"),
    [
        (
            [Mutation("forbidden-header", "x-dashscope-async", v) for v in ("enable", "")],
            "forbidden-header x-dashscope-async",
        ),
        ([Mutation("malformed-json", "", d) for d in ("b'not json'", "b''")], "malformed-json"),
        ([Mutation("wrong-type", "/model", t) for t in ("integer", "array")], "wrong-type /model"),
        ([Mutation("unknown-field", "/input", n) for n in ("ab", "c")], "unknown-field /input"),
        (
            [Mutation("not-in-enum", "/parameters/ratio", "'a\\nb'")],
            "not-in-enum /parameters/ratio",
        ),
        ([Mutation("null", "/model")], "null /model"),
    ],
    ids=["async-header", "malformed-json", "wrong-type", "unknown-field", "enum", "null"],
)
def test_a_mutation_family_is_its_kind_and_place_not_the_drawn_value(
    mutations: list[Mutation], key: str
) -> None:
    assert {mutation.key for mutation in mutations} == {key}
