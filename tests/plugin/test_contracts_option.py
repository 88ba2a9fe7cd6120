"""The contracts folder chosen once, at the surface: pytest's ``--contracts`` and ini key
``facedetect_contracts``, and ``facedetect-contract run --contracts``. Each test changes one fact
in a copy of the packaged contracts and sees the run follow the copy; a bad folder is a usage
error naming the option (or ini key), the folder and the fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.contracts_copies import (
    KEY_ENV,
    PLANTED,
    REQUIRED,
    key_env_copy,
    planted_copy,
    requiring_copy,
)
from tests.helpers.processes import ROOT, child_env

pytest_plugins = ["pytester"]

# A project's test: what the fake answers an unknown key, through the plugin's client.
ANSWER_TEST = f"""
def test_the_fake_answers_an_unknown_key_with_the_chosen_contracts_message(facedetect_client):
    interaction = facedetect_client.exchange(
        {{"model": "m", "input": {{}}}}, auth="invalid", retry=False
    )
    assert interaction.response.body["message"] == {PLANTED!r}
"""


def test_the_option_chooses_the_folder_the_fixtures_use(pytester: pytest.Pytester) -> None:
    """--contracts DIR: the plugin's fake answers by the copy; without it, by the packaged
    contracts (the same test fails: the outcome follows the folder)."""
    planted_copy(pytester.path)
    pytester.makepyfile(ANSWER_TEST)
    pytester.runpytest("--contracts", "contracts-copy").assert_outcomes(passed=1)
    pytester.runpytest().assert_outcomes(failed=1)


def test_the_ini_key_chooses_the_folder_relative_to_the_ini_file(
    pytester: pytest.Pytester,
) -> None:
    """facedetect_contracts in the ini file, relative to its folder (not the invocation's)."""
    project = pytester.mkdir("project")
    planted_copy(project)
    (project / "pytest.ini").write_text("[pytest]\nfacedetect_contracts = contracts-copy\n")
    (project / "test_answer.py").write_text(ANSWER_TEST)
    pytester.runpytest("project", "-c", "project/pytest.ini").assert_outcomes(passed=1)


def test_the_option_wins_over_the_ini_key(pytester: pytest.Pytester) -> None:
    """The command line wins: the ini key's folder (missing here) is not even read."""
    planted_copy(pytester.path)
    pytester.makeini("[pytest]\nfacedetect_contracts = no-such-folder\n")
    pytester.makepyfile(ANSWER_TEST)
    pytester.runpytest("--contracts", "contracts-copy").assert_outcomes(passed=1)


@pytest.mark.parametrize("where", ["option", "ini key"])
def test_a_folder_that_does_not_exist_is_a_usage_error_naming_it(
    pytester: pytest.Pytester, where: str
) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    if where == "option":
        result = pytester.runpytest("--contracts", "no-such-folder")
        named = "--contracts"
    else:
        pytester.makeini("[pytest]\nfacedetect_contracts = no-such-folder\n")
        result = pytester.runpytest()
        named = "ini key facedetect_contracts"
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    error = result.stderr.str()
    assert f"{named} {pytester.path / 'no-such-folder'}: no such folder" in error
    assert f"drop {named}" in error


def test_a_folder_that_does_not_load_is_a_usage_error_naming_the_file(
    pytester: pytest.Pytester,
) -> None:
    copy = planted_copy(pytester.path)
    (copy / "errors.json").write_text("{ not json", encoding="utf-8")
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--contracts", "contracts-copy")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    error = result.stderr.str()
    assert f"--contracts {copy}: its contracts do not load" in error
    assert "errors.json:1:3: not valid JSON" in error
    assert "fix the syntax there" in error


def test_live_mode_reads_the_key_variable_the_chosen_contracts_name(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pytest --live --contracts DIR: the session is made from the copy (its key variable)."""
    key_env_copy(pytester.path)
    monkeypatch.delenv(KEY_ENV, raising=False)
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest(
        "--live", "--contracts", "contracts-copy", "--dashscope-base-url", "http://127.0.0.1:9"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"--live needs {KEY_ENV}" in result.stderr.str()


def run_command(*words: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "facedetect_contract", "run", *words],
        check=False,
        cwd=cwd,
        env=child_env(PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.process  # a child process: the slow tier
def test_run_replays_the_shipped_suite_against_the_chosen_folder(tmp_path: Path) -> None:
    """facedetect-contract run --contracts DIR: the copy requires a field the documented passes
    lack, so the shipped suite fails them (they pass on the packaged contracts: the project's
    own run of tests/contract)."""
    requiring_copy(tmp_path)
    done = run_command(
        "--contracts", "contracts-copy", "test_replay.py", "-k", "documented-pass", cwd=tmp_path
    )
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout + done.stderr
    assert "FAILED" in done.stdout
    assert "documented-pass-1-1" in done.stdout
    assert REQUIRED in done.stdout


@pytest.mark.process  # a child process: the slow tier
def test_run_with_a_missing_folder_exits_4_naming_the_option(tmp_path: Path) -> None:
    done = run_command("--contracts", "nowhere", "test_replay.py", cwd=tmp_path)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert f"--contracts {tmp_path / 'nowhere'}: no such folder" in done.stderr
    assert "drop --contracts" in done.stderr
