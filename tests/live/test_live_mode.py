"""Live mode proven against the stub server: real HTTP on 127.0.0.1, a sentinel key, real runs.

Each test starts a stub (honest, drifted through ``response_hook``, throttled, or absent) and
runs ``pytest --live`` on the suite's own ``tests/contract/test_live.py`` through pytester, with
cases pointing at images the same stub serves. Nothing leaves loopback.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.contracts.fixtures import IMAGE_DIR, load_fixture
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.doubles.fake import FakeRequest, FakeResponse
from facedetect_contract.doubles.server import RunningServer, serve_in_thread
from facedetect_contract.report.model import NOTES_URL
from tests.helpers.suite import LIVE_TESTS

CONTRACTS = load_contracts()

pytest_plugins = ["pytester"]

# Not shaped like "sk-..." or "Bearer ...", so only the explicit redaction of the configured key
# can keep it out: the generic key-like patterns would hide a broken one.
SENTINEL = "gwkey-SENTINEL-" + "5e4f" * 8
Hook = Callable[[FakeRequest, FakeResponse], FakeResponse]
Change = Callable[[FakeRequest, int, Any], tuple[int, Any]]


# --- the inner project ------------------------------------------------------------------------


@dataclass
class Run:
    """One finished inner ``pytest --live``: its result and the reports it wrote (read at once,
    since the next run in the same project writes over them)."""

    result: pytest.RunResult
    report_path: Path
    report: dict[str, Any]
    markdown: str

    @classmethod
    def of(cls, result: pytest.RunResult, path: Path) -> Run:
        exists = path.exists()  # the JSON report, and the Markdown one beside it
        return cls(
            result,
            path,
            json.loads(path.read_text(encoding="utf-8")) if exists else {},
            path.with_suffix(".md").read_text(encoding="utf-8") if exists else "",
        )

    @property
    def ret(self) -> int:
        return int(self.result.ret)

    @property
    def output(self) -> str:
        return "\n".join(self.result.outlines + self.result.errlines)

    def findings(self, severity: str | None = None) -> list[dict[str, str]]:
        return [f for f in self.report["findings"] if severity in (None, f["severity"])]

    def pointers(self, severity: str = "breaking") -> set[str]:
        return {f["pointer"] for f in self.findings(severity)}


@dataclass
class LiveProject:
    """A pytester directory set up as a user's project: the plugin, test_live.py, a cases file."""

    pytester: pytest.Pytester

    def cases(self, server: RunningServer | str, *entries: tuple[str, str, str, str]) -> Path:
        """Write ``cases.json``: (name, image file, ratio, expect) per entry."""
        base = server if isinstance(server, str) else (server.images_url or "")
        path = self.pytester.path / "cases.json"
        path.write_text(
            json.dumps(
                [
                    {"name": name, "image_url": f"{base}/{image}", "ratio": ratio, "expect": expect}
                    for name, image, ratio, expect in entries
                ]
            ),
            encoding="utf-8",
        )
        return path

    def run(
        self,
        server: RunningServer | str,
        *args: str,
        examples: int = 0,
        subprocess: bool = False,
    ) -> Run:
        """``pytest --live`` against ``server``, unpaced, with the default cases unless given."""
        base_url = server if isinstance(server, str) else server.base_url
        if not (self.pytester.path / "cases.json").exists():
            self.cases(server, ("portrait", "portrait.png", "1:1", "pass"))
        report = self.pytester.path / "report" / "drift.json"
        argv = [
            "--live",
            "--dashscope-base-url",
            base_url,
            "--live-cases",
            "cases.json",
            "--live-examples",
            str(examples),
            "--live-qps",
            "0",
            "--drift-report",
            str(report),
            "--drift-report",
            str(report.with_suffix(".md")),
            "-p",
            "no:cacheprovider",
            *args,
        ]
        runner = self.pytester.runpytest_subprocess if subprocess else self.pytester.runpytest
        return Run.of(runner(*argv), report)


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> LiveProject:
    pytester.makeini("[pytest]\nfacedetect_fixture_dir = recorded\n")
    (pytester.path / "test_live.py").write_text(LIVE_TESTS.read_text(encoding="utf-8"))
    monkeypatch.setenv("DASHSCOPE_API_KEY", SENTINEL)
    monkeypatch.delenv("DASHSCOPE_HTTP_BASE_URL", raising=False)
    return LiveProject(pytester)


