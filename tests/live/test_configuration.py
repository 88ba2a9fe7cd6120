"""A wrong configuration is named as such, never judged as drift: the line is drawn both sides."""

from __future__ import annotations

import pytest

from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.core.interaction import Interaction, RecordedRequest, RecordedResponse
from facedetect_contract.live.configuration import Answered, base_url_problem, misconfiguration

CONTRACTS = load_contracts()
PATH = CONTRACTS.profile.path
ENDPOINT = "http://127.0.0.1:8000/api/v1" + PATH


@pytest.mark.parametrize(
    ("base_url", "says"),
    [
        ("http://127.0.0.1:8000/v1", "is /api missing?"),
        ("http://127.0.0.1:8000/api", "is /v1 missing?"),
        ("http://127.0.0.1:8000/api/v1" + PATH, "includes the endpoint's path"),
        ("http://127.0.0.1:8000/api/v1" + PATH + "/", "includes the endpoint's path"),
        ("http://127.0.0.1:8000/api/v1/services/aigc", "includes the endpoint's path"),
        ("https://dashscope.aliyuncs.com" + PATH, "such as https://dashscope.aliyuncs.com/api/v1 "),
    ],
)
def test_a_base_url_that_is_not_an_api_root_is_a_usage_error_naming_the_fix(base_url, says):
    problem = base_url_problem(base_url, CONTRACTS)
    assert problem is not None and says in problem


@pytest.mark.parametrize(
    "base_url",
    [
        "https://dashscope.aliyuncs.com/api/v1",
        "https://dashscope-intl.aliyuncs.com/api/v1/",
        "https://ws-123.cn-beijing.maas.aliyuncs.com/api/v1",
        "http://127.0.0.1:8000/gateway/dashscope/api/v1",  # a gateway's own prefix
        "http://127.0.0.1:8000",  # a stub or gateway at its root: the run's rule stands behind
    ],
)
def test_an_api_root_or_a_gateway_prefix_is_accepted(base_url):
    assert base_url_problem(base_url, CONTRACTS) is None


def _answer(status: int, body: object, *, keyed: bool = True, content_type: str = "") -> Answered:
    headers = {"content-type": content_type or "application/json"}
    response = RecordedResponse(status, headers, body, body_is_json=not isinstance(body, str))
    request = RecordedRequest("POST", {}, {})
    return Answered(Interaction("x", request, response), keyed=keyed)


NOT_FOUND = {"code": "NotFound", "message": "Not Found", "request_id": "r"}


def test_every_answer_an_undocumented_404_is_the_runs_configuration_not_drift():
    answers = [_answer(404, NOT_FOUND), _answer(404, NOT_FOUND, keyed=False)] * 5
    why = misconfiguration(answers, CONTRACTS, ENDPOINT)
    assert why is not None
    assert "got HTTP 404 NotFound" in why and "is the base URL right?" in why
    assert f"BASE{PATH}" in why and "http://127.0.0.1:8000/api/v1" in why


def test_a_login_page_for_every_request_is_the_runs_configuration():
    page = "<html><body>Sign in</body></html>"
    answers = [_answer(200, page, content_type="text/html; charset=utf-8")] * 3
    why = misconfiguration(answers, CONTRACTS, ENDPOINT)
    assert why is not None and "HTTP 200 (text/html)" in why


def test_a_retired_model_answering_the_documented_model_not_found_stays_drift():
    gone = {"code": "ModelNotFound", "message": "Model not exist.", "request_id": "r"}
    answers = [_answer(404, gone)] * 3 + [_answer(401, {"code": "InvalidApiKey"}, keyed=False)]
    assert misconfiguration(answers, CONTRACTS, ENDPOINT) is None


def test_one_documented_answer_among_foreign_ones_is_enough_to_judge_the_rest_as_drift():
    answers = [_answer(404, NOT_FOUND)] * 5 + [_answer(400, {"code": "InvalidParameter"})]
    assert misconfiguration(answers, CONTRACTS, ENDPOINT) is None


def test_keyed_requests_answered_as_the_ones_without_a_key_name_the_key():
    refused = {"code": "InvalidApiKey", "message": "Invalid API-key provided.", "request_id": "r"}
    answers = [_answer(401, refused)] * 4 + [_answer(401, refused, keyed=False)]
    why = misconfiguration(answers, CONTRACTS, ENDPOINT)
    assert why is not None and CONTRACTS.profile.api_key_env in why


def test_a_run_with_no_answer_is_left_to_the_other_rules():
    assert misconfiguration([], CONTRACTS, ENDPOINT) is None


def test_endpoint_text_in_the_message_is_inert():
    hostile = {"code": "\x1b]52;c;eA==\x07NotFound", "message": "x"}
    why = misconfiguration([_answer(404, hostile)], CONTRACTS, ENDPOINT)
    assert why is not None and "\x1b" not in why and "\x07" not in why


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (200, {"output": {"checkPass": True}}, ""),  # a renamed field in every answer
        (200, "", "application/json"),  # an empty body to everything
        (299, {"code": "x"}, ""),  # an odd status
        (500, "oops", "text/plain"),
    ],
    ids=["renamed", "empty-200", "odd-status", "plain-500"],
)
def test_an_answer_in_the_apis_own_form_however_broken_is_drift_not_configuration(
    status, body, content_type
):
    answers = [_answer(status, body, content_type=content_type)] * 3
    answers.append(_answer(status, body, keyed=False, content_type=content_type))
    assert misconfiguration(answers, CONTRACTS, ENDPOINT) is None


def test_a_405_for_every_request_is_the_runs_configuration():
    answers = [_answer(405, "Method Not Allowed", content_type="text/plain")] * 2
    assert misconfiguration(answers, CONTRACTS, ENDPOINT) is not None
