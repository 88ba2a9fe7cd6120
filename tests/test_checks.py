"""Every registered check fails on a response that breaks its rule, and only there; and the
checks catch schema drift: documented fixtures, broken the ways a drifting endpoint breaks them,
yield a breaking finding at the right pointer."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from facedetect_contract.cases import LiveCase
from facedetect_contract.checks import CHECKS, CheckContext, run_checks
from facedetect_contract.contracts import load_contracts
from facedetect_contract.fixtures import load_fixtures
from facedetect_contract.interaction import (
    Expectation,
    Interaction,
    RecordedRequest,
    RecordedResponse,
)
from facedetect_contract.violations import Severity

PASS_BODY = {
    "output": {
        "check_pass": True,
        "face_bbox": [302, 286, 610, 593],
        "ext_bbox": [71, 9, 840, 778],
    },
    "usage": {"image_count": 1},
    "request_id": "c56f62df-724e-9c19-96bd-xxxxxx",
}
ERROR_BODY = {"code": "InvalidApiKey", "message": "No API-key provided.", "request_id": "7438d53d"}
JSON = {"content-type": "application/json"}


def interaction(
    body: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
    ratio: str | None = "1:1",
    expectation: Expectation | None = None,
) -> Interaction:
    request_body: dict[str, Any] = {
        "model": "emo-detect-v1",
        "input": {"image_url": "https://example.com/p.png"},
    }
    if ratio is not None:
        request_body["parameters"] = {"ratio": ratio}
    return Interaction(
        name="case",
        request=RecordedRequest("POST", {"content-type": "application/json"}, request_body),
        response=RecordedResponse(
            status, JSON if headers is None else headers, body, not isinstance(body, str)
        ),
        expectation=expectation,
    )


def passed(**output: Any) -> dict[str, Any]:
    body = copy.deepcopy(PASS_BODY)
    body["output"].update(output)
    return body


def without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    body = copy.deepcopy(body)
    node = body
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return body


REJECT = Expectation(
    True, "parameters.ratio not in enum", "https://help.aliyun.com/zh/model-studio/error-code"
)
REJECT_401 = Expectation(
    True,
    "no key",
    "https://help.aliyun.com/zh/model-studio/error-code",
    frozenset({401}),
    frozenset({"InvalidApiKey"}),
)
SILENT = Expectation(False, "unknown field", "https://help.aliyun.com/zh/model-studio/error-code")
CASE = LiveCase("portrait", "https://example.com/p.png", "1:1", "pass")
CASE_WITH_BOXES = LiveCase(
    "portrait", "https://example.com/p.png", "1:1", "any", {"face_bbox": [302, 286, 610, 593]}
)

# (check, the broken interaction, the JSON pointer it must name, severity)
BROKEN = [
    (
        "response_schema_conformance",
        interaction(passed(check_pass="yes")),
        "/output/check_pass",
        Severity.BREAKING,
    ),
    (
        "response_schema_conformance",
        interaction(without(PASS_BODY, "usage")),
        "/usage",
        Severity.BREAKING,
    ),
    (
        "response_schema_conformance",
        interaction({**PASS_BODY, "trace": "t"}),
        "/trace",
        Severity.ADDITIVE,
    ),
    ("response_schema_conformance", interaction("<html>busy</html>"), "", Severity.BREAKING),
    ("status_code_is_documented", interaction(ERROR_BODY, status=418), "", Severity.BREAKING),
    (
        "response_content_type_is_json",
        interaction(PASS_BODY, headers={"content-type": "text/html"}),
        "",
        Severity.BREAKING,
    ),
    ("response_content_type_is_json", interaction(PASS_BODY, headers={}), "", Severity.BREAKING),
    (
        "request_id_is_non_empty_string",
        interaction({**PASS_BODY, "request_id": ""}),
        "/request_id",
        Severity.BREAKING,
    ),
    (
        "request_id_is_non_empty_string",
        interaction(without(ERROR_BODY, "request_id"), 401),
        "/request_id",
        Severity.BREAKING,
    ),
    (
        "boxes_are_ordered_integers",
        interaction(passed(face_bbox=[610, 286, 302, 593])),
        "/output/face_bbox",
        Severity.BREAKING,
    ),
    (
        "boxes_are_ordered_integers",
        interaction(passed(ext_bbox=[71, 778, 840, 9])),
        "/output/ext_bbox",
        Severity.BREAKING,
    ),
    (
        "boxes_are_ordered_integers",
        interaction(passed(face_bbox=[-1, 286, 610, 593])),
        "/output/face_bbox",
        Severity.BREAKING,
    ),
    (
        "boxes_are_ordered_integers",
        interaction(passed(face_bbox=[302.0, 286, 610, 593])),
        "/output/face_bbox",
        Severity.BREAKING,
    ),
    (
        "boxes_are_ordered_integers",
        interaction(passed(face_bbox=[302, 286, 610])),
        "/output/face_bbox",
        Severity.BREAKING,
    ),
    (
        "face_bbox_inside_ext_bbox",
        interaction(passed(face_bbox=[20, 286, 610, 593])),
        "/output/face_bbox",
        Severity.BREAKING,
    ),
    (
        "ext_bbox_matches_ratio",
        interaction(passed(ext_bbox=[71, 9, 840, 700])),
        "/output/ext_bbox",
        Severity.BREAKING,
    ),
    (
        "ext_bbox_matches_ratio",
        interaction(PASS_BODY, ratio="3:4"),
        "/output/ext_bbox",
        Severity.BREAKING,
    ),
    (
        "ext_bbox_matches_ratio",
        interaction(passed(ext_bbox=[71, 9, 840, 776]), ratio=None),
        "/output/ext_bbox",
        Severity.BREAKING,
    ),
    (
        "check_pass_true_has_both_boxes",
        interaction(without(PASS_BODY, "output", "ext_bbox")),
        "/output/ext_bbox",
        Severity.BREAKING,
    ),
    (
        "check_pass_true_has_both_boxes",
        interaction(passed(face_bbox=None)),
        "/output/face_bbox",
        Severity.BREAKING,
    ),
    (
        "usage_image_count_is_one",
        interaction({**PASS_BODY, "usage": {"image_count": 2}}),
        "/usage/image_count",
        Severity.BREAKING,
    ),
    (
        "usage_image_count_is_one",
        interaction({**PASS_BODY, "usage": {}}),
        "/usage/image_count",
        Severity.BREAKING,
    ),
    (
        "request_failure_is_not_billed",
        interaction({**ERROR_BODY, "usage": {"image_count": 1}}, 401),
        "/usage",
        Severity.BREAKING,
    ),
    (
        "error_code_is_documented",
        interaction({**ERROR_BODY, "code": "InvalidApiKey.Expired"}, 401),
        "/code",
        Severity.ADDITIVE,
    ),
    ("error_code_is_documented", interaction(ERROR_BODY, 403), "/code", Severity.BREAKING),
    (
        "invalid_request_is_rejected",
        interaction(PASS_BODY, expectation=REJECT),
        "",
        Severity.BREAKING,
    ),
    (
        "invalid_request_is_rejected",
        interaction({**ERROR_BODY, "code": "InternalError"}, 500, expectation=SILENT),
        "",
        Severity.BREAKING,
    ),
    (
        "invalid_request_is_rejected",
        interaction(ERROR_BODY, 403, expectation=REJECT_401),
        "",
        Severity.BREAKING,
    ),
    (
        "invalid_request_is_rejected",
        interaction({**ERROR_BODY, "code": "InvalidParameter"}, 401, expectation=REJECT_401),
        "/code",
        Severity.BREAKING,
    ),
    (
        "request_id_header_matches_body",
        interaction(PASS_BODY, headers={**JSON, "x-request-id": "another-request"}),
        "/request_id",
        Severity.ADDITIVE,
    ),
    (
        "live_case_meets_its_expect",
        (interaction(ERROR_BODY, 401), {"case": CASE}),
        "",
        Severity.BREAKING,
    ),
    (
        "live_case_meets_its_expect",
        (interaction({"output": {"check_pass": False}, "request_id": "r"}), {"case": CASE}),
        "/output/check_pass",
        Severity.BREAKING,
    ),
    (
        "behaviour_matches_recording",
        (interaction(passed(face_bbox=[402, 286, 710, 593])), {"case": CASE_WITH_BOXES}),
        "/output/face_bbox",
        Severity.ADDITIVE,
    ),
    (
        "behaviour_matches_recording",
        (
            interaction(passed(ext_bbox=[171, 9, 940, 778])),
            {"recording": interaction(PASS_BODY)},
        ),
        "/output/ext_bbox",
        Severity.ADDITIVE,
    ),
    (
        "behaviour_matches_recording",
        (
            interaction({"output": {"check_pass": False}, "request_id": "r"}),
            {"recording": interaction(PASS_BODY)},
        ),
        "/output/check_pass",
        Severity.ADDITIVE,
    ),
]


@pytest.mark.parametrize(
    ("check", "broken", "pointer", "severity"),
    BROKEN,
    ids=[f"{check}-{index}" for index, (check, *_rest) in enumerate(BROKEN)],
)
def test_each_check_reports_the_response_that_breaks_its_rule(
    check: str,
    broken: Interaction | tuple[Interaction, dict[str, Any]],
    pointer: str,
    severity: Severity,
) -> None:
    broken, context = broken if isinstance(broken, tuple) else (broken, {})
    violations = run_checks(broken, CheckContext(load_contracts(), **context), only=[check])
    assert [(v.pointer, v.severity) for v in violations] == [(pointer, severity)], violations
    violation = violations[0]
    assert violation.check == check
    assert violation.interaction == "case"
    assert violation.received and violation.documented
    assert violation.source.startswith(("https://", "the live cases file", "fixtures/"))


def test_every_registered_check_has_a_case_that_breaks_it() -> None:
    assert {check for check, *_rest in BROKEN} == set(CHECKS)


@pytest.mark.parametrize(
    ("name", "good"),
    [
        ("documented pass", interaction(PASS_BODY)),
        (
            "pass at 3:4",
            interaction(
                passed(ext_bbox=[0, 0, 600, 800], face_bbox=[100, 100, 400, 400]), ratio="3:4"
            ),
        ),
        ("pass 1 px off square", interaction(passed(ext_bbox=[71, 9, 840, 777]))),
        ("pass with humanoid", interaction(passed(humanoid=True))),
        (
            "shape A, empty reason",
            interaction(
                {"output": {"check_pass": False, "code": "", "message": ""}, "request_id": "r"}
            ),
        ),
        (
            "shape A, null boxes, billed",
            interaction(
                {
                    "output": {"check_pass": False, "face_bbox": None, "ext_bbox": None},
                    "usage": {"image_count": 1},
                    "request_id": "r",
                }
            ),
        ),
        (
            "shape B",
            interaction({"code": "InvalidFile.NoHuman", "message": "m", "request_id": "r"}, 400),
        ),
        ("401", interaction(ERROR_BODY, 401)),
        (
            "429",
            interaction({"code": "Throttling.RateQuota", "message": "m", "request_id": "r"}, 429),
        ),
        (
            "charset in content type",
            interaction(PASS_BODY, headers={"content-type": "application/json;charset=UTF-8"}),
        ),
        ("silent rule, accepted", interaction(PASS_BODY, expectation=SILENT)),
        ("rejected as named", interaction(ERROR_BODY, 401, expectation=REJECT_401)),
    ],
)
def test_no_check_cries_wolf_on_a_documented_response(name: str, good: Interaction) -> None:
    assert run_checks(good) == []


def test_a_violation_says_where_what_was_received_what_is_documented_and_the_source() -> None:
    violation = run_checks(
        interaction(passed(ext_bbox=[71, 9, 840, 700])), only=["ext_bbox_matches_ratio"]
    )[0]
    text = str(violation)
    for part in (
        "[breaking]",
        "ext_bbox_matches_ratio",
        "/output/ext_bbox",
        "769x691",
        "1:1",
        "https://help.aliyun.com",
    ):
        assert part in text


def test_asking_for_an_unknown_check_names_the_registered_ones() -> None:
    with pytest.raises(KeyError, match="registered"):
        run_checks(interaction(PASS_BODY), only=["no_such_check"])


# --- schema drift: documented fixtures, broken as a drifting endpoint breaks them ------------

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
