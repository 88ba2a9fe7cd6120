"""One live session end to end, without pytest: settings in, report out.

The policy around a live run lives here once, for every surface that starts one (the pytest
plugin's ``--live``, and ``facedetect-contract live``): the live options and what they mean
(``live_options``, ``live_settings``), the key read from its variable only, the reports written at
the start as "unfinished" (a run killed before its end leaves no report saying "passed"), and at
the end rendered, then written, then the baseline updated, and the history line last (so it
carries the outcome the reports and the exit status carry). The surfaces translate their own
words into these calls, and their usage errors from ``SessionError``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .core import inert
from .core.data import PACKAGE_DIR

if TYPE_CHECKING:
    from datetime import date

    import httpx

    from .contracts.loader import Contracts
    from .core.redaction import Secret
    from .live.baseline import Baseline, BaselineUpdate
    from .live.run import LiveRun, LiveSettings
    from .report import LiveReport

__all__ = [
    "LiveSession",
    "SessionError",
    "Tone",
    "default",
    "default_record_dir",
    "live_key",
    "live_only_flags",
    "live_options",
    "live_settings",
]

Tone = Literal["red", "yellow", "green", ""]


class SessionError(ValueError):
    """A usage error of the session (an option, a file, the key), said before anything is sent;
    its text names what to change and never the key."""


def default(name: str) -> Any:
    """An option's default, declared once: the field of ``LiveSettings``."""
    from .live.run import LiveSettings  # noqa: PLC0415  # heavy: only when --help or --live asks

    return next(f.default for f in fields(LiveSettings) if f.name == name)


def live_options() -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """The live session's options, in the order ``--help`` shows them: each its flags and the
    keyword arguments argparse's ``add_argument`` (and pytest's ``addoption``) take."""
    from .contracts.profile import profile_data  # noqa: PLC0415  # the raw JSON: no validators
    from .live.baseline import DEFAULT_UNTIL_DAYS  # noqa: PLC0415

    names = profile_data()
    return [
        (
            ("--live-cases",),
            {
                "dest": "facedetect_live_cases",
                "metavar": "PATH",
                "default": None,
                "help": f"JSON list of image cases {{name, {names['image_field']}, "
                f"{names['ratio_field']}, expect}}; default: "
                "the packaged live-cases.json (the documented image at both ratios)",
            },
        ),
        (
            ("--live-examples",),
            {
                "dest": "facedetect_live_examples",
                "metavar": "N",
                "type": int,
                "default": None,
                "help": f"generated invalid requests to send live (default {default('examples')})",
            },
        ),
        (
            ("--max-billed",),
            {
                "dest": "facedetect_max_billed",
                "metavar": "N",
                "type": int,
                "default": None,
                "help": "send at most N attempts that can be billed (default "
                f"{default('max_billed')})",
            },
        ),
        (
            ("--live-qps",),
            {
                "dest": "facedetect_live_qps",
                "metavar": "QPS",
                "type": float,
                "default": None,
                "help": "pace live requests under QPS per second; 0: unpaced (default: the "
                "documented rate limit)",
            },
        ),
        (
            ("--live-timeout",),
            {
                "dest": "facedetect_live_timeout",
                "metavar": "SECONDS",
                "type": float,
                "default": None,
                "help": "each attempt's deadline, connection and whole answer "
                f"(default {default('timeout'):g})",
            },
        ),
        (
            ("--live-deadline",),
            {
                "dest": "facedetect_live_deadline",
                "metavar": "SECONDS",
                "type": float,
                "default": None,
                "help": f"the whole run's deadline (default {default('deadline'):g}); what is "
                "not answered by then is an error of the run",
            },
        ),
        (
            ("--live-repeat-cases",),
            {
                "dest": "facedetect_live_repeat",
                "action": "store_true",
                "help": "send every case twice and check both answers agree (costs one image "
                "per case)",
            },
        ),
        (
            ("--record",),
            {
                "dest": "facedetect_record",
                "action": "store_true",
                "help": "write each live answer replay can serve as a redacted fixture to the "
                "record dir",
            },
        ),
        (
            ("--record-dir",),
            {
                "dest": "facedetect_record_dir",
                "metavar": "DIR",
                "default": None,
                "help": "your recordings: --record writes them here, replay serves them beside "
                "the packaged fixtures, behaviour drift compares with them (default: the ini key "
                "facedetect_fixture_dir, else fixtures/face-detect of the checkout or of the "
                "current folder)",
            },
        ),
        (
            ("--drift-report",),
            {
                "dest": "facedetect_reports",
                "metavar": "PATH",
                "action": "append",
                "default": None,
                "help": "write the live report to PATH in the format its suffix names (.json, "
                ".md, .html); give it once per format",
            },
        ),
        (
            ("--strict-drift",),
            {
                "dest": "facedetect_strict_drift",
                "action": "store_true",
                "help": "additive findings (new fields, behaviour drift) fail the live run too",
            },
        ),
        (
            ("--baseline",),
            {
                "dest": "facedetect_baseline",
                "metavar": "FILE",
                "default": None,
                "help": "acknowledged findings: matching ones are reported, and do not fail the "
                "run",
            },
        ),
        (
            ("--update-baseline",),
            {
                "dest": "facedetect_update_baseline",
                "action": "store_true",
                "help": "write this run's findings into --baseline FILE (keeping reasons), "
                "atomically",
            },
        ),
        (
            ("--baseline-until",),
            {
                "dest": "facedetect_baseline_until",
                "metavar": "DATE",
                "default": None,
                "help": "until when the entries --update-baseline adds are acknowledged: "
                "YYYY-MM-DD, or a number of days such as 90d (default "
                f"{DEFAULT_UNTIL_DAYS}d after today, UTC)",
            },
        ),
        (
            ("--history",),
            {
                "dest": "facedetect_history",
                "metavar": "FILE",
                "default": None,
                "help": "append this run to a JSON-lines history (facedetect-contract history "
                "FILE summarises it)",
            },
        ),
    ]