def stub(hook: Hook | None = None, **options: Any) -> AbstractContextManager[RunningServer]:
    """The stub server knowing the sentinel key and serving fixtures/images/."""
    return serve_in_thread(api_keys=[SENTINEL], images_dir=IMAGE_DIR, response_hook=hook, **options)


@pytest.fixture
def honest_stub() -> Iterator[RunningServer]:
    with stub() as running:
        yield running


# --- drifted variants: response hooks, each changing one documented thing --------------------------


def rewrite(change: Change) -> Hook:
    """A hook applying ``change(request, status, body) -> (status, body)`` to every JSON answer."""

    def hook(request: FakeRequest, response: FakeResponse) -> FakeResponse:
        status, body = change(request, response.status, response.json())
        return FakeResponse(status, response.headers, json.dumps(body).encode())

    return hook


def _passed(body: Any) -> bool:
    return isinstance(body.get("output"), dict) and body["output"].get("check_pass") is True


def rename_check_pass(request: FakeRequest, status: int, body: Any) -> tuple[int, Any]:
    if _passed(body):
        body["output"]["checkPass"] = body["output"].pop("check_pass")
    return status, body


def boxes_as_strings(request: FakeRequest, status: int, body: Any) -> tuple[int, Any]:
    if _passed(body):
        body["output"]["face_bbox"] = [str(v) for v in body["output"]["face_bbox"]]
    return status, body


def drop_request_id(request: FakeRequest, status: int, body: Any) -> tuple[int, Any]:
    body.pop("request_id", None)
    return status, body


