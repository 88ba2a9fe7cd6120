"""The endpoint-fault predicate: which answers say the endpoint is throttling or failing, and the
one home the client's retries and live judging both ask."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import httpx
import pytest

import facedetect_contract
from facedetect_contract.client import FaceDetectClient
from facedetect_contract.contracts import faults
from facedetect_contract.contracts.faults import endpoint_fault
from facedetect_contract.contracts.loader import CONTRACT_DIR, Contracts, load_contracts
from facedetect_contract.core.interaction import RecordedResponse
from facedetect_contract.core.redaction import Redactor
from facedetect_contract.live.judging import judge
from facedetect_contract.live.plan import negative_probes

CONTRACTS = load_contracts()
KEY = "sk-faults-" + "c0ffee" * 6
LOOPBACK = "http://127.0.0.1:9/api/v1"
PROBE = next(
    p for p in negative_probes("https://example.com/p.png", CONTRACTS) if p.name == "probe-no-key"
)
PAGE = b"<html><body>Bad Gateway</body></html>"


def error_body(code: str) -> bytes:
    return b'{"code": "%s", "message": "m", "request_id": "r"}' % code.encode()


def response(
    status: int, content: bytes, content_type: str = "application/json"
) -> RecordedResponse:
    return RecordedResponse.from_bytes(status, {"Content-Type": content_type}, content)


ANSWERS = [
    (429, error_body("Throttling.RateQuota"), "application/json", "throttled"),
    (429, b"slow down", "text/plain", "throttled"),
    (500, error_body("InternalError"), "application/json", "failing"),
    (503, error_body("ModelUnavailable"), "application/json", "failing"),
    (502, PAGE, "text/html", "failing"),
    (504, error_body("GatewayTimeout"), "application/json", "failing"),  # a gateway's JSON
    (505, b"HTTP Version Not Supported", "text/plain", "failing"),  # any 5xx not JSON
    (501, error_body("NotImplemented"), "application/json", None),  # judged by the checks
    (500, b'{"code": "InternalError", "code": "x"}', "application/json", "failing"),
    (401, error_body("InvalidApiKey"), "application/json", None),
    (400, b"<html>bad request</html>", "text/html", None),  # a 4xx not JSON is drift
    (200, b"{}", "application/json", None),
]
IDS = [
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
]


@pytest.mark.parametrize(("status", "content", "content_type", "fault"), ANSWERS, ids=IDS)
def test_a_final_answer_says_throttled_failing_or_nothing_about_the_endpoint(
    status: int, content: bytes, content_type: str, fault: str | None
) -> None:
    assert endpoint_fault(response(status, content, content_type), CONTRACTS) == fault


def table_without_retries(directory: Path, statuses: set[int] | None = None) -> Contracts:
    """The contracts with the error table's rows of ``statuses`` (all without) not retryable."""
    shutil.copytree(CONTRACT_DIR, directory)
    path = directory / "errors.json"
    table = json.loads(path.read_text(encoding="utf-8"))
    for row in table["errors"]:
        if statuses is None or row["status"] in statuses:
            row["retryable"] = False
    path.write_text(json.dumps(table), encoding="utf-8")
    return Contracts(directory)


@pytest.fixture(scope="module")
def no_retryable_500(tmp_path_factory: pytest.TempPathFactory) -> Contracts:
    """The contracts with no 500 row of the error table retryable (a provider's own table)."""
    contracts = table_without_retries(tmp_path_factory.mktemp("contracts") / "face-detect", {500})
    assert 500 not in contracts.retryable_statuses
    return contracts


def test_any_5xx_whose_body_is_not_json_is_failing_whatever_the_error_table_says(
    no_retryable_500: Contracts,
) -> None:
    """Rule (errors of the run): a 5xx whose body is not JSON is the endpoint failing, even a
    status the error table does not retry; a JSON error under such a status is judged, and a
    4xx is judged whatever its body."""
    assert endpoint_fault(response(500, PAGE, "text/html"), no_retryable_500) == "failing"
    assert endpoint_fault(response(500, error_body("InternalError")), no_retryable_500) is None
    assert endpoint_fault(response(499, PAGE, "text/html"), no_retryable_500) is None
    assert endpoint_fault(response(499, PAGE, "text/html"), CONTRACTS) is None


# --- one home: the client's retries and live judging ask the same predicate ----------------------


def attempts_and_verdict(
    status: int, content: bytes, content_type: str, contracts: Contracts = CONTRACTS
) -> tuple[int, str]:
    """How many attempts the client sends for an answer that never changes, and the status live
    judging gives the last of them."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, headers={"content-type": content_type}, content=content)

    with FaceDetectClient(
        environ={"DASHSCOPE_API_KEY": KEY, "DASHSCOPE_HTTP_BASE_URL": LOOPBACK},
        transport=httpx.MockTransport(handle),
        contracts=contracts,
        sleep=lambda _seconds: None,
        max_retries=2,
    ) as client:
        final = client.exchange({})
    verdict = judge(
        PROBE,
        final,
        [final] * len(seen),
        contracts=contracts,
        redactor=Redactor([KEY]),
        endpoint=LOOPBACK,
        strict_drift=False,
    )
    return len(seen), verdict.status


@pytest.mark.parametrize(("status", "content", "content_type", "fault"), ANSWERS, ids=IDS)
def test_the_client_retries_exactly_the_answers_judging_calls_an_error_of_the_run(
    status: int, content: bytes, content_type: str, fault: str | None
) -> None:
    assert attempts_and_verdict(status, content, content_type) == (
        (3, fault) if fault is not None else (1, "judged")
    )


def test_the_throttle_status_is_retried_and_an_error_of_the_run_whatever_the_error_table_says(
    tmp_path: Path,
) -> None:
    """Rule (one predicate): the profile's throttle status says "slow down", so the client
    retries it even where the error table calls no row retryable, and judging, which names it
    "throttled after N retries", never meets one the client gave up on at once."""
    contracts = table_without_retries(tmp_path / "face-detect")
    assert CONTRACTS.profile.throttle_status not in contracts.retryable_statuses
    body = error_body("Throttling.RateQuota")
    assert attempts_and_verdict(
        CONTRACTS.profile.throttle_status, body, "application/json", contracts
    ) == (
        3,
        "throttled",
    )


@pytest.mark.parametrize("said", ["failing", None])
def test_the_client_and_judging_both_follow_the_one_predicate(
    monkeypatch: pytest.MonkeyPatch, said: faults.EndpointFault | None
) -> None:
    """Whatever ``faults.endpoint_fault`` says, the client retries by it and judging follows it:
    neither decides on its own (a 200 called failing is retried and an error of the run; a 503
    called nothing is sent once and judged)."""
    monkeypatch.setattr(faults, "endpoint_fault", lambda _response, _contracts: said)
    if said is None:
        assert attempts_and_verdict(503, error_body("ModelUnavailable"), "application/json") == (
            1,
            "judged",
        )
    else:
        assert attempts_and_verdict(200, b"{}", "application/json") == (3, "failing")


def test_no_module_but_the_predicate_reads_the_retryable_statuses() -> None:
    """The rule's facts are read in one place: ``Contracts.retryable_statuses`` is defined by the
    loader and read by ``contracts/faults.py`` alone."""
    package = Path(facedetect_contract.__file__).parent
    readers = set()
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(
            isinstance(node, ast.Attribute) and node.attr == "retryable_statuses"
            for node in ast.walk(tree)
        ):
            readers.add(path.relative_to(package).as_posix())
    assert readers == {"contracts/faults.py"}
