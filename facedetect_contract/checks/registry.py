"""The registry: how a check is declared, what it is given, and how the registered checks run.

A check is a function named after the documented claim it asserts, registered with ``@check``
under that name with the documents its rule rests on. It judges one answer
(``scope="answer"``, the default: it receives the interaction and a ``CheckContext``) or a whole
run (``scope="run"``, also spelled ``@run_check``: it receives a ``RunContext``), and yields
``Finding``s. One ``Check`` type serves both scopes, so a finding becomes a ``Violation`` (the
check's name, the interaction's name, the rule's source) the same way wherever it was found.

Which documents, per model: a check names *roles*, and each model's profile says which of its
sources fill a role (``ROLES``: ``"shape"`` is the page that states the answer's shape, its API
reference; ``"billing"`` the profile's billing sources; ``"request_error"`` the sources of its
request-failure answer...), so one check cites EMO's API reference for emo-detect-v1 and
LivePortrait's for liveportrait-detect. An entry that is no role is a source id, looked up in the
profile; one the profile lacks is a ``CheckSourceError`` naming the check, the model and the fix,
never a ``KeyError`` mid-run (``check_sources`` finds them all at once, before a run).

Which shape parts, per model: a check that reads a part of the answer's shape (a verdict, a box, the
ratio) says so in ``needs``; on a model whose profile lacks one, it is skipped with the reason
(``skip_reason``, ``skipped_checks``), never run to crash on ``NotInProfile`` and never counted as
passing where it would apply.

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
    "NEEDS",
    "ROLES",
    "RUN_CHECKS",
    "Check",
    "CheckContext",
    "CheckFunction",
    "CheckScope",
    "CheckSourceError",
    "Finding",
    "RunCheck",
    "RunCheckFunction",
    "RunContext",
    "check",
    "check_sources",
    "run_check",
    "run_checks",
    "run_run_checks",
    "skip_reason",
    "skipped_checks",
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


# A role names a place of the profile whose sources document a kind of rule: a section with
# ``sources`` (its ``section_sources``) or the answers of one outcome (their ``sources``).
ROLES: Mapping[str, str] = {
    "shape": "the page stating the answer's shape (endpoint.json /shape/sources)",
    "endpoint": "the pages stating the endpoint (endpoint.json /endpoint/sources)",
    "billing": "the pages stating the billing (endpoint.json /billing/sources)",
    "images": "the pages stating the image limits (endpoint.json /images/sources)",
    "geometry": "the pages stating the box geometry (endpoint.json /geometry/sources)",
    "rate_limit": "the pages stating the rate limit (endpoint.json /rate_limit/sources)",
    "passed": "the sources of the passed answer (endpoint.json /answers/*/sources)",
    "failed": "the sources of the failed answers (endpoint.json /answers/*/sources)",
    "request_error": "the sources of the request-failure answer (endpoint.json /answers/*/sources)",
}
_OUTCOMES = frozenset({"passed", "failed", "request_error"})

# The parts of the answer's shape a check may need, and how to ask a profile for each.
NEEDS: Mapping[str, str] = {
    "verdict": "verdict field (endpoint.json /shape/verdict)",
    "boxes": "boxes (endpoint.json /shape/boxes)",
    "face_box": "face box (endpoint.json /shape/boxes/face_box)",
    "crop_box": "crop box (endpoint.json /shape/boxes/crop_box)",
    "ratio": "ratio parameter (endpoint.json /shape/ratio)",
    "ratio_box": "box at the requested ratio (endpoint.json /geometry)",
    "iou_min": "behaviour-drift threshold (endpoint.json /behaviour_drift)",
}


class CheckSourceError(LookupError):
    """A check cites a document a model's profile does not have: the message names the check,
    the model, what is missing and the fix."""


def _has(contracts: Contracts, part: str) -> bool:
    profile = contracts.profile
    if part == "verdict":
        return profile.verdict is not None
    if part == "boxes":
        return bool(profile.boxes)
    if part in ("face_box", "crop_box"):
        return part in profile.boxes
    if part == "ratio":
        return profile.has_ratio
    return profile.states(part)  # ratio_box (/geometry), iou_min (/behaviour_drift)


def _role_ids(contracts: Contracts, role: str) -> tuple[str, ...]:
    profile = contracts.profile
    if role in _OUTCOMES:
        return tuple(i for kind in profile.answers if kind.outcome == role for i in kind.sources)
    return profile.section_sources.get(role, ())


def _source_ids(name: str, sources: Sequence[str], contracts: Contracts) -> tuple[str, ...]:
    """The profile's source ids a check's ``sources`` (roles or ids) come to for these contracts;
    ``CheckSourceError`` names what is missing."""
    profile = contracts.profile
    found: dict[str, None] = {}
    for entry in sources:
        ids = _role_ids(contracts, entry) if entry in ROLES else (entry,)
        missing = [i for i in ids if i not in profile.sources]
        if not ids or missing:
            what = (
                f"role {entry!r} ({ROLES[entry]}) names no source"
                if entry in ROLES and not ids
                else f"source {(missing or [entry])[0]!r} is not in endpoint.json /sources"
            )
            raise CheckSourceError(
                f"check {name!r} cites {entry!r}, but for {profile.model} "
                f"({contracts.directory}) {what}; add it to that profile, or cite a role "
                f"({', '.join(ROLES)}) the profile fills"
            )
        found.update(dict.fromkeys(ids))
    return tuple(found)


def _cite(name: str, contracts: Contracts, sources: Sequence[str]) -> str:
    ids = _source_ids(name, sources, contracts)
    return "; ".join(str(contracts.profile.source(source)) for source in ids)


@dataclass(frozen=True)
class Check:
    """A registered check: its name (the claim), its function, the sources of its rule (roles
    or source ids, resolved per model), whether it needs a JSON body (an answer check is not run
    on one that is not JSON; a run check is given every answer and needs none), its scope (one
    answer or the whole run) and the parts of the answer's shape it needs (``NEEDS``)."""

    name: str
    function: CheckFunction | RunCheckFunction
    sources: tuple[str, ...]
    needs_json: bool = True
    scope: CheckScope = "answer"
    needs: tuple[str, ...] = ()

    def skip_reason(self, contracts: Contracts) -> str | None:
        """Why this check does not apply to the model of ``contracts`` (``None``: it applies)."""
        lacking = [NEEDS[part] for part in self.needs if not _has(contracts, part)]
        if not lacking:
            return None
        return f"{contracts.profile.model} has no {', no '.join(lacking)}"

    def source_ids(self, contracts: Contracts) -> tuple[str, ...]:
        """The ids of the profile's sources this check cites for these contracts."""
        return _source_ids(self.name, self.sources, contracts)

    @overload
    def __call__(self, interaction: Interaction, context: CheckContext, /) -> list[Violation]: ...

    @overload
    def __call__(self, context: RunContext, /) -> list[Violation]: ...

    def __call__(self, *arguments: Any) -> list[Violation]:
        """Its findings as violations: called with ``(interaction, context)`` for an answer,
        ``(context)`` for a run, where a finding names its own interaction."""
        context = arguments[-1]
        if self.skip_reason(context.contracts) is not None:
            return []  # a part of the shape it judges is not the model's (``skipped_checks``)
        about = "(the run)" if self.scope == "run" else arguments[0].name
        default = _cite(self.name, context.contracts, self.sources)
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
    *,
    sources: Sequence[str],
    needs_json: bool = ...,
    scope: Literal["answer"] = ...,
    needs: Sequence[str] = ...,
) -> Callable[[CheckFunction], CheckFunction]: ...


