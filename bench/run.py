"""The benchmark: this suite beside Schemathesis on the same OpenAPI document, in one run.

    python3 dev.py bench                  # every section, 2 x 500 cases a side (~2-3 min)
    python3 dev.py bench --cases 200 --repeat 1
    python3 dev.py bench --quick          # smoke run: section 1 with 20 cases, no subprocesses
    python3 dev.py bench --skip-http --skip-live --skip-suite --json-only
    python3 dev.py bench --profile prof.txt   # pyinstrument profile of this suite's section 1

Sections (each a set of figures and a ratio):

1. offline: requests generated from the contracts (``strategies``), sent through
   ``FaceDetectClient`` to ``FaceDetectFake`` in-process and judged by ``run_checks`` plus the
   assertions of tests/contract/test_requests.py, valid and invalid. Beside it, Schemathesis
   drawing as many cases from the same OpenAPI document (positive and negative) and judging them
   with every default check (``case.call()`` then ``case.validate_response()``, which is what
   ``call_and_validate()`` does, timed apart) against the same fake served as a WSGI app. One
   Hypothesis harness for both: ``given`` with ``max_examples=N``, generate phase only, one run
   per seed 0..repeat-1 on each side, summed. Also the cost of validating one recorded response:
   all checks, and the schema alone (jsonschema, and ``Contracts.is_valid``'s fast path).
2. http: the stub server (``serve_in_thread``, offline image catalogue) on 127.0.0.1.
   ``schemathesis run`` (the CLI, fuzzing phase, every check, no shrinking) with the same document,
   then this suite's client sending as many generated cases (half valid, half invalid), each side
   a child process timed from outside, so both pay their interpreter start-up.
3. live: ``pytest tests/contract/test_live.py --live`` (default plan and budget) against the stub
   at 300 ms latency and 5 QPS; wall time against the floor, both ways: every request the stub
   answered / 5 per second (``floor_seconds``), and without the ones it answered 429
   (``floor_seconds_excluding_429``: a 429 costs the stub nothing, so counting it flatters the
   ratio). The target is judged on the stricter ratio. Also the planned requests still answered
   429 after their retries (drift report).
4. suite: ``python -m pytest tests/contract`` (the README's first command), serial and ``-n 2``:
   wall time, peak RSS of the largest process and of the process tree, examples per property test.

Reading it: a ratio above 1 favours this suite (offline and http: ours / theirs in cases per
second; live: wall / floor, so lower is better). ``us_generate`` is Hypothesis plus the strategy
(for invalid requests, the expectation drawn from the contract), ``us_send`` the client, transport
and fake, ``us_check`` the checks. Schemathesis' default checks re-send some requests
(``requests_per_case``). ``stub_ms_per_request`` is the floor under both sides of section 2. The
live ``ratio`` is the pytest process' wall time; ``ratio_in_run`` leaves out start-up and
collection. The sides alternate: in section 1, one round per seed, summed (per-example cost depends
on the examples a seed leads to); in section 4 the fastest of ``--repeat`` runs is kept (a shared
machine's noise only ever adds time).

The last line of stdout is one JSON object holding every figure (``--json-only`` prints only it),
so CI can keep a history; the exit status is 1 when a section crashed (its ``status: error`` says
why). Only loopback traffic; every server started is stopped; every loop and child is bounded. The
only key sent is the sentinel ``sk-bench-sentinel``: no real key is read or printed.
"""

from __future__ import annotations

import argparse
import contextlib
import http
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout that is not installed
    sys.path.insert(0, str(ROOT))

import httpx
import hypothesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from facedetect_contract.checks import CHECKS, response_schema_for, run_checks
from facedetect_contract.client import FaceDetectClient
from facedetect_contract.contracts import Contracts, load_contracts
from facedetect_contract.fake import FaceDetectFake, FakeRequest
from facedetect_contract.interaction import ENDPOINT_PATH, Interaction
from facedetect_contract.offline import fake_handler
from facedetect_contract.openapi import build_openapi
from facedetect_contract.strategies import (
    GeneratedRequest,
    invalid_requests,
    valid_requests,
)

