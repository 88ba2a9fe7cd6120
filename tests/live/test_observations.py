"""What a run saw on each open question: the reading its answers support, and their evidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from facedetect_contract.contracts.cases import LiveCase, default_cases
from facedetect_contract.contracts.loader import Contracts, load_contracts
from facedetect_contract.core.interaction import Interaction, RecordedRequest, RecordedResponse
from facedetect_contract.core.redaction import Redactor
from facedetect_contract.doubles.fake import FaceDetectFake
from facedetect_contract.doubles.offline import fake_handler
from facedetect_contract.live import observations
from facedetect_contract.live.judging import Verdict, judge
from facedetect_contract.live.observations import MIXED, OBSERVERS, Observation, observe, observer
from facedetect_contract.live.plan import PlannedRequest, case_requests, negative_probes
from facedetect_contract.live.run import LiveRun, LiveSettings

CONTRACTS = load_contracts()
JSON = {"content-type": "application/json"}
NO_HUMAN = "https://example.com/portraits/no-human.png"
SHAPE_A = {
    "output": {"check_pass": False, "code": "InvalidFile.NoHuman", "message": "No human"},
    "usage": {"image_count": 1},
    "request_id": "r-a",
}
SHAPE_B = {"code": "InvalidFile.NoHuman", "message": "No human", "request_id": "r-b"}


def case(
    name: str,
    contracts: Contracts = CONTRACTS,
    *,
    expect: str = "fail",
    size: tuple[int, int] | None = None,
) -> PlannedRequest:
    """A live case of ``contracts``' model (its first ratio where it has one), of ``size``."""
    ratio = None if contracts.profile.ratio is None else contracts.profile.ratio.values[0]
    extra = {} if size is None else {"image_size": list(size)}
    live = LiveCase(name, NO_HUMAN, ratio, expect, extra)  # type: ignore[arg-type]
    (planned,) = case_requests([live], contracts)
    return planned


def verdict(
    planned: PlannedRequest,
    status: int,
    body: Any,
    *,
    before: tuple[Interaction, ...] = (),
    contracts: Contracts = CONTRACTS,
) -> Verdict:
    """The judged verdict on ``planned`` answered ``status`` ``body`` (after ``before``)."""
    final = Interaction(
        f"live-{planned.name}",
        RecordedRequest("POST", JSON, planned.request.body),
        RecordedResponse(status, JSON, body),
    )
    return judge(
        planned,
        final,
        [*before, final],
        contracts=contracts,
        redactor=Redactor(),
        endpoint="http://127.0.0.1:9/api/v1",
        strict_drift=False,
    )


def observed(verdicts: list[Verdict], contracts: Contracts = CONTRACTS) -> dict[str, Observation]:
    return {o.question: o for o in observe(verdicts, contracts)}


ROOT = Path(__file__).resolve().parents[2]
QUESTION_FILES = sorted((ROOT / "contracts").glob("*/questions.json"))
MODELS = {path.parent.name: load_contracts(path.parent) for path in QUESTION_FILES}


def test_every_open_question_has_one_observer_and_one_observation_in_order() -> None:
    """Every observer answers a question of a packaged model, and every model's observations
    come in its questions' order."""
    asked = {q for contracts in MODELS.values() for q in contracts.questions}
    assert set(OBSERVERS) == asked
    for contracts in MODELS.values():
        assert [o.question for o in observe([], contracts)] == list(contracts.questions)


def test_a_second_observer_of_a_question_is_refused() -> None:
    with pytest.raises(ValueError, match="'failure-shape' has two observers"):
        observer("failure-shape")(OBSERVERS["failure-shape"])


def test_a_case_failed_in_shape_a_supports_reading_a_with_its_interaction_as_evidence() -> None:
    seen = observed([verdict(case("nobody"), 200, SHAPE_A)])["failure-shape"]
    assert (seen.reading, seen.answer) == ("A", "shape A (HTTP 200 InvalidFile.NoHuman)")
    assert seen.evidence == ("live-case-nobody",)
    assert seen.observed


def test_a_shape_b_failure_that_billed_nothing_supports_b_and_not_billed() -> None:
    seen = observed([verdict(case("nobody"), 400, SHAPE_B)])
    assert (seen["failure-shape"].reading, seen["failure-billing"].reading) == ("B", "not-billed")
    assert seen["failure-billing"].answer == "not billed (HTTP 400 InvalidFile.NoHuman)"


