"""Behaviour drift: a live answer is compared with the fixture that answered the same request."""

from __future__ import annotations

from typing import Any

from facedetect_contract.drift import recording_for
from facedetect_contract.interaction import Interaction, RecordedRequest, RecordedResponse

JSON = {"content-type": "application/json"}
PASSED = {
    "output": {
        "check_pass": True,
        "face_bbox": [302, 286, 610, 593],
        "ext_bbox": [71, 9, 840, 778],
    },
    "usage": {"image_count": 1},
    "request_id": "r-pass",
}
REFUSED = {"code": "InvalidApiKey", "message": "Invalid API-key provided.", "request_id": "r-401"}


def request(url: str = "https://example.com/p.png", ratio: str = "1:1") -> RecordedRequest:
    body = {"model": "emo-detect-v1", "input": {"image_url": url}, "parameters": {"ratio": ratio}}
    return RecordedRequest("POST", {**JSON, "authorization": "Bearer <redacted>"}, body)


def fixture(
    name: str,
    kind: str = "documented",
    date: str = "2026-02-11",
    *,
    status: int = 200,
    body: Any = PASSED,
    sent: RecordedRequest | None = None,
) -> Interaction:
    return Interaction(
        name,
        request() if sent is None else sent,
        RecordedResponse(status, JSON, body, body_is_json=not isinstance(body, str)),
        provenance={"kind": kind, "date": date},
    )


LIVE = fixture("live-answer", "live")


def test_the_fixture_of_the_same_request_is_the_recording() -> None:
    documented = fixture("documented-pass")
    other = fixture("other-image", sent=request("https://example.com/q.png"))
    assert recording_for(LIVE, [other, documented]) is documented


def test_the_newest_recording_wins_over_the_documented_example() -> None:
    documented = fixture("documented-pass", date="2026-12-31")
    older = fixture("recorded-old", "recorded", "2026-03-01")
    newest = fixture("recorded-new", "recorded", "2026-04-01")
    assert recording_for(LIVE, [older, documented, newest]) is newest
    assert recording_for(LIVE, [documented, older]) is older


def test_without_a_fixture_of_the_same_request_there_is_no_recording() -> None:
    at_another_ratio = fixture("at-3-4", sent=request(ratio="3:4"))
    without_the_key = fixture(
        "no-key", sent=RecordedRequest("POST", JSON, request().body), status=401, body=REFUSED
    )
    assert recording_for(LIVE, [at_another_ratio, without_the_key]) is None
    assert recording_for(LIVE, []) is None


def test_a_fixture_whose_answer_is_no_check_result_is_not_a_candidate() -> None:
    refused = fixture("recorded-401", "recorded", "2026-05-01", status=401, body=REFUSED)
    unexplained = fixture("recorded-html", "recorded", "2026-05-02", body="<html>busy</html>")
    assert recording_for(LIVE, [refused, unexplained]) is None
    documented = fixture("documented-pass")
    assert recording_for(LIVE, [refused, unexplained, documented]) is documented