def ext_box_of_another_ratio(request: FakeRequest, status: int, body: Any) -> tuple[int, Any]:
    if _passed(body):
        x1, y1, x2, y2 = body["output"]["ext_bbox"]
        body["output"]["ext_bbox"] = [x1, y1, x2 + (x2 - x1) // 2, y2]
    return status, body


def nest_error_under_error(request: FakeRequest, status: int, body: Any) -> tuple[int, Any]:
    if status >= 400:
        body = {
            "error": {"code": body["code"], "message": body["message"]},
            "request_id": body["request_id"],
        }
    return status, body


def auth_failure_as_403(request: FakeRequest, status: int, body: Any) -> tuple[int, Any]:
    return (403 if status == 401 else status), body


def accept_invalid_ratio(request: FakeRequest, status: int, body: Any) -> tuple[int, Any]:
    try:
        ratio = json.loads(request.body)["parameters"]["ratio"]
    except (ValueError, KeyError, TypeError):
        return status, body
    if ratio in ("1:1", "3:4"):
        return status, body
    output = {"check_pass": True, "face_bbox": [10, 10, 50, 50], "ext_bbox": [0, 0, 60, 60]}
    return 200, {"output": output, "usage": {"image_count": 1}, "request_id": "accepted"}


def add_a_field(request: FakeRequest, status: int, body: Any) -> tuple[int, Any]:
    if _passed(body):
        body["output"]["face_score"] = 0.98
    return status, body


def move_the_boxes(request: FakeRequest, status: int, body: Any) -> tuple[int, Any]:
    if _passed(body):
        for name in ("face_bbox", "ext_bbox"):
            x1, y1, x2, y2 = body["output"][name]
            body["output"][name] = [x1 + 400, y1, x2 + 400, y2]
    return status, body


def echo_the_key(request: FakeRequest, status: int, body: Any) -> tuple[int, Any]:
    """A careless gateway: the bare key of the Authorization header echoed, and drift."""
    echoed = (request.header("authorization") or "(none)").removeprefix("Bearer ")
    if status >= 400:
        body["message"] = f"{body['message']} (you sent {echoed})"
        body["leak"] = echoed
    if _passed(body):
        body["output"]["check_pass"] = f"true for {echoed}"
    return status, body


# --- the honest stub ---------------------------------------------------------------------------


def test_the_run_freezes_what_start_up_built_and_later_garbage_is_still_collected(
    project: LiveProject, honest_stub: RunningServer
) -> None:
    """A live run moves start-up's objects out of the collector's way (gc.freeze: none of them
    is walked again by a collection or at exit); a cycle made afterwards is collected as ever."""
    project.pytester.makepyfile(
        test_after="""
        import gc
        import weakref

        FROZEN_AT_IMPORT = gc.get_freeze_count()  # before the run (and after any earlier one)

        def test_frozen_then_collected(facedetect_live_run):
            assert gc.get_freeze_count() > FROZEN_AT_IMPORT
            class Node:
                pass
            node = Node()
            node.me = node
            ref = weakref.ref(node)
            del node
            gc.collect()
            assert ref() is None
        """
    )
    run = project.run(honest_stub, "-k", "frozen or portrait")
    assert run.ret == 0, run.output
    run.result.assert_outcomes(passed=2, deselected=8)


def test_live_mode_passes_against_the_honest_stub_and_reports_its_spend(
    project: LiveProject, honest_stub: RunningServer
) -> None:
    project.cases(
        honest_stub,
        ("portrait", "portrait.png", "1:1", "pass"),
        ("photo half body", "photo.jpg", "3:4", "pass"),
        ("nobody", "no-human.png", "1:1", "fail"),
    )
    run = project.run(honest_stub, "--max-billed", "10", examples=5)
    assert run.ret == 0, run.output
    run.result.assert_outcomes(passed=15)
    report = run.report
    assert report["outcome"] == "passed"
    assert report["findings"] == []
    # The cases cost 3 images; a generated example the docs do not reject can cost one too.
    billed = report["spend"]["images_billed"]
    assert billed == honest_stub.fake.billed >= 3
    assert report["spend"]["cost"] == str(Decimal("0.004") * billed)
    assert report["spend"]["billable_requests_sent"] <= 10
    observed = {o["question"]: o for o in report["observations"]}
    assert observed["failure-shape"]["reading"] == "A"
    assert observed["failure-shape"]["answer"] == "shape A (HTTP 200 InvalidFile.NoHuman)"
    assert observed["failure-shape"]["notes"] == "docs/endpoint.md#failure-shape"
    assert observed["ratio-default"]["answer"].startswith(
        "invalid ratio: HTTP 400 InvalidParameter"
    )
    assert f"spent {billed} image(s), CNY {Decimal('0.004') * billed}" in run.output
    assert run.markdown.startswith("# face-detect live drift report")
    assert f"[failure-shape]({NOTES_URL}#failure-shape)" in run.markdown


def test_a_run_with_an_html_report_embeds_each_cases_image_while_its_host_answers(
    project: LiveProject, honest_stub: RunningServer
) -> None:
    """The HTML page stands alone: the run fetches the cases' images at its end (within its
    deadline) and embeds them; the JSON report keeps their size and leaves the picture out."""
    page = project.pytester.path / "report" / "drift.html"
    run = project.run(honest_stub, "--drift-report", str(page))
    assert run.ret == 0, run.output
    html = page.read_text(encoding="utf-8")
    assert html.count('data-embedded="yes"') == len(run.report["cases"]) == 1
    assert 'src="data:image/jpeg;base64,' in html
    (case,) = run.report["cases"]
    assert "src" not in case["thumbnail"] and case["thumbnail"]["size"] == [600, 800]
    assert "data:image" not in run.report_path.read_text(encoding="utf-8")


def test_a_run_without_an_html_report_fetches_no_image(
    project: LiveProject, honest_stub: RunningServer
) -> None:
    run = project.run(honest_stub)
    assert run.ret == 0, run.output
    assert all("thumbnail" not in case for case in run.report["cases"])


def test_only_the_selected_live_tests_send_requests(
    project: LiveProject, honest_stub: RunningServer
) -> None:
    run = project.run(honest_stub, "-k", "no-key or bad-key", examples=5)
    run.result.assert_outcomes(passed=2, deselected=11)
    assert honest_stub.requests_served == 2
    assert [r["name"] for r in run.report["requests"]] == ["probe-no-key", "probe-bad-key"]


# --- drift: each variant fails the run and the report names the JSON pointer --------------------


@pytest.mark.parametrize(
    ("change", "check", "pointer"),
    [
        (rename_check_pass, "response_schema_conformance", "/output/check_pass"),
        (boxes_as_strings, "response_schema_conformance", "/output/face_bbox/0"),
        (drop_request_id, "request_id_is_non_empty_string", "/request_id"),
        (ext_box_of_another_ratio, "ext_bbox_matches_ratio", "/output/ext_bbox"),
        (nest_error_under_error, "response_schema_conformance", "/code"),
        (auth_failure_as_403, "error_code_is_documented", "/code"),
        (accept_invalid_ratio, "invalid_request_is_rejected", ""),
    ],
    ids=[
        "renamed-field",
        "type-change",
        "dropped-request-id",
        "ext-box-of-another-ratio",
        "reshaped-error-body",
        "auth-status-changed",
        "invalid-ratio-accepted",
    ],
)
def test_a_drifted_endpoint_fails_the_run_and_the_report_names_the_pointer(
    project: LiveProject, change: Change, check: str, pointer: str
) -> None:
    with stub(rewrite(change)) as server:
        run = project.run(server)
    assert run.ret == 1, run.output
    assert run.report["outcome"] == "drift"
    assert (check, pointer) in {(f["check"], f["pointer"]) for f in run.findings("breaking")}
    run.result.stdout.fnmatch_lines(["*face-detect live mode*", "*BREAKING*"])


def test_a_changed_auth_status_is_reported_against_the_documented_one(
    project: LiveProject,
) -> None:
    with stub(rewrite(auth_failure_as_403)) as server:
        run = project.run(server)
    rejected = [f for f in run.findings("breaking") if f["check"] == "invalid_request_is_rejected"]
    assert {f["interaction"] for f in rejected} == {"live-probe-no-key", "live-probe-bad-key"}
    assert all(f["received"] == "HTTP 403" and "401" in f["documented"] for f in rejected)


def test_a_new_field_is_a_warning_and_fails_only_with_strict_drift(project: LiveProject) -> None:
    with stub(rewrite(add_a_field)) as server:
        lenient = project.run(server)
        strict = project.run(server, "--strict-drift")
    assert lenient.ret == 0, lenient.output
    assert lenient.report["outcome"] == "passed with warnings"
    assert lenient.pointers("additive") == {"/output/face_score"}
    lenient.result.stdout.fnmatch_lines(
        ["*warning *face_score*at /output/face_score in live-case-portrait*"]
    )
    assert strict.ret == 1
    assert strict.report["outcome"] == "drift"


def test_behaviour_drift_against_a_recording_is_an_additive_finding(
    project: LiveProject,
) -> None:
    moved = {"on": False}

    def hook(request: FakeRequest, response: FakeResponse) -> FakeResponse:
        return rewrite(move_the_boxes)(request, response) if moved["on"] else response

    with stub(hook) as server:
        first = project.run(server, "--record")
        moved["on"] = True
        second = project.run(server)
    assert first.ret == 0, first.output
    assert second.ret == 0, second.output
    drift = [f for f in second.findings("additive") if f["check"] == "behaviour_matches_recording"]
    assert {f["pointer"] for f in drift} == {"/output/face_bbox", "/output/ext_bbox"}
    assert all("live-case-portrait" in f["documented"] for f in drift)


# --- faults: throttling, an unreachable endpoint ---------------------------------------------------


def test_a_throttled_server_still_gives_a_passing_run(project: LiveProject) -> None:
    with stub(throttle_first=1) as server:
        run = project.run(server)
        throttled = server.throttled
    assert run.ret == 0, run.output
    assert throttled == 1
    answers = {o["question"]: o["answer"] for o in run.report["observations"]}
    assert answers["throttle-code"] == "HTTP 429 Throttling.RateQuota, Retry-After 1"


def test_an_unreachable_endpoint_is_an_error_of_the_run_never_drift(
    project: LiveProject,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    project.cases(f"{base}/images", ("portrait", "portrait.png", "1:1", "pass"))
    run = project.run(f"{base}/api/v1")
    assert run.ret == 1
    assert run.report["outcome"] == "not judged"  # a verdict of its own, not drift, not a pass
    assert run.report["why_not_passed"].startswith("the endpoint could not be reached")
    assert run.report["findings"] == []
    assert all("endpoint unreachable" in error for error in run.report["errors"])
    run.result.stdout.fnmatch_lines(["*endpoint unreachable*not drift*"])
    assert "BREAKING" not in run.output


# --- the budget ------------------------------------------------------------------------------------


def test_an_endpoint_billing_every_answer_never_bills_more_than_the_budget(
    project: LiveProject,
) -> None:
    """The budget is enforced as requests are sent, counting images billed for free requests."""
    billed = {"keyed": 0}

    def bill_everything(request: FakeRequest, response: FakeResponse) -> FakeResponse:
        body = response.json()
        body["usage"] = {"image_count": 1}
        if request.header("authorization") == f"Bearer {SENTINEL}":
            billed["keyed"] += 1  # only the key's account can be billed
        return FakeResponse(response.status, response.headers, json.dumps(body).encode())

    with stub(bill_everything) as server:
        run = project.run(server, "--max-billed", "1", examples=10)
    spend = run.report["spend"]
    assert billed["keyed"] == 1, run.output
    assert spend["billed_although_documented_free"]
    assert "case-portrait" in spend["not_sent_for_budget"]
    assert run.ret == 1  # a failure billed, an additive or breaking finding: not a silent pass


@pytest.mark.parametrize("max_billed", [0, 1])
def test_the_budget_is_never_exceeded_and_the_spend_is_reported(
    project: LiveProject, honest_stub: RunningServer, max_billed: int
) -> None:
    project.cases(
        honest_stub,
        ("first", "portrait.png", "1:1", "pass"),
        ("second", "photo.jpg", "3:4", "pass"),
    )
    run = project.run(honest_stub, "--max-billed", str(max_billed), examples=10)
    assert run.ret == 0, run.output
    spend = run.report["spend"]
    assert honest_stub.fake.billed == spend["images_billed"] == max_billed
    assert spend["billable_requests_sent"] <= max_billed
    assert "case-second" in spend["not_sent_for_budget"]
    assert f"CNY {spend['cost']}" in run.output


# --- usage errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("ftp://127.0.0.1/api/v1", "*base URL 'ftp://127.0.0.1/api/v1'*is not an http(s) URL*"),
        ("http://gw:hunter2@127.0.0.1:9/api/v1", "*base URL*carries credentials*"),
    ],
    ids=["not-http", "credentials"],
)
def test_live_with_a_bad_base_url_in_the_environment_is_a_usage_error(
    project: LiveProject, monkeypatch: pytest.MonkeyPatch, base_url: str, message: str
) -> None:
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", base_url)
    result = project.pytester.runpytest("--live")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "hunter2" not in result.stdout.str() + result.stderr.str()
    assert "Traceback" not in result.stderr.str()


