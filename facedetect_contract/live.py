"""A live run: the planned requests sent once, concurrently and paced, within the budget, judged.

The pytest plugin makes one ``LiveRun`` per session; the first live test executes every selected
request (cases, free probes, generated examples) on a thread pool, paced under the documented
QPS limit, and each test then reads its ``Verdict``. Judging happens here, not in the tests, so
the findings of the whole run are in one place for the terminal summary and the drift report.

A refused connection or a timeout is an error of the run ("endpoint unreachable"), and so is a
429, 500 or 503 that outlasts the retries ("throttled", "endpoint failing"): none says anything
about the contract, so none is drift. The pacer runs before every attempt, retries included, and
the budget admits each request just before it is sent (see ``budget``).
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import httpx

from .budget import BillingBudget, Spend, images_billed
from .cases import DEFAULT_CASES_FILE, LiveCase
from .checks import run_checks
from .client import (
    RETRYABLE_STATUSES,
    CheckFailed,
    CheckPassed,
    EndpointUnreachable,
    FaceDetectClient,
    RequestError,
    UnexpectedResponse,
    endpoint_url,
)
from .contracts import Contracts, load_contracts
from .drift import behaviour_drift, recording_for
from .fixtures import FIXTURE_DIR, load_fixtures, write_fixture
from .interaction import Interaction
from .offline import ReplayKey, replay_key
from .probes import (
    PROBE_NAMES,
    PlannedRequest,
    case_requests,
    example_names,
    generated_requests,
    negative_probes,
)
from .redaction import Secret, redact_text
from .violations import Severity, Violation

__all__ = [
    "DEFAULT_QPS",
    "EXPECT_CHECK",
    "LiveRun",
    "LiveSettings",
    "Pacer",
    "Verdict",
    "planned_names",
]

DEFAULT_QPS = 5.0  # emo-detect-v1's documented limit (API file section 6)
EXPECT_CHECK = "live_case_meets_its_expect"
WORKERS = 8
# Start requests 10 % under the limit: the gateway's window and our clock do not line up exactly.
_HEADROOM = 0.9

Status = Literal["judged", "not-sent", "unreachable", "throttled", "failing"]


@dataclass(frozen=True)
class LiveSettings:
    """What the live options asked for; ``ValueError`` names the option when a value is wrong."""

    base_url: str | None = None
    cases_file: Path = DEFAULT_CASES_FILE
    examples: int = 20
    max_billed: int = 4
    record: bool = False
    record_dir: Path = FIXTURE_DIR
    drift_report: Path | None = None
    strict_drift: bool = False
    qps: float = DEFAULT_QPS
    timeout: float = 30.0
    max_retries: int = 3
    max_retry_wait: float = 10.0

    def __post_init__(self) -> None:
        if self.examples < 0:
            raise ValueError(f"--live-examples must be 0 or more, not {self.examples}")
        if self.max_billed < 0:
            raise ValueError(f"--max-billed must be 0 or more, not {self.max_billed}")
        if not self.qps >= 0:
            raise ValueError(f"--live-qps must be 0 (unpaced) or more, not {self.qps}")
        if self.drift_report is not None and self.drift_report.suffix.lower() != ".json":
            raise ValueError(
                f"--drift-report {self.drift_report}: give a .json path; the Markdown "
                f"rendering is written beside it ({self.drift_report.with_suffix('.md').name})"
            )


def planned_names(cases: Iterable[LiveCase], examples: int) -> dict[str, tuple[str, ...]]:
    """The ids of the run's requests by kind, known before anything is drawn or sent."""
    return {
        "case": tuple(f"case-{case.slug}" for case in cases),
        "probe": tuple(f"probe-{name}" for name in PROBE_NAMES),
        "example": example_names(examples),
    }


