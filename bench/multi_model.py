"""Section 3, several models: ``facedetect-contract live`` with every packaged model side by side.

One live run guarding several models (``--model`` repeated: one ``LiveRun`` per model on a thread
of its own, each paced at its own model's documented rate, one shared budget, one report) against
one stub serving them all, at the single-model scenario's latency (``live.LIVE_LATENCY_MS``) and
with the same default plan (no ``--live-examples``, ``--max-billed`` or ``--live-qps``: the
defaults, as ``live.py`` runs them), so the figure is comparable with the session path's. Its
whole process is timed, start to exit, as the session path is.

The floor: each model can go no faster than its own rate limit, so model M needs at least
``requests_M / qps_M`` seconds (``qps_M`` read from its contracts' profile, never a literal); the
models run side by side, so the run's floor is the **largest** of them, not their sum
(``ratio`` = wall / that floor). The target is judged on the stricter ratio, without the
requests answered 429 (a 429 costs the stub nothing), and missed whatever the time when the run
exits non-zero or a planned request stayed answered 429 after its retries.

Counting what each model sent: the stub's response hook sees every answer and the model its
request's body names (the profile's request ``model`` pointer). A third of the plan (malformed
JSON, a missing, null or unknown model) names no served model, and the stub answers those as its
first model, which would charge an emoji-detect-v1 probe to emo-detect-v1's faster rate. So the
per-model counts come from the run's JSON report (each request row's ``model`` and ``attempts``),
and are accepted only when the stub confirms them: the report's attempts add up to every answer
the stub gave, and each model's are at least the answers whose body names it
(``attribute_requests``); otherwise the figure is an error, never a guess.

The stub's own rate limit (``StubOptions.qps``) is one window over every model, not one per
model, so it is not set here (it would throttle four models paced at their own rates as one
client); 429s are counted, as in the single-model scenario, and would come only from a fault.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from facedetect_contract.doubles.fake import FakeRequest

from .common import SENTINEL_KEY, child_env, run_child
from .live import LIVE_LATENCY_MS, _last_line

__all__ = ["attribute_requests", "multi_model_floors", "section_multi_model_live"]

THROTTLED = 429  # the status counted as the single-model scenario counts it (``live.py``)


def section_multi_model_live() -> dict[str, Any]:
    """Every packaged model in one ``facedetect-contract live`` run against one stub."""
    try:
        from facedetect_contract.contracts.loader import load_contracts, packaged_models
        from facedetect_contract.doubles.server import named_contracts, serve_in_thread
        from facedetect_contract.live.models import ModelsRun  # noqa: F401  # has it landed?
    except ImportError as exc:
        return {"status": "not available", "reason": f"several models in one live run: {exc}"}
    contracts = [load_contracts(folder) for folder in packaged_models().values()]
    if len(contracts) < 2:
        return {"status": "not available", "reason": "fewer than two packaged models"}
    models = [c.profile.model for c in contracts]
    qps = {c.profile.model: c.profile.qps for c in contracts}
    named: dict[str | None, int] = {}
    throttled: dict[str | None, int] = {}
    last_answer: dict[str | None, float] = {}
    first_answer: list[float] = []
    lock = threading.Lock()
    started = [time.perf_counter()]

    def body_model(body: bytes) -> str | None:
        """The served model the body names, else None (not JSON, no model, an unknown one)."""
        named = named_contracts(contracts, body)
        return None if named is None else named.profile.model

    def count(request: FakeRequest, response: Any) -> Any:
        model = body_model(request.body)
        with lock:
            now = round(time.perf_counter() - started[0], 2)
            if not first_answer:
                first_answer.append(now)
            named[model] = named.get(model, 0) + 1
            if response.status == THROTTLED:
                throttled[model] = throttled.get(model, 0) + 1
            last_answer[model] = now
        return response

    with (
        serve_in_thread(
            contracts=contracts,
            api_keys=[SENTINEL_KEY],
            latency_ms=LIVE_LATENCY_MS,
            catalog=True,
            response_hook=count,
        ) as server,
        tempfile.TemporaryDirectory(prefix="facedetect-bench-models-") as scratch,
    ):
        report_file = Path(scratch) / "models.json"
        command = [sys.executable, "-m", "facedetect_contract", "live"]
        for model in models:
            command += ["--model", model]
        command += ["--base-url", server.base_url, "--drift-report", str(report_file)]
        started[0] = time.perf_counter()
        run = run_child(command, env=child_env(server.base_url))
        served = server.requests_served
        report = json.loads(report_file.read_text()) if report_file.exists() else {}
    with lock:
        named_counts, throttled_counts = dict(named), dict(throttled)
        answers = dict(last_answer)
    return multi_model_figures(
        run,
        qps,
        named=named_counts,
        throttled=throttled_counts,
        served=served,
        report=report,
        timeline={
            "first_answer_s": first_answer[0] if first_answer else None,
            "last_answer_s": max(answers.values(), default=None),
            "last_named_answer_s": {m: answers.get(m) for m in models},
        },
    )


def multi_model_figures(
    run: Mapping[str, Any],
    qps: Mapping[str, float],
    *,
    named: Mapping[str | None, int],
    throttled: Mapping[str | None, int],
    served: int,
    report: Mapping[str, Any],
    timeline: Mapping[str, Any],
) -> dict[str, Any]:
    """The section's figures from what the stub counted (``named``: answers by the model their
    body names, ``None`` for none; ``throttled`` the same for 429s; ``served``: every endpoint
    request) and the run's JSON report."""
    attempts: dict[str, int] = dict.fromkeys(qps, 0)
    unretried: dict[str, int] = dict.fromkeys(qps, 0)
    for row in report.get("requests", []):
        model = row.get("model")
        if model in attempts:
            attempts[model] += int(row.get("attempts") or 0)
            unretried[model] += row.get("outcome") == "throttled"
    answered = sum(named.values())
    requests, error = attribute_requests(
        {m: named.get(m, 0) for m in qps}, named.get(None, 0), attempts if report else None
    )
    if error is None and served != answered:
        error = f"the stub served {served} request(s) and its hook saw {answered}"
    floors = multi_model_floors(
        requests or {},
        qps,
        seconds=run["seconds"],
        in_run=report.get("duration_s"),
        throttled={m: throttled.get(m, 0) for m in qps},
        throttled_naming_none=throttled.get(None, 0),
    )
    return {
        "command": "facedetect-contract live --model ... (every packaged model)",
        "models": list(qps),
        "latency_ms": LIVE_LATENCY_MS,
        "qps": dict(qps),
        "requests": answered,
        "named_in_body": {m: named.get(m, 0) for m in qps},
        "naming_no_model": named.get(None, 0),
        "report_attempts": attempts if report else None,
        "throttled_429": sum(throttled.values()),
        "unretried_429": sum(unretried.values()) if report else None,
        "unretried_429_by_model": unretried if report else None,
        "attribution_error": error,
        "outcome": report.get("outcome"),
        "seconds": run["seconds"],
        "timed_out": bool(run.get("timed_out")),
        **floors,
        **timeline,
        "exit_code": run["returncode"],
        "summary": _last_line(run["stdout"]),
    }


