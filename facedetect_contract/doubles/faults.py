"""Faults on demand: what the endpoint (or the network and gateways in front of it) does when it
is not answering normally, injected into the stub server and the in-process respx mock alike.

A client's retry code is only tested when the double can throttle it, fail it and cut it off on
request, the same way every time. A ``Fault`` is typed and immutable: what happens (``kind``)
and when (``Schedule``: the first N requests, every Nth, or always). ``parse_fault`` reads the
one-line form the CLI and markers use (``throttle:retry-after=2``, ``500:first=2``,
``gateway-502:every=3``, ``delay=1500``, ``drop:first=1``, ``truncate``; docs/faults.md has the
table). ``FaultPlan`` counts the endpoint's requests (thread-safe) and says, for each, what to do;
``make_plan`` is the one way from what a caller gives (``Fault`` objects or specs) to a plan.
Numbers are bounded (``MAX_DELAY_MS``, ``MAX_RETRY_AFTER``), so a typo of a few digits is refused
when read, not met as a crash (an overflowing sleep) or a client told to wait for centuries.

The facts are the contracts': a throttled answer is the profile's throttling rejection (its code
and status from the error table), a 500 or 503 carries the error table's code for that status
(only statuses the table lists as the server's are accepted), a gateway page only the profile's
gateway statuses. Nothing here knows a transport: the stub (``server.py``) and the respx handler
(``offline.py``) each carry out the ``kind`` as a real server would look to a real client
(``drop``: closed without an answer; ``reset``: reset; ``truncate``: a Content-Length larger
than the bytes sent, then closed).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Literal, get_args

from ..contracts.loader import Contracts, load_contracts
from .fake import FaceDetectFake, FakeResponse

__all__ = [
    "ALWAYS",
    "ANSWERING_KINDS",
    "MAX_DELAY_MS",
    "MAX_RETRY_AFTER",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "FaultSpecError",
    "Schedule",
    "Turn",
    "error_statuses",
    "fault_answer",
    "gateway_page",
    "make_plan",
    "parse_fault",
    "spec_forms",
]

FaultKind = Literal["throttle", "error", "gateway", "delay", "drop", "reset", "truncate"]
# The kinds whose answer is a whole HTTP response (fault_answer); the others act on the
# connection (drop, reset), on the normal answer (truncate) or on its timing (delay).
ANSWERING_KINDS: frozenset[FaultKind] = frozenset({"throttle", "error", "gateway"})
_KINDS: frozenset[str] = frozenset(get_args(FaultKind))
# The largest delay (10 minutes: beyond any client's read timeout worth testing) and the largest
# Retry-After (a day) a fault takes; docs/faults.md states both.
MAX_DELAY_MS = 600_000
MAX_RETRY_AFTER = 86_400


class FaultSpecError(ValueError):
    """A fault spec that cannot be read: the message names the spec, the bad part and the forms
    that are valid."""


@dataclass(frozen=True)
class Schedule:
    """Which of the endpoint's requests (numbered from 1, in the order they arrive) a fault
    hits: the ``first`` N, ``every`` Nth (N, 2N, 3N, ...), or, with neither, every one."""

    first: int | None = None
    every: int | None = None

    def __post_init__(self) -> None:
        if self.first is not None and self.every is not None:
            raise ValueError("a Schedule takes first=N or every=N, not both")
        for name in ("first", "every"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"Schedule {name} must be a whole number >= 1, not {value!r}")
            if value is not None and value < 1:
                raise ValueError(f"Schedule {name} must be a whole number >= 1, not {value!r}")

    def fires(self, number: int) -> bool:
        """Whether the ``number``-th request (from 1) is hit."""
        if self.first is not None:
            return number <= self.first
        if self.every is not None:
            return number % self.every == 0
        return True

    @property
    def spec(self) -> str:
        """The schedule's part of a spec (``first=2``, ``every=3``, empty for always)."""
        if self.first is not None:
            return f"first={self.first}"
        if self.every is not None:
            return f"every={self.every}"
        return ""


