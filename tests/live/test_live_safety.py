"""Live mode loses nothing and never says "passed" falsely: bad inputs are usage errors naming the
file, the place and the fix; reports never replace a user's file; an interrupted or timed-out run
says so; a key that HTTP cannot carry is refused before anything is sent."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from facedetect_contract.contracts.fixtures import FIXTURE_DIR, IMAGE_DIR
from facedetect_contract.doubles.fake import FakeResponse
from facedetect_contract.doubles.server import RunningServer, serve_in_thread
from tests.helpers.live import live_pytest
from tests.helpers.processes import child_env, default_sigint
from tests.helpers.suite import LIVE_TESTS
from tests.hostile.proxy import FaultProxy

pytest_plugins = ["pytester"]

KEY = "sk-safety-" + "9d8c" * 8


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeini("[pytest]\nfacedetect_fixture_dir = recorded\n")
    (pytester.path / "test_live.py").write_text(LIVE_TESTS.read_text(encoding="utf-8"))
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    monkeypatch.delenv("DASHSCOPE_HTTP_BASE_URL", raising=False)
    return pytester


def cases_for(pytester: pytest.Pytester, stub: RunningServer) -> None:
    entry = {
        "name": "portrait",
        "image_url": stub.image_url("portrait.png"),
        "ratio": "1:1",
        "expect": "pass",
    }
    (pytester.path / "cases.json").write_text(json.dumps([entry]), encoding="utf-8")


# --- bad input files: usage errors that name the file, the place and the fix -------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[" * 100_000, "cases.json: not valid JSON (nested deeper than 64 levels)"),
        (b"\xff\xfe[]", "cases.json: not valid JSON (not UTF-8 (byte 0))"),
        (
            json.dumps(
                [{"name": "a", "image_url": "http://[::1/x.png", "ratio": "1:1", "expect": "pass"}]
            ).encode(),
            "cases.json: entry 0 ('a'): field 'image_url' is \"http://[::1/x.png\"",
        ),
        (
            json.dumps(
                [{"name": "a", "image_url": "http://h/x y.png", "ratio": "1:1", "expect": "pass"}]
            ).encode(),
            "which the request contract refuses",
        ),
    ],
    ids=["nested-100000-deep", "not-utf-8", "unclosed-ipv6", "space-in-url"],
)
def test_a_bad_cases_file_is_a_usage_error_naming_the_file(
    project: pytest.Pytester, content: bytes, message: str
) -> None:
    (project.path / "cases.json").write_bytes(content)
    result = live_pytest(project, "http://127.0.0.1:9/api/v1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stderr.str()[-2000:]
    assert message in result.stderr.str()
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: (d / "x.json").mkdir(), "x.json: is a directory"),
        (lambda d: (d / "x.json").symlink_to(d / "nowhere.json"), "x.json: is not a readable file"),
        (lambda d: (d / "x.json").write_bytes(b"[" * 100_000), "x.json: not valid JSON (nested"),
        (lambda d: (d / "x.json").write_bytes(b"\xff{}"), "x.json: not valid JSON (not UTF-8"),
    ],
    ids=["directory", "dangling-symlink", "nested-100000-deep", "not-utf-8"],
)
def test_a_bad_fixture_file_is_a_usage_error_naming_it(
    project: pytest.Pytester, make: object, message: str
) -> None:
    recorded = project.path / "recorded"
    recorded.mkdir()
    make(recorded)  # type: ignore[operator]
    (project.path / "cases.json").write_text(
        json.dumps(
            [
                {
                    "name": "a",
                    "image_url": "http://127.0.0.1:9/a.png",
                    "ratio": "1:1",
                    "expect": "pass",
                }
            ]
        )
    )
    result = live_pytest(project, "http://127.0.0.1:9/api/v1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("sk-ключ-" + "a" * 20, "not printable ASCII"),
        ("sk-" + "a" * 70_000, "70003 characters long"),
        ("sk-with\nnewline-0000000", "not printable ASCII"),
        ("short", "5 characters long"),
    ],
    ids=["non-ascii", "70-kb", "newline", "too-short"],
)
def test_a_key_http_cannot_carry_is_a_usage_error_that_shows_nothing_of_it(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, key: str, message: str
) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", key)
    result = project.runpytest("--live", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert message in err and "DASHSCOPE_API_KEY" in err
    assert key[:12] not in result.stdout.str() + err


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("option", "http://127.0.0.1:8000/api/v1?api_key=sk-QUERYKEY-0000000000"),
        ("environment", "http://127.0.0.1:8000/api/v1#sk-FRAGMENTKEY-000000000"),
    ],
)
def test_a_base_url_with_a_query_or_fragment_is_refused_without_repeating_it(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, where: str, value: str
) -> None:
    args = ["--live", "-p", "no:cacheprovider"]
    if where == "option":
        args += ["--dashscope-base-url", value]
    else:
        monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", value)
    result = project.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stdout.str() + result.stderr.str()
    assert "carries a query or a fragment" in text
    assert "QUERYKEY" not in text and "FRAGMENTKEY" not in text


# --- nothing lost: a report never replaces what is not a report of this suite ------------------


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("README.md", "exists and is not a report of this suite"),
        ("cases.json", "is an input of the run"),
        ("recorded/drift.json", "in the fixture folder"),
    ],
    ids=["someone-else's-file", "the-cases-file", "into-the-fixture-folder"],
)
def test_a_report_path_that_would_replace_a_users_file_is_refused(
    project: pytest.Pytester, target: str, message: str
) -> None:
    (project.path / "README.md").write_text("# my project\n")
    (project.path / "recorded").mkdir()
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR) as stub:
        cases_for(project, stub)
        before = {p: p.read_bytes() for p in project.path.rglob("*") if p.is_file()}
        result = live_pytest(project, stub.base_url, "--drift-report", target)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()
    assert {p: p.read_bytes() for p in before} == before


def test_an_earlier_report_of_the_suite_may_be_replaced(project: pytest.Pytester) -> None:
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR) as stub:
        cases_for(project, stub)
        first = live_pytest(
            project, stub.base_url, "--drift-report", "drift.json", "--drift-report", "drift.md"
        )
        second = live_pytest(
            project, stub.base_url, "--drift-report", "drift.json", "--drift-report", "drift.md"
        )
    assert (first.ret, second.ret) == (0, 0)
    assert json.loads((project.path / "drift.json").read_text())["outcome"] == "passed"


@pytest.mark.process  # a pytest child, killed: the slow tier
def test_a_run_killed_before_its_end_leaves_no_report_saying_passed(tmp_path: Path) -> None:
    """Last night's reports are replaced by "not finished" ones before anything is sent, so a
    run killed outright (no chance to write its own) cannot leave them saying "passed"."""
    (tmp_path / "test_live.py").write_text(LIVE_TESTS.read_text(encoding="utf-8"))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    reports = [tmp_path / "drift.json", tmp_path / "drift.md"]
    reports[0].write_text(
        json.dumps({"report": "face-detect live drift report", "outcome": "passed"})
    )
    reports[1].write_text("# face-detect live drift report\n\npassed\n")
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR, latency_ms=5000) as stub:
        entry = {
            "name": "slow",
            "image_url": stub.image_url("portrait.png"),
            "ratio": "1:1",
            "expect": "pass",
        }
        (tmp_path / "cases.json").write_text(json.dumps([entry]))
        child = subprocess.Popen(
            [sys.executable, "-m", "pytest", "--live", "--dashscope-base-url", stub.base_url,
             "--live-cases", "cases.json", "--live-examples", "0", "--live-qps", "0",
             "--drift-report", str(reports[0]), "--drift-report", str(reports[1]),
             "-p", "no:cacheprovider"],
            cwd=tmp_path, env=child_env(DASHSCOPE_API_KEY=KEY),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(1200):  # until a request is in flight (the stub waits 5 s to answer)
            if stub.requests_served or child.poll() is not None:
                break
            time.sleep(0.05)
        assert child.poll() is None, "the run ended before it was killed"
        child.kill()  # SIGKILL: no hook of the run gets to write anything
        child.wait(timeout=30)
    written = json.loads(reports[0].read_text())
    assert written["outcome"] == "interrupted" and written["exit_status"] == 1
    markdown = reports[1].read_text()
    assert "interrupted" in markdown and "\npassed\n" not in markdown


def test_the_live_run_sends_nothing_and_exits_non_zero_when_no_live_test_is_selected(
    project: pytest.Pytester,
) -> None:
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR) as stub:
        cases_for(project, stub)
        result = live_pytest(
            project, stub.base_url, "-k", "nothing-matches", "--drift-report", "r.json"
        )
        served = stub.requests_served
    assert served == 0
    assert result.ret != 0
    report = json.loads((project.path / "r.json").read_text())
    assert report["outcome"] == "nothing sent"
    assert "no live test was selected" in report["why_not_passed"]
    result.stdout.fnmatch_lines(["*not passed: no request was sent: no live test was selected*"])


# --- bounded time, and the truth on an interrupt ---------------------------------------------------


def test_the_run_deadline_ends_a_run_whose_endpoint_never_finishes_an_answer(
    project: pytest.Pytester,
) -> None:
    """Every answer drips forever; the run's deadline (not the per-read timeout) ends it, and
    ends each request in flight with it: no sending thread outlives the run."""
    with (
        serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR) as stub,
        FaultProxy(stub.base_url, "drip-body", interval=0.25) as proxy,
    ):
        cases_for(project, stub)
        before = set(threading.enumerate())  # an earlier test's threads are not this run's
        started = time.monotonic()
        result = live_pytest(
            project,
            proxy.base_url,
            "--live-timeout",
            "60",
            "--live-deadline",
            "1",
            "--drift-report",
            "r.json",
        )
        wall = time.monotonic() - started
        senders = [
            t for t in set(threading.enumerate()) - before if t.name.startswith("facedetect-live-")
        ]
    assert wall < 30, wall  # the deadline's 1 s, far from the 60 s read timeout
    assert not senders, "a request outlived the run's deadline (cut off only by the grace)"
    report = json.loads((project.path / "r.json").read_text())
    assert result.ret == 1
    assert report["outcome"] == "not judged"  # nothing was judged before the deadline
    timed_out = [error for error in report["errors"] if "run's deadline (1 s" in error]
    assert len(timed_out) == len(report["errors"]) > 0, report["errors"]


@pytest.mark.process  # a pytest child, interrupted: the slow tier
def test_an_interrupted_run_says_so_in_its_report_and_is_never_passed(tmp_path: Path) -> None:
    """Ctrl-C in the middle of a run: the report is written, says "interrupted", and exit != 0."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_live.py").write_text(LIVE_TESTS.read_text(encoding="utf-8"))
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR, latency_ms=3000) as stub:
        entry = {
            "name": "slow",
            "image_url": stub.image_url("portrait.png"),
            "ratio": "1:1",
            "expect": "pass",
        }
        (tmp_path / "cases.json").write_text(json.dumps([entry]))
        report = tmp_path / "drift.json"
        report.write_text(
            json.dumps({"report": "face-detect live drift report", "outcome": "passed"})
        )
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pytest",
                "--live",
                "--dashscope-base-url",
                stub.base_url,
                "--live-cases",
                "cases.json",
                "--live-examples",
                "0",
                "--live-qps",
                "0",
                "--drift-report",
                str(report),
                "-p",
                "no:cacheprovider",
            ],
            cwd=tmp_path,
            env=child_env(DASHSCOPE_API_KEY=KEY),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=default_sigint,  # noqa: PLW1509  # one call, no lock held: safe after fork
        )
        for _ in range(1200):  # until a request is in flight (the stub waits 3 s to answer it)
            if stub.requests_served:
                break
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        output, _ = child.communicate(timeout=30)
    assert child.returncode != 0, output.decode()[-2000:]
    written = json.loads(report.read_text())
    assert written["outcome"] == "interrupted"
    assert written["exit_status"] == 1


