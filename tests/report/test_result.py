"""The run hands the report a frozen result (``live/result.py``): the report reads it and derives
nothing again, ``report/`` never imports the run, and errors are (request, cause) pairs.

The equivalence test keeps the report's old derivation (straight from a ``LiveRun``) here, as the
oracle the new one must match on a run with every kind of row: cases beside a recording and a
cases file's box, drift, throttled answers, an error of the run whose cause holds ``": "``,
generated examples, a baseline.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import json
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from facedetect_contract.contracts.cases import DEFAULT_CASES_FILE, load_cases
from facedetect_contract.contracts.fixtures import FIXTURE_DIR
from facedetect_contract.contracts.outcome import classify
from facedetect_contract.core import geometry
from facedetect_contract.core.violations import Severity
from facedetect_contract.live.baseline import Baseline, BaselineEntry
from facedetect_contract.live.drift import recording_for
from facedetect_contract.live.observations import observe
from facedetect_contract.live.result import RunError, RunResult
from facedetect_contract.live.run import LiveRun
from facedetect_contract.report import LiveReport
from facedetect_contract.report.model import (  # the rows were never re-derived: the same function
    ErrorCause,
    _request_row,
    error_causes,
)
from tests.helpers.live import CONTRACTS, Handler, answer, live_run, throttled_once

REPORT = Path(__file__).parents[2] / "facedetect_contract" / "report"
PACKAGE = "facedetect_contract"
NOW = dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.UTC)


# --- a representative run -----------------------------------------------------------------------


def drifting(serve: Handler) -> Handler:
    """Every request throttled once; the key-less probe failing for good (503, an error of the
    run); every passing answer's crop moved (drift against the recording)."""
    throttled = throttled_once(serve)

    def handle(request: httpx.Request) -> httpx.Response:
        if "authorization" not in request.headers:
            body = {"code": "ModelUnavailable", "message": "busy: try later", "request_id": "r"}
            return answer(503, body)
        response = throttled(request)
        body = json.loads(response.content)
        output = body.get("output") if isinstance(body, dict) else None
        if response.status_code == 200 and isinstance(output, dict) and output.get("check_pass"):
            x1, y1, x2, y2 = output["ext_bbox"]
            output["ext_bbox"] = [x1 + 100, y1, x2 + 100, y2]
        return answer(response.status_code, body)

    return handle


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> LiveRun:
    tmp = tmp_path_factory.mktemp("result")
    documented = load_cases(DEFAULT_CASES_FILE, CONTRACTS)
    boxed = dataclasses.replace(documented[0], name="boxed", extra={"face_bbox": [1, 2, 30, 40]})
    cases = (*documented, boxed)
    run, _ = live_run(
        tmp, cases, handler=drifting, record_dir=FIXTURE_DIR, examples=2, max_billed=10
    )
    run.execute()
    run.close()
    return run


def acknowledging(run: LiveRun) -> Baseline:
    first = next(v for verdict in run.verdicts.values() for v in verdict.violations)
    entry = BaselineEntry(reason="known", id=first.id, until=dt.date(2040, 1, 1))
    return Baseline(Path("baseline.json"), (entry,))


# --- the old derivation, kept as the oracle -----------------------------------------------------


def old_case_rows(run: LiveRun, verdicts: Sequence[Any]) -> tuple[dict[str, Any], ...]:
    contracts = run.contracts
    face_at, crop_at = contracts.profile.response.boxes
    rows = []
    for verdict in verdicts:
        case = verdict.planned.case
        if case is None:
            continue
        outcome = verdict.outcome
        response = verdict.interaction.response if verdict.interaction is not None else None
        body = response.body if response is not None and response.body_is_json else None
        live = {
            at.name: list(value) if geometry.is_box(value := at.get(body)) else None
            for at in (face_at, crop_at)
        }
        reference: dict[str, list[int]] = {}
        source = ""
        if verdict.interaction is not None:
            recording = recording_for(verdict.interaction, run.recordings, contracts)
            if recording is not None:
                recorded = classify(recording.response, contracts)
                for at, box in ((face_at, recorded.face_box), (crop_at, recorded.crop_box)):
                    if box is not None:
                        reference[at.name] = list(box)
                source = f"fixture {recording.name}"
        for at in (face_at, crop_at):
            expected = case.expected_box(at.name)
            if expected is not None:
                reference[at.name] = list(expected)
                source = "the cases file"
        iou = {
            name: round(geometry.iou(mine, box), 3)
            for name, box in reference.items()
            if (mine := live.get(name)) is not None
        }
        rows.append(
            {
                "name": case.name,
                "request": verdict.name,
                "image": case.image_url,
                "ratio": case.ratio,
                "expect": case.expect,
                "outcome": outcome.kind if outcome is not None else verdict.status,
                "boxes": live,
                "reference": reference,
                "reference_source": source,
                "iou": iou,
                "image_size": list(case.image_size) if case.image_size else None,
            }
        )
    return tuple(rows)


