"""Faults on demand: what the endpoint (or the network and gateways in front of it) does when it
is not answering normally, injected into the stub server and the in-process respx mock alike.

A client's retry code is only tested when the double can throttle it, fail it and cut it off on
request, the same way every time. A ``Fault`` is typed and immutable: what happens (``kind``)
and when (``Schedule``: the first N requests, every Nth, or always). ``parse_fault`` reads the
one-line form the CLI and markers use (``throttle:retry-after=2``, ``500:first=2``,
``gateway-502:every=3``, ``delay=1500``, ``drop:first=1``, ``truncate``; docs/faults.md has the
table). ``FaultPlan`` counts the endpoint's requests (thread-safe) and says, for each, what to do.

The facts are the contracts': a throttled answer is the profile's throttling rejection (its code
and status from the error table), a 500 or 503 carries the error table's code for that status
(only statuses the table lists as the server's are accepted), a gateway page only the profile's
gateway statuses. Nothing here knows a transport: the stub (``server.py``) and the respx handler
(``offline.py``) each carry out the ``kind`` as a real server would look to a real client
(``drop``: closed without an answer; ``reset``: reset; ``truncate``: a Content-Length larger
than the bytes sent, then closed).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Literal, get_args

from ..contracts.loader import Contracts, load_contracts
from .fake import FaceDetectFake, FakeResponse

__all__ = [
    "ANSWERING_KINDS",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "FaultSpecError",
    "Schedule",
    "Turn",
    "error_statuses",
    "fault_answer",
    "gateway_page",
    "parse_fault",
    "parse_faults",
    "spec_forms",
]

FaultKind = Literal["throttle", "error", "gateway", "delay", "drop", "reset", "truncate"]
# The kinds whose answer is a whole HTTP response (fault_answer); the others act on the
# connection (drop, reset), on the normal answer (truncate) or on its timing (delay).
ANSWERING_KINDS: frozenset[FaultKind] = frozenset({"throttle", "error", "gateway"})
_KINDS: frozenset[str] = frozenset(get_args(FaultKind))


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
    contracts' (``FaultPlan`` checks them).
    """

    kind: FaultKind
    schedule: Schedule = ALWAYS
    status: int | None = None
    code: str | None = None
    retry_after: int | None = None
    delay_ms: int = 0

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"Fault kind must be one of {sorted(_KINDS)}, not {self.kind!r}")
        needs_status = self.kind in ("error", "gateway")
        if needs_status != (self.status is not None):
            raise ValueError(
                f"Fault {self.kind!r}: a status is "
                + ("required" if needs_status else "only for 'error' and 'gateway'")
            )
        if self.code is not None and self.kind != "error":
            raise ValueError(f"Fault {self.kind!r}: a code is only for 'error'")
        if self.retry_after is not None and (
            self.kind != "throttle" or isinstance(self.retry_after, bool) or self.retry_after < 0
        ):
            raise ValueError(
                "Fault retry_after is whole seconds >= 0, for 'throttle' only, "
                f"not {self.retry_after!r} on {self.kind!r}"
            )
        if (self.kind == "delay") != (self.delay_ms > 0) or not math.isfinite(self.delay_ms):
            raise ValueError(
                f"Fault delay_ms is a number of milliseconds > 0, for 'delay' only, "
                f"not {self.delay_ms!r} on {self.kind!r}"
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
        message = (
            entry.messages[0]
            if entry.messages
            else f"{entry.code}: a fault the stub was told to inject ({fault.spec})."
        )
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


# --- the one-line form -----------------------------------------------------------------------


def _whole(spec: str, part: str, value: str, least: int) -> int:
    if not (value.isascii() and value.isdigit()) or int(value) < least:
        raise _bad(spec, part, f"takes a whole number >= {least}")
    return int(value)


def _bad(spec: str, part: str, problem: str, contracts: Contracts | None = None) -> FaultSpecError:
    forms = "; ".join(spec_forms(contracts))
    return FaultSpecError(f"fault spec {spec!r}: {part!r} {problem}. Valid forms: {forms}")


def parse_fault(spec: str, contracts: Contracts | None = None) -> Fault:
    """The ``Fault`` a one-line spec names (docs/faults.md): ``HEAD[:OPTION]...``.

    ``FaultSpecError`` (a ``ValueError``) names the spec, the part that is wrong and every
    valid form.
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
        kind, delay_ms = "delay", _whole(spec, parts[0], head.removeprefix("delay="), 1)
    else:
        raise _bad(spec, parts[0] or "(nothing)", "is no fault", contracts)
    first = every = retry_after = None
    code: str | None = None
    for option in options:
        name, equals, value = option.partition("=")
        name = name.strip().lower()
        value = value.strip()
        if name == "always" and not equals:
            continue
        if not equals or name not in ("first", "every", "retry-after", "code"):
            raise _bad(spec, option, "is no option", contracts)
        if name == "first":
            first = _whole(spec, option, value, 1)
        elif name == "every":
            every = _whole(spec, option, value, 1)
        elif name == "retry-after":
            if kind != "throttle":
                raise _bad(spec, option, "is for throttle only", contracts)
            retry_after = _whole(spec, option, value, 0)
        else:
            if kind != "error":
                raise _bad(spec, option, "is for the error statuses only", contracts)
            codes = [entry.code for entry in contracts.errors_for(status=status)]
            if value not in codes:
                raise _bad(spec, option, f"is none of the error table's codes {codes}", contracts)
            code = value
    if first is not None and every is not None:
        raise _bad(spec, text, "gives both first= and every=; give one", contracts)
    schedule = Schedule(first=first, every=every)
    return Fault(kind, schedule, status, code, retry_after, delay_ms)


def parse_faults(
    specs: Iterable[str] | str, contracts: Contracts | None = None
) -> tuple[Fault, ...]:
    """Every spec read (one string, or several): the order is kept, it decides which fault
    answers when two fire on the same request."""
    contracts = contracts or load_contracts()
    items: Sequence[str] = [specs] if isinstance(specs, str) else list(specs)
    return tuple(parse_fault(spec, contracts) for spec in items)
