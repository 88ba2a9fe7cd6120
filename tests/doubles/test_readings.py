"""Every reading of every open question is playable on the fake, and the fake answers as each
reading's ``play`` (questions.json) encodes, within its own contracts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.checks import run_checks
from facedetect_contract.contracts.loader import ContractFileError, load_contracts
from facedetect_contract.contracts.outcome import classify
from facedetect_contract.contracts.questions import (
    combination_id,
    default_readings,
    pairwise_cover,
    reading_id,
    reading_pairs,
)
from facedetect_contract.core.interaction import Interaction, RecordedRequest, RecordedResponse
from facedetect_contract.doubles.fake import FaceDetectFake, FakeRequest, FakeResponse

KEY = "sk-readings-test-key"
CONTRACTS = load_contracts()
QUESTIONS = CONTRACTS.questions
DOC_URL = CONTRACTS.profile.example_images[0].url
OSS_HEADER = "X-DashScope-OssResourceResolve"


def headers(**extra: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}", **extra}


def body(url: str = DOC_URL, ratio: str | None = "1:1", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"model": CONTRACTS.profile.model, "input": {"image_url": url}}
    if ratio is not None:
        data["parameters"] = {"ratio": ratio}
    return data | extra


def send(fake: FaceDetectFake, payload: Any, **extra: str) -> FakeResponse:
    return fake(FakeRequest("POST", headers(**extra), json.dumps(payload).encode()))


def faithful(response: FakeResponse, payload: Any) -> None:
    """The answer is one of the contracts' kinds and passes every check."""
    interaction = Interaction(
        "fake",
        RecordedRequest("POST", {}, payload),
        RecordedResponse(response.status, dict(response.headers), response.json()),
    )
    assert classify(interaction.response, CONTRACTS).kind is not None, response.json()
    assert run_checks(interaction, CONTRACTS) == [], response.json()


# A few requests that meet every reading: a pass, a named failure, an error.
PROBES = (
    body(),
    body("https://images.example/no-human.png"),
    body("https://images.example/portrait.png", "3:4"),
    body(ratio="16:9"),
)


@pytest.mark.parametrize(
    ("question", "reading"),
    reading_pairs(QUESTIONS),
    ids=[reading_id(*p) for p in reading_pairs(QUESTIONS)],
)
def test_every_reading_is_playable_and_its_answers_stay_within_the_contracts(
    question: str, reading: str
) -> None:
    fake = FaceDetectFake(api_keys={KEY}, readings={question: reading})
    assert fake.readings[question] == reading
    for payload in PROBES:
        faithful(send(fake, payload), payload)


def play(question: str, reading: str) -> FaceDetectFake:
    return FaceDetectFake(api_keys={KEY}, readings={question: reading})


def test_the_defaults_are_the_double_defaults_and_play_as_before() -> None:
    fake = FaceDetectFake(api_keys={KEY})
    assert dict(fake.readings) == default_readings(QUESTIONS)
    failed = send(fake, body("https://images.example/no-human.png"))
    output = failed.json()["output"]
    assert failed.status == 200 and output["code"] == "InvalidFile.NoHuman" and output["message"]
    assert "humanoid" not in output and failed.json()["usage"] == {"image_count": 1}
    passed = send(fake, body(ratio=None))
    assert passed.status == 200 and "x-request-id" not in passed.headers
    assert send(fake, body(extra=1)).status == 200
    assert send(fake, body(), **{"X-DashScope-Async": "enable"}).status == 403


@pytest.mark.parametrize(
    ("reading", "expected"), [("empty", {"code": "", "message": ""}), ("absent", {})]
)
def test_failure_details_empty_or_absent(reading: str, expected: dict[str, str]) -> None:
    response = send(play("failure-details", reading), body("https://x.example/multi-human.png"))
    assert response.json()["output"] == {"check_pass": False, **expected}


def test_humanoid_returned_appears_in_pass_and_fail_answers() -> None:
    fake = play("humanoid-returned", "returned")
    assert send(fake, body()).json()["output"]["humanoid"] is True
    assert send(fake, body("https://x.example/no-human.png")).json()["output"]["humanoid"] is False


