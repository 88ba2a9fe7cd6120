"""Proof that the suite catches drift: mutated fixture responses yield the right findings."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from facedetect_contract.checks import run_checks
from facedetect_contract.fixtures import load_fixtures
from facedetect_contract.interaction import Interaction
from facedetect_contract.violations import Severity

# Documented fixtures only: a recording may already carry an additive finding of its own.
FIXTURES = [i for i in load_fixtures() if i.provenance.get("kind") == "documented"]
PASSES = [i for i in FIXTURES if (i.expect or {}).get("result") == "check_passed"]
ERRORS = [i for i in FIXTURES if i.response.status >= 400]


def mutated(
    interaction: Interaction, change: Callable[[Any], Any], status: int | None = None
) -> Interaction:
    body = change(copy.deepcopy(interaction.response.body))
    response = dataclasses.replace(
        interaction.response,
        body=body,
        status=interaction.response.status if status is None else status,
    )
    return dataclasses.replace(interaction, response=response)


def rename_check_pass(body: Any) -> Any:
    body["output"]["checkPass"] = body["output"].pop("check_pass")
    return body


def boxes_as(kind: Callable[[int], Any]) -> Callable[[Any], Any]:
    def change(body: Any) -> Any:
        body["output"]["face_bbox"] = [kind(v) for v in body["output"]["face_bbox"]]
        return body

    return change


def drop(*path: str) -> Callable[[Any], Any]:
    def change(body: Any) -> Any:
        node = body
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]
        return body

    return change


def set_output(name: str, value: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def change(body: Any) -> Any:
        body["output"][name] = value(body["output"])
        return body

    return change


def wrong_ratio(output: Any) -> list[int]:
    x1, y1, x2, y2 = output["ext_bbox"]
    return [x1, y1, x2, y1 + (y2 - y1) // 2]


def face_outside(output: Any) -> list[int]:
    _x1, y1, x2, _y2 = output["ext_bbox"]
    return [x2 + 1, y1 + 1, x2 + 50, y1 + 50]


def inverted(output: Any) -> list[int]:
    x1, y1, x2, y2 = output["ext_bbox"]
    return [x2, y2, x1, y1]


# (mutation, the fixtures it applies to, status override, the pointer of the breaking finding)
BREAKING = [
    ("check_pass renamed", PASSES, rename_check_pass, None, "/output/check_pass"),
    ("boxes as strings", PASSES, boxes_as(str), None, "/output/face_bbox"),
    ("boxes as floats", PASSES, boxes_as(float), None, "/output/face_bbox"),
    (
        "box of three items",
        PASSES,
        set_output("face_bbox", lambda o: o["face_bbox"][:3]),
        None,
        "/output/face_bbox",
    ),
    ("request_id dropped", FIXTURES, drop("request_id"), None, "/request_id"),
    ("usage dropped", PASSES, drop("usage"), None, "/usage"),
    ("error body nested under error", ERRORS, lambda body: {"error": body}, None, "/code"),
    (
        "ext box of the wrong ratio",
        PASSES,
        set_output("ext_bbox", wrong_ratio),
        None,
        "/output/ext_bbox",
    ),
    (
        "face outside the ext box",
        PASSES,
        set_output("face_bbox", face_outside),
        None,
        "/output/face_bbox",
    ),
    ("inverted box", PASSES, set_output("ext_bbox", inverted), None, "/output/ext_bbox"),
    ("status 200 for an error", ERRORS, lambda body: body, 200, "/output"),
]
CASES = [
    pytest.param(fixture, change, status, pointer, id=f"{name}:{fixture.name}")
    for name, fixtures, change, status, pointer in BREAKING
    for fixture in fixtures
]


@pytest.mark.parametrize(("fixture", "change", "status", "pointer"), CASES)
def test_a_breaking_mutation_yields_a_breaking_violation_at_its_pointer(
    fixture: Interaction, change: Callable[[Any], Any], status: int | None, pointer: str
) -> None:
    assert not run_checks(fixture), "the unmutated fixture must be clean"
    violations = run_checks(mutated(fixture, change, status))
    breaking = {(v.pointer, v.severity) for v in violations if v.severity is Severity.BREAKING}
    assert (pointer, Severity.BREAKING) in breaking, "\n".join(map(str, violations))


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
@pytest.mark.parametrize("where", ["top level", "output"])
def test_a_new_field_is_an_additive_finding_and_nothing_more(
    fixture: Interaction, where: str
) -> None:
    def add_field(body: Any) -> Any:
        target = body["output"] if where == "output" and "output" in body else body
        target["confidence"] = 0.98
        return body

    violations = run_checks(mutated(fixture, add_field))
    assert len(violations) == 1, "\n".join(map(str, violations))
    (violation,) = violations
    assert violation.severity is Severity.ADDITIVE
    assert violation.pointer.endswith("/confidence")
    assert violation.check == "response_schema_conformance"