def test_answers_that_disagree_are_mixed_and_each_is_evidence() -> None:
    seen = observed([verdict(case("a"), 200, SHAPE_A), verdict(case("b"), 400, SHAPE_B)])
    shape = seen["failure-shape"]
    assert shape.reading == MIXED
    assert (
        shape.answer
        == "shape A (HTTP 200 InvalidFile.NoHuman); shape B (HTTP 400 InvalidFile.NoHuman)"
    )
    assert shape.evidence == ("live-case-a", "live-case-b")
    assert seen["failure-billing"].reading == MIXED


def test_what_nothing_observed_has_no_reading() -> None:
    probe = next(p for p in negative_probes(NO_HUMAN, CONTRACTS) if p.name == "probe-bad-key")
    refused = {"code": "InvalidApiKey", "message": "Invalid API-key provided.", "request_id": "r"}
    seen = observed([verdict(probe, 401, refused)])
    for question in ("failure-shape", "failure-billing", "box-conventions", "throttle-code"):
        assert seen[question].reading is None, question
        assert seen[question].answer.startswith("not observed"), question
        assert not seen[question].observed
        assert seen[question].evidence == ()
    assert seen["request-id-header"].reading == "absent"  # every JSON answer observes that one


def test_a_throttled_attempt_a_retry_got_past_still_answers_the_throttle_question() -> None:
    throttled = Interaction(
        "live-case-nobody-attempt-1",
        RecordedRequest("POST", JSON, {}),
        RecordedResponse(
            429,
            {**JSON, "retry-after": "1"},
            {"code": "Throttling.RateQuota", "message": "m", "request_id": "r"},
        ),
    )
    seen = observed([verdict(case("nobody"), 200, SHAPE_A, before=(throttled,))])
    code = seen["throttle-code"]
    assert (code.reading, code.answer) == (
        "Throttling.RateQuota",
        "HTTP 429 Throttling.RateQuota, Retry-After 1",
    )
    assert code.evidence == ("live-case-nobody-attempt-1",)


def test_an_observer_that_fails_is_reported_as_such_and_the_others_still_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object) -> tuple[str, str | None, list[str]]:
        raise RuntimeError("an answer nobody foresaw")

    monkeypatch.setitem(observations.OBSERVERS, "failure-shape", broken)
    seen = observed([verdict(case("nobody"), 200, SHAPE_A)])
    assert seen["failure-shape"].answer == "could not be observed (RuntimeError)"
    assert seen["failure-shape"].reading is None
    assert seen["failure-billing"].reading == "billed"


def test_verdicts_that_were_not_judged_are_no_evidence() -> None:
    judged = verdict(case("nobody"), 200, SHAPE_A)
    not_sent = Verdict(case("other"), "not-sent")
    unreachable = Verdict(case("third"), "unreachable", judged.interaction)
    seen = observed([not_sent, unreachable, judged])["failure-shape"]
    assert seen.evidence == ("live-case-nobody",)


OSS = "oss://dashscope-instant/0a1b2c/2026-12-07/portrait.png"  # a temporary-storage URL


def oss_case(name: str) -> PlannedRequest:
    (planned,) = case_requests([LiveCase(name, OSS, "1:1", "pass")], CONTRACTS)
    return planned


def test_an_oss_url_case_that_was_checked_supports_resolved_and_a_refused_one_refused() -> None:
    passed = {
        "output": {"check_pass": True, "face_bbox": [1, 2, 30, 40], "ext_bbox": [0, 0, 60, 60]},
        "usage": {"image_count": 1},
        "request_id": "r-p",
    }
    refusal = CONTRACTS.profile.rejection("url-invalid")
    refused = {"code": refusal.code, "message": refusal.message, "request_id": "r-r"}
    seen = observed([verdict(oss_case("resolved"), 200, passed)])["oss-url"]
    assert (seen.reading, seen.evidence) == ("resolved", ("live-case-resolved",))
    seen = observed([verdict(oss_case("refused"), 400, refused)])["oss-url"]
    assert (seen.reading, seen.answer) == ("refused", "oss:// URL: HTTP 400 InvalidURL")
    # An http(s) case says nothing about oss:// URLs.
    assert observed([verdict(case("nobody"), 200, SHAPE_A)])["oss-url"].reading is None