def test_fixtures_seeded_in_the_record_dir_stay_byte_for_byte(project: pytest.Pytester) -> None:
    recorded = project.path / "recorded"
    recorded.mkdir()
    seed = FIXTURE_DIR / "documented-pass-1-1.json"
    (recorded / seed.name).write_bytes(seed.read_bytes())
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR) as stub:
        cases_for(project, stub)
        result = live_pytest(project, stub.base_url, "--record")
    assert result.ret == 0
    assert (recorded / seed.name).read_bytes() == seed.read_bytes()


def test_a_renderer_that_fails_makes_an_error_of_the_run_and_no_report_says_passed(
    project: pytest.Pytester,
) -> None:
    # The renderer is broken inside the run itself (its own conftest), and mended after it; the
    # module is looked up in sys.modules, the one the plugin will import (pytester restores
    # sys.modules after each run, so a package attribute may name an older copy).
    project.makeconftest(
        """
        import dataclasses
        import importlib

        def broken(_report):
            raise RuntimeError("the renderer broke")

        def pytest_configure(config):
            report = importlib.import_module("facedetect_contract.report")
            config._facedetect_md = (report, report.FORMATS[".md"])
            report.FORMATS[".md"] = dataclasses.replace(report.FORMATS[".md"], render=broken)

        def pytest_unconfigure(config):
            report, render = config._facedetect_md
            report.FORMATS[".md"] = render
        """
    )
    (project.path / "r.md").write_text("# face-detect live drift report\n\npassed (last night)\n")
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR) as stub:
        cases_for(project, stub)
        result = live_pytest(
            project, stub.base_url, "--drift-report", "r.json", "--drift-report", "r.md"
        )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    written = json.loads((project.path / "r.json").read_text())
    assert written["outcome"] != "passed"
    assert (
        "writing the results failed: RuntimeError: the renderer broke" in written["why_not_passed"]
    )
    assert not (project.path / "r.md").exists()  # nor last night's, which said "passed"
    assert not [line for line in result.outlines if line.startswith(("passed:", "passed with"))]


