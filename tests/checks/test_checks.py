"""Every registered check fails on a response that breaks its rule, and only there; and the
checks catch schema drift: documented fixtures, broken the ways a drifting endpoint breaks them,
yield a breaking finding at the right pointer."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import json
import pkgutil
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from facedetect_contract import checks
from facedetect_contract.checks import (
    CHECKS,
    RUN_CHECKS,
    Check,
    CheckContext,
    Finding,
    check,
    response_schema_for,
    run_checks,
)
from facedetect_contract.contracts import loader
from facedetect_contract.contracts.cases import LiveCase
from facedetect_contract.contracts.fixtures import FIXTURE_DIR, load_fixtures
from facedetect_contract.contracts.loader import CONTRACT_DIR, Contracts, load_contracts
from facedetect_contract.contracts.outcome import classify
from facedetect_contract.core.interaction import (
    Expectation,
    Interaction,
    RecordedRequest,
    RecordedResponse,
)
from facedetect_contract.core.violations import Severity
from tests.helpers.bodies import documented_pass_body

CONTRACTS = load_contracts()

PASS_BODY = documented_pass_body()
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
    assert run_checks(good, CONTRACTS) == []


def test_a_violation_says_where_what_was_received_what_is_documented_and_the_source() -> None:
    violation = run_checks(
        interaction(passed(ext_bbox=[71, 9, 840, 700])), CONTRACTS, only=["ext_bbox_matches_ratio"]
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
        run_checks(interaction(PASS_BODY), CONTRACTS, only=["no_such_check"])


# --- schema drift: documented fixtures, broken as a drifting endpoint breaks them ------------

# Documented fixtures only: a recording may already carry an additive finding of its own.
FIXTURES = [
    i for i in load_fixtures(FIXTURE_DIR, CONTRACTS) if i.provenance.get("kind") == "documented"
]
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
    assert not run_checks(fixture, CONTRACTS), "the unmutated fixture must be clean"
    violations = run_checks(mutated(fixture, change, status), CONTRACTS)
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

    violations = run_checks(mutated(fixture, add_field), CONTRACTS)
    assert len(violations) == 1, "\n".join(map(str, violations))
    (violation,) = violations
    assert violation.severity is Severity.ADDITIVE
    assert violation.pointer.endswith("/confidence")
    assert violation.check == "response_schema_conformance"


# --- the registry: every check rests on the docs, and is registered once ----------------------

# The documentation each check's rule rests on, as roles each model's profile fills (ROLES in
# checks/registry.py): the response shapes from the page stating the shape and the request-failure
# answer's sources, billing from the shape's page and the billing sources, the error table from
# the request-failure answer's sources, the boxes and the request id from the shape's page.
RULE_ROLES = {
    "response_schema_conformance": ("shape", "request_error"),
    "status_code_is_documented": ("shape", "request_error"),
    "response_content_type_is_json": ("shape",),
    "request_id_is_non_empty_string": ("shape",),
    "request_id_header_matches_body": ("shape",),
    "boxes_are_ordered_integers": ("shape",),
    "face_bbox_inside_ext_bbox": ("shape",),
    "ext_bbox_matches_ratio": ("shape",),
    "check_pass_true_has_both_boxes": ("shape",),
    "usage_image_count_is_one": ("shape", "billing"),
    "request_failure_is_not_billed": ("request_error", "billing"),
    "error_code_is_documented": ("request_error",),
    "invalid_request_is_rejected": ("request_error",),
    "live_case_meets_its_expect": ("shape",),
    "behaviour_matches_recording": ("shape",),
}
# What those roles come to for face-detect (ids of its profile's sources), as docs/endpoint.md
# gives them: the API reference, the error-code page, the quick start.
RULE_SOURCES = {
    "response_schema_conformance": ("emo-detect-api", "error-code"),
    "status_code_is_documented": ("emo-detect-api", "error-code"),
    "response_content_type_is_json": ("emo-detect-api",),
    "request_id_is_non_empty_string": ("emo-detect-api",),
    "request_id_header_matches_body": ("emo-detect-api",),
    "boxes_are_ordered_integers": ("emo-detect-api",),
    "face_bbox_inside_ext_bbox": ("emo-detect-api",),
    "ext_bbox_matches_ratio": ("emo-detect-api",),
    "check_pass_true_has_both_boxes": ("emo-detect-api",),
    "usage_image_count_is_one": ("emo-detect-api", "emo-quick-start"),
    "request_failure_is_not_billed": ("emo-detect-api", "error-code", "emo-quick-start"),
    "error_code_is_documented": ("emo-detect-api", "error-code"),
    "invalid_request_is_rejected": ("emo-detect-api", "error-code"),
    "live_case_meets_its_expect": ("emo-detect-api",),
    "behaviour_matches_recording": ("emo-detect-api",),
}
# The checks that also judge a body that is not JSON: its shape, its status, and whether a
# request the docs call invalid got a server error. Every other check needs the JSON body.
WITHOUT_JSON = {
    "response_schema_conformance",
    "status_code_is_documented",
    "invalid_request_is_rejected",
}
# Findings that name their own source (the live cases file, a fixture) instead of the check's.
OWN_SOURCE = {"live_case_meets_its_expect", "behaviour_matches_recording"}


def cite(*source_ids: str) -> str:
    """How a violation names the documentation of its rule: each source, joined by '; '."""
    profile = load_contracts().profile
    return "; ".join(str(profile.source(source_id)) for source_id in source_ids)


def test_every_check_rests_on_documented_sources_of_the_profile(contracts: Contracts) -> None:
    """Module rule: every check is backed by a rule of the docs (roles the profile fills with
    its own source ids)."""
    assert set(RULE_SOURCES) == set(CHECKS) == set(RULE_ROLES)
    for name, registered in CHECKS.items():
        assert registered.name == name
        assert registered.sources == RULE_ROLES[name], name
        assert registered.source_ids(contracts) == RULE_SOURCES[name], name
        assert all(source in contracts.profile.sources for source in RULE_SOURCES[name])
        assert isinstance(registered.needs_json, bool), name
    assert {name for name, c in CHECKS.items() if not c.needs_json} == WITHOUT_JSON


@pytest.mark.parametrize(
    ("check", "broken"),
    [(check, broken) for check, broken, _pointer, _severity in BROKEN if check not in OWN_SOURCE],
    ids=[
        f"{check}-{index}"
        for index, (check, *_rest) in enumerate(BROKEN)
        if check not in OWN_SOURCE
    ],
)
def test_a_violation_cites_every_source_of_its_rule(check: str, broken: Interaction) -> None:
    """How to read a failure: 'source: the documentation it rests on', every page of it."""
    (violation,) = run_checks(broken, CONTRACTS, only=[check])
    assert violation.source == cite(*RULE_SOURCES[check])


def test_a_violation_carries_the_title_of_its_finding() -> None:
    (violation,) = run_checks(
        interaction(ERROR_BODY, 418), CONTRACTS, only=["status_code_is_documented"]
    )
    assert violation.title == "undocumented HTTP status 418"
    assert str(violation).startswith(
        "[breaking] status_code_is_documented: undocumented HTTP status 418\n"
    )


def test_a_name_is_registered_once_among_the_checks_and_the_run_checks(
    registry: None,
) -> None:
    before = dict(checks.CHECKS)

    def status_code_is_documented(interaction: Interaction, context: CheckContext) -> list[Finding]:
        return []

    def request_id_is_unique_in_the_run(
        interaction: Interaction, context: CheckContext
    ) -> list[Finding]:
        return []

    for function in (status_code_is_documented, request_id_is_unique_in_the_run):
        with pytest.raises(ValueError, match=f"check '{function.__name__}' is registered twice"):
            check(sources=("emo-detect-api",))(function)
    assert before == checks.CHECKS
    assert "request_id_is_unique_in_the_run" in RUN_CHECKS


def test_registering_a_check_keeps_the_function_and_its_need_of_a_json_body(
    registry: None,
) -> None:
    def needs_a_body(interaction: Interaction, context: CheckContext) -> list[Finding]:
        return []

    def judges_any_body(interaction: Interaction, context: CheckContext) -> list[Finding]:
        return []

    assert check(sources=("emo-detect-api",))(needs_a_body) is needs_a_body
    assert check(sources=("error-code",), needs_json=False)(judges_any_body) is judges_any_body
    assert checks.CHECKS["needs_a_body"] == Check(
        "needs_a_body", needs_a_body, ("emo-detect-api",), True
    )
    assert checks.CHECKS["judges_any_body"].needs_json is False
    assert checks.CHECKS["judges_any_body"].sources == ("error-code",)


def test_the_registered_functions_stay_callable_checks(contracts: Contracts) -> None:
    """The decorator registers a check and hands the function back unchanged."""
    findings = list(
        checks.status_code_is_documented(interaction(ERROR_BODY, 418), CheckContext(contracts))
    )
    assert [f.received for f in findings] == ["HTTP 418"]


def test_findings_contexts_and_checks_are_immutable_values(contracts: Contracts) -> None:
    """A check cannot change the context the next check sees, nor a finding once made; a finding
    overrides nothing by default (no source, no interaction), and a context made from the
    contracts alone carries no outcome, case or recording."""
    finding = Finding("/request_id", '""', "a non-empty string", "request_id is missing or empty")
    assert (finding.severity, finding.source, finding.interaction) == (
        Severity.BREAKING,
        None,
        None,
    )
    context = CheckContext(contracts)
    assert (context.outcome, context.case, context.case_source, context.recording) == (
        None,
        None,
        "",
        None,
    )
    registered = Check("a_check", lambda i, c: [], ("emo-detect-api",))
    assert registered.needs_json is True  # a check needs a JSON body unless it says otherwise
    for value, name in ((finding, "pointer"), (context, "case_source"), (registered, "name")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, name, "changed")


def test_asking_for_an_unknown_check_names_it_and_every_registered_check() -> None:
    with pytest.raises(KeyError) as raised:
        run_checks(
            interaction(PASS_BODY), CONTRACTS, only=["no_such_check", "status_code_is_documented"]
        )
    message = str(raised.value)
    assert "unknown checks ['no_such_check']" in message
    for name in ("response_schema_conformance", "request_id_is_unique_in_the_run"):
        assert repr(name) in message  # the checks and the run checks


def test_run_checks_gives_each_check_the_outcome_of_the_interaction_it_judges(
    registry: None, contracts: Contracts
) -> None:
    """CheckContext.outcome is set by run_checks: the interaction's own outcome, whatever the
    context brought."""
    seen = []

    @check(sources=("emo-detect-api",))
    def outcome_probe(interaction: Interaction, context: CheckContext) -> list[Finding]:
        seen.append(context.outcome)
        return []

    stale = classify(interaction(PASS_BODY).response, contracts)
    answer = interaction(ERROR_BODY, 401)
    assert run_checks(answer, CheckContext(contracts, outcome=stale), only=["outcome_probe"]) == []
    assert seen == [classify(answer.response, contracts)]
    assert seen[0].kind == "request_error"


def test_a_check_called_on_its_own_judges_the_outcome_of_its_interaction(
    contracts: Contracts,
) -> None:
    """A check outside run_checks (no outcome in its context) classifies the answer itself."""
    alone = CheckContext(contracts, case=CASE)
    (unmet,) = CHECKS["live_case_meets_its_expect"](interaction(ERROR_BODY, 401), alone)
    assert unmet.received == "a request failure: HTTP 401 InvalidApiKey"
    billed = interaction({**ERROR_BODY, "usage": {"image_count": 1}}, 401)
    (violation,) = CHECKS["request_failure_is_not_billed"](billed, CheckContext(contracts))
    assert violation.title == "HTTP 401 failure carries usage (billed?)"


def checks_modules() -> list[ModuleType]:
    """The package's namespace and every module in it."""
    names = [f"{checks.__name__}.{info.name}" for info in pkgutil.iter_modules(checks.__path__)]
    return [checks, *map(importlib.import_module, names)]


