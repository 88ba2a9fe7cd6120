"""A live run inside a test: ``live_run`` drives one against the fake behind an httpx mock
transport (no socket, no waits), with the handlers that wrap the fake (``answer``,
``throttled_once``); ``live_pytest`` runs the shipped live tests as a ``pytest --live`` child run
of a pytester project. The run, judging, report and baseline tests all start from these."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from facedetect_contract.contracts.cases import DEFAULT_CASES_FILE, LiveCase, load_cases
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.doubles.fake import FaceDetectFake
from facedetect_contract.doubles.offline import fake_handler
from facedetect_contract.live.run import LiveRun, LiveSettings

__all__ = ["CONTRACTS", "KEY", "Handler", "answer", "live_pytest", "live_run", "throttled_once"]

Handler = Callable[[httpx.Request], httpx.Response]

KEY = "sk-unit-" + "ab12" * 8  # the key of every live_run (the fake knows it)
CONTRACTS = load_contracts()


def live_run(
    tmp_path: Path,
    cases: tuple[LiveCase, ...] | None = None,
    *,
    failure_shape: str = "A",
    handler: Callable[[Handler], Handler] | None = None,
    sleep: Callable[[float], None] = lambda _seconds: None,
    **settings: object,
) -> tuple[LiveRun, FaceDetectFake]:
    """A live run against the fake; ``handler`` wraps the fake's handler (drift, faults)."""
    fake = FaceDetectFake(api_keys={KEY}, failure_shape=failure_shape)
    options: dict[str, object] = {"qps": 0, "examples": 3, "record_dir": tmp_path, **settings}
    serve = fake_handler(fake)
    run = LiveRun(
        LiveSettings(**options),  # type: ignore[arg-type]
        cases or load_cases(DEFAULT_CASES_FILE, CONTRACTS),
        environ={"DASHSCOPE_API_KEY": KEY},
        transport=httpx.MockTransport(handler(serve) if handler is not None else serve),
        sleep=sleep,
    )
    return run, fake


def answer(status: int, body: dict[str, Any], **headers: str) -> httpx.Response:
    """An answer of ``status`` with the JSON ``body``, and ``headers`` beside its Content-Type."""
    return httpx.Response(
        status, json=body, headers={"content-type": "application/json", **headers}
    )


def throttled_once(serve: Handler) -> Handler:
    """429 with ``Retry-After: 0`` to the first attempt of every request, then the fake."""
    seen: set[tuple[str | None, bytes]] = set()
    lock = threading.Lock()

    def handle(request: httpx.Request) -> httpx.Response:
        key = (request.headers.get("authorization"), request.read())
        with lock:
            first = key not in seen
            seen.add(key)
        if first:
            body = {"code": "Throttling.RateQuota", "message": "Requests rate limit exceeded"}
            return answer(429, {**body, "request_id": "r-429"}, **{"retry-after": "0"})
        return serve(request)

    return handle


def live_pytest(pytester: pytest.Pytester, base_url: str, *args: str) -> pytest.RunResult:
    """``pytest --live`` in the pytester project against ``base_url``: its cases.json alone (no
    generated example), unpaced, no cache; ``args`` after."""
    return pytester.runpytest(
        "--live",
        "--dashscope-base-url",
        base_url,
        "--live-cases",
        "cases.json",
        "--live-examples",
        "0",
        "--live-qps",
        "0",
        "-p",
        "no:cacheprovider",
        *args,
    )
