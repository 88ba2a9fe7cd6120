"""``facedetect-contract run``: the packaged suite's command line, built from the user's words.

A positional word is a test path only when it is not the value of an option before it, so
``--record-dir recordings`` stays an option however many folders called ``recordings`` exist;
``--base-url`` becomes ``--dashscope-base-url``; the suite's own settings file stays in step
with the checkout's pytest settings. ``run --help`` shows the plugin's own option group first
(read from the plugin, with ``--base-url``), ``--help-pytest`` pytest's whole help, and
``--version`` the suite's versions, never pytest's.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from facedetect_contract import __version__, plugin
from facedetect_contract.__main__ import main, pytest_arguments, suite_dir

ROOT = Path(__file__).resolve().parents[1]
SUITE = suite_dir()

pytest_plugins = ["pytester"]


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


def pytests_own_listing_of_the_plugins_options(pytester: pytest.Pytester) -> list[str]:
    """The plugin's options in the order ``pytest --help`` lists them, in its own section.

    pytest's own parser, run in this process (pytester, with the checkout's plugins): what is
    judged is the order pytest lists the group in, not a child process (the console script's
    own test starts one)."""
    done = pytester.runpytest("--help")
    assert done.ret == 0, done.stderr.str()
    section = done.stdout.str().partition("face-detect contract suite (facedetect-contract):\n")[2]
    section = section.partition("\n\n")[0]
    return re.findall(r"^  (--[\w-]+)", section, flags=re.MULTILINE)


def test_run_help_lists_the_suites_options_first_as_pytest_does_with_base_url(
    capsys: pytest.CaptureFixture[str], pytester: pytest.Pytester
) -> None:
    assert main(["run", "--help"]) == 0
    shown = capsys.readouterr().out
    options = re.findall(r"^  (--[\w-]+)", shown, flags=re.MULTILINE)
    listed = pytests_own_listing_of_the_plugins_options(pytester)
    assert len(listed) > 10
    assert options[0] == "--base-url"  # --base-url URL, --dashscope-base-url URL: one line
    assert "  --base-url URL, --dashscope-base-url URL\n" in shown
    assert options[1 : len(listed)] == listed[1:]
    assert listed[0] == "--dashscope-base-url"
    assert options[len(listed) :] == ["--help-pytest", "--version"]  # after `  -h, --help`
    assert "Every pytest option applies as well: `facedetect-contract run --help-pytest`" in (
        " ".join(shown.split())
    )
    assert len(shown.splitlines()) < 100  # pytest's own is 488 lines


def test_run_help_reads_the_plugins_option_group_instead_of_a_copy(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    declared = plugin.pytest_addoption

    def with_one_more(parser: pytest.Parser) -> None:
        declared(parser)
        group = parser.getgroup("face-detect")
        group.addoption("--live-brand-new", metavar="X", help="an option added tomorrow")

    monkeypatch.setattr(plugin, "pytest_addoption", with_one_more)
    assert main(["run", "-h"]) == 0
    assert re.search(r"--live-brand-new X\s+an option added tomorrow", capsys.readouterr().out)


def test_run_version_is_the_suites_and_never_reaches_pytest(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(pytest, "main", lambda *a, **k: pytest.fail("pytest was run"))
    assert main(["run", "--live", "--version"]) == 0
    assert capsys.readouterr().out.startswith(f"facedetect-contract {__version__}\n")


def test_help_pytest_is_pytests_own_help() -> None:
    assert user_part(pytest_arguments(["--help-pytest"], SUITE)) == ["--help"]


@pytest.mark.process  # the installed console script, run twice: the slow tier
def test_the_console_scripts_run_help_is_the_suites_and_help_pytest_is_pytests(
    tmp_path: Path,
) -> None:
    script = shutil.which("facedetect-contract", path=str(Path(sys.executable).parent))
    assert script is not None, "the console script is not installed: pip install -e ."
    ours, theirs = (
        subprocess.run(
            [script, "run", word],
            check=False,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        for word in ("--help", "--help-pytest")
    )
    assert ours.returncode == theirs.returncode == 0, ours.stderr + theirs.stderr
    assert ours.stdout.startswith("usage: facedetect-contract run ")
    assert "--base-url URL, --dashscope-base-url URL" in ours.stdout
    assert "-k EXPRESSION" not in ours.stdout
    assert "-k EXPRESSION" in theirs.stdout  # pytest's, with the suite's group among them
    assert "face-detect contract suite (facedetect-contract):" in theirs.stdout