def test_only_a_reading_or_evidence_counts_as_observed() -> None:
    """The summary's "observed N of M open questions" counts questions the run's answers spoke
    to: never one with no observer, nor one whose observer failed."""
    assert not Observation("q", "t", "no observer").observed
    assert not Observation("q", "t", "could not be observed (KeyError)").observed
    assert not Observation("q", "t", "not observed: no JSON answer").observed
    assert Observation("q", "t", "HTTP 200", reading="A").observed
    assert Observation("q", "t", "file-size limit: not probed", evidence=("live-case-a",)).observed


# --- the sibling models' own questions ------------------------------------------------------


EMOJI, LIVEPORTRAIT, WAN = (
    MODELS["emoji-detect-v1"],
    MODELS["liveportrait-detect"],
    MODELS["wan2.2-s2v-detect"],
)
USAGE = {"usage": {"image_count": 1}}


def lp_pass(**output: Any) -> dict[str, Any]:
    """liveportrait-detect's pass (the docs' example: message ''), with ``output`` changed; a
    value ``None`` leaves that field out."""
    fields = {k: v for k, v in {"pass": True, "message": "", **output}.items() if v is not None}
    return {"output": fields, **USAGE, "request_id": "r-lp"}


LP_FAILED = {"output": {"pass": False, "message": "No human face detected."}, **USAGE}


def emoji_pass(
    crop: list[int] | None = None, reasons: dict[str, str] | None = None
) -> dict[str, Any]:
    """emoji-detect-v1's pass: its two boxes (the docs' example crop, 546 x 545, unless
    ``crop``), and the ``reasons`` fields given."""
    output = {"bbox_face": [212, 194, 460, 441], "ext_bbox_face": crop or [63, 30, 609, 575]}
    return {"output": {**output, **(reasons or {})}, **USAGE, "request_id": "r-em"}


EMOJI_FAILED = {
    "output": {"code": "InvalidFile.FacePose", "message": "The pose is invalid."},
    **USAGE,
    "request_id": "r-em",
}
EMPTY_REASONS = {"code": "", "message": ""}
WAN_PASS = {"output": {"check_pass": True, "humanoid": True}, **USAGE, "request_id": "r-w"}


def wan_failed_a(**output: Any) -> dict[str, Any]:
    """wan2.2-s2v-detect's documented failure (reading A): 200, check_pass false, '' reasons."""
    return {"output": {"check_pass": False, "code": "", "message": "", **output}, **USAGE}


WAN_FAILED_B = {"code": "InvalidFile.NoHuman", "message": "The input image has no human body."}


def seen_on(contracts: Contracts, *answers: tuple[int, Any]) -> dict[str, Observation]:
    """The observations of a run of one case per answer (``case-1``, ``case-2``...)."""
    verdicts = [
        verdict(case(str(n), contracts), status, body, contracts=contracts)
        for n, (status, body) in enumerate(answers, 1)
    ]
    return observed(verdicts, contracts)


@pytest.mark.parametrize("path", QUESTION_FILES, ids=lambda p: p.parent.name)
def test_no_packaged_models_question_is_left_without_an_observer(path: Path) -> None:
    """Every question of every contracts/*/questions.json has an observer, which answers a run
    that observed nothing without failing."""
    ids = [q["id"] for q in json.loads(path.read_text(encoding="utf-8"))["questions"]]
    assert [q for q in ids if q not in OBSERVERS] == []
    for seen in observe([], load_contracts(path.parent)):
        assert seen.answer != "no observer", seen.question
        assert not seen.answer.startswith("could not be observed"), (seen.question, seen.answer)
        assert (seen.reading, seen.evidence) == (None, ()), seen.question


def test_message_on_pass_is_empty_or_absent_as_the_passes_carry_it() -> None:
    empty = seen_on(LIVEPORTRAIT, (200, lp_pass()))["message-on-pass"]
    assert (empty.reading, empty.answer, empty.evidence) == (
        "empty",
        "pass with message empty",
        ("live-case-1",),
    )
    absent = seen_on(LIVEPORTRAIT, (200, lp_pass(message=None)))["message-on-pass"]
    assert (absent.reading, absent.answer) == ("absent", "pass with message absent")
    both = seen_on(LIVEPORTRAIT, (200, lp_pass()), (200, lp_pass(message=None)))
    assert both["message-on-pass"].reading == MIXED
    assert both["message-on-pass"].evidence == ("live-case-1", "live-case-2")


