"""The typed client reads the model's shape: each model's documented answers become its typed
results (a pass without boxes for a model that has none, a failure's code and message where the
model puts them), and ``detect`` sends a ratio only to a model that has one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from facedetect_contract.client import CheckFailed, CheckPassed, FaceDetectClient
from facedetect_contract.contracts.fixtures import load_fixtures
from facedetect_contract.contracts.loader import Contracts, load_contracts
from facedetect_contract.core.interaction import Interaction

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "http://127.0.0.1:9/api/v1"  # nothing leaves the process: a mock transport answers
KEY = "gwkey-MODELS-0123456789abcdef"
LIVEPORTRAIT = load_contracts(ROOT / "contracts" / "liveportrait-detect")
EMOJI = load_contracts(ROOT / "contracts" / "emoji-detect-v1")
EMO = load_contracts(ROOT / "contracts" / "face-detect")


def documented(contracts: Contracts, name: str) -> Interaction:
    folder = ROOT / "fixtures" / Path(contracts.directory).name
    return next(f for f in load_fixtures(folder, contracts) if f.name == name)


def answering(
    contracts: Contracts, fixture: Interaction | None, seen: list[Any]
) -> FaceDetectClient:
    """A client of ``contracts`` whose every request gets ``fixture``'s answer (the documented
    pass without one); the bodies it sent land in ``seen``."""
    answer = fixture or documented(contracts, "documented-pass")

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.read()))
        return httpx.Response(
            answer.response.status,
            json=answer.response.body,
            headers={"content-type": "application/json"},
        )

    return FaceDetectClient(
        base_url=LOOPBACK,
        environ={contracts.profile.api_key_env: KEY},
        transport=httpx.MockTransport(handle),
        contracts=contracts,
    )


def test_a_pass_of_a_model_without_boxes_is_a_check_passed_without_boxes() -> None:
    seen: list[Any] = []
    with answering(LIVEPORTRAIT, None, seen) as client:
        result = client.detect("https://example.com/portraits/documented-pass.png")
    assert isinstance(result, CheckPassed)
    assert (result.face_bbox, result.ext_bbox) == (None, None)
    assert result.image_count == 1


def test_liveportraits_failure_is_a_check_failed_with_its_message() -> None:
    fixture = documented(LIVEPORTRAIT, "documented-fail")
    with answering(LIVEPORTRAIT, fixture, []) as client:
        result = client.detect("https://example.com/portraits/documented-fail.png")
    assert isinstance(result, CheckFailed)
    assert result.message == fixture.response.body["output"]["message"]
    assert result.code == ""  # the model's failure carries no code
    assert result.billed


def test_emojis_pass_carries_its_two_boxes_and_its_failure_its_code() -> None:
    passed = documented(EMOJI, "documented-pass")
    with answering(EMOJI, passed, []) as client:
        result = client.detect("https://example.com/portraits/documented-pass.png")
    assert isinstance(result, CheckPassed)
    output = passed.response.body["output"]
    assert (list(result.face_bbox or ()), list(result.ext_bbox or ())) == (
        output["bbox_face"],
        output["ext_bbox_face"],
    )
    failed = documented(EMOJI, "documented-fail")
    with answering(EMOJI, failed, []) as client:
        failure = client.detect("https://example.com/portraits/documented-fail.png")
    assert isinstance(failure, CheckFailed)
    assert failure.code == failed.response.body["output"]["code"] == "InvalidFile.FacePose"
    assert failure.message == failed.response.body["output"]["message"]
    assert failure.shape == "A"


def test_detect_sends_no_ratio_to_a_model_without_one_and_refuses_one_given() -> None:
    seen: list[Any] = []
    with answering(LIVEPORTRAIT, None, seen) as client:
        client.detect("https://example.com/p.png")
        with pytest.raises(ValueError, match="liveportrait-detect has no ratio parameter"):
            client.detect("https://example.com/p.png", "1:1")
    assert seen == [
        {"model": "liveportrait-detect", "input": {"image_url": "https://example.com/p.png"}}
    ]


@pytest.mark.parametrize(
    ("contracts", "sent"), [(EMOJI, "1:1"), (EMO, None)], ids=["emoji-detect-v1", "face-detect"]
)
def test_detect_sends_the_models_own_name_and_a_ratio_it_documents(
    contracts: Contracts, sent: str | None
) -> None:
    """emoji-detect-v1 documents no default, one value: that one is sent; EMO its default."""
    seen: list[Any] = []
    with answering(
        contracts,
        documented(EMOJI, "documented-pass")
        if contracts is EMOJI
        else next(
            f
            for f in load_fixtures(ROOT / "fixtures/face-detect", EMO)
            if f.name == "documented-pass-1-1"
        ),
        seen,
    ) as client:
        client.detect("https://example.com/p.png")
    profile = contracts.profile
    assert profile.request.model.get(seen[0]) == profile.model
    assert profile.ratio is not None
    expected = sent if sent is not None else profile.ratio.default
    assert profile.ratio.field.get(seen[0]) == expected