def test_the_checks_judge_by_the_contracts_of_their_context_and_load_no_others(
    monkeypatch: pytest.MonkeyPatch, contracts: Contracts
) -> None:
    answers = [
        interaction(PASS_BODY),
        interaction(passed(check_pass="yes")),
        interaction(ERROR_BODY, 401),
        interaction(ERROR_BODY, 418),
        interaction(ERROR_BODY, 302),
    ]
    expected = [
        [(v.check, v.pointer) for v in run_checks(a, CheckContext(contracts))] for a in answers
    ]

    def no_other_contracts(directory: Path | None = None) -> Contracts:
        raise AssertionError("a check loaded the default contracts instead of its context's")

    # No module of the package holds a way to the default contracts (each is handed its own);
    # the loader itself is patched too, for one reached some other way.
    assert [m.__name__ for m in checks_modules() if hasattr(m, "load_contracts")] == []
    monkeypatch.setattr(loader, "load_contracts", no_other_contracts)
    judged = [
        [(v.check, v.pointer) for v in run_checks(a, CheckContext(contracts))] for a in answers
    ]
    assert judged == expected
    assert [response_schema_for(a, contracts) for a in answers] == [
        "check_passed",
        "check_passed",
        "error_body",
        "error_body",
        None,
    ]


def test_a_conforming_body_is_judged_without_collecting_schema_errors(
    monkeypatch: pytest.MonkeyPatch, contracts: Contracts
) -> None:
    """The common case is decided by the schema's verdict alone (Contracts.is_valid); errors are
    collected only for a body that does not conform."""

    def no_collecting(name: str) -> Any:
        raise AssertionError(f"collected the errors of a conforming body ({name})")

    monkeypatch.setattr(contracts, "validator", no_collecting)
    for fixture in FIXTURES:
        assert run_checks(fixture, CheckContext(contracts)) == [], fixture.name


