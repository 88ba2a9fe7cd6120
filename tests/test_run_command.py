"""``facedetect-contract run``: the packaged suite's command line, built from the user's words.

A positional word is a test path only when it is not the value of an option before it, so
``--record-dir recordings`` stays an option however many folders called ``recordings`` exist;
``--base-url`` becomes ``--dashscope-base-url``; the suite's own settings file stays in step
with the checkout's pytest settings.
"""

from __future__ import annotations

import configparser
import tomllib
from pathlib import Path

import pytest

from facedetect_contract.__main__ import pytest_arguments, suite_dir

ROOT = Path(__file__).resolve().parents[1]
SUITE = suite_dir()


def user_part(arguments: list[str]) -> list[str]:
    """What ``pytest_arguments`` kept of the user's words, after its own settings."""
    return arguments[arguments.index("no:cacheprovider") + 1 :]


def targets(arguments: list[str]) -> list[str]:
    return arguments[: arguments.index("-c")]


def test_an_option_value_that_names_a_folder_stays_the_options_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "recordings").mkdir()  # the second night: the folder exists
    built = pytest_arguments(["--record-dir", "recordings", "--live"], SUITE)
    assert targets(built) == [str(SUITE)]  # the whole suite, not a folder of recordings
    assert user_part(built) == ["--record-dir", "recordings", "--live"]


@pytest.mark.parametrize(
    "words",
    [
        ["-k", "test_replay"],
        ["--drift-report", "test_live.py"],  # a value that even names a test file of the suite
        ["-m", "not live"],
        ["--live-cases", "cases"],
    ],
    ids=["keyword", "report-named-like-a-test", "marker", "cases-file"],
)
def test_the_value_of_pytests_or_the_plugins_option_is_never_a_test_path(
    words: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cases").mkdir()
    built = pytest_arguments(words, SUITE)
    assert targets(built) == [str(SUITE)]
    assert user_part(built) == words


def test_a_test_file_of_the_suite_narrows_the_run_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    built = pytest_arguments(["--live", "test_live.py::test_nothing", "-q"], SUITE)
    assert targets(built) == [f"{SUITE / 'test_live.py'}::test_nothing"]
    assert user_part(built) == ["--live", "-q"]


def test_a_folder_of_the_users_is_a_test_path_when_no_option_takes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_tests").mkdir()
    built = pytest_arguments(["my_tests", "-x"], SUITE)
    assert targets(built) == ["my_tests"]
    assert user_part(built) == ["-x"]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (
            ["--base-url", "http://127.0.0.1:9/api/v1"],
            ["--dashscope-base-url", "http://127.0.0.1:9/api/v1"],
        ),
        (
            ["--base-url=http://127.0.0.1:9/api/v1"],
            ["--dashscope-base-url=http://127.0.0.1:9/api/v1"],
        ),
    ],
    ids=["two-words", "one-word"],
)
def test_base_url_is_the_plugins_dashscope_base_url(words: list[str], expected: list[str]) -> None:
    assert user_part(pytest_arguments(words, SUITE)) == expected


def test_the_suite_settings_file_is_the_checkouts_pytest_settings() -> None:
    ini = configparser.ConfigParser()
    ini.read(ROOT / "facedetect_contract" / "suite.ini", encoding="utf-8")
    suite = ini["pytest"]
    checkout = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert suite["minversion"] == checkout["minversion"]
    assert suite["xfail_strict"] == str(checkout["xfail_strict"]).lower()
    # The checkout names the plugins its tests use (autoload off); the suite, run in a
    # consumer's environment, leaves theirs loaded but for the ones it knows it never uses.
    named = ["--disable-plugin-autoload", "-p", "facedetect_contract.plugin"]
    assert (
        checkout["addopts"][:3]
        == suite["addopts"].split()[:3]
        == ["--strict-markers", "--strict-config", "-ra"]
    )
    assert checkout["addopts"][3:6] == named
    assert suite["addopts"].split()[3:] == [
        "-p",
        "no:schemathesis",
        "-p",
        "no:respx",
        "-p",
        "no:anyio",
    ]
    filters = [line for line in suite["filterwarnings"].splitlines() if line.strip()]
    assert filters[0] == "error" and checkout["filterwarnings"] == ["error"]
    # The one difference, with its reason in the file: plugins imported before pytest.main
    # (respx's in a consumer's venv, this package's) cannot be rewritten; nothing else is ignored.
    assert filters[1:] == [
        "ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning"
    ]
