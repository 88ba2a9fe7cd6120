"""A live run: the planned requests sent once, concurrently and paced, within the budget and the
run's deadline, each judged.

The pytest plugin makes one ``LiveRun`` per session; the first live test executes every selected
request (``plan``: cases, free probes, generated examples) on worker threads, paced under the
documented rate limit (``pacing``), admitted by the budget attempt by attempt (``budget``),
judged (``judging``) and recorded (``recording``); each test then reads its ``Verdict``. Judging
happens here, not in the tests, so the findings of the whole run are in one place for the
terminal summary and the reports.

Nothing escapes: an exception inside the run becomes an error of the run naming its cause; a
request still in flight at the run's deadline is an error ("timed-out"); the run knows which of
its selected requests got no verdict, so no report can call it passed.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ..checks import RunContext, run_run_checks
from ..client import EndpointBroken, EndpointUnreachable, FaceDetectClient, endpoint_url
from ..contracts import faults
from ..contracts.cases import DEFAULT_CASES_FILE, LiveCase
from ..contracts.fixtures import FIXTURE_DIR, fixtures_beside
from ..contracts.loader import Contracts, load_contracts
from ..contracts.outcome import classify
from ..core.interaction import Interaction
from ..core.pacing import Pacer
from ..core.redaction import Redactor, Secret
from ..core.transport import deadline, listen_for_writes
from ..core.violations import Violation, fold_tagged
from ..generation.generated import GeneratedRequest
from .baseline import Baseline
from .budget import BillingBudget, BudgetPool, Spend, images_billed
from .configuration import Answered, base_url_problem, misconfiguration
from .drift import recording_for
from .judging import Verdict, judge
from .observations import observe
from .plan import (
    DrawingStopped,
    PlannedRequest,
    case_requests,
    example_names,
    generated_requests,
    negative_probes,
    planned_names,
    probe_names,
)
from .recording import Recorder
from .result import CaseResult, RequestResult, RunError, RunResult

__all__ = ["LiveRun", "LiveSettings", "RunError", "RunResult", "Verdict", "planned_names"]

WORKERS = 8
# Seconds past the run deadline for the threads to see it: the transport ends every socket
# operation at the deadline, so this covers what it does not bound (a pacing or retry wait).
_GRACE = 2.0
# A socket's timeout may end a millisecond early: a request timing out this close to the run's
# deadline was cut off by it.
_DEADLINE_SLACK = 0.05
# What a run can represent: every wait and timeout must fit threading.TIMEOUT_MAX and the
# clocks; a day is past any run's need. The generator draws a few hundred distinct invalid
# requests at most (the rest of a larger count would be sent as nothing).
MAX_SECONDS = 86_400.0
MIN_QPS, MAX_QPS = 0.001, 10_000.0
MAX_EXAMPLES = 1_000
# Findings of a whole run kept one by one: past it, the same check at the same place in other
# answers is one finding with their count, then one per check and severity (``violations.fold``).
PER_RUN = 200
# What a request ends as when the endpoint gave it no answer that could be judged.
_NO_ANSWER = frozenset({"unreachable", "broken", "throttled", "failing", "timed-out"})


@dataclass(frozen=True)
class LiveSettings:
    """What the live options asked for, with the defaults every option takes from here.

    ``ValueError`` names the option when a value is wrong. ``qps`` ``None`` is the profile's
    documented rate limit.
    """

    base_url: str | None = None
    cases_file: Path | None = DEFAULT_CASES_FILE  # None: the model's own (cases.default_cases)
    examples: int = 20
    max_billed: int = 4
    record: bool = False
    record_dir: Path = FIXTURE_DIR
    reports: tuple[Path, ...] = ()
    strict_drift: bool = False
    qps: float | None = None
    timeout: float = 30.0
    max_retries: int = 3
    max_retry_wait: float = 10.0
    deadline: float = 300.0
    repeat_cases: bool = False
    baseline: Path | None = None
    update_baseline: bool = False
    history: Path | None = None
    inputs: tuple[Path, ...] = field(default=(), repr=False)  # files the run reads, not to write

    def __post_init__(self) -> None:
        if not 0 <= self.examples <= MAX_EXAMPLES:
            raise ValueError(
                f"--live-examples must be 0 or more, at most {MAX_EXAMPLES} (the distinct invalid "
                f"requests the generator can draw), not {self.examples}"
            )
        if self.max_billed < 0:
            raise ValueError(f"--max-billed must be 0 or more, not {self.max_billed}")
        # Bounded above and below: a wait of 1/qps or a deadline of 1e10 s overflows the clocks
        # and timeouts the run hands them to (threading.TIMEOUT_MAX, time.sleep).
        if self.qps is not None and not (
            self.qps == 0 or MIN_QPS <= self.qps <= MAX_QPS  # False for nan
        ):
            raise ValueError(
                f"--live-qps must be 0 (unpaced) or from {MIN_QPS:g} to {MAX_QPS:g} requests per "
                f"second, not {self.qps:g}"
            )
        if not 0 < self.deadline <= MAX_SECONDS:
            raise ValueError(
                f"--live-deadline must be a number of seconds > 0 and at most {MAX_SECONDS:g} "
                f"(a day), not {self.deadline:g}"
            )
        if not 0 < self.timeout <= MAX_SECONDS:
            raise ValueError(
                f"--live-timeout must be a number of seconds > 0 and at most {MAX_SECONDS:g} "
                f"(a day), not {self.timeout:g}"
            )
        if not 0 <= self.max_retry_wait <= MAX_SECONDS:
            raise ValueError(
                f"max_retry_wait must be 0 to {MAX_SECONDS:g} seconds, not {self.max_retry_wait:g}"
            )
        if self.update_baseline and self.baseline is None:
            raise ValueError("--update-baseline needs --baseline FILE: the file to write")


def _undrawn(name: str) -> PlannedRequest:
    """The stand-in for an example that was never drawn (its verdict: not sent, and why)."""
    return PlannedRequest(
        name, "example", GeneratedRequest("a generated invalid request, never drawn", None, {})
    )


@dataclass
class _InFlight:
    """The request a worker thread is sending: its attempts, and what the budget refused."""

    planned: PlannedRequest
    attempts: list[Interaction] = field(default_factory=list)
    retry_refused: bool = False


class LiveRun:
    """The requests of one live session, their verdicts, the budget and what was recorded.

    ``clock`` must count as ``time.monotonic`` does: the run's deadline, taken on it, bounds the
    transport's, which counts on ``time.monotonic``."""

    def __init__(
        self,
        settings: LiveSettings,
        cases: tuple[LiveCase, ...],
        *,
        contracts: Contracts | None = None,
        environ: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        pool: BudgetPool | None = None,
    ) -> None:
        """``pool``: the budget this run shares with the other models of its session (else its
        own ``settings.max_billed``)."""
        if not cases:
            raise ValueError("a live run needs at least one case")
        self.settings = settings
        self.cases = cases
        self.contracts = contracts or load_contracts()
        profile = self.contracts.profile
        self.budget = BillingBudget(
            settings.max_billed,
            # a model whose docs state no price (liveportrait-detect): counted, not priced
            price=profile.price if profile.states("price") else None,
            currency=profile.currency if profile.states("currency") else None,
            pool=pool,
        )
        self.url = endpoint_url(settings.base_url, environ, self.contracts)  # names a bad URL
        problem = base_url_problem(self.url.removesuffix(profile.path), self.contracts)
        if problem is not None:  # a typo in the base URL is the user's, never the provider's
            raise ValueError(problem)
        self._secret = Secret.from_env(environ, name=profile.api_key_env)
        self.redactor = Redactor([self._secret])
        self._environ = environ
        self._transport = transport
        self._sleep, self._clock = sleep, clock
        qps = profile.qps if settings.qps is None else settings.qps
        self._pacer = Pacer(qps, sleep=sleep)
        self._check_pacing(qps)
        self._current = threading.local()  # .flight: the request this thread is sending
        self._lock = threading.Lock()
        self._client: FaceDetectClient | None = None
        self._plan: dict[str, PlannedRequest] | None = None
        self._known: dict[str, PlannedRequest] | None = None
        self._examples: dict[str, PlannedRequest] | None = None
        self._generating = threading.Lock()  # the examples are drawn once, by one thread
        self._drawing_stopped = False  # the run's deadline came before every example was drawn
        self._stop_at: float | None = None  # the run's deadline on its clock: one per run
        self._recordings: list[Interaction] | None = None
        self.recorder = Recorder(settings.record_dir, self.contracts, [self._secret])
        self.verdicts: dict[str, Verdict] = {}
        self.selected: set[str] = set()  # every request a test asked for
        self.run_findings: tuple[Violation, ...] = ()
        self.baseline: Baseline | None = None  # acknowledged findings fail no test
        # A finding as the run's report names it (a run of several models: <model>/<name>,
        # set by live.models), which is what the baseline's entries name.
        self.named_in_report: Callable[[Violation], Violation] = lambda violation: violation
        # Errors of the run as (request, cause) pairs; a plain string (what a caller above adds
        # once the run is over) is an error of the run as a whole.
        self.errors: list[RunError | str] = []
        self._recording: dict[str, Interaction | None] = {}  # the fixture each answer met
        self.interrupted = False
        self.started: datetime | None = None
        self.finished: datetime | None = None

    def __repr__(self) -> str:
        return f"LiveRun(endpoint={self.url!r}, verdicts={len(self.verdicts)})"

    @property
    def secret(self) -> Secret | None:
        """The key the run sends (a ``Secret``: never shown), for a redactor of several runs."""
        return self._secret

    def _check_pacing(self, qps: float) -> None:
        """``ValueError`` when the rate limit cannot start every planned request within the
        run's deadline: a usage error said before anything is sent, naming what would fit.

        Not a plan trimmed in silence: the tests of every example are collected from
        ``--live-examples``, and a nightly run checking less than asked must say so loudly."""
        settings = self.settings
        fits = self._pacer.starts_within(settings.deadline)
        probes = len(probe_names(self.contracts))
        known = len(self.cases) * (2 if settings.repeat_cases else 1) + probes
        if fits is None or settings.examples == 0 or known + settings.examples <= fits:
            return
        needed = math.floor(self._pacer.time_to_start(known + settings.examples)) + 1
        rate = f"--live-qps {qps:g}" if settings.qps is not None else f"the profile's {qps:g}/s"
        raise ValueError(
            f"--live-examples {settings.examples} does not fit --live-deadline "
            f"{settings.deadline:g}: at {rate} at most {fits} request(s) can start in "
            f"{settings.deadline:g} s, and the {known} cases and probes come first; give "
            f"--live-examples {max(0, fits - known)} or fewer, or --live-deadline {needed} or more"
        )

    # -- parts made on first use -----------------------------------------------------------

    @property
    def client(self) -> FaceDetectClient:
        if self._client is None:
            self._client = FaceDetectClient(
                base_url=self.settings.base_url,
                timeout=self.settings.timeout,
                max_retries=self.settings.max_retries,
                max_retry_wait=self.settings.max_retry_wait,
                transport=self._transport,
                sleep=self._sleep,
                on_exchange=self._on_exchange,
                before_attempt=self._before_attempt,
                contracts=self.contracts,
                environ=self._environ,
            )
        return self._client

    def _flight(self) -> _InFlight | None:
        return getattr(self._current, "flight", None)

    def _before_attempt(self, attempt: int) -> bool:
        flight = self._flight()
        if flight is not None and attempt > 0:
            planned = flight.planned
            if not self.budget.admit_retry(
                planned.name, billable=planned.billable, keyed=planned.keyed
            ):
                flight.retry_refused = True
                return False
        slot = self._pacer.wait()  # every attempt counts for the rate limit, retries too
        # The attempt counts from when its last byte leaves (its connection may take a while).
        listen_for_writes(None if slot is None else functools.partial(self._pacer.sent, slot))
        return True

    def _on_exchange(self, interaction: Interaction) -> None:
        flight = self._flight()
        if flight is not None:
            flight.attempts.append(interaction)
            planned = flight.planned
            self.budget.settle(
                planned.name, images_billed(interaction, self.contracts), keyed=planned.keyed
            )

    @property
    def plan(self) -> dict[str, PlannedRequest]:
        """Every request of the run by id: cases, then probes, then generated examples."""
        if self._plan is None:
            self._plan = {**self._known_plan(), **self._examples_plan()}
        return self._plan

    def _known_plan(self) -> dict[str, PlannedRequest]:
        """The cases and the probes: made from the cases file alone, at once."""
        if self._known is None:
            planned = (
                *case_requests(self.cases, self.contracts, repeat=self.settings.repeat_cases),
                *negative_probes(self.cases[0].image_url, self.contracts),
            )
            self._known = {request.name: request for request in planned}
        return self._known

    def _examples_plan(self) -> dict[str, PlannedRequest]:
        """The generated examples (Hypothesis draws them: the slow part of planning).

        ``DrawingStopped`` when the run's deadline passes while they are drawn."""
        with self._generating:
            if self._examples is None:
                stop_at = self._stop_at
                generated = generated_requests(
                    self.settings.examples,
                    self.contracts,
                    until=None if stop_at is None else lambda: self._clock() >= stop_at,
                )
                self._examples = {request.name: request for request in generated}
        return self._examples

    @property
    def order(self) -> tuple[str, ...]:
        """Every id of the run in the plan's order, known before any example is drawn."""
        return (*self._known_plan(), *example_names(self.settings.examples))

    def _planned_names(self) -> set[str]:
        """Every id of the run, known before any example is drawn."""
        return set(self.order)

    @property
    def recordings(self) -> list[Interaction]:
        """The fixtures a case's behaviour is compared with: the packaged ones and the record
        dir's (``FixtureFileError`` names a broken one)."""
        if self._recordings is None:
            self._recordings = fixtures_beside(self.settings.record_dir, self.contracts)
        return self._recordings

    @property
    def recorded(self) -> list[Path]:
        return self.recorder.recorded

    @property
    def not_recorded(self) -> Mapping[str, int]:
        return self.recorder.not_recorded

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def redact(self, text: str) -> str:
        """``text`` without the key or anything key-like."""
        return self.redactor.text(text)

    @property
    def missing(self) -> tuple[str, ...]:
        """Selected requests without a verdict (an interrupted or crashed run)."""
        return tuple(
            name for name in self.order if name in self.selected and name not in self.verdicts
        )

    @property
    def sent(self) -> int:
        """How many requests got an answer or an error (were sent at all)."""
        return sum(1 for v in self.verdicts.values() if v.status != "not-sent")

    # -- executing ---------------------------------------------------------------------------

    def execute(self, names: Iterable[str] | None = None) -> None:
        """Send the named requests (default: all) not sent yet, cases first for the budget.

        The cases and probes start at once; the examples are drawn meanwhile, on a thread of
        their own, and join the queue when drawn (drawing them is the slow part of planning, and
        the rate limit leaves the time)."""
        known_names = self._planned_names()
        wanted = known_names if names is None else set(names)
        unknown = sorted(wanted - known_names)
        if unknown:
            raise KeyError(f"no live requests {unknown}; planned: {sorted(known_names)}")
        self.selected |= wanted
        _ = self.recordings  # a broken fixture file stops the run before anything is sent
        early = self._early(wanted)
        examples_wanted = any(
            name not in self._known_plan() for name in wanted - set(self.verdicts)
        )
        if not early and not examples_wanted:
            return
        _ = self.client  # made once, before the threads share it
        self.started = self.started or datetime.now(UTC)
        if self._stop_at is None:  # one deadline for the run, however many times it is asked
            self._stop_at = self._clock() + self.settings.deadline
        stop_at = self._stop_at
        pending, results, started = self._send_all(
            early, wanted if examples_wanted else set(), stop_at
        )
        for planned in pending:
            if planned.name in results:
                continue
            if planned.name in started:  # in flight at the deadline
                results[planned.name] = self._error_of_the_run(
                    planned, "timed-out", self._deadline_reason
                )
            else:  # still queued: never sent
                results[planned.name] = Verdict(planned, "not-sent", reason=self._not_sent_reason)
        self._store(pending, results)
        self._store_unsent(wanted)
        self._explain_refusals()
        self._judge_configuration()
        self._fold_run()
        self.run_findings = tuple(self._run_checks())
        self.finished = datetime.now(UTC)

    def _judge_configuration(self) -> None:
        """When no answer of the run is one the contracts document (a wrong base URL, a login
        page), its verdicts say so instead of judging drift: one error of the run, no finding."""
        judged = [
            (v, answer)
            for v in self.verdicts.values()
            if v.status == "judged" and (answer := v.interaction) is not None
        ]
        why = misconfiguration(
            (Answered(answer, v.planned.keyed) for v, answer in judged),
            self.contracts,
            self.url,
        )
        if why is None:
            return
        why = self.redact(why)
        with self._lock:
            self.errors.append(RunError(why))
            for verdict, _ in judged:
                self.verdicts[verdict.name] = dataclasses.replace(
                    verdict, status="misconfigured", violations=(), message=None, reason=why
                )

    def _explain_refusals(self) -> None:
        """A request the budget refused says the real reason when the endpoint never answered.

        When every request sent got no answer (a port that refused everything, a gateway
        failing) and nothing was billed, the slots went to that silence, and the docs' word that
        failures are free could not be tested: the requests left were refused for it, not for
        spend. Said once the run knows it: "the endpoint could not be reached", not "billing"."""
        spend = self.budget.summary()
        if spend.images_billed or not spend.not_sent:
            return
        statuses = {v.status for v in self.verdicts.values() if v.status != "not-sent"}
        if not statuses or not statuses <= _NO_ANSWER:
            return
        cause = (
            "the endpoint could not be reached"
            if statuses == {"unreachable"}
            else "the endpoint gave no answer that could be judged (unreachable, failing, "
            "throttled or too slow)"
        )
        reason = (
            f"not sent: {cause}; every request sent got no answer, and --max-billed "
            f"{self.settings.max_billed} allows no more attempts that could be billed (see the "
            f"errors of the run)"
        )
        refused = set(spend.not_sent)
        for name, verdict in list(self.verdicts.items()):
            if verdict.status == "not-sent" and name in refused:
                self.verdicts[name] = dataclasses.replace(verdict, reason=reason)

    def share_deadline(self, stop_at: float) -> None:
        """Make the run's deadline ``stop_at`` on its clock (the session's, shared by the models
        running side by side), unless the run has started and has its own."""
        if self._stop_at is None:
            self._stop_at = stop_at

    def seconds_left(self) -> float:
        """Seconds until the run's deadline (the whole deadline before the run has started)."""
        if self._stop_at is None:
            return self.settings.deadline
        return max(0.0, self._stop_at - self._clock())

    @property
    def _not_sent_reason(self) -> str:
        return (
            f"not sent: the run's deadline ({self.settings.deadline:g} s, --live-deadline) "
            f"had passed"
        )

    def _store_unsent(self, wanted: set[str]) -> None:
        """A verdict for every wanted request still without one (no exception may reach a
        test), naming why; one error of the run for those the deadline left unsent."""
        drawn = self._examples
        for name in self.order:
            if name not in wanted or name in self.verdicts:
                continue
            if drawn is not None and name not in drawn and not self._drawing_stopped:
                reason = (
                    f"not sent: only {len(drawn)} distinct invalid requests could be drawn "
                    f"for --live-examples {self.settings.examples}"
                )
            else:  # not drawn (or not queued) before the deadline
                reason = self._not_sent_reason
            self.verdicts[name] = Verdict(_undrawn(name), "not-sent", reason=reason)
        late = [
            name
            for name in self.order
            if name in wanted
            and self.verdicts[name].status == "not-sent"
            and self.verdicts[name].reason == self._not_sent_reason
        ]
        if late:
            shown = ", ".join(late[:5]) + (f" and {len(late) - 5} more" if len(late) > 5 else "")
            with self._lock:
                self.errors.append(
                    RunError(
                        f"{len(late)} request(s) not sent: the run's deadline "
                        f"({self.settings.deadline:g} s, --live-deadline) passed first "
                        f"({shown}); raise --live-deadline or lower --live-examples"
                    )
                )

    def _fold_run(self) -> None:
        """Past ``PER_RUN`` findings, the same check at the same place in other answers folds
        into its first finding, then the rest into one per check and severity; the verdicts
        keep their messages (a test still fails on its own answer)."""
        acknowledged = self._acknowledged
        tagged = [
            (name, violation)
            for name in self.order
            if name in self.verdicts
            for violation in self.verdicts[name].violations
        ]
        if sum(1 for _, v in tagged if not acknowledged(v)) <= PER_RUN:
            return
        tagged = fold_tagged(
            tagged,
            key=lambda v: (v.check, v.severity, v.pointer),
            keep=0,
            where="in other answers",
            exempt=acknowledged,
        )
        tagged = fold_tagged(
            tagged,
            key=lambda v: (v.check, v.severity),
            keep=PER_RUN,
            limit=PER_RUN,
            where="in this run",
            exempt=acknowledged,
        )
        kept: dict[str, list[Violation]] = {}
        for name, violation in tagged:
            kept.setdefault(name, []).append(violation)
        for name, verdict in list(self.verdicts.items()):
            if verdict.violations:
                self.verdicts[name] = dataclasses.replace(
                    verdict, violations=tuple(kept.get(name, ()))
                )

    @property
    def _deadline_reason(self) -> str:
        return (
            f"no answer before the run's deadline ({self.settings.deadline:g} s, "
            f"--live-deadline); an error of the run, not drift"
        )

    def _early(self, wanted: set[str]) -> list[PlannedRequest]:
        """The wanted cases and probes not sent yet, the trial first, queued for the budget."""
        early = [
            p
            for p in self._known_plan().values()
            if p.name in wanted and p.name not in self.verdicts
        ]
        trial = next((p for p in early if p.keyed and not p.billable), None)
        if trial is not None and self.budget.trial(trial.name):
            # Sent first: the keyed requests wait for its answer (see budget), so it must not
            # queue behind them.
            early = [trial, *(p for p in early if p is not trial)]
        self.budget.queue(p.name for p in early if p.keyed)  # the slots go in plan order
        return early

    def _send_all(
        self, early: list[PlannedRequest], examples: set[str], stop_at: float
    ) -> tuple[list[PlannedRequest], dict[str, Verdict], set[str]]:
        """Send ``early`` and the wanted ``examples`` (drawn meanwhile) on the worker threads:
        (every request handed to them, their verdicts, the names a worker took up)."""
        work: queue.SimpleQueue[PlannedRequest | None] = queue.SimpleQueue()
        for planned in early:
            work.put(planned)
        workers = min(WORKERS, len(early) + (self.settings.examples if examples else 0))
        pending = list(early)
        failure: list[BaseException] = []
        results: dict[str, Verdict] = {}
        started: set[str] = set()

        def feed_examples() -> None:  # then one stop sign per worker
            try:
                if examples:
                    drawn = [
                        p
                        for p in self._examples_plan().values()
                        if p.name in examples and p.name not in self.verdicts
                    ]
                    self.budget.queue(p.name for p in drawn if p.keyed)
                    pending.extend(drawn)
                    for planned in drawn:
                        work.put(planned)
            except DrawingStopped:  # the deadline: the examples get their verdicts in execute
                self._drawing_stopped = True
            except BaseException as error:  # re-raised below, once the threads are done
                failure.append(error)
            finally:
                for _ in range(workers):
                    work.put(None)

        def worker() -> None:
            while True:
                try:
                    planned = work.get(timeout=max(0.0, stop_at + _GRACE - self._clock()))
                except queue.Empty:
                    return
                if planned is None:
                    return
                started.add(planned.name)
                results[planned.name] = self._send_guarded(planned, stop_at)

        # Daemon threads: a request stuck past the deadline must not keep the process alive.
        threads = [
            threading.Thread(target=feed_examples, name="facedetect-live-examples", daemon=True),
            *(
                threading.Thread(target=worker, name=f"facedetect-live-{i}", daemon=True)
                for i in range(workers)
            ),
        ]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:  # one end for all: the deadline, and a little grace
                thread.join(max(0.0, stop_at + _GRACE - self._clock()))
        except BaseException:  # Ctrl-C: what was judged is kept, the run is marked interrupted
            self.interrupted = True
            self.budget.cancel()
            self._store(pending, results)
            raise
        if any(thread.is_alive() for thread in threads):
            self.budget.cancel()
        if failure:
            raise failure[0]
        return pending, results, started

    def _store(self, pending: list[PlannedRequest], results: Mapping[str, Verdict]) -> None:
        # Plan order, whatever order the threads finished in; the examples drawn so far (an
        # interrupted run must not wait for the rest to be drawn).
        drawn = {**self._known_plan(), **(self._examples or {})}
        for name in drawn:
            if name in results:
                self.verdicts[name] = results[name]

    def _run_checks(self) -> list[Violation]:
        judged = [v for v in self.verdicts.values() if v.status == "judged" and v.interaction]
        repeated = {
            f"live-{v.planned.name}": f"live-{v.planned.repeat_of}"
            for v in judged
            if v.planned.repeat_of is not None
        }
        context = RunContext(
            self.contracts,
            answers=[(v.interaction, v.planned.case) for v in judged if v.interaction is not None],
            outcomes={
                v.interaction.name: v.outcome
                for v in judged
                if v.interaction is not None and v.outcome is not None
            },
            repeated=repeated,
        )
        return [dataclasses.replace(v, **self._redacted(v)) for v in run_run_checks(context)]

    def _redacted(self, violation: Violation) -> dict[str, Any]:
        return {
            key: self.redact(value)
            for key, value in violation.to_dict().items()
            if key in ("received", "documented", "title")
        }

    def verdict(self, name: str) -> Verdict:
        """The verdict of one request, sending it first if it was not sent yet."""
        if name not in self._planned_names():
            raise KeyError(f"no live request {name!r}; planned: {sorted(self._planned_names())}")
        if name not in self.verdicts:
            self.execute([name])
        return self.verdicts[name]  # execute leaves a verdict for every name it was given

    def _acknowledged(self, violation: Violation) -> bool:
        """Whether the baseline acknowledges ``violation`` (as the report names it)."""
        baseline = self.baseline
        return baseline is not None and baseline.acknowledges(self.named_in_report(violation))

    def _send_guarded(self, planned: PlannedRequest, stop_at: float) -> Verdict:
        if self._clock() >= stop_at or self.budget.cancelled:  # the deadline, or an interrupt
            return Verdict(planned, "not-sent", reason=self._not_sent_reason)
        try:
            return self._send(planned, stop_at)
        except Exception as error:  # a fault of the suite itself: an error of the run, named
            text = f"{type(error).__name__}: {error}"[:300]
            return self._error_of_the_run(
                planned, "error", f"the suite failed on this request ({text})"
            )
        finally:
            self._current.flight = None

    def _send(self, planned: PlannedRequest, stop_at: float) -> Verdict:
        if not self.budget.admit(planned.name, billable=planned.billable, keyed=planned.keyed):
            if self.budget.cancelled:
                return Verdict(
                    planned, "not-sent", reason="not sent: the run ended (its deadline, or Ctrl-C)"
                )
            why = (
                "it can be billed"
                if planned.billable
                else "the endpoint billed (or could not show it does not bill) a request the "
                "docs call free, so this one can be billed too"
            )
            return Verdict(
                planned,
                "not-sent",
                reason=f"not sent: {why}, and --max-billed {self.settings.max_billed} is used up",
            )
        flight = _InFlight(planned)
        self._current.flight = flight
        answered = False
        try:
            # The run's deadline bounds every attempt too: a request still in flight then ends.
            with deadline(max(0.0, stop_at - self._clock())):
                final = planned.request.send(self.client, name=f"live-{planned.name}")
        except (EndpointUnreachable, EndpointBroken) as error:
            if error.timed_out and self._clock() >= stop_at - _DEADLINE_SLACK:  # the run's
                return self._error_of_the_run(planned, "timed-out", self._deadline_reason, flight)
            status = "unreachable" if isinstance(error, EndpointUnreachable) else "broken"
            return self._error_of_the_run(
                planned, status, f"{error} (an error of the run, not drift)", flight
            )
        else:
            answered = faults.endpoint_fault(final.response, self.contracts) is None
        finally:
            self.budget.finish(planned.name, answered=answered)
        interaction = dataclasses.replace(  # the final attempt, named as planned
            final,
            name=f"live-{planned.name}",
            expectation=planned.expectation,
            description=planned.description,
        )
        recording = recording_for(interaction, self.recordings, self.contracts)
        with self._lock:
            self._recording[planned.name] = recording
        verdict = judge(
            planned,
            interaction,
            flight.attempts,
            contracts=self.contracts,
            redactor=self.redactor,
            endpoint=self.url,
            strict_drift=self.settings.strict_drift,
            recording=recording,
            cases_source=(
                f"the live cases file {self.settings.cases_file}"
                if self.settings.cases_file is not None
                else f"the default live cases of {self.contracts.profile.model}"
            ),
            acknowledged=self._acknowledged,
        )
        if verdict.is_run_error:
            if flight.retry_refused:
                verdict = dataclasses.replace(
                    verdict,
                    reason=f"{verdict.reason} (a retry was not sent: it could be billed and "
                    f"--max-billed {self.settings.max_billed} was used up)",
                )
            with self._lock:
                self.errors.append(RunError(verdict.reason, planned.name))
        elif self.settings.record:
            self.recorder.record(verdict)
        return verdict

    def _error_of_the_run(
        self,
        planned: PlannedRequest,
        status: Any,
        reason: str,
        flight: _InFlight | None = None,
    ) -> Verdict:
        reason = self.redact(reason)
        with self._lock:
            self.errors.append(RunError(reason, planned.name))
        attempts = tuple(flight.attempts) if flight is not None else ()
        last = attempts[-1] if attempts else None
        return Verdict(planned, status, last, attempts=attempts, reason=reason)

    # -- the run as a whole ------------------------------------------------------------------

    @property
    def spend(self) -> Spend:
        return self.budget.summary()

    @property
    def all_errors(self) -> list[RunError]:
        """Errors of the run, each a (request, cause) pair: the requests', those added from
        above (of the run as a whole), the recorder's."""
        return [
            *(e if isinstance(e, RunError) else RunError(e) for e in self.errors),
            *(self._recorder_error(text) for text in self.recorder.errors),
        ]

    def _recorder_error(self, text: str) -> RunError:
        """The recorder's error ``"<request>: <cause>"`` as its pair: the request is the
        longest name of the run it begins with, never a guess at the first ``": "``."""
        names = [name for name in self.verdicts if text.startswith(f"{name}: ")]
        if not names:
            return RunError(text)
        name = max(names, key=len)
        return RunError(text.removeprefix(f"{name}: "), name)

    def result(self, *, observe_questions: bool = True) -> RunResult:
        """The run as it stands, frozen, for the report: every verdict in the plan's order with
        the recording its answer was compared with, the cases' boxes, the errors as pairs, the
        spend, and (``observe_questions``) what the answers say on each open question.

        Known without drawing the examples: the report written at a run's start must not run
        Hypothesis."""
        contracts = self.contracts
        verdicts = [self.verdicts[name] for name in self.order if name in self.verdicts]
        requests = tuple(self._request_result(verdict) for verdict in verdicts)
        profile = contracts.profile
        return RunResult(
            endpoint=self.url,
            strict_drift=self.settings.strict_drift,
            contracts_version=contracts.version,
            requests=requests,
            cases=tuple(row for r in requests if (row := CaseResult.of(r, contracts)) is not None),
            run_findings=self.run_findings,
            errors=tuple(self.all_errors),
            spend=self.spend,
            observations=tuple(observe(verdicts, contracts)) if observe_questions else (),
            recorded=tuple(self.recorded),
            not_recorded=tuple(sorted(self.not_recorded.items())),
            selected=frozenset(self.selected),
            missing=self.missing,
            interrupted=self.interrupted,
            started=self.started,
            finished=self.finished,
            throttled=sum(
                1
                for v in verdicts
                for attempt in v.attempts
                if attempt.response.status == profile.throttle_status
            ),
            sources=tuple((source.title, source.url) for source in profile.sources.values()),
            model=profile.model,
            box_names=tuple(at.name for at in profile.boxes.values()),
        )

    def _request_result(self, verdict: Verdict) -> RequestResult:
        """A verdict with the recording its answer was compared with when judged; a case whose
        answer was an error of the run (never judged) gets the recording its last attempt
        matches, to draw its boxes beside."""
        interaction = verdict.interaction
        if verdict.name in self._recording:
            recording = self._recording[verdict.name]
        elif verdict.planned.case is not None and interaction is not None:
            recording = recording_for(interaction, self.recordings, self.contracts)
        else:
            recording = None
        if recording is None:
            return RequestResult(verdict)
        return RequestResult(verdict, recording, classify(recording.response, self.contracts))