def old_error_causes(errors: Sequence[str], requests: Iterable[str]) -> list[dict[str, Any]]:
    """The old grouping, which split each error's text at its first ``": "``."""
    names = set(requests)
    by_cause: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for error in errors:
        name, sep, cause = error.partition(": ")
        if not (sep and name in names and cause):
            name, cause = "", error
        counts[cause] = counts.get(cause, 0) + 1
        listed = by_cause.setdefault(cause, [])
        if name:
            listed.append(name)
    return [
        {"cause": cause, "count": counts[cause], "requests": list(dict.fromkeys(names))}
        for cause, names in by_cause.items()
    ]


def the_old_way(run: LiveRun, baseline: Baseline) -> dict[str, Any]:
    """The report's JSON as ``from_run`` made it before the result: read off the run itself."""
    verdicts = [run.verdicts[name] for name in run.order if name in run.verdicts]
    findings = sorted(
        [*(v for verdict in verdicts for v in verdict.violations), *run.run_findings],
        key=lambda v: (v.severity is not Severity.BREAKING, v.interaction, v.pointer),
    )
    judged = baseline.judge(findings, NOW.date())
    assert run.started is not None and run.finished is not None
    report = LiveReport(
        endpoint=run.url,
        generated_at=NOW.isoformat(timespec="seconds"),
        strict_drift=run.settings.strict_drift,
        findings=tuple(findings),
        errors=tuple(run.all_errors),  # the pairs; their old strings are compared below
        spend=run.spend,
        observations=tuple(observe(verdicts, run.contracts)),
        requests=tuple(_request_row(v) for v in verdicts),
        recorded=tuple(str(path) for path in run.recorded),
        duration_s=(run.finished - run.started).total_seconds(),
        not_recorded=tuple(sorted(run.not_recorded.items())),
        selected=len(run.selected),
        missing=run.missing,
        interrupted=run.interrupted,
        cases=old_case_rows(run, verdicts),
        throttled=sum(
            1
            for v in verdicts
            for attempt in v.attempts
            if attempt.response.status == run.contracts.profile.throttle_status
        ),
        acknowledged={v.id: entry for v, entry in judged.acknowledged},
        expired=judged.expired,
        stale=judged.stale,
        contracts_version=run.contracts.version,
        sources=tuple(
            (source.title, source.url) for source in run.contracts.profile.sources.values()
        ),
        model=run.contracts.profile.model,
        box_names=tuple(at.name for at in run.contracts.profile.boxes.values()),
    )
    data = report.to_dict()
    old_strings = [
        f"{e.request}: {e.cause}" if e.request else e.cause for e in run.all_errors
    ]  # as the run used to keep them
    data["errors"] = old_strings
    data["error_causes"] = old_error_causes(old_strings, (v.name for v in verdicts))
    return data


# --- the tests ----------------------------------------------------------------------------------


def test_the_representative_run_has_every_kind_of_row(run: LiveRun) -> None:
    """The equivalence below is worth what this run holds."""
    result = run.result()
    sources = {c.request: c.reference_source for c in result.cases}
    assert sources["case-boxed"] == "the cases file"
    assert sources["case-documented-1-1"].startswith("fixture ")
    ious = {c.request: dict(c.iou) for c in result.cases}
    assert ious["case-boxed"] and ious["case-documented-1-1"]  # boxes compared with each
    assert result.throttled > 0 and result.observations and result.findings
    assert {v.status for v in result.verdicts} >= {"judged", "failing"}
    assert any(v.planned.kind == "example" for v in result.verdicts)
    (error,) = [e for e in result.errors if e.request == "probe-no-key"]
    assert ": " in error.cause  # "endpoint failing: still HTTP 503 ..."


def test_the_report_from_the_result_is_the_report_the_run_used_to_make(run: LiveRun) -> None:
    baseline = acknowledging(run)
    new = LiveReport.from_result(run.result(), baseline=baseline, now=NOW).to_dict()
    old = the_old_way(run, baseline)
    assert new["baseline"]["acknowledged"] and new["cases"] and new["error_causes"]
    assert json.dumps(new, sort_keys=True, default=str) == json.dumps(
        old, sort_keys=True, default=str
    )
    # from_run is from_result of the run's result
    wrapped = LiveReport.from_run(run, baseline=baseline, now=NOW).to_dict()
    assert json.dumps(wrapped, sort_keys=True, default=str) == json.dumps(
        new, sort_keys=True, default=str
    )


def test_the_result_is_frozen_through_and_through(run: LiveRun) -> None:
    result = run.result()
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.errors = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.requests[0].recording = None  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.cases[0].iou = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.errors[0].cause = "other"  # type: ignore[misc]
    for f in dataclasses.fields(RunResult):  # no list, dict or set inside to change in place
        assert not isinstance(getattr(result, f.name), list | dict | set), f.name


