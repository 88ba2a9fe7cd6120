"""A live session without pytest: ``facedetect-contract live`` and ``LiveSession`` against the
stub on 127.0.0.1, with a sentinel key (passed, drift, usage errors, interrupted)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.cli import INTERRUPTED, USAGE_ERROR, main
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.doubles.fake import FakeRequest, FakeResponse
from facedetect_contract.doubles.server import RunningServer, serve_in_thread
from facedetect_contract.live.run import LiveRun
from facedetect_contract.session import LiveSession, SessionError, live_key, live_settings
from tests.helpers.processes import ROOT, default_sigint

# Not shaped like "sk-...": only the explicit redaction of the configured key keeps it out.
SENTINEL = "gwkey-SENTINEL-" + "7a1c" * 8
KEY_ENV = load_contracts().profile.api_key_env


@pytest.fixture(autouse=True)
def sentinel_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SENTINEL)
    monkeypatch.delenv("DASHSCOPE_HTTP_BASE_URL", raising=False)


@pytest.fixture
def honest_stub() -> Iterator[RunningServer]:
    """The stub answering image URLs from its offline catalogue (the documented images)."""
    with serve_in_thread(api_keys=[SENTINEL], catalog=True) as running:
        yield running


def renamed_check_pass(request: FakeRequest, response: FakeResponse) -> FakeResponse:
    body = response.json()
    output = body.get("output") if isinstance(body, dict) else None
    if isinstance(output, dict) and output.get("check_pass") is True:
        output["checkPass"] = output.pop("check_pass")
    return FakeResponse(response.status, response.headers, json.dumps(body).encode())


def live(server: RunningServer, report: Path, *extra: str) -> int:
    words = ["--base-url", server.base_url, "--live-qps", "0", "--drift-report", str(report)]
    return main(["live", *words, *extra])


def test_live_passes_against_the_honest_stub_and_writes_the_report(
    honest_stub: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = live(honest_stub, tmp_path / "live.json")
    out = capsys.readouterr()
    report = json.loads((tmp_path / "live.json").read_text())
    assert (status, report["outcome"], report["exit_status"]) == (0, "passed", 0), out.out
    assert report["requests"] and honest_stub.requests_served > 0
    assert "face-detect live mode" in out.out and "passed: 0 breaking" in out.out
    assert f"drift report: {tmp_path / 'live.json'}" in out.out
    assert SENTINEL not in out.out + out.err + (tmp_path / "live.json").read_text()


def test_live_on_a_drifted_endpoint_exits_1_and_the_report_says_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve_in_thread(
        api_keys=[SENTINEL], catalog=True, response_hook=renamed_check_pass
    ) as server:
        status = live(server, tmp_path / "live.json", "--history", str(tmp_path / "h.jsonl"))
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "live.json").read_text())
    assert (status, report["outcome"]) == (1, "drift"), out
    assert any(f["severity"] == "breaking" for f in report["findings"])
    assert "BREAKING" in out
    # The history's line, written last, carries the outcome the report carries.
    (line,) = (tmp_path / "h.jsonl").read_text().splitlines()
    assert json.loads(line)["outcome"] == "drift"


def test_live_without_the_key_is_a_usage_error_naming_the_variable(
    honest_stub: RunningServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv(KEY_ENV)
    assert live(honest_stub, tmp_path / "live.json") == USAGE_ERROR
    err = capsys.readouterr().err
    assert f"facedetect-contract live needs {KEY_ENV}: export it" in err
    assert honest_stub.requests_served == 0
    assert not (tmp_path / "live.json").exists()


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["--base-url", "ftp://example.com"], "--base-url: "),
        (["--base-url", "http://127.0.0.1:9", "--live-cases", "missing.json"], "missing.json"),
        (["--base-url", "http://127.0.0.1:9", "--baseline-until", "30d"], "--update-baseline"),
        (["--base-url", "http://127.0.0.1:9", "--drift-report", "r.txt"], "r.txt"),
    ],
    ids=["base-url-not-http", "cases-file-missing", "until-without-update", "report-suffix"],
)
def test_a_bad_option_of_live_is_a_usage_error_said_before_anything_is_sent(
    words: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["live", *words]) == USAGE_ERROR
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert SENTINEL not in err


def test_a_malformed_number_of_live_exits_4_naming_the_option() -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["live", "--live-examples", "many"])
    assert stopped.value.code == USAGE_ERROR


def test_live_interrupted_in_the_run_exits_2_and_the_report_says_interrupted(
    honest_stub: RunningServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    execute = LiveRun.execute

    def ctrl_c_after_sending(self: LiveRun, names: Any = None) -> None:
        execute(self, names)
        raise KeyboardInterrupt

    monkeypatch.setattr(LiveRun, "execute", ctrl_c_after_sending)
    assert live(honest_stub, tmp_path / "live.json") == INTERRUPTED
    report = json.loads((tmp_path / "live.json").read_text())
    assert (report["outcome"], report["exit_status"]) == ("interrupted", 1)
    assert "interrupted" in capsys.readouterr().out


@pytest.mark.process  # a child process: the slow tier
def test_live_stopped_by_a_signal_mid_run_leaves_reports_that_say_interrupted(
    tmp_path: Path,
) -> None:
    """The real thing: a child process, SIGINT while its requests wait on a slow stub."""
    with serve_in_thread(api_keys=[SENTINEL], catalog=True, latency_ms=3000) as server:
        report = tmp_path / "live.json"
        words = ["--base-url", server.base_url, "--live-qps", "0", "--drift-report", str(report)]
        child = subprocess.Popen(
            [sys.executable, "-m", "facedetect_contract", "live", *words],
            env={**os.environ, KEY_ENV: SENTINEL},
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=default_sigint,  # noqa: PLW1509  # no threads yet in the child
        )
        deadline = time.monotonic() + 20
        while server.requests_served == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the requests are in flight, waiting on the latency
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    assert child.returncode == INTERRUPTED, out + err
    assert json.loads(report.read_text())["outcome"] == "interrupted"
    assert SENTINEL not in out + err


@pytest.mark.process  # a child process: the slow tier
def test_live_imports_no_pytest(honest_stub: RunningServer, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from facedetect_contract.cli import main\n"
        f"status = main(['live', '--base-url', {honest_stub.base_url!r}, '--live-qps', '0'])\n"
        "assert 'pytest' not in sys.modules and '_pytest' not in sys.modules\n"
        "sys.exit(status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, KEY_ENV: SENTINEL},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- the session module on its own ----------------------------------------------------------------


def test_a_session_writes_its_reports_at_the_start_saying_unfinished(
    honest_stub: RunningServer, tmp_path: Path
) -> None:
    contracts = load_contracts()
    settings = live_settings(
        {"facedetect_reports": ["live.json"], "facedetect_live_qps": 0.0},
        base_url=honest_stub.base_url,
        here=tmp_path,
        record_dir=tmp_path / "recordings",
    )
    session = LiveSession(settings, contracts=contracts)
    session.start()
    try:
        assert json.loads((tmp_path / "live.json").read_text())["outcome"] == "interrupted"
        assert session.exit_status == 1  # not finished: never passed
        assert honest_stub.requests_served == 0
    finally:
        session.close()


def test_the_key_is_read_from_its_variable_only_and_never_named_in_the_error() -> None:
    contracts = load_contracts()
    assert live_key(contracts, {KEY_ENV: SENTINEL}) is not None
    with pytest.raises(SessionError, match=f"--live needs {KEY_ENV}"):
        live_key(contracts, {})
