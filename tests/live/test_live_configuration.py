"""A live run tells a wrong configuration from drift, over real HTTP against the honest stub.

Issue: ``--base-url http://127.0.0.1:PORT/v1`` (the ``/api`` forgotten) read as 21 breaking
findings. Both sides of the line: a base URL that is not an API root is a usage error; answers no
documented reading explains are an error of the run with no finding; a documented answer
(``ModelNotFound`` for a retired model) is still drift.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from facedetect_contract.contracts.cases import DEFAULT_CASES_FILE, load_cases
from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.core.violations import Severity
from facedetect_contract.doubles.fake import FakeRequest, FakeResponse
from facedetect_contract.doubles.server import RunningServer, serve_in_thread
from facedetect_contract.live.run import LiveRun, LiveSettings
from facedetect_contract.report import LiveReport

CONTRACTS = load_contracts()

KEY = "sk-config-" + "cd34" * 8
PATH = "/services/aigc/image2video/face-detect"


@pytest.fixture(scope="module")
def stub() -> Iterator[RunningServer]:
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR) as running:
        yield running


def run_against(base_url: str, **options: Any) -> LiveRun:
    settings = LiveSettings(base_url=base_url, qps=0, examples=2, timeout=5, deadline=30, **options)
    return LiveRun(
        settings, load_cases(DEFAULT_CASES_FILE, CONTRACTS), environ={"DASHSCOPE_API_KEY": KEY}
    )


@pytest.mark.parametrize("tail", ["/v1", "/api", "/api/v1" + PATH], ids=["v1", "api", "endpoint"])
def test_a_base_url_that_is_no_api_root_is_refused_before_anything_is_sent(stub, tail):
    origin = stub.base_url.removesuffix("/api/v1")
    with pytest.raises(ValueError, match="base URL") as raised:
        run_against(origin + tail)
    assert "/api/v1" in str(raised.value)  # the fix is named


def test_a_base_url_where_nothing_documented_answers_is_the_runs_configuration(stub, tmp_path):
    origin = stub.base_url.removesuffix("/api/v1")
    run = run_against(origin + "/gateway/api/v1", record_dir=tmp_path)  # the stub 404s there
    try:
        run.execute()
    finally:
        run.close()
    report = LiveReport.from_run(run)
    assert report.findings == () and report.exit_status != 0
    assert report.outcome != "drift"
    (error,) = [e for e in run.all_errors if "configuration" in e]
    assert "is the base URL right?" in error and "404" in error
    assert {v.status for v in run.verdicts.values()} <= {"misconfigured", "not-sent"}


def test_a_retired_model_answering_the_documented_code_is_still_drift(stub, tmp_path):
    gone = {"code": "ModelNotFound", "message": "Model not exist.", "request_id": "r-1"}

    def retired(request: FakeRequest, response: FakeResponse) -> FakeResponse:
        if response.status == 401:  # the key is checked before the model
            return response
        return FakeResponse(404, response.headers, json.dumps(gone).encode())

    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR, response_hook=retired) as gone_stub:
        run = run_against(gone_stub.base_url, record_dir=tmp_path)
        try:
            run.execute()
        finally:
            run.close()
    report = LiveReport.from_run(run)
    assert not [e for e in run.all_errors if "configuration" in e]
    assert report.by_severity(Severity.BREAKING)
    assert report.outcome == "drift"
    json.dumps(report.to_dict())
