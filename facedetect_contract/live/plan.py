"""What a live run sends: its cases, the free negative probes, and generated invalid requests.

Request failures are not billed, so the probes cost nothing on an endpoint that keeps its
contract: each breaks one documented rule. The generated requests come from
``strategies.invalid_requests`` with a fixed seed, so a run sends the same ones every night and a
finding can be reproduced, one per mutation family (``Mutation.key``) so that few examples cover
many kinds. Each planned request carries the expectation its contract implies (``oracle``);
``budget.may_be_billed`` decides from it whether the request takes a slot of the budget.

What is sent is the model's own request (its profile): its model name, and a ratio only for a
model that has one; a model without a ratio parameter gets no invalid-ratio probe (``probe_names``),
so nothing about a ratio it lacks is probed, or billed.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..contracts.cases import LiveCase
from ..contracts.loader import Contracts
from ..contracts.oracle import expectation_for
from ..core.interaction import Expectation
from ..core.pointers import Pointer
from ..generation.generated import GeneratedRequest, base_headers
from ..generation.mutations import Mutation
from .budget import may_be_billed

__all__ = [
    "PROBE_NAMES",
    "DrawingStopped",
    "PlannedRequest",
    "case_requests",
    "example_names",
    "generated_requests",
    "negative_probes",
    "planned_names",
    "probe_names",
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
INVALID_RATIO = "16:9"  # a ratio no version of the docs lists
_RATIO_PROBE = "invalid-ratio"  # the one probe of the ratio parameter


def probe_names(contracts: Contracts | None = None) -> tuple[str, ...]:
    """The probes a run of ``contracts`` sends, in ``PROBE_NAMES`` order: without the
    invalid-ratio probe for a model without a ratio parameter (``None``: every probe)."""
    if contracts is None or contracts.profile.has_ratio:
        return PROBE_NAMES
    return tuple(name for name in PROBE_NAMES if name != _RATIO_PROBE)


@dataclass(frozen=True)
class PlannedRequest:
    """One request of the live run: its id, what it is, and what the docs say it gets back."""

    name: str
    kind: Kind
    request: GeneratedRequest
    case: LiveCase | None = None
    repeat_of: str | None = None  # a case sent again to see it answered the same

    @property
    def description(self) -> str:
        return self.request.description

    @property
    def expectation(self) -> Expectation | None:
        return self.request.expectation

    @property
    def mutation(self) -> Mutation | None:
        return self.request.mutation

    @property
    def keyed(self) -> bool:
        """Whether it is sent with the configured key: nothing else can be billed."""
        return self.request.auth == "key"

    @property
    def billable(self) -> bool:
        """Whether the request could be billed, so it must be reserved against the budget."""
        return may_be_billed(auth=self.request.auth, expectation=self.expectation)


def case_requests(
    cases: Sequence[LiveCase], contracts: Contracts, *, repeat: bool = False
) -> tuple[PlannedRequest, ...]:
    """One planned request per live case (and, with ``repeat``, a second one for each)."""
    headers = base_headers(contracts)
    planned = []
    for case in cases:
        at = "" if case.ratio is None else f" at {case.ratio}"
        request = GeneratedRequest(
            f"live case {case.name!r}: {case.image_url}{at}, expect {case.expect}",
            case.body(contracts),
            headers,
        )
        planned.append(PlannedRequest(f"case-{case.slug}", "case", request, case))
    if repeat:
        planned += [
            PlannedRequest(
                f"{p.name}-again",
                "case",
                dataclasses.replace(p.request, description=f"{p.description} (sent again)"),
                p.case,
                repeat_of=p.name,
            )
            for p in list(planned)
        ]
    return tuple(planned)


def _expected(expectation: Expectation | None) -> str:
    """What a probe's description says it must get back."""
    if expectation is None or not expectation.must_reject:
        return "any documented answer"
    status = " or ".join(map(str, sorted(expectation.statuses or ())))
    code = " or ".join(sorted(expectation.codes or ()))
    return " ".join(part for part in (status, code) if part) or "a documented 4xx error body"


def _without(body: dict[str, Any], pointer: Pointer) -> dict[str, Any]:
    copied = copy.deepcopy(body)
    parent = pointer.parent.get(copied)
    if isinstance(parent, dict):
        parent.pop(pointer.name, None)
    return copied