class Pacer:
    """Spaces request starts across threads so a run stays under ``qps`` (0: no pacing).

    The limit is a count per second, so up to ``int(qps)`` requests may start together; the
    next one waits until the oldest of them is a window old. The window is stretched by the
    headroom, because the gateway's window and our clock do not line up exactly.
    """

    def __init__(
        self,
        qps: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._burst = max(1, int(qps)) if qps > 0 else 0
        self._window = self._burst / (qps * _HEADROOM) if qps > 0 else 0.0
        self._clock, self._sleep = clock, sleep
        self._starts: collections.deque[float] = collections.deque(maxlen=self._burst or 1)
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self._burst:
            return
        with self._lock:
            now = self._clock()
            start = now
            if len(self._starts) == self._burst:
                start = max(now, self._starts[0] + self._window)
            self._starts.append(start)
        if start > now:
            self._sleep(start - now)


@dataclass(frozen=True)
class Verdict:
    """What became of one planned request: judged (with its findings), not sent, or an error."""

    planned: PlannedRequest
    status: Status
    interaction: Interaction | None = None
    violations: tuple[Violation, ...] = ()
    attempts: tuple[Interaction, ...] = ()
    reason: str = ""
    message: str | None = None  # why its test fails (redacted); None when it passes

    @property
    def name(self) -> str:
        return self.planned.name

    @property
    def breaking(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity is Severity.BREAKING)

    @property
    def additive(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity is Severity.ADDITIVE)


def _result_of(
    client: FaceDetectClient, interaction: Interaction
) -> CheckPassed | CheckFailed | RequestError | UnexpectedResponse:
    try:
        return client.result(interaction)
    except (RequestError, UnexpectedResponse) as error:
        return error


def _expect_of(
    result: CheckPassed | CheckFailed | RequestError | UnexpectedResponse,
) -> dict[str, str] | None:
    """The fixture's ``expect`` for a recorded result: what replay must type it as."""
    if isinstance(result, CheckPassed):
        return {"result": "check_passed"}
    if isinstance(result, CheckFailed):
        expect = {"result": "check_failed", "shape": result.shape}
        return {**expect, "code": result.code} if result.code else expect
    if isinstance(result, RequestError) and result.code:
        return {"result": "request_error", "code": result.code}
    return None


def _why_not_recorded(
    result: CheckPassed | CheckFailed | RequestError | UnexpectedResponse,
    expect: dict[str, str] | None,
    violations: list[Violation],
) -> str | None:
    """Why replaying this answer would fail the offline suite, or ``None`` when it would not."""
    if any(v.severity is Severity.BREAKING for v in violations):
        return "answers with breaking findings"
    if isinstance(result, UnexpectedResponse):
        return "answers no documented reading explains"
    if expect is None:
        return "answers without a documented code to expect"
    return None


def _describe(result: CheckPassed | CheckFailed | RequestError | UnexpectedResponse) -> str:
    if isinstance(result, CheckPassed):
        return "the portrait check passed"
    if isinstance(result, CheckFailed):
        code = f", code {result.code!r}" if result.code else ""
        return f"the portrait check failed (shape {result.shape}{code})"
    if isinstance(result, RequestError):
        return f"a request failure: HTTP {result.status} {result.code or '(no code)'}"
    return f"a response no documented reading explains ({result.reason})"


class LiveRun:
    """The requests of one live session, their verdicts, the budget and what was recorded."""

    def __init__(
        self,
        settings: LiveSettings,
        cases: tuple[LiveCase, ...],
        *,
        contracts: Contracts | None = None,
        environ: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not cases:
            raise ValueError("a live run needs at least one case")
        self.settings = settings
        self.cases = cases
        self.contracts = contracts or load_contracts()
        self.budget = BillingBudget(settings.max_billed)
        self.url = endpoint_url(settings.base_url, environ)  # ValueError names a bad base URL
        self._secret = Secret.from_env(environ)
        self._environ = environ
        self._transport = transport
        self._sleep = sleep
        self._pacer = Pacer(settings.qps, sleep=sleep)
        self._attempts = threading.local()  # .seen: every attempt of the request in flight
        self._lock = threading.Lock()
        self._client: FaceDetectClient | None = None
        self._plan: dict[str, PlannedRequest] | None = None
        self._recordings: list[Interaction] | None = None
        self._recorded_keys: dict[ReplayKey, str] = {}
        self.verdicts: dict[str, Verdict] = {}
        self.recorded: list[Path] = []
        self.not_recorded: collections.Counter[str] = collections.Counter()  # why, how many
        self.errors: list[str] = []
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
                before_attempt=self._pacer.wait,  # retries too: every attempt counts for QPS
                contracts=self.contracts,
                environ=self._environ,
            )
        return self._client

    def _on_exchange(self, interaction: Interaction) -> None:
        seen = getattr(self._attempts, "seen", None)
        if seen is not None:
            seen.append(interaction)

    @property
    def plan(self) -> dict[str, PlannedRequest]:
        """Every request of the run by id: cases, then probes, then generated examples."""
        if self._plan is None:
            planned = (
                *case_requests(self.cases),
                *negative_probes(self.cases[0].image_url, self.contracts),
                *generated_requests(self.settings.examples, self.contracts),
            )
            self._plan = {request.name: request for request in planned}
        return self._plan

    @property
    def recordings(self) -> list[Interaction]:
        """The fixtures a case's behaviour is compared with (``FixtureFileError`` when broken)."""
        if self._recordings is None:
            directory = self.settings.record_dir
            self._recordings = (
                load_fixtures(directory, self.contracts) if directory.is_dir() else []
            )
        return self._recordings

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def redact(self, text: str) -> str:
        """``text`` without the key or anything key-like."""
        return redact_text(text, [self._secret])

    # -- executing ---------------------------------------------------------------------------

    def execute(self, names: Iterable[str] | None = None) -> None:
        """Send the named requests (default: all) not sent yet, cases first for the budget."""
        wanted = set(self.plan) if names is None else set(names)
        _ = self.recordings  # a broken fixture file stops the run before anything is sent
        pending = [
            planned
            for planned in self.plan.values()
            if planned.name in wanted and planned.name not in self.verdicts
        ]
        if not pending:
            return
        trial = next((p for p in pending if p.keyed and not p.billable), None)
        if trial is not None and self.budget.trial(trial.name):
            # Sent first: the keyed requests wait for its answer (see budget), so it must not
            # queue behind them.
            pending = [trial, *(p for p in pending if p is not trial)]
        self.budget.queue(p.name for p in pending if p.keyed)  # the slots go in plan order
        _ = self.client  # made once, before the threads share it
        self.started = self.started or datetime.now(UTC)
        with ThreadPoolExecutor(max_workers=min(WORKERS, len(pending))) as pool:
            for verdict in pool.map(self._send, pending):
                self.verdicts[verdict.name] = verdict
        self.finished = datetime.now(UTC)

    def verdict(self, name: str) -> Verdict:
        """The verdict of one request, sending it first if it was not sent yet."""
        if name not in self.plan:
            raise KeyError(f"no live request {name!r}; planned: {sorted(self.plan)}")
        if name not in self.verdicts:
            self.execute([name])
        return self.verdicts[name]

    def _send(self, planned: PlannedRequest) -> Verdict:
        if not self.budget.admit(planned.name, billable=planned.billable, keyed=planned.keyed):
            why = (
                "it can be billed"
                if planned.billable
                else "the endpoint billed a request the docs call free, so this one can be too"
            )
            return Verdict(
                planned,
                "not-sent",
                reason=f"not sent: {why}, and --max-billed {self.settings.max_billed} is used up",
            )
        self._attempts.seen = []
        try:
            interaction = planned.request.send(self.client, name=f"live-{planned.name}")
        except EndpointUnreachable as error:
            reason = f"endpoint unreachable: {error} (an error of the run, not drift)"
            return self._error_of_the_run(planned, "unreachable", reason)
        finally:
            seen: list[Interaction] = self._attempts.seen
            self.budget.settle(
                planned.name,
                sum(images_billed(attempt) for attempt in seen),
                answered=bool(seen) and seen[-1].response.status not in RETRYABLE_STATUSES,
            )
        attempts = tuple(self._attempts.seen)
        interaction = dataclasses.replace(  # the final attempt, named as planned
            interaction,
            name=f"live-{planned.name}",
            expectation=planned.expectation,
            description=planned.description,
        )
        status = interaction.response.status
        if status in RETRYABLE_STATUSES:  # still 429, 500 or 503 after the retries
            body = interaction.response.body
            code = body.get("code") if isinstance(body, dict) else None
            answer = f"HTTP {status}" + (f" {code}" if isinstance(code, str) else "")
            retries = f"after {len(attempts) - 1} retries (an error of the run, not drift)"
            if status == 429:
                reason = f"throttled: still {answer} {retries}; lower --live-qps or run again later"
                return self._error_of_the_run(planned, "throttled", reason, interaction, attempts)
            reason = f"endpoint failing: {answer} {retries}; run again later"
            return self._error_of_the_run(planned, "failing", reason, interaction, attempts)
        result = _result_of(self.client, interaction)
        violations = run_checks(interaction, self.contracts)
        if planned.case is not None:
            violations += self._judge_case(planned.case, interaction, result)
        if self.settings.record:
            self._record(planned, interaction, result, violations)
        return Verdict(
            planned,
            "judged",
            interaction,
            tuple(violations),
            attempts,
            message=self._message(planned, violations),
        )

    def _error_of_the_run(
        self,
        planned: PlannedRequest,
        status: Status,
        reason: str,
        interaction: Interaction | None = None,
        attempts: tuple[Interaction, ...] = (),
    ) -> Verdict:
        reason = self.redact(reason)
        with self._lock:
            self.errors.append(f"{planned.name}: {reason}")
        return Verdict(planned, status, interaction, attempts=attempts, reason=reason)

    def _judge_case(
        self,
        case: LiveCase,
        interaction: Interaction,
        result: CheckPassed | CheckFailed | RequestError | UnexpectedResponse,
    ) -> list[Violation]:
        """The case's ``expect``, and behaviour drift against its recording and boxes."""
        found = behaviour_drift(
            interaction,
            recording=recording_for(interaction, self.recordings, self.contracts),
            case=case,
            contracts=self.contracts,
        )
        passed = (
            True
            if isinstance(result, CheckPassed)
            else (False if isinstance(result, CheckFailed) else None)
        )
        met = {"pass": passed is True, "fail": passed is False, "any": passed is not None}
        if not met[case.expect]:
            wanted = {
                "pass": "the portrait check passes",
                "fail": "the portrait check fails (shape A or B)",
                "any": "the portrait check passes or fails, not a request failure",
            }[case.expect]
            found.append(
                Violation(
                    check=EXPECT_CHECK,
                    interaction=interaction.name,
                    pointer="/output/check_pass" if interaction.response.status == 200 else "",
                    received=_describe(result),
                    documented=f"expect {case.expect!r}: {wanted}",
                    severity=Severity.BREAKING,
                    source=f"{self.settings.cases_file}, entry {case.name!r}",
                    title=f"live case {case.name!r} did not meet its expect {case.expect!r}",
                )
            )
        return found

    def _message(self, planned: PlannedRequest, violations: list[Violation]) -> str | None:
        failing = [
            v for v in violations if v.severity is Severity.BREAKING or self.settings.strict_drift
        ]
        if not failing:
            return None
        lines = [
            f"{planned.name}: {planned.description}",
            f"endpoint: {self.url}",
            *(str(v) for v in failing),
        ]
        if not self.settings.strict_drift and len(failing) < len(violations):
            lines.append(f"(and {len(violations) - len(failing)} additive finding(s), not failing)")
        return self.redact("\n".join(lines))

    def _record(
        self,
        planned: PlannedRequest,
        interaction: Interaction,
        result: CheckPassed | CheckFailed | RequestError | UnexpectedResponse,
        violations: list[Violation],
    ) -> None:
        """Write the final answer as a fixture, if offline replay can serve it as it stands.

        Not recorded: an answer with a breaking finding or that no documented reading explains
        (replayed, it would fail the offline suite), one without an ``expect`` to type it by, and
        a second answer to a request already recorded in this run (replay could not tell them
        apart: the first one wins).
        """
        expect = _expect_of(result)
        why_not = _why_not_recorded(result, expect, violations)
        key = replay_key(interaction.request)  # the key replay will serve it by
        with self._lock:
            if (
                why_not is None
                and self._recorded_keys.setdefault(key, planned.name) != planned.name
            ):
                why_not = "answers to a request already recorded in this run"
            if why_not is not None:
                self.not_recorded[why_not] += 1
                return
        provenance = {
            "kind": "recorded",
            "date": datetime.now(UTC).date().isoformat(),
            "host": str(interaction.provenance.get("host", "")) or "unknown",
        }
        if planned.case is not None:
            provenance["case"] = planned.case.name
        recorded = dataclasses.replace(
            interaction, provenance=provenance, expect=expect, expectation=None
        )
        try:
            path = write_fixture(recorded, self.settings.record_dir, secrets=[self._secret])
        except (OSError, ValueError) as error:
            with self._lock:
                self.errors.append(self.redact(f"{planned.name}: recording failed: {error}"))
            return
        with self._lock:
            self.recorded.append(path)

    # -- the run as a whole ------------------------------------------------------------------

    @property
    def spend(self) -> Spend:
        return self.budget.summary()
