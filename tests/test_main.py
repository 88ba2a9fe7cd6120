"""The command line: ``serve`` runs the stub until stopped, ``openapi`` guards the generated file,
``--version`` on every command, and one exit status for every usage error (pytest's 4)."""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from facedetect_contract import __version__, cli
from facedetect_contract.__main__ import USAGE_ERROR, main
from facedetect_contract.client import CheckPassed, FaceDetectClient
from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.contracts.loader import CONTRACT_DIR, load_contracts
from facedetect_contract.contracts.openapi import OPENAPI_FILE, render_openapi
from facedetect_contract.doubles.images import DOWNLOAD_DEADLINE
from facedetect_contract.doubles.server import StubServer
from tests.helpers.contracts_copies import (
    KEY_ENV,
    PLANTED,
    REQUIRED,
    key_env_copy,
    planted_copy,
    requiring_copy,
)
from tests.helpers.processes import default_sigint

CONTRACTS = load_contracts()

ROOT = Path(__file__).resolve().parents[1]
SENTINEL = "SENTINEL-cli-4b2e-stub-key-never-shown"


def first_line(process: subprocess.Popen[str], timeout: float = 15) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            process.kill()
            pytest.fail(f"serve printed nothing in {timeout} s")
    return process.stdout.readline()


@pytest.mark.process  # serve as a child process, stopped by a signal: the slow tier
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_serve_starts_answers_and_stops_on_a_signal(stop: signal.Signals) -> None:
    command = [sys.executable, "-m", "facedetect_contract", "serve", "--port", "0"]
    command += ["--key-env", "STUB_CLI_KEY", "--images-dir", str(IMAGE_DIR)]
    env = {**os.environ, "STUB_CLI_KEY": SENTINEL}
    env.pop("DASHSCOPE_API_KEY", None)
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,  # noqa: PLW1509  # one call, no lock held: safe after fork
    )
    try:
        line = first_line(process)
        found = re.fullmatch(r"serving (http://127\.0\.0\.1:\d+/api/v1)\n", line)
        assert found, line
        base_url = found.group(1)
        image = base_url.removesuffix("/api/v1") + "/images/portrait.png"
        with FaceDetectClient(base_url=base_url, environ={"DASHSCOPE_API_KEY": SENTINEL}) as c:
            assert isinstance(c.detect(image), CheckPassed)
        process.send_signal(stop)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert '"POST /api/v1/services/aigc/image2video/face-detect HTTP/1.1" 200' in err
    assert SENTINEL not in line + out + err