# --- which contract judges a body ------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "schema"),
    [
        (interaction(PASS_BODY), "check_passed"),
        (interaction({"output": {"check_pass": False}, "request_id": "r"}), "check_failed"),
        (
            interaction({"code": "InvalidFile.NoHuman", "message": "m", "request_id": "r"}, 400),
            "error_body",
        ),
        (interaction(ERROR_BODY, 401), "error_body"),
        (interaction(ERROR_BODY, 418), "error_body"),  # any 4xx or 5xx: a request failure
        (interaction(ERROR_BODY, 302), None),  # a status no documented answer has
    ],
)
def test_each_kind_of_answer_is_judged_by_its_contract(
    answer: Interaction, schema: str | None, contracts: Contracts
) -> None:
    """Pass, failure shape A, failure shape B and request failures, by endpoint.json /answers."""
    assert response_schema_for(answer, contracts) == schema
    assert response_schema_for(answer, CONTRACTS) == schema  # the project's contracts by default


# --- each broken response: exactly its findings, each once ------------------------------------

HTML = {"content-type": "text/html"}


def html(status: int, expectation: Expectation | None = None) -> Interaction:
    """A gateway's HTML page instead of the JSON body."""
    return interaction("<html>busy</html>", status, headers=HTML, expectation=expectation)


SCHEMA, STATUS, BOXES = (
    "response_schema_conformance",
    "status_code_is_documented",
    "boxes_are_ordered_integers",
)
B, A = Severity.BREAKING, Severity.ADDITIVE
SHAPE_A = {"output": {"check_pass": False, "code": "", "message": ""}, "request_id": "r"}

# (the broken answer, its context, every finding of every check: (check, pointer, severity))
WHOLE = [
    pytest.param(html(500), {}, [(SCHEMA, "", B)], id="not JSON: one finding, not a dozen"),
    pytest.param(
        html(418), {}, [(SCHEMA, "", B), (STATUS, "", B)], id="not JSON, undocumented status"
    ),
    pytest.param(
        html(503, REJECT),
        {},
        [(SCHEMA, "", B), ("invalid_request_is_rejected", "", B)],
        id="not JSON, server error on an invalid request",
    ),
    pytest.param(
        html(400, REJECT), {}, [(SCHEMA, "", B)], id="not JSON, rejected: reported as not JSON only"
    ),
    pytest.param(
        interaction(ERROR_BODY, 418),
        {},
        [(STATUS, "", B)],
        id="undocumented 4xx: judged as a request failure",
    ),
    pytest.param(
        interaction(PASS_BODY, 302),
        {},
        [(STATUS, "", B)],
        id="undocumented 3xx: no contract to judge the body by",
    ),
    pytest.param(
        interaction({**ERROR_BODY, "code": "InvalidParameter"}, 418),
        {},
        [(STATUS, "", B)],
        id="undocumented status: its code is not judged either",
    ),
    pytest.param(
        interaction(
            {
                **SHAPE_A,
                "output": {"check_pass": False, "face_bbox": None, "ext_bbox": [840, 778, 71, 9]},
            }
        ),
        {},
        [(BOXES, "/output/ext_bbox", B)],
        id="shape A: a null face box, an inverted ext box",
    ),
    pytest.param(
        interaction(passed(ext_bbox=[0, 0, 7001, 7001])),
        {},
        [(BOXES, "/output/ext_bbox", B)],
        id="a coordinate beyond the longest side an image may have",
    ),
    pytest.param(
        interaction(passed(confidence=0.98)),
        {},
        [(SCHEMA, "/output/confidence", A)],
        id="a new field inside output is reported inside output",
    ),
    pytest.param(
        interaction(PASS_BODY, expectation=REJECT_401),
        {},
        [("invalid_request_is_rejected", "", B)],
        id="invalid request accepted: one finding, not one per expectation",
    ),
    pytest.param(
        interaction({**ERROR_BODY, "code": "InternalError"}, 500, expectation=REJECT_401),
        {},
        [("invalid_request_is_rejected", "", B)],
        id="server error on an invalid request: one finding",
    ),
    pytest.param(
        interaction(
            {
                "code": "InvalidParameter",
                "message": "m",
                "request_id": "r",
                "usage": {"image_count": 1},
            },
            400,
        ),
        {},
        [(SCHEMA, "/usage", A), ("request_failure_is_not_billed", "/usage", B)],
        id="HTTP 400 request failure billed",
    ),
    pytest.param(
        interaction(
            {
                "code": "InvalidFile.NoHuman",
                "message": "m",
                "request_id": "r",
                "usage": {"image_count": 1},
            },
            400,
        ),
        {},
        [(SCHEMA, "/usage", A)],
        id="shape B billed: judged by its own reading (failure-billing)",
    ),
    pytest.param(
        interaction({**ERROR_BODY, "usage": {"image_count": 1}}, 399),
        {},
        [(STATUS, "", B)],
        id="HTTP 399 is no request failure",
    ),
    pytest.param(
        interaction(PASS_BODY, ratio="wide"),
        {},
        [],
        id="an invalid ratio is not the answer's fault",
    ),
    pytest.param(
        interaction(PASS_BODY, ratio="wide", expectation=REJECT),
        {},
        [("invalid_request_is_rejected", "", B)],
        id="an invalid ratio accepted: judged by the rejection check",
    ),
]