@overload
def check(
    *, sources: Sequence[str], scope: Literal["run"], needs: Sequence[str] = ...
) -> Callable[[RunCheckFunction], RunCheckFunction]: ...


def check(
    *,
    sources: Sequence[str],
    needs_json: bool = True,
    scope: CheckScope = "answer",
    needs: Sequence[str] = (),
) -> Callable[[_Function], _Function]:
    """Register a check under its function's name, with its rule's sources (roles of ``ROLES``,
    or source ids of the profile) and the shape parts it needs (``NEEDS``); ``scope="run"``
    registers a check over a whole run. The function is handed back unchanged."""
    unknown = sorted(set(needs) - set(NEEDS))
    if unknown:
        raise ValueError(f"needs {unknown}: no such part of the answer's shape; use {list(NEEDS)}")

    def register(function: _Function) -> _Function:
        name = function.__name__
        if name in CHECKS or name in RUN_CHECKS:
            raise ValueError(f"check {name!r} is registered twice")
        registry = RUN_CHECKS if scope == "run" else CHECKS
        registry[name] = Check(
            name, function, tuple(sources), needs_json and scope != "run", scope, tuple(needs)
        )
        return function

    return register


def run_check(*, sources: Sequence[str]) -> Callable[[RunCheckFunction], RunCheckFunction]:
    """Register a check over a whole run: ``check(sources=..., scope="run")``."""
    return check(sources=sources, scope="run")


def _all_checks() -> dict[str, Check]:
    """Every registered check, per answer and per run."""
    return {**CHECKS, **RUN_CHECKS}


def skip_reason(name: str, contracts: Contracts) -> str | None:
    """Why the registered check ``name`` does not apply to these contracts' model, or ``None``."""
    _known([name])
    return _all_checks()[name].skip_reason(contracts)


def skipped_checks(contracts: Contracts) -> dict[str, str]:
    """The registered checks (answer and run) that do not apply to this model, with the reason
    of each (they return no finding for it)."""
    reasons = {name: c.skip_reason(contracts) for name, c in _all_checks().items()}
    return {name: reason for name, reason in reasons.items() if reason is not None}


def check_sources(contracts: Contracts) -> dict[str, tuple[str, ...]]:
    """The source ids every registered check that applies to this model cites; the first one
    the profile lacks raises ``CheckSourceError`` (the tests ask it of every packaged model, so
    a profile without a document a check rests on is caught before it ships)."""
    return {
        name: c.source_ids(contracts)
        for name, c in _all_checks().items()
        if c.skip_reason(contracts) is None
    }


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