def test_a_filled_message_on_a_pass_is_neither_reading_but_is_evidence() -> None:
    filled = seen_on(LIVEPORTRAIT, (200, lp_pass(message="ok")))["message-on-pass"]
    assert (filled.reading, filled.answer) == (None, "pass with message filled")
    assert filled.observed
    with_empty = seen_on(LIVEPORTRAIT, (200, lp_pass(message="ok")), (200, lp_pass()))
    assert with_empty["message-on-pass"].reading == MIXED


def test_message_on_pass_is_not_observed_without_a_pass() -> None:
    seen = seen_on(LIVEPORTRAIT, (200, LP_FAILED))["message-on-pass"]
    assert (seen.reading, seen.evidence) == (None, ())
    assert seen.answer == "not observed: no answer passed the check"


def test_liveportraits_failed_check_is_a_billed_200_or_not_billed_without_usage() -> None:
    """failure-billing read through liveportrait-detect's profile: its failure is HTTP 200 with
    pass false (no shape B), billed when it carries usage."""
    billed = seen_on(LIVEPORTRAIT, (200, LP_FAILED))["failure-billing"]
    assert (billed.reading, billed.answer) == ("billed", "billed (HTTP 200)")
    without = {"output": LP_FAILED["output"]}
    unbilled = seen_on(LIVEPORTRAIT, (200, without))["failure-billing"]
    assert (unbilled.reading, unbilled.answer) == ("not-billed", "not billed (HTTP 200)")
    assert seen_on(LIVEPORTRAIT, (200, LP_FAILED), (200, without))["failure-billing"].reading == (
        MIXED
    )
    # a pass, and a 400 (a request failure for this model, not a failed check), say nothing
    refused = {"code": "InvalidParameter", "message": "m", "request_id": "r"}
    for answers in ([(200, lp_pass())], [(400, refused)]):
        seen = seen_on(LIVEPORTRAIT, *answers)["failure-billing"]
        assert (seen.reading, seen.evidence) == (None, ())
        assert seen.answer.startswith("not observed"), seen.answer


def test_verdict_less_pass_is_boxes_only_or_empty_code_as_the_passes_carry_it() -> None:
    only = seen_on(EMOJI, (200, emoji_pass()))["verdict-less-pass"]
    assert (only.reading, only.answer, only.evidence) == (
        "boxes-only",
        "pass with code absent, message absent",
        ("live-case-1",),
    )
    empty = seen_on(EMOJI, (200, emoji_pass(reasons=EMPTY_REASONS)))["verdict-less-pass"]
    assert (empty.reading, empty.answer) == ("empty-code", "pass with code empty, message empty")
    both = seen_on(EMOJI, (200, emoji_pass()), (200, emoji_pass(reasons=EMPTY_REASONS)))
    assert both["verdict-less-pass"].reading == MIXED


@pytest.mark.parametrize(
    "reason", [{"code": "InvalidFile.FacePose", "message": "m"}, {"message": ""}], ids=str
)
def test_a_pass_whose_reasons_fit_no_reading_is_evidence_without_a_reading(
    reason: dict[str, str],
) -> None:
    seen = seen_on(EMOJI, (200, emoji_pass(reasons=reason)))["verdict-less-pass"]
    assert seen.reading is None
    assert seen.evidence == ("live-case-1",)


def test_verdict_less_pass_is_not_observed_when_only_failures_came_back() -> None:
    seen = seen_on(EMOJI, (200, EMOJI_FAILED))["verdict-less-pass"]
    assert (seen.reading, seen.answer) == (None, "not observed: no answer passed the check")


def test_crop_ratio_is_exact_or_within_one_pixel_as_the_crops_measure() -> None:
    exact = seen_on(EMOJI, (200, emoji_pass([76, 0, 436, 360])))["crop-ratio"]
    assert exact.reading == "exact-ratio"
    assert exact.answer.startswith("crop 360x360 at 1:1: exact")
    off = seen_on(EMOJI, (200, emoji_pass()))["crop-ratio"]  # the docs' example, 546 x 545
    assert (off.reading, off.evidence) == ("within-one-pixel", ("live-case-1",))
    assert off.answer.startswith("crop 546x545 at 1:1: 1 px off")
    # an exact crop is within a pixel too: beside a crop 1 px off, they do not disagree
    assert (
        seen_on(EMOJI, (200, emoji_pass([76, 0, 436, 360])), (200, emoji_pass()))[
            "crop-ratio"
        ].reading
        == "within-one-pixel"
    )


