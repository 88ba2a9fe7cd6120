"""The checks across a run's answers (``run_check``: the same image gives the same face box, every
crop contains its face, request ids are unique, a repeated case answers the same) and the check
against a recording (``behaviour_matches_recording``), each shown failing on answers that break
its documented rule."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from facedetect_contract import checks
from facedetect_contract.checks import (
    CHECKS,
    RUN_CHECKS,
    CheckContext,
    Finding,
    RunContext,
    run_check,
    run_checks,
    run_run_checks,
)
from facedetect_contract.contracts.cases import LiveCase
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.contracts.outcome import Outcome, classify
from facedetect_contract.core.interaction import Interaction, RecordedRequest, RecordedResponse
from facedetect_contract.core.violations import Severity, Violation
from tests.helpers.bodies import DOCUMENTED_CROP, DOCUMENTED_FACE

CONTRACTS = load_contracts()
EMO_DETECT_API = str(CONTRACTS.profile.source("emo-detect-api"))
IMAGE = "https://example.com/portrait.png"
OTHER_IMAGE = "https://example.com/another-portrait.png"
JSON = {"content-type": "application/json"}

# The documented example's boxes (docs/endpoint.md, "Check passed"; endpoint.json's example
# image), as JSON arrays, and a 3:4 crop of the same image that holds the same face.
FACE = list(DOCUMENTED_FACE)
CROP_1_1 = list(DOCUMENTED_CROP)
CROP_3_4 = [150, 0, 750, 800]
MOVED_FACE = [402, 286, 710, 593]  # 100 px to the right: IoU 0.51 with FACE
MOVED_CROP = [171, 9, 940, 778]  # 100 px to the right: IoU 0.77 with CROP_1_1

HEAD = LiveCase("head", IMAGE, "1:1", "pass")
HALF_BODY = LiveCase("half body", IMAGE, "3:4", "pass")
OTHER = LiveCase("someone else", OTHER_IMAGE, "3:4", "pass")


def passed(face: list[int], crop: list[int], request_id: str = "") -> dict[str, Any]:
    return {
        "output": {"check_pass": True, "face_bbox": face, "ext_bbox": crop},
        "usage": {"image_count": 1},
        "request_id": request_id or f"id-{face}-{crop}",
    }


def failed_a(request_id: str = "failed-a") -> dict[str, Any]:
    return {
        "output": {"check_pass": False, "code": "", "message": ""},
        "usage": {"image_count": 1},
        "request_id": request_id,
    }


def error_body(code: str, request_id: str) -> dict[str, Any]:
    return {"code": code, "message": "m", "request_id": request_id}


def answer(
    name: str,
    body: Any,
    status: int = 200,
    *,
    image: str = IMAGE,
    ratio: str = "1:1",
    provenance: dict[str, str] | None = None,
) -> Interaction:
    request = {
        "model": "emo-detect-v1",
        "input": {"image_url": image},
        "parameters": {"ratio": ratio},
    }
    return Interaction(
        name=name,
        request=RecordedRequest("POST", JSON, request),
        response=RecordedResponse(status, JSON, body, not isinstance(body, str)),
        provenance=provenance or {},
    )


def run(
    *answers: tuple[Interaction, LiveCase | None],
    only: str,
    repeated: dict[str, str] | None = None,
    outcomes: dict[str, Outcome] | None = None,
) -> list[Violation]:
    context = RunContext(CONTRACTS, answers=answers, outcomes=outcomes or {})
    if repeated is not None:
        context = dataclasses.replace(context, repeated=repeated)
    return run_run_checks(context, only=[only])


def outcome_of(body: Any, status: int = 200) -> Outcome:
    return classify(RecordedResponse(status, JSON, body), CONTRACTS)


def the_one_finding(violations: list[Violation], **fields: object) -> Violation:
    """The single finding in ``violations``, each of ``fields`` as given."""
    assert len(violations) == 1, violations
    (violation,) = violations
    assert {name: getattr(violation, name) for name in fields} == fields
    return violation


def assert_source_is_the_api_reference(violation: Violation) -> None:
    assert violation.source == EMO_DETECT_API
    assert violation.source.startswith("https://help.aliyun.com/zh/model-studio/emo-detect-api")


# --- the registry of run checks -------------------------------------------------------------------

RUN_CHECK_NAMES = [
    "same_image_same_face_box",
    "every_crop_of_an_image_contains_its_face",
    "request_id_is_unique_in_the_run",
    "repeated_case_gives_the_same_answer",
]


def test_each_run_check_is_registered_under_the_name_of_its_claim_with_its_doc() -> None:
    assert list(RUN_CHECKS) == RUN_CHECK_NAMES
    for name, registered in RUN_CHECKS.items():
        assert registered.name == name
        assert registered.function is getattr(checks, name)  # the decorator keeps the function
        assert callable(registered.function)
        assert registered.sources == ("shape",)  # the page stating the answer's shape
        assert registered.source_ids(CONTRACTS) == ("emo-detect-api",)


def test_the_run_context_and_the_registered_checks_are_read_only() -> None:
    context = RunContext(CONTRACTS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.answers = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        RUN_CHECKS["same_image_same_face_box"].name = "renamed"  # type: ignore[misc]


def test_an_empty_run_has_no_answers_outcomes_or_repeats_and_no_findings() -> None:
    context = RunContext(CONTRACTS)
    assert (context.answers, context.outcomes, context.repeated) == ((), {}, {})
    assert run_run_checks(context) == []
    for registered in RUN_CHECKS.values():
        assert registered(context) == []


def test_a_run_check_finding_names_its_check_its_interaction_and_its_rules_source(
    registry: None,
) -> None:
    def the_run_got_answers(context: RunContext) -> Iterator[Finding]:
        if not context.answers:
            yield Finding("", "no answers", "at least one answer", "the run got no answer")
        yield Finding(
            "/request_id",
            "received",
            "documented",
            "about one answer",
            severity=Severity.ADDITIVE,
            source="cases.json, entry 'head'",
            interaction="live-head",
        )

    assert run_check(sources=("error-code", "emo-quick-start"))(the_run_got_answers) is (
        the_run_got_answers
    )
    violations = run_run_checks(RunContext(CONTRACTS), only=["the_run_got_answers"])
    cited = "; ".join(
        str(CONTRACTS.profile.source(source)) for source in ("error-code", "emo-quick-start")
    )
    assert violations == [
        Violation(
            check="the_run_got_answers",
            interaction="(the run)",  # a finding about the whole run, not one answer
            pointer="",
            received="no answers",
            documented="at least one answer",
            severity=Severity.BREAKING,
            source=cited,
            title="the run got no answer",
        ),
        Violation(
            check="the_run_got_answers",
            interaction="live-head",
            pointer="/request_id",
            received="received",
            documented="documented",
            severity=Severity.ADDITIVE,
            source="cases.json, entry 'head'",  # the finding's own source wins
            title="about one answer",
        ),
    ]


@pytest.mark.parametrize(
    "taken", ["same_image_same_face_box", "response_schema_conformance"], ids=["run", "response"]
)
def test_a_check_name_is_registered_once_across_both_registries(registry: None, taken: str) -> None:
    before = dict(RUN_CHECKS), dict(CHECKS)

    def claim(context: RunContext) -> Iterator[Finding]:
        yield from ()

    claim.__name__ = taken
    with pytest.raises(ValueError, match=f"check '{taken}' is registered twice"):
        run_check(sources=("emo-detect-api",))(claim)
    assert (dict(RUN_CHECKS), dict(CHECKS)) == before


def test_only_runs_the_named_run_checks_and_knows_every_registered_name() -> None:
    twice = answer("live-head-again", passed(FACE, CROP_1_1, "same-id"))
    first = answer("live-head", passed(MOVED_FACE, CROP_1_1, "same-id"))
    context = RunContext(CONTRACTS, answers=[(first, HEAD), (twice, HEAD)])
    everything = run_run_checks(context)
    assert sorted({v.check for v in everything}) == [
        "request_id_is_unique_in_the_run",
        "same_image_same_face_box",
    ]
    only_ids = run_run_checks(context, only=["request_id_is_unique_in_the_run"])
    assert [v.check for v in only_ids] == ["request_id_is_unique_in_the_run"]
    # One `only` serves both kinds: a per-response check's name is known, and runs no run check.
    assert run_run_checks(context, only=["response_schema_conformance"]) == []
    with pytest.raises(KeyError, match="registered") as raised:
        run_run_checks(context, only=["no_such_check"])
    assert "no_such_check" in str(raised.value)


def test_without_outcomes_run_run_checks_classifies_each_answer_itself() -> None:
    first = answer("live-head", passed(FACE, CROP_1_1))
    moved = answer("live-half-body", passed(MOVED_FACE, CROP_3_4), ratio="3:4")
    context = RunContext(CONTRACTS, answers=[(first, HEAD), (moved, HALF_BODY)])
    assert context.outcomes == {}
    violations = run_run_checks(context, only=["same_image_same_face_box"])
    assert [(v.check, v.interaction) for v in violations] == [
        ("same_image_same_face_box", "live-half-body")
    ]


def test_the_outcomes_a_run_gives_are_the_ones_judged() -> None:
    """The live run passes the outcome it judged; the run checks read that, not a new guess."""
    first = answer("live-head", passed(FACE, CROP_1_1))
    moved = answer("live-half-body", passed(MOVED_FACE, CROP_3_4), ratio="3:4")
    judged = {
        "live-head": outcome_of(first.response.body),
        "live-half-body": outcome_of(failed_a()),
    }
    # The run judged the second answer a failure: it is no face box to compare.
    assert (
        run((first, HEAD), (moved, HALF_BODY), only="same_image_same_face_box", outcomes=judged)
        == []
    )


# --- the same image gives the same face box at both ratios ----------------------------------------


def test_the_same_image_at_both_ratios_with_the_same_face_box_is_silent() -> None:
    context = RunContext(
        CONTRACTS,
        answers=[
            (answer("live-head", passed(FACE, CROP_1_1)), HEAD),
            (answer("live-half-body", passed(FACE, CROP_3_4), ratio="3:4"), HALF_BODY),
        ],
    )
    assert run_run_checks(context) == []


def test_a_face_box_that_moves_with_the_ratio_is_additive_drift_on_the_second_answer() -> None:
    violations = run(
        (answer("live-head", passed(FACE, CROP_1_1)), HEAD),
        (answer("live-half-body", passed(MOVED_FACE, CROP_3_4), ratio="3:4"), HALF_BODY),
        only="same_image_same_face_box",
    )
    violation = the_one_finding(
        violations,
        check="same_image_same_face_box",
        interaction="live-half-body",
        pointer="/output/face_bbox",
        severity=Severity.ADDITIVE,
        received="[402, 286, 710, 593] (IoU 0.51 with [302, 286, 610, 593] of live-head)",
        documented="one face, one box: IoU >= 0.9 across ratios",
        title="face_bbox of the same image moved with the ratio",
    )
    assert_source_is_the_api_reference(violation)


def test_every_later_answer_is_compared_with_the_first_answer_for_that_image() -> None:
    violations = run(
        (answer("live-a", passed(FACE, CROP_1_1)), HEAD),
        (answer("live-b", passed(MOVED_FACE, CROP_3_4), ratio="3:4"), HALF_BODY),
        (answer("live-c", passed(FACE, CROP_1_1)), HEAD),
        (answer("live-d", passed(MOVED_FACE, CROP_1_1)), HEAD),
        only="same_image_same_face_box",
    )
    # c has a's face (not b's): it is not drift; b and d moved, both against a.
    assert [v.interaction for v in violations] == ["live-b", "live-d"]
    assert all(v.received.endswith("of live-a)") for v in violations)


def test_the_face_box_is_compared_within_an_image_never_across_images() -> None:
    assert (
        run(
            (answer("live-head", passed(FACE, CROP_1_1)), HEAD),
            (
                answer("live-other", passed(MOVED_FACE, CROP_3_4), image=OTHER_IMAGE, ratio="3:4"),
                OTHER,
            ),
            only="same_image_same_face_box",
        )
        == []
    )


@pytest.mark.parametrize(
    ("second", "status", "case"),
    [
        (passed(MOVED_FACE, CROP_3_4), 200, None),  # a probe: no case, no image to group by
        (failed_a(), 200, HALF_BODY),  # failure shape A: no face box
        (error_body("InvalidFile.NoHuman", "b"), 400, HALF_BODY),  # failure shape B
        (error_body("InvalidParameter", "e"), 400, HALF_BODY),  # a request failure
        ({"output": {"check_pass": True}, "request_id": "u"}, 200, HALF_BODY),  # unexplained
    ],
    ids=["probe", "shape-a", "shape-b", "request-error", "pass-without-boxes"],
)
def test_only_passed_answers_to_live_cases_are_compared(
    second: Any, status: int, case: LiveCase | None
) -> None:
    answers = [
        (answer("live-head", passed(FACE, CROP_1_1)), HEAD),
        (answer("live-second", second, status, ratio="3:4"), case),
    ]
    for name in ("same_image_same_face_box", "every_crop_of_an_image_contains_its_face"):
        assert run(*answers, only=name) == []


def test_a_single_answer_is_compared_with_nothing() -> None:
    only_one = (answer("live-head", passed(FACE, [400, 400, 800, 800])), HEAD)  # face outside
    assert run_run_checks(RunContext(CONTRACTS, answers=[only_one])) == []


@pytest.mark.parametrize(
    ("second_face", "drift"),
    [
        ([300, 300, 400, 390], False),  # IoU 9000 / 10000 = 0.9: at the threshold, the same face
        ([300, 300, 400, 389], True),  # IoU 0.89
    ],
    ids=["iou-0.90", "iou-0.89"],
)
def test_the_face_box_may_move_until_its_iou_falls_below_the_threshold(
    second_face: list[int], drift: bool
) -> None:
    crop = [200, 200, 500, 500]
    violations = run(
        (answer("live-head", passed([300, 300, 400, 400], crop)), HEAD),
        (answer("live-half-body", passed(second_face, crop), ratio="3:4"), HALF_BODY),
        only="same_image_same_face_box",
    )
    assert [v.interaction for v in violations] == (["live-half-body"] if drift else [])
    if drift:
        assert "(IoU 0.89 with " in violations[0].received


def test_a_passed_outcome_without_a_face_box_is_skipped_not_a_crash() -> None:
    """The run gives the outcomes; one that says passed but lacks a box compares nothing."""
    first = answer("live-head", passed(FACE, CROP_1_1))
    second = answer("live-half-body", passed(MOVED_FACE, CROP_3_4), ratio="3:4")
    third = answer("live-third", passed(MOVED_FACE, CROP_1_1))
    good = outcome_of(first.response.body)
    boxless = dataclasses.replace(good, face_box=None)
    for outcomes, flagged in (
        ({"live-head": boxless, "live-half-body": outcome_of(second.response.body)}, []),
        (
            {
                "live-head": good,
                "live-half-body": boxless,
                "live-third": outcome_of(third.response.body),
            },
            ["live-third"],
        ),
    ):
        violations = run(
            (first, HEAD),
            (second, HALF_BODY),
            (third, HEAD),
            only="same_image_same_face_box",
            outcomes=outcomes,
        )
        assert [v.interaction for v in violations] == flagged


def test_property_a_square_face_shifted_by_dx_px_has_moved_iff_dx_is_6_or_more() -> None:
    """The IoU of a 100 px square face and its shift by dx px is (100 - dx) / (100 + dx): below
    0.9 from 6 px on, wherever the face is in the image."""
    seen = {"moved": 0, "the same face": 0}

    @given(dx=st.integers(min_value=0, max_value=100), x=st.integers(min_value=0, max_value=5000))
    def shift(dx: int, x: int) -> None:
        face, crop = [x + 100, 200, x + 200, 300], [x, 100, x + 400, 500]
        shifted = [x + 100 + dx, 200, x + 200 + dx, 300]
        violations = run(
            (answer("live-head", passed(face, crop)), HEAD),
            (answer("live-half-body", passed(shifted, crop), ratio="3:4"), HALF_BODY),
            only="same_image_same_face_box",
        )
        moved = dx >= 6
        event("moved" if moved else "the same face")
        seen["moved" if moved else "the same face"] += 1
        assert [v.interaction for v in violations] == (["live-half-body"] if moved else [])

    shift()
    assert seen["moved"] >= 20 and seen["the same face"] >= 3, seen


# --- every crop of an image contains the face every answer for it found --------------------------


def test_a_crop_that_leaves_out_the_face_another_answer_found_is_additive() -> None:
    own_face = [310, 290, 600, 590]  # inside its own crop
    crop = [305, 0, 905, 800]  # 3:4, cuts 3 px off the left of the 1:1 answer's face
    violations = run(
        (answer("live-head", passed(FACE, CROP_1_1)), HEAD),
        (answer("live-half-body", passed(own_face, crop), ratio="3:4"), HALF_BODY),
        only="every_crop_of_an_image_contains_its_face",
    )
    violation = the_one_finding(
        violations,
        check="every_crop_of_an_image_contains_its_face",
        interaction="live-half-body",
        pointer="/output/ext_bbox",
        severity=Severity.ADDITIVE,
        received="ext_bbox [305, 0, 905, 800], face_bbox [302, 286, 610, 593] of live-head",
        documented="every ext_bbox of an image contains its face",
        title="ext_bbox leaves out the face another answer found",
    )
    assert_source_is_the_api_reference(violation)


def test_a_crop_whose_edge_touches_another_answers_face_contains_it() -> None:
    touching = [302, 0, 902, 800]  # x1 is the face's x1
    assert (
        run(
            (answer("live-head", passed(FACE, CROP_1_1)), HEAD),
            (answer("live-half-body", passed(FACE, touching), ratio="3:4"), HALF_BODY),
            only="every_crop_of_an_image_contains_its_face",
        )
        == []
    )


def test_every_crop_is_checked_against_every_other_answers_face() -> None:
    small = [0, 0, 300, 400]  # 3:4, holds its own face only
    violations = run(
        (answer("live-a", passed(FACE, small)), HEAD),  # a's own face is outside: not this rule
        (answer("live-b", passed([100, 100, 200, 200], CROP_1_1)), HEAD),
        (answer("live-c", passed([80, 20, 180, 120], small), ratio="3:4"), HALF_BODY),
        (answer("live-d", passed(MOVED_FACE, CROP_1_1), image=OTHER_IMAGE), OTHER),
        only="every_crop_of_an_image_contains_its_face",
    )
    found = [(v.interaction, v.received.rsplit(" of ", 1)[1]) for v in violations]
    # a's crop holds b's and c's faces; b's crop leaves out nothing (a's face is inside it);
    # c's crop leaves out a's face. d is another image.
    assert found == [("live-c", "live-a")]


def test_each_answers_crop_is_held_to_the_faces_of_the_answers_before_and_after_it() -> None:
    small = [0, 0, 300, 400]
    violations = run(
        (answer("live-a", passed([80, 20, 180, 120], small)), HEAD),
        (answer("live-b", passed([150, 150, 250, 250], small)), HEAD),
        (answer("live-c", passed(FACE, CROP_1_1), ratio="3:4"), HALF_BODY),
        only="every_crop_of_an_image_contains_its_face",
    )
    assert [(v.interaction, v.received.rsplit(" of ", 1)[1]) for v in violations] == [
        ("live-a", "live-c"),
        ("live-b", "live-c"),
    ]


def test_an_answers_own_face_outside_its_crop_is_left_to_the_per_answer_check() -> None:
    """face_bbox_inside_ext_bbox reports it, once; this rule is about the other answers' faces."""
    outside = (answer("live-head", passed(FACE, [0, 0, 300, 300])), HEAD)
    holds_both = (answer("live-b", passed([10, 10, 110, 110], [0, 0, 700, 700])), HEAD)
    assert run(outside, only="every_crop_of_an_image_contains_its_face") == []
    assert run(outside, holds_both, only="every_crop_of_an_image_contains_its_face") == []