ALWAYS = Schedule()


@dataclass(frozen=True)
class Fault:
    """One fault and its schedule.

    ``kind``: ``throttle`` (the documented 429; ``retry_after`` seconds in a ``Retry-After``
    header, or no header when ``None``), ``error`` (``status`` 500 or 503 as a JSON error body,
    ``code`` from the error table, its first row for the status when ``None``), ``gateway`` (an
    HTML page of ``status`` 502 or 504, as a load balancer answers), ``delay`` (the normal
    answer after ``delay_ms``), ``drop`` (the connection closed without an answer), ``reset``
    (the connection reset), ``truncate`` (the normal answer's head with a Content-Length larger
    than the bytes that follow, then closed). Which statuses and codes are valid is the
    contracts' (``FaultPlan`` checks them). ``retry_after`` is at most ``MAX_RETRY_AFTER``,
    ``delay_ms`` a whole number from 1 to ``MAX_DELAY_MS``; anything else is a ``ValueError``
    naming the field.
    """

    kind: FaultKind
    schedule: Schedule = ALWAYS
    status: int | None = None
    code: str | None = None
    retry_after: int | None = None
    delay_ms: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or self.kind not in _KINDS:
            raise ValueError(f"Fault kind must be one of {sorted(_KINDS)}, not {self.kind!r}")
        if not isinstance(self.schedule, Schedule):
            raise ValueError(
                f"Fault schedule must be a Schedule (Schedule(first=2), Schedule(every=3) or "
                f"ALWAYS), not {self.schedule!r}; parse_fault reads the one-line form"
            )
        if self.status is not None and not _is_whole(self.status):
            raise ValueError(f"Fault status must be a whole number, not {self.status!r}")
        if self.code is not None and not isinstance(self.code, str):
            raise ValueError(f"Fault code must be a string, not {self.code!r}")
        needs_status = self.kind in ("error", "gateway")
        if needs_status != (self.status is not None):
            raise ValueError(
                f"Fault {self.kind!r}: a status is "
                + ("required" if needs_status else "only for 'error' and 'gateway'")
            )
        if self.code is not None and self.kind != "error":
            raise ValueError(f"Fault {self.kind!r}: a code is only for 'error'")
        if self.retry_after is not None and (
            self.kind != "throttle"
            or not _is_whole(self.retry_after)
            or not 0 <= self.retry_after <= MAX_RETRY_AFTER
        ):
            raise ValueError(
                f"Fault retry_after is whole seconds from 0 to {MAX_RETRY_AFTER}, for 'throttle' "
                f"only, not {self.retry_after!r} on {self.kind!r}"
            )
        least = 1 if self.kind == "delay" else 0
        most = MAX_DELAY_MS if self.kind == "delay" else 0
        if not _is_whole(self.delay_ms) or not least <= self.delay_ms <= most:
            raise ValueError(
                f"Fault delay_ms is whole milliseconds from 1 to {MAX_DELAY_MS}, for 'delay' "
                f"only, not {self.delay_ms!r} on {self.kind!r}"
            )

    @property
    def spec(self) -> str:
        """The one-line form ``parse_fault`` reads back into this fault."""
        if self.kind == "error":
            head = str(self.status)
        elif self.kind == "gateway":
            head = f"gateway-{self.status}"
        elif self.kind == "delay":
            head = f"delay={self.delay_ms}"
        else:
            head = self.kind
        parts = [head]
        if self.retry_after is not None:
            parts.append(f"retry-after={self.retry_after}")
        if self.code is not None:
            parts.append(f"code={self.code}")
        if self.schedule.spec:
            parts.append(self.schedule.spec)
        return ":".join(parts)

    @property
    def delay(self) -> float:
        """The delay in seconds (0 for every kind but ``delay``)."""
        return self.delay_ms / 1000


def _is_whole(value: object) -> bool:
    """An ``int`` that is no ``bool`` (``True`` is an ``int`` to Python, not a number here)."""
    return isinstance(value, int) and not isinstance(value, bool)