def test_a_crop_further_off_than_a_pixel_is_mixed_and_no_pass_is_not_observed() -> None:
    assert seen_on(EMOJI, (200, emoji_pass([0, 0, 300, 303])))["crop-ratio"].reading == MIXED
    none = seen_on(EMOJI, (200, EMOJI_FAILED))["crop-ratio"]
    assert (none.reading, none.answer) == (None, "not observed: no case passed the portrait check")


def test_face_detects_box_conventions_reads_exact_and_one_pixel_off_as_within_one_pixel() -> None:
    """The observer crop-ratio shares: face-detect's answers the same way."""

    def passed(crop: list[int]) -> dict[str, Any]:
        output = {"check_pass": True, "face_bbox": [302, 286, 610, 593], "ext_bbox": crop}
        return {"output": output, **USAGE, "request_id": "r"}

    seen = seen_on(CONTRACTS, (200, passed([71, 9, 840, 778])), (200, passed([71, 9, 841, 778])))
    assert seen["box-conventions"].reading == "within-one-pixel"
    assert seen_on(CONTRACTS, (200, passed([71, 9, 840, 778])))["box-conventions"].reading == (
        "exact-ratio"
    )


@pytest.mark.parametrize(
    ("contracts", "question", "assumed"),
    [
        (EMOJI, "image-limits", "at most 10485760 bytes"),
        (LIVEPORTRAIT, "image-limits", "at most 10485760 bytes"),
        (WAN, "image-size", "no limit"),
    ],
    ids=["emoji-detect-v1", "liveportrait-detect", "wan2.2-s2v-detect"],
)
def test_the_file_size_limit_is_not_probed_and_says_what_would_settle_it(
    contracts: Contracts, question: str, assumed: str
) -> None:
    """No live case states its file size: never a reading, and the answer names the limit the
    contracts assume and the question's own settled_by."""
    failed = {EMOJI: EMOJI_FAILED, LIVEPORTRAIT: LP_FAILED, WAN: wan_failed_a()}[contracts]
    seen = seen_on(contracts, (200, failed))[question]
    need = contracts.questions[question].settled_by.rstrip(".")
    assert seen.reading is None
    assert seen.answer.startswith(
        f"file-size limit: not probed (the contracts assume {assumed}; settling it needs "
        f"{need[:1].lower()}{need[1:]}: "
    )


def test_liveportraits_open_minimum_side_is_evidenced_by_the_sized_cases() -> None:
    """liveportrait-detect's profile states no minimum side: a sized case the check ran on shows
    a side the endpoint took; a sized case it refused is told; without a size, not observed."""
    small = case("small", LIVEPORTRAIT, size=(180, 320))
    large = case("large", LIVEPORTRAIT, size=(900, 1200))
    refused = case("tiny", LIVEPORTRAIT, size=(20, 20))
    error = {"code": "InvalidParameter", "message": "m", "request_id": "r"}
    verdicts = [
        verdict(small, 200, LP_FAILED, contracts=LIVEPORTRAIT),
        verdict(large, 200, lp_pass(), contracts=LIVEPORTRAIT),
        verdict(refused, 400, error, contracts=LIVEPORTRAIT),
    ]
    seen = observed(verdicts, LIVEPORTRAIT)["image-limits"]
    assert seen.reading is None
    assert seen.evidence == ("live-case-small", "live-case-large", "live-case-tiny")
    assert "minimum side: the check ran on sides down to 180 px (live-case-small)" in seen.answer
    assert "minimum side: a 20x20 image got HTTP 400 InvalidParameter" in seen.answer
    unsized = seen_on(LIVEPORTRAIT, (200, lp_pass()))["image-limits"]
    assert unsized.answer.endswith(
        "minimum side: not observed: no answered case gives its image_size"
    )
    assert unsized.evidence == ()
    # emoji-detect-v1 documents its minimum side (400 px): its sized cases are no evidence
    sized = case("small", EMOJI, size=(500, 500))
    emoji = observed([verdict(sized, 200, emoji_pass(), contracts=EMOJI)], EMOJI)["image-limits"]
    assert (emoji.evidence, "minimum side" in emoji.answer) == ((), False)