def test_a_passed_outcome_without_a_box_contributes_no_face_and_no_crop() -> None:
    first = answer("live-a", passed(FACE, CROP_1_1))
    second = answer("live-b", passed([80, 20, 180, 120], [0, 0, 300, 400]))
    good_first, good_second = outcome_of(first.response.body), outcome_of(second.response.body)
    cases = [
        ({"live-a": good_first, "live-b": good_second}, ["live-b"]),  # b's crop leaves a's face
        ({"live-a": dataclasses.replace(good_first, face_box=None), "live-b": good_second}, []),
        ({"live-a": good_first, "live-b": dataclasses.replace(good_second, crop_box=None)}, []),
    ]
    for outcomes, flagged in cases:
        violations = run(
            (first, HEAD),
            (second, HEAD),
            only="every_crop_of_an_image_contains_its_face",
            outcomes=outcomes,
        )
        assert [v.interaction for v in violations] == flagged


# --- the request id is unique in the run ----------------------------------------------------------


def test_distinct_request_ids_across_cases_probes_and_errors_are_silent() -> None:
    assert (
        run(
            (answer("live-head", passed(FACE, CROP_1_1, "id-1")), HEAD),
            (answer("live-no-key", error_body("InvalidApiKey", "id-2"), 401), None),
            (answer("live-no-human", error_body("InvalidFile.NoHuman", "id-3"), 400), HEAD),
            only="request_id_is_unique_in_the_run",
        )
        == []
    )


