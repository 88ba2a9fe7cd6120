"""Clients nobody here wrote, in two languages, judge the stub in both failure shapes.

``clients/detect.mjs`` (Node 18+, the built-in ``fetch``, no packages) and
``clients/detect_requests.py`` (``requests``) are written the way a team that read only
Alibaba's docs writes one: the path, model and field names spelled out, the key from
``DASHSCOPE_API_KEY``, one line of JSON out. Each runs here as a subprocess against the stub on
127.0.0.1 (its proxy variables dropped: nothing leaves the machine), for a passing image, every
image in the fixtures whose name is a portrait reason, an unknown key and a ratio the request
contract does not list. What each summary must say is read from the contracts and from what the
stub sent (captured by its ``response_hook``), never written here; each request the client sent
is checked against the request and request-headers contracts.

The clients are judges, not mirrors: against a stub whose pass comes back in the wrong shape (the
verdict renamed or a string, a box missing) each must say so and exit 3, so a client that
accepted any 200 could not pass here.

Both clients also run against a stub playing each reading of every open question
(``questions.json``, read here: a new reading is covered with no code; each question's default
reading is the other tests' stub and is skipped here, saying so), throttled, passing, failing and
refusing, and against each fault of docs/faults.md's spec table (read from the page): each
answer is reported as the stub's classified answer says, and each fault as one clean error line
(exit 1 for an answer with a code, 3 for none; never a pass, never a crash on stderr).

Node missing (or older than 18, without ``fetch``): the Node client's tests skip, saying so;
with ``FACEDETECT_REQUIRE_NODE=1`` (``.ci/run`` sets it, after installing ``nodejs``) they fail.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.contracts.outcome import classify
from facedetect_contract.contracts.profile import AnswerKind
from facedetect_contract.contracts.questions import reading_id, reading_pairs
from facedetect_contract.core.interaction import RecordedResponse
from facedetect_contract.core.pointers import Pointer
from facedetect_contract.doubles.fake import FakeRequest, FakeResponse, named_reason
from facedetect_contract.doubles.faults import Fault, fault_answer, parse_fault
from facedetect_contract.doubles.server import RunningServer, serve_in_thread
from facedetect_contract.plugin import TEST_KEY
from tests.helpers.stub import Exchange, Recorder

pytestmark = pytest.mark.outside

CONTRACTS = load_contracts()
PROFILE = CONTRACTS.profile
FIELDS = PROFILE.response
CLIENTS = Path(__file__).parent / "clients"
NODE = shutil.which("node")
NODE_MIN_MAJOR = 18  # the first Node with a global fetch
# A run on a machine without Node says so; CI (.ci/run installs it) makes it an error.
NODE_REQUIRED = os.environ.get("FACEDETECT_REQUIRE_NODE") == "1"
PASSING_IMAGE = "portrait.png"
FAILING_IMAGES = sorted(
    path.name for path in IMAGE_DIR.iterdir() if named_reason(path.name, CONTRACTS) is not None
)
BAD_RATIO = "16:9"
WRONG_KEY = "sk-unknown-key-" + "0" * 16
EXIT_PASSED, EXIT_REFUSED, EXIT_NOT_AS_DOCUMENTED, EXIT_USAGE = 0, 1, 3, 4
FAULTS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "faults.md"


def dotted(pointer: Pointer) -> str:
    """``/output/check_pass`` as the clients name it: ``output.check_pass``."""
    return ".".join(str(part) for part in pointer.parts)


def answer_kind(outcome: str, shape: str | None = None) -> AnswerKind:
    return next(k for k in PROFILE.answers if k.outcome == outcome and k.shape == shape)


# --- the clients ---------------------------------------------------------------------------------


def _node_command() -> list[str]:
    message = None
    if NODE is None:
        message = "Node is not installed (Debian: apt-get install nodejs)"
    else:
        version = subprocess.run(
            [NODE, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.strip()
        major = version.lstrip("v").split(".", 1)[0]
        if not major.isdigit() or int(major) < NODE_MIN_MAJOR:
            message = f"Node {version or '?'} at {NODE} has no fetch: {NODE_MIN_MAJOR}+ is needed"
    if message is not None:
        if NODE_REQUIRED:
            pytest.fail(message + " (FACEDETECT_REQUIRE_NODE=1)")
        pytest.skip(message + "; .ci/run installs it")
    assert NODE is not None
    return [NODE, str(CLIENTS / "detect.mjs")]


def _requests_command() -> list[str]:
    if find_spec("requests") is None:
        pytest.skip("requests is not installed (it comes with the dev extra's dashscope)")
    return [sys.executable, str(CLIENTS / "detect_requests.py")]


COMMANDS: dict[str, Callable[[], list[str]]] = {
    "node-fetch": _node_command,
    "python-requests": _requests_command,
}


@pytest.fixture(scope="module", params=sorted(COMMANDS))
def client(request: pytest.FixtureRequest) -> list[str]:
    """The command line of one client, without its arguments."""
    return COMMANDS[request.param]()


@dataclasses.dataclass
class Run:
    """One run of a client: its exit status, its one-line summary, and what the stub saw."""

    returncode: int
    summary: Any
    stderr: str
    exchanges: list[Exchange]

    @property
    def sent(self) -> Any:
        """The body of the one answer the stub gave."""
        assert len(self.exchanges) == 1, "the client sent more (or less) than one request"
        return self.exchanges[0][1].json()


def run_client(
    command: list[str],
    recorder: Recorder,
    *args: str,
    api_key: str | None = TEST_KEY,
    invalid: Pointer | None = None,
    timeout: float | None = None,
) -> Run:
    """Run the client with ``args``; check each request it sent against the request contracts.

    Its environment is the ``PATH`` and the key only: no proxy variable reaches it, so its one
    connection is the loopback address it was given. ``invalid`` is the one body field the test
    made invalid on purpose; ``timeout`` the client's own (``DETECT_TIMEOUT``, seconds).
    """
    recorder.exchanges.clear()
    env = {"PATH": os.environ.get("PATH", ""), "NO_PROXY": "*"}
    if api_key is not None:
        env[PROFILE.api_key_env] = api_key
    if timeout is not None:
        env["DETECT_TIMEOUT"] = str(timeout)
    done = subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert api_key is None or api_key not in done.stdout + done.stderr, "the client showed the key"
    lines = done.stdout.splitlines()
    assert len(lines) <= 1, f"more than one line of output: {done.stdout!r}"
    summary = json.loads(lines[0]) if lines else None
    for request, _ in recorder.exchanges:
        assert request.method == PROFILE.method
        body = json.loads(request.body)
        errors = CONTRACTS.validator("request").iter_errors(body)
        assert [Pointer.of(e.absolute_path) for e in errors] == (
            [] if invalid is None else [invalid]
        )
        headers = {name.lower(): value for name, value in request.headers.items()}
        assert list(CONTRACTS.validator("request_headers").iter_errors(headers)) == []
    return Run(done.returncode, summary, done.stderr, list(recorder.exchanges))


# --- the documented answers ----------------------------------------------------------------------


@pytest.mark.parametrize("ratio", CONTRACTS.ratios)
def test_a_pass_is_reported_with_both_boxes_and_the_request_id(
    client: list[str], stub: RunningServer, recorder: Recorder, ratio: str
) -> None:
    assert named_reason(PASSING_IMAGE, CONTRACTS) is None
    run = run_client(client, recorder, stub.base_url, stub.image_url(PASSING_IMAGE), ratio)
    passed = answer_kind("passed")
    assert FIELDS.verdict.get(run.sent) is passed.verdict
    assert run.summary == {
        "status": passed.status,
        "verdict": passed.verdict,
        "boxes": {box.name: box.get(run.sent) for box in FIELDS.boxes},
        "request_id": FIELDS.request_id.get(run.sent),
    }
    assert run.returncode == EXIT_PASSED
    assert PROFILE.request.ratio.get(json.loads(run.exchanges[0][0].body)) == ratio


@pytest.mark.parametrize("image", FAILING_IMAGES)
def test_a_failed_check_is_reported_with_its_reason_in_the_stub_s_shape(
    client: list[str], stub: RunningServer, recorder: Recorder, image: str
) -> None:
    run = run_client(client, recorder, stub.base_url, stub.image_url(image))
    reason = named_reason(image, CONTRACTS)
    assert reason in CONTRACTS.portrait_codes
    failed = answer_kind("failed", stub.fake.failure_shape)
    if failed.verdict is None:  # shape B: an error body whose code is the reason
        message = FIELDS.error_message.get(run.sent)
    else:  # shape A: a 200 whose verdict is false, the reason in the output
        message = FIELDS.reason_message.get(run.sent)
    assert isinstance(message, str) and message
    assert run.summary == {
        "status": failed.status,
        "verdict": failed.verdict,
        "code": reason,
        "message": message,
        "request_id": FIELDS.request_id.get(run.sent),
    }
    assert run.returncode == EXIT_REFUSED


@pytest.mark.parametrize(
    ("rule", "api_key", "ratio"),
    [
        pytest.param("unknown-api-key", WRONG_KEY, CONTRACTS.default_ratio, id="wrong-key"),
        pytest.param("ratio-invalid", TEST_KEY, BAD_RATIO, id="bad-ratio"),
    ],
)
def test_a_refused_request_is_reported_with_its_documented_status_code_and_message(
    client: list[str],
    stub: RunningServer,
    recorder: Recorder,
    rule: str,
    api_key: str,
    ratio: str,
) -> None:
    valid = ratio in CONTRACTS.ratios
    run = run_client(
        client,
        recorder,
        stub.base_url,
        stub.image_url(PASSING_IMAGE),
        ratio,
        api_key=api_key,
        invalid=None if valid else PROFILE.request.ratio,
    )
    rejection = PROFILE.rejection(rule)
    statuses = {entry.status for entry in CONTRACTS.errors_for(code=rejection.code)}
    assert run.summary["status"] in statuses
    assert run.summary == {
        "status": run.summary["status"],
        "verdict": None,
        "code": rejection.code,
        "message": rejection.text(),
        "request_id": FIELDS.request_id.get(run.sent),
    }
    assert run.returncode == EXIT_REFUSED


def test_without_a_key_the_client_sends_nothing_and_says_which_variable(
    client: list[str], stub: RunningServer, recorder: Recorder
) -> None:
    before = stub.requests_served
    run = run_client(client, recorder, stub.base_url, stub.image_url(PASSING_IMAGE), api_key=None)
    assert (run.returncode, run.summary, run.exchanges) == (EXIT_USAGE, None, [])
    assert PROFILE.api_key_env in run.stderr
    assert stub.requests_served == before


# --- the clients are judges: a pass in the wrong shape is not a pass -----------------------------


def _renamed_verdict(body: dict[str, Any]) -> str:
    output = FIELDS.verdict.parent.get(body)
    output["checkPass"] = output.pop(FIELDS.verdict.name)
    return dotted(FIELDS.verdict)


def _verdict_as_text(body: dict[str, Any]) -> str:
    FIELDS.verdict.put(body, json.dumps(FIELDS.verdict.get(body)))
    return dotted(FIELDS.verdict)


def _face_box_dropped(body: dict[str, Any]) -> str:
    del FIELDS.face_box.parent.get(body)[FIELDS.face_box.name]
    return dotted(FIELDS.face_box)


DRIFTS: dict[str, tuple[Callable[[dict[str, Any]], str], str]] = {
    "verdict-renamed": (_renamed_verdict, "verdict missing: {}"),
    "verdict-as-text": (_verdict_as_text, "verdict missing: {}"),
    "face-box-dropped": (_face_box_dropped, "box missing or malformed: {}"),
}


@pytest.mark.parametrize("drift", sorted(DRIFTS))
def test_a_pass_in_the_wrong_shape_is_reported_as_not_documented(
    client: list[str], failure_shape: str, drift: str
) -> None:
    change, error = DRIFTS[drift]
    where: list[str] = []

    def drifted(request: FakeRequest, response: FakeResponse) -> FakeResponse:
        body = response.json()
        assert FIELDS.verdict.get(body) is True, "the stub did not pass the image"
        where.append(change(body))
        return FakeResponse(response.status, response.headers, json.dumps(body).encode())

    recorder = Recorder(replace=drifted)
    with serve_in_thread(
        api_keys=[TEST_KEY],
        images_dir=IMAGE_DIR,
        failure_shape=failure_shape,
        response_hook=recorder,
    ) as wrong:
        run = run_client(client, recorder, wrong.base_url, wrong.image_url(PASSING_IMAGE))
    assert run.summary is not None and "boxes" not in run.summary
    assert run.summary["error"] == error.format(where[0])
    assert run.summary["status"] == answer_kind("passed").status
    assert run.summary["request_id"] == FIELDS.request_id.get(run.sent)
    assert run.returncode == EXIT_NOT_AS_DOCUMENTED


# --- every reading of the open questions ---------------------------------------------------------


def told(response: FakeResponse) -> tuple[str, dict[str, Any], int]:
    """What a client must print for ``response`` and its exit status, from the one classifier
    (``contracts/outcome.py``): the outcome's kind first."""
    outcome = classify(
        RecordedResponse.from_bytes(response.status, response.headers, response.body), CONTRACTS
    )
    body = response.json()
    request_id = FIELDS.request_id.get(body)
    if outcome.kind == "passed":
        boxes = {box.name: box.get(body) for box in FIELDS.boxes}
        summary = {"status": outcome.status, "verdict": True, "boxes": boxes}
        return outcome.kind, {**summary, "request_id": request_id}, EXIT_PASSED
    assert outcome.kind in ("failed", "request_error"), f"the stub answered {outcome.describe()}"
    assert outcome.answer is not None
    summary = {"status": outcome.status, "verdict": outcome.answer.verdict, "code": outcome.code}
    summary |= {"message": outcome.message, "request_id": request_id}
    retry_after = {name.lower(): value for name, value in response.headers.items()}.get(
        "retry-after"
    )
    if retry_after is not None:
        summary["retry_after"] = retry_after
    return outcome.kind, summary, EXIT_REFUSED


