"""Section 3, live mode near the rate limit: ``pytest --live`` wall time against the floor.

``pytest tests/contract/test_live.py --live`` (default plan and budget) against the stub at
300 ms latency and 5 QPS; wall time against the floor, both ways: every request the stub answered
/ 5 per second (``floor_seconds``), and without the ones it answered 429
(``floor_seconds_excluding_429``: a 429 costs the stub nothing, so counting it flatters the
ratio). The target is judged on the stricter ratio. Also the planned requests still answered 429
after their retries (read from the run's JSON drift report). ``ratio`` is the pytest process'
wall time (start to exit); ``ratio_in_run`` (the report's ``duration_s``: first request sent to
last answer) leaves out start-up, collection and the report's writing.

The session path beside it: ``facedetect-contract live`` (``facedetect_contract.session``, no
pytest) with the same plan against the same stub, its whole process timed the same way, start to
exit, against its own floor (the requests it sent / 5 per second), judged on the stricter ratio
(``session_ratio``, its figures under ``session``).

The start-up cost of ``pytest --live`` on its own, two ways: the same command with
``--collect-only`` against the same stub (``startup_collect_only_s``; it must send nothing, and
the stub's count is checked), and ``startup_outside_run_s``, the whole process minus the in-run
duration (start-up and collection, then teardown and writing the report).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from facedetect_contract.doubles.fake import FakeRequest

from .common import ROOT, SENTINEL_KEY, child_env, run_child

LIVE_LATENCY_MS, LIVE_QPS = 300, 5


def live_mode_available() -> str | None:
    """None when ``pytest --live`` exists, else why not."""
    plugin = ROOT / "facedetect_contract" / "plugin"
    live_tests = ROOT / "tests" / "contract" / "test_live.py"
    if not any('"--live"' in path.read_text(encoding="utf-8") for path in plugin.glob("*.py")):
        return "live mode (--live in facedetect_contract/plugin/) has not landed"
    if not live_tests.exists():
        return "tests/contract/test_live.py has not landed"
    return None


def section_live() -> dict[str, Any]:
    missing = live_mode_available()
    if missing is not None:
        return {"status": "not available", "reason": missing}
    try:
        from facedetect_contract.doubles.server import serve_in_thread
    except ImportError as exc:
        return {"status": "not available", "reason": f"stub server: {exc}"}
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def count(request: FakeRequest, response: Any) -> Any:
        with lock:
            statuses[response.status] = statuses.get(response.status, 0) + 1
        return response

    with (
        serve_in_thread(
            api_keys=[SENTINEL_KEY],
            latency_ms=LIVE_LATENCY_MS,
            qps=LIVE_QPS,
            catalog=True,
            response_hook=count,
        ) as server,
        tempfile.TemporaryDirectory(prefix="facedetect-bench-live-") as scratch,
    ):

        def command(report: str) -> list[str]:
            return [
                sys.executable,
                "-m",
                "pytest",
                "tests/contract/test_live.py",
                "--live",
                "--dashscope-base-url",
                server.base_url,
                "-q",
                "-p",
                "no:cacheprovider",
                "--drift-report",
                str(Path(scratch) / report),
            ]

        run = run_child(command("live.json"), env=child_env(server.base_url))
        requests = server.requests_served
        throttled = server.throttled
        with lock:
            answered = dict(statuses)
        report_file = Path(scratch) / "live.json"
        live_report = json.loads(report_file.read_text()) if report_file.exists() else {}
        # The start-up on its own: the same command, collecting only (its own report file).
        collect = run_child(
            [*command("collect.json"), "--collect-only"], env=child_env(server.base_url)
        )
        served_while_collecting = server.requests_served - requests
        # The session path: the same plan through facedetect_contract.session, no pytest.
        before = server.requests_served, server.throttled
        session_report_file = Path(scratch) / "session.json"
        session_run = run_child(
            [
                sys.executable,
                "-m",
                "facedetect_contract",
                "live",
                "--base-url",
                server.base_url,
                "--drift-report",
                str(session_report_file),
            ],
            env=child_env(server.base_url),
        )
        session_sent = server.requests_served - before[0], server.throttled - before[1]
        session_report = (
            json.loads(session_report_file.read_text()) if session_report_file.exists() else {}
        )
    session = live_session_figures(session_run, *session_sent, session_report)
    floors = live_floors(requests, throttled, run["seconds"], live_report.get("duration_s"))
    startup = live_startup(
        collect, served_while_collecting, run["seconds"], floors["seconds_in_run"]
    )
    outcomes: dict[str, int] = {}
    for planned in live_report.get("requests", []):
        outcomes[planned.get("outcome", "?")] = outcomes.get(planned.get("outcome", "?"), 0) + 1
    return {
        "latency_ms": LIVE_LATENCY_MS,
        "qps": LIVE_QPS,
        "requests": requests,
        "statuses": {str(k): v for k, v in sorted(answered.items())},
        "throttled_429": throttled,
        # A planned request still answered 429 after its retries: the live run's "throttled".
        "unretried_429": outcomes.get("throttled", 0) if live_report else None,
        "outcomes": outcomes,
        "seconds": run["seconds"],
        **floors,
        "exit_code": run["returncode"],
        "summary": _last_line(run["stdout"]),
        **startup,
        "session": session,
        "session_ratio": session["ratio_judged"],
    }


def live_session_figures(
    run: dict[str, Any], requests: int, throttled: int, report: dict[str, Any]
) -> dict[str, Any]:
    """The session path's figures: its whole process against the floor of what it sent."""
    floors = live_floors(requests, throttled, run["seconds"], report.get("duration_s"))
    outcomes: dict[str, int] = {}
    for planned in report.get("requests", []):
        outcomes[planned.get("outcome", "?")] = outcomes.get(planned.get("outcome", "?"), 0) + 1
    return {
        "command": "facedetect-contract live",
        "requests": requests,
        "throttled_429": throttled,
        "unretried_429": outcomes.get("throttled", 0) if report else None,
        "outcome": report.get("outcome"),
        "seconds": run["seconds"],
        **floors,
        "exit_code": run["returncode"],
        "summary": _last_line(run["stdout"]),
    }


