"""The CI workflows keep the project's rules: GitHub accepts them, the token is read-only, every
job is bounded, every action is pinned, and the key reaches the live suite's step and no other.

Both the suite's own workflow (.github/workflows/contract.yml) and the one users copy
(docs/workflows/consumer.yml) are checked. Each rule is a function returning its complaints;
``test_each_rule_complains_about_a_workflow_that_breaks_it`` applies one breaking edit per rule
(several for the key) to a copy and shows the rule complains, so no rule passes vacuously.
"""

from __future__ import annotations

import copy
import fnmatch
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Spec:
    """One workflow and what it must do that the other need not."""

    name: str
    path: Path
    push_commands: tuple[str, ...]  # what the pull-request/push job runs, in this order
    baseline: str  # the acknowledged-findings file the live run passes when it exists


SPECS = (
    Spec(
        "suite",
        ROOT / ".github" / "workflows" / "contract.yml",
        (".ci/run", "dev.py lint", "twine check"),
        "fixtures/baseline.json",
    ),
    Spec(
        "consumer",
        ROOT / "docs" / "workflows" / "consumer.yml",
        ("-m pytest", "facedetect-contract run"),
        "contracts/baseline.json",
    ),
)
BY_NAME = {spec.name: spec for spec in SPECS}

# action -> (commit, version): the commits the versions point at in the actions' own repositories.
CACHE = ("27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5")
PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/cache/restore": CACHE,
    "actions/cache/save": CACHE,
}

KEY = "DASHSCOPE_API_KEY"
SECRET = re.compile(
    rf"secrets\s*(?:\.\s*{KEY}\b|\[\s*['\"]{KEY}['\"]\s*\])|toJSON\(\s*secrets\s*\)", re.IGNORECASE
)
LIVE = re.compile(r"--live(?![\w-])")  # --live itself, not --live-cases
INSTALL = re.compile(r"\bpip3?\s+install\b|\bdev\.py\b|\bpipx\b|\buv\s+(?:pip|sync)\b")
ANNOTATIONS = re.compile(r"facedetect[-_]contract\s+annotations\b")
SHA_PIN = re.compile(r"[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}")
USES_LINE = re.compile(
    r"^[ \t]*(?:-[ \t]+)?uses:[ \t]*['\"]?([^@\s'\"]+)@([^\s'\"#]+)['\"]?[ \t]*(?:#[ \t]*(.*?))?[ \t]*$",
    re.MULTILINE,
)
CANCEL_PULL_REQUESTS = re.compile(r"\$\{\{\s*github\.event_name\s*==\s*'pull_request'\s*\}\}")


# --- reading a workflow ---------------------------------------------------------------------


@cache
def _parsed(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), f"{path}: not a YAML mapping"
    if True in doc:  # YAML 1.1 reads the key `on` as a boolean
        doc["on"] = doc.pop(True)
    return doc


def workflow(spec: Spec) -> dict[str, Any]:
    """A fresh copy of the parsed workflow: edits never leak between tests."""
    return copy.deepcopy(_parsed(spec.path))


class Missing(Exception):
    """What a rule needs to look at is not there: the rule's complaint."""


Rule = Callable[[dict[str, Any], Spec], Iterator[str]]
RULES: dict[str, Rule] = {}


def rule(function: Rule) -> Rule:
    RULES[function.__name__] = function
    return function


def complaints(name: str, doc: dict[str, Any], spec: Spec) -> list[str]:
    try:
        return list(RULES[name](doc, spec))
    except Missing as missing:
        return [str(missing)]


def triggers(doc: dict[str, Any]) -> dict[str, Any]:
    on = doc.get("on")
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return on if isinstance(on, dict) else {}


def jobs(doc: dict[str, Any]) -> dict[str, Any]:
    found = doc.get("jobs")
    return found if isinstance(found, dict) else {}


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def run_of(step: dict[str, Any]) -> str:
    return str(step.get("run") or "")


def uses_of(step: dict[str, Any]) -> str:
    return str(step.get("uses") or "")


def always(step: dict[str, Any]) -> bool:
    return bool(re.search(r"\balways\(\)", str(step.get("if") or "")))


def env_of(doc: dict[str, Any], job: dict[str, Any], step: dict[str, Any]) -> dict[str, str]:
    """The literal environment a step sees (workflow, job, step); expressions left out."""
    merged: dict[str, str] = {}
    for level in (doc, job, step):
        for name, value in (level.get("env") or {}).items():
            if isinstance(value, str | int | float) and "${{" not in str(value):
                merged[str(name)] = str(value)
    return merged


