"""What a live run sends: its cases, the free negative probes, and generated invalid requests.

Request failures are not billed (API file section 6), so the probes cost nothing on an endpoint
that keeps its contract: each breaks one documented rule. The generated requests come from
``strategies.invalid_requests`` with a fixed seed, so a run sends the same ones every night and
a finding can be reproduced, one per mutation family so that few examples cover many kinds. Each
planned request carries the expectation its contract implies; ``budget.may_be_billed`` decides
from it whether the request takes a slot of the budget.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from hypothesis import HealthCheck, Phase, given, settings

from .budget import may_be_billed
from .cases import LiveCase
from .contracts import Contracts, load_contracts
from .interaction import Expectation
from .strategies import BASE_HEADERS, GeneratedRequest, expectation_for, invalid_requests

__all__ = [
    "PROBE_NAMES",
    "PlannedRequest",
    "case_requests",
    "example_names",
    "generated_requests",
    "mutation_family",
    "negative_probes",
]

Kind = Literal["case", "probe", "example"]

PROBE_NAMES = (
    "no-key",
    "bad-key",
    "invalid-ratio",
    "missing-image-url",
    "malformed-json",
    "unknown-model",
    "async-header",
)
UNKNOWN_MODEL = "emo-detect-v0-unknown"
INVALID_RATIO = "16:9"
MALFORMED_JSON = b'{"model": "emo-detect-v1", "input": '


@dataclass(frozen=True)
class PlannedRequest:
    """One request of the live run: its id, what it is, and what the docs say it gets back."""

    name: str
    kind: Kind
    request: GeneratedRequest
    case: LiveCase | None = None

    @property
    def description(self) -> str:
        return self.request.description

    @property
    def expectation(self) -> Expectation | None:
        return self.request.expectation

    @property
    def keyed(self) -> bool:
        """Whether it is sent with the configured key: nothing else can be billed."""
        return self.request.auth == "key"

    @property
    def billable(self) -> bool:
        """Whether the request could be billed, so it must be reserved against the budget."""
        return may_be_billed(
            auth=self.request.auth, expectation=self.expectation, headers=self.request.headers
        )


def case_requests(cases: Sequence[LiveCase]) -> tuple[PlannedRequest, ...]:
    """One planned request per live case: the documented request with the case's image."""
    return tuple(
        PlannedRequest(
            f"case-{case.slug}",
            "case",
            GeneratedRequest(
                f"live case {case.name!r}: {case.image_url} at {case.ratio}, expect {case.expect}",
                case.body(),
            ),
            case,
        )
        for case in cases
    )


def _with_status(expectation: Expectation | None, status: int) -> Expectation | None:
    return (
        None
        if expectation is None
        else dataclasses.replace(expectation, statuses=frozenset({status}))
    )


def negative_probes(
    image_url: str, contracts: Contracts | None = None
) -> tuple[PlannedRequest, ...]:
    """The free probes, in ``PROBE_NAMES`` order, each breaking one documented rule."""
    contracts = contracts or load_contracts()
    body: dict[str, Any] = {
        "model": contracts.models[0],
        "input": {"image_url": image_url},
        "parameters": {"ratio": contracts.default_ratio},
    }
    requests = {
        "no-key": GeneratedRequest("no Authorization header: 401 InvalidApiKey", body, auth="none"),
        "bad-key": GeneratedRequest(
            "an API key the endpoint does not know: 401 InvalidApiKey", body, auth="invalid"
        ),
        "invalid-ratio": GeneratedRequest(
            f"parameters.ratio {INVALID_RATIO!r}: 400 InvalidParameter",
            {**body, "parameters": {"ratio": INVALID_RATIO}},
        ),
        "missing-image-url": GeneratedRequest(
            "input without image_url: 400", {**body, "input": {}}
        ),
        "malformed-json": GeneratedRequest(
            "a body that is not JSON: 400", None, content=MALFORMED_JSON
        ),
        "unknown-model": GeneratedRequest(
            f"model {UNKNOWN_MODEL!r}: a documented 4xx error body",
            {**body, "model": UNKNOWN_MODEL},
        ),
        "async-header": GeneratedRequest(
            "X-DashScope-Async: enable on a synchronous API: a documented 4xx error body",
            body,
            headers={**BASE_HEADERS, "x-dashscope-async": "enable"},
        ),
    }
    # The docs name the status for these two, though not one code: pin the status only.
    statuses = {"missing-image-url": 400, "malformed-json": 400}
    planned = []
    for name in PROBE_NAMES:
        request = requests[name]
        expectation = expectation_for(request, contracts)
        if name in statuses:
            expectation = _with_status(expectation, statuses[name])
        planned.append(
            PlannedRequest(
                f"probe-{name}", "probe", dataclasses.replace(request, expectation=expectation)
            )
        )
    return tuple(planned)


