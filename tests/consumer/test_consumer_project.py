"""The package as a dependency of someone else's project, exactly as the README says.

The wheel is built from the checkout and installed into a fresh venv with pytest-base-url and what
the recipes import; a consumer project (its own ``pyproject.toml``, ``--strict-markers``, its own
``live`` marker, pytest-base-url's ``base_url``) runs every README recipe and its own tests there.
Every command runs in the consumer folder with the venv's executables, never the checkout's
sources. Live commands go to a stub on 127.0.0.1; the venv's processes get proxy variables that
end at a closed loopback port, so anything not meant for the stub fails instead of leaving the
machine.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.doubles.fake import FakeRequest, FakeResponse
from facedetect_contract.doubles.server import RunningServer, serve_in_thread

pytestmark = pytest.mark.consumer

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
KEY = "sk-consumer-stub-" + "7c3a" * 8  # the stub's key; the venv's processes get it
DASHSCOPE = "https://dashscope.aliyuncs.com/api/v1"  # the recipes' base URL: replaced by the stub's
BUILD_TIMEOUT = 300
INSTALL_TIMEOUT = 600
RUN_TIMEOUT = 240
# What the recipes import beside the wheel (and pytest-base-url, as a web-app project has).
EXTRAS = ("pytest-base-url", "requests", "dashscope")
# Anything the venv's processes send elsewhere than loopback goes to this closed port and fails.
DEAD_PROXY = "http://127.0.0.1:9"
PACKAGED_FIXTURES = "facedetect_contract/_data/fixtures/face-detect"
_SCRUBBED = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
    "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
    "PYTEST_XDIST_WORKER",
    "PYTEST_CURRENT_TEST",
    "HYPOTHESIS_PROFILE",
    "HYPOTHESIS_STORAGE_DIRECTORY",  # tests/conftest.py shares the checkout's; a user has their own
    "DASHSCOPE_API_KEY",
    "DASHSCOPE_HTTP_BASE_URL",
    "VIRTUAL_ENV",
    "CI",
)

# --- the README's recipes -----------------------------------------------------------------------

_MARKER = re.compile(r"<!-- recipe: (\S+) -->")
_RECIPE = re.compile(r"<!-- recipe: (\S+) -->\n```(\w+)\n(.*?)\n```", re.DOTALL)


@dataclass(frozen=True)
class Recipe:
    name: str
    lang: str
    body: str


def recipes() -> list[Recipe]:
    return [Recipe(*match.groups()) for match in _RECIPE.finditer(README.read_text("utf-8"))]


RECIPES = recipes()
PYTHON_RECIPES = [r for r in RECIPES if r.lang == "python"]
SH_RECIPES = [r for r in RECIPES if r.lang == "sh"]


@dataclass(frozen=True)
class Command:
    """One command of an sh recipe: its environment assignments and its words."""

    env: dict[str, str]
    argv: list[str]

    def option(self, name: str) -> list[str]:
        """Every value of ``--name VALUE`` / ``--name=VALUE``."""
        values = []
        for i, word in enumerate(self.argv):
            if word == name and i + 1 < len(self.argv):
                values.append(self.argv[i + 1])
            elif word.startswith(name + "="):
                values.append(word.partition("=")[2])
        return values


def commands(recipe: Recipe) -> list[Command]:
    found = []
    for line in recipe.body.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        env = {}
        while words and re.fullmatch(r"[A-Za-z_]\w*=\S*", words[0]):
            name, _, value = words.pop(0).partition("=")
            env[name] = value
        if words:
            found.append(Command(env, words))
    return found


# --- the fresh venv and the consumer project ----------------------------------------------------


@dataclass
class Run:
    argv: list[str]
    returncode: int
    output: str  # stdout and stderr
    seconds: float

    def tail(self, lines: int = 60) -> str:
        return f"$ {shlex.join(self.argv)}  (exit {self.returncode})\n" + "\n".join(
            self.output.splitlines()[-lines:]
        )

    def passed(self) -> int:
        counts = re.findall(r"(\d+) passed", self.output)
        return int(counts[-1]) if counts else 0


@dataclass
class Consumer:
    """The consumer project: its folder, the venv it runs in, and how to run things there."""

    root: Path
    venv: Path
    site_packages: Path
    wheel: Path
    version: str
    env: dict[str, str]

    def exe(self, name: str) -> Path:
        path = self.venv / "bin" / name
        assert path.is_file(), (
            f"the venv has no {name} ({path}): the wheel installed no such script"
        )
        return path

    def run(self, *argv: str | Path, env: dict[str, str] | None = None) -> Run:
        words = [str(a) for a in argv]
        if words[0] in ("pytest", "python", "facedetect-contract"):
            words[0] = str(self.exe(words[0]))
        started = time.perf_counter()
        done = subprocess.run(
            words,
            cwd=self.root,
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        run = Run(words, done.returncode, done.stdout, time.perf_counter() - started)
        print(
            f"[consumer] {shlex.join(words[:8])}{' ...' if len(words) > 8 else ''}: "
            f"exit {run.returncode} in {run.seconds:.1f} s"
        )
        return run

    def site_files(self) -> set[str]:
        """Every file under the venv's site-packages but byte-code caches."""
        return {
            str(path.relative_to(self.site_packages))
            for path in self.site_packages.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        }

    def cases(self, stub: RunningServer, name: str = "live-cases.json") -> str:
        """A cases file in the consumer folder: the stub's portrait at 1:1 and 3:4."""
        cases = [
            {
                "name": f"portrait-{ratio.replace(':', '-')}",
                "ratio": ratio,
                "expect": "pass",
                "image_url": stub.image_url("portrait.png"),
            }
            for ratio in ("1:1", "3:4")
        ]
        (self.root / name).write_text(json.dumps(cases, indent=2), encoding="utf-8")
        return name


