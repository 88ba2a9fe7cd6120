"""The registry: how a check is declared, what it is given, and how the registered checks run.

A check is a function named after the documented claim it asserts, registered with ``@check``
under that name with the ids of its rule's sources (the endpoint profile's). It judges one answer
(``scope="answer"``, the default: it receives the interaction and a ``CheckContext``) or a whole
run (``scope="run"``, also spelled ``@run_check``: it receives a ``RunContext``), and yields
``Finding``s. One ``Check`` type serves both scopes, so a finding becomes a ``Violation`` (the
check's name, the interaction's name, the rule's source) the same way wherever it was found.

The registries keep the order checks were registered in, which is the order they run in and the
order of a report's findings: ``checks/__init__`` imports the check modules in a fixed order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from ..contracts.cases import LiveCase
from ..contracts.loader import Contracts
from ..contracts.outcome import Outcome, classify
from ..core.interaction import Interaction
from ..core.violations import Severity, Violation

__all__ = [
    "CHECKS",
    "RUN_CHECKS",
    "Check",
    "CheckContext",
    "CheckFunction",
    "CheckScope",
    "Finding",
    "RunCheck",
    "RunCheckFunction",
    "RunContext",
    "check",
    "run_check",
    "run_checks",
    "run_run_checks",
]


@dataclass(frozen=True)
class Finding:
    """What a check found, before it is attributed to a check and an interaction."""

    pointer: str
    received: str
    documented: str
    title: str
    severity: Severity = Severity.BREAKING
    source: str | None = None  # overrides the check's sources (a cases file entry, a fixture)
    interaction: str | None = None  # run checks: the interaction it is about


@dataclass(frozen=True)
class CheckContext:
    """What a check may look at besides the interaction itself."""

    contracts: Contracts
    outcome: Outcome | None = None  # set by run_checks: the interaction's outcome
    case: LiveCase | None = None  # a live case: its expect and expected boxes
    case_source: str = ""  # where the case comes from, for the findings about it
    recording: Interaction | None = None  # the fixture that answered the same request

    def outcome_of(self, interaction: Interaction) -> Outcome:
        """The interaction's outcome: the one ``run_checks`` put here, or (a check called on its
        own) classified now."""
        return self.outcome or classify(interaction.response, self.contracts)


@dataclass(frozen=True)
class RunContext:
    """Every judged answer of a run, with the case each answered (``None`` for probes)."""

    contracts: Contracts
    answers: Sequence[tuple[Interaction, LiveCase | None]] = ()
    outcomes: Mapping[str, Outcome] = field(default_factory=dict)  # by interaction name
    repeated: Mapping[str, str] = field(default_factory=dict)  # repeat's name -> first's name


CheckFunction = Callable[[Interaction, CheckContext], Iterable[Finding]]
RunCheckFunction = Callable[[RunContext], Iterable[Finding]]
CheckScope = Literal["answer", "run"]
if TYPE_CHECKING:  # what the decorator hands back: the function it was given, of either scope
    _Function = TypeVar("_Function", CheckFunction, RunCheckFunction)


def _cite(contracts: Contracts, sources: Sequence[str]) -> str:
    return "; ".join(str(contracts.profile.source(source)) for source in sources)


@dataclass(frozen=True)
class Check:
    """A registered check: its name (the claim), its function, the sources of its rule, whether
    it needs a JSON body (an answer check is not run on one that is not JSON; a run check is given
    every answer and needs none) and its scope: one answer or the whole run."""

    name: str
    function: CheckFunction | RunCheckFunction
    sources: tuple[str, ...]
    needs_json: bool = True
    scope: CheckScope = "answer"

    @overload
    def __call__(self, interaction: Interaction, context: CheckContext, /) -> list[Violation]: ...

    @overload
    def __call__(self, context: RunContext, /) -> list[Violation]: ...

    def __call__(self, *arguments: Any) -> list[Violation]:
        """Its findings as violations: called with ``(interaction, context)`` for an answer,
        ``(context)`` for a run, where a finding names its own interaction."""
        context = arguments[-1]
        about = "(the run)" if self.scope == "run" else arguments[0].name
        default = _cite(context.contracts, self.sources)
        return [
            Violation(
                check=self.name,
                interaction=finding.interaction or about,
                pointer=finding.pointer,
                received=finding.received,
                documented=finding.documented,
                severity=finding.severity,
                source=finding.source or default,
                title=finding.title,
            )
            for finding in self.function(*arguments)
        ]


RunCheck = Check  # the name a run check's type had before the two were one

CHECKS: dict[str, Check] = {}  # the answer checks, in the order they run
RUN_CHECKS: dict[str, Check] = {}  # the run checks, in the order they run


@overload
def check(
    *, sources: Sequence[str], needs_json: bool = ..., scope: Literal["answer"] = ...
) -> Callable[[CheckFunction], CheckFunction]: ...


@overload
def check(
    *, sources: Sequence[str], scope: Literal["run"]
) -> Callable[[RunCheckFunction], RunCheckFunction]: ...


def check(
    *, sources: Sequence[str], needs_json: bool = True, scope: CheckScope = "answer"
) -> Callable[[_Function], _Function]:
    """Register a check under its function's name, with the profile ids of its rule's sources;
    ``scope="run"`` registers a check over a whole run. The function is handed back unchanged."""

    def register(function: _Function) -> _Function:
        name = function.__name__
        if name in CHECKS or name in RUN_CHECKS:
            raise ValueError(f"check {name!r} is registered twice")
        registry = RUN_CHECKS if scope == "run" else CHECKS
        registry[name] = Check(name, function, tuple(sources), needs_json and scope != "run", scope)
        return function

    return register


def run_check(*, sources: Sequence[str]) -> Callable[[RunCheckFunction], RunCheckFunction]:
    """Register a check over a whole run: ``check(sources=..., scope="run")``."""
    return check(sources=sources, scope="run")


def _known(only: Sequence[str] | None) -> None:
    if only is not None:
        unknown = sorted(set(only) - set(CHECKS) - set(RUN_CHECKS))
        if unknown:
            raise KeyError(
                f"unknown checks {unknown}; registered: {sorted({*CHECKS, *RUN_CHECKS})}"
            )


def run_checks(
    interaction: Interaction,
    context: Contracts | CheckContext,
    *,
    only: Sequence[str] | None = None,
) -> list[Violation]:
    """Every registered check (or those named in ``only``) on one interaction."""
    if not isinstance(context, CheckContext):
        context = CheckContext(context)
    _known(only)
    context = dataclasses.replace(
        context, outcome=classify(interaction.response, context.contracts)
    )
    is_json = interaction.response.body_is_json
    violations: list[Violation] = []
    for name, registered in CHECKS.items():
        if (only is None or name in only) and (is_json or not registered.needs_json):
            violations.extend(registered(interaction, context))
    return violations


def run_run_checks(context: RunContext, *, only: Sequence[str] | None = None) -> list[Violation]:
    """Every registered run check (or those in ``only``) on the answers of one run."""
    _known(only)
    if not context.outcomes:
        outcomes = {i.name: classify(i.response, context.contracts) for i, _ in context.answers}
        context = dataclasses.replace(context, outcomes=outcomes)
    violations: list[Violation] = []
    for name, registered in RUN_CHECKS.items():
        if only is None or name in only:
            violations.extend(registered(context))
    return violations
