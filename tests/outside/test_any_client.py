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

Node missing (or older than 18, without ``fetch``): the Node client's tests skip, saying so;
with ``FACEDETECT_REQUIRE_NODE=1`` (``.ci/run`` sets it, after installing ``nodejs``) they fail.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.contracts.profile import AnswerKind
from facedetect_contract.core.pointers import Pointer
from facedetect_contract.doubles.fake import FakeRequest, FakeResponse, named_reason
from facedetect_contract.doubles.server import ResponseHook, RunningServer, serve_in_thread
from facedetect_contract.plugin import TEST_KEY

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
    exchanges: list[tuple[FakeRequest, FakeResponse]]

    @property
    def sent(self) -> Any:
        """The body of the one answer the stub gave."""
        assert len(self.exchanges) == 1, "the client sent more (or less) than one request"
        return self.exchanges[0][1].json()


class Recorder:
    """A ``response_hook`` that keeps every exchange, optionally answering in its own way."""

    def __init__(self, replace: ResponseHook | None = None) -> None:
        self.exchanges: list[tuple[FakeRequest, FakeResponse]] = []
        self.replace = replace

    def __call__(self, request: FakeRequest, response: FakeResponse) -> FakeResponse:
        if self.replace is not None:
            response = self.replace(request, response)
        self.exchanges.append((request, response))
        return response


def run_client(
    command: list[str],
    recorder: Recorder,
    *args: str,
    api_key: str | None = TEST_KEY,
    invalid: Pointer | None = None,
) -> Run:
    """Run the client with ``args``; check each request it sent against the request contracts.

    Its environment is the ``PATH`` and the key only: no proxy variable reaches it, so its one
    connection is the loopback address it was given. ``invalid`` is the one body field the test
    made invalid on purpose.
    """
    recorder.exchanges.clear()
    env = {"PATH": os.environ.get("PATH", ""), "NO_PROXY": "*"}
    if api_key is not None:
        env[PROFILE.api_key_env] = api_key
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


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def stub(failure_shape: str, recorder: Recorder) -> Iterator[RunningServer]:
    with serve_in_thread(
        api_keys=[TEST_KEY],
        images_dir=IMAGE_DIR,
        failure_shape=failure_shape,
        response_hook=recorder,
    ) as running:
        yield running


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
