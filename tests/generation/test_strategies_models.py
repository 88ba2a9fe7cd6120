"""The generators follow the chosen model's contracts: for every contracts folder under
``contracts/`` (a new folder is covered without a test edit), valid requests validate against its
request contract and name its model, invalid ones break a stated rule, and generated answers of
every kind are in its own shape (its verdict or none, its boxes or none, its failure's code and
message where its profile says) and classify as the kind they were drawn as."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.contracts.loader import SCHEMA_FILES, Contracts, load_contracts
from facedetect_contract.contracts.oracle import expectation_for
from facedetect_contract.contracts.outcome import classify
from facedetect_contract.core.interaction import RecordedResponse
from facedetect_contract.core.violations import ABSENT
from facedetect_contract.generation.strategies import (
    GeneratedRequest,
    GeneratedResponse,
    error_responses,
    failed_responses,
    invalid_requests,
    passed_responses,
    responses,
    valid_requests,
)
from tests.helpers.models import NAMES
from tests.helpers.strategies import draw_many, draw_until

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_OF = {filename: name for name, filename in SCHEMA_FILES.items()}
DRAWS = 60  # per model and property: four models, each drawn in every run
KIND_DRAWS = 480  # enough for every documented kind of answer to come up
_FACE_RATIO = load_contracts(ROOT / "contracts" / "face-detect").profile.ratio
assert _FACE_RATIO is not None
FACE_RATIO = _FACE_RATIO.field


def contracts_of(name: str) -> Contracts:
    return load_contracts(ROOT / "contracts" / name)


@cache
def drawn_once(
    name: str, strategy: Callable[[Contracts], Any], count: int = DRAWS
) -> tuple[Any, ...]:
    """``draw_many(strategy(contracts of name), count)``, drawn once per process: the draws are
    derandomized, so two tests asking for the same ones (the passed answers, emoji's failures)
    judge the very same answers without generating them twice."""
    return tuple(draw_many(strategy(contracts_of(name)), count))


def test_the_loop_covers_every_model_the_issue_names() -> None:
    assert {"face-detect", "liveportrait-detect", "emoji-detect-v1"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_valid_requests_validate_against_the_model_s_request_contract(name: str) -> None:
    contracts = contracts_of(name)
    profile = contracts.profile
    drawn: list[GeneratedRequest] = draw_many(valid_requests(contracts), DRAWS)
    assert drawn
    for request in drawn:
        assert contracts.schema_errors("request", request.body) == [], request.body
        assert expectation_for(request, contracts) is None
        assert profile.request.model.get(request.body) == profile.model
        if profile.ratio is None:  # no ratio sent: nothing where face-detect sends its ratio
            assert FACE_RATIO.get(request.body) is ABSENT, request.body
        else:
            assert profile.ratio.field.get(request.body) in profile.ratio.values


def test_emoji_sends_only_its_one_ratio_and_liveportrait_none() -> None:
    emoji = contracts_of("emoji-detect-v1")
    assert emoji.profile.ratio is not None
    sent = {emoji.profile.ratio.field.get(r.body) for r in draw_many(valid_requests(emoji), 40)}
    assert sent == set(emoji.ratios) == {emoji.profile.ratio.values[0]}
    liveportrait = contracts_of("liveportrait-detect")
    for request in draw_many(valid_requests(liveportrait), 40):
        assert set(request.body) == {
            liveportrait.profile.request.model.parts[0],
            liveportrait.profile.request.image_url.parts[0],
        }


@pytest.mark.parametrize("name", NAMES)
def test_invalid_requests_that_must_be_rejected_break_the_model_s_contract(name: str) -> None:
    contracts = contracts_of(name)
    rejected = 0
    for request in draw_many(invalid_requests(contracts), DRAWS):
        if request.auth != "key" or request.content is not None or not request.must_reject:
            continue
        headers = {**request.headers, "authorization": "Bearer k"}
        broken = contracts.schema_errors("request", request.body) + contracts.schema_errors(
            "request_headers", headers
        )
        assert [e for e in broken if e.validator != "additionalProperties"], request.description
        rejected += 1
    assert rejected >= DRAWS // 4, rejected


def _judged(contracts: Contracts, response: GeneratedResponse) -> None:
    kind = contracts.profile.answer(response.answer)
    assert kind is not None, response.answer
    assert kind.has_status(response.status)
    errors = contracts.schema_errors(SCHEMA_OF[kind.schema], response.body)
    assert errors == [], (response.answer, response.body, [e.message for e in errors])
    outcome = classify(
        RecordedResponse(response.status, dict(response.headers), response.body, True), contracts
    )
    assert outcome.answer == kind, (response.answer, outcome, response.body)
    assert outcome.kind == kind.outcome, (outcome.reason, response.body)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "strategy", [passed_responses, failed_responses, error_responses], ids=lambda s: s.__name__
)
def test_generated_answers_validate_and_classify_as_their_kind(name: str, strategy: object) -> None:
    contracts = contracts_of(name)
    answers = drawn_once(name, strategy)
    assert answers
    for response in answers:
        _judged(contracts, response)


@pytest.mark.parametrize("name", NAMES)
def test_every_kind_of_answer_the_model_documents_is_generated(name: str) -> None:
    contracts = contracts_of(name)
    documented = {kind.name for kind in contracts.profile.answers}
    # The same derandomized draws as draw_many's, up to KIND_DRAWS, stopped once every documented
    # kind came up (or an undocumented one did: the assertion names it). That every draw is of a
    # documented kind is judged draw by draw for each of the three strategies ``responses`` is
    # made of, in test_generated_answers_validate_and_classify_as_their_kind.
    drawn = {
        r.answer
        for r in draw_until(
            responses(contracts),
            lambda found: (
                {r.answer for r in found} >= documented or not {found[-1].answer} <= documented
            ),
            KIND_DRAWS,
        )
    }
    assert drawn == documented


@pytest.mark.parametrize("name", NAMES)
def test_answers_carry_the_model_s_verdict_and_boxes_and_no_other(name: str) -> None:
    contracts = contracts_of(name)
    profile = contracts.profile
    for response in drawn_once(name, passed_responses):
        for at in profile.boxes.values():
            assert at.get(response.body) is not ABSENT, (at, response.body)
        if profile.verdict is None:
            assert set(profile.output.get(response.body)) == {  # type: ignore[union-attr]
                at.name for at in profile.boxes.values()
            } | ({profile.response.humanoid.name} if profile.response.states("humanoid") else set())
        else:
            assert profile.verdict.get(response.body) is True
        if not profile.has_ratio:
            assert response.ratio is None


def test_liveportrait_draws_no_box_and_emoji_no_verdict() -> None:
    face = contracts_of("face-detect").profile
    liveportrait = contracts_of("liveportrait-detect")
    for response in draw_many(responses(liveportrait), DRAWS):
        for at in face.boxes.values():
            assert at.get(response.body) is ABSENT
    emoji = contracts_of("emoji-detect-v1")
    assert face.verdict is not None
    for response in draw_many(responses(emoji), DRAWS):
        assert face.verdict.get(response.body) is ABSENT
    failed = drawn_once("emoji-detect-v1", failed_responses)
    kind = next(k for k in emoji.profile.answers if k.outcome == "failed")
    assert kind.code is not None
    assert all(isinstance(kind.code.get(r.body), str) and kind.code.get(r.body) for r in failed)