def _checked(
    argv: list[str], timeout: float, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"$ {shlex.join(argv)}\n{done.stdout}\n{done.stderr}"
    return done


PYPROJECT = """\
[project]
name = "acme-portraits"
version = "1.0.0"
dependencies = ["facedetect-contract", "pytest-base-url", "requests", "dashscope"]

[tool.pytest.ini_options]
addopts = ["--strict-markers", "--strict-config", "-ra"]
markers = ["live: talks to our own staging web app"]
base_url = "http://localhost:3000"
"""

CONFTEST = '''\
import pytest


@pytest.fixture
def fake():
    """The consumer's own fixture that happens to be called fake."""
    return "acme's own fake"
'''

OWN_TESTS = """\
import pytest
from hypothesis import given, settings, strategies as st


@pytest.mark.live
def test_a_test_of_ours_marked_live_runs_without_live():
    pass


def test_hypothesis_keeps_its_default_profile():
    assert settings.default.max_examples == 100


@given(st.integers())
def test_hypothesis_runs_our_properties(number):
    assert isinstance(number, int)


def test_our_fixture_named_fake_is_ours(fake):
    assert fake == "acme's own fake"


def test_pytest_base_url_gives_our_base_url(base_url):
    assert base_url == "http://localhost:3000"


def test_the_plugin_is_loaded_all_the_same(request, facedetect_api_key):
    assert request.config.pluginmanager.has_plugin("facedetect_contract")
"""
OWN_TEST_COUNT = OWN_TESTS.count("\ndef test_")


@pytest.fixture(scope="session")
def consumer() -> Iterator[Consumer]:
    base = Path(tempfile.mkdtemp(prefix="facedetect-consumer-"))
    try:
        wheels = base / "wheels"
        started = time.perf_counter()
        _checked(
            [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(wheels)],
            BUILD_TIMEOUT,
            cwd=base,
        )
        (wheel,) = wheels.glob("facedetect_contract-*.whl")
        built = time.perf_counter() - started

        venv = base / "venv"
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(venv)
        started = time.perf_counter()
        _checked([sys.executable, "-m", "venv", str(venv)], INSTALL_TIMEOUT, cwd=base)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-input"]
        pip.append("--no-compile")  # byte-code is compiled for what runs, not for all of it
        _checked([*pip, str(wheel), *EXTRAS], INSTALL_TIMEOUT, cwd=base, env=env)
        installed = time.perf_counter() - started
        print(
            f"\n[consumer] wheel {wheel.name} built in {built:.1f} s; fresh venv with it and "
            f"{', '.join(EXTRAS)} installed in {installed:.1f} s"
        )

        root = base / "acme-portraits"
        root.mkdir()
        (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
        (root / "conftest.py").write_text(CONFTEST, encoding="utf-8")
        (root / "test_own.py").write_text(OWN_TESTS, encoding="utf-8")
        for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            env[proxy] = env[proxy.lower()] = DEAD_PROXY
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        where = subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import json, sys, sysconfig, importlib.metadata as m, facedetect_contract as f; "
                "print(json.dumps([f.__file__, sysconfig.get_paths()['purelib'], sys.path, "
                "m.version('facedetect-contract')]))",
            ],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=True,
        )
        module, purelib, path, version = json.loads(where.stdout)
        site = Path(purelib)
        assert Path(module).is_relative_to(site), f"facedetect_contract comes from {module}"
        assert site.is_relative_to(venv), site
        assert not any(entry.startswith(str(ROOT)) for entry in path), path
        yield Consumer(root, venv, site, wheel, version, env)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def stub(
    hook: Callable[[FakeRequest, FakeResponse], FakeResponse] | None = None,
) -> AbstractContextManager[RunningServer]:
    return serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR, response_hook=hook)