SENTINEL_KEY = "sk-bench-sentinel"  # the only key this benchmark sends, to loopback only
UNROUTABLE_BASE = "http://127.0.0.1:9/api/v1"  # in-process runs: a loopback URL nothing serves
LIVE_LATENCY_MS, LIVE_QPS = 300, 5
TARGETS = {"offline": 3.0, "http": 2.0, "live": 1.3, "suite_seconds": 15.0, "examples": 200}
SUBPROCESS_TIMEOUT = 900  # seconds; a hung child is killed, never waited on forever

Body = Callable[[Any], None]


# --- the common harness ----------------------------------------------------------------------


def run_given(
    strategy: st.SearchStrategy[Any], cases: int, body: Body, seed: int
) -> tuple[int, float]:
    """Run ``body`` on ``cases`` examples of ``strategy`` drawn from ``seed``: (run, seconds)."""
    count = 0

    @hypothesis.seed(seed)
    @settings(
        max_examples=cases,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(value: Any) -> None:
        nonlocal count
        count += 1
        body(value)

    start = time.perf_counter()
    run()
    return count, time.perf_counter() - start


@dataclass
class Tally:
    """One side's cases and seconds (in all, and per step), summed over the seeds it ran."""

    cases: int = 0
    seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)
    failing: int = 0
    requests: int = 0
    failures: set[str] = field(default_factory=set)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.steps[name] = self.steps.get(name, 0.0) + time.perf_counter() - start

    def add(self, cases: int, seconds: float) -> None:
        self.cases += cases
        self.seconds += seconds

    def figures(self) -> dict[str, Any]:
        per_case = 1e6 / max(self.cases, 1)
        send_s, check_s = self.steps.get("send", 0.0), self.steps.get("check", 0.0)
        return {
            "cases": self.cases,
            "seconds": round(self.seconds, 3),
            "cases_per_s": per_second(self.cases, self.seconds),
            "us_generate": round((self.seconds - send_s - check_s) * per_case),
            "us_send": round(send_s * per_case),
            "us_check": round(check_s * per_case),
            "failing_cases": self.failing,
        }