def test_an_answer_repeating_another_answers_request_id_is_breaking() -> None:
    violations = run(
        (answer("live-head", passed(FACE, CROP_1_1, "c56f62df")), HEAD),
        (answer("live-no-key", error_body("InvalidApiKey", "c56f62df"), 401), None),
        (answer("live-bad-ratio", error_body("InvalidParameter", "c56f62df"), 400), None),
        only="request_id_is_unique_in_the_run",
    )
    assert [v.interaction for v in violations] == ["live-no-key", "live-bad-ratio"]
    for violation in violations:
        assert violation.check == "request_id_is_unique_in_the_run"
        assert violation.pointer == "/request_id"
        assert violation.severity is Severity.BREAKING
        assert violation.received == '"c56f62df", as live-head had'  # always the first holder
        assert violation.documented == "the unique id of the request: one per answer"
        assert violation.title == "request_id repeats another answer's"
        assert_source_is_the_api_reference(violation)


@pytest.mark.parametrize(
    "missing",
    [None, "", 7, ["id"]],
    ids=["absent", "empty", "a-number", "a-list"],
)
def test_a_missing_or_malformed_request_id_is_left_to_its_own_check(missing: Any) -> None:
    def body() -> dict[str, Any]:
        found = error_body("InvalidApiKey", "x")
        if missing is None:
            del found["request_id"]
        else:
            found["request_id"] = missing
        return found

    violations = run(
        (answer("live-a", body(), 401), None),
        (answer("live-b", body(), 401), None),
        (answer("live-c", "<html>busy</html>", 502), None),  # not JSON: no id at all
        (answer("live-d", "<html>busy</html>", 502), None),
        # later answers are still checked
        (answer("live-e", error_body("InvalidApiKey", "dup"), 401), None),
        (answer("live-f", error_body("InvalidApiKey", "dup"), 401), None),
        only="request_id_is_unique_in_the_run",
    )
    assert [(v.interaction, v.received) for v in violations] == [("live-f", '"dup", as live-e had')]