BROKEN_IDS = [f"{check}-{index}" for index, (check, *_rest) in enumerate(BROKEN)]
# What else reports a BROKEN response when every check runs: the schema sees the same break.
ALSO = {
    "request_id_is_non_empty_string-7": [(SCHEMA, "/request_id", B)],
    "request_id_is_non_empty_string-8": [(SCHEMA, "/request_id", B)],
    "boxes_are_ordered_integers-11": [(SCHEMA, "/output/face_bbox/0", B)],
    "boxes_are_ordered_integers-13": [(SCHEMA, "/output/face_bbox", B)],
    "check_pass_true_has_both_boxes-18": [(SCHEMA, "/output/ext_bbox", B)],
    "check_pass_true_has_both_boxes-19": [(SCHEMA, "/output/face_bbox", B)],
    "usage_image_count_is_one-20": [(SCHEMA, "/usage/image_count", B)],
    "usage_image_count_is_one-21": [(SCHEMA, "/usage/image_count", B)],
    "request_failure_is_not_billed-22": [(SCHEMA, "/usage", A)],
    "invalid_request_is_rejected-27": [("error_code_is_documented", "/code", B)],  # 403
    "invalid_request_is_rejected-28": [("error_code_is_documented", "/code", B)],  # 401
}


def findings(answer: Interaction, context: dict[str, Any]) -> list[tuple[str, str, Severity]]:
    violations = run_checks(answer, CheckContext(load_contracts(), **context))
    return sorted((v.check, v.pointer, v.severity) for v in violations)


@pytest.mark.parametrize(("broken", "context", "expected"), WHOLE)
def test_a_broken_response_yields_exactly_its_findings_each_once(
    broken: Interaction, context: dict[str, Any], expected: list[tuple[str, str, Severity]]
) -> None:
    """Every check runs (no ``only``): the break is reported where it is, by the checks whose
    rule it breaks, once each; a body that is not JSON gets its one finding, not derived ones."""
    assert findings(broken, context) == sorted(expected)


@pytest.mark.parametrize(
    ("case_id", "check", "broken", "pointer", "severity"),
    [(case_id, *entry) for case_id, entry in zip(BROKEN_IDS, BROKEN, strict=True)],
    ids=BROKEN_IDS,
)
def test_each_broken_case_yields_its_finding_and_only_the_ones_it_implies_with_every_check(
    case_id: str,
    check: str,
    broken: Interaction | tuple[Interaction, dict[str, Any]],
    pointer: str,
    severity: Severity,
) -> None:
    broken, context = broken if isinstance(broken, tuple) else (broken, {})
    assert findings(broken, context) == sorted([(check, pointer, severity), *ALSO.get(case_id, [])])


def test_the_also_reported_table_names_broken_cases() -> None:
    assert set(ALSO) <= set(BROKEN_IDS)


# --- what each finding tells its reader ---------------------------------------------------------

BOX_RULE = (
    "[x1, y1, x2, y2]: 4 integers 0..7000 (the longest side an image may have), x1 < x2, y1 < y2"
)
BILLED_ERROR = {"code": "InvalidParameter", "message": "m", "request_id": "r"}

