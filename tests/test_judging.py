"""Judging a live answer: where "the endpoint is down" ends and "the contract changed" begins."""

from __future__ import annotations

from typing import Any

import pytest

from facedetect_contract.contracts import load_contracts
from facedetect_contract.interaction import Interaction, RecordedRequest, RecordedResponse
from facedetect_contract.judging import endpoint_failure, judge
from facedetect_contract.plan import PlannedRequest, negative_probes
from facedetect_contract.redaction import Redactor

CONTRACTS = load_contracts()
KEY = "sk-judging-" + "c0ffee" * 6
PROBE = next(p for p in negative_probes("https://example.com/p.png") if p.name == "probe-no-key")
JSON = {"content-type": "application/json"}


def answer(status: int, content: bytes, content_type: str = "application/json") -> Interaction:
    return Interaction(
        "live-probe",
        RecordedRequest("POST", JSON, {"model": "emo-detect-v1"}),
        RecordedResponse.from_bytes(status, {"Content-Type": content_type}, content),
    )


def error_body(code: str) -> bytes:
    return b'{"code": "%s", "message": "m", "request_id": "r"}' % code.encode()


def verdict_of(final: Interaction, attempts: int = 3, planned: PlannedRequest = PROBE) -> Any:
    return judge(
        planned,
        final,
        [final] * attempts,
        contracts=CONTRACTS,
        redactor=Redactor([KEY]),
        endpoint="http://127.0.0.1:9/api/v1",
        strict_drift=False,
    )


@pytest.mark.parametrize(
    ("status", "content", "content_type", "failure"),
    [
        (429, error_body("Throttling.RateQuota"), "application/json", "throttled"),
        (429, b"slow down", "text/plain", "throttled"),
        (500, error_body("InternalError"), "application/json", "failing"),
        (503, error_body("ModelUnavailable"), "application/json", "failing"),
        (502, b"<html><body>Bad Gateway</body></html>", "text/html", "failing"),
        (504, error_body("GatewayTimeout"), "application/json", "failing"),  # a gateway's JSON
        (505, b"HTTP Version Not Supported", "text/plain", "failing"),  # any 5xx not JSON
        (501, error_body("NotImplemented"), "application/json", None),  # judged by the checks
        (500, b'{"code": "InternalError", "code": "x"}', "application/json", "failing"),
        (401, error_body("InvalidApiKey"), "application/json", None),
        (400, b"<html>bad request</html>", "text/html", None),  # a 4xx not JSON is drift
        (200, b"{}", "application/json", None),
    ],
    ids=[
        "429",
        "429-text",
        "500",
        "503",
        "gateway-502",
        "gateway-504",
        "505-text",
        "501-json",
        "500-duplicate-key",
        "401",
        "400-html",
        "200",
    ],
)
def test_a_final_answer_says_throttled_failing_or_nothing_about_the_endpoint(
    status: int, content: bytes, content_type: str, failure: str | None
) -> None:
    assert endpoint_failure(answer(status, content, content_type), CONTRACTS) == failure


def test_a_failing_endpoint_is_an_error_of_the_run_whose_reason_quotes_the_body() -> None:
    page = b"<html>\n  <body>Bad   Gateway: upstream " + KEY.encode() + b" down</body>" + b"x" * 300
    verdict = verdict_of(answer(502, page, "text/html"))
    assert (verdict.status, verdict.is_run_error, verdict.violations) == ("failing", True, ())
    assert verdict.reason.startswith(
        "endpoint failing: still HTTP 502 after 2 retries (an error of the run, not drift); "
        "the body begins '<html> <body>Bad Gateway: upstream <redacted> down</body>xxx"
    )
    assert verdict.reason.endswith("'; run again later")
    assert KEY not in verdict.reason
    assert len(verdict.attempts) == 3


def test_a_json_error_of_a_failing_endpoint_is_named_by_its_code() -> None:
    verdict = verdict_of(answer(503, error_body("ModelUnavailable")), attempts=1)
    assert verdict.reason.startswith(
        "endpoint failing: still HTTP 503 ModelUnavailable after 0 retries (an error of the run, "
        "not drift); the body begins "
    )


def test_a_throttled_endpoint_says_how_to_get_through_and_is_no_drift() -> None:
    verdict = verdict_of(answer(429, error_body("Throttling.RateQuota")))
    assert (verdict.status, verdict.violations, verdict.message) == ("throttled", (), None)
    assert verdict.reason == (
        "throttled: still HTTP 429 Throttling.RateQuota after 2 retries "
        "(an error of the run, not drift); lower --live-qps or run again later"
    )


def test_a_501_with_an_error_body_is_judged_by_the_checks() -> None:
    verdict = verdict_of(answer(501, error_body("NotImplemented")))
    assert (verdict.status, verdict.is_run_error) == ("judged", False)
    assert verdict.breaking  # 501 is no documented status: drift, not an outage
    assert verdict.message is not None
    assert verdict.message.startswith("probe-no-key: ")
