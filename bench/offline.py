"""Section 1, offline: checked cases per second, this suite beside Schemathesis, in-process.

Requests generated from the contracts (``strategies``), exchanged with ``FaceDetectFake``
in-process (``offline.InProcessExchange``, as tests/contract/test_requests.py does: the subject is
the endpoint's contract, not the client) and judged by ``run_checks`` plus that file's
assertions, valid and invalid. Beside it, Schemathesis drawing as many cases
from the same OpenAPI document (positive and negative) and judging them with every default check
(``case.call()`` then ``case.validate_response()``, which is what ``call_and_validate()`` does,
timed apart) against the same fake served as a WSGI app. One Hypothesis harness for both
(``common.run_given``): ``given`` with ``max_examples=N``, generate phase only.

``--offline-reps`` repetitions, each one round of both kinds on both sides with the same seed
(repetition ``i``: seed ``i``), the sides alternating: ours valid, theirs positive, ours invalid,
theirs negative. Each repetition's ratio is Schemathesis' seconds over ours, both kinds together
(``ratios``); the judged ``ratio`` is their median (``ratio_min`` and ``ratio_max`` beside it),
so one repetition slowed by a neighbour's load moves it little. The per-kind figures (cases per
second, us per case) are summed over every repetition, and so is ``ratio_summed``. Also the cost
of validating one recorded response: all checks, and the schema alone (jsonschema, and
``Contracts.is_valid``'s fast path).

This suite's side (``our_side``) is also what the section 2 child runs over HTTP, and
``profile_offline`` is ``--profile``: the same side under pyinstrument.
"""

from __future__ import annotations

import http
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from facedetect_contract.checks import CHECKS, response_schema_for, run_checks
from facedetect_contract.client import FaceDetectClient
from facedetect_contract.contracts.loader import Contracts, load_contracts
from facedetect_contract.contracts.openapi import build_openapi
from facedetect_contract.core.interaction import Interaction
from facedetect_contract.doubles.fake import FaceDetectFake, FakeRequest
from facedetect_contract.doubles.offline import InProcessExchange
from facedetect_contract.generation.strategies import (
    GeneratedRequest,
    invalid_requests,
    valid_requests,
)

from .common import SENTINEL_KEY, UNROUTABLE_BASE, Tally, ratio, run_given, spread

# Seconds each validation figure is timed for; --quick, a smoke run, times each for less.
VALIDATION_BUDGET, QUICK_VALIDATION_BUDGET = 0.3, 0.05

# --- this suite, offline ---------------------------------------------------------------------