def live_only_flags() -> dict[str, str]:
    """The options that mean something only in a live session, dest -> flag: every live option
    but ``--record-dir`` (replay reads recordings from it offline too)."""
    return {
        attrs["dest"]: flags[0]
        for flags, attrs in live_options()
        if attrs["dest"] != "facedetect_record_dir"
    }


def default_record_dir(here: Path) -> Path:
    """Where recordings are when no option names a folder: the checkout's fixtures, else the
    ``fixtures/face-detect`` folder of ``here`` (the invocation folder)."""
    from .contracts.fixtures import FIXTURE_DIR  # noqa: PLC0415

    checkout = PACKAGE_DIR.parent / "facedetect_contract"
    return FIXTURE_DIR if checkout.is_dir() else here / "fixtures" / "face-detect"


def live_settings(
    options: Mapping[str, Any], *, base_url: str | None, here: Path, record_dir: Path
) -> LiveSettings:
    """``LiveSettings`` from the live options' values (keyed by their dest, ``None`` or false
    when not given); relative paths are ``here``'s, the invocation folder's."""
    from .contracts.cases import DEFAULT_CASES_FILE  # noqa: PLC0415
    from .live.run import LiveSettings  # noqa: PLC0415

    def option(name: str, field: str) -> Any:
        value = options.get(name)
        return default(field) if value is None else value

    cases = options.get("facedetect_live_cases")
    baseline, history = options.get("facedetect_baseline"), options.get("facedetect_history")
    return LiveSettings(
        base_url=base_url,
        cases_file=here / cases if cases is not None else DEFAULT_CASES_FILE,
        examples=option("facedetect_live_examples", "examples"),
        max_billed=option("facedetect_max_billed", "max_billed"),
        qps=options.get("facedetect_live_qps"),
        timeout=option("facedetect_live_timeout", "timeout"),
        deadline=option("facedetect_live_deadline", "deadline"),
        repeat_cases=bool(options.get("facedetect_live_repeat")),
        record=bool(options.get("facedetect_record")),
        record_dir=record_dir,
        reports=tuple(here / p for p in options.get("facedetect_reports") or ()),
        strict_drift=bool(options.get("facedetect_strict_drift")),
        baseline=here / baseline if baseline else None,
        update_baseline=bool(options.get("facedetect_update_baseline")),
        history=here / history if history else None,
    )


def live_key(
    contracts: Contracts, environ: Mapping[str, str] | None = None, *, asked_by: str = "--live"
) -> Secret:
    """The key, from the variable the profile names and from there only; ``SessionError``
    (naming the variable, never the value) when it is unset, malformed, or cannot be redacted
    without erasing the API's own words from the reports."""
    from .contracts.loader import api_vocabulary  # noqa: PLC0415
    from .core.redaction import Secret, key_problem  # noqa: PLC0415

    key_env = contracts.profile.api_key_env
    try:
        secret = Secret.from_env(environ, name=key_env)
    except ValueError as exc:
        raise SessionError(str(exc)) from None
    if secret is None:
        raise SessionError(
            f"{asked_by} needs {key_env}: export it (in CI, from a secret); the suite reads the "
            "key from there only and never prints it"
        )
    problem = key_problem(secret, api_vocabulary(contracts))
    if problem is not None:  # redacting it would erase the API's own words from the reports
        raise SessionError(f"{key_env}: {problem}")
    return secret


