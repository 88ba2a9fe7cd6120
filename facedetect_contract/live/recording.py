"""Recording live answers as fixtures that offline replay can serve as they stand.

Not recorded (and counted, with the reason): an answer with a breaking finding or that no
documented reading explains (replayed, it would fail the offline suite), one without an
``expect`` to type it by, and a second answer to a request already recorded in the run (replay
could not tell them apart: the first one wins). The answer is judged as it came; what is written is
redacted (the interaction's own redactor, then the run's keys again), validated against
the interaction schema in memory first (so the loader accepts every fixture written), and
written atomically.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import re
import threading
from datetime import UTC, datetime
from pathlib import Path

from ..contracts.fixtures import dump_fixture, write_atomically
from ..contracts.loader import Contracts
from ..core.interaction import RecordedRequest, RecordedResponse
from ..core.redaction import Secret
from ..core.violations import Severity
from ..doubles.offline import ReplayKey, replay_key
from .judging import Verdict

__all__ = ["Recorder", "expect_of"]

_TOKEN = re.compile(r"[^a-z0-9!#$%&'*+.^_`|~-]")


def expect_of(verdict: Verdict) -> dict[str, str] | None:
    """The fixture's ``expect`` for a judged answer: what replay must type it as."""
    outcome = verdict.outcome
    if outcome is None:
        return None
    if outcome.kind == "passed":
        return {"result": "check_passed"}
    if outcome.kind == "failed":
        expect = {"result": "check_failed", "shape": outcome.shape or ""}
        return {**expect, "code": outcome.code} if outcome.code else expect
    if outcome.kind == "request_error" and outcome.code:
        return {"result": "request_error", "code": outcome.code}
    return None


def _why_not(verdict: Verdict, expect: dict[str, str] | None) -> str | None:
    """Why replaying this answer would fail the offline suite, or ``None`` when it would not."""
    if any(v.severity is Severity.BREAKING for v in verdict.violations):
        return "answers with breaking findings"
    if verdict.outcome is None or verdict.outcome.kind == "unexplained":
        return "answers no documented reading explains"
    if expect is None:
        return "answers without a documented code to expect"
    return None


def _tokens(headers: dict[str, str]) -> dict[str, str]:
    """Header names as lower-case HTTP tokens: any other character becomes ``-``."""
    return {_TOKEN.sub("-", name.lower()): value for name, value in headers.items()}


class Recorder:
    """Writes the answers of one live run to ``directory``; thread-safe."""

    def __init__(
        self, directory: Path, contracts: Contracts, secrets: list[Secret | str | None]
    ) -> None:
        self.directory = directory
        self._contracts = contracts
        self._secrets = secrets
        self._lock = threading.Lock()
        self._keys: dict[ReplayKey, str] = {}
        self.recorded: list[Path] = []
        self.not_recorded: collections.Counter[str] = collections.Counter()  # why, how many
        self.errors: list[str] = []

    def record(self, verdict: Verdict) -> None:
        """Write the verdict's final answer as a fixture, if replay can serve it as it stands."""
        interaction = verdict.interaction
        if interaction is None or verdict.status != "judged":
            return
        expect = expect_of(verdict)
        why_not = _why_not(verdict, expect)
        key = replay_key(interaction.request, self._contracts)
        with self._lock:
            if why_not is None and self._keys.setdefault(key, verdict.name) != verdict.name:
                why_not = "answers to a request already recorded in this run"
            if why_not is not None:
                self.not_recorded[why_not] += 1
                return
        provenance = {
            "kind": "recorded",
            "date": datetime.now(UTC).date().isoformat(),
            "host": str(interaction.provenance.get("host", "")) or "unknown",
        }
        if verdict.planned.case is not None:
            provenance["case"] = verdict.planned.case.name
        request, response = interaction.request, interaction.response
        recorded = dataclasses.replace(
            interaction,
            request=RecordedRequest(
                request.method,
                _tokens(dict(request.headers)),
                request.body,
                request.body_text,
                redactor=request.redactor,
            ),
            response=RecordedResponse(
                response.status,
                _tokens(dict(response.headers)),
                response.body,
                response.body_is_json,
                redactor=response.redactor,
            ),
            provenance=provenance,
            expect=expect,
            expectation=None,
        )
        text = dump_fixture(recorded, self._secrets)
        problems = list(self._contracts.validator("interaction").iter_errors(json.loads(text)))
        if problems:  # the loader would refuse it: better unrecorded than a broken next run
            with self._lock:
                self.not_recorded["answers the fixture format cannot hold"] += 1
            return
        target = self.directory / f"{recorded.name}.json"
        try:
            write_atomically(target, text)
        except OSError as error:
            with self._lock:
                self.errors.append(f"{verdict.name}: recording failed: {error.strerror}")
            return
        with self._lock:
            self.recorded.append(target)