def negative_probes(image_url: str, contracts: Contracts) -> tuple[PlannedRequest, ...]:
    """The free probes of the model (``probe_names``), each breaking one documented rule."""
    profile = contracts.profile
    fields = profile.request
    headers = base_headers(contracts)
    body, ratio = profile.valid_request(image_url), profile.ratio
    unknown_model = f"{profile.model}-does-not-exist"
    cut = json.dumps(body)
    requests = {
        "no-key": GeneratedRequest("no Authorization header", body, headers, auth="none"),
        "bad-key": GeneratedRequest(
            "an API key the endpoint does not know", body, headers, auth="invalid"
        ),
        "missing-image-url": GeneratedRequest(
            f"{fields.image_url} left out", _without(body, fields.image_url), headers
        ),
        "malformed-json": GeneratedRequest(
            "a body that is not JSON", None, headers, content=cut[: len(cut) // 2].encode()
        ),
        "unknown-model": GeneratedRequest(
            f"{fields.model} {unknown_model!r}",
            fields.model.put(copy.deepcopy(body), unknown_model),
            headers,
        ),
        "async-header": GeneratedRequest(
            f"{profile.async_header}: enable on a synchronous API",
            body,
            {**headers, profile.async_header: "enable"},
        ),
    }
    if ratio is not None:
        requests[_RATIO_PROBE] = GeneratedRequest(
            f"{ratio.field} {INVALID_RATIO!r}",
            ratio.field.put(copy.deepcopy(body), INVALID_RATIO),
            headers,
        )
    planned = []
    for name in probe_names(contracts):
        request = requests[name]
        expectation = expectation_for(request, contracts)
        request = dataclasses.replace(
            request,
            description=f"{request.description}: {_expected(expectation)}",
            expectation=expectation,
        )
        planned.append(PlannedRequest(f"probe-{name}", "probe", request))
    return tuple(planned)


def example_names(count: int) -> tuple[str, ...]:
    """The ids of ``count`` generated requests: known before any is drawn (test ids)."""
    width = max(2, len(str(count)))
    return tuple(f"example-{index:0{width}d}" for index in range(1, count + 1))


class DrawingStopped(Exception):
    """Drawing the examples stopped before it ended: the run's deadline came first."""


def generated_requests(
    count: int,
    contracts: Contracts,
    *,
    until: Callable[[], bool] | None = None,
) -> tuple[PlannedRequest, ...]:
    """``count`` requests (or fewer, when fewer distinct ones can be drawn) from
    ``strategies.invalid_requests``, the same every run.

    One per mutation family while there are families left, so a few examples cover as many
    kinds of invalid request as they can; then distinct ones of families already drawn.
    ``DrawingStopped`` as soon as ``until()`` is true (checked before every draw): a run past
    its deadline must not go on drawing what it cannot send.
    """
    if count <= 0:
        return ()
    # Hypothesis only here: the cases and probes, and pytest --live's start-up, need none of it.
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings  # noqa: PLC0415

    from ..generation.strategies import invalid_requests  # noqa: PLC0415

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
            verbosity=Verbosity.quiet,  # a stop is no falsifying example to print
        )
        @given(invalid_requests(contracts))
        def draw(request: GeneratedRequest) -> None:
            if until is not None and until():
                raise DrawingStopped
            family = request.mutation.key if request.mutation is not None else request.description
            if len(by_family) < count and family not in by_family:
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


def planned_names(
    cases: Iterable[LiveCase],
    examples: int,
    *,
    repeat: bool = False,
    contracts: Contracts | None = None,
) -> dict[str, tuple[str, ...]]:
    """The ids of the run's requests by kind, known before anything is drawn or sent.

    The probes are those of ``contracts``' model; without ``contracts``, cases that all carry no
    ratio (cases are checked against the model's profile when loaded) drop the ratio probe too.
    """
    cases = tuple(cases)
    if contracts is not None:
        probes = probe_names(contracts)
    elif cases and all(case.ratio is None for case in cases):
        probes = tuple(name for name in PROBE_NAMES if name != _RATIO_PROBE)
    else:
        probes = PROBE_NAMES
    slugs = [f"case-{case.slug}" for case in cases]
    return {
        "case": tuple(slugs + ([f"{s}-again" for s in slugs] if repeat else [])),
        "probe": tuple(f"probe-{name}" for name in probes),
        "example": example_names(examples),
    }