def _reading_param(question: str, reading: str) -> Any:
    marks: tuple[pytest.MarkDecorator, ...] = ()
    if CONTRACTS.questions[question].default_reading == reading:
        why = f"{reading_id(question, reading)} is the double's default: every other test here plays it"
        marks = (pytest.mark.skip(reason=why),)
    return pytest.param(question, reading, id=reading_id(question, reading), marks=marks)


READINGS = [_reading_param(q, r) for q, r in reading_pairs(CONTRACTS.questions)]
THROTTLED = PROFILE.rejection("throttled")


@pytest.mark.parametrize(("question", "reading"), READINGS)
def test_each_reading_is_reported_as_the_stub_answered_it(
    client: list[str], question: str, reading: str
) -> None:
    """Throttled (the stub's first request: its documented 429 with Retry-After), passing,
    failing the portrait check and refused for its key, in a stub playing this one reading:
    the client prints what the stub's answer is, as the classifier reads it."""
    recorder = Recorder()
    with serve_in_thread(
        api_keys=[TEST_KEY],
        images_dir=IMAGE_DIR,
        readings={question: reading},
        throttle_first=1,
        response_hook=recorder,
    ) as stub:
        assert stub.fake.readings[question] == reading
        image, failing = stub.image_url(PASSING_IMAGE), stub.image_url(FAILING_IMAGES[0])
        runs = [
            run_client(client, recorder, stub.base_url, image),
            run_client(client, recorder, stub.base_url, image),
            run_client(client, recorder, stub.base_url, failing),
            run_client(client, recorder, stub.base_url, image, api_key=WRONG_KEY),
        ]
    kinds = []
    for run in runs:
        (_, sent), *more = run.exchanges
        assert more == []
        kind, summary, exit_status = told(sent)
        kinds.append(kind)
        assert (run.summary, run.returncode, run.stderr) == (summary, exit_status, "")
    assert kinds == ["request_error", "passed", "failed", "request_error"]
    throttled, refused = runs[0].summary, runs[3].summary
    assert throttled["status"] in {e.status for e in CONTRACTS.errors_for(code=THROTTLED.code)}
    assert "retry_after" in throttled
    assert refused["code"] == PROFILE.rejection("unknown-api-key").code