@pytest.mark.parametrize(
    ("payload", "code", "message"),
    [
        (body(ratio=None), "BadRequest.EmptyParameters", 'Required parameter "parameters" missing from request.'),
        (body() | {"parameters": {}}, "InvalidParameter", "Required parameter(parameters.ratio) missing or invalid, please check the request parameters."),
    ],
)  # fmt: skip
def test_ratio_required_refuses_a_request_without_a_ratio(
    payload: dict[str, Any], code: str, message: str
) -> None:
    response = send(play("ratio-default", "required"), payload)
    assert (response.status, response.json()["code"], response.json()["message"]) == (
        400,
        code,
        message,
    )
    assert send(play("ratio-default", "optional"), payload).status == 200


def test_failure_not_billed_drops_usage_and_the_bill() -> None:
    fake = play("failure-billing", "not-billed")
    response = send(fake, body("https://x.example/no-human.png"))
    assert "usage" not in response.json() and fake.billed == 0


def test_within_one_pixel_answers_the_crop_with_inclusive_corners() -> None:
    exact = send(play("box-conventions", "exact-ratio"), body()).json()["output"]["ext_bbox"]
    off = send(play("box-conventions", "within-one-pixel"), body()).json()["output"]["ext_bbox"]
    assert off == [exact[0], exact[1], exact[2] - 1, exact[3] - 1]


def test_http_only_refuses_an_https_url_and_takes_an_http_one() -> None:
    fake = play("image-url", "http-only")
    assert send(fake, body()).json()["code"] == "InvalidURL"
    assert send(fake, body("http://images.example/portrait.png")).status == 200


@pytest.mark.parametrize("reading", [r.id for r in QUESTIONS["throttle-code"].readings])
def test_the_throttle_answers_the_code_its_reading_names(reading: str) -> None:
    response = play("throttle-code", reading).reject("throttled", headers={"Retry-After": "1"})
    assert (response.status, response.json()["code"]) == (
        CONTRACTS.profile.throttle_status,
        reading,
    )


def test_unknown_fields_rejected_refuses_a_field_at_any_level_the_contract_describes() -> None:
    fake = play("unknown-fields", "rejected")
    for payload, where in (
        (body(extra=1), "extra"),
        (body() | {"input": {"image_url": DOC_URL, "mask": 1}}, "input.mask"),
        (body() | {"parameters": {"ratio": "1:1", "style": 1}}, "parameters.style"),
    ):
        answer = send(fake, payload).json()
        assert answer["code"] == "InvalidParameter" and f"({where})" in answer["message"]
    assert send(fake, body()).status == 200


def test_async_header_ignored_runs_the_check() -> None:
    assert (
        send(play("async-header", "ignored"), body(), **{"X-DashScope-Async": "enable"}).status
        == 200
    )


def test_request_id_header_present_sends_the_bodys_request_id() -> None:
    fake = play("request-id-header", "present")
    for payload in PROBES:
        response = send(fake, payload)
        assert response.headers["x-request-id"] == response.json()["request_id"]


@pytest.mark.parametrize("name", ["portrait.png", "no-human.png"])
def test_an_oss_url_is_judged_by_its_name_with_the_header_and_refused_without_it(name: str) -> None:
    url = f"oss://dashscope-instant/abc/2026-01-01/xyz/{name}"
    fake = FaceDetectFake(api_keys={KEY})
    resolved = send(fake, body(url), **{OSS_HEADER: "enable"}).json()
    assert resolved["output"]["check_pass"] is (name == "portrait.png")
    for extra in ({}, {OSS_HEADER: "disable"}):
        assert send(fake, body(url), **extra).json()["code"] == "InvalidURL"
    refused = play("oss-url", "refused")
    assert send(refused, body(url), **{OSS_HEADER: "enable"}).json()["code"] == "InvalidURL"


def test_an_unknown_question_or_reading_is_refused_naming_it_and_the_valid_ones() -> None:
    with pytest.raises(
        ValueError, match=r"no open question 'nope' \(reading 'x'\).*'failure-shape'"
    ):
        FaceDetectFake(api_keys={KEY}, readings={"nope": "x"})
    with pytest.raises(
        ValueError, match=r"'failure-details' has no reading 'x'.*'filled', 'empty', 'absent'"
    ):
        FaceDetectFake(api_keys={KEY}, readings={"failure-details": "x"})
    with pytest.raises(ValueError, match=r"failure_shape='B' is reading 'B'.*asks for 'A'"):
        FaceDetectFake(api_keys={KEY}, failure_shape="B", readings={"failure-shape": "A"})