def expand(text: str, env: dict[str, str]) -> str:
    """``$NAME``, ``${NAME}`` and ``${{ env.NAME }}`` replaced with the literal values of env."""
    pattern = r"\$\{\{\s*env\.(\w+)\s*\}\}|\$\{(\w+)\}|\$(\w+)"

    def value(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        return env.get(name, match.group(0))

    return re.sub(pattern, value, text)


def live_step_at(doc: dict[str, Any]) -> tuple[str, int]:
    """(job id, step index) of the one step that runs the live suite."""
    found = [
        (name, index)
        for name, job in jobs(doc).items()
        for index, step in enumerate(steps(job))
        if LIVE.search(run_of(step))
    ]
    if len(found) != 1:
        raise Missing(f"{len(found)} steps run the live suite (--live); there must be one")
    return found[0]


def live_run(doc: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, Any], str]:
    """The live job, the live step's index, the step, and its run text with the env expanded."""
    name, index = live_step_at(doc)
    job = jobs(doc)[name]
    step = steps(job)[index]
    return job, index, step, expand(run_of(step), env_of(doc, job, step))


def option_values(text: str, option: str) -> list[str]:
    return re.findall(rf"{re.escape(option)}[=\s]+['\"]?([^\s'\";)]+)", text)


def drift_reports(run: str) -> dict[str, str]:
    """suffix -> path of the live run's --drift-report files."""
    return {Path(path).suffix: path for path in option_values(run, "--drift-report")}


def walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every key and scalar of the document with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key), str(key)
            yield from walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, index))
    elif node is not None:
        yield path, str(node)


def dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in path)


def admits(job: dict[str, Any], event: str) -> bool:
    condition = str(job.get("if") or "")
    return not condition or bool(re.search(rf"github\.event_name\s*==\s*'{event}'", condition))


# --- the rules --------------------------------------------------------------------------------


@rule
def every_job_has_a_timeout(doc: dict[str, Any], spec: Spec) -> Iterator[str]:
    if not jobs(doc):
        yield "the workflow has no jobs"
    for name, job in jobs(doc).items():
        if "uses" in job:  # a reusable workflow's jobs carry their own timeouts
            continue
        minutes = job.get("timeout-minutes")
        bounded = (
            isinstance(minutes, int | float) and not isinstance(minutes, bool) and minutes > 0
        ) or (isinstance(minutes, str) and "${{" in minutes)
        if not bounded:
            yield f"job {name}: timeout-minutes is {minutes!r}; without it GitHub allows 6 hours"


@rule
def permissions_are_exactly_contents_read(doc: dict[str, Any], spec: Spec) -> Iterator[str]:
    if doc.get("permissions") != {"contents": "read"}:
        yield f"top-level permissions is {doc.get('permissions')!r}, not exactly contents: read"


@rule
def concurrency_cancels_only_pull_requests(doc: dict[str, Any], spec: Spec) -> Iterator[str]:
    concurrency = doc.get("concurrency")
    if not isinstance(concurrency, dict):
        raise Missing(f"top-level concurrency is {concurrency!r}, not a group")
    group = str(concurrency.get("group") or "")
    for part in ("github.workflow", "github.ref"):
        if part not in group:
            yield f"the concurrency group {group!r} is not by {part}"
    cancel = concurrency.get("cancel-in-progress")
    if not (isinstance(cancel, str) and CANCEL_PULL_REQUESTS.fullmatch(cancel.strip())):
        yield (
            f"cancel-in-progress is {cancel!r}: it must be github.event_name == 'pull_request' "
            "(pull requests cancel, the nightly live run never does)"
        )


