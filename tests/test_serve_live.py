"""A live run with the default cases against ``serve`` started with no option passes (issue 21).

The README and docs/double.md offer ``facedetect-contract serve`` as the rehearsal target of live
mode. Before issue 21 two of the default cases cried wolf against it: the documented example
image (a public URL) was refused by the stub's loopback-only downloader, so a user's first
rehearsal failed on the tool's own stub. This test starts ``python -m facedetect_contract serve
--port 0`` as a user does (a sentinel key in the profile's variable, no other option), reads the
API root it prints, runs ``python -m facedetect_contract live --base-url ROOT`` with the default
cases and options, and requires exit 0 and a report that says passed with every default case
judged as it expects. The second test starts a stub that refuses the documented image as the old
one did (its downloader, loopback only, answering every URL) and requires the same run to fail
naming those cases: the first test's checks are the ones that see the wolf.

Both are the slow tier (``outside``): each live run is paced at the documented rate and takes
about 5-6 s on its own.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.contracts.cases import LiveCase, default_cases
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.doubles.images import DownloadingImages
from facedetect_contract.doubles.server import serve_in_thread
from tests.helpers.processes import read_lines

__all__: list[str] = []

pytestmark = pytest.mark.outside

CONTRACTS = load_contracts()
KEY_ENV = CONTRACTS.profile.api_key_env
SENTINEL_KEY = "sk-serve-live-sentinel-" + "7" * 16
CASES = default_cases(CONTRACTS)
# A case's expect, and the outcomes of the report that meet it.
MEETS = {"pass": {"passed"}, "fail": {"failed"}, "any": {"passed", "failed"}}
REPORT = Path("tmp") / "drift.json"  # relative to the run's folder, as a user would write it
START_TIMEOUT = 30.0  # seconds for serve to print its two lines
# The live run's own deadline is 300 s (--live-deadline's default); a default run against the
# stub takes seconds, so a run still going after this is a failure of this test, not a wait.
LIVE_TIMEOUT = 120.0
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


def child_env() -> dict[str, str]:
    """This environment, the key in the profile's variable, and no proxy or base URL of the
    user's: every request of both children stays on 127.0.0.1."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name.lower() not in PROXY_VARIABLES and not name.startswith("DASHSCOPE_")
    }
    env[KEY_ENV] = SENTINEL_KEY
    env["NO_PROXY"] = env["no_proxy"] = "*"
    return env


def run_live(base_url: str, folder: Path) -> tuple[subprocess.CompletedProcess[str], Any, float]:
    """``live --base-url BASE_URL --drift-report tmp/drift.json`` in ``folder``, nothing else:
    the finished process, its JSON report and its wall time in seconds."""
    command = [sys.executable, "-m", "facedetect_contract", "live", "--base-url", base_url]
    started = time.monotonic()
    done = subprocess.run(
        [*command, "--drift-report", str(REPORT)],
        cwd=folder,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=LIVE_TIMEOUT,
        check=False,
    )
    took = time.monotonic() - started
    report_file = folder / REPORT
    assert report_file.is_file(), f"no report; stdout {done.stdout!r} stderr {done.stderr!r}"
    text = report_file.read_text(encoding="utf-8")
    for shown in (done.stdout, done.stderr, text):
        assert SENTINEL_KEY not in shown, "the live run showed the key"
    return done, json.loads(text), took


def case_rows(report: Any) -> dict[str, Any]:
    """The report's cases by name."""
    return {row["name"]: row for row in report["cases"]}


def case_requests(report: Any) -> dict[str, Any]:
    """The report's requests that carried a case, by request name."""
    return {row["name"]: row for row in report["requests"] if row["kind"] == "case"}


def met(case: LiveCase, row: Any) -> bool:
    return bool(row["outcome"] in MEETS[case.expect])


def test_a_live_run_with_the_default_cases_against_serve_with_no_option_passes(
    tmp_path: Path,
) -> None:
    assert CASES, "the packaged contracts have no default live cases"
    with (tmp_path / "serve.log").open("w", encoding="utf-8") as serve_log:
        server = subprocess.Popen(
            [sys.executable, "-m", "facedetect_contract", "serve", "--port", "0"],
            cwd=tmp_path,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=serve_log,
            text=True,
        )
        try:
            serving, origin = read_lines(server, 2, START_TIMEOUT)
            found = re.fullmatch(r"serving (http://127\.0\.0\.1:\d+/api/v1)\n", serving)
            assert found, serving
            assert re.fullmatch(r"origin http://127\.0\.0\.1:\d+\n", origin), origin
            done, report, took = run_live(found.group(1), tmp_path)
        finally:
            server.terminate()
            out, _ = server.communicate(timeout=10)
    log = (tmp_path / "serve.log").read_text(encoding="utf-8")
    assert SENTINEL_KEY not in serving + origin + out + log, "serve showed the key"

    summary = f"stdout {done.stdout!r} stderr {done.stderr[-2000:]!r}"
    assert done.returncode == 0, summary
    assert (report["outcome"], report["exit_status"], report["why_not_passed"]) == (
        "passed",
        0,
        "",
    ), summary
    assert report["counts"]["breaking"] == report["counts"]["errors"] == 0
    assert report["findings"] == [] and report["errors"] == []
    rows = case_rows(report)
    assert sorted(rows) == sorted(case.name for case in CASES), "not every default case is told"
    for case in CASES:
        row = rows[case.name]
        assert met(case, row), f"case {case.name} expects {case.expect}: {row}"
        assert (row["image"], row["ratio"]) == (case.image_url, case.ratio)
        assert case_requests(report)[row["request"]]["outcome"] == "judged", row
    # What the run took, told with -rP (the brief: measure it, the default pacing included).
    print(f"live run: {took:.1f} s wall, {report['duration_s']} s in the report")


def test_a_stub_that_refuses_the_documented_image_fails_that_same_run(tmp_path: Path) -> None:
    """The wolf the first test guards against, as the stub cried it before issue 21: every URL
    downloaded, loopback only, so the documented (public) image is refused."""
    assert any(case.expect == "pass" for case in CASES)
    refusing = DownloadingImages(allow_remote=False, contracts=CONTRACTS)
    try:
        with serve_in_thread(api_keys=[SENTINEL_KEY], images=refusing) as stub:
            done, report, _ = run_live(stub.base_url, tmp_path)
    finally:
        refusing.close()
    assert done.returncode == 1, done.stdout
    assert report["outcome"] != "passed" and report["why_not_passed"]
    rows = case_rows(report)
    unmet = sorted(case.name for case in CASES if not met(case, rows[case.name]))
    assert unmet == sorted(case.name for case in CASES if case.expect == "pass")
