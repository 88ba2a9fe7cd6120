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

from .baseline import Baseline
from .budget import BillingBudget, Spend, images_billed
from .cases import DEFAULT_CASES_FILE, LiveCase
from .checks import RunContext, run_run_checks
from .client import EndpointBroken, EndpointUnreachable, FaceDetectClient, endpoint_url
from .contracts import Contracts, load_contracts
from .drift import recording_for
from .fixtures import FIXTURE_DIR, fixtures_beside
from .interaction import Interaction
from .judging import Verdict, endpoint_failure, judge
from .pacing import Pacer
from .plan import (
    PlannedRequest,
    case_requests,
    example_names,
    generated_requests,
    negative_probes,
    planned_names,
)
from .recording import Recorder
from .redaction import Redactor, Secret
from .transport import deadline, listen_for_writes
from .violations import Violation

__all__ = ["REPORT_SUFFIXES", "LiveRun", "LiveSettings", "Verdict", "planned_names"]

WORKERS = 8
REPORT_SUFFIXES = (".json", ".md", ".html")
# Seconds past the run deadline for the threads to see it: the transport ends every socket
# operation at the deadline, so this covers what it does not bound (a pacing or retry wait).
_GRACE = 2.0
# A socket's timeout may end a millisecond early: a request timing out this close to the run's
# deadline was cut off by it.
_DEADLINE_SLACK = 0.05


@dataclass(frozen=True)
class LiveSettings:
    """What the live options asked for, with the defaults every option takes from here.

    ``ValueError`` names the option when a value is wrong. ``qps`` ``None`` is the profile's
    documented rate limit.
    """

    base_url: str | None = None
    cases_file: Path = DEFAULT_CASES_FILE
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
        if self.examples < 0:
            raise ValueError(f"--live-examples must be 0 or more, not {self.examples}")
        if self.max_billed < 0:
            raise ValueError(f"--max-billed must be 0 or more, not {self.max_billed}")
        if self.qps is not None and not (math.isfinite(self.qps) and self.qps >= 0):
            raise ValueError(f"--live-qps must be 0 (unpaced) or a finite number, not {self.qps}")
        if not (math.isfinite(self.deadline) and self.deadline > 0):
            raise ValueError(
                f"--live-deadline must be a number of seconds > 0, not {self.deadline}"
            )
        if not (math.isfinite(self.timeout) and self.timeout > 0):
            raise ValueError(f"--live-timeout must be a number of seconds > 0, not {self.timeout}")
        if self.update_baseline and self.baseline is None:
            raise ValueError("--update-baseline needs --baseline FILE: the file to write")
        for path in self.reports:
            if path.suffix.lower() not in REPORT_SUFFIXES:
                raise ValueError(
                    f"--drift-report {path}: give a path ending in one of {list(REPORT_SUFFIXES)} "
                    f"(one option per format)"
                )


def _is_our_report(path: Path) -> bool:
    """Whether ``path`` holds a report this suite wrote (so writing over it loses nothing)."""
    from .report import looks_like_report  # noqa: PLC0415  # report imports live

    return looks_like_report(path)