def test_live_without_the_key_is_a_usage_error(
    project: LiveProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DASHSCOPE_API_KEY")
    result = project.pytester.runpytest("--live")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--live needs DASHSCOPE_API_KEY*"])


@pytest.mark.parametrize(
    ("cases", "message"),
    [
        ("[]", "give a non-empty JSON list of cases"),
        ("{not json", "cases.json:1:2: not valid JSON"),
        (
            '[{"name": "a", "image_url": "http://127.0.0.1/a.png", "ratio": "1:1", "expect": "pass"},'
            ' {"name": "b", "image_url": "http://127.0.0.1/b.png", "ratio": "16:9", "expect": "pass"}]',
            "entry 1 ('b'): field 'ratio' is \"16:9\"; use one of ['1:1', '3:4']",
        ),
        (
            '[{"name": "a", "ratio": "1:1", "expect": "pass"}]',
            "entry 0 ('a'): field 'image_url' is missing",
        ),
        (
            '[{"name": "a", "image_url": "/home/me/a.png", "ratio": "1:1", "expect": "pass"}]',
            "entry 0 ('a'): field 'image_url' is \"/home/me/a.png\"",
        ),
        (
            '[{"name": "a", "image_url": "http://127.0.0.1/a.png", "ratio": "1:1", "expect": "ok"}]',
            "entry 0 ('a'): field 'expect' is \"ok\"; use one of ['pass', 'fail', 'any']",
        ),
        (
            '[{"name": "a", "image_url": "http://127.0.0.1/a.png", "ratio": "1:1",'
            ' "expect": "pass", "face_bbox": [1, 2, 3]}]',
            "entry 0 ('a'): field 'face_bbox' is [1, 2, 3]",
        ),
    ],
    ids=["empty", "not-json", "bad-ratio", "missing-url", "local-path", "bad-expect", "bad-box"],
)
def test_a_malformed_cases_file_is_a_usage_error_naming_the_entry_and_field(
    project: LiveProject, cases: str, message: str
) -> None:
    (project.pytester.path / "cases.json").write_text(cases, encoding="utf-8")
    result = project.pytester.runpytest("--live", "--live-cases", "cases.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--live", "--max-billed", "-1"], "*--max-billed must be 0 or more, not -1*"),
        (["--live", "--live-examples", "-3"], "*--live-examples must be 0 or more*not -3*"),
        (["--live", "--live-qps", "-1"], "*--live-qps must be 0 (unpaced) or from 0.001 to*"),
        (["--live", "--live-qps", "inf"], "*--live-qps must be 0 (unpaced) or from 0.001 to*"),
        (["--live", "--drift-report", "report.txt"], "*report.txt: give a path ending in one of*"),
        (["--live", "--max-billed", "two"], "*--max-billed*invalid int value*"),
        (["--record", "--strict-drift"], "*--record, --strict-drift only take effect with --live*"),
        (["--live", "-n", "2"], "*--live sends its requests concurrently itself*drop -n*"),
    ],
    ids=[
        "negative-budget",
        "negative-examples",
        "negative-qps",
        "infinite-qps",
        "report-of-no-format",
        "not-a-number",
        "no-live",
        "xdist",
    ],
)
def test_a_wrong_live_option_is_a_usage_error_naming_it(
    project: LiveProject, args: list[str], message: str
) -> None:
    result = project.pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_without_live_the_live_tests_are_skipped_with_a_one_line_reason(
    project: LiveProject,
) -> None:
    result = project.pytester.runpytest("-rs")
    result.assert_outcomes(skipped=29)
    assert (
        "SKIPPED [29] test_live.py: facedetect live: needs --live and DASHSCOPE_API_KEY"
        in result.stdout.str()
    )


