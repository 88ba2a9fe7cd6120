"""Section 6, the doubles' own cost (issue 21): what a test pays for the fake over a bare respx
route, and how many answers a second the stub server gives one client.

**The fake against a bare respx route.** One ``httpx.Client`` posts the documented request (the
contract's model, its first example image, the default ratio, built from the profile's request
pointers) ``calls`` times through each of:

- ``fake``: ``mock_endpoint`` (what the plugin's ``facedetect_mock`` fixture is): respx on every
  httpx request, the endpoint's path answered by ``FaceDetectFake``;
- ``respx``: a bare ``respx.mock`` route on the same URL answering the bytes and content type the
  fake gave for that request (the same body, the same size), as a team's hand-written mock does.

The calls are split into ``rounds`` blocks a side, the sides interleaved (round ``i`` starts with
the fake when ``i`` is even, with respx when odd), after an untimed warm-up of both. Each round's
ratio is the fake's seconds over respx's; the judged ``ratio_vs_respx`` is their median (a round
slowed by a neighbour's load moves it little), ``fake_us_per_call`` and ``respx_us_per_call`` the
medians of the rounds' microseconds per call. Every answer must be the 200 expected (the fake's
body, on the bare route exactly the canned bytes): a double answering something else cheaply
would flatter its figure, so any other answer makes the section an error.

**The stub's answers per second.** ``serve_in_thread`` (127.0.0.1, an ephemeral port, the offline
image catalogue) answering one keep-alive ``httpx.Client`` sending the same request back to back
for ``seconds``: ``stub_answers_per_second`` is the 200 answers over the wall time. Not a target:
printed beside the others. Only loopback traffic (the in-process URL is ``UNROUTABLE_BASE``, on
127.0.0.1); the only key sent is the sentinel.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx

from facedetect_contract.client import endpoint_url
from facedetect_contract.contracts.loader import Contracts, load_contracts
from facedetect_contract.doubles.fake import FaceDetectFake

from .common import SENTINEL_KEY, UNROUTABLE_BASE, per_second, ratio, spread

__all__ = [
    "CALLS",
    "ROUNDS",
    "STUB_MAX_SECONDS",
    "STUB_SECONDS",
    "WrongAnswer",
    "documented_request",
    "fake_against_respx",
    "section_double",
    "stub_answers",
]

CALLS, ROUNDS = 2000, 5  # calls a side, split into as many interleaved rounds
STUB_SECONDS = 2.0  # the stub answering one client back to back
WARM_UP_CALLS = 20  # a side, untimed: imports, caches and the first connection paid before
STUB_MAX_SECONDS = 60.0  # a --stub-seconds past this is a usage error (run.py checks it)


class WrongAnswer(RuntimeError):
    """A double answered the documented request with something other than the 200 expected."""


def documented_request(contracts: Contracts) -> tuple[dict[str, str], bytes]:
    """The headers and body of the documented request, from the contract's data: its model,
    its first example image and its default ratio, with the sentinel key."""
    profile = contracts.profile
    fields = profile.request
    body: dict[str, Any] = {}
    fields.model.put(body, profile.model)
    fields.image_url.put(body, profile.example_images[0].url)
    fields.ratio.put(body, contracts.default_ratio)
    headers = {"authorization": f"Bearer {SENTINEL_KEY}", "content-type": profile.content_type}
    return headers, json.dumps(body).encode()


def _post_many(
    client: httpx.Client,
    url: str,
    request: tuple[dict[str, str], bytes],
    calls: int,
    *,
    expected: bytes | None = None,
    side: str,
) -> float:
    """Seconds for ``calls`` posts; ``WrongAnswer`` at the first answer that is not a 200 (with
    exactly ``expected`` as its body, when given)."""
    headers, content = request
    start = time.perf_counter()
    for _ in range(calls):
        answer = client.post(url, headers=headers, content=content)
        if answer.status_code != 200 or (expected is not None and answer.content != expected):
            raise WrongAnswer(
                f"{side}: the documented request was answered {answer.status_code} "
                f"({len(answer.content)} bytes), not the 200 expected"
            )
    return time.perf_counter() - start


def fake_against_respx(calls: int = CALLS, rounds: int = ROUNDS) -> dict[str, Any]:
    """The same client and request through the fake's respx mock and through a bare respx route
    answering the same bytes, interleaved in ``rounds`` rounds; the median of the rounds."""
    import respx

    from facedetect_contract.doubles.offline import mock_endpoint

    contracts = load_contracts()
    fake = FaceDetectFake(api_keys={SENTINEL_KEY}, contracts=contracts)
    url = endpoint_url(UNROUTABLE_BASE, contracts=contracts)
    request = headers, content = documented_request(contracts)
    per_round = max(calls // rounds, 1)

    with httpx.Client(trust_env=False) as client:
        # The fake's answer to the request, canned for the bare route: the same body and type.
        with mock_endpoint(fake, contracts):
            sample = client.post(url, headers=headers, content=content)
        if sample.status_code != 200:
            raise WrongAnswer(f"fake: the documented request was answered {sample.status_code}")
        canned, canned_type = sample.content, sample.headers["content-type"]

        def through_fake(count: int) -> float:
            with mock_endpoint(fake, contracts):
                return _post_many(client, url, request, count, side="fake")

        def through_respx(count: int) -> float:
            with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
                router.post(url).respond(200, headers={"content-type": canned_type}, content=canned)
                return _post_many(client, url, request, count, expected=canned, side="bare respx")

        sides: dict[str, Callable[[int], float]] = {"fake": through_fake, "respx": through_respx}
        for run_side in sides.values():
            run_side(WARM_UP_CALLS)
        seconds: dict[str, list[float]] = {"fake": [], "respx": []}
        for number in range(rounds):
            order = ("fake", "respx") if number % 2 == 0 else ("respx", "fake")
            for side in order:
                seconds[side].append(sides[side](per_round))

    ratios = [ratio(f, r) for f, r in zip(seconds["fake"], seconds["respx"], strict=True)]
    spread_ = spread(ratios)
    return {
        "calls": per_round * rounds,
        "rounds": rounds,
        "answer_bytes": len(canned),
        "fake_us_per_call": _median_us(seconds["fake"], per_round),
        "respx_us_per_call": _median_us(seconds["respx"], per_round),
        "ratios": ratios,
        "ratio_min": spread_["ratio_min"],
        "ratio_max": spread_["ratio_max"],
        "ratio_vs_respx": spread_["ratio_median"],
    }


def _median_us(seconds: list[float], calls: int) -> float:
    return round(statistics.median(seconds) / calls * 1e6, 1)


def stub_answers(seconds: float = STUB_SECONDS) -> dict[str, Any]:
    """Answers per second of the stub to one keep-alive client sending the documented request
    back to back for ``seconds`` (after one untimed request that opens the connection)."""
    from facedetect_contract.doubles.server import serve_in_thread

    contracts = load_contracts()
    request = documented_request(contracts)
    # 127.0.0.1 and an ephemeral port, answering from the offline catalogue (no download).
    with (
        serve_in_thread(api_keys=[SENTINEL_KEY], catalog=True) as server,
        httpx.Client(trust_env=False, timeout=10) as client,
    ):
        url = server.url
        _post_many(client, url, request, 1, side="stub")
        answers, start = 0, time.perf_counter()
        # Bounded by the clock: each pass is one request, itself bounded by the client's timeout.
        while time.perf_counter() - start < seconds:
            _post_many(client, url, request, 1, side="stub")
            answers += 1
        elapsed = time.perf_counter() - start
    return {
        "stub_answers": answers,
        "stub_seconds": round(elapsed, 3),
        "stub_answers_per_second": per_second(answers, elapsed),
    }


def section_double(
    calls: int = CALLS, rounds: int = ROUNDS, stub_seconds: float = STUB_SECONDS
) -> dict[str, Any]:
    """Both figures of section 6: the fake against a bare respx route, then the stub."""
    started = time.perf_counter()
    result = fake_against_respx(calls, rounds)
    result.update(stub_answers(stub_seconds))
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result
