"""The registry (``checks/registry.py``): one ``Check`` type and one decorator for a check of one
answer and a check of a whole run, and an order of registration that is the order checks run in,
whoever imports the check modules first."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from facedetect_contract import checks
from facedetect_contract.checks import (
    CHECKS,
    RUN_CHECKS,
    Check,
    CheckContext,
    Finding,
    RunCheck,
    RunContext,
    check,
    run_check,
    run_checks,
    run_run_checks,
)
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.contracts.outcome import classify
from facedetect_contract.core.interaction import Interaction, RecordedRequest, RecordedResponse
from facedetect_contract.core.violations import Severity, Violation

CONTRACTS = load_contracts()
JSON = {"content-type": "application/json"}

# The order checks run in, and so the order of a report's findings and of a violation list.
ANSWER_CHECKS = [
    "response_schema_conformance",
    "status_code_is_documented",
    "response_content_type_is_json",
    "request_id_is_non_empty_string",
    "request_id_header_matches_body",
    "boxes_are_ordered_integers",
    "face_bbox_inside_ext_bbox",
    "ext_bbox_matches_ratio",
    "check_pass_true_has_both_boxes",
    "usage_image_count_is_one",
    "request_failure_is_not_billed",
    "error_code_is_documented",
    "invalid_request_is_rejected",
    "live_case_meets_its_expect",
    "behaviour_matches_recording",
]
RUN_CHECKS_IN_ORDER = [
    "same_image_same_face_box",
    "every_crop_of_an_image_contains_its_face",
    "request_id_is_unique_in_the_run",
    "repeated_case_gives_the_same_answer",
]


def answer(body: object, status: int = 200, name: str = "an-answer") -> Interaction:
    request = {"model": "emo-detect-v1", "input": {"image_url": "https://example.com/a.png"}}
    return Interaction(
        name=name,
        request=RecordedRequest("POST", JSON, request),
        response=RecordedResponse(status, JSON, body),
    )


def test_the_checks_are_registered_in_the_order_they_run_in() -> None:
    assert list(CHECKS) == ANSWER_CHECKS
    assert list(RUN_CHECKS) == RUN_CHECKS_IN_ORDER


def test_the_order_of_registration_does_not_depend_on_which_check_module_is_imported_first() -> (
    None
):
    """A fresh interpreter that imports the last check module first registers the same order:
    importing any module of the package runs the package's own imports, in their order."""
    program = (
        "import facedetect_contract.checks.consistency, facedetect_contract.checks.behaviour\n"
        "from facedetect_contract.checks import CHECKS, RUN_CHECKS\n"
        "print(' '.join(CHECKS)); print(' '.join(RUN_CHECKS))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60
    )
    assert ran.stdout.splitlines() == [" ".join(ANSWER_CHECKS), " ".join(RUN_CHECKS_IN_ORDER)]


def test_the_violations_of_an_answer_come_in_the_order_of_the_registry() -> None:
    """An error body under an undocumented status, without a request id or a JSON media type,
    breaks four checks: their violations come in registration order, not by pointer or name."""
    broken = Interaction(
        name="broken",
        request=RecordedRequest("POST", JSON, {}),
        response=RecordedResponse(418, {"content-type": "text/plain"}, {"code": "x"}),
    )
    found = [v.check for v in run_checks(broken, CONTRACTS)]
    assert len(set(found)) == 4
    assert found == sorted(found, key=ANSWER_CHECKS.index)


def test_one_check_type_serves_both_scopes() -> None:
    """Every registered check, of one answer or of a run, is a ``Check`` that says its scope; a
    run check is given every answer, so it needs no JSON body."""
    assert RunCheck is Check
    assert {type(registered) for registered in [*CHECKS.values(), *RUN_CHECKS.values()]} == {Check}
    assert {registered.scope for registered in CHECKS.values()} == {"answer"}
    assert {registered.scope for registered in RUN_CHECKS.values()} == {"run"}
    assert not any(registered.needs_json for registered in RUN_CHECKS.values())
    assert Check("a_check", lambda i, c: [], ("emo-detect-api",)).scope == "answer"


