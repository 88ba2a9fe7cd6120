"""``python3 dev.py mutate``: the mutants it makes, and its verdicts on a toy project.

The operators reach what mutmut alone skips (decorated functions, module constants) and leave
alone what cannot matter (docstrings, annotations, type aliases, marked lines); a mutant's id
survives edits elsewhere. On a toy project the driver kills what the toy's test catches, calls
an untested function "not covered", leaves a listed equivalent out of the score, and refuses an
equivalent without a reason.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mutation.operators import Mutant


# The tool is imported when a test runs, not at collection: libcst's import is a third of a
# second, which each xdist worker would otherwise pay whether or not it runs these tests.
def mutants_of(root: Path, path: str) -> list[Mutant]:
    from mutation.operators import mutants_of

    return mutants_of(root, path)


def main(argv: list[str]) -> int:
    from mutation.run import main

    return main(argv)


TOY = '''\
"""A toy module."""

from collections.abc import Sequence

LIMIT = 3
Pair = tuple[int, int]


def check(function):
    return function


@check
def within(n: int) -> bool:
    """Whether n is under the limit."""
    return n < LIMIT


def largest(values: Sequence[int]) -> int:
    return max(values)


def untested(x: int) -> int:
    return x + 1  # pragma: no mutate (a marked line)


def more(x: int) -> int:
    return x * 2
'''

TOY_TEST = """\
from toy import largest, within


def test_within() -> None:
    assert within(2) and not within(3)


def test_largest() -> None:
    assert largest([1, 5, 2]) == 5
"""

# As the checkout's pytest settings (pyproject.toml's addopts), plugins not autoloaded: each
# mutant's run would otherwise load every installed plugin, Schemathesis' a second of it.
TOY_INI = "[pytest]\naddopts = --disable-plugin-autoload\n"

# The toy's tests need only pytest: its workers import nothing else before they fork.
SCOPE = """\
preimport = ["pytest"]