# --- the contracts' side ---------------------------------------------------------------------


def error_statuses(contracts: Contracts) -> tuple[int, ...]:
    """The statuses an ``error`` fault may take: those the error table lists as the server's."""
    return tuple(sorted({entry.status for entry in contracts.errors if entry.kind == "server"}))


def _gateway_statuses(contracts: Contracts) -> tuple[int, ...]:
    return tuple(sorted(contracts.profile.gateway_retry_statuses))


def spec_forms(contracts: Contracts | None = None) -> tuple[str, ...]:
    """Every valid form of a spec, for help texts and error messages."""
    contracts = contracts or load_contracts()
    errors = "|".join(str(status) for status in error_statuses(contracts))
    gateways = "|".join(f"gateway-{status}" for status in _gateway_statuses(contracts))
    return (
        "throttle[:retry-after=SECONDS]",
        f"{errors}[:code=CODE]",
        gateways,
        "delay=MILLISECONDS",
        "drop",
        "reset",
        "truncate",
        "each followed by an optional schedule :first=N, :every=N or :always (the default)",
    )


def _check_against(fault: Fault, contracts: Contracts) -> None:
    """``ValueError`` when the fault's status or code is not one the contracts know."""
    if fault.kind == "error":
        allowed = error_statuses(contracts)
        if fault.status not in allowed:
            raise ValueError(
                f"an error fault's status is one of {list(allowed)} (the error table's server "
                f"errors), not {fault.status}"
            )
        codes = [entry.code for entry in contracts.errors_for(status=fault.status)]
        if fault.code is not None and fault.code not in codes:
            raise ValueError(
                f"code {fault.code!r} is not one of the error table's {fault.status} codes {codes}"
            )
    elif fault.kind == "gateway" and fault.status not in _gateway_statuses(contracts):
        raise ValueError(
            f"a gateway fault's status is one of {list(_gateway_statuses(contracts))} (the "
            f"profile's gateway statuses), not {fault.status}"
        )


def gateway_page(status: int) -> FakeResponse:
    """The HTML page a load balancer in front of the endpoint answers with ``status``: no JSON,
    no request id, as a gateway that never reached the service sends."""
    title = f"{status} {HTTPStatus(status).phrase}"
    html = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>gateway</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return FakeResponse(status, {"content-type": "text/html"}, html.encode("ascii"))


def fault_answer(fault: Fault, fake: FaceDetectFake) -> FakeResponse:
    """The whole answer of an answering fault (``ANSWERING_KINDS``), in ``fake``'s voice."""
    contracts = fake.contracts
    if fault.kind == "throttle":
        headers = {} if fault.retry_after is None else {"retry-after": str(fault.retry_after)}
        return fake.reject("throttled", headers=headers)
    if fault.kind == "gateway" and fault.status is not None:
        return gateway_page(fault.status)
    if fault.kind == "error" and fault.status is not None:
        rows = list(contracts.errors_for(status=fault.status, code=fault.code))
        if not rows:
            raise ValueError(f"fault {fault.spec!r}: no row of the error table matches it")
        entry = rows[0]
        # The error table's words, chosen as the fake chooses them for every other answer: the
        # first documented message, else the row's stub_message, else the code itself.
        message = entry.messages[0] if entry.messages else (entry.stub_message or entry.code)
        return fake.error(entry.status, entry.code, message)
    raise ValueError(f"fault {fault.spec!r} does not answer on its own (kind {fault.kind!r})")


# --- the plan: which request meets which fault -----------------------------------------------


@dataclass(frozen=True)
class Turn:
    """What one request meets: ``delay`` seconds first (the sum of the delays that fire), then
    ``fault`` (the first listed non-delay fault that fires) or the normal answer when ``None``."""

    number: int
    delay: float = 0.0
    fault: Fault | None = None

    @property
    def cut(self) -> bool:
        """Whether the normal answer goes out cut short (``truncate``): the one fault that acts
        on the answer instead of replacing it."""
        return self.fault is not None and self.fault.kind == "truncate"