def test_a_run_check_registers_through_the_same_decorator(registry: None) -> None:
    """``check(scope="run")`` and ``run_check`` are one path: a run check lands among the run
    checks only, with no need of a JSON body even if asked for one, and is handed back."""

    def the_run_is_judged(context: RunContext) -> Iterator[Finding]:
        yield Finding("", f"{len(context.answers)} answers", "answers", "a run finding")

    def the_run_is_judged_again(context: RunContext) -> Iterator[Finding]:
        yield from the_run_is_judged(context)

    registered = check(sources=("emo-detect-api",), scope="run")(the_run_is_judged)
    assert registered is the_run_is_judged
    assert run_check(sources=("emo-detect-api",))(the_run_is_judged_again) is (
        the_run_is_judged_again
    )
    assert "the_run_is_judged" not in CHECKS
    assert RUN_CHECKS["the_run_is_judged"] == Check(
        "the_run_is_judged", the_run_is_judged, ("emo-detect-api",), False, "run"
    )
    again = RUN_CHECKS["the_run_is_judged_again"]
    assert (again.sources, again.needs_json, again.scope) == (("emo-detect-api",), False, "run")
    check_any = check(sources=("emo-detect-api",), needs_json=True, scope="run")  # type: ignore[call-overload]

    def the_run_needs_no_json(context: RunContext) -> Iterator[Finding]:
        yield from ()

    check_any(the_run_needs_no_json)
    assert RUN_CHECKS["the_run_needs_no_json"].needs_json is False
    (violation,) = run_run_checks(RunContext(CONTRACTS), only=["the_run_is_judged"])
    assert violation.interaction == "(the run)"
    assert violation.received == "0 answers"


def test_an_answer_check_and_a_run_check_turn_findings_into_violations_alike() -> None:
    """The one ``Check`` attributes a finding to the answer it judged, or to the run, unless the
    finding names its own interaction; the finding's source wins over the rule's."""

    def one_finding(*_arguments: object) -> Iterator[Finding]:
        yield Finding("/a", "got", "want", "title", severity=Severity.ADDITIVE)
        yield Finding("/b", "got", "want", "title", source="elsewhere", interaction="named")

    on_answer = Check("claim", one_finding, ("error-code",))
    on_run = Check("claim", one_finding, ("error-code",), False, "run")
    cited = str(CONTRACTS.profile.source("error-code"))
    expected = [
        Violation("claim", "an-answer", "/a", "got", "want", Severity.ADDITIVE, cited, "title"),
        Violation("claim", "named", "/b", "got", "want", Severity.BREAKING, "elsewhere", "title"),
    ]
    assert on_answer(answer({}), CheckContext(CONTRACTS)) == expected
    run_level = on_run(RunContext(CONTRACTS))
    assert [v.interaction for v in run_level] == ["(the run)", "named"]
    assert run_level[1:] == expected[1:]


def test_a_context_gives_the_outcome_run_checks_put_there_or_classifies_the_answer() -> None:
    passed = answer(
        {
            "output": {"check_pass": True, "face_bbox": [1, 1, 2, 2], "ext_bbox": [0, 0, 3, 3]},
            "request_id": "r",
        }
    )
    refused = answer({"code": "InvalidApiKey", "message": "m", "request_id": "r"}, 401)
    mine = classify(refused.response, CONTRACTS)
    assert CheckContext(CONTRACTS, outcome=mine).outcome_of(passed) is mine
    assert CheckContext(CONTRACTS).outcome_of(passed) == classify(passed.response, CONTRACTS)


@pytest.mark.parametrize("name", [*ANSWER_CHECKS, *RUN_CHECKS_IN_ORDER])
def test_every_check_stays_importable_from_the_package(name: str) -> None:
    """The modules moved; ``facedetect_contract.checks.<check>`` still names each function."""
    registered = {**CHECKS, **RUN_CHECKS}[name]
    assert getattr(checks, name) is registered.function
