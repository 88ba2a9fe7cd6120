"""The pytest plugin as users meet it: options, markers, profiles and fixtures, through pytester."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from hypothesis import settings

pytest_plugins = ["pytester"]

# A project that uses the suite's fixtures and Hypothesis profile (the plugin gives neither).
CONFTEST = """
from facedetect_contract.plugin.harness import (
    contracts, fake, load_hypothesis_profile, offline_client, pytest_generate_tests,
)

def pytest_configure(config):
    load_hypothesis_profile(config)
"""


@contextlib.contextmanager
def sessions_profile_kept() -> Iterator[None]:
    """Inside, inline pytest runs may load other Hypothesis profiles (a profile is Hypothesis'
    global default); after, this session's is loaded again."""
    ours = settings.get_current_profile_name()
    try:
        yield
    finally:
        settings.load_profile(ours)


@pytest.fixture
def suite(pytester: pytest.Pytester) -> Iterator[pytest.Pytester]:
    """A project with CONFTEST. Its runs are inline (a child interpreter is a second each), with
    this session's profile kept."""
    pytester.makeconftest(CONFTEST)
    with sessions_profile_kept():
        yield pytester


def test_the_options_are_grouped_in_help(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--help")
    result.stdout.fnmatch_lines(["*face-detect contract suite*", "*--dashscope-base-url=URL*"])


def test_the_live_marker_is_registered(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.facedetect_live:*", "@pytest.mark.facedetect_fake*"])


def test_a_base_url_that_is_not_http_is_a_usage_error(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--dashscope-base-url", "ftp://example.com")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--dashscope-base-url*not an http(s) URL*"])


@pytest.mark.parametrize(("ci", "profile"), [("true", "ci"), ("", "dev")])
def test_the_hypothesis_profile_follows_ci(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str, profile: str
) -> None:
    monkeypatch.setenv("CI", ci)
    suite.makepyfile(
        f"""
        from hypothesis import settings
        def test_profile():
            assert settings.get_current_profile_name() == "{profile}"
            assert settings.default.max_examples == 200
            assert settings.default.derandomize is {profile == "ci"}
        """
    )
    suite.runpytest().assert_outcomes(passed=1)


def test_an_inline_run_leaves_this_sessions_profile_as_it_was(pytester: pytest.Pytester) -> None:
    """What the ``suite`` fixture keeps: an inline run loads another profile, ours comes back."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile("def test_nothing():\n    pass\n")
    ours = settings.get_current_profile_name()
    assert ours in ("dev", "ci")
    with sessions_profile_kept():
        pytester.runpytest("--hypothesis-profile", "debug").assert_outcomes(passed=1)
        assert settings.get_current_profile_name() == "debug"
    assert settings.get_current_profile_name() == ours


def test_the_offline_client_reaches_the_fake_through_a_gateway_prefix(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(
        """
        def test_detect(offline_client):
            assert offline_client.url.startswith("https://gw.example.com/qwen/api/v1/")
            assert offline_client.detect("https://example.com/portrait.png").request_id
        """
    )
    # Once per documented failure shape: the fake fixture is parametrized over both.
    suite.runpytest("--dashscope-base-url", "https://gw.example.com/qwen/api/v1").assert_outcomes(
        passed=2
    )


def test_a_failing_property_shows_how_to_reproduce_it(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    suite.makepyfile(
        """
        from hypothesis import given
        from facedetect_contract.contracts.loader import load_contracts
        from facedetect_contract.generation.strategies import valid_requests
        @given(valid_requests(load_contracts()))
        def test_ratio(request):
            assert request.body["parameters"]["ratio"] == "a ratio the contract does not list"
        """
    )
    result = suite.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*@reproduce_failure*"])


LAZY_CONFTEST = """
import sys

from facedetect_contract.plugin.harness import (  # the suite's hooks, as tests/contract imports them
    pytest_collectstart, pytest_configure, pytest_sessionfinish,
)

def pytest_unconfigure(config):  # after the terminal summary: was Hypothesis ever imported?
    with open("imported.txt", "w") as f:
        f.write(str("hypothesis" in sys.modules))
"""


@pytest.mark.process  # pytest children: the slow tier
def test_the_live_tests_alone_import_no_hypothesis_and_the_others_get_the_profile(
    pytester: pytest.Pytester,
) -> None:
    """The suite's conftest (as in tests/contract): a run of test_live.py alone never imports
    Hypothesis, not even for Hypothesis' terminal summary (a fifth of pytest --live's
    start-up); any other test module gets the profile (200 examples, no deadline) before it is
    imported, and Hypothesis' plugin stays for its summary."""
    pytester.makeconftest(LAZY_CONFTEST)
    pytester.makepyfile(
        test_live="import sys\n\ndef test_alone():\n    assert 'hypothesis' not in sys.modules\n",
        test_props=(
            "from hypothesis import given, settings, strategies as st\n\n"
            "def test_profile():\n"
            "    assert settings.default.max_examples == 200\n"
            "    assert settings.default.deadline is None\n\n"
            "@settings(derandomize=True)\n@given(st.integers())\n"
            "def test_inherits(n):\n    assert settings().max_examples == 200\n"
        ),
    )
    quiet = ("-p", "no:cacheprovider")
    alone = pytester.runpytest_subprocess("test_live.py", *quiet)
    alone.assert_outcomes(passed=1)
    assert (pytester.path / "imported.txt").read_text() == "False"
    # Both files collected, no profile named: the profile is loaded before test_props imports
    # Hypothesis, and Hypothesis' plugin stays for its statistics.
    both = pytester.runpytest_subprocess(*quiet, "--hypothesis-show-statistics", "-k", "not alone")
    both.assert_outcomes(passed=2, deselected=1)
    assert (pytester.path / "imported.txt").read_text() == "True"
    both.stdout.fnmatch_lines(["*Hypothesis Statistics*", "*test_inherits*"])
    # A named profile wins (debug: dev's 200 examples, each printed); inline, Hypothesis being
    # imported already here, so this session's profile is kept.
    with sessions_profile_kept():
        named = pytester.runpytest(*quiet, "-s", "--hypothesis-profile", "debug", "test_props.py")
    named.assert_outcomes(passed=2)
    assert named.stdout.str().count("test_inherits(") >= 100


def test_the_entry_points_module_names_every_fixture_and_hook_of_the_plugins_package(
    suite: pytest.Pytester,
) -> None:
    """pytest takes hooks and fixtures only from the module ``pytest11`` names: the package's
    ``__init__``, although they are written in ``options``, ``markers`` and ``fixtures``."""
    from facedetect_contract import plugin

    result = suite.runpytest("--fixtures")
    fixtures = [name for name in plugin.__all__ if name.startswith("facedetect_")]
    assert len(fixtures) == 14
    result.stdout.fnmatch_lines_random([f"{name}*" for name in fixtures])
    hooks = {name for name in plugin.__all__ if name.startswith("pytest_")}
    assert {"pytest_addoption", "pytest_configure", "pytest_sessionfinish"} <= hooks
    assert all(callable(getattr(plugin, name)) for name in hooks)