@dataclass
class FaultPlan:
    """The faults of one double and the count of the endpoint's requests it has seen.

    Each request is numbered (from 1) as it arrives; every fault whose schedule fires on that
    number takes part: the delays add up, and the first listed other fault decides the answer.
    Checked against the contracts when made (``ValueError`` naming the fault).
    """

    faults: tuple[Fault, ...]
    contracts: Contracts = field(default_factory=load_contracts)

    def __post_init__(self) -> None:
        self.faults = tuple(self.faults)
        for fault in self.faults:
            if not isinstance(fault, Fault):
                raise TypeError(
                    f"faults holds Fault objects (parse_fault reads a spec), not {fault!r}"
                )
            try:
                _check_against(fault, self.contracts)
            except ValueError as exc:
                raise ValueError(f"fault {fault.spec!r}: {exc}") from None
        self._lock = threading.Lock()
        self.seen = 0  # endpoint requests numbered so far
        self.hit = 0  # of them, those a fault (a delay included) acted on

    def __bool__(self) -> bool:
        return bool(self.faults)

    def next_turn(self) -> Turn:
        """Number the next request and say what it meets."""
        with self._lock:
            self.seen += 1
            number = self.seen
            firing = [fault for fault in self.faults if fault.schedule.fires(number)]
            if firing:
                self.hit += 1
        delay = sum(fault.delay for fault in firing if fault.kind == "delay")
        fault = next((fault for fault in firing if fault.kind != "delay"), None)
        return Turn(number, delay, fault)


def make_plan(
    faults: Iterable[Fault | str] | str | None, contracts: Contracts, *, name: str = "faults"
) -> FaultPlan:
    """The ``FaultPlan`` of ``faults`` as a caller gives them: ``Fault`` objects or their
    one-line specs (one string, or several, in order), checked against ``contracts``.

    ``name`` (the option or argument they came in) starts every error, with the item's
    index: ``FaultSpecError`` for a spec that cannot be read, ``ValueError`` for a fault the
    contracts do not know, ``TypeError`` for an item that is neither a ``Fault`` nor a string.
    """
    if faults is None:
        items: list[object] = []
    elif isinstance(faults, str):
        items = [faults]
    elif isinstance(faults, Iterable):
        items = list(faults)
    else:
        raise TypeError(
            f"{name} is {faults!r} ({type(faults).__name__}): give a list of Fault objects or "
            "one-line specs such as ['throttle:first=2'] (docs/faults.md)"
        )
    made: list[Fault] = []
    for index, item in enumerate(items):
        if isinstance(item, Fault):
            made.append(item)
        elif isinstance(item, str):
            try:
                made.append(parse_fault(item, contracts))
            except FaultSpecError as exc:
                raise FaultSpecError(f"{name}[{index}]: {exc}") from None
        else:
            raise TypeError(
                f"{name}[{index}] is {item!r} ({type(item).__name__}): give a Fault or its "
                "one-line spec such as 'throttle:first=2' (docs/faults.md)"
            )
    try:
        return FaultPlan(tuple(made), contracts)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


# --- the one-line form -----------------------------------------------------------------------


def _whole(spec: str, part: str, value: str, least: int, most: int | None = None) -> int:
    bound = f">= {least}" if most is None else f">= {least} and <= {most}"
    # The length first: int() of thousands of digits is refused by Python itself.
    if not (value.isascii() and value.isdigit()) or len(value) > 30 or int(value) < least:
        raise _bad(spec, part, f"takes a whole number {bound}")
    if most is not None and int(value) > most:
        raise _bad(spec, part, f"takes a whole number {bound}")
    return int(value)


def _bad(spec: str, part: str, problem: str, contracts: Contracts | None = None) -> FaultSpecError:
    forms = "; ".join(spec_forms(contracts))
    return FaultSpecError(f"fault spec {spec!r}: {part!r} {problem}. Valid forms: {forms}")