def rename_check_pass(request: FakeRequest, response: FakeResponse) -> FakeResponse:
    """A breaking drift: a passed check answers ``checkPass`` instead of ``check_pass``."""
    body = response.json()
    output = body.get("output") if isinstance(body, dict) else None
    if not isinstance(output, dict) or "check_pass" not in output:
        return response
    output["checkPass"] = output.pop("check_pass")
    return FakeResponse(response.status, response.headers, json.dumps(body).encode())


def loopback_only(argv: list[str]) -> None:
    for word in argv:
        for url in re.findall(r"https?://[^\s\"',]+", word):
            host = urlsplit(url).hostname
            assert host in ("127.0.0.1", "localhost"), f"{url} would leave the machine: {argv}"


# --- the wheel --------------------------------------------------------------------------------


def test_the_wheel_carries_every_module_the_suite_the_contracts_fixtures_and_images(
    consumer: Consumer,
) -> None:
    names = set(zipfile.ZipFile(consumer.wheel).namelist())
    expected = {
        f"facedetect_contract/{p.relative_to(ROOT / 'facedetect_contract')}"
        for p in (ROOT / "facedetect_contract").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    shipped = {
        "contracts": "facedetect_contract/_contracts",
        "fixtures/face-detect": "facedetect_contract/_data/fixtures/face-detect",
        "fixtures/images": "facedetect_contract/_data/fixtures/images",
        "tests/contract": "facedetect_contract/suite",
    }
    for source, target in shipped.items():
        expected |= {
            f"{target}/{p.relative_to(ROOT / source)}"
            for p in (ROOT / source).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }
    expected.add("facedetect_contract/_data/live-cases.json")
    assert sorted(expected - names) == []
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(consumer.wheel).read(entry_points).decode()
    assert "[pytest11]\nfacedetect_contract = facedetect_contract.plugin" in text
    assert "facedetect-contract = facedetect_contract.__main__:main" in text


# --- 1. the plugin beside pytest-base-url, loaded through its entry point ---------------------


def test_pytest_help_lists_base_url_beside_dashscope_base_url(consumer: Consumer) -> None:
    run = consumer.run("pytest", "--help")
    assert run.returncode == 0, run.tail()
    assert re.search(r"^\s+--base-url=\S+", run.output, re.MULTILINE), run.tail()
    assert re.search(r"^\s+--dashscope-base-url=URL\b", run.output, re.MULTILINE), run.tail()
    assert re.search(r"^\s+base_url \(string\)", run.output, re.MULTILINE), run.tail()


def test_the_plugin_is_loaded_from_the_venv_through_the_pytest11_entry_point(
    consumer: Consumer,
) -> None:
    plugin = consumer.site_packages / "facedetect_contract" / "plugin" / "__init__.py"
    versions = consumer.run("pytest", "-VV")
    assert f"facedetect-contract-{consumer.version} at {plugin}" in versions.output, versions.tail()
    traced = consumer.run("pytest", "--trace-config", "--co", "-q", "test_own.py")
    assert traced.returncode == 0, traced.tail()
    assert (
        f"PLUGIN registered: <module 'facedetect_contract.plugin' from '{plugin}'>" in traced.output
    ), traced.tail()
    # Blocked by its entry-point name, the plugin is gone: its options came from there.
    blocked = consumer.run("pytest", "-p", "no:facedetect_contract", "--help")
    assert blocked.returncode == 0, blocked.tail()
    assert "--dashscope-base-url" not in blocked.output
    assert "--base-url" in blocked.output


# --- 2. every README recipe, as written -------------------------------------------------------


def test_every_recipe_marker_of_the_readme_heads_a_python_or_sh_block() -> None:
    markers = _MARKER.findall(README.read_text("utf-8"))
    assert [r.name for r in RECIPES] == markers, "a `<!-- recipe: NAME -->` without its block"
    assert len(set(markers)) == len(markers), f"recipe names repeat: {markers}"
    assert {r.lang for r in RECIPES} == {"python", "sh"}, RECIPES


def test_every_python_recipe_of_the_readme_passes_in_the_consumer_project(
    consumer: Consumer,
) -> None:
    files = {}
    for recipe in PYTHON_RECIPES:
        path = consumer.root / f"test_recipe_{recipe.name.replace('-', '_')}.py"
        path.write_text(recipe.body + "\n", encoding="utf-8")
        files[path.name] = recipe
    # A parametrized recipe (every reading, each fault) runs once per id: every test a recipe
    # defines must be collected, and every id collected must pass.
    collected = consumer.run("pytest", *files, "--collect-only", "-q", "-p", "no:cacheprovider")
    assert collected.returncode == 0, collected.tail()
    ids = re.findall(r"^(test_recipe_\w+\.py::.+)$", collected.output, re.MULTILINE)
    assert len(set(ids)) == len(ids), collected.tail()
    for file, recipe in files.items():
        for name in re.findall(r"^def (test_\w+)\(", recipe.body, re.MULTILINE):
            node = f"{file}::{name}"
            assert any(i == node or i.startswith(node + "[") for i in ids), (
                f"recipe {recipe.name}: {name} not collected\n{collected.tail()}"
            )
    run = consumer.run("pytest", *files, "-v", "-p", "no:cacheprovider")
    assert run.returncode == 0, run.tail()
    assert run.passed() == len(ids), f"{len(ids)} collected, {run.passed()} passed:\n{run.tail()}"
    assert " skipped" not in run.output, run.tail()
    summary = re.findall(r"^=+ (.+) in [0-9.]+s", run.output, re.MULTILINE)
    assert summary, run.tail()
    for outcome in ("skipped", "xfailed", "xpassed", "deselected", "error"):
        assert outcome not in summary[-1], run.tail()


@pytest.mark.parametrize("recipe", SH_RECIPES, ids=[r.name for r in SH_RECIPES])
def test_every_sh_recipe_of_the_readme_runs_in_the_consumer_project(
    consumer: Consumer, recipe: Recipe
) -> None:
    steps = commands(recipe)
    assert steps, f"recipe {recipe.name}: no command"
    with stub() as running:
        for step in steps:
            assert step.argv[0] == "facedetect-contract", f"recipe {recipe.name}: {step.argv}"
            argv = [
                running.base_url
                if word == DASHSCOPE
                else word.replace(f"={DASHSCOPE}", f"={running.base_url}")
                for word in step.argv
            ]
            env = dict(step.env)
            live = "--live" in argv
            if live:
                assert set(env) == {"DASHSCOPE_API_KEY"}, f"recipe {recipe.name}: {step.env}"
                env["DASHSCOPE_API_KEY"] = KEY
                assert "--base-url" in argv and running.base_url in argv, argv
                argv += ["--live-cases", consumer.cases(running)]
            loopback_only(argv)
            reports = [consumer.root / p for p in step.option("--drift-report")]
            record_dirs = [consumer.root / p for p in step.option("--record-dir")]
            site_before = consumer.site_files()
            served_before = running.requests_served

            run = consumer.run(*argv, env=env)

            assert run.returncode == 0, f"recipe {recipe.name}:\n{run.tail()}"
            assert KEY not in run.output
            assert consumer.site_files() == site_before, (
                f"recipe {recipe.name} wrote into site-packages: "
                f"{sorted(consumer.site_files() - site_before)}"
            )
            if live:
                assert running.requests_served > served_before, "the live run sent nothing"
                assert "face-detect live mode" in run.output, run.tail()
            else:
                assert running.requests_served == served_before
                assert run.passed() > 0, run.tail()
            for report in reports:
                assert report.is_file() and report.stat().st_size, f"{report} not written"
                assert KEY not in report.read_text(encoding="utf-8")
                if report.suffix == ".json":
                    written = json.loads(report.read_text(encoding="utf-8"))
                    assert written["outcome"].startswith("passed"), written["outcome"]
                    annotations = consumer.run("facedetect-contract", "annotations", report)
                    assert annotations.returncode == 0, annotations.tail()
                    assert "::notice title=face-detect live run::passed" in annotations.output
            for directory in record_dirs:
                recorded = sorted(directory.glob("*.json"))
                if "--record" in argv:
                    assert recorded, f"--record wrote nothing into {directory}:\n{run.tail()}"
                else:
                    assert recorded, f"nothing to replay in {directory}"
                    check_replay_counts_the_recordings(consumer, step, run, recorded)


def check_replay_counts_the_recordings(
    consumer: Consumer, step: Command, run: Run, recorded: list[Path]
) -> None:
    """The replay of ``--record-dir`` ran each recording beside the packaged fixtures."""
    collected = consumer.run(*step.argv, "--co", "-q")
    assert collected.returncode == 0, collected.tail()
    ids = re.findall(r"^\S+::\S+$", collected.output, re.MULTILINE)
    missing = [p.name for p in recorded if not any(i.endswith(f"[{p.stem}]") for i in ids)]
    assert not missing, f"recordings not replayed: {missing}\n{collected.tail()}"
    packaged = len(list((consumer.site_packages / PACKAGED_FIXTURES).glob("*.json")))
    assert len(ids) >= packaged + len(recorded), collected.tail()
    assert run.passed() == len(ids), f"{len(ids)} collected, {run.passed()} passed:\n{run.tail()}"


# --- 3. live runs: drift fails, honest passes, nothing sent is no pass ------------------------


def live(consumer: Consumer, running: RunningServer, *extra: str) -> Run:
    argv = ["facedetect-contract", "run", "test_live.py", "--live", "--base-url", running.base_url]
    # Unpaced: the stub is on loopback; the recipes above run at the documented pace.
    argv += ["--live-cases", consumer.cases(running), "--live-qps", "0", *extra]
    loopback_only(argv)
    return consumer.run(*argv, env={"DASHSCOPE_API_KEY": KEY})


def test_a_live_run_against_a_stub_that_renamed_check_pass_exits_1(consumer: Consumer) -> None:
    report = consumer.root / "reports" / "renamed.json"
    with stub(rename_check_pass) as running:
        run = live(consumer, running, "--drift-report", "reports/renamed.json")
        served = running.requests_served
    assert run.returncode == 1, run.tail()
    assert served > 0, run.tail()
    assert "BREAKING" in run.output, run.tail()
    assert report.is_file(), f"no {report}:\n{run.tail()}"
    findings = json.loads(report.read_text(encoding="utf-8"))["findings"]
    breaking = [f for f in findings if f["severity"] == "breaking"]
    assert any("check_pass" in json.dumps(f) for f in breaking), breaking


def test_a_live_run_against_the_honest_stub_exits_0(consumer: Consumer) -> None:
    with stub() as running:
        run = live(consumer, running)
        served = running.requests_served
    assert run.returncode == 0, run.tail()
    assert served > 0, run.tail()
    assert re.search(r"^passed( with warnings)?: 0 breaking", run.output, re.MULTILINE), run.tail()


def test_a_live_run_that_sends_nothing_exits_non_zero_saying_why(consumer: Consumer) -> None:
    with stub() as running:
        run = live(consumer, running, "-k", "nothing-matches")
        served = running.requests_served
    assert run.returncode != 0, run.tail()
    assert served == 0, run.tail()
    why = re.search(r"^not passed: (.+)$", run.output, re.MULTILINE)
    assert why and re.search(r"sent|selected", why[1]), run.tail()


# --- 4. the plugin changes nothing in the consumer's own tests --------------------------------


@pytest.mark.parametrize("ci", [None, "true"], ids=["locally", "under-CI=true"])
def test_the_plugin_changes_nothing_in_the_consumers_own_tests(
    consumer: Consumer, ci: str | None
) -> None:
    run = consumer.run(
        "pytest", "test_own.py", "-v", "-p", "no:cacheprovider", env={"CI": ci} if ci else None
    )
    assert run.returncode == 0, run.tail()
    assert run.passed() == OWN_TEST_COUNT, run.tail()
    assert " skipped" not in run.output, run.tail()
    for name in (
        "test_a_test_of_ours_marked_live_runs_without_live",
        "test_hypothesis_keeps_its_default_profile",
        "test_pytest_base_url_gives_our_base_url",
    ):
        assert f"test_own.py::{name} PASSED" in run.output, run.tail()
    # The consumer's own fixture, not the suite's parametrized one: exactly one test, no id.
    fake_runs = re.findall(r"test_own\.py::test_our_fixture_named_fake_is_ours\S* \w+", run.output)
    assert fake_runs == ["test_own.py::test_our_fixture_named_fake_is_ours PASSED"], run.tail()


def test_the_consumer_project_is_no_checkout(consumer: Consumer) -> None:
    assert not (consumer.root / "facedetect_contract").exists()
    assert not consumer.root.is_relative_to(ROOT)
    shown = consumer.run(
        "python", "-c", "import facedetect_contract.__main__ as m; print(m.suite_dir())"
    )
    assert shown.returncode == 0, shown.tail()
    assert Path(shown.output.strip()) == consumer.site_packages / "facedetect_contract" / "suite"


def test_the_workflow_templates_install_step_works_with_a_built_wheel(
    consumer: Consumer, tmp_path: Path
) -> None:
    """Before the package is on an index, the template's ``FACEDETECT_CONTRACT`` takes a wheel: the
    live job's install step, run as written (bash -e), installs it and collects the suite."""
    import yaml

    template = yaml.safe_load((ROOT / "docs" / "workflows" / "consumer.yml").read_text())
    (step,) = [s for s in template["jobs"]["live"]["steps"] if "Install" in s.get("name", "")]
    assert "${FACEDETECT_CONTRACT}" in step["run"], step["run"]
    env = {k: v for k, v in consumer.env.items() if "proxy" not in k.lower()}  # pip needs PyPI
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(consumer.venv))
    )
    env["FACEDETECT_CONTRACT"] = str(consumer.wheel)
    done = _checked(
        ["bash", "-e", "-o", "pipefail", "-c", step["run"]], INSTALL_TIMEOUT, tmp_path, env
    )
    assert re.search(r"\b\d+ tests? collected\b|\b\d+ tests?\b", done.stdout), done.stdout
    venv_python = tmp_path / ".venv" / "bin" / "python"
    shown = subprocess.run(
        [str(venv_python), "-m", "pip", "show", "facedetect-contract"],
        capture_output=True,
        text=True,
        check=True,
        timeout=RUN_TIMEOUT,
    )
    assert f"Version: {consumer.version}" in shown.stdout