def example_names(count: int) -> tuple[str, ...]:
    """The ids of ``count`` generated requests: known before any is drawn (test ids)."""
    width = max(2, len(str(count)))
    return tuple(f"example-{index:0{width}d}" for index in range(1, count + 1))


# What ``strategies.invalid_requests`` draws inside one mutation family (a value, a field name,
# a header value), removed from a description to leave the family. Descriptions not matched
# here (a field missing, null, empty or huge; no Authorization; an unknown key) are families.
_FAMILY_OF = (
    (re.compile(r"(/\S*) of type \w+"), r"\1 of a wrong type"),
    (re.compile(r"(/\S*) not in enum: .*", re.DOTALL), r"\1 not in enum"),
    (re.compile(r"(/\S*) = .*", re.DOTALL), r"\1 not a URL the contract accepts"),
    (re.compile(r"unknown field (\S*/)[^/]*"), r"unknown field in \1"),
    (re.compile(r"Content-Type .*", re.DOTALL), "Content-Type not JSON"),
    (re.compile(r"malformed JSON .*", re.DOTALL), "malformed JSON"),
    (re.compile(r"JSON \w+ instead of an object"), "JSON not an object"),
    (re.compile(r"([a-z0-9-]+): .*", re.DOTALL), r"\1 header sent"),
)


def mutation_family(description: str) -> str:
    """The kind of mutation a generated request's description names, without the drawn value.

    ``x-dashscope-async: enable`` and ``x-dashscope-async: disable`` are one family; so are two
    malformed bodies, or two wrong types of one field.
    """
    for pattern, family in _FAMILY_OF:
        match = pattern.fullmatch(description)
        if match is not None:
            return match.expand(family)
    return description


def generated_requests(
    count: int, contracts: Contracts | None = None
) -> tuple[PlannedRequest, ...]:
    """``count`` requests from ``strategies.invalid_requests``, the same every run.

    One per mutation family while there are families left, so a few examples cover as many
    kinds of invalid request as they can; then distinct ones of families already drawn.
    """
    if count <= 0:
        return ()
    contracts = contracts or load_contracts()
    by_family: dict[str, GeneratedRequest] = {}
    others: dict[str, GeneratedRequest] = {}
    # Families repeat often; widen the search only when too few were drawn.
    for budget in (count * 5, count * 25):

        @settings(
            max_examples=budget,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(invalid_requests(contracts))
        def draw(request: GeneratedRequest) -> None:
            if len(by_family) < count:
                family = mutation_family(request.description)
                if family not in by_family:
                    by_family[family] = request
                    return
            others.setdefault(request.description, request)

        draw()
        if len(by_family) >= count:
            break
    chosen = {request.description: request for request in by_family.values()}
    for description, request in others.items():
        if len(chosen) >= count:
            break
        chosen.setdefault(description, request)
    return tuple(
        PlannedRequest(name, "example", request)
        for name, request in zip(example_names(count), chosen.values(), strict=False)
    )