def test_a_breaking_finding_fails_its_live_test_even_when_the_runs_message_is_lost(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live tests read the verdict's findings themselves: a judge that forgot to write its
    failure message (a fault of ours) cannot pass an answer that breaks the contract."""
    import dataclasses
    import importlib

    live_module = importlib.import_module("facedetect_contract.live.run")  # the plugin's copy

    def silent_judge(*args: object, **kwargs: object) -> object:
        return dataclasses.replace(judge(*args, **kwargs), message=None)

    judge = live_module.judge
    monkeypatch.setattr(live_module, "judge", silent_judge)

    def renamed(request: object, response: FakeResponse) -> FakeResponse:
        body = response.json()
        if isinstance(body.get("output"), dict) and "check_pass" in body["output"]:
            body["output"]["passed"] = body["output"].pop("check_pass")
        return FakeResponse(response.status, response.headers, json.dumps(body).encode())

    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR, response_hook=renamed) as stub:
        cases_for(project, stub)
        result = live_pytest(project, stub.base_url)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=1, passed=7, skipped=1)
    result.stdout.fnmatch_lines(["*response_schema_conformance*check_pass*"])


def test_an_unusable_ssl_cert_file_stops_an_https_run_before_it_sends_naming_the_variable(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project.path / "cases.json").write_text(
        json.dumps(
            [
                {
                    "name": "p",
                    "image_url": "https://127.0.0.1:9/p.png",
                    "ratio": "1:1",
                    "expect": "pass",
                }
            ]
        )
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(project.path / "no-such-ca.pem"))
    result = live_pytest(project, "https://127.0.0.1:9/api/v1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "SSL_CERT_FILE" in result.stderr.str()


def test_a_key_whose_redaction_would_erase_a_word_of_the_api_is_a_usage_error(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "team-parameters-2026")
    result = project.runpytest("--live", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "DASHSCOPE_API_KEY" in err and "team-parameters" not in err + result.stdout.str()