def all_uses(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for name, job in jobs(doc).items():
        if "uses" in job:
            yield f"job {name}", str(job["uses"])
        for index, step in enumerate(steps(job)):
            if "uses" in step:
                yield f"job {name} step {index + 1}", uses_of(step)


@rule
def every_action_is_pinned_to_a_full_commit_sha(doc: dict[str, Any], spec: Spec) -> Iterator[str]:
    for where, uses in all_uses(doc):
        if uses.startswith("./"):  # an action of this repository: pinned by the checkout
            continue
        if uses.startswith("docker://"):
            if "@sha256:" not in uses:
                yield f"{where}: {uses} is not pinned to an image digest"
        elif not SHA_PIN.fullmatch(uses):
            yield f"{where}: {uses} is not pinned to a full 40-hex commit SHA"


@rule
def the_key_is_only_in_the_env_of_the_live_step_after_the_install(
    doc: dict[str, Any], spec: Spec
) -> Iterator[str]:
    name, index = live_step_at(doc)
    job = jobs(doc)[name]
    live = steps(job)[index]
    allowed = ("jobs", name, "steps", index, "env", KEY)
    if not SECRET.search(str((live.get("env") or {}).get(KEY, ""))):
        yield f"the live step's env does not set {KEY} from secrets.{KEY}"
    for path, text in walk(doc):
        if SECRET.search(text) and path != allowed:
            yield f"the secret is used at {dotted(path)}, not only in the live step's env"
        if path[-1:] == ("run",) and KEY in text:
            yield f"{dotted(path)} names {KEY} in a run script"
    levels = [("the workflow", doc), *((f"job {n}", j) for n, j in jobs(doc).items())]
    for where, level in levels:
        if KEY in (level.get("env") or {}):
            yield f"{where} sets {KEY} in its env: every step of it would see the key"
    for job_name, other in jobs(doc).items():
        for number, step in enumerate(steps(other)):
            if KEY in (step.get("env") or {}) and (job_name, number) != (name, index):
                yield f"job {job_name} step {number + 1} sets {KEY}: only the live step may"
    if INSTALL.search(run_of(live)):
        yield "the live step installs packages (pip, dev.py) while the key is in its environment"
    if not any(INSTALL.search(run_of(step)) for step in steps(job)[:index]):
        yield "no install step (pip install, dev.py) comes before the live step"


@rule
def the_live_job_publishes_the_report_and_the_annotations_always(
    doc: dict[str, Any], spec: Spec
) -> Iterator[str]:
    job, index, _, run = live_run(doc)
    reports = drift_reports(run)
    after = steps(job)[index + 1 :]
    markdown, json_report = reports.get(".md"), reports.get(".json")
    if markdown is None:
        yield "the live run writes no Markdown report (--drift-report *.md)"
    elif not any(
        always(s) and "GITHUB_STEP_SUMMARY" in run_of(s) and markdown in run_of(s) for s in after
    ):
        yield f"no step after the live run appends {markdown} to $GITHUB_STEP_SUMMARY if: always()"
    if json_report is None:
        yield "the live run writes no JSON report (--drift-report *.json)"
    elif not any(
        always(s) and ANNOTATIONS.search(run_of(s)) and json_report in run_of(s) for s in after
    ):
        yield f"no step after the live run runs the annotations of {json_report} if: always()"


@rule
def a_strict_drift_input_or_variable_adds_strict_drift(
    doc: dict[str, Any], spec: Spec
) -> Iterator[str]:
    inputs = (triggers(doc).get("workflow_dispatch") or {}).get("inputs") or {}
    given = inputs.get("strict-drift")
    if not isinstance(given, dict) or given.get("type") != "boolean":
        yield "workflow_dispatch has no boolean input strict-drift"
    elif given.get("default") not in (None, False):
        yield "the strict-drift input is on by default: additive findings must not fail by default"
    _, _, live, _ = live_run(doc)
    carriers = [
        str(name)
        for name, value in (live.get("env") or {}).items()
        if re.search(r"\binputs\.strict-drift\b", str(value))
        and re.search(r"\bvars\.FACEDETECT_STRICT_DRIFT\s*==\s*'true'", str(value))
    ]
    if not carriers:
        yield (
            "no env of the live step reads both inputs.strict-drift and "
            "vars.FACEDETECT_STRICT_DRIFT == 'true'"
        )
    lines = [line for line in run_of(live).splitlines() if "--strict-drift" in line]
    if not lines:
        yield "the live step never passes --strict-drift"
    for line in lines:
        if not any(re.search(rf"\$\{{?{name}\b", line) for name in carriers):
            yield f"--strict-drift is passed whatever the input and variable say: {line.strip()!r}"


@rule
def the_pull_request_and_push_job_runs_what_developers_run(
    doc: dict[str, Any], spec: Spec
) -> Iterator[str]:
    on = triggers(doc)
    if "pull_request" not in on:
        yield "the workflow does not run on pull_request"
    if "push" not in on:
        yield "the workflow does not run on push"
    else:
        branches = (on["push"] or {}).get("branches")
        if branches is not None and "main" not in branches:
            yield f"push runs on {branches!r}, not main"
    candidates = [
        (name, job)
        for name, job in jobs(doc).items()
        if admits(job, "pull_request") and admits(job, "push")
    ]
    if not candidates:
        raise Missing("no job runs on both pull_request and push")
    best: list[str] | None = None
    for name, job in candidates:
        found = 0
        for step in steps(job):
            while found < len(spec.push_commands) and spec.push_commands[found] in run_of(step):
                found += 1
        problems = [f"job {name} does not run {c!r}" for c in spec.push_commands[found:][:1]]
        if any(LIVE.search(run_of(step)) for step in steps(job)):
            problems.append(f"job {name} runs the live suite on pull requests")
        if best is None or len(problems) < len(best):
            best = problems
    yield from best or []


@rule
def the_live_job_runs_only_nightly_or_on_demand(doc: dict[str, Any], spec: Spec) -> Iterator[str]:
    on = triggers(doc)
    schedule = on.get("schedule")
    if not (
        isinstance(schedule, list) and any(isinstance(e, dict) and e.get("cron") for e in schedule)
    ):
        yield "the workflow has no nightly schedule (cron)"
    if "workflow_dispatch" not in on:
        yield "the workflow cannot be run on demand (workflow_dispatch)"
    name, _ = live_step_at(doc)
    condition = str(jobs(doc)[name].get("if") or "")
    events = set(re.findall(r"github\.event_name\s*==\s*'([\w-]+)'", condition))
    if events != {"schedule", "workflow_dispatch"} or "!=" in condition:
        yield f"the live job's if {condition!r} must admit schedule and workflow_dispatch only"


def cache_paths(doc: dict[str, Any], job: dict[str, Any], step: dict[str, Any]) -> list[str]:
    text = expand(str((step.get("with") or {}).get("path") or ""), env_of(doc, job, step))
    return [line.strip() for line in text.splitlines() if line.strip()]


@rule
def the_history_is_restored_before_and_saved_after_the_live_run(
    doc: dict[str, Any], spec: Spec
) -> Iterator[str]:
    job, index, _, run = live_run(doc)
    histories = option_values(run, "--history")
    if not histories:
        raise Missing("the live run keeps no --history")
    history = histories[0]
    keyed = [(i, s) for i, s in enumerate(steps(job)) if history in cache_paths(doc, job, s)]
    restores = [
        s for i, s in keyed if i < index and uses_of(s).startswith("actions/cache/restore@")
    ]
    saves = [s for i, s in keyed if i > index and uses_of(s).startswith("actions/cache/save@")]
    if not restores:
        yield f"no actions/cache/restore step before the live run restores {history}"
    if not saves:
        yield f"no actions/cache/save step after the live run saves {history}"
    for step in restores:
        key = str((step.get("with") or {}).get("key") or "")
        prefixes = str((step.get("with") or {}).get("restore-keys") or "").split()
        if "github.run_id" not in key:
            yield f"the history's cache key {key!r} is not this run's id (entries are immutable)"
        if not any(key.startswith(prefix) and prefix != key for prefix in prefixes):
            yield f"restore-keys {prefixes!r} hold no prefix of {key!r}: last night's is never found"
    for step in saves:
        if not always(step):
            yield "the history is saved without if: always(): a failing night would lose its record"
        key = str((step.get("with") or {}).get("key") or "")
        if restores and key != str((restores[0].get("with") or {}).get("key")):
            yield f"the history is saved under {key!r}, not the key it was restored for"


@rule
def the_baseline_is_passed_only_when_its_file_exists(
    doc: dict[str, Any], spec: Spec
) -> Iterator[str]:
    *_, run = live_run(doc)
    lines = [line for line in run.splitlines() if "--baseline" in line]
    if not lines:
        yield f"the live run never passes --baseline {spec.baseline}"
    for line in lines:
        given = option_values(line, "--baseline")
        tested = re.findall(r"(?:\[\[?|\btest)\s+-f\s+['\"]?([^\s'\"\]]+)", line)
        if not given or given[0] not in tested:
            yield f"--baseline is passed without testing that the file exists: {line.strip()!r}"
        elif given[0] != spec.baseline:
            yield f"the baseline is {given[0]}, not {spec.baseline}"


@rule
def the_reports_are_uploaded_as_an_artifact_always(
    doc: dict[str, Any], spec: Spec
) -> Iterator[str]:
    job, index, _, run = live_run(doc)
    reports = drift_reports(run)
    for suffix in (".json", ".md", ".html"):
        if suffix not in reports:
            yield f"the live run writes no {suffix} report (--drift-report *{suffix})"
    junit = option_values(run, "--junitxml")
    if not junit:
        yield "the live run writes no JUnit XML (--junitxml)"
    wanted = [*reports.values(), *junit, *option_values(run, "--history")]
    uploads = [
        cache_paths(doc, job, s)
        for s in steps(job)[index + 1 :]
        if uses_of(s).startswith("actions/upload-artifact@") and always(s)
    ]
    if not uploads:
        raise Missing("no actions/upload-artifact step after the live run with if: always()")
    patterns = [pattern for paths in uploads for pattern in paths]
    for path in wanted:
        if not any(
            path == p or path.startswith(p.rstrip("/") + "/") or fnmatch.fnmatch(path, p)
            for p in patterns
        ):
            yield f"{path} is not uploaded"


@rule
def every_job_sets_up_python_with_a_pip_cache(doc: dict[str, Any], spec: Spec) -> Iterator[str]:
    for name, job in jobs(doc).items():
        setups = [s for s in steps(job) if uses_of(s).startswith("actions/setup-python@")]
        if not setups:
            yield f"job {name} does not set up Python"
        for step in setups:
            given = step.get("with") or {}
            if given.get("python-version") != "3.11":  # a string: 3.10 as a number is 3.1
                yield f"job {name}: python-version is {given.get('python-version')!r}, not '3.11'"
            if given.get("cache") != "pip":
                yield f"job {name}: setup-python does not cache pip"
            if given.get("cache-dependency-path") != "pyproject.toml":
                yield f"job {name}: the pip cache is not keyed on pyproject.toml"


def pins_name_their_versions(text: str) -> list[str]:
    """Every ``uses: action@sha`` line says its version in a comment, the one the SHA is."""
    found = []
    for action, ref, comment in USES_LINE.findall(text):
        version = comment.split()[0] if comment else ""
        if not version:
            found.append(f"{action}@{ref} has no version comment")
        elif action in PINS and PINS[action] != (ref, version):
            found.append(
                f"{action}@{ref} # {version}: {action} {PINS[action][1]} is {PINS[action][0]}"
            )
    return found


# --- the tests --------------------------------------------------------------------------------

each_workflow = pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])