def test_property_each_answer_whose_request_id_came_before_is_one_finding() -> None:
    """Each answer carrying an id an earlier answer carried is one finding naming the first."""
    seen = {"a repeated id": 0, "all ids unique": 0}

    @given(ids=st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f"]), min_size=1, max_size=8))
    def ids_of_a_run(ids: list[str]) -> None:
        answers = [
            (answer(f"live-{i}", error_body("InvalidApiKey", request_id), 401), None)
            for i, request_id in enumerate(ids)
        ]
        violations = run(*answers, only="request_id_is_unique_in_the_run")
        expected = [
            (f"live-{i}", f'"{request_id}", as live-{ids.index(request_id)} had')
            for i, request_id in enumerate(ids)
            if ids.index(request_id) < i
        ]
        kind = "a repeated id" if expected else "all ids unique"
        event(kind)
        seen[kind] += 1
        assert [(v.interaction, v.received) for v in violations] == expected

    ids_of_a_run()
    assert seen["a repeated id"] >= 20 and seen["all ids unique"] >= 20, seen


# --- a repeated case gives the same answer --------------------------------------------------------


def repeat(
    first_body: Any, again_body: Any, first_status: int = 200, again_status: int = 200
) -> list[Violation]:
    return run(
        (answer("live-head", first_body, first_status), HEAD),
        (answer("live-head-again", again_body, again_status), HEAD),
        only="repeated_case_gives_the_same_answer",
        repeated={"live-head-again": "live-head"},
    )


@pytest.mark.parametrize(
    ("first", "again", "status"),
    [
        (passed(FACE, CROP_1_1, "1"), passed(FACE, CROP_1_1, "2"), 200),
        (passed(FACE, CROP_1_1, "1"), passed([302, 286, 610, 594], [71, 9, 840, 779], "2"), 200),
        (failed_a("1"), failed_a("2"), 200),
        (error_body("InvalidFile.NoHuman", "1"), error_body("InvalidFile.NoHuman", "2"), 400),
        (error_body("InvalidParameter", "1"), error_body("InvalidParameter", "2"), 400),
    ],
    ids=["same-pass", "pass-1px-off", "failed-twice-a", "failed-twice-b", "error-twice"],
)
def test_a_case_asked_twice_with_the_same_answer_is_silent(
    first: Any, again: Any, status: int
) -> None:
    assert repeat(first, again, status, status) == []


@pytest.mark.parametrize(
    ("first", "first_status", "again", "again_status", "received", "documented"),
    [
        (
            passed(FACE, CROP_1_1, "1"),
            200,
            failed_a("2"),
            200,
            "the portrait check failed (shape A)",
            "the portrait check passed, as the first time (live-head)",
        ),
        (
            error_body("InvalidFile.NoHuman", "1"),
            400,
            passed(FACE, CROP_1_1, "2"),
            200,
            "the portrait check passed",
            "the portrait check failed (shape B, code 'InvalidFile.NoHuman'), as the first time "
            "(live-head)",
        ),
        (
            passed(FACE, CROP_1_1, "1"),
            200,
            error_body("InvalidParameter", "2"),
            400,
            "a request failure: HTTP 400 InvalidParameter",
            "the portrait check passed, as the first time (live-head)",
        ),
    ],
    ids=["pass-then-fail", "fail-then-pass", "pass-then-request-error"],
)
def test_a_case_asked_twice_that_gets_another_verdict_is_one_additive_finding(
    first: Any,
    first_status: int,
    again: Any,
    again_status: int,
    received: str,
    documented: str,
) -> None:
    violations = repeat(first, again, first_status, again_status)
    violation = the_one_finding(
        violations,
        check="repeated_case_gives_the_same_answer",
        interaction="live-head-again",
        pointer="/output/check_pass",
        severity=Severity.ADDITIVE,
        received=received,
        documented=documented,
        title="the same case, asked twice, got another verdict",
    )
    assert_source_is_the_api_reference(violation)


@pytest.mark.parametrize(
    ("again", "expected"),
    [
        (
            passed(MOVED_FACE, CROP_1_1, "2"),
            [
                (
                    "/output/face_bbox",
                    "[402, 286, 710, 593] (IoU 0.51)",
                    "[302, 286, 610, 593] as the first time (live-head)",
                    "the same case, asked twice, got another face_bbox",
                )
            ],
        ),
        (
            passed(FACE, MOVED_CROP, "2"),
            [
                (
                    "/output/ext_bbox",
                    "[171, 9, 940, 778] (IoU 0.77)",
                    "[71, 9, 840, 778] as the first time (live-head)",
                    "the same case, asked twice, got another ext_bbox",
                )
            ],
        ),
        (
            passed(MOVED_FACE, MOVED_CROP, "2"),
            [
                (
                    "/output/face_bbox",
                    "[402, 286, 710, 593] (IoU 0.51)",
                    "[302, 286, 610, 593] as the first time (live-head)",
                    "the same case, asked twice, got another face_bbox",
                ),
                (
                    "/output/ext_bbox",
                    "[171, 9, 940, 778] (IoU 0.77)",
                    "[71, 9, 840, 778] as the first time (live-head)",
                    "the same case, asked twice, got another ext_bbox",
                ),
            ],
        ),
    ],
    ids=["face-moved", "crop-moved", "both-moved"],
)
def test_a_case_asked_twice_whose_box_moved_is_additive_drift(
    again: Any, expected: list[tuple[str, str, str, str]]
) -> None:
    violations = repeat(passed(FACE, CROP_1_1, "1"), again)
    assert [(v.pointer, v.received, v.documented, v.title) for v in violations] == expected
    for violation in violations:
        assert violation.check == "repeated_case_gives_the_same_answer"
        assert violation.interaction == "live-head-again"
        assert violation.severity is Severity.ADDITIVE
        assert_source_is_the_api_reference(violation)


@pytest.mark.parametrize(
    ("again_face", "drift"),
    [([300, 300, 400, 390], False), ([300, 300, 400, 389], True)],
    ids=["iou-0.90", "iou-0.89"],
)
def test_a_repeated_box_may_move_until_its_iou_falls_below_the_threshold(
    again_face: list[int], drift: bool
) -> None:
    crop = [200, 200, 500, 500]
    violations = repeat(passed([300, 300, 400, 400], crop, "1"), passed(again_face, crop, "2"))
    assert [v.received for v in violations] == (
        ["[300, 300, 400, 389] (IoU 0.89)"] if drift else []
    )


def test_every_repeated_case_is_judged_even_after_one_that_was_not_answered_or_flipped() -> None:
    answers = [
        (answer("live-head", passed(FACE, CROP_1_1, "1")), HEAD),
        (answer("live-head-again", failed_a("2")), HEAD),
        (answer("live-half-body", passed(FACE, CROP_3_4, "3")), HALF_BODY),
        (answer("live-half-body-again", passed(MOVED_FACE, CROP_3_4, "4")), HALF_BODY),
        (answer("live-extra-again", passed(MOVED_FACE, CROP_1_1, "5")), HEAD),
    ]
    repeated = {
        "live-unsent-again": "live-unsent",  # neither was answered (not sent, deadline)
        "live-lost-again": "live-head",  # the repeat was not answered
        "live-extra-again": "live-extra",  # the first was not answered
        "live-head-again": "live-head",  # flipped
        "live-half-body-again": "live-half-body",  # face moved
    }
    violations = run(*answers, only="repeated_case_gives_the_same_answer", repeated=repeated)
    assert [(v.interaction, v.pointer) for v in violations] == [
        ("live-head-again", "/output/check_pass"),
        ("live-half-body-again", "/output/face_bbox"),
    ]


def test_a_flipped_verdict_is_one_finding_whatever_boxes_the_outcomes_carry() -> None:
    first = outcome_of(passed(FACE, CROP_1_1, "1"))
    again = dataclasses.replace(
        outcome_of(failed_a("2")), face_box=tuple(MOVED_FACE), crop_box=tuple(MOVED_CROP)
    )
    violations = run(
        only="repeated_case_gives_the_same_answer",
        repeated={"live-head-again": "live-head"},
        outcomes={"live-head": first, "live-head-again": again},
    )
    assert [v.pointer for v in violations] == ["/output/check_pass"]


def test_a_box_missing_from_one_outcome_is_not_compared_the_other_still_is() -> None:
    first = outcome_of(passed(FACE, CROP_1_1, "1"))
    moved = outcome_of(passed(MOVED_FACE, MOVED_CROP, "2"))
    for again, pointers in (
        (dataclasses.replace(moved, crop_box=None), ["/output/face_bbox"]),
        (dataclasses.replace(moved, face_box=None), ["/output/ext_bbox"]),
    ):
        for outcomes in (
            {"live-head": first, "live-head-again": again},
            {"live-head": again, "live-head-again": first},
        ):
            violations = run(
                only="repeated_case_gives_the_same_answer",
                repeated={"live-head-again": "live-head"},
                outcomes=outcomes,
            )
            assert [v.pointer for v in violations] == pointers


# --- the same request gets the same verdict and boxes as its recording ----------------------------

RECORDED = {"kind": "recorded", "date": "2026-03-01", "host": "dashscope.aliyuncs.com"}
WHERE = "fixture 'live-head' (recorded 2026-03-01)"


def against(
    live: Interaction,
    *,
    recording: Interaction | None = None,
    case: LiveCase | None = None,
    case_source: str = "",
) -> list[Violation]:
    context = CheckContext(CONTRACTS, case=case, case_source=case_source, recording=recording)
    return run_checks(live, context, only=["behaviour_matches_recording"])


def recorded_as(
    body: Any, status: int = 200, provenance: dict[str, str] | None = None
) -> Interaction:
    """The fixture ``live-head`` that answered the same request earlier."""
    return answer(
        "live-head", body, status, provenance=RECORDED if provenance is None else provenance
    )


@pytest.mark.parametrize(
    ("live", "recorded", "recorded_status"),
    [
        (passed(FACE, CROP_1_1, "new"), passed(FACE, CROP_1_1, "old"), 200),
        (
            passed([302, 286, 610, 594], [72, 9, 841, 778], "new"),
            passed(FACE, CROP_1_1, "old"),
            200,
        ),
        (failed_a("new"), failed_a("old"), 200),
        (failed_a("new"), error_body("InvalidFile.NoHuman", "old"), 400),  # shape B recorded
    ],
    ids=["same", "1px-off", "failed-twice", "failed-in-the-other-shape"],
)
def test_an_answer_like_its_recording_is_no_drift(
    live: Any, recorded: Any, recorded_status: int
) -> None:
    live_answer = answer("live-now", live)
    assert against(live_answer, recording=recorded_as(recorded, recorded_status)) == []


@pytest.mark.parametrize(
    ("live", "expected"),
    [
        (
            passed(MOVED_FACE, CROP_1_1),
            [
                (
                    "/output/face_bbox",
                    f"[402, 286, 710, 593] (IoU 0.51 with {WHERE})",
                    f"[302, 286, 610, 593] in {WHERE}: IoU >= 0.9",
                    "behaviour drift: face_bbox moved (IoU 0.51 < 0.9)",
                )
            ],
        ),
        (
            passed(FACE, MOVED_CROP),
            [
                (
                    "/output/ext_bbox",
                    f"[171, 9, 940, 778] (IoU 0.77 with {WHERE})",
                    f"[71, 9, 840, 778] in {WHERE}: IoU >= 0.9",
                    "behaviour drift: ext_bbox moved (IoU 0.77 < 0.9)",
                )
            ],
        ),
        (
            passed(MOVED_FACE, MOVED_CROP),
            [
                (
                    "/output/face_bbox",
                    f"[402, 286, 710, 593] (IoU 0.51 with {WHERE})",
                    f"[302, 286, 610, 593] in {WHERE}: IoU >= 0.9",
                    "behaviour drift: face_bbox moved (IoU 0.51 < 0.9)",
                ),
                (
                    "/output/ext_bbox",
                    f"[171, 9, 940, 778] (IoU 0.77 with {WHERE})",
                    f"[71, 9, 840, 778] in {WHERE}: IoU >= 0.9",
                    "behaviour drift: ext_bbox moved (IoU 0.77 < 0.9)",
                ),
            ],
        ),
    ],
    ids=["face-moved", "crop-moved", "both-moved"],
)
def test_a_box_that_moved_since_its_recording_is_additive_behaviour_drift(
    live: Any, expected: list[tuple[str, str, str, str]]
) -> None:
    violations = against(answer("live-now", live), recording=recorded_as(passed(FACE, CROP_1_1)))
    assert [(v.pointer, v.received, v.documented, v.title) for v in violations] == expected
    for violation in violations:
        assert violation.check == "behaviour_matches_recording"
        assert violation.interaction == "live-now"
        assert violation.severity is Severity.ADDITIVE
        assert violation.source == "fixtures/face-detect/live-head.json"


@pytest.mark.parametrize(
    ("live_face", "drift"),
    [([300, 300, 400, 390], False), ([300, 300, 400, 389], True)],
    ids=["iou-0.90", "iou-0.89"],
)
def test_a_recorded_box_may_move_until_its_iou_falls_below_the_threshold(
    live_face: list[int], drift: bool
) -> None:
    crop = [200, 200, 500, 500]
    violations = against(
        answer("live-now", passed(live_face, crop)),
        recording=recorded_as(passed([300, 300, 400, 400], crop)),
    )
    assert [v.title for v in violations] == (
        ["behaviour drift: face_bbox moved (IoU 0.89 < 0.9)"] if drift else []
    )


def test_a_recording_without_kind_or_date_is_named_with_question_marks() -> None:
    violations = against(
        answer("live-now", passed(MOVED_FACE, CROP_1_1)),
        recording=recorded_as(passed(FACE, CROP_1_1), provenance={"host": "h"}),
    )
    assert [v.documented for v in violations] == [
        "[302, 286, 610, 593] in fixture 'live-head' (? ?): IoU >= 0.9"
    ]


@pytest.mark.parametrize(
    ("live", "live_status", "recorded", "recorded_status", "received", "documented"),
    [
        (
            failed_a(),
            200,
            passed(FACE, CROP_1_1),
            200,
            "the portrait check failed",
            f"it passed in {WHERE}",
        ),
        (
            passed(FACE, CROP_1_1),
            200,
            error_body("InvalidFile.MultiHuman", "old"),
            400,
            "the portrait check passed",
            f"it failed in {WHERE}",
        ),
    ],
    ids=["passed-then-failed", "failed-then-passed"],
)
def test_a_portrait_check_that_flipped_since_its_recording_is_additive_behaviour_drift(
    live: Any,
    live_status: int,
    recorded: Any,
    recorded_status: int,
    received: str,
    documented: str,
) -> None:
    violations = against(
        answer("live-now", live, live_status), recording=recorded_as(recorded, recorded_status)
    )
    # The verdict flipped: no box is compared with the recording.
    the_one_finding(
        violations,
        check="behaviour_matches_recording",
        interaction="live-now",
        pointer="/output/check_pass",
        received=received,
        documented=documented,
        title="behaviour drift: the portrait check flipped",
        severity=Severity.ADDITIVE,
        source="fixtures/face-detect/live-head.json",
    )


@pytest.mark.parametrize(
    ("live", "live_status", "recorded", "recorded_status"),
    [
        (error_body("InvalidParameter", "new"), 400, passed(FACE, CROP_1_1), 200),
        (passed(FACE, CROP_1_1), 200, error_body("InvalidParameter", "old"), 400),
        ("<html>busy</html>", 200, passed(FACE, CROP_1_1), 200),
    ],
    ids=["live-request-error", "recorded-request-error", "live-not-json"],
)
def test_an_answer_that_is_no_check_result_is_not_compared_with_its_recording(
    live: Any, live_status: int, recorded: Any, recorded_status: int
) -> None:
    """A request failure is judged by its own checks; it is no verdict and no box to compare."""
    live_answer = answer("live-now", live, live_status)
    context = CheckContext(CONTRACTS, recording=recorded_as(recorded, recorded_status))
    assert CHECKS["behaviour_matches_recording"](live_answer, context) == []


def test_called_without_an_outcome_the_check_classifies_the_live_answer_itself() -> None:
    context = CheckContext(CONTRACTS, recording=recorded_as(passed(FACE, CROP_1_1)))
    assert context.outcome is None
    violations = CHECKS["behaviour_matches_recording"](
        answer("live-now", passed(MOVED_FACE, CROP_1_1)), context
    )
    assert [(v.interaction, v.pointer) for v in violations] == [("live-now", "/output/face_bbox")]


CASE_FACE = LiveCase("head shot", IMAGE, "1:1", "pass", {"face_bbox": FACE})
CASE_CROP = LiveCase("head shot", IMAGE, "1:1", "pass", {"ext_bbox": CROP_1_1})
CASE_BOTH = LiveCase("head shot", IMAGE, "1:1", "any", {"face_bbox": FACE, "ext_bbox": CROP_1_1})


@pytest.mark.parametrize(
    ("case", "live", "expected"),
    [
        (
            CASE_FACE,
            passed(MOVED_FACE, MOVED_CROP),
            [
                (
                    "/output/face_bbox",
                    "[402, 286, 710, 593] (IoU 0.51 with live case 'head shot')",
                    "[302, 286, 610, 593] in live case 'head shot': IoU >= 0.9",
                )
            ],
        ),
        (
            CASE_CROP,
            passed(MOVED_FACE, MOVED_CROP),
            [
                (
                    "/output/ext_bbox",
                    "[171, 9, 940, 778] (IoU 0.77 with live case 'head shot')",
                    "[71, 9, 840, 778] in live case 'head shot': IoU >= 0.9",
                )
            ],
        ),
        (
            CASE_BOTH,
            passed(MOVED_FACE, MOVED_CROP),
            [
                (
                    "/output/face_bbox",
                    "[402, 286, 710, 593] (IoU 0.51 with live case 'head shot')",
                    "[302, 286, 610, 593] in live case 'head shot': IoU >= 0.9",
                ),
                (
                    "/output/ext_bbox",
                    "[171, 9, 940, 778] (IoU 0.77 with live case 'head shot')",
                    "[71, 9, 840, 778] in live case 'head shot': IoU >= 0.9",
                ),
            ],
        ),
        (CASE_BOTH, passed(FACE, CROP_1_1), []),
        (HEAD, passed(MOVED_FACE, MOVED_CROP), []),  # the case expects no box
        (CASE_BOTH, failed_a(), []),  # no box to compare: live_case_meets_its_expect judges it
    ],
    ids=["face", "crop-only", "both", "as-expected", "no-expected-box", "failed"],
)
def test_a_box_away_from_the_one_its_live_case_expects_is_additive_behaviour_drift(
    case: LiveCase, live: Any, expected: list[tuple[str, str, str]]
) -> None:
    violations = against(answer("live-head-shot", live), case=case)
    assert [(v.pointer, v.received, v.documented) for v in violations] == expected
    for violation in violations:
        assert violation.severity is Severity.ADDITIVE
        assert violation.source == "the live cases file, entry 'head shot'"
        assert violation.title.startswith("behaviour drift: ")
    with_file = against(answer("live-head-shot", live), case=case, case_source="my-cases.json")
    assert [v.source for v in with_file] == ["my-cases.json, entry 'head shot'"] * len(expected)


def test_a_recording_and_a_live_case_are_both_compared_recording_first() -> None:
    violations = against(
        answer("live-now", passed(MOVED_FACE, CROP_1_1)),
        recording=recorded_as(passed(FACE, CROP_1_1)),
        case=CASE_FACE,
        case_source="cases.json",
    )
    assert [(v.pointer, v.source) for v in violations] == [
        ("/output/face_bbox", "fixtures/face-detect/live-head.json"),
        ("/output/face_bbox", "cases.json, entry 'head shot'"),
    ]


def test_behaviour_drift_is_registered_against_the_api_reference() -> None:
    registered = CHECKS["behaviour_matches_recording"]
    assert registered.function is checks.behaviour_matches_recording
    assert registered.sources == ("shape",)
    assert registered.source_ids(CONTRACTS) == ("emo-detect-api",)
