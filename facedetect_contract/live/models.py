"""Several models in one live run: one ``LiveRun`` per model, side by side, one budget, one end.

The face-detect path serves several models (emo-detect-v1, liveportrait-detect, ...), each with
its own answer shape, cases, probes and documented rate limit. A run guarding several of them
makes one ``LiveRun`` per model (its own plan, pacer at its model's rate, judging by its model's
contracts) and runs them at once, each on a thread of its own, so the run takes as long as its
slowest model, not the sum. The runs share one ``BudgetPool`` (``--max-billed`` is the run's) and
one deadline (``LiveRun.share_deadline``).

A request of such a run is named ``<model>/<name>`` (``emo-detect-v1/case-documented-1-1``): the
names the tests are parametrized by and the report shows, unique across models, so a finding's id
(check, interaction, place) and a baseline entry are one model's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from ..core.redaction import Redactor  # light: no endpoint, no httpx

if TYPE_CHECKING:  # light to import: the plugin names requests with it at collection
    from ..core.violations import Violation
    from .baseline import Baseline
    from .judging import Verdict
    from .run import LiveRun, LiveSettings

__all__ = [
    "SEPARATOR",
    "ModelsRun",
    "chosen_twice",
    "names_by_kind",
    "qualified",
    "qualified_finding",
    "split_qualified",
]

SEPARATOR = "/"  # between a model and its request's name: no model name or request id has one
# Seconds an interrupted run waits for its models' runs to store what they have (in-flight
# requests end at their own timeout; the queued ones are refused at once).
_INTERRUPT_GRACE = 5.0


def qualified(model: str, name: str) -> str:
    """The name of a model's request in a run of several models."""
    return f"{model}{SEPARATOR}{name}"


def names_by_kind(
    per_model: Iterable[tuple[str, Mapping[str, Sequence[str]]]],
) -> dict[str, tuple[str, ...]]:
    """Each model's request ids by kind made one run's: qualified ``<model>/<name>`` when there
    are several models, as they are when there is one."""
    given = list(per_model)
    names: dict[str, list[str]] = {}
    for model, own in given:
        for kind, ids in own.items():
            names.setdefault(kind, []).extend(
                qualified(model, name) if len(given) > 1 else name for name in ids
            )
    return {kind: tuple(ids) for kind, ids in names.items()}


def chosen_twice(models: Sequence[str], named: str = "--contracts or --model") -> str | None:
    """The usage error of a run given one model twice (two contracts folders of one model),
    naming the options (``named``) that chose them; ``None`` when each model is there once."""
    twice = sorted({model for model in models if list(models).count(model) > 1})
    if not twice:
        return None
    return (
        f"model {', '.join(twice)} is chosen twice (two contracts folders of one model); a run "
        f"guards each model once: drop one of them from {named}"
    )


def qualified_finding(model: str, violation: Violation) -> Violation:
    """A model's finding as the report of several models names it."""
    return dataclasses.replace(violation, interaction=qualified(model, violation.interaction))


def split_qualified(name: str) -> tuple[str, str]:
    """(model, request name) of a qualified name; ``KeyError`` when it names no model."""
    model, separator, rest = name.partition(SEPARATOR)
    if not separator or not model or not rest:
        raise KeyError(f"{name!r} names no model: a request of several models is MODEL/NAME")
    return model, rest


class ModelsRun:
    """The runs of several models, executed side by side (see the module's docstring)."""

    def __init__(
        self, runs: Sequence[LiveRun], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        models = [run.contracts.profile.model for run in runs]
        problem = chosen_twice(models)
        if problem is not None:
            raise ValueError(problem)
        if not runs:
            raise ValueError("a run of several models needs at least one model")
        self.runs = tuple(runs)
        self.by_model = dict(zip(models, self.runs, strict=True))
        self._clock = clock
        for model, run in self.by_model.items():  # its findings as the report names them
            run.named_in_report = functools.partial(qualified_finding, model)
        # Set by the session: the run's one baseline (its entries name qualified requests).
        self.baseline: Baseline | None = None
        self.redactor = Redactor([run.secret for run in self.runs])  # every model's key

    def __repr__(self) -> str:
        return f"ModelsRun(models={list(self.by_model)})"

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self.by_model)

    def _split(self, names: Iterable[str]) -> dict[str, list[str]]:
        """The names by model; ``KeyError`` naming one that no chosen model has."""
        wanted: dict[str, list[str]] = {model: [] for model in self.by_model}
        for name in names:
            model, own = split_qualified(name)
            if model not in wanted:
                raise KeyError(
                    f"{name!r}: no model {model!r} in this run; its models: {list(self.by_model)}"
                )
            wanted[model].append(own)
        return wanted

    def execute(self, names: Iterable[str] | None = None) -> None:
        """Send the named requests (default: every model's every one), each model's run on a
        thread of its own, within one deadline; a model with nothing named sends nothing."""
        if names is None:
            wanted: dict[str, list[str] | None] = dict.fromkeys(self.by_model)
        else:
            wanted = {m: own for m, own in self._split(names).items() if own}
        for model, run in self.by_model.items():
            if model not in wanted:  # nothing asked of it: the pool keeps no slot for it
                run.budget.close()
        deadline = max(run.settings.deadline for run in self.runs)
        stop_at = self._clock() + deadline
        for run in self.runs:
            run.share_deadline(stop_at)
        failures: list[BaseException] = []

        def execute(run: LiveRun, own: list[str] | None) -> None:
            try:
                run.execute(own)
            except BaseException as error:  # re-raised below, once every model is done
                failures.append(error)
            finally:
                run.budget.close()  # done sending: the pool keeps no slot for it

        threads = [
            threading.Thread(
                target=execute,
                args=(self.by_model[model], own),
                name=f"facedetect-live-{model}",
                daemon=True,  # a run stuck past its deadline must not keep the process alive
            )
            for model, own in wanted.items()
        ]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        except BaseException:  # Ctrl-C: every model's run ends, marked interrupted
            for run in self.runs:
                run.interrupted = True
                run.budget.cancel()  # what is queued is not sent; what is in flight ends
            # The runs store their verdicts as their threads end: the report is made after
            # that, not while they still write (a second Ctrl-C stops the wait).
            with contextlib.suppress(KeyboardInterrupt):
                ends = self._clock() + _INTERRUPT_GRACE
                for thread in threads:
                    thread.join(max(0.0, ends - self._clock()))
            raise
        if failures:
            raise failures[0]

    @property
    def settings(self) -> LiveSettings:
        """The settings the models' runs share (each has its own recordings' folder)."""
        return self.runs[0].settings

    def redact(self, text: str) -> str:
        return self.redactor.text(text)

    def verdict(self, name: str) -> Verdict:
        """The verdict of a qualified request name, its findings naming their interaction as
        the report does (``<model>/<name>``): the baseline's entries match them, and a test's
        failure names the model."""
        model, own = split_qualified(name)
        if model not in self.by_model:
            raise KeyError(f"{name!r}: no model {model!r} in this run")
        verdict = self.by_model[model].verdict(own)
        return dataclasses.replace(
            verdict, violations=tuple(qualified_finding(model, v) for v in verdict.violations)
        )

    def seconds_left(self) -> float:
        return max(run.seconds_left() for run in self.runs)

    def close(self) -> None:
        for run in self.runs:
            run.close()