def our_side(
    client: FaceDetectClient | InProcessExchange,
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


def offline_exchange(fake: FaceDetectFake, contracts: Contracts) -> InProcessExchange:
    """The contract suite's path to the fake (its ``offline_exchange`` fixture)."""
    return InProcessExchange(fake, SENTINEL_KEY, contracts)


def validation_cost(
    interactions: list[Interaction], contracts: Contracts, budget: float = VALIDATION_BUDGET
) -> dict[str, Any]:
    """Microseconds to judge one recorded response: every check, and the schema alone, by the
    reference (jsonschema, collecting errors) and by ``Contracts.is_valid`` (the fast path);
    each figure timed for about ``budget`` seconds."""
    if not interactions:
        return {}
    # Each JSON body with the contract it is judged by (an undocumented status has none).
    judged = [i for i in interactions if i.response.body_is_json]
    pairs = [(name, i.response.body) for i in judged if (name := response_schema_for(i, contracts))]
    return {
        "responses": len(interactions),
        "seconds_per_figure": budget,
        "us_run_checks": _us_per_item(lambda i: run_checks(i, contracts), interactions, budget),
        "us_schema_jsonschema": _us_per_item(
            lambda pair: list(contracts.validator(pair[0]).iter_errors(pair[1])), pairs, budget
        ),
        "us_schema_is_valid": _us_per_item(lambda pair: contracts.is_valid(*pair), pairs, budget),
        "fast_schemas": sorted(contracts.fast_schemas),
        "validators_agree": all(
            contracts.is_valid(name, body) == contracts.validator(name).is_valid(body)
            for name, body in pairs
        ),
    }


def _us_per_item(
    function: Callable[[Any], Any], items: list[Any], budget: float = VALIDATION_BUDGET
) -> float:
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
    endpoint_path = fake.contracts.profile.path

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
        if path.endswith(endpoint_path):
            answer = fake(FakeRequest(environ["REQUEST_METHOD"], headers, content))
        else:
            answer = fake.error(404, "NotFound", "Nothing here.")
        phrase = http.HTTPStatus(answer.status).phrase
        start_response(f"{answer.status} {phrase}", list(answer.headers.items()))
        return [answer.body]

    return app


def loopback_document(base_url: str, contracts: Contracts | None = None) -> dict[str, Any]:
    """The committed OpenAPI document (of ``contracts``, the project's by default) with its
    servers replaced by a loopback one."""
    document = build_openapi(contracts or load_contracts())
    document["servers"] = [{"url": base_url}]
    return document


def schemathesis_side(
    fake: FaceDetectFake, cases: int, mode: str, *, seed: int, tally: Tally
) -> None:
    """Schemathesis: ``cases`` generated cases, each sent and judged by every default check."""
    import schemathesis
    from schemathesis import GenerationMode

    document = loopback_document(UNROUTABLE_BASE, fake.contracts)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", wsgi_app(fake, document))
    profile = fake.contracts.profile
    operation = schema[profile.path][profile.method]
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


def section_offline(
    cases: int, repetitions: int, validation_budget: float = VALIDATION_BUDGET
) -> dict[str, Any]:
    """``repetitions`` rounds of both sides, round ``i`` with seed ``i`` on both; each round's
    ratio (theirs / ours in seconds, both kinds together) is kept, the median is judged. The
    cost of validation is timed for ``validation_budget`` seconds a figure."""
    contracts = load_contracts()
    fake = FaceDetectFake(api_keys={SENTINEL_KEY}, contracts=contracts)
    result: dict[str, Any] = {
        "cases": cases,
        "repetitions": repetitions,
        "ours": {},
        "schemathesis": {},
    }
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        schemathesis_available = False
    else:
        schemathesis_available = True
    kinds = (("valid", "positive"), ("invalid", "negative"))
    ours = {kind: Tally() for kind, _mode in kinds}
    theirs = {mode: Tally() for _kind, mode in kinds}
    rounds: list[dict[str, Any]] = []
    interactions: list[Interaction] = []
    client = offline_exchange(fake, contracts)
    # One repetition: both kinds, both sides alternating, the same seed for both sides (the
    # per-example cost depends on the examples a seed leads to); a shared machine's load
    # drifts between repetitions, so each one's ratio is kept and the median judged.
    for seed in range(repetitions):
        ours_before = sum(tally.seconds for tally in ours.values())
        theirs_before = sum(tally.seconds for tally in theirs.values())
        for kind, their_mode in kinds:
            sent = our_side(client, contracts, cases, kind, seed=seed, tally=ours[kind])
            interactions.extend(sent[:cases])
            if schemathesis_available:
                schemathesis_side(fake, cases, their_mode, seed=seed, tally=theirs[their_mode])
        ours_s = sum(tally.seconds for tally in ours.values()) - ours_before
        theirs_s = sum(tally.seconds for tally in theirs.values()) - theirs_before
        rounds.append(
            {
                "seed": seed,
                "ours_s": round(ours_s, 3),
                "theirs_s": round(theirs_s, 3) if schemathesis_available else None,
                "ratio": ratio(theirs_s, ours_s) if schemathesis_available else None,
            }
        )
    for kind, their_mode in kinds:
        result["ours"][kind] = ours[kind].figures()
        if schemathesis_available:
            tally = theirs[their_mode]
            result["schemathesis"][their_mode] = {
                **tally.figures(),
                "requests_per_case": round(tally.requests / max(tally.cases, 1), 2),
                "failures": sorted(tally.failures),
            }
    result["ours"]["checks"] = sorted(CHECKS)
    result["validation"] = validation_cost(interactions, contracts, validation_budget)
    result["per_repetition"] = rounds
    result["ratios"] = [one["ratio"] for one in rounds]
    result.update(spread(result["ratios"]))
    if schemathesis_available:
        result["schemathesis"]["checks"] = schemathesis_checks()
        mine, other = result["ours"], result["schemathesis"]
        result["ratio_valid"] = ratio(
            mine["valid"]["cases_per_s"], other["positive"]["cases_per_s"]
        )
        result["ratio_invalid"] = ratio(
            mine["invalid"]["cases_per_s"], other["negative"]["cases_per_s"]
        )
        # Summed over every repetition, as the per-kind figures are; the judged figure is the
        # median of the repetitions' ratios.
        ours_total = mine["valid"]["seconds"] + mine["invalid"]["seconds"]
        theirs_total = other["positive"]["seconds"] + other["negative"]["seconds"]
        result["ratio_summed"] = ratio(theirs_total, ours_total)
    else:
        result["schemathesis"] = {"status": "not available", "reason": "schemathesis not installed"}
        result["ratio_valid"] = result["ratio_invalid"] = result["ratio_summed"] = None
    result["ratio"] = result["ratio_median"]
    return result


def profile_offline(cases: int, path: Path) -> int:
    """Profile this suite's offline side (both kinds) with pyinstrument; write the text report."""
    from pyinstrument import Profiler

    contracts = load_contracts()
    fake = FaceDetectFake(api_keys={SENTINEL_KEY}, contracts=contracts)
    client = offline_exchange(fake, contracts)
    with Profiler() as profiler:
        for kind in ("valid", "invalid"):
            our_side(client, contracts, cases, kind, seed=0, tally=Tally())
    path.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
    print(f"profile of {cases} valid and {cases} invalid cases written to {path}")
    return 0
