"""Live mode bounded by its deadline whatever the endpoint sends and whatever the options ask.

Real ``pytest --live`` runs, each in a subprocess with a hard timeout, against the stub server
(through ``FaultProxy`` where the endpoint misbehaves): a flood of undocumented fields in every
answer is folded into few findings with an exact count and small reports, within the deadline;
more examples than the deadline and pacing allow never end in an exception, and the cause is
named; option values the run cannot represent are usage errors naming the option.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.doubles.server import RunningServer, serve_in_thread
from tests.helpers.hostile import KEYS, Project
from tests.hostile.proxy import FaultProxy

pytestmark = pytest.mark.hostile
pytest_plugins = ["pytester"]

KEY = KEYS[1]
MiB = 1024 * 1024
# Seconds a run may take past its --live-deadline: the interpreter's and pytest's start-up, the
# run's own grace for its threads, the reports. A run that judged or rendered without a bound
# (the old code: 116,000 findings) takes minutes.
START_AND_GRACE = 12.0
HARD_TIMEOUT = 120.0  # the subprocess is killed past this: the test fails, it never hangs
USAGE_ERROR = 4


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    monkeypatch.delenv("DASHSCOPE_HTTP_BASE_URL", raising=False)
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR) as server:
        yield server


def live(
    pytester: pytest.Pytester, base_url: str, *args: str
) -> tuple[pytest.RunResult, float, dict[str, Any] | None, dict[str, int]]:
    """One ``pytest --live`` run in a subprocess: (result, wall seconds, JSON report, sizes)."""
    started = time.monotonic()
    result = pytester.runpytest_subprocess(
        "--live",
        "--dashscope-base-url",
        base_url,
        "--live-cases",
        "cases.json",
        "--drift-report",
        "report/drift.json",
        "--drift-report",
        "report/drift.md",
        "--junitxml",
        "junit.xml",
        "-p",
        "no:cacheprovider",
        *args,
        timeout=HARD_TIMEOUT,
    )
    wall = time.monotonic() - started
    reports = pytester.path / "report"
    sizes = {p.name: p.stat().st_size for p in reports.glob("*")} if reports.is_dir() else {}
    path = reports / "drift.json"
    report = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    print(f"wall {wall:.1f} s, exit {int(result.ret)}, report sizes {sizes}")
    return result, wall, report, sizes


def undocumented_fields(report: dict[str, Any]) -> int:
    """How many undocumented fields the report's findings stand for, folded ones counted."""
    return sum(
        1 + int(finding.get("folded", 0))
        for finding in report["findings"]
        if finding["check"] == "response_schema_conformance"
        and "new undocumented field" in finding["title"]
    )


def test_a_flood_of_undocumented_fields_is_folded_with_its_exact_count_within_the_deadline(
    pytester: pytest.Pytester, stub: RunningServer
) -> None:
    """4,000 unknown fields in each of 34 answers (136,000 findings unfolded): the run ends
    within its deadline and a grace, at most a few hundred findings stand for all of them,
    each field counted once, and the Markdown report stays under GitHub's 1 MiB summary limit."""
    project = Project(pytester, KEY)
    with FaultProxy(stub.base_url, "unknown-field-flood", count=4000) as proxy:
        project.prepare(stub)
        cases = [
            {
                "name": f"portrait {index:02d}",
                "image_url": stub.image_url("portrait.png"),
                "ratio": ("1:1", "3:4")[index % 2],
                "expect": "pass",
            }
            for index in range(24)
        ]
        (pytester.path / "cases.json").write_text(json.dumps(cases), encoding="utf-8")
        deadline = 10
        result, wall, report, sizes = live(
            pytester,
            proxy.base_url,
            "--live-examples",
            "3",
            "--max-billed",
            "30",
            "--live-deadline",
            str(deadline),
            "--live-timeout",
            "5",
            "--live-qps",
            "0",
        )
    assert wall < deadline + START_AND_GRACE, f"the run took {wall:.1f} s"
    assert report is not None, result.stderr.str()[-2000:]
    # Every answer is flooded: the passes in their output, the probes' error bodies at the top.
    judged = [r for r in report["requests"] if r["outcome"] == "judged"]
    assert len(judged) == len(report["requests"]) == 24 + 7 + 3, report["errors"]
    assert undocumented_fields(report) == 4000 * len(judged)
    assert len(report["findings"]) <= 250
    assert any(f.get("folded", 0) > 0 for f in report["findings"])
    assert sizes["drift.md"] < MiB and sizes["drift.json"] < MiB
    assert (pytester.path / "junit.xml").stat().st_size < MiB


def test_more_examples_than_the_deadline_allows_unpaced_name_the_deadline_not_a_key_error(
    pytester: pytest.Pytester, stub: RunningServer
) -> None:
    """200 examples, unpaced, 2 s: what the deadline left unsent is "not sent: the run's
    deadline", one error of the run names it, no exception reaches a test, the run is bounded."""
    Project(pytester, KEY).prepare(stub)
    deadline = 2
    result, wall, report, _sizes = live(
        pytester,
        stub.base_url,
        "--live-examples",
        "200",
        "--live-deadline",
        str(deadline),
        "--live-qps",
        "0",
        "-rs",
    )
    output = result.stdout.str() + result.stderr.str()
    assert "KeyError" not in output
    assert "Traceback" not in output
    assert wall < deadline + START_AND_GRACE, f"the run took {wall:.1f} s"
    assert int(result.ret) == 1
    assert report is not None
    assert report["outcome"] == "error"
    assert "the run's deadline (2 s, --live-deadline)" in report["why_not_passed"]
    assert report["missing"] == []
    assert "not sent: the run's deadline (2 s, --live-deadline) had passed" in output


def test_more_examples_than_the_pacing_lets_start_within_the_deadline_is_a_usage_error(
    pytester: pytest.Pytester, stub: RunningServer
) -> None:
    """At the profile's 5 requests a second, 200 examples cannot start in 2 s: said at the
    start, naming both options, what fits and what deadline would do, before anything is sent."""
    Project(pytester, KEY).prepare(stub)
    result, wall, _report, _sizes = live(
        pytester, stub.base_url, "--live-examples", "200", "--live-deadline", "2"
    )
    assert int(result.ret) == USAGE_ERROR, result.stdout.str()[-2000:]
    error = result.stderr.str()
    assert "--live-examples 200 does not fit --live-deadline 2" in error
    assert "give --live-examples 1 or fewer, or --live-deadline 43 or more" in error
    assert stub.fake.requests == 0
    assert wall < START_AND_GRACE


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--live-deadline", "1e10"),
        ("--live-timeout", "1e10"),
        ("--live-qps", "1e-300"),
        ("--live-deadline", "inf"),
        ("--live-deadline", "nan"),
        ("--live-timeout", "-1"),
        ("--live-qps", "nan"),
        ("--live-examples", "100000"),
    ],
)
def test_an_option_value_the_run_cannot_represent_is_a_usage_error_naming_it(
    pytester: pytest.Pytester, stub: RunningServer, option: str, value: str
) -> None:
    Project(pytester, KEY).prepare(stub)
    unpaced = () if option == "--live-qps" else ("--live-qps", "0")
    result, wall, _report, _sizes = live(pytester, stub.base_url, option, value, *unpaced)
    assert int(result.ret) == USAGE_ERROR, (result.stdout.str() + result.stderr.str())[-2000:]
    assert f"{option} must be" in result.stderr.str()
    assert "OverflowError" not in result.stdout.str() + result.stderr.str()
    assert stub.fake.requests == 0
    assert wall < START_AND_GRACE