[modules.toy]
path = "toy.py"
tests = ["test_toy.py"]
target = 50
"""


def make_toy(where: Path) -> Path:
    root = where / "toy-project"
    (root / "mutation" / "equivalents").mkdir(parents=True)
    (root / "toy.py").write_text(TOY)
    (root / "test_toy.py").write_text(TOY_TEST)
    (root / "pytest.ini").write_text(TOY_INI)
    (root / "mutation" / "scope.toml").write_text(SCOPE)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    return make_toy(tmp_path)


def by_change(root: Path) -> dict[tuple[str, str, str], str]:
    return {(m.scope, m.before.strip(), m.after.strip()): m.id for m in mutants_of(root, "toy.py")}


def test_decorated_functions_and_module_constants_are_mutated(toy: Path) -> None:
    found = by_change(toy)
    assert ("within", "< LIMIT", "<= LIMIT") in found  # inside a decorated function
    assert ("<module>", "3", "4") in found and ("<module>", "3", "2") in found  # n+1 and n-1
    assert ("largest", "max(values)", "min(values)") in found
    assert ("within", "return n < LIMIT", "pass") in found  # statement deletion


def test_docstrings_annotations_type_aliases_and_marked_lines_are_not_mutated(toy: Path) -> None:
    changes = by_change(toy)
    befores = {before for _, before, _ in changes}
    assert not any("Whether n" in before or "A toy module" in before for before in befores)
    assert not any(scope == "untested" for scope, _, _ in changes)  # its line is marked
    assert "tuple[int, int]" not in befores  # Pair, a type alias
    assert not any(before in ("int", "bool", "Sequence[int]") for before in befores)


def test_a_mutants_id_survives_an_edit_elsewhere_in_the_file(toy: Path) -> None:
    before = by_change(toy)
    (toy / "toy.py").write_text(TOY.replace('"""A toy module."""', '"""A toy module.\n\nMore."""'))
    assert by_change(toy) == before  # lines moved; no id changed


def test_severity_swap_element_removal_and_any_all(tmp_path: Path) -> None:
    (tmp_path / "rules.py").write_text(
        "from facedetect_contract.core.violations import Severity\n\n"
        "LEVELS = (Severity.BREAKING, Severity.ADDITIVE)\n"
        "CODES = {'a': 1, 'b': 2}\n\n"
        "def ok(xs):\n    return any(xs)\n"
    )
    changes = {(m.before, m.after) for m in mutants_of(tmp_path, "rules.py")}
    assert ("Severity.BREAKING", "Severity.ADDITIVE") in changes
    assert ("Severity.BREAKING, Severity.ADDITIVE", "Severity.ADDITIVE,") in changes
    assert ("{'a': 1, 'b': 2}", "{'b': 2}") in changes
    assert ("any(xs)", "all(xs)") in changes


def test_a_bare_one_element_tuple_loses_its_element_inside_parentheses(tmp_path: Path) -> None:
    """``return x,`` with its element removed is ``return ()``: an empty tuple needs them."""
    (tmp_path / "one.py").write_text("def pair(x):\n    y = x,\n    return y\n")
    changes = {(m.before, m.after) for m in mutants_of(tmp_path, "one.py")}
    assert ("x,", "()") in changes


def run_tool(root: Path, *args: str, workers: int = 2) -> tuple[int, dict[str, Any]]:
    report = root / "report"
    command = ["toy", "--root", str(root), "--workers", str(workers), "--report", str(report)]
    status = main([*command, *args])
    data = json.loads((report / "toy.json").read_text()) if (report / "toy.json").exists() else {}
    return status, data


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, dict[str, Any]]:
    """One run of the tool on the toy, one of its mutants listed as equivalent, one stale."""
    root = make_toy(tmp_path_factory.mktemp("run"))
    mutant = by_change(root)[("more", "2", "3")]
    (root / "mutation" / "equivalents" / "toy.toml").write_text(
        f'[[equivalent]]\nid = "{mutant}"\nchange = "2 -> 3"\nreason = "a toy\'s reason"\n'
        '[[equivalent]]\nid = "toy-0000000000"\nchange = "gone"\nreason = "code moved on"\n'
    )
    status, report = run_tool(root)
    return root, status, report


@pytest.mark.process  # the driver's workers run pytest as children: the slow tier
def test_the_driver_kills_what_the_tests_catch_and_says_what_they_miss(
    toy_run: tuple[Path, int, dict[str, Any]],
) -> None:
    _, status, report = toy_run
    results = {(r["scope"], r["before"], r["after"]): r for r in report["results"]}
    assert results[("within", "< LIMIT", "<= LIMIT")]["status"] == "killed"
    assert results[("within", "< LIMIT", "<= LIMIT")]["killer"] == "test_toy.py::test_within"
    assert results[("largest", "max(values)", "min(values)")]["status"] == "killed"
    assert results[("more", "x * 2", "x / 2")]["status"] == "not-covered"  # no test calls more()
    counted = ("killed", "survived", "not_covered", "equivalent", "timeout", "error")
    assert sum(report[key] for key in counted) == report["mutants"]
    expected = 100 * (report["killed"] + report["timeout"]) / (report["mutants"] - 1)
    assert report["score"] == round(expected, 1)
    assert status == (0 if expected >= 50 else 1)


@pytest.mark.process
def test_a_listed_equivalent_is_left_out_of_the_score_and_a_stale_one_is_reported(
    toy_run: tuple[Path, int, dict[str, Any]],
) -> None:
    root, _, report = toy_run
    mutant = by_change(root)[("more", "2", "3")]
    results = {r["id"]: r for r in report["results"]}
    assert results[mutant]["status"] == "equivalent"
    assert results[mutant]["reason"] == "a toy's reason"
    assert report["equivalent"] == 1
    assert report["stale_equivalents"] == ["toy-0000000000"]


@pytest.mark.process
def test_a_worker_imports_what_the_scope_file_names_before_it_forks(toy: Path) -> None:
    from mutation.run import WorkerProcess

    worker = WorkerProcess(toy)
    try:
        assert worker.imported == ["pytest"]
    finally:
        worker.close()
    from mutation.worker import PREIMPORT, preimport_of

    (toy / "mutation" / "scope.toml").write_text(SCOPE.replace('preimport = ["pytest"]\n', ""))
    assert preimport_of(toy) == PREIMPORT  # left out: the libraries the suite's tests use


def test_a_preimport_that_is_not_a_list_of_names_is_a_usage_error(
    toy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = toy / "mutation" / "scope.toml"
    path.write_text(SCOPE.replace('["pytest"]', '"pytest"'))
    assert run_tool(toy, workers=1)[0] == 2
    error = capsys.readouterr().err
    assert str(path) in error and "field 'preimport' is not a list of module names" in error


def test_an_equivalent_without_a_reason_is_a_usage_error_naming_the_file_and_field(
    toy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = toy / "mutation" / "equivalents" / "toy.toml"
    path.write_text('[[equivalent]]\nid = "toy-0123456789"\nchange = "a -> b"\n')
    status, _ = run_tool(toy, workers=1)
    assert status == 2
    error = capsys.readouterr().err
    assert str(path) in error and "field 'reason' is missing or empty" in error


@pytest.mark.process
def test_a_module_whose_tests_fail_unmutated_is_refused(
    toy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (toy / "test_toy.py").write_text(
        TOY_TEST + "\n\ndef test_broken() -> None:\n    assert False\n"
    )
    status, _ = run_tool(toy, workers=1)  # refused before any mutant: one worker says it
    assert status == 2
    assert "fail with no mutant: fix them first" in capsys.readouterr().err


def test_the_checkouts_scope_names_real_files_and_targets() -> None:
    from mutation.run import ROOT, load_equivalents, load_scopes

    scopes = load_scopes(ROOT)
    checks = {"registry", "schema", "boxes", "billing", "errors", "behaviour", "consistency"}
    core = checks | {"geometry", "redaction", "budget", "client", "fake", "drift", "outcome"}
    assert core | {"judging", "faults"} <= set(scopes)
    assert all(scopes[m].target >= 95 for m in (*checks, "geometry", "redaction", "budget"))
    assert all(scope.target >= 90 for scope in scopes.values())
    for equivalent in load_equivalents(ROOT).values():
        assert len(equivalent.reason) > 10, equivalent  # a reason, not a placeholder


@pytest.mark.process
def test_a_mutant_that_breaks_the_modules_import_at_start_up_is_a_kill(toy: Path) -> None:
    """A plugin (here a conftest) imports the module when pytest starts: a mutant that makes that
    import fail ends pytest with a usage error, and is killed, not an error of the tool."""
    from mutation.run import WorkerProcess

    (toy / "conftest.py").write_text("import toy  # noqa: F401  # as a pytest11 plugin would\n")
    broken = TOY.replace("LIMIT = 3", "LIMIT = int(None)")
    worker = WorkerProcess(toy)
    try:
        run = {"op": "run", "path": "toy.py", "tests": ["test_toy.py"], "timeout": 60}
        result = worker.ask({**run, "source": broken})
        assert result["status"] == "killed"
        assert "import of toy fails: TypeError" in result["killer"]
        assert (toy / "toy.py").read_text() == TOY  # restored
        # Imported inside a hook that runs while pytest parses its options, the failure
        # escapes pytest.main itself: still the mutant's doing, still a kill.
        (toy / "conftest.py").write_text("def pytest_addoption(parser):\n    import toy\n")
        crashed = worker.ask({**run, "source": broken})
        assert crashed["status"] == "killed", crashed
        # A usage error that is not the mutant's doing stays an error of the selection.
        (toy / "conftest.py").write_text("raise SystemExit('a broken conftest')\n")
        assert worker.ask({**run, "source": TOY})["status"] == "error"
    finally:
        worker.close()


def test_a_packages_init_module_names_its_mutants_after_the_package(tmp_path: Path) -> None:
    """A module moved into ``checks/__init__.py`` keeps its ``checks-`` ids (and equivalents)."""
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "__init__.py").write_text("def f(x):\n    return x + 1\n")
    (tmp_path / "checks.py").write_text("def f(x):\n    return x + 1\n")
    packaged = {m.id for m in mutants_of(tmp_path, "checks/__init__.py")}
    flat = {m.id for m in mutants_of(tmp_path, "checks.py")}
    assert packaged == flat and all(i.startswith("checks-") for i in packaged)