# --- the faults of docs/faults.md ----------------------------------------------------------------


def documented_faults() -> list[str]:
    """The specs of docs/faults.md's spec table (its first column), in its order."""
    section = FAULTS_PAGE.read_text(encoding="utf-8").split("## The spec table", 1)[1]
    table: list[str] = []
    for line in section.splitlines():
        if line.startswith("|"):
            table.append(line)
        elif table:  # the first table ends
            break
    cells = [row.split("|")[1] for row in table if row.startswith("| `")]
    return [spec for cell in cells for spec in re.findall(r"`([^`]+)`", cell)]


FAULTS = documented_faults()


def test_the_fault_table_is_read() -> None:
    kinds = {parse_fault(spec, CONTRACTS).kind for spec in FAULTS}
    assert kinds == {"throttle", "error", "gateway", "delay", "drop", "reset", "truncate"}
    assert any(parse_fault(spec, CONTRACTS).retry_after is not None for spec in FAULTS)


def _client_timeout(fault: Fault) -> float | None:
    """A delay is met with a client timeout of a third of it: the answer comes too late."""
    return fault.delay_ms / 3000 if fault.kind == "delay" else None


@pytest.mark.parametrize("spec", FAULTS)
def test_each_documented_fault_is_one_clean_error_line(client: list[str], spec: str) -> None:
    fault = parse_fault(spec, CONTRACTS)
    recorder = Recorder()
    with serve_in_thread(
        api_keys=[TEST_KEY], images_dir=IMAGE_DIR, faults=[fault], response_hook=recorder
    ) as stub:
        image = stub.image_url(PASSING_IMAGE)
        run = run_client(client, recorder, stub.base_url, image, timeout=_client_timeout(fault))
        assert stub.faulted == 1
        answered = fault_answer(fault, stub.fake) if fault.kind in ("throttle", "error") else None
    assert run.stderr == "", "the client crashed"
    assert run.summary is not None and "boxes" not in run.summary
    summary = dict(run.summary)
    if answered is not None:  # an error body of the contracts: reported as a refusal
        _, expected, exit_status = told(answered)
        assert isinstance(summary.pop("request_id"), str)
        del expected["request_id"]  # each answer has its own
        assert (summary, run.returncode) == (expected, exit_status)
        assert ("retry_after" in summary) is (fault.retry_after is not None)
        return
    assert run.returncode == EXIT_NOT_AS_DOCUMENTED
    if fault.kind == "gateway":
        assert summary == {"status": fault.status, "error": "the answer is not JSON"}
    elif fault.kind == "truncate":  # the head came, the body was cut
        assert summary["status"] == answer_kind("passed").status
        assert summary["error"].startswith("the answer was cut short: ")
    else:  # drop, reset, a delay past the client's timeout: no answer at all
        assert fault.kind in ("drop", "reset", "delay"), f"no expectation for {spec}"
        assert summary["status"] is None
        assert summary["error"].startswith("no answer: ")


def test_a_timeout_that_is_no_number_of_seconds_is_a_usage_error_naming_it(
    client: list[str], stub: RunningServer, recorder: Recorder
) -> None:
    before = stub.requests_served
    run = run_client(client, recorder, stub.base_url, stub.image_url(PASSING_IMAGE), timeout=0)
    assert (run.returncode, run.summary, run.exchanges) == (EXIT_USAGE, None, [])
    assert "DETECT_TIMEOUT" in run.stderr
    assert stub.requests_served == before