def _options(spec: str, options: list[str], contracts: Contracts) -> dict[str, tuple[str, str]]:
    """Each option of a spec by name: (the option as written, its value). Every option once,
    one schedule at most: a repeat or a contradiction is refused, never "the last one wins"."""
    given: dict[str, tuple[str, str]] = {}
    for option in options:
        name, equals, value = option.partition("=")
        name = name.strip().lower()
        if not (name == "always" and not equals) and (
            not equals or name not in ("first", "every", "retry-after", "code")
        ):
            raise _bad(spec, option, "is no option", contracts)
        if name in given:
            earlier = given[name][0]
            raise _bad(spec, option, f"repeats {earlier!r}; give each option once", contracts)
        schedule = next((n for n in ("always", "first", "every") if n in given), None)
        if schedule is not None and name in ("always", "first", "every"):
            if {name, schedule} == {"first", "every"}:
                raise _bad(spec, spec.strip(), "gives both first= and every=; give one", contracts)
            earlier = given[schedule][0]
            raise _bad(spec, option, f"contradicts {earlier!r}; give one schedule", contracts)
        given[name] = (option, value.strip())
    return given


def parse_fault(spec: str, contracts: Contracts | None = None) -> Fault:
    """The ``Fault`` a one-line spec names (docs/faults.md): ``HEAD[:OPTION]...``.

    ``FaultSpecError`` (a ``ValueError``) names the spec, the part that is wrong and every
    valid form. Each option is given once, and one schedule at most: a repeated or
    contradictory option (``first=1:first=5``, ``always:first=2``) is refused, never
    "the last one wins". ``delay=`` takes at most ``MAX_DELAY_MS``, ``retry-after=``
    ``MAX_RETRY_AFTER``.
    """
    contracts = contracts or load_contracts()
    text = spec.strip()
    parts = [part.strip() for part in text.split(":")]
    head, options = parts[0].lower(), parts[1:]
    status: int | None = None
    delay_ms = 0
    if head in ("throttle", "drop", "reset", "truncate"):
        kind: FaultKind = head  # type: ignore[assignment]  # one of the literal's names, checked
    elif head.isascii() and head.isdigit():
        kind, status = "error", int(head)
        if status not in error_statuses(contracts):
            raise _bad(spec, parts[0], "is no server error of the error table", contracts)
    elif head.startswith("gateway-"):
        kind, number = "gateway", head.removeprefix("gateway-")
        if not (number.isascii() and number.isdigit()) or (
            int(number) not in _gateway_statuses(contracts)
        ):
            raise _bad(spec, parts[0], "is no gateway status of the profile", contracts)
        status = int(number)
    elif head.startswith("delay="):
        milliseconds = head.removeprefix("delay=").strip()
        kind, delay_ms = "delay", _whole(spec, parts[0], milliseconds, 1, MAX_DELAY_MS)
    else:
        raise _bad(spec, parts[0] or "(nothing)", "is no fault", contracts)
    given = _options(spec, options, contracts)
    first = _whole(spec, given["first"][0], given["first"][1], 1) if "first" in given else None
    every = _whole(spec, given["every"][0], given["every"][1], 1) if "every" in given else None
    retry_after: int | None = None
    if "retry-after" in given:
        option, value = given["retry-after"]
        if kind != "throttle":
            raise _bad(spec, option, "is for throttle only", contracts)
        retry_after = _whole(spec, option, value, 0, MAX_RETRY_AFTER)
    code: str | None = None
    if "code" in given:
        option, code = given["code"]
        if kind != "error":
            raise _bad(spec, option, "is for the error statuses only", contracts)
        codes = [entry.code for entry in contracts.errors_for(status=status)]
        if code not in codes:
            raise _bad(spec, option, f"is none of the error table's codes {codes}", contracts)
    schedule = Schedule(first=first, every=every)
    return Fault(kind, schedule, status, code, retry_after, delay_ms)