def per_second(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def ratio(ours: float | None, theirs: float | None) -> float | None:
    if not ours or not theirs:
        return None
    return round(ours / theirs, 2)


# --- this suite, offline ---------------------------------------------------------------------


def our_side(
    client: FaceDetectClient,
    contracts: Contracts,
    cases: int,
    kind: str,
    *,
    seed: int,
    tally: Tally,
) -> list[Interaction]:
    """Generate, send and check ``cases`` requests of ``kind`` (valid or invalid)."""
    strategy = valid_requests(contracts) if kind == "valid" else invalid_requests(contracts)
    interactions: list[Interaction] = []

    def body(request: GeneratedRequest) -> None:
        with tally.step("send"):
            interaction = request.send(client, retry=False)
        with tally.step("check"):
            violations = run_checks(interaction, contracts)
            status = interaction.response.status
            # The test's own assertions (tests/contract/test_requests.py), beside the checks.
            wrong = status not in (200, 400) if kind == "valid" else status >= 500
        tally.failing += bool(violations) or wrong
        interactions.append(interaction)

    tally.add(*run_given(strategy, cases, body, seed))
    return interactions


def offline_client(fake: FaceDetectFake, contracts: Contracts) -> FaceDetectClient:
    return FaceDetectClient(
        base_url=UNROUTABLE_BASE,
        environ={"DASHSCOPE_API_KEY": SENTINEL_KEY},
        transport=httpx.MockTransport(fake_handler(fake)),
        sleep=lambda _seconds: None,
        contracts=contracts,
    )


def validation_cost(interactions: list[Interaction], contracts: Contracts) -> dict[str, Any]:
    """Microseconds to judge one recorded response: every check, and the schema alone, by the
    reference (jsonschema, collecting errors) and by ``Contracts.is_valid`` (the fast path)."""
    if not interactions:
        return {}
    pairs = [
        (response_schema_for(i), i.response.body) for i in interactions if i.response.body_is_json
    ]
    return {
        "responses": len(interactions),
        "us_run_checks": _us_per_item(lambda i: run_checks(i, contracts), interactions),
        "us_schema_jsonschema": _us_per_item(
            lambda pair: list(contracts.validator(pair[0]).iter_errors(pair[1])), pairs
        ),
        "us_schema_is_valid": _us_per_item(lambda pair: contracts.is_valid(*pair), pairs),
        "fast_schemas": sorted(contracts.fast_schemas),
        "validators_agree": all(
            contracts.is_valid(name, body) == contracts.validator(name).is_valid(body)
            for name, body in pairs
        ),
    }


def _us_per_item(function: Callable[[Any], Any], items: list[Any], budget: float = 0.3) -> float:
    """Mean microseconds of ``function`` over ``items``, repeated for about ``budget`` seconds."""
    if not items:
        return 0.0
    done, start = 0, time.perf_counter()
    for _round in range(1000):  # bounded, whatever the clock does
        for item in items:
            function(item)
        done += len(items)
        if time.perf_counter() - start >= budget:
            break
    return round((time.perf_counter() - start) / done * 1e6, 1)


# --- Schemathesis, offline -------------------------------------------------------------------


def wsgi_app(fake: FaceDetectFake, document: dict[str, Any]) -> Callable[..., list[bytes]]:
    """The fake as a WSGI app (and the OpenAPI document at /openapi.json), for Schemathesis."""
    served = json.dumps(document).encode()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/openapi.json":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [served]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        content = environ["wsgi.input"].read(length) if length else b""
        headers = {
            name[5:].replace("_", "-").lower(): value
            for name, value in environ.items()
            if name.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        if path.endswith(ENDPOINT_PATH):
            answer = fake(FakeRequest(environ["REQUEST_METHOD"], headers, content))
        else:
            answer = fake.error(404, "NotFound", "Nothing here.")
        phrase = http.HTTPStatus(answer.status).phrase
        start_response(f"{answer.status} {phrase}", list(answer.headers.items()))
        return [answer.body]

    return app


def loopback_document(base_url: str) -> dict[str, Any]:
    """The committed OpenAPI document with its servers replaced by a loopback one."""
    document = build_openapi()
    document["servers"] = [{"url": base_url}]
    return document


def schemathesis_side(
    fake: FaceDetectFake, cases: int, mode: str, *, seed: int, tally: Tally
) -> None:
    """Schemathesis: ``cases`` generated cases, each sent and judged by every default check."""
    import schemathesis
    from schemathesis import GenerationMode

    document = loopback_document(UNROUTABLE_BASE)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", wsgi_app(fake, document))
    operation = schema[ENDPOINT_PATH]["POST"]
    generation_mode = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
    headers = {"Authorization": f"Bearer {SENTINEL_KEY}"}
    served_before = fake.requests

    def body(case: Any) -> None:
        with tally.step("send"):
            response = case.call(headers=headers)
        with tally.step("check"):
            try:
                case.validate_response(
                    response, headers=headers, transport_kwargs={"headers": dict(headers)}
                )
            except (AssertionError, BaseExceptionGroup) as failure:  # one failed check, or more
                tally.failing += 1
                for one in getattr(failure, "exceptions", [failure]):
                    tally.failures.add(str(getattr(one, "title", type(one).__name__)))

    strategy = operation.as_strategy(generation_mode=generation_mode)
    tally.add(*run_given(strategy, cases, body, seed))
    tally.requests += fake.requests - served_before


def schemathesis_checks() -> list[str]:
    from schemathesis.checks import CHECKS as ST_CHECKS

    return [check.__name__ for check in ST_CHECKS.get_all()]


def section_offline(cases: int, repeat: int) -> dict[str, Any]:
    contracts = load_contracts()
    fake = FaceDetectFake(api_keys={SENTINEL_KEY}, contracts=contracts)
    result: dict[str, Any] = {"cases": cases, "repeat": repeat, "ours": {}, "schemathesis": {}}
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        schemathesis_available = False
    else:
        schemathesis_available = True
    interactions: list[Interaction] = []
    with offline_client(fake, contracts) as client:
        for kind, their_mode in (("valid", "positive"), ("invalid", "negative")):
            ours, theirs = Tally(), Tally()
            # Alternate the sides, one seed per round, the same seeds for both: per-example cost
            # depends on the examples a seed leads to, and a shared machine's load drifts.
            for seed in range(repeat):
                interactions.extend(
                    our_side(client, contracts, cases, kind, seed=seed, tally=ours)[:cases]
                )
                if schemathesis_available:
                    schemathesis_side(fake, cases, their_mode, seed=seed, tally=theirs)
            result["ours"][kind] = ours.figures()
            if schemathesis_available:
                result["schemathesis"][their_mode] = {
                    **theirs.figures(),
                    "requests_per_case": round(theirs.requests / max(theirs.cases, 1), 2),
                    "failures": sorted(theirs.failures),
                }
    result["ours"]["checks"] = sorted(CHECKS)
    result["validation"] = validation_cost(interactions, contracts)
    if schemathesis_available:
        result["schemathesis"]["checks"] = schemathesis_checks()
        ours, theirs = result["ours"], result["schemathesis"]
        result["ratio_valid"] = ratio(
            ours["valid"]["cases_per_s"], theirs["positive"]["cases_per_s"]
        )
        result["ratio_invalid"] = ratio(
            ours["invalid"]["cases_per_s"], theirs["negative"]["cases_per_s"]
        )
        ours_total = ours["valid"]["seconds"] + ours["invalid"]["seconds"]
        theirs_total = theirs["positive"]["seconds"] + theirs["negative"]["seconds"]
        result["ratio"] = ratio(theirs_total, ours_total)
    else:
        result["schemathesis"] = {"status": "not available", "reason": "schemathesis not installed"}
        result["ratio"] = None
    return result


def profile_offline(cases: int, path: Path) -> int:
    """Profile this suite's offline side (both kinds) with pyinstrument; write the text report."""
    from pyinstrument import Profiler

    contracts = load_contracts()
    fake = FaceDetectFake(api_keys={SENTINEL_KEY}, contracts=contracts)
    with offline_client(fake, contracts) as client, Profiler() as profiler:
        for kind in ("valid", "invalid"):
            our_side(client, contracts, cases, kind, seed=0, tally=Tally())
    path.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
    print(f"profile of {cases} valid and {cases} invalid cases written to {path}")
    return 0


# --- over HTTP -------------------------------------------------------------------------------


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
        from facedetect_contract.fake import CatalogImages
        from facedetect_contract.server import serve_in_thread
    except ImportError as exc:
        return {"status": "not available", "reason": f"stub server: {exc}"}
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        return {"status": "not available", "reason": "schemathesis not installed"}
    contracts = load_contracts()
    result: dict[str, Any] = {"cases": cases}
    # The stub answers with the offline image catalogue, as the in-process fake does: no download.
    with (
        serve_in_thread(api_keys=[SENTINEL_KEY], images=CatalogImages(contracts)) as server,
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
        theirs = run_child(command, env=_child_env(server.base_url))
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
                str(Path(__file__).resolve()),
                "--http-client",
                server.base_url,
                "--valid",
                str(valid),
                "--invalid",
                str(generated - valid),
            ],
            env=_child_env(server.base_url),
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


def _child_env(base_url: str) -> dict[str, str]:
    """The environment of a child: the sentinel key and a loopback base URL, nothing else new."""
    env = dict(os.environ)
    env["DASHSCOPE_API_KEY"] = SENTINEL_KEY
    env["DASHSCOPE_HTTP_BASE_URL"] = base_url
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("PYTEST_ADDOPTS", None)
    return env


def warm_pytest() -> dict[str, Any]:
    """Collect the tests once with bytecode writes allowed, before any timed pytest child.

    pytest rewrites the assertions of every plugin's distribution (Hypothesis's among them) and
    caches the result as .pyc; with PYTHONDONTWRITEBYTECODE=1 (set on these machines) nothing is
    cached, and each start pays ~0.9 s rewriting Hypothesis again. One collection fills the cache,
    as any earlier run does on a default Python; the timed children keep the caller's environment.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    run = run_child([*command, "tests"], env=env)
    return {
        "seconds": run["seconds"],
        "exit_code": run["returncode"],
        "bytecode_writes_forbidden": os.environ.get("PYTHONDONTWRITEBYTECODE", "") != "",
    }


# --- live mode near the rate limit -----------------------------------------------------------


def live_mode_available() -> str | None:
    """None when ``pytest --live`` exists, else why not."""
    plugin = ROOT / "facedetect_contract" / "plugin.py"
    live_tests = ROOT / "tests" / "contract" / "test_live.py"
    if '"--live"' not in plugin.read_text(encoding="utf-8"):
        return "live mode (--live in facedetect_contract/plugin.py) has not landed"
    if not live_tests.exists():
        return "tests/contract/test_live.py has not landed"
    return None


def section_live() -> dict[str, Any]:
    missing = live_mode_available()
    if missing is not None:
        return {"status": "not available", "reason": missing}
    try:
        from facedetect_contract.fake import CatalogImages
        from facedetect_contract.server import serve_in_thread
    except ImportError as exc:
        return {"status": "not available", "reason": f"stub server: {exc}"}
    contracts = load_contracts()
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
            images=CatalogImages(contracts),
            response_hook=count,
        ) as server,
        tempfile.TemporaryDirectory(prefix="facedetect-bench-live-") as scratch,
    ):
        command = [
            sys.executable,
            "-m",
            "pytest",
            "tests/contract/test_live.py",
            "--live",
            "--base-url",
            server.base_url,
            "-q",
            "-p",
            "no:cacheprovider",
            "--drift-report",
            str(Path(scratch) / "live.json"),
        ]
        run = run_child(command, env=_child_env(server.base_url))
        requests = server.requests_served
        throttled = server.throttled
        report_file = Path(scratch) / "live.json"
        live_report = json.loads(report_file.read_text()) if report_file.exists() else {}
    floors = live_floors(requests, throttled, run["seconds"], live_report.get("duration_s"))
    outcomes: dict[str, int] = {}
    for planned in live_report.get("requests", []):
        outcomes[planned.get("outcome", "?")] = outcomes.get(planned.get("outcome", "?"), 0) + 1
    return {
        "latency_ms": LIVE_LATENCY_MS,
        "qps": LIVE_QPS,
        "requests": requests,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "throttled_429": throttled,
        # A planned request still answered 429 after its retries: the live run's "throttled".
        "unretried_429": outcomes.get("throttled", 0) if live_report else None,
        "outcomes": outcomes,
        "seconds": run["seconds"],
        **floors,
        "exit_code": run["returncode"],
        "summary": _last_line(run["stdout"]),
    }


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


# --- the offline suite as users run it -------------------------------------------------------


def section_suite(repeat: int) -> dict[str, Any]:
    base = [sys.executable, "-m", "pytest", "tests/contract", "-q", "-p", "no:cacheprovider"]
    env = _child_env(UNROUTABLE_BASE)
    serial: dict[str, Any] = {}
    parallel: dict[str, Any] = {}
    examples: list[int] = []
    for _round in range(repeat):  # alternate, keep each one's fastest run: the host may be shared
        # --hypothesis-show-statistics only adds the per-test example counts at the end.
        run = run_child([*base, "--hypothesis-show-statistics"], env=env)
        if not examples:
            examples = [int(n) for n in re.findall(r"- (\d+) passing, \d+ failing", run["stdout"])]
        if not serial or run["seconds"] < serial["seconds"]:
            serial = run
        run = run_child([*base, "-n", "2"], env=env)
        if not parallel or run["seconds"] < parallel["seconds"]:
            parallel = run
    return {
        "command": "python -m pytest tests/contract",
        "repeat": repeat,
        "serial_seconds": serial["seconds"],
        "serial_exit_code": serial["returncode"],
        "serial_peak_rss_mb": serial["peak_rss_mb"],
        "serial_tests": _passed(serial["stdout"]),
        "n2_seconds": parallel["seconds"],
        "n2_exit_code": parallel["returncode"],
        "n2_peak_rss_mb": parallel["peak_rss_mb"],
        "n2_peak_tree_rss_mb": parallel["peak_tree_rss_mb"],
        "property_tests": len(examples),
        "min_examples_per_property": min(examples) if examples else None,
    }


def _passed(output: str) -> int | None:
    match = re.search(r"(\d+) passed", output)
    return int(match.group(1)) if match else None


# --- running children ------------------------------------------------------------------------


def run_child(command: list[str], *, env: dict[str, str]) -> dict[str, Any]:
    """Run ``command`` in ROOT: wall seconds, output, exit code and peak memory; killed after
    ``SUBPROCESS_TIMEOUT`` seconds."""
    start = time.perf_counter()
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err) as child,
    ):
        sampler = _TreeSampler(child.pid)
        sampler.start()
        try:
            child.wait(timeout=SUBPROCESS_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        finally:
            sampler.stop()
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    return {
        "seconds": round(seconds, 2),
        "returncode": child.returncode,
        "stdout": stdout,
        "stderr": stderr,
        "peak_rss_mb": _mb(max(sampler.hwm_kb.values(), default=0)),
        "peak_tree_rss_mb": _mb(sampler.tree_peak_kb),
    }


def _mb(kilobytes: int) -> float | None:
    return round(kilobytes / 1024, 1) if kilobytes else None


class _TreeSampler:
    """Every 50 ms, the memory of a process and its descendants, from Linux's /proc.

    ``hwm_kb``: each process's own peak (VmHWM), so the largest process is known; unlike
    ``ru_maxrss`` of a child, it does not start from the forking parent's size. ``tree_peak_kb``:
    the largest sum of the tree's resident sets seen. Elsewhere both stay empty (reported null).
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.hwm_kb: dict[int, int] = {}
        self.tree_peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        if Path("/proc/self/status").exists():
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _run(self) -> None:
        while True:  # until stop(); the child is bounded by SUBPROCESS_TIMEOUT
            self._sample()
            if self._stop.wait(0.05):
                return

    def _sample(self) -> None:
        parents: dict[int, int] = {}
        status: dict[int, dict[str, str]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, KeyError):
                lines = (entry / "status").read_text().splitlines()
                values = dict(line.split(":", 1) for line in lines if ":" in line)
                parents[int(entry.name)] = int(values["PPid"])
                status[int(entry.name)] = values
        tree, frontier = {self.pid}, [self.pid]
        while frontier:  # bounded: each pid joins the tree once
            parent = frontier.pop()
            for pid, ppid in parents.items():
                if ppid == parent and pid not in tree:
                    tree.add(pid)
                    frontier.append(pid)
        total = 0
        for pid in tree & status.keys():
            values = status[pid]
            total += int(values.get("VmRSS", "0 kB").split()[0])
            hwm = int(values.get("VmHWM", "0 kB").split()[0])
            self.hwm_kb[pid] = max(self.hwm_kb.get(pid, 0), hwm)
        self.tree_peak_kb = max(self.tree_peak_kb, total)


# --- the report ------------------------------------------------------------------------------


def targets(report: dict[str, Any]) -> dict[str, Any]:
    """Each target: the figure reached, the target, and whether it is met (None: not measured)."""
    offline, http_, live, suite = (report.get(k, {}) for k in ("offline", "http", "live", "suite"))

    def verdict(
        value: float | None, target: float, *, at_most: bool = False, unit: str = "x"
    ) -> dict[str, Any]:
        met = None if value is None else (value <= target if at_most else value >= target)
        return {"value": value, "target": target, "met": met, "unit": unit}

    unretried = live.get("unretried_429")
    live_ratio = live.get("ratio_judged", live.get("ratio"))
    live_verdict = verdict(live_ratio, TARGETS["live"], at_most=True)
    if live_verdict["met"] and unretried not in (0, None):
        live_verdict["met"] = False
    suite_seconds = suite.get("serial_seconds")
    examples = suite.get("min_examples_per_property")
    suite_verdict = verdict(suite_seconds, TARGETS["suite_seconds"], at_most=True, unit="s")
    if suite_verdict["met"] and (examples is None or examples < TARGETS["examples"]):
        suite_verdict["met"] = False
    return {
        "offline_vs_schemathesis": verdict(offline.get("ratio"), TARGETS["offline"]),
        "http_vs_schemathesis_run": verdict(http_.get("ratio"), TARGETS["http"]),
        "live_vs_floor": live_verdict,
        "suite_serial_seconds": suite_verdict,
    }


def table(report: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str]] = [("section", "ours", "schemathesis / floor", "ratio")]
    offline = report.get("offline", {})
    if "ours" in offline:
        ours, theirs = offline["ours"], offline.get("schemathesis", {})
        for kind, mode in (("valid", "positive"), ("invalid", "negative")):
            mine, other = ours.get(kind, {}), theirs.get(mode, {})
            rows.append(
                (
                    f"1 offline {kind} (cases/s)",
                    f"{mine.get('cases_per_s')} ({mine.get('cases')} cases)",
                    f"{other.get('cases_per_s')} ({other.get('cases')} cases)" if other else "-",
                    _fmt(offline.get(f"ratio_{kind}")),
                )
            )
            rows.append(
                (
                    "  us/case generate|send|check",
                    f"{mine.get('us_generate')}|{mine.get('us_send')}|{mine.get('us_check')}",
                    f"{other.get('us_generate')}|{other.get('us_send')}|{other.get('us_check')}"
                    if other
                    else "-",
                    "",
                )
            )
        rows.append(("1 offline, both kinds (time)", "", "", _fmt(offline.get("ratio"))))
        validation = offline.get("validation", {})
        rows.append(
            (
                "  validate one response (us)",
                f"run_checks {validation.get('us_run_checks')}",
                f"schema: jsonschema {validation.get('us_schema_jsonschema')}, "
                f"is_valid {validation.get('us_schema_is_valid')}",
                "",
            )
        )
    rows.extend(_section_rows("2 http", report.get("http", {})))
    rows.extend(_section_rows("3 live", report.get("live", {})))
    suite = report.get("suite", {})
    if "serial_seconds" in suite:
        rows.append(
            (
                "4 tests/contract serial (s)",
                f"{suite['serial_seconds']} ({suite.get('serial_peak_rss_mb')} MB peak)",
                f"target {TARGETS['suite_seconds']}",
                f"min examples {suite.get('min_examples_per_property')}",
            )
        )
        rows.append(
            (
                "4 tests/contract -n 2 (s)",
                f"{suite['n2_seconds']} ({suite.get('n2_peak_tree_rss_mb')} MB tree)",
                "",
                "",
            )
        )
    else:
        rows.extend(_section_rows("4 suite", suite))
    for name, verdict in report.get("targets", {}).items():
        met = {True: "met", False: "NOT met", None: "not measured"}[verdict["met"]]
        unit = verdict["unit"]
        value = "-" if verdict["value"] is None else f"{verdict['value']}{unit}"
        rows.append((f"target {name}", value, f"target {verdict['target']}{unit}", met))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _section_rows(label: str, section: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    if "status" in section:
        return [(label, section["status"], section.get("reason", ""), "")]
    if label.startswith("2") and "ours" in section:
        ours, theirs = section["ours"], section["schemathesis"]
        return [
            (
                "2 http (cases/s, wall)",
                f"{ours['cases_per_s']} ({ours['cases']} cases, {ours['seconds']} s)",
                f"{theirs['cases_per_s']} ({theirs['cases']} cases, {theirs['seconds']} s)",
                _fmt(section.get("ratio")),
            ),
            (
                "  stub round trip (ms/request)",
                str(section.get("stub_ms_per_request")),
                "(the floor under both sides)",
                "",
            ),
        ]
    if label.startswith("3") and "seconds" in section:
        return [
            (
                "3 live wall vs floor (s)",
                f"{section['seconds']} ({section['requests']} requests)",
                f"floor {section['floor_seconds']}",
                f"{_fmt(section.get('ratio'))}, 429 unretried {section.get('unretried_429')}",
            ),
            (
                "  floor without 429-answered (s)",
                f"{section['seconds']} ({section.get('requests_excluding_429')} requests)",
                f"floor {section.get('floor_seconds_excluding_429')}",
                f"{_fmt(section.get('ratio_excluding_429'))} (judged on the stricter)",
            ),
            (
                "  requests sent to last answer (s)",
                str(section.get("seconds_in_run")),
                f"floor {section['floor_seconds']}",
                f"{_fmt(section.get('ratio_in_run'))}, "
                f"without 429s {_fmt(section.get('ratio_in_run_excluding_429'))}",
            ),
        ]
    return []


def _fmt(value: Any) -> str:
    return "-" if value is None else (f"{value}x" if isinstance(value, float) else str(value))


def _guarded(function: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A section's figures; a crash becomes ``status: error`` so the other sections still report."""
    try:
        return function()
    except Exception as exc:  # a benchmark reports what broke and carries on
        return {"status": "error", "reason": f"{type(exc).__name__}: {exc}"[:500]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=500, help="cases per side and kind")
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs per side in sections 1 and 4; best kept"
    )
    parser.add_argument(
        "--profile", metavar="PATH", help="write a pyinstrument profile of section 1 (ours) to PATH"
    )
    parser.add_argument("--quick", action="store_true", help="20 cases, section 1 only")
    parser.add_argument("--skip-http", action="store_true", help="skip section 2")
    parser.add_argument("--skip-live", action="store_true", help="skip section 3")
    parser.add_argument("--skip-suite", action="store_true", help="skip section 4")
    parser.add_argument("--json-only", action="store_true", help="print only the JSON line")
    parser.add_argument("--http-client", metavar="BASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--valid", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--invalid", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.http_client:
        return http_client_main(args.http_client, args.valid, args.invalid)
    if args.cases < 1 or args.repeat < 1:
        parser.error("--cases and --repeat take a whole number >= 1")
    cases = 20 if args.quick else args.cases
    if args.profile:
        return profile_offline(cases, Path(args.profile))
    repeat = 1 if args.quick else args.repeat
    skipped = {"status": "skipped", "reason": "--quick" if args.quick else "--skip-*"}
    started = time.perf_counter()
    report: dict[str, Any] = {
        "benchmark": "facedetect-contract",
        "version": 1,
        "quick": args.quick,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
    }
    if not (args.quick or (args.skip_live and args.skip_suite)):
        report["warmup"] = _guarded(warm_pytest)
    report["offline"] = _guarded(lambda: section_offline(cases, repeat))
    report["http"] = (
        skipped if args.quick or args.skip_http else _guarded(lambda: section_http(cases))
    )
    report["live"] = skipped if args.quick or args.skip_live else _guarded(section_live)
    report["suite"] = (
        skipped if args.quick or args.skip_suite else _guarded(lambda: section_suite(repeat))
    )
    report["targets"] = targets(report)
    report["seconds"] = round(time.perf_counter() - started, 1)
    if not args.json_only:
        print(table(report))
    print(json.dumps(report, sort_keys=True))
    errors = [
        name
        for name in ("offline", "http", "live", "suite")
        if report[name].get("status") == "error"
    ]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