SCHEMA_CHECK = ("--builtin-schema", "vendor.github-workflows")


@dataclass(frozen=True)
class Checked:
    """What check-jsonschema said of one file: its exit status and its output."""

    returncode: int
    stdout: str
    stderr: str


def check_jsonschema(path: Path) -> Checked:
    """``check-jsonschema --builtin-schema vendor.github-workflows PATH``: the tool's own command,
    run in this process through click's runner (a child would cost a quarter second of start-up
    per file for the same verdict). An exception of the tool's is raised, never read as a "no"."""
    try:
        from check_jsonschema.cli.main_command import main  # type: ignore[import-untyped]
        from click.testing import CliRunner
    except ImportError as error:
        pytest.fail(f"{error} (check-jsonschema is a dev dependency: pip install -e '.[dev]')")
    result = CliRunner().invoke(main, [*SCHEMA_CHECK, str(path)], catch_exceptions=False)
    return Checked(result.exit_code, result.stdout, result.stderr)


@each_workflow
def test_the_workflow_is_valid_against_the_github_workflow_schema(spec: Spec) -> None:
    result = check_jsonschema(spec.path)
    assert result.returncode == 0, f"{spec.path}:\n{result.stdout}{result.stderr}"


def test_the_schema_check_rejects_a_workflow_github_would_refuse(tmp_path: Path) -> None:
    doc = workflow(SPECS[0])
    faithful = tmp_path / "faithful.yml"
    faithful.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    del next(iter(jobs(doc).values()))["runs-on"]
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    assert check_jsonschema(faithful).returncode == 0  # the copy itself is not what breaks
    result = check_jsonschema(broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "runs-on" in result.stdout


@each_workflow
def test_every_job_has_a_timeout(spec: Spec) -> None:
    assert complaints("every_job_has_a_timeout", workflow(spec), spec) == []


@each_workflow
def test_the_top_level_permissions_are_exactly_contents_read(spec: Spec) -> None:
    assert complaints("permissions_are_exactly_contents_read", workflow(spec), spec) == []


@each_workflow
def test_concurrency_groups_by_workflow_and_ref_and_cancels_only_pull_requests(spec: Spec) -> None:
    assert complaints("concurrency_cancels_only_pull_requests", workflow(spec), spec) == []


@each_workflow
def test_every_action_is_pinned_to_a_full_commit_sha(spec: Spec) -> None:
    assert complaints("every_action_is_pinned_to_a_full_commit_sha", workflow(spec), spec) == []


@each_workflow
def test_every_pinned_action_names_its_version_in_a_comment(spec: Spec) -> None:
    text = spec.path.read_text(encoding="utf-8")
    assert len(USES_LINE.findall(text)) == len(list(all_uses(workflow(spec))))  # none unread
    assert pins_name_their_versions(text) == []


@each_workflow
def test_the_api_key_is_only_in_the_env_of_the_live_step_which_comes_after_the_install(
    spec: Spec,
) -> None:
    name = "the_key_is_only_in_the_env_of_the_live_step_after_the_install"
    assert complaints(name, workflow(spec), spec) == []


@each_workflow
def test_the_live_job_publishes_the_markdown_report_and_the_annotations_even_when_it_fails(
    spec: Spec,
) -> None:
    name = "the_live_job_publishes_the_report_and_the_annotations_always"
    assert complaints(name, workflow(spec), spec) == []


@each_workflow
def test_the_strict_drift_input_or_variable_adds_strict_drift(spec: Spec) -> None:
    name = "a_strict_drift_input_or_variable_adds_strict_drift"
    assert complaints(name, workflow(spec), spec) == []


@each_workflow
def test_the_pull_request_and_push_job_runs_what_developers_run(spec: Spec) -> None:
    name = "the_pull_request_and_push_job_runs_what_developers_run"
    assert complaints(name, workflow(spec), spec) == []


@each_workflow
def test_the_live_job_runs_only_nightly_or_on_demand(spec: Spec) -> None:
    assert complaints("the_live_job_runs_only_nightly_or_on_demand", workflow(spec), spec) == []


@each_workflow
def test_the_history_is_restored_before_and_saved_after_the_live_run(spec: Spec) -> None:
    name = "the_history_is_restored_before_and_saved_after_the_live_run"
    assert complaints(name, workflow(spec), spec) == []


@each_workflow
def test_the_baseline_is_passed_only_when_its_file_exists(spec: Spec) -> None:
    name = "the_baseline_is_passed_only_when_its_file_exists"
    assert complaints(name, workflow(spec), spec) == []


@each_workflow
def test_the_reports_are_uploaded_as_an_artifact_even_when_the_run_fails(spec: Spec) -> None:
    name = "the_reports_are_uploaded_as_an_artifact_always"
    assert complaints(name, workflow(spec), spec) == []


@each_workflow
def test_every_job_sets_up_python_3_11_with_a_pip_cache_keyed_on_pyproject(spec: Spec) -> None:
    assert complaints("every_job_sets_up_python_with_a_pip_cache", workflow(spec), spec) == []


# --- breaking edits: each rule complains about a workflow that breaks it ----------------------


def live_job(doc: dict[str, Any]) -> dict[str, Any]:
    return jobs(doc)[live_step_at(doc)[0]]


def live_step(doc: dict[str, Any]) -> dict[str, Any]:
    name, index = live_step_at(doc)
    return steps(jobs(doc)[name])[index]


def push_job(doc: dict[str, Any]) -> dict[str, Any]:
    live = live_step_at(doc)[0]
    return next(job for name, job in jobs(doc).items() if name != live)


def step_where(job: dict[str, Any], found: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    matching = [step for step in steps(job) if found(step)]
    if not matching:
        raise LookupError("the breaking edit found no step to break")
    return matching[0]


def drop_steps(job: dict[str, Any], found: Callable[[dict[str, Any]], bool]) -> None:
    step_where(job, found)  # there is one to drop
    job["steps"] = [step for step in steps(job) if not found(step)]


def replace_in_run(step: dict[str, Any], old: str, new: str) -> None:
    if old not in run_of(step):
        raise LookupError(f"the breaking edit found no {old!r} to replace")
    step["run"] = run_of(step).replace(old, new)


def move_live_step_first(doc: dict[str, Any], spec: Spec) -> None:
    job = live_job(doc)
    live = live_step(doc)
    job["steps"] = [live, *(step for step in steps(job) if step is not live)]


def pin_to_a_tag(doc: dict[str, Any], spec: Spec) -> None:
    step = step_where(live_job(doc), lambda s: uses_of(s).startswith("actions/checkout@"))
    step["uses"] = "actions/checkout@v7"


def unguard_the_baseline(doc: dict[str, Any], spec: Spec) -> None:
    step = live_step(doc)
    step["run"] = "\n".join(
        '.venv/bin/facedetect-contract run --live --baseline "$BASELINE"'
        if "--baseline" in line
        else line
        for line in run_of(step).splitlines()
    )


def the_summary_step(step: dict[str, Any]) -> bool:
    return "GITHUB_STEP_SUMMARY" in run_of(step) and ".md" in run_of(step)


def restore_step(step: dict[str, Any]) -> bool:
    return uses_of(step).startswith("actions/cache/restore@")


def save_step(step: dict[str, Any]) -> bool:
    return uses_of(step).startswith("actions/cache/save@")


def upload_step(step: dict[str, Any]) -> bool:
    return uses_of(step).startswith("actions/upload-artifact@")


def the_command(number: int) -> Callable[[dict[str, Any], Spec], None]:
    def edit(doc: dict[str, Any], spec: Spec) -> None:
        drop_steps(push_job(doc), lambda s: spec.push_commands[number] in run_of(s))

    return edit


SECRET_TEXT = "${{ secrets.DASHSCOPE_API_KEY }}"
Edit = Callable[[dict[str, Any], Spec], None]
# fmt: off
BREAKING: list[tuple[str, str, Edit]] = [
    ("every_job_has_a_timeout", "the pull-request job unbounded",
     lambda d, s: push_job(d).pop("timeout-minutes")),
    ("every_job_has_a_timeout", "the live job unbounded",
     lambda d, s: live_job(d).pop("timeout-minutes")),
    ("permissions_are_exactly_contents_read", "no permissions",
     lambda d, s: d.pop("permissions")),
    ("permissions_are_exactly_contents_read", "write-all",
     lambda d, s: d.update(permissions="write-all")),
    ("permissions_are_exactly_contents_read", "contents write",
     lambda d, s: d.update(permissions={"contents": "write"})),
    ("concurrency_cancels_only_pull_requests", "no concurrency",
     lambda d, s: d.pop("concurrency")),
    ("concurrency_cancels_only_pull_requests", "the live run cancelled too",
     lambda d, s: d["concurrency"].update({"cancel-in-progress": True})),
    ("concurrency_cancels_only_pull_requests", "grouped by workflow only",
     lambda d, s: d["concurrency"].update(group="${{ github.workflow }}")),
    ("every_action_is_pinned_to_a_full_commit_sha", "checkout on a moving tag", pin_to_a_tag),
    ("every_action_is_pinned_to_a_full_commit_sha", "a short SHA",
     lambda d, s: step_where(live_job(d), upload_step).update(
         uses="actions/upload-artifact@bbbca2d")),
    ("the_key_is_only_in_the_env_of_the_live_step_after_the_install", "the key in the workflow's env",
     lambda d, s: d.setdefault("env", {}).update({KEY: SECRET_TEXT})),
    ("the_key_is_only_in_the_env_of_the_live_step_after_the_install", "the key in the live job's env",
     lambda d, s: live_job(d).setdefault("env", {}).update({KEY: SECRET_TEXT})),
    ("the_key_is_only_in_the_env_of_the_live_step_after_the_install", "the key in the install step",
     lambda d, s: step_where(live_job(d), lambda st: bool(INSTALL.search(run_of(st))))
     .setdefault("env", {}).update({KEY: SECRET_TEXT})),
    ("the_key_is_only_in_the_env_of_the_live_step_after_the_install", "the key in run text",
     lambda d, s: live_step(d).update(run=run_of(live_step(d)) + f' --x "{SECRET_TEXT}"')),
    ("the_key_is_only_in_the_env_of_the_live_step_after_the_install", "the key passed to an action",
     lambda d, s: step_where(live_job(d), upload_step)["with"].update(name=SECRET_TEXT)),
    ("the_key_is_only_in_the_env_of_the_live_step_after_the_install", "every secret as JSON",
     lambda d, s: live_job(d).setdefault("env", {}).update(ALL="${{ toJSON(secrets) }}")),
    ("the_key_is_only_in_the_env_of_the_live_step_after_the_install", "the live step before the install",
     move_live_step_first),
    ("the_key_is_only_in_the_env_of_the_live_step_after_the_install", "the live step installs",
     lambda d, s: live_step(d).update(run="pip install facedetect-contract\n" + run_of(live_step(d)))),
    ("the_key_is_only_in_the_env_of_the_live_step_after_the_install", "the key not given at all",
     lambda d, s: live_step(d)["env"].pop(KEY)),
    ("the_live_job_publishes_the_report_and_the_annotations_always", "the summary only on success",
     lambda d, s: step_where(live_job(d), the_summary_step).pop("if")),
    ("the_live_job_publishes_the_report_and_the_annotations_always", "no annotations",
     lambda d, s: drop_steps(live_job(d), lambda st: bool(ANNOTATIONS.search(run_of(st))))),
    ("the_live_job_publishes_the_report_and_the_annotations_always", "no Markdown report",
     lambda d, s: replace_in_run(live_step(d), "--drift-report reports/drift.md", "")),
    ("a_strict_drift_input_or_variable_adds_strict_drift", "no strict-drift input",
     lambda d, s: d["on"]["workflow_dispatch"].pop("inputs")),
    ("a_strict_drift_input_or_variable_adds_strict_drift", "the variable not read",
     lambda d, s: live_step(d)["env"].update(STRICT_DRIFT="${{ inputs.strict-drift }}")),
    ("a_strict_drift_input_or_variable_adds_strict_drift", "--strict-drift always",
     lambda d, s: replace_in_run(live_step(d), "--max-billed 4", "--max-billed 4 --strict-drift")),
    ("a_strict_drift_input_or_variable_adds_strict_drift", "--strict-drift never",
     lambda d, s: replace_in_run(live_step(d), "options+=(--strict-drift)", "true")),
    ("the_pull_request_and_push_job_runs_what_developers_run", "the first command dropped",
     the_command(0)),
    ("the_pull_request_and_push_job_runs_what_developers_run", "the second command dropped",
     the_command(1)),
    ("the_pull_request_and_push_job_runs_what_developers_run", "the job on pull requests only",
     lambda d, s: push_job(d).update({"if": "github.event_name == 'pull_request'"})),
    ("the_pull_request_and_push_job_runs_what_developers_run", "no push trigger",
     lambda d, s: d["on"].pop("push")),
    ("the_live_job_runs_only_nightly_or_on_demand", "the live job on pull requests too",
     lambda d, s: live_job(d).update({"if": "github.event_name != 'push'"})),
    ("the_live_job_runs_only_nightly_or_on_demand", "no schedule",
     lambda d, s: d["on"].pop("schedule")),
    ("the_history_is_restored_before_and_saved_after_the_live_run", "never restored",
     lambda d, s: drop_steps(live_job(d), restore_step)),
    ("the_history_is_restored_before_and_saved_after_the_live_run", "saved only on success",
     lambda d, s: step_where(live_job(d), save_step).pop("if")),
    ("the_history_is_restored_before_and_saved_after_the_live_run", "one fixed key",
     lambda d, s: [step_where(live_job(d), f)["with"].update(key="facedetect-history")
                   for f in (restore_step, save_step)]),
    ("the_history_is_restored_before_and_saved_after_the_live_run", "no restore prefix",
     lambda d, s: step_where(live_job(d), restore_step)["with"].pop("restore-keys")),
    ("the_history_is_restored_before_and_saved_after_the_live_run", "no --history",
     lambda d, s: replace_in_run(live_step(d), '--history "$HISTORY"', "")),
    ("the_baseline_is_passed_only_when_its_file_exists", "--baseline unguarded", unguard_the_baseline),
    ("the_baseline_is_passed_only_when_its_file_exists", "no --baseline",
     lambda d, s: replace_in_run(live_step(d), '--baseline "$BASELINE"', "")),
    ("the_reports_are_uploaded_as_an_artifact_always", "uploaded only on success",
     lambda d, s: step_where(live_job(d), upload_step).pop("if")),
    ("the_reports_are_uploaded_as_an_artifact_always", "only the JSON report uploaded",
     lambda d, s: step_where(live_job(d), upload_step)["with"].update(path="reports/drift.json")),
    ("the_reports_are_uploaded_as_an_artifact_always", "no JUnit XML",
     lambda d, s: replace_in_run(live_step(d), "--junitxml reports/junit-live.xml", "")),
    ("every_job_sets_up_python_with_a_pip_cache", "no pip cache",
     lambda d, s: step_where(push_job(d), lambda st: "setup-python" in uses_of(st))["with"]
     .pop("cache")),
    ("every_job_sets_up_python_with_a_pip_cache", "python-version as a number",
     lambda d, s: step_where(live_job(d), lambda st: "setup-python" in uses_of(st))["with"]
     .update({"python-version": 3.11})),
]
# fmt: on


@pytest.mark.parametrize(
    ("spec", "name", "edit"),
    [
        pytest.param(spec, name, edit, id=f"{spec.name}-{name}-{what}")
        for spec in SPECS
        for name, what, edit in BREAKING
    ],
)
def test_each_rule_complains_about_a_workflow_that_breaks_it(
    spec: Spec, name: str, edit: Edit
) -> None:
    doc = workflow(spec)
    assert complaints(name, doc, spec) == []
    broken = workflow(spec)
    edit(broken, spec)
    assert broken != doc, "the edit changed nothing"
    assert complaints(name, broken, spec) != []


def test_every_rule_has_a_breaking_edit() -> None:
    assert set(RULES) == {name for name, _, _ in BREAKING}


@each_workflow
@pytest.mark.parametrize(
    ("what", "old", "new"),
    [
        ("no version comment", " # v7.0.1", ""),
        ("the wrong version", " # v7.0.1", " # v7.0.0"),
    ],
)
def test_a_pin_without_its_true_version_comment_is_named(
    spec: Spec, what: str, old: str, new: str
) -> None:
    text = spec.path.read_text(encoding="utf-8")
    assert old in text
    assert pins_name_their_versions(text.replace(old, new, 1)) != []