def test_the_result_is_a_snapshot_the_run_cannot_change_afterwards(run: LiveRun) -> None:
    result = run.result()
    errors, selected = result.errors, result.selected
    run.errors.append("writing the results failed: disk full")  # as the session does
    run.selected.add("an-extra-name")
    try:
        assert (result.errors, result.selected) == (errors, selected)
        later = run.result().errors
        assert later[-1] == RunError("writing the results failed: disk full")  # the run's whole
    finally:
        run.errors.pop()
        run.selected.discard("an-extra-name")


def test_a_cause_holding_a_colon_groups_by_its_pair_not_by_its_text() -> None:
    """The old grouping split each error's text at its first ": ": an error of the whole run
    that began with a request's name was filed under that request (seen failing on the old
    code: ``old_error_causes`` below gives ``"a note of the whole run"`` hitting case-a)."""
    errors = (
        RunError("the endpoint said: no (an error of the run, not drift)", "case-a"),
        RunError("the endpoint said: no (an error of the run, not drift)", "case-b"),
        RunError("case-a: a note of the whole run"),
        RunError("case-a: a note of the whole run"),
    )
    names = ("case-a", "case-b")
    expected = (
        ErrorCause("the endpoint said: no (an error of the run, not drift)", names, 2),
        ErrorCause("case-a: a note of the whole run", (), 2),
    )
    assert error_causes(errors, names) == expected
    old = old_error_causes([str(e) for e in errors], names)
    assert [c.to_dict() for c in expected] != old  # what the old code got wrong
    assert old[1] == {"cause": "a note of the whole run", "count": 2, "requests": ["case-a"]}


def test_the_report_lists_a_cause_holding_a_colon_once_with_its_requests(run: LiveRun) -> None:
    report = LiveReport.from_result(run.result(), now=NOW)
    (cause,) = [c for c in report.error_causes() if "probe-no-key" in c.requests]
    assert cause.cause.startswith("endpoint failing: still HTTP 503")
    hit = [e.request for e in report.errors if e.cause == cause.cause]
    assert cause.requests == tuple(hit) and cause.count == len(hit)
    assert f"probe-no-key: {cause.cause}" in report.to_dict()["errors"]


# --- report/ never imports the run --------------------------------------------------------------

RUN_MODULE = f"{PACKAGE}.live.run"
# What ``live/__init__`` loads ``run`` for (its lazy re-exports).
LOADS_RUN = frozenset({"run", "LiveRun", "LiveSettings", "Verdict", "planned_names"})


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    """Every import that runs: at the top, in a function, anywhere but under TYPE_CHECKING."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            yield from (i for child in node.orelse for i in _imports_of(child))
            continue
        yield from _imports_of(node)


def _imports_of(node: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _imports(node)


def imports_of_the_run(folder: Path) -> list[str]:
    """``module: line`` for every import in ``folder``'s modules that loads ``live.run``."""
    found = []
    for path in sorted(folder.glob("*.py")):
        module = f"{PACKAGE}.report.{path.stem}"
        package = module.rsplit(".", 1)[0]
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{parent}.{base}" if base else parent
                live = base == f"{PACKAGE}.live"
                targets = [
                    RUN_MODULE if live and alias.name in LOADS_RUN else base for alias in node.names
                ]
            if any(t == RUN_MODULE or t.startswith(f"{RUN_MODULE}.") for t in targets):
                found.append(f"{path.stem}: {ast.unparse(node)}")
    return found


def test_the_report_never_imports_the_run() -> None:
    assert imports_of_the_run(REPORT) == []


@pytest.mark.parametrize(
    "planted",
    [
        "from ..live.run import LiveRun",
        "from ..live import LiveRun",
        "from ..live import run",
        "import facedetect_contract.live.run",
        "def later():\n    from facedetect_contract.live.run import LiveRun\n    return LiveRun",
        "if TYPE_CHECKING:\n    pass\nelse:\n    from ..live.run import LiveRun",
    ],
)
def test_a_planted_import_of_the_run_is_found(tmp_path: Path, planted: str) -> None:
    copy = tmp_path / "report"
    shutil.copytree(REPORT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    model = copy / "model.py"
    model.write_text(model.read_text(encoding="utf-8") + f"\n{planted}\n", encoding="utf-8")
    (found,) = imports_of_the_run(copy)
    assert found.startswith("model: ")


def test_an_import_of_the_run_for_type_checking_alone_is_allowed(tmp_path: Path) -> None:
    copy = tmp_path / "report"
    copy.mkdir()
    (copy / "m.py").write_text("if TYPE_CHECKING:\n    from ..live.run import LiveRun\n")
    assert imports_of_the_run(copy) == []
