"""Section 2, over HTTP: the same number of cases through a real socket, each tool as users run it.

The stub server (``serve_in_thread``, offline image catalogue) on 127.0.0.1. ``schemathesis run``
(the CLI, fuzzing phase, every check, no shrinking) with the same document, then this suite's
client sending as many generated cases (half valid, half invalid), each side a child process timed
from outside, so both pay their interpreter start-up. This suite's child is ``run.py
--http-client BASE_URL`` (``http_client_main``), section 1's side against the stub.
``stub_ms_per_request`` is the floor under both sides: one bare POST on a kept-alive connection.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from facedetect_contract.client import FaceDetectClient
from facedetect_contract.contracts.loader import load_contracts

from .common import SENTINEL_KEY, Tally, child_env, per_second, ratio, run_child
from .offline import loopback_document, our_side

RUN_SCRIPT = Path(__file__).resolve().with_name("run.py")  # the entry point, run as the child


def http_client_main(base_url: str, valid: int, invalid: int) -> int:
    """Child process of section 2: this suite's client against the stub; prints one JSON line."""
    contracts = load_contracts()
    started = time.perf_counter()
    figures: dict[str, Any] = {}
    with FaceDetectClient(
        base_url=base_url, environ={"DASHSCOPE_API_KEY": SENTINEL_KEY}, contracts=contracts
    ) as client:
        for kind, cases in (("valid", valid), ("invalid", invalid)):
            if cases:
                tally = Tally()
                our_side(client, contracts, cases, kind, seed=0, tally=tally)
                figures[kind] = tally.figures()
    figures["seconds_in_process"] = round(time.perf_counter() - started, 3)
    print(json.dumps(figures))
    return 0


def section_http(cases: int) -> dict[str, Any]:
    try:
        from facedetect_contract.doubles.server import serve_in_thread
    except ImportError as exc:
        return {"status": "not available", "reason": f"stub server: {exc}"}
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        return {"status": "not available", "reason": "schemathesis not installed"}
    result: dict[str, Any] = {"cases": cases}
    # The stub answers with the offline image catalogue, as the in-process fake does: no download.
    with (
        serve_in_thread(api_keys=[SENTINEL_KEY], catalog=True) as server,
        tempfile.TemporaryDirectory(prefix="facedetect-bench-") as scratch,
    ):
        result["stub_ms_per_request"] = stub_round_trip_ms(server.url)
        document = Path(scratch) / "openapi.json"
        document.write_text(json.dumps(loopback_document(server.base_url)), encoding="utf-8")
        report = Path(scratch) / "schemathesis.json"
        command = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            str(document),
            "--url",
            server.base_url,
            "--phases",
            "fuzzing",
            "--mode",
            "all",
            "--max-examples",
            str(cases),  # per operation, both generation modes together
            "--header",
            f"Authorization: Bearer {SENTINEL_KEY}",
            "--checks",
            "all",
            "--continue-on-failure",
            "--no-shrink",
            "--generation-database",
            "none",
            "--seed",
            "1",
            "--workers",
            "1",
            "--no-color",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ]
        served_before = server.requests_served
        theirs = run_child(command, env=child_env(server.base_url))
        st_requests = server.requests_served - served_before
        st_report = json.loads(report.read_text()) if report.exists() else {}
        generated = st_report.get("test_cases", {}).get("generated") or st_requests
        result["schemathesis"] = {
            "cases": generated,
            "requests": st_requests,
            "seconds": theirs["seconds"],
            "cases_per_s": per_second(generated, theirs["seconds"]),
            "running_time": st_report.get("running_time"),
            "cases_with_failures": st_report.get("test_cases", {}).get("with_failures"),
            "failures": [
                f"{failure.get('code')} {failure.get('title')}"
                for failure in st_report.get("failures", [])
            ],
            "exit_code": theirs["returncode"],
        }
        # Ours sends exactly as many generated cases, half valid and half invalid.
        valid = generated // 2
        served_before = server.requests_served
        ours = run_child(
            [
                sys.executable,
                str(RUN_SCRIPT),
                "--http-client",
                server.base_url,
                "--valid",
                str(valid),
                "--invalid",
                str(generated - valid),
            ],
            env=child_env(server.base_url),
        )
        inner = (
            json.loads(ours["stdout"].strip().splitlines()[-1]) if ours["returncode"] == 0 else {}
        )
        sent = sum(inner.get(kind, {}).get("cases", 0) for kind in ("valid", "invalid"))
        result["ours"] = {
            "cases": sent,
            "requests": server.requests_served - served_before,
            "seconds": ours["seconds"],
            "cases_per_s": per_second(sent, ours["seconds"]),
            "seconds_in_process": inner.get("seconds_in_process"),
            "failing_cases": sum(
                inner.get(kind, {}).get("failing_cases", 0) for kind in ("valid", "invalid")
            ),
            "exit_code": ours["returncode"],
        }
        if ours["returncode"] != 0:
            result["ours"]["stderr"] = ours["stderr"][-2000:]
    result["ratio"] = ratio(result["ours"]["cases_per_s"], result["schemathesis"]["cases_per_s"])
    return result


def stub_round_trip_ms(url: str, requests: int = 20) -> float:
    """Median milliseconds of one bare POST to the stub on a kept-alive connection: the floor
    under both sides of section 2, whatever the tool."""
    body = {"model": "emo-detect-v1", "input": {"image_url": "https://example.com/p.png"}}
    headers = {"Authorization": f"Bearer {SENTINEL_KEY}"}
    times = []
    with httpx.Client(trust_env=False) as plain:
        for _ in range(requests):
            start = time.perf_counter()
            plain.post(url, json=body, headers=headers)
            times.append(time.perf_counter() - start)
    return round(sorted(times)[len(times) // 2] * 1000, 2)
