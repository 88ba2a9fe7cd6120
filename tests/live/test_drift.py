"""Behaviour drift: a live answer is compared with the fixture that answered the same request."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from facedetect_contract.contracts.loader import CONTRACT_DIR, Contracts, load_contracts
from facedetect_contract.core.interaction import Interaction, RecordedRequest, RecordedResponse
from facedetect_contract.live.drift import recording_for
from tests.helpers.bodies import documented_pass_body

CONTRACTS = load_contracts()

JSON = {"content-type": "application/json"}
PASSED = documented_pass_body(request_id="r-pass")
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
    assert recording_for(LIVE, [other, documented], CONTRACTS) is documented


def test_the_newest_recording_wins_over_the_documented_example() -> None:
    documented = fixture("documented-pass", date="2026-12-31")
    older = fixture("recorded-old", "recorded", "2026-03-01")
    newest = fixture("recorded-new", "recorded", "2026-04-01")
    assert recording_for(LIVE, [older, documented, newest], CONTRACTS) is newest
    assert recording_for(LIVE, [documented, older], CONTRACTS) is older


def test_without_a_fixture_of_the_same_request_there_is_no_recording() -> None:
    at_another_ratio = fixture("at-3-4", sent=request(ratio="3:4"))
    without_the_key = fixture(
        "no-key", sent=RecordedRequest("POST", JSON, request().body), status=401, body=REFUSED
    )
    assert recording_for(LIVE, [at_another_ratio, without_the_key], CONTRACTS) is None
    assert recording_for(LIVE, [], CONTRACTS) is None


def test_a_fixture_whose_answer_is_no_check_result_is_not_a_candidate() -> None:
    refused = fixture("recorded-401", "recorded", "2026-05-01", status=401, body=REFUSED)
    unexplained = fixture("recorded-html", "recorded", "2026-05-02", body="<html>busy</html>")
    assert recording_for(LIVE, [refused, unexplained], CONTRACTS) is None
    documented = fixture("documented-pass")
    assert recording_for(LIVE, [refused, unexplained, documented], CONTRACTS) is documented


@pytest.fixture(scope="module")
def gateway_contracts(tmp_path_factory: pytest.TempPathFactory) -> Contracts:
    """The contracts of an endpoint whose async header is another name (a gateway's own)."""
    directory = tmp_path_factory.mktemp("contracts") / "face-detect"
    shutil.copytree(CONTRACT_DIR, directory)
    path = directory / "endpoint.json"
    profile = json.loads(path.read_text(encoding="utf-8"))
    profile["endpoint"]["async_header"] = "x-gateway-async"
    path.write_text(json.dumps(profile), encoding="utf-8")
    return Contracts(directory)


def with_header(name: str, value: str) -> RecordedRequest:
    sent = request()
    return RecordedRequest(sent.method, {**sent.headers, name: value}, sent.body)


def test_the_contracts_given_decide_which_async_header_makes_another_request(
    gateway_contracts: Contracts,
) -> None:
    """Rule (replay key): a request carrying the profile's async header is another request, so
    it is compared only with a recording that carried it too; the header is the one the given
    contracts name, not the packaged profile's."""
    assert gateway_contracts.profile.async_header == "x-gateway-async"
    asynchronous = with_header("X-Gateway-Async", "enable")
    live_async = fixture("live-async", "live", sent=asynchronous)
    recorded_async = fixture("recorded-async", "recorded", "2026-03-01", sent=asynchronous)
    plain = fixture("documented-pass")
    # live with the header, only a recording without it: another request, no recording
    assert recording_for(live_async, [plain], gateway_contracts) is None
    # live without the header, only a recording with it: another request, no recording
    assert recording_for(LIVE, [recorded_async], gateway_contracts) is None
    # each finds the recording of its own request
    assert recording_for(live_async, [plain, recorded_async], gateway_contracts) is recorded_async
    assert recording_for(LIVE, [recorded_async, plain], gateway_contracts) is plain
    # under the packaged contracts that header is no part of the request: the newest wins
    assert recording_for(live_async, [plain, recorded_async], CONTRACTS) is recorded_async
    assert recording_for(LIVE, [plain, recorded_async], CONTRACTS) is recorded_async


def test_an_undated_recording_is_older_than_any_dated_one() -> None:
    """Rule (newest recording first): a recording without a date cannot be shown to be newer,
    so a dated recording of the same request wins over it, whichever comes first."""
    undated = Interaction(
        "recorded-undated",
        request(),
        RecordedResponse(200, JSON, PASSED, body_is_json=True),
        provenance={"kind": "recorded"},
    )
    dated = fixture("recorded-dated", "recorded", "2026-03-01")
    assert recording_for(LIVE, [undated, dated], CONTRACTS) is dated
    assert recording_for(LIVE, [dated, undated], CONTRACTS) is dated
    # alone, an undated recording is still the recording (and beats a documented example)
    assert recording_for(LIVE, [fixture("documented-pass"), undated], CONTRACTS) is undated