# (check, the broken answer, pointer, received, documented, title, severity). ``received`` is
# exact (it is the data); ``documented`` and ``title`` are exact strings, or a tuple of the parts
# the reader must find in them.
READS = [
    pytest.param(
        "response_schema_conformance",
        interaction(passed(check_pass="yes")),
        "/output/check_pass",
        '"yes"',
        'type: "boolean"',
        "'yes' is not of type 'boolean'",
        B,
        id="a wrong type: the type, not the failed const at the same place",
    ),
    pytest.param(
        "response_schema_conformance",
        interaction(passed(humanoid="yes")),
        "/output/humanoid",
        '"yes"',
        "type: \"boolean\" (Only in the machine-readable spec ('EMO - 图像检测', platform.qianwenai.com), not in the help pages.)",
        "'yes' is not of type 'boolean'",
        B,
        id="the contract's description of the field follows the rule",
    ),
    pytest.param(
        "response_schema_conformance",
        interaction(passed(face_bbox=[302, 286, 610])),
        "/output/face_bbox",
        "[302, 286, 610]",
        ("minItems: 4 (", "[x1, y1, x2, y2]: top-left and bottom-right corners in pixels"),
        "[302, 286, 610] is too short",
        B,
        id="a box of three: minItems, with the Box description",
    ),
    pytest.param(
        "response_schema_conformance",
        interaction(without(PASS_BODY, "usage")),
        "/usage",
        "(absent)",
        "required field 'usage'",
        "required field 'usage' is missing",
        B,
        id="a required field missing",
    ),
    pytest.param(
        "response_schema_conformance",
        interaction({**PASS_BODY, "trace": "t"}),
        "/trace",
        '"t"',
        "no field 'trace' here; documented fields: ['output', 'request_id', 'usage']",
        "new undocumented field 'trace'",
        A,
        id="a new top-level field",
    ),
    pytest.param(
        "response_schema_conformance",
        interaction(passed(confidence=0.98)),
        "/output/confidence",
        "0.98",
        "no field 'confidence' here; documented fields: ['check_pass', 'ext_bbox', 'face_bbox', 'humanoid']",
        "new undocumented field 'confidence'",
        A,
        id="a new field inside output",
    ),
    pytest.param(
        "response_schema_conformance",
        html(500),
        "",
        '"<html>busy</html>"',
        "a JSON body",
        "the body is not JSON",
        B,
        id="not JSON",
    ),
    pytest.param(
        "status_code_is_documented",
        interaction(ERROR_BODY, 418),
        "",
        "HTTP 418",
        "one of [200, 400, 401, 403, 404, 429, 500, 503]",
        "undocumented HTTP status 418",
        B,
        id="an undocumented status",
    ),
    pytest.param(
        "response_content_type_is_json",
        interaction(PASS_BODY, headers=HTML),
        "",
        "Content-Type: text/html",
        "Content-Type: application/json",
        "response Content-Type is not JSON",
        B,
        id="another media type",
    ),
    pytest.param(
        "response_content_type_is_json",
        interaction(PASS_BODY, headers={}),
        "",
        "Content-Type: (absent)",
        "Content-Type: application/json",
        "response Content-Type is not JSON",
        B,
        id="no Content-Type",
    ),
    pytest.param(
        "request_id_is_non_empty_string",
        interaction({**PASS_BODY, "request_id": ""}),
        "/request_id",
        '""',
        "a non-empty string naming the request",
        "request_id is missing or empty",
        B,
        id="an empty request id",
    ),
    pytest.param(
        "request_id_is_non_empty_string",
        interaction(without(ERROR_BODY, "request_id"), 401),
        "/request_id",
        "(absent)",
        "a non-empty string naming the request",
        "request_id is missing or empty",
        B,
        id="no request id",
    ),
    pytest.param(
        "request_id_header_matches_body",
        interaction(PASS_BODY, headers={**JSON, "x-request-id": "another-request"}),
        "/request_id",
        'x-request-id: "another-request", body "c56f62df-724e-9c19-96bd-xxxxxx"',
        "one request, one id: the header (where sent) equals the body's id",
        "the x-request-id header names another request",
        A,
        id="the request-id header names another request",
    ),
    pytest.param(
        "boxes_are_ordered_integers",
        interaction(passed(face_bbox=[610, 286, 302, 593])),
        "/output/face_bbox",
        "[610, 286, 302, 593]",
        BOX_RULE,
        "face_bbox is not a well-formed box",
        B,
        id="x1 > x2",
    ),
    pytest.param(
        "boxes_are_ordered_integers",
        interaction(passed(ext_bbox=[0, 0, 7001, 700], face_bbox=[0, 0, 10, 10])),
        "/output/ext_bbox",
        "[0, 0, 7001, 700]",
        BOX_RULE,
        "ext_bbox is not a well-formed box",
        B,
        id="one coordinate beyond the longest side",
    ),
    pytest.param(
        "boxes_are_ordered_integers",
        interaction({**SHAPE_A, "output": {"check_pass": False, "ext_bbox": [840, 778, 71, 9]}}),
        "/output/ext_bbox",
        "[840, 778, 71, 9]",
        BOX_RULE,
        "ext_bbox is not a well-formed box",
        B,
        id="the ext box is judged where the face box is absent",
    ),
    pytest.param(
        "face_bbox_inside_ext_bbox",
        interaction(passed(face_bbox=[20, 286, 610, 593])),
        "/output/face_bbox",
        "face_bbox [20, 286, 610, 593], ext_bbox [71, 9, 840, 778]",
        "face_bbox inside ext_bbox: the video model crops the image to ext_bbox",
        "face_bbox lies outside ext_bbox",
        B,
        id="the face outside the crop",
    ),
    pytest.param(
        "ext_bbox_matches_ratio",
        interaction(passed(ext_bbox=[71, 9, 840, 700])),
        "/output/ext_bbox",
        "[71, 9, 840, 700]: 769x691 px",
        "width:height = 1:1 within 1 px",
        "ext_bbox does not have the requested ratio 1:1",
        B,
        id="a crop of the wrong ratio",
    ),
    pytest.param(
        "check_pass_true_has_both_boxes",
        interaction(without(PASS_BODY, "output", "ext_bbox")),
        "/output/ext_bbox",
        "(absent)",
        "check_pass true comes with ext_bbox",
        "check passed without ext_bbox",
        B,
        id="a pass without its ext box",
    ),
    pytest.param(
        "check_pass_true_has_both_boxes",
        interaction(passed(face_bbox=None)),
        "/output/face_bbox",
        "null",
        "check_pass true comes with face_bbox",
        "check passed without face_bbox",
        B,
        id="a pass with a null face box",
    ),
    pytest.param(
        "usage_image_count_is_one",
        interaction({**PASS_BODY, "usage": {"image_count": 2}}),
        "/usage/image_count",
        "2",
        "1: one image per request, billed at CNY 0.004",
        "image_count is not 1",
        B,
        id="two images billed",
    ),
    pytest.param(
        "usage_image_count_is_one",
        interaction({**PASS_BODY, "usage": {}}),
        "/usage/image_count",
        "(absent)",
        "1: one image per request, billed at CNY 0.004",
        "image_count is not 1",
        B,
        id="usage without its count",
    ),
    pytest.param(
        "request_failure_is_not_billed",
        interaction({**BILLED_ERROR, "usage": {"image_count": 1}}, 400),
        "/usage",
        '{"image_count": 1}',
        "no usage on a request failure: request failures are not billed",
        "HTTP 400 failure carries usage (billed?)",
        B,
        id="a 400 request failure billed",
    ),
    pytest.param(
        "error_code_is_documented",
        interaction({**ERROR_BODY, "code": "InvalidApiKey.Expired"}, 401),
        "/code",
        "HTTP 401 with code 'InvalidApiKey.Expired'",
        "codes documented for HTTP 401: InvalidApiKey",
        "undocumented error code 'InvalidApiKey.Expired' under HTTP 401",
        A,
        id="a new code under a known status",
    ),
    pytest.param(
        "error_code_is_documented",
        interaction({**ERROR_BODY, "code": "Throttling.Queue"}, 429),
        "/code",
        "HTTP 429 with code 'Throttling.Queue'",
        "codes documented for HTTP 429: Throttling, Throttling.AllocationQuota, Throttling.BurstRate, Throttling.RateQuota",
        "undocumented error code 'Throttling.Queue' under HTTP 429",
        A,
        id="a new code: the codes of its status, listed",
    ),
    pytest.param(
        "error_code_is_documented",
        interaction({**BILLED_ERROR, "code": "InvalidParameter.Ratio"}, 400),
        "/code",
        "HTTP 400 with code 'InvalidParameter.Ratio'",
        ("codes documented for HTTP 400: Arrearage, BadRequest.EmptyInput, ", "InvalidURL.Timeout"),
        "undocumented error code 'InvalidParameter.Ratio' under HTTP 400",
        A,
        id="a new code under HTTP 400",
    ),
    pytest.param(
        "error_code_is_documented",
        interaction(ERROR_BODY, 403),
        "/code",
        "HTTP 403 with code 'InvalidApiKey'",
        "'InvalidApiKey' is documented under HTTP 401",
        "'InvalidApiKey' came with HTTP 403, not its documented status",
        B,
        id="a known code under another status",
    ),
    pytest.param(
        "invalid_request_is_rejected",
        interaction(PASS_BODY, expectation=REJECT_401),
        "",
        "HTTP 200",
        "a 4xx error body: no key (https://help.aliyun.com/zh/model-studio/error-code)",
        "invalid request accepted: no key",
        B,
        id="an invalid request accepted",
    ),
    pytest.param(
        "invalid_request_is_rejected",
        interaction({**ERROR_BODY, "code": "InternalError"}, 500, expectation=REJECT_401),
        "",
        "HTTP 500",
        "a 4xx error body (no key); never a server error",
        "server error on an invalid request: no key",
        B,
        id="a server error on an invalid request",
    ),
    pytest.param(
        "invalid_request_is_rejected",
        interaction(ERROR_BODY, 403, expectation=REJECT_401),
        "",
        "HTTP 403",
        "HTTP 401: no key (https://help.aliyun.com/zh/model-studio/error-code)",
        "invalid request rejected with another status: no key",
        B,
        id="rejected with another status",
    ),
    pytest.param(
        "invalid_request_is_rejected",
        interaction(
            ERROR_BODY,
            403,
            expectation=dataclasses.replace(REJECT_401, statuses=frozenset({400, 404})),
        ),
        "",
        "HTTP 403",
        "HTTP 400 or 404: no key (https://help.aliyun.com/zh/model-studio/error-code)",
        "invalid request rejected with another status: no key",
        B,
        id="rejected with none of its statuses",
    ),
    pytest.param(
        "invalid_request_is_rejected",
        interaction({**ERROR_BODY, "code": "InvalidParameter"}, 401, expectation=REJECT_401),
        "/code",
        '"InvalidParameter"',
        "one of ['InvalidApiKey']: no key",
        "invalid request rejected with another code: no key",
        B,
        id="rejected with another code",
    ),
]