def check_outputs(settings: LiveSettings) -> None:
    """``ValueError`` when writing a report would replace a file the user has: an input of the
    run, or an existing file that is not an earlier report of this suite."""
    inputs = {settings.cases_file.resolve(), *(p.resolve() for p in settings.inputs)}
    inputs |= {p.resolve() for p in (settings.baseline, settings.history) if p is not None}
    seen: set[Path] = set()
    for path in settings.reports:
        resolved = path.resolve()
        if resolved in seen:
            raise ValueError(f"--drift-report {path} is given twice; give each path once")
        seen.add(resolved)
        if resolved in inputs or resolved.parent == settings.record_dir.resolve():
            raise ValueError(
                f"--drift-report {path} is an input of the run (or in the fixture folder); "
                f"write the report elsewhere, such as reports/drift{path.suffix}"
            )
        if resolved.is_dir():
            raise ValueError(f"--drift-report {path} is a directory; give a file path")
        if resolved.exists() and not _is_our_report(resolved):
            raise ValueError(
                f"--drift-report {path} exists and is not a report of this suite; it would be "
                f"replaced: give another path (or delete the file yourself)"
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
    ) -> None:
        if not cases:
            raise ValueError("a live run needs at least one case")
        self.settings = settings
        self.cases = cases
        self.contracts = contracts or load_contracts()
        profile = self.contracts.profile
        self.budget = BillingBudget(
            settings.max_billed, price=profile.price, currency=profile.currency
        )
        self.url = endpoint_url(settings.base_url, environ, self.contracts)  # names a bad URL
        self._secret = Secret.from_env(environ, name=profile.api_key_env)
        self.redactor = Redactor([self._secret])
        self._environ = environ
        self._transport = transport
        self._sleep, self._clock = sleep, clock
        qps = profile.qps if settings.qps is None else settings.qps
        self._pacer = Pacer(qps, sleep=sleep)
        self._current = threading.local()  # .flight: the request this thread is sending
        self._lock = threading.Lock()
        self._client: FaceDetectClient | None = None
        self._plan: dict[str, PlannedRequest] | None = None
        self._known: dict[str, PlannedRequest] | None = None
        self._examples: dict[str, PlannedRequest] | None = None
        self._generating = threading.Lock()  # the examples are drawn once, by one thread
        self._recordings: list[Interaction] | None = None
        self.recorder = Recorder(settings.record_dir, self.contracts, [self._secret])
        self.verdicts: dict[str, Verdict] = {}
        self.selected: set[str] = set()  # every request a test asked for
        self.run_findings: tuple[Violation, ...] = ()
        self.baseline: Baseline | None = None  # acknowledged findings fail no test
        self.errors: list[str] = []
        self.interrupted = False
        self.started: datetime | None = None
        self.finished: datetime | None = None

    def __repr__(self) -> str:
        return f"LiveRun(endpoint={self.url!r}, verdicts={len(self.verdicts)})"

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
        """The generated examples (Hypothesis draws them: the slow part of planning)."""
        with self._generating:
            if self._examples is None:
                generated = generated_requests(self.settings.examples, self.contracts)
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
        stop_at = self._clock() + self.settings.deadline
        pending, results = self._send_all(early, wanted if examples_wanted else set(), stop_at)
        for planned in pending:
            if planned.name not in results:
                results[planned.name] = self._error_of_the_run(
                    planned, "timed-out", self._deadline_reason
                )
        self._store(pending, results)
        self.run_findings = tuple(self._run_checks())
        self.finished = datetime.now(UTC)

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
    ) -> tuple[list[PlannedRequest], dict[str, Verdict]]:
        """Send ``early`` and the wanted ``examples`` (drawn meanwhile) on the worker threads:
        (every request handed to them, their verdicts)."""
        work: queue.SimpleQueue[PlannedRequest | None] = queue.SimpleQueue()
        for planned in early:
            work.put(planned)
        workers = min(WORKERS, len(early) + (self.settings.examples if examples else 0))
        pending = list(early)
        failure: list[BaseException] = []
        results: dict[str, Verdict] = {}

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
        return pending, results

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
        return self.verdicts[name]

    def _send_guarded(self, planned: PlannedRequest, stop_at: float) -> Verdict:
        if self._clock() >= stop_at:
            return Verdict(
                planned,
                "not-sent",
                reason=f"not sent: the run's deadline ({self.settings.deadline:g} s) had passed",
            )
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
            answered = endpoint_failure(final, self.contracts) is None
        finally:
            self.budget.finish(planned.name, answered=answered)
        interaction = dataclasses.replace(  # the final attempt, named as planned
            final,
            name=f"live-{planned.name}",
            expectation=planned.expectation,
            description=planned.description,
        )
        verdict = judge(
            planned,
            interaction,
            flight.attempts,
            contracts=self.contracts,
            redactor=self.redactor,
            endpoint=self.url,
            strict_drift=self.settings.strict_drift,
            recording=recording_for(interaction, self.recordings, self.contracts),
            cases_source=f"the live cases file {self.settings.cases_file}",
            acknowledged=self.baseline.acknowledges if self.baseline else lambda _: False,
        )
        if verdict.is_run_error:
            if flight.retry_refused:
                verdict = dataclasses.replace(
                    verdict,
                    reason=f"{verdict.reason} (a retry was not sent: it could be billed and "
                    f"--max-billed {self.settings.max_billed} was used up)",
                )
            with self._lock:
                self.errors.append(f"{planned.name}: {verdict.reason}")
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
            self.errors.append(f"{planned.name}: {reason}")
        attempts = tuple(flight.attempts) if flight is not None else ()
        last = attempts[-1] if attempts else None
        return Verdict(planned, status, last, attempts=attempts, reason=reason)

    # -- the run as a whole ------------------------------------------------------------------

    @property
    def spend(self) -> Spend:
        return self.budget.summary()

    @property
    def all_errors(self) -> list[str]:
        """Errors of the run: the requests' and the recorder's."""
        return [*self.errors, *self.recorder.errors]