def test_failure_status_is_a_or_b_as_the_failed_checks_come_back() -> None:
    a = seen_on(WAN, (200, wan_failed_a()))["failure-status"]
    assert (a.reading, a.answer, a.evidence) == ("A", "shape A (HTTP 200)", ("live-case-1",))
    b = seen_on(WAN, (400, WAN_FAILED_B))["failure-status"]
    assert (b.reading, b.answer) == ("B", "shape B (HTTP 400 InvalidFile.NoHuman)")
    assert seen_on(WAN, (200, wan_failed_a()), (400, WAN_FAILED_B))["failure-status"].reading == (
        MIXED
    )
    none = seen_on(WAN, (200, WAN_PASS))["failure-status"]
    assert (none.reading, none.evidence) == (None, ())
    assert none.answer.startswith("not observed")


def test_humanoid_on_failure_is_pass_only_or_both_as_shape_a_failures_carry_it() -> None:
    only = seen_on(WAN, (200, WAN_PASS), (200, wan_failed_a()))["humanoid-on-failure"]
    assert (only.reading, only.answer, only.evidence) == (
        "pass-only",
        "failed check without humanoid",
        ("live-case-2",),
    )
    both = seen_on(WAN, (200, wan_failed_a(humanoid=False)))["humanoid-on-failure"]
    assert (both.reading, both.answer) == ("both", "failed check with humanoid (False)")
    mixed = seen_on(WAN, (200, wan_failed_a()), (200, wan_failed_a(humanoid=False)))
    assert mixed["humanoid-on-failure"].reading == MIXED


def test_humanoid_on_failure_is_not_observed_from_passes_or_shape_b_failures() -> None:
    seen = seen_on(WAN, (200, WAN_PASS), (400, WAN_FAILED_B))["humanoid-on-failure"]
    assert (seen.reading, seen.evidence) == (None, ())
    assert seen.answer == "not observed: no failed check came back as HTTP 200 with an output"


ODD_ANSWERS = [
    (200, "not json at all"),
    (200, {"output": "a string"}),
    (200, {"output": {"check_pass": True, "pass": True, "bbox_face": [9, 9, 1, 1]}}),
    (200, {"output": {"ext_bbox_face": [0, 0, 9, 9], "bbox_face": [0, 0, 9, 9], "code": 3}}),
    (200, {"output": {"pass": True, "message": None}, "usage": "all"}),
    (400, {"code": ["InvalidFile.NoHuman"]}),
    (500, None),
]


@pytest.mark.parametrize("folder", list(MODELS))
def test_no_observer_fails_on_answers_nobody_documented(folder: str) -> None:
    """The registry would turn an exception into "could not be observed": none comes."""
    contracts = MODELS[folder]
    for seen in seen_on(contracts, *ODD_ANSWERS).values():
        assert not seen.answer.startswith("could not be observed"), (seen.question, seen.answer)


KEY = "sk-unit-" + "ef56" * 8


def fake_run(tmp_path: Path, contracts: Contracts, readings: dict[str, str]) -> list[Verdict]:
    """A live run of the model's own default cases against its fake playing ``readings``."""
    fake = FaceDetectFake(api_keys={KEY}, contracts=contracts, readings=readings)
    run = LiveRun(
        LiveSettings(qps=0, examples=0, record_dir=tmp_path),
        default_cases(contracts),
        contracts=contracts,
        environ={contracts.profile.api_key_env: KEY},
        transport=httpx.MockTransport(fake_handler(fake)),
        sleep=lambda _seconds: None,
    )
    run.execute()
    return list(run.verdicts.values())


@pytest.mark.parametrize(
    ("folder", "question", "reading"),
    [
        ("liveportrait-detect", "message-on-pass", "empty"),
        ("liveportrait-detect", "message-on-pass", "absent"),
        ("liveportrait-detect", "failure-billing", "billed"),
        ("liveportrait-detect", "failure-billing", "not-billed"),
        ("emoji-detect-v1", "verdict-less-pass", "boxes-only"),
        ("emoji-detect-v1", "verdict-less-pass", "empty-code"),
        ("wan2.2-s2v-detect", "failure-status", "A"),
        ("wan2.2-s2v-detect", "failure-status", "B"),
        ("wan2.2-s2v-detect", "humanoid-on-failure", "pass-only"),
        ("wan2.2-s2v-detect", "humanoid-on-failure", "both"),
    ],
)
def test_a_run_against_the_fake_playing_a_reading_observes_that_reading(
    tmp_path: Path, folder: str, question: str, reading: str
) -> None:
    contracts = MODELS[folder]
    verdicts = fake_run(tmp_path, contracts, {question: reading})
    seen = observed(verdicts, contracts)[question]
    assert (seen.reading, seen.question) == (reading, question), seen.answer
    assert seen.evidence