def reads(text: str, expected: str | tuple[str, ...]) -> bool:
    return text == expected if isinstance(expected, str) else all(p in text for p in expected)


@pytest.mark.parametrize(
    ("check", "broken", "pointer", "received", "documented", "title", "severity"), READS
)
def test_a_finding_says_where_what_was_received_and_what_is_documented(
    check: str,
    broken: Interaction,
    pointer: str,
    received: str,
    documented: str | tuple[str, ...],
    title: str | tuple[str, ...],
    severity: Severity,
) -> None:
    (violation,) = run_checks(broken, CONTRACTS, only=[check])
    assert (violation.check, violation.pointer) == (check, pointer)
    assert violation.received == received
    assert reads(violation.documented, documented), violation.documented
    assert reads(violation.title, title), violation.title
    assert violation.severity is severity
    assert violation.source == cite(*RULE_SOURCES[check])


def test_a_body_that_is_not_json_says_why_it_is_not() -> None:
    response = RecordedResponse.from_bytes(200, JSON, b'{"output": ')
    answer = dataclasses.replace(interaction(PASS_BODY), response=response)
    (violation,) = run_checks(answer, CONTRACTS)
    assert violation.check == "response_schema_conformance"
    assert violation.title == f"the body is not JSON ({response.not_json})"
    assert response.not_json and violation.received == '"{\\"output\\": "'


@pytest.mark.parametrize("length", [119, 120, 121, 200])
def test_a_title_stays_within_120_characters(length: int) -> None:
    """A schema error's message is the title as it is up to 120 characters, and is cut to 117
    with '...' beyond."""
    value = "x" * (length - len("'' is not of type 'boolean'"))
    message = f"{value!r} is not of type 'boolean'"
    assert len(message) == length
    (violation,) = run_checks(
        interaction(passed(check_pass=value)), CONTRACTS, only=["response_schema_conformance"]
    )
    if length <= 120:
        assert violation.title == message
    else:
        assert violation.title == message[:117] + "..."
        assert len(violation.title) == 120


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8; boundary=x",
        " Application/JSON ;charset=UTF-8",
    ],
)
def test_the_documented_media_type_with_any_parameters_is_json(content_type: str) -> None:
    answer = interaction(PASS_BODY, headers={"content-type": content_type})
    assert run_checks(answer, CONTRACTS, only=["response_content_type_is_json"]) == []


def test_a_request_id_header_naming_the_same_request_agrees() -> None:
    headers = {**JSON, "x-request-id": f" {PASS_BODY['request_id']} "}
    assert run_checks(interaction(PASS_BODY, headers=headers), CONTRACTS) == []