def test_failure_shape_is_a_shorthand_for_its_reading() -> None:
    fake = FaceDetectFake(api_keys={KEY}, failure_shape="B")
    assert fake.readings["failure-shape"] == "B" and fake.failure_shape == "B"
    assert send(fake, body("https://x.example/no-human.png")).status == 400


def test_the_pairwise_cover_covers_every_pair_and_stays_small() -> None:
    cover = pairwise_cover(QUESTIONS)
    ids = list(QUESTIONS)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            for x in QUESTIONS[a].readings:
                for y in QUESTIONS[b].readings:
                    assert any(row[a] == x.id and row[b] == y.id for row in cover), (a, x, b, y)
    sizes = sorted((len(q.readings) for q in QUESTIONS.values()), reverse=True)
    assert len(cover) <= 2 * sizes[0] * sizes[1]
    assert len({combination_id(row, QUESTIONS) for row in cover}) == len(cover)


@pytest.mark.parametrize(
    "row", pairwise_cover(QUESTIONS), ids=lambda row: combination_id(row, QUESTIONS)
)
def test_every_combination_of_the_cover_plays_within_the_contracts(row: dict[str, str]) -> None:
    fake = FaceDetectFake(api_keys={KEY}, readings=row)
    for payload in PROBES:
        faithful(send(fake, payload), payload)


def edited(tmp_path: Path, edit: Any) -> Any:
    directory = tmp_path / "face-detect"
    shutil.copytree(CONTRACTS.directory, directory)
    data = json.loads((directory / "questions.json").read_text(encoding="utf-8"))
    edit(data)
    (directory / "questions.json").write_text(json.dumps(data), encoding="utf-8")
    return load_contracts(directory)


def test_a_new_reading_with_its_play_is_playable_without_code(tmp_path: Path) -> None:
    def add(data: dict[str, Any]) -> None:
        question = next(q for q in data["questions"] if q["id"] == "failure-details")
        question["readings"].append(
            {**question["readings"][0], "id": "message-only",
             "play": {"answers": [{"on": ["check-failed-a"], "remove": ["reason_code"]}]}}
        )  # fmt: skip

    fake = FaceDetectFake(
        api_keys={KEY},
        contracts=edited(tmp_path, add),
        readings={"failure-details": "message-only"},
    )
    output = send(fake, body("https://x.example/no-human.png")).json()["output"]
    assert set(output) == {"check_pass", "message"}


@pytest.mark.parametrize(
    ("play", "field"),
    [
        ({"failure_answer": "check-passed"}, "play/failure_answer"),
        ({"answers": [{"on": ["nope"], "remove": ["usage"]}]}, "play/answers/0/on"),
        ({"answers": [{"on": ["check-passed"], "remove": ["nope"]}]}, "play/answers/0/remove"),
        ({"require": [{"field": "nope", "refuse": {"rejection": "field-invalid"}}]}, "play/require/0/field"),
        ({"refuse_headers": [{"header": "x", "refuse": {"code": "Nope"}}]}, "play/refuse_headers/0/refuse/code"),
        ({"rejections": {"throttled": "Nope"}}, "play/rejections/throttled"),
        ({"refuse": [{"field": "image_url", "matches": "(", "refuse": {"rejection": "url-invalid"}}]}, "play/refuse/0/matches"),
    ],
)  # fmt: skip
def test_a_play_the_contracts_cannot_carry_out_is_a_load_error_naming_it(
    tmp_path: Path, play: dict[str, Any], field: str
) -> None:
    def broken(data: dict[str, Any]) -> None:
        data["questions"][1]["readings"][1]["play"] = play

    with pytest.raises(ContractFileError) as raised:  # loading the folder refuses it
        edited(tmp_path, broken)
    text = str(raised.value)
    assert "questions.json: question 'failure-details', reading 'empty': at " + field in text


def test_the_double_page_lists_every_reading_and_every_image_name() -> None:
    """docs/double.md is the double's reference: the names table and the readings in full."""
    from facedetect_contract.doubles.fake import image_names

    page = (Path(__file__).resolve().parents[2] / "docs" / "double.md").read_text(encoding="utf-8")
    for question, reading in reading_pairs(QUESTIONS):
        assert f"| `{question}` | `{reading}`" in page, reading_id(question, reading)
    for row in image_names(CONTRACTS):
        assert f"| `{row.name}` |" in page, row.name
