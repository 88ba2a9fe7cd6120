"""Live mode against a hostile endpoint: one real ``pytest --live`` run per fault of the proxy.

Each run goes to the stub server through ``FaultProxy`` (``proxy.py``) with a sentinel key, and
asserts everything at once: the run ends in bounded time; its exit status and its reports agree;
the fault is what the report says (an error of the run naming it, or a finding where the answer
really breaks the contract, or nothing where a client built on the docs would not notice); the key
appears in zero bytes of stdout, stderr, the JUnit XML (``junit_logging=all``), both reports, the
recorded fixtures and the logs captured at DEBUG, in any case and in part; every recorded fixture
loads again; and the project's other files are byte-for-byte as they were.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest

from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.doubles.server import serve_in_thread
from tests.helpers.hostile import KEYS, LIVE_ARGS, WRITE_EVERYTHING, Project, check_the_run
from tests.hostile.proxy import FAULTS, FaultProxy

pytestmark = pytest.mark.hostile
pytest_plugins = ["pytester"]


@dataclass(frozen=True)
class Expect:
    """What a run through one fault must report.

    ``outcome``: the report's outcome (several allowed where the fault's effect depends on
    timing); ``says``: a phrase an error of the run or a finding's title must contain.
    """

    outcome: tuple[str, ...]
    says: str = ""


ERROR = ("error", "not judged")  # an error of the run; "not judged" when no answer was judged
DRIFT = ("drift",)
PASSED = ("passed",)
WARNINGS = ("passed with warnings",)

try:
    import brotli  # noqa: F401  # httpx decodes br only when it is installed
except ImportError:
    _BR = Expect(PASSED)
else:  # pragma: no cover - depends on the environment
    _BR = Expect(ERROR, "does not decode")

EXPECTED: dict[str, Expect] = {
    "passthrough": Expect(PASSED),
    "unknown-field-flood": Expect(WARNINGS, "more like it"),
    "bad-gzip-echo": Expect(ERROR, "does not decode as its Content-Encoding says"),
    "truncated-body": Expect(ERROR, "endpoint broken"),
    "drip-body": Expect(ERROR, "no complete answer within the deadline"),
    "drip-headers": Expect(ERROR, "no complete answer within the deadline"),
    "deep-json": Expect(DRIFT, "nested deeper than"),
    "huge-body": Expect(DRIFT, "not read to its end"),
    # A web page to every request (a gateway's welcome or login page): the requests never reached
    # the endpoint, so the run's configuration is named, not drift.
    "non-json-200": Expect(ERROR, "is the base URL right?"),
    "empty-200": Expect(DRIFT, "the body is not JSON"),
    "retry-after-superscript": Expect(ERROR, "throttled: still HTTP 429"),
    "retry-after-odd": Expect(ERROR, "throttled: still HTTP 429"),
    "odd-header-names": Expect(PASSED),
    "gateway-502-html": Expect(ERROR, "endpoint failing: still HTTP 502"),
    "gateway-503-html": Expect(ERROR, "endpoint failing: still HTTP 503"),
    "gateway-504-json": Expect(ERROR, "endpoint failing: still HTTP 504"),
    "bill-retried": Expect(("error", "drift"), "a retry was not sent"),
    "echo-key-raw": Expect(WARNINGS, "new undocumented field"),
    "echo-key-unicode": Expect(WARNINGS, "new undocumented field"),
    "echo-key-slash": Expect(WARNINGS, "new undocumented field"),
    "echo-key-mixed-case": Expect(WARNINGS, "new undocumented field"),
    "echo-key-glued": Expect(WARNINGS, "new undocumented field"),
    "echo-key-cut": Expect(WARNINGS, "new undocumented field"),
    "echo-key-straddle": Expect(WARNINGS, "new undocumented field"),
    "echo-key-base64": Expect(WARNINGS, "new undocumented field"),
    "echo-key-header-name": Expect(PASSED),
    "echo-key-header-value": Expect(PASSED),
    "http10-close-delimited": Expect(PASSED),
    "conflicting-content-length": Expect(ERROR, "endpoint broken"),
    "conflicting-content-type": Expect(DRIFT, "response Content-Type is not JSON"),
    "html-content-type": Expect(DRIFT, "response Content-Type is not JSON"),
    "redirect-loop": Expect(DRIFT, "undocumented HTTP status 307"),
    "redirect-elsewhere": Expect(DRIFT, "undocumented HTTP status 302"),
    "continue-storm": Expect(PASSED),
    "reset-mid-body": Expect(ERROR, "endpoint broken"),
    "invalid-utf8": Expect(DRIFT, "not UTF-8"),
    "utf8-bom": Expect(DRIFT, "the body is not JSON"),
    "utf16-json": Expect(DRIFT, "not UTF-8"),
    "nan-literals": Expect(DRIFT, "is not a JSON value"),
    "huge-integers": Expect(DRIFT, "is not a well-formed box"),
    "float-boxes": Expect(DRIFT, "is not of type 'integer'"),
    "duplicate-keys": Expect(DRIFT, "appears twice in one object"),
    "same-request-id": Expect(DRIFT, "repeats another answer's"),
    "garbage-reply": Expect(ERROR, "endpoint broken"),
    "bad-status-line": Expect(ERROR, "endpoint broken"),
    # h11 refuses a header block over 16 KiB only while it is incomplete: read in one go, the
    # 5,000 headers are parsed and recorded (redacted); either way, nothing breaks or leaks.
    "header-flood": Expect(("passed", "error")),
    "huge-header-value": Expect(ERROR, "endpoint broken"),
    "bad-chunk-size": Expect(ERROR, "endpoint broken"),
    "stall-then-200": Expect(ERROR, "no complete answer within the deadline"),
    "lying-deflate": Expect(ERROR, "does not decode as its Content-Encoding says"),
    "lying-br": _BR,
    "gzip-bomb": Expect(DRIFT, "not read to its end"),
    "odd-status": Expect(DRIFT, "undocumented HTTP status 299"),
    "short-content-length": Expect(("drift", "error")),
    # An unrequested second answer on a kept-alive connection may be read as the next request's
    # answer (HTTP/1.1 cannot tell): whatever the run makes of it, it must not be a silent pass
    # of a wrong answer, nor a crash, nor a leak.
    "extra-response": Expect(("passed", "error", "drift")),
}
# A key that is not an HTTP token cannot be part of a header name: echoing it there makes the
# answer unreadable HTTP, which is an error of the run.
_TOKEN = set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def expected_for(mode: str, key: str) -> Expect:
    if mode == "echo-key-header-name" and not set(key) <= _TOKEN:
        return Expect(ERROR, "the answer broke HTTP")
    return EXPECTED[mode]


# Fault options that keep each run short (the faults themselves are unchanged).
OPTIONS: dict[str, dict[str, Any]] = {
    "drip-body": {"interval": 1.0},
    "drip-headers": {"interval": 1.0},
    "stall-then-200": {"stall": 5.0},
    "huge-body": {"size": 16 * 1024 * 1024},
    "gzip-bomb": {"size": 64 * 1024 * 1024},
}


def test_every_fault_of_the_proxy_has_an_expectation() -> None:
    assert set(EXPECTED) == set(FAULTS)


@pytest.fixture(params=KEYS, ids=["sk", "gateway", "jwt", "upper", "punctuated"])
def key(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run_through(
    pytester: pytest.Pytester, key: str, mode: str, *extra: str, **options: Any
) -> tuple[pytest.RunResult, float, Project, FaultProxy, dict[str, str]]:
    project = Project(pytester, key)
    with (
        serve_in_thread(api_keys=[key], images_dir=IMAGE_DIR) as stub,
        FaultProxy(stub.base_url, mode, **{**OPTIONS.get(mode, {}), **options}) as proxy,
    ):
        before = project.prepare(stub)
        started = time.monotonic()
        result = pytester.runpytest(
            "--live",
            "--dashscope-base-url",
            proxy.base_url,
            "--live-cases",
            "cases.json",
            "--live-examples",
            "3",
            *LIVE_ARGS,
            *WRITE_EVERYTHING,
            "-o",
            "log_cli=true",
            "--log-cli-level=DEBUG",
            *extra,
        )
        wall = time.monotonic() - started
    return result, wall, project, proxy, before


def _said(report: dict[str, Any]) -> str:
    texts = [*report["errors"], *(f["title"] for f in report["findings"])]
    return "\n".join(texts)


@pytest.mark.parametrize("mode", sorted(EXPECTED))
def test_a_hostile_endpoint_is_reported_for_what_it_does_without_a_leak_or_a_false_pass(
    pytester: pytest.Pytester, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = KEYS[sorted(EXPECTED).index(mode) % len(KEYS)]  # every shape of key, in turn
    monkeypatch.setenv("DASHSCOPE_API_KEY", key)
    monkeypatch.delenv("DASHSCOPE_HTTP_BASE_URL", raising=False)
    result, wall, project, _proxy, before = run_through(pytester, key, mode)
    report = check_the_run(result, wall, project, before, mode)
    expected = expected_for(mode, key)
    assert report["outcome"] in expected.outcome, (mode, report["outcome"], _said(report))
    if expected.says:
        assert expected.says in _said(report), (mode, _said(report))


ECHOES = sorted(mode for mode in FAULTS if mode.startswith("echo-key") or mode == "bad-gzip-echo")


@pytest.mark.parametrize("mode", ECHOES)
def test_an_echoed_key_of_any_shape_leaks_nowhere(
    pytester: pytest.Pytester, mode: str, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every echo, with every key shape; the echo also goes into error answers' messages."""
    monkeypatch.setenv("DASHSCOPE_API_KEY", key)
    monkeypatch.delenv("DASHSCOPE_HTTP_BASE_URL", raising=False)
    options = (
        {}
        if mode in ("bad-gzip-echo", "echo-key-header-name", "echo-key-header-value")
        else {"field": "message", "status": 401}
    )
    result, wall, project, _proxy, before = run_through(
        pytester, key, mode, "--strict-drift", **options
    )
    check_the_run(result, wall, project, before, mode)


@pytest.mark.parametrize("max_billed", [0, 1, 4])
def test_an_endpoint_that_bills_every_retry_costs_no_more_than_the_budget(
    pytester: pytest.Pytester, max_billed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """503 billed twice before each real answer: every billable attempt takes a slot, so the
    spend stays within --max-billed (one image at most at 0: the trial)."""
    key = KEYS[0]
    monkeypatch.setenv("DASHSCOPE_API_KEY", key)
    result, wall, project, _proxy, before = run_through(
        pytester, key, "bill-retried", "--max-billed", str(max_billed)
    )
    report = check_the_run(result, wall, project, before, "bill-retried")
    spend = report["spend"]
    assert spend["images_billed"] <= max(max_billed, 1), spend
    assert result.ret == 1  # a failure billed is not a silent pass