def test_a_box_may_reach_the_longest_side_an_image_may_have() -> None:
    """Coordinates run 0..7000 (endpoint.json /images max_side_px): 7000 is a box, 7001 is not."""
    edge = passed(ext_bbox=[0, 0, 7000, 7000], face_bbox=[3000, 3000, 4000, 4000])
    assert run_checks(interaction(edge), CONTRACTS) == []


# --- request failures and billing ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "billed"),
    [
        (
            399,
            {**BILLED_ERROR, "usage": {"image_count": 1}},
            False,
        ),  # not a 4xx: no request failure
        (400, {**BILLED_ERROR, "usage": {"image_count": 1}}, True),
        (401, {**ERROR_BODY, "usage": {"image_count": 1}}, True),
        (500, {"code": "InternalError", "message": "m", "request_id": "r", "usage": {}}, True),
        (
            400,
            {
                "code": "InvalidFile.NoHuman",
                "message": "m",
                "request_id": "r",
                "usage": {"image_count": 1},
            },
            False,
        ),
    ],
    ids=["399", "400", "401", "500 with an empty usage", "shape B (failure-billing)"],
)
def test_a_request_failure_carries_no_usage(status: int, body: Any, billed: bool) -> None:
    """Request failures (HTTP 4xx/5xx) are not billed (quick start); a failed portrait check in
    shape B is judged by its own open question, failure-billing, not by this rule."""
    violations = run_checks(
        interaction(body, status), CONTRACTS, only=["request_failure_is_not_billed"]
    )
    assert [v.title for v in violations] == (
        [f"HTTP {status} failure carries usage (billed?)"] if billed else []
    )


@pytest.mark.parametrize(
    ("status", "body", "reported"),
    [
        (200, ERROR_BODY, False),  # a 200 is no error: its top-level code is not an error code
        (399, ERROR_BODY, False),
        (400, {**BILLED_ERROR, "code": "InvalidParameter.Ratio"}, True),
        (401, {**ERROR_BODY, "code": 401}, False),  # not a string: the schema reports it
        (418, ERROR_BODY, False),  # an undocumented status: status_code_is_documented reports it
        (400, BILLED_ERROR, False),
    ],
)
def test_an_error_code_is_judged_under_a_documented_error_status(
    status: int, body: Any, reported: bool
) -> None:
    violations = run_checks(interaction(body, status), CONTRACTS, only=["error_code_is_documented"])
    assert len(violations) == int(reported), violations


# --- invalid requests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "title"),
    [
        (200, "invalid request accepted: parameters.ratio not in enum"),
        (204, "invalid request accepted: parameters.ratio not in enum"),
        (399, "invalid request accepted: parameters.ratio not in enum"),
        (400, None),
        (401, None),
        (499, None),
        (500, "server error on an invalid request: parameters.ratio not in enum"),
        (503, "server error on an invalid request: parameters.ratio not in enum"),
    ],
)
def test_an_invalid_request_gets_a_4xx_never_a_2xx_or_a_5xx(status: int, title: str | None) -> None:
    """A request the docs call invalid is answered with a 4xx error body; any 4xx will do when the
    expectation names no status (400 is the common rejection)."""
    body = PASS_BODY if status < 400 else {**BILLED_ERROR, "code": "InvalidParameter"}
    violations = run_checks(
        interaction(body, status, expectation=REJECT),
        CONTRACTS,
        only=["invalid_request_is_rejected"],
    )
    assert [v.title for v in violations] == ([] if title is None else [title])


def test_a_rejection_with_the_status_and_code_it_names_passes() -> None:
    answer = interaction(
        {**BILLED_ERROR, "code": "InvalidParameter"},
        400,
        expectation=dataclasses.replace(
            REJECT, statuses=frozenset({400}), codes=frozenset({"InvalidParameter"})
        ),
    )
    assert run_checks(answer, CONTRACTS) == []


def test_a_server_error_is_reported_even_where_the_docs_are_silent() -> None:
    """Never a 5xx, whatever the request: also on a rule the docs leave open."""
    (violation,) = run_checks(html(502, SILENT), CONTRACTS, only=["invalid_request_is_rejected"])
    assert violation.title == "server error on an invalid request: unknown field"
    assert violation.documented == "a 4xx error body (unknown field); never a server error"


# --- live cases: the expect of each case -------------------------------------------------------

PASSED = interaction(PASS_BODY)
FAILED_A = interaction(SHAPE_A)
FAILED_B = interaction({"code": "InvalidFile.NoHuman", "message": "m", "request_id": "r"}, 400)
REQUEST_ERROR = interaction(ERROR_BODY, 401)
WANTED = {
    "pass": "the portrait check passes",
    "fail": "the portrait check fails (shape A or B)",
    "any": "the portrait check passes or fails, not a request failure",
}


@pytest.mark.parametrize(
    ("expect", "answer", "met"),
    [
        ("pass", PASSED, True),
        ("pass", FAILED_A, False),
        ("pass", FAILED_B, False),
        ("pass", REQUEST_ERROR, False),
        ("fail", PASSED, False),
        ("fail", FAILED_A, True),
        ("fail", FAILED_B, True),
        ("fail", REQUEST_ERROR, False),
        ("any", PASSED, True),
        ("any", FAILED_A, True),
        ("any", FAILED_B, True),
        ("any", REQUEST_ERROR, False),
    ],
)
def test_a_live_case_meets_its_expect(expect: str, answer: Interaction, met: bool) -> None:
    """cases: expect 'pass', 'fail' (shape A or B) or 'any' (either, but no request failure)."""
    case = dataclasses.replace(CASE, expect=expect)
    context = CheckContext(load_contracts(), case=case)
    violations = run_checks(answer, context, only=["live_case_meets_its_expect"])
    if met:
        assert violations == []
        return
    (violation,) = violations
    assert violation.pointer == ("/output/check_pass" if answer.response.status == 200 else "")
    assert violation.received == classify(answer.response, load_contracts()).describe()
    assert violation.documented == f"expect {expect!r}: {WANTED[expect]}"
    assert violation.title == f"live case 'portrait' did not meet its expect {expect!r}"
    assert violation.source == "the live cases file, entry 'portrait'"