def test_serve_refuses_a_non_loopback_host_unless_told(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--host", "0.0.0.0", "--port", "0"])
    assert exited.value.code == USAGE_ERROR
    assert "--allow-remote-bind" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "flag"),
    [
        (["--qps", "0"], "--qps"),
        (["--latency", "soon"], "--latency"),
        (["--port", "70000"], "--port"),
        (["--throttle-first", "-1"], "--throttle-first"),
        (["--failure-shape", "C"], "--failure-shape"),
        (["--images-dir", "/no/such/dir"], "--images-dir"),
        (["--prefix", "api/v1"], "--prefix"),
        (["--image-deadline", "0"], "--image-deadline"),
        (["--image-deadline", "nan"], "--image-deadline"),
        (["--image-deadline", "1e10"], "--image-deadline"),  # past what a socket can wait
        (["--latency", "1e300"], "--latency"),  # time.sleep's OverflowError in every answer
    ],
)
def test_a_bad_serve_flag_is_a_usage_error_naming_the_flag(
    arguments: list[str],
    flag: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def serve_forever(self: StubServer, poll_interval: float = 0.5) -> None:
        pytest.fail(f"{flag} was accepted: the stub started serving")

    monkeypatch.setattr(StubServer, "serve_forever", serve_forever)
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", "0", *arguments])
    assert exited.value.code == USAGE_ERROR
    assert flag in capsys.readouterr().err


def test_openapi_check_passes_on_the_committed_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["openapi", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_openapi_check_fails_on_a_stale_copy_and_write_refreshes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "face-detect"
    shutil.copytree(CONTRACT_DIR, copy)
    stale = copy / OPENAPI_FILE
    stale.write_text(stale.read_text().replace('"3.1.0"', '"3.0.0"', 1))
    assert main(["openapi", "--check", "--contracts-dir", str(copy)]) == 1
    error = capsys.readouterr().err
    assert "stale" in error
    assert f"openapi --contracts {copy} --write" in error  # the hint refreshes this folder's
    assert main(["openapi", "--write", "--contracts-dir", str(copy)]) == 0
    assert main(["openapi", "--check", "--contracts-dir", str(copy)]) == 0


def test_openapi_without_a_flag_prints_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["openapi"]) == 0
    assert capsys.readouterr().out == render_openapi(CONTRACTS)


CONTROL = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\r\n= 55 passed =\ud83d"


def test_annotations_show_the_endpoints_control_characters_escaped(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    finding = {
        "check": "new_field",
        "pointer": f"/output/{CONTROL}",
        "interaction": "live-case-x",
        "title": f"new field {CONTROL}",
        "received": CONTROL,
        "documented": "d",
        "source": "s",
        "severity": "breaking",
    }
    report = {
        "report": "face-detect live drift report",
        "findings": [finding],
        "errors": [f"error {CONTROL}"],
        "outcome": "drift",
    }
    path = tmp_path / "drift.json"
    path.write_text(json.dumps(report), encoding="utf-8")  # the surrogate as \ud83d
    assert main(["annotations", str(path)]) == 0
    out = capsysbinary.readouterr().out
    assert not any(byte in out for byte in (b"\x1b", b"\x07", b"\r"))
    lines = out.decode().splitlines()
    shown = "\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J%0D%0A= 55 passed =\\ud83d"
    assert lines[0].startswith(f"::error title=new_field at /output/{shown}::live-case-x: ")
    assert lines[1] == f"::warning title=error of the run::error {shown}"
    assert len(lines) == 3


@pytest.mark.parametrize(
    "report",
    [
        {"report": "face-detect live drift report"},
        {"report": "face-detect live drift report", "findings": {}, "errors": []},
        {"report": "face-detect live drift report", "findings": [[]], "errors": []},
    ],
    ids=["no-findings", "findings-an-object", "a-finding-a-list"],
)
def test_annotations_of_a_malformed_report_are_a_usage_error_naming_it_without_a_traceback(
    tmp_path: Path, report: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "drift.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    assert main(["annotations", str(path)]) == USAGE_ERROR
    assert str(path) in capsys.readouterr().err


def status_of(argv: list[str]) -> int:
    """The exit status of one command, whether it returns it or argparse exits with it."""
    try:
        return main(argv)
    except SystemExit as exited:
        return int(exited.code or 0)


def test_the_usage_error_status_is_pytests() -> None:
    assert int(pytest.ExitCode.USAGE_ERROR) == USAGE_ERROR == 4


@pytest.mark.parametrize(
    "command",
    [[], ["run"], ["serve"], ["openapi"], ["history"], ["annotations"]],
    ids=["alone", "run", "serve", "openapi", "history", "annotations"],
)
def test_version_prints_the_package_and_the_contracts_versions(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert status_of([*command, "--version"]) == 0
    out = capsys.readouterr().out
    contracts = load_contracts()
    assert out == (
        f"facedetect-contract {__version__}\n"
        f"contracts {contracts.version} ({contracts.directory})\n"
    )
    assert "pytest" not in out  # `run --version` is ours, not pytest's


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["bogus"], "invalid choice: 'bogus'"),
        ([], "COMMAND"),
        (["serve", "--no-such-flag"], "--no-such-flag"),
        (["openapi", "--check", "--write"], "--write"),
        (["history"], "file"),
        (["history", "h.jsonl", "--settle-after", "0"], "--settle-after"),
        (["annotations"], "report"),
    ],
    ids=["unknown-command", "no-command", "unknown-flag", "exclusive-flags", "no-file",
         "settle-after-0", "no-report"],
)  # fmt: skip
def test_every_usage_error_of_argparse_exits_4_naming_the_option_and_the_help(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert status_of(argv) == USAGE_ERROR
    err = capsys.readouterr().err
    assert named in err
    assert "--help` lists the options" in err


def test_a_malformed_history_record_is_a_usage_error_naming_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text("[1, 2]\n", encoding="utf-8")
    assert main(["history", str(history)]) == USAGE_ERROR
    err = capsys.readouterr().err
    assert f"{history}:1" in err
    assert "Traceback" not in err


def test_a_contracts_folder_that_cannot_be_read_is_a_usage_error_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["openapi", "--contracts-dir", str(tmp_path)]) == USAGE_ERROR
    assert str(tmp_path) in capsys.readouterr().err


class Started(Exception):
    """Raised by a stand-in for StubServer: the arguments the command gave it."""


@pytest.mark.parametrize(
    ("words", "deadline"),
    [([], DOWNLOAD_DEADLINE), (["--image-deadline", "2.5"], 2.5)],
    ids=["default", "given"],
)
def test_serve_gives_the_stub_its_image_deadline(
    words: list[str], deadline: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stub(address: tuple[str, int], **options: object) -> None:
        raise Started(options)

    monkeypatch.setattr(cli, "StubServer", stub)
    with pytest.raises(Started) as started:
        main(["serve", "--port", "0", *words])
    assert started.value.args[0]["image_deadline"] == deadline


def console_script() -> str:
    """The installed ``facedetect-contract`` of this interpreter's environment."""
    script = shutil.which("facedetect-contract", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.fail("the console script is not installed: pip install -e . (dev.py does)")
    return script


@pytest.mark.process  # the installed console script, run: the slow tier
def test_the_console_script_prints_its_version_and_exits_0(tmp_path: Path) -> None:
    done = subprocess.run(
        [console_script(), "--version"],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"facedetect-contract {__version__}\ncontracts sha256:")


@pytest.mark.process
def test_the_console_scripts_usage_error_exits_4_like_pytests(tmp_path: Path) -> None:
    done = subprocess.run(
        [console_script(), "serve", "--qps", "0"],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == USAGE_ERROR == pytest.ExitCode.USAGE_ERROR
    assert "argument --qps: takes a number > 0, not '0'" in done.stderr
    assert "Traceback" not in done.stderr


# --- --contracts DIR: the folder serve, openapi and live read (tests/plugin for pytest and run)


@pytest.mark.process
def test_serve_answers_by_the_chosen_contracts(tmp_path: Path) -> None:
    """serve --contracts DIR: the stub answers an unknown key with the copy's message."""
    copy = planted_copy(tmp_path)
    command = [sys.executable, "-m", "facedetect_contract", "serve", "--port", "0"]
    command += ["--key-env", "STUB_CLI_KEY", "--contracts", str(copy)]
    env = {**os.environ, "STUB_CLI_KEY": SENTINEL}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        found = re.fullmatch(r"serving (http://127\.0\.0\.1:\d+/api/v1)\n", first_line(process))
        assert found
        with FaceDetectClient(base_url=found.group(1), environ={"K": SENTINEL}) as client:
            answer = client.exchange({}, auth="invalid", retry=False).response
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert (answer.status, answer.body["message"]) == (401, PLANTED)


def test_openapi_prints_the_document_of_the_chosen_contracts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = requiring_copy(tmp_path)
    assert main(["openapi", "--contracts", str(copy)]) == 0
    assert REQUIRED in capsys.readouterr().out
    assert main(["openapi"]) == 0
    assert REQUIRED not in capsys.readouterr().out


def test_live_reads_the_key_variable_the_chosen_contracts_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = key_env_copy(tmp_path)
    monkeypatch.delenv(KEY_ENV, raising=False)
    words = ["live", "--base-url", "http://127.0.0.1:9", "--contracts", str(copy)]
    assert main(words) == USAGE_ERROR
    assert f"facedetect-contract live needs {KEY_ENV}" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["serve", "openapi", "live"])
def test_a_missing_contracts_folder_exits_4_naming_the_option_and_the_fix(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    words = [command, "--contracts", str(tmp_path / "nowhere")]
    if command == "serve":
        with pytest.raises(SystemExit) as exited:
            main([*words, "--port", "0"])
        status = exited.value.code
    else:
        status = main(words)
    assert status == USAGE_ERROR
    error = capsys.readouterr().err
    assert f"--contracts {tmp_path / 'nowhere'}: no such folder" in error
    assert "drop --contracts" in error


# --- serve --reading / --fault: the stub per test for a client in any language ----------------


@pytest.mark.process
def test_serve_plays_the_readings_and_faults_given_and_prints_its_origin() -> None:
    command = [sys.executable, "-m", "facedetect_contract", "serve", "--port", "0"]
    command += ["--key-env", "STUB_CLI_KEY", "--images-dir", str(IMAGE_DIR)]
    command += ["--reading", "failure-details=empty", "--reading", "humanoid-returned=returned"]
    command += ["--fault", "throttle:retry-after=1:first=1", "--fault", "503:first=2"]
    env = {**os.environ, "STUB_CLI_KEY": SENTINEL}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        found = re.fullmatch(r"serving (http://127\.0\.0\.1:(\d+)/api/v1)\n", first_line(process))
        assert found
        assert process.stdout is not None
        assert process.stdout.readline() == f"origin http://127.0.0.1:{found.group(2)}\n"
        base_url = found.group(1)
        body = {
            "model": "emo-detect-v1",
            "input": {"image_url": base_url.removesuffix("/api/v1") + "/images/no-human.png"},
            "parameters": {"ratio": "1:1"},
        }
        url = base_url + CONTRACTS.profile.path
        headers = {"Authorization": f"Bearer {SENTINEL}"}
        answers = [httpx.post(url, json=body, headers=headers, timeout=10) for _ in range(3)]
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert [a.status_code for a in answers] == [429, 503, 200]
    assert answers[0].headers["retry-after"] == "1"
    output = answers[2].json()["output"]
    assert (output["check_pass"], output["code"], output["message"]) == (False, "", "")
    assert "humanoid" in output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--reading", "failure-shape"], "--reading failure-shape: give QUESTION=READING"),
        (["--reading", "no-such=x"], "--reading no-such=x: no open question 'no-such'"),
        (["--reading", "failure-shape=C"], "its readings: A, B"),
        (["--fault", "500:retry-after=2"], "--fault 500:retry-after=2: fault spec"),
        (["--fault", "sometimes"], "--fault sometimes: fault spec 'sometimes'"),
        (
            ["--failure-shape", "A", "--reading", "failure-shape=B"],
            "--failure-shape A is --reading failure-shape=A, but --reading failure-shape=B",
        ),
        (
            ["--reading", "failure-shape=A", "--reading", "failure-shape=B"],
            "--reading failure-shape=B: --reading failure-shape=A was given too",
        ),
    ],
    ids=[
        "no-equals",
        "bad-question",
        "bad-reading",
        "bad-fault",
        "no-fault",
        "contradiction",
        "twice",
    ],
)
def test_a_bad_reading_or_fault_is_a_usage_error_naming_the_option(
    arguments: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def serve_forever(self: StubServer, poll_interval: float = 0.5) -> None:
        pytest.fail(f"{arguments} was accepted: the stub started serving")

    monkeypatch.setattr(StubServer, "serve_forever", serve_forever)
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", "0", *arguments])
    assert exited.value.code == USAGE_ERROR
    assert message in " ".join(capsys.readouterr().err.split())


def test_a_failure_shape_that_agrees_with_its_reading_is_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def stub(address: tuple[str, int], **options: object) -> None:
        raise Started(options)

    monkeypatch.setattr(cli, "StubServer", stub)
    with pytest.raises(Started) as started:
        main(["serve", "--port", "0", "--failure-shape", "B", "--reading", "failure-shape=B"])
    options = started.value.args[0]
    assert (options["failure_shape"], options["readings"]) == ("B", {"failure-shape": "B"})