def test_the_live_options_are_in_the_face_detect_group_of_help(project: LiveProject) -> None:
    result = project.pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "*face-detect contract suite*",
            "*--dashscope-base-url=URL*",
            "*--live *",
            "*--live-cases=PATH*",
            "*--live-examples=N*",
            "*--max-billed=N*",
            "*--record*",
            "*--drift-report=PATH*",
            "*--strict-drift*",
            "*facedetect_fixture_dir*",
        ]
    )


# --- recording and secrets -------------------------------------------------------------------------


def test_recorded_fixtures_validate_and_carry_their_provenance(
    project: LiveProject, honest_stub: RunningServer
) -> None:
    run = project.run(honest_stub, "--record", examples=3)
    assert run.ret == 0, run.output
    recorded = sorted((project.pytester.path / "recorded").glob("*.json"))
    names = {path.stem for path in recorded}
    assert {"live-case-portrait", "live-probe-no-key", "live-probe-async-header"} <= names
    today = datetime.now(UTC).date().isoformat()
    for path in recorded:
        interaction = load_fixture(path, CONTRACTS)  # validates against interaction.schema.json
        assert interaction.provenance["kind"] == "recorded"
        assert interaction.provenance["date"] == today
        assert interaction.provenance["host"] == "127.0.0.1"
    assert all(load_fixture(path, CONTRACTS).expect for path in recorded)
    case = load_fixture(project.pytester.path / "recorded" / "live-case-portrait.json", CONTRACTS)
    assert case.expect == {"result": "check_passed"}
    assert case.request.headers["authorization"] == "Bearer <redacted>"


@pytest.mark.process  # a pytest child's whole output is searched: the slow tier
def test_the_sentinel_key_appears_nowhere_a_failing_run_writes(project: LiveProject) -> None:
    with stub(rewrite(echo_the_key)) as server:
        run = project.run(
            server,
            "-vv",
            "-l",
            "--record",
            "--junitxml",
            "junit.xml",
            examples=3,
            subprocess=True,
        )
    assert run.ret == 1, run.output
    assert run.findings("breaking"), "the echoing stub must have drifted"
    written = {
        "stdout and stderr": run.output,
        "JUnit XML": (project.pytester.path / "junit.xml").read_text(encoding="utf-8"),
        "JSON report": json.dumps(run.report),
        "Markdown report": run.markdown,
    }
    recordings = sorted((project.pytester.path / "recorded").glob("*.json"))
    assert recordings
    written |= {f"fixture {p.name}": p.read_text(encoding="utf-8") for p in recordings}
    leaked = [where for where, text in written.items() if SENTINEL in text or "5e4f5e4f" in text]
    assert not leaked, f"the key leaked into {leaked}"