def test_a_live_case_finding_names_the_file_and_entry_of_the_case() -> None:
    context = CheckContext(load_contracts(), case=CASE, case_source="cases/nightly.json")
    (violation,) = run_checks(REQUEST_ERROR, context, only=["live_case_meets_its_expect"])
    assert violation.source == "cases/nightly.json, entry 'portrait'"


# --- schema errors as findings: alternatives, boolean subschemas, closed objects ---------------


def schema_errors(schema: dict[str, Any], instance: Any) -> list[Any]:
    return list(Draft202012Validator(schema).iter_errors(instance))


def one_finding(schema: dict[str, Any], instance: Any) -> Finding:
    """The findings of a schema's one error (checks._schema_findings): exactly one."""
    (error,) = schema_errors(schema, instance)
    (finding,) = checks._schema_findings(error)
    return finding


A_BOX_OR_NULL = {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 0}]}


@pytest.mark.parametrize("keyword", ["anyOf", "oneOf"])
def test_a_failed_alternative_is_reported_by_its_own_keyword_once(keyword: str) -> None:
    """_schema_findings descends into anyOf/oneOf to the cause: a keyword of one alternative,
    not the list of alternatives, in one finding."""
    schema = {"properties": {"count": {keyword: A_BOX_OR_NULL["anyOf"]}}}
    finding = one_finding(schema, {"count": -1})
    assert finding.pointer == "/count"
    assert finding.received == "-1"
    assert finding.documented.partition(":")[0] in {"type", "minimum"}, finding.documented


def test_a_value_valid_under_several_one_of_alternatives_is_reported_as_such() -> None:
    schema = {"properties": {"count": {"oneOf": [{"type": "integer"}, {"minimum": 0}]}}}
    finding = one_finding(schema, {"count": 3})
    assert finding.pointer == "/count"
    assert finding.documented == 'oneOf: [{"type": "integer"}, {"minimum": 0}]'
    assert "is valid under each of" in finding.title


@pytest.mark.parametrize(
    "box",
    [[302, 286, 610], [302.5, 286, 610, 593], [1, 2, 3, -4]],
    ids=["three", "float", "negative"],
)
def test_a_malformed_box_on_a_failed_check_is_reported_at_the_box_once(box: list[Any]) -> None:
    """Shape A: a box is null or a Box (anyOf); a malformed one is one finding, by a keyword of the
    alternatives, at the box or inside it; the boxes check reports it as well."""
    answer = interaction({**SHAPE_A, "output": {"check_pass": False, "face_bbox": box}})
    violations = run_checks(answer, CONTRACTS, only=["response_schema_conformance"])
    (violation,) = violations
    assert violation.pointer.startswith("/output/face_bbox")
    assert not violation.documented.startswith("anyOf"), violation.documented
    (error,) = load_contracts().validator("check_failed").iter_errors(answer.response.body)
    assert len(list(checks._schema_findings(error))) == 1


def test_a_field_a_boolean_schema_forbids_is_reported_without_a_description() -> None:
    # jsonschema 4.26 gives a boolean subschema's error no path, so the pointer is not asserted
    finding = one_finding({"properties": {"trace": False}}, {"trace": 1})
    assert finding.received == "1"
    assert finding.title == "False schema does not allow 1"
    assert "(" not in finding.documented  # a boolean schema has no description to add


def test_a_closed_object_with_no_documented_fields_lists_none() -> None:
    finding = one_finding({"type": "object", "additionalProperties": False}, {"trace": 1})
    assert finding.pointer == "/trace"
    assert finding.documented == "no field 'trace' here; documented fields: []"
    assert finding.severity is Severity.ADDITIVE


# --- contracts as the docs could also write them ---------------------------------------------


@pytest.fixture(scope="module")
def variant_contracts(tmp_path_factory: pytest.TempPathFactory) -> Contracts:
    """The project's contracts with two changes the docs allow: the error-code page lists one quota
    code under both 400 and 429 (docs/endpoint.md, Request failures), and the pass contract
    states check_pass's const before its type."""
    directory = tmp_path_factory.mktemp("contracts") / "face-detect"
    shutil.copytree(CONTRACT_DIR, directory)
    errors_file = directory / "errors.json"
    table = json.loads(errors_file.read_text(encoding="utf-8"))
    (quota,) = [row for row in table["errors"] if row["code"] == "Throttling.AllocationQuota"]
    table["errors"].append({**quota, "status": 400, "kind": "account", "retryable": False})
    errors_file.write_text(json.dumps(table), encoding="utf-8")
    passed_file = directory / "response-check-passed.schema.json"
    schema = json.loads(passed_file.read_text(encoding="utf-8"))
    schema["properties"]["output"]["properties"]["check_pass"] = {"const": True, "type": "boolean"}
    passed_file.write_text(json.dumps(schema), encoding="utf-8")
    return Contracts(directory)


def test_a_code_documented_under_two_statuses_names_both(variant_contracts: Contracts) -> None:
    answer = interaction({**ERROR_BODY, "code": "Throttling.AllocationQuota"}, 403)
    (violation,) = run_checks(
        answer, CheckContext(variant_contracts), only=["error_code_is_documented"]
    )
    assert violation.documented == "'Throttling.AllocationQuota' is documented under HTTP 400, 429"
    assert violation.severity is Severity.BREAKING
    assert (
        run_checks(
            dataclasses.replace(answer, response=dataclasses.replace(answer.response, status=400)),
            CheckContext(variant_contracts),
            only=["error_code_is_documented"],
        )
        == []
    )


def test_a_wrong_type_is_reported_as_the_type_whatever_order_the_contract_uses(
    variant_contracts: Contracts,
) -> None:
    """One finding per place: a wrong type explains the failed const at the same spot."""
    answer = interaction(passed(check_pass="yes"))
    (violation,) = run_checks(
        answer, CheckContext(variant_contracts), only=["response_schema_conformance"]
    )
    assert violation.pointer == "/output/check_pass"
    assert violation.documented == 'type: "boolean"'