def attribute_requests(
    named: Mapping[str, int], naming_none: int, attempts: Mapping[str, int] | None
) -> tuple[dict[str, int] | None, str | None]:
    """Each model's requests, and why not when they cannot be told.

    ``named``: the stub's answers by the model the request's body names; ``naming_none``: the
    answers whose body names no served model; ``attempts``: each model's attempts by the run's
    report (``None``: no report). The report's attempts are each model's requests when the stub
    confirms them: they add up to every answer it gave, and none is below the answers naming
    that model. Otherwise ``(None, why)``.
    """
    if attempts is None:
        return None, "the run wrote no JSON report: its requests cannot be told apart by model"
    total = sum(named.values()) + naming_none
    if sum(attempts.values()) != total:
        return None, (
            f"the report's attempts add up to {sum(attempts.values())} and the stub answered "
            f"{total}"
        )
    short = [m for m in named if attempts.get(m, 0) < named[m]]
    if short:
        shown = ", ".join(f"{m} {attempts.get(m, 0)} < {named[m]}" for m in short)
        return None, f"the report's attempts are fewer than the stub's answers naming {shown}"
    return {m: attempts.get(m, 0) for m in named}, None


def multi_model_floors(
    requests: Mapping[str, int],
    qps: Mapping[str, float],
    *,
    seconds: float,
    in_run: float | None = None,
    throttled: Mapping[str, int] | None = None,
    throttled_naming_none: int = 0,
) -> dict[str, Any]:
    """The run's floor, the largest per-model ``requests / qps`` (the models run side by side),
    and the wall time against it; with and without the 429-answered requests.

    A 429 whose body names no model is taken off every model's count (the strictest reading: it
    may have been any of them). ``ratio_judged`` is the stricter (larger) process-wide ratio.
    No requests (or no per-model counts): every floor and ratio is None.
    """
    per_model: dict[str, dict[str, Any]] = {}
    for model, rate in qps.items():
        sent = requests.get(model, 0)
        kept = max(0, sent - (throttled or {}).get(model, 0) - throttled_naming_none)
        per_model[model] = {
            "requests": sent,
            "qps": rate,
            "floor_seconds": round(sent / rate, 2),
            "floor_seconds_excluding_429": round(kept / rate, 2),
        }
    floor = max((m["floor_seconds"] for m in per_model.values()), default=0.0)
    strict = max((m["floor_seconds_excluding_429"] for m in per_model.values()), default=0.0)
    slowest = next((m for m, f in per_model.items() if f["floor_seconds"] == floor and floor), None)

    def over(wall: float | None, bound: float) -> float | None:
        return round(wall / bound, 2) if bound and wall else None

    ratio, ratio_strict = over(seconds, floor), over(seconds, strict)
    return {
        "per_model": per_model,
        "slowest_model": slowest,
        "floor_seconds": floor or None,
        "floor_seconds_sum": round(sum(m["floor_seconds"] for m in per_model.values()), 2) or None,
        "floor_seconds_excluding_429": strict or None,
        "seconds_in_run": in_run,
        "ratio": ratio,
        "ratio_in_run": over(in_run, floor),
        "ratio_excluding_429": ratio_strict,
        "ratio_judged": max((r for r in (ratio, ratio_strict) if r is not None), default=None),
    }