class LiveSession:
    """One live session: made from its settings (every usage error said here, before anything is
    sent), then ``start()`` (the unfinished reports), ``run(names)``, ``finish()`` (the report,
    written) and ``exit_status``."""

    def __init__(
        self,
        settings: LiveSettings,
        *,
        contracts: Contracts,
        baseline_until: str | None = None,
        environ: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        from .contracts.cases import load_cases  # noqa: PLC0415
        from .live.baseline import load_baseline, parse_until  # noqa: PLC0415
        from .live.run import LiveRun  # noqa: PLC0415
        from .report.history import load_history  # noqa: PLC0415
        from .report.paths import check_outputs  # noqa: PLC0415

        self.baseline: Baseline | None = None
        self.history: list[dict[str, Any]] = []
        self.until: date | None = None
        self.report: LiveReport | None = None
        self.baseline_update: BaselineUpdate | None = None  # once written: the summary says so
        try:
            check_outputs(settings)
            if baseline_until is not None:
                if not settings.update_baseline:
                    raise ValueError(
                        "--baseline-until dates the entries --update-baseline adds; add "
                        "--update-baseline or drop it"
                    )
                self.until = parse_until(baseline_until)
            run = LiveRun(
                settings,
                load_cases(settings.cases_file, contracts),
                contracts=contracts,
                environ=environ,
                transport=transport,
            )
            if run.url.startswith("https:"):  # a bad SSL_CERT_FILE stops the run before it sends
                from .core.transport import ssl_context  # noqa: PLC0415

                ssl_context()
            _ = run.recordings  # a broken fixture file is a usage error, before anything is sent
            if settings.baseline is not None:
                run.baseline = self.baseline = load_baseline(
                    settings.baseline, missing_ok=settings.update_baseline
                )
            if settings.history is not None:
                self.history = load_history(settings.history)
        except ValueError as exc:  # cases, baseline, history files, option values, base URL, ...
            raise SessionError(str(exc)) from None
        self.live_run: LiveRun = run

    def start(self) -> None:
        """Replace last run's reports at once by ones that say this run has not finished: a run
        killed before its end (a crash, a CI timeout) leaves no report saying "passed"."""
        run = self.live_run
        if not run.settings.reports:
            return
        from .report import LiveReport, write_reports  # noqa: PLC0415

        unfinished = dataclasses.replace(
            LiveReport.from_run(run, observe_questions=False), interrupted=True
        )
        try:
            write_reports(unfinished, run.settings.reports, run.redactor)
        except OSError as exc:
            raise SessionError(
                f"--drift-report: cannot write {exc.filename} ({exc.strerror}); give a path this "
                "run may write"
            ) from None
        except Exception:  # a renderer's fault: the end of the run says so; nothing says "passed"
            self._write_each(unfinished)

    def run(self, names: Iterable[str] | None = None) -> LiveRun:
        """Send the named requests (default: every planned one), concurrently, in the budget."""
        # What start-up built lives to the end of the process: frozen, the collector need not
        # walk it again during the run, at the end and at exit (a sixth of a second of every live
        # run). Garbage made from here on is collected as ever; start-up's few cycles stay.
        gc.freeze()
        self.live_run.execute(names)
        return self.live_run

    def finish(self, *, interrupted: bool = False) -> LiveReport:
        """The report, rendered then written, the baseline updated, the history line last."""
        from .contracts.fixtures import write_atomically  # noqa: PLC0415
        from .report import LiveReport, render_reports  # noqa: PLC0415
        from .report.history import append, record_of  # noqa: PLC0415

        run, baseline, history = self.live_run, self.baseline, self.history
        if interrupted:
            run.interrupted = True
        settings = run.settings
        images = 0.0
        if any(path.suffix.lower() == ".html" for path in settings.reports):
            # The page must stand alone: the cases' images are fetched now, while their host
            # still answers, within what is left of the run's deadline (never past it).
            from .report.thumbnails import TOTAL_BUDGET  # noqa: PLC0415

            images = min(TOTAL_BUDGET, run.seconds_left())
        try:
            report = LiveReport.from_run(run, baseline=baseline, history=history, images=images)
        except Exception as exc:  # a fault of the suite: an error of the run, never "passed"
            run.errors.append(run.redact(f"the report could not be made ({_why(exc)})"))
            report = self._plainest_report()
        run.close()

        def tonight(report: LiveReport) -> LiveReport:
            # The report shows the trend with tonight's line, made from the report itself.
            if settings.history is None:
                return report
            return dataclasses.replace(
                report, history=(*history, record_of(report.redacted(run.redactor)))
            )

        # Order: every report rendered, then written (each atomically), then the baseline, and
        # the history line last, so it carries the outcome the reports and the exit status carry.
        try:
            report = tonight(report)
            for path, text in render_reports(report, settings.reports, run.redactor):
                write_atomically(path, text)
            if baseline is not None and settings.update_baseline:
                update = baseline.updated(report.redacted(run.redactor).findings, until=self.until)
                update.write()
                self.baseline_update = update  # written: the summary may say so
        except Exception as exc:  # a disk's or a renderer's fault: an error of the run
            run.errors.append(run.redact(f"writing the results failed: {_why(exc)}"))
            report = dataclasses.replace(report, errors=tuple(run.all_errors))
            with contextlib.suppress(Exception):  # the trend is the least of it
                report = tonight(report)
            self._write_each(report)  # each report that can still be written says so
        if settings.history is not None:
            try:
                append(settings.history, record_of(report.redacted(run.redactor)))
            except Exception as exc:  # the reports must say the night is missing from the history
                run.errors.append(run.redact(f"writing the history failed: {_why(exc)}"))
                report = dataclasses.replace(report, errors=tuple(run.all_errors))
                self._write_each(report)
        self.report = report
        return report

    @property
    def exit_status(self) -> int:
        """0 only when the run checked something and found nothing breaking, else 1 (and 1
        before ``finish``: a session not finished never passed)."""
        return 1 if self.report is None else self.report.exit_status

    def summary_lines(self) -> list[tuple[str, Tone]]:
        """The end-of-run summary, each line redacted and shown escaped, with its colour: the
        report's lines, the reports written, what ``--update-baseline`` wrote."""
        report, run = self.report, self.live_run
        if report is None:
            return []
        from .report import terminal  # noqa: PLC0415

        lines: list[tuple[str, Tone]] = []
        try:
            # Redacted, then shown escaped: the endpoint's text cannot move the cursor, clear
            # the screen, write the clipboard or forge a line of the terminal's own.
            lines.extend(
                (inert.terminal(run.redact(line)), colour)
                for line, colour in terminal.summary_lines(report)
            )
            written = [path for path in run.settings.reports if path.exists()]
            if written:
                shown = ", ".join(inert.terminal(path) for path in written)
                lines.append((f"drift report: {shown}", ""))
            if self.baseline_update is not None:
                lines.extend(
                    (inert.terminal(run.redact(line)), "")
                    for line in self.baseline_update.summary_lines()
                )
        except Exception as exc:  # the summary must not hide the outcome behind a traceback
            lines.append(
                (
                    f"outcome: {report.outcome} (the summary failed: {type(exc).__name__}; the "
                    "reports say the rest)",
                    "red",
                )
            )
        return lines

    def close(self) -> None:
        """Release the run's client (``finish`` does; for a session that never finished)."""
        self.live_run.close()

    def _write_each(self, report: LiveReport) -> None:
        """Each report that can be written; an earlier one of ours that cannot is removed."""
        from .report import looks_like_report, write_reports  # noqa: PLC0415

        run = self.live_run
        for path in run.settings.reports:
            try:
                write_reports(report, [path], run.redactor)
            except Exception:  # the next path may still be written
                with contextlib.suppress(OSError):
                    if looks_like_report(path):
                        path.unlink()

    def _plainest_report(self) -> LiveReport:
        """The report of a run whose full report could not be made: its errors, without the
        questions; failing that, its errors alone (an "error" outcome either way)."""
        from .report import LiveReport  # noqa: PLC0415

        run = self.live_run
        try:
            return LiveReport.from_run(run, observe_questions=False)
        except Exception as exc:
            run.errors.append(run.redact(f"the report could not be made either ({_why(exc)})"))
            return LiveReport(
                endpoint=run.url,
                generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
                strict_drift=run.settings.strict_drift,
                findings=(),
                errors=tuple(run.all_errors),
                spend=run.spend,
                observations=(),
                requests=(),
                recorded=(),
                interrupted=run.interrupted,
            )


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror} ({exc.filename})"
    return f"{type(exc).__name__}: {exc}"