def live_startup(
    collect: dict[str, Any], served: int, seconds: float, in_run: float | None
) -> dict[str, Any]:
    """The start-up of ``pytest --live``, two ways: the wall time of the same command with
    ``--collect-only`` (which sends nothing: a request the stub served during it makes the figure
    an error, reported and left out), and the whole process minus the report's in-run duration.

    A collect-only run of ``--live`` exits 1 (its live report checked nothing, which the plugin
    counts as a failure), so its exit code is reported, not judged; a run that collected nothing
    is an error of the figure too.
    """
    figures: dict[str, Any] = {
        "startup_collect_only_s": collect["seconds"],
        "startup_collect_only_exit_code": collect["returncode"],
        "startup_collect_only_served": served,
        "startup_outside_run_s": round(seconds - in_run, 2) if in_run is not None else None,
    }
    collected = re.search(r"(\d+) tests? collected", collect["stdout"])
    error = None
    if served:
        error = f"the collect-only run was served {served} request(s): it is not start-up alone"
    elif collect.get("timed_out"):
        error = "the collect-only run timed out"
    elif not collected:
        error = f"the collect-only run collected nothing: {_last_line(collect['stdout'])}"
    if error is not None:
        figures["startup_collect_only_s"] = None
        figures["startup_collect_only_error"] = error
    return figures


def live_floors(
    requests: int, throttled: int, seconds: float, in_run: float | None
) -> dict[str, Any]:
    """Wall time against the rate-limit floor, counting the 429-answered requests and not.

    ``ratio`` and ``ratio_in_run`` keep their meaning (every request answered); the
    ``_excluding_429`` figures leave out the requests the stub answered 429, and ``ratio_judged``
    is the stricter (larger) of the two process-wide ratios: the one the target is judged on.
    """
    sent = requests / LIVE_QPS
    served = (requests - throttled) / LIVE_QPS

    def over(wall: float | None, floor: float) -> float | None:
        return round(wall / floor, 2) if floor and wall else None

    ratio, strict = over(seconds, sent), over(seconds, served)
    return {
        "seconds_in_run": in_run,
        "floor_seconds": round(sent, 2),
        "ratio": ratio,
        "ratio_in_run": over(in_run, sent),
        "requests_excluding_429": requests - throttled,
        "floor_seconds_excluding_429": round(served, 2),
        "ratio_excluding_429": strict,
        "ratio_in_run_excluding_429": over(in_run, served),
        "ratio_judged": max((r for r in (ratio, strict) if r is not None), default=None),
    }


def _last_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1][-300:] if lines else ""
