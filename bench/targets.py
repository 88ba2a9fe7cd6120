"""The targets and the table: what each section's figures are judged against, and how they read.

``targets`` turns a report into one verdict per target: the figure reached, the target, its unit
and ``met`` (True, False, or None when the section did not measure it; a ``reason`` says why a
figure within its target is still not met). Offline and http are ratios (ours faster, at least the
target; offline the median of the repetitions), live the stricter wall / floor ratio of the whole
pytest process (at most the target, and no planned request left answered 429), the run of every
packaged model side by side its stricter wall / largest per-model floor (at most the target, exit 0,
no planned request left answered 429, its requests told apart by model), the suite its serial
wall time (at most the target, exit 0, at least ``examples`` examples per property test), the tiers
their wall times (at most the target, exit 0), the doubles the fake's cost per call over a bare
respx route's (at most the target, the median of the rounds). ``run_verdict`` is the run's one
answer: "yes" only when every target was measured and met, "no" when a measured target is not met
or a section errored, "not judged" when none missed but some were not measured (listed apart in
``not_measured``); ``all_met`` is true exactly when it is "yes". ``table`` renders the report,
targets last, for people; the JSON line ``run.py`` prints after it is for machines. bench/README.md
says why each target is what it is.
"""

from __future__ import annotations

from typing import Any

TARGETS = {
    "offline": 4.0,  # x: Schemathesis' seconds / ours, median of the repetitions
    "http": 2.0,  # x: ours / schemathesis run, cases per second, whole processes
    "live": 1.2,  # x: pytest --live wall time / rate-limit floor, at most
    "live_session": 1.15,  # x: facedetect-contract live (no pytest) wall time / floor, at most
    # x: every packaged model in one live run, wall time / the largest per-model floor, at most
    "multi_model_live": 1.2,
    "suite_seconds": 15.0,  # s: python -m pytest tests/contract, serial, at most
    "examples": 200,  # examples per property test in that run, at least
    "fast_serial": 60.0,  # s: the fast tier, serial, at most
    "fast_n2": 35.0,  # s: the fast tier with -n 2, at most
    "full": 600.0,  # s: every test, slow tier included, -n 2, at most (--full)
    "double": 3.0,  # x: the fake's us/call / a bare respx route's, median of the rounds, at most
}
SECTIONS = ("offline", "http", "live", "multi_model_live", "suite", "tiers", "double")
# The targets judged "at most" (the others "at least"); a wall time in seconds always is.
AT_MOST = ("live_vs_floor", "live_session_vs_floor", "multi_model_live_vs_floor", "double_vs_respx")


def verdict(
    value: float | None, target: float, *, at_most: bool = False, unit: str = "x"
) -> dict[str, Any]:
    """The figure against its target; ``met`` is None when there is no figure."""
    met = None if value is None else (value <= target if at_most else value >= target)
    return {"value": value, "target": target, "met": met, "unit": unit}


def _not_met(judged: dict[str, Any], reason: str) -> dict[str, Any]:
    """A measured figure that fails its target whatever its value (a failed run, a 429)."""
    if judged["met"] is not None:
        judged["met"] = False
        judged["reason"] = reason
    return judged


def _tier_verdict(run: dict[str, Any], target: float) -> dict[str, Any]:
    judged = verdict(run.get("seconds"), target, at_most=True, unit="s")
    if run.get("timed_out"):
        return _not_met(judged, "timed out")
    if run.get("exit_code") not in (0, None):
        return _not_met(judged, f"exit code {run['exit_code']}")
    return judged


def targets(report: dict[str, Any]) -> dict[str, Any]:
    """Each target: the figure reached, the target, and whether it is met (None: not measured)."""
    offline, http_, live, models, suite, tiers, double = (report.get(k, {}) for k in SECTIONS)

    live_verdict = verdict(
        live.get("ratio_judged", live.get("ratio")), TARGETS["live"], at_most=True
    )
    unretried = live.get("unretried_429")
    if unretried not in (0, None):
        _not_met(live_verdict, f"{unretried} planned request(s) still answered 429")

    session = live.get("session") or {}
    session_verdict = verdict(live.get("session_ratio"), TARGETS["live_session"], at_most=True)
    if session.get("exit_code") not in (0, None):
        _not_met(session_verdict, f"exit code {session['exit_code']}")
    elif session.get("unretried_429") not in (0, None):
        _not_met(
            session_verdict, f"{session['unretried_429']} planned request(s) still answered 429"
        )

    suite_verdict = verdict(
        suite.get("serial_seconds"), TARGETS["suite_seconds"], at_most=True, unit="s"
    )
    examples = suite.get("min_examples_per_property")
    if suite.get("serial_exit_code") not in (0, None):
        _not_met(suite_verdict, f"exit code {suite['serial_exit_code']}")
    elif examples is None or examples < TARGETS["examples"]:
        _not_met(suite_verdict, f"{examples} examples per property test (< {TARGETS['examples']})")

    return {
        "offline_vs_schemathesis": verdict(offline.get("ratio"), TARGETS["offline"]),
        "http_vs_schemathesis_run": verdict(http_.get("ratio"), TARGETS["http"]),
        "live_vs_floor": live_verdict,
        "live_session_vs_floor": session_verdict,
        "multi_model_live_vs_floor": multi_model_verdict(models),
        "suite_serial_seconds": suite_verdict,
        "fast_tier_serial_seconds": _tier_verdict(
            tiers.get("fast_serial", {}), TARGETS["fast_serial"]
        ),
        "fast_tier_n2_seconds": _tier_verdict(tiers.get("fast_n2", {}), TARGETS["fast_n2"]),
        "full_suite_seconds": _tier_verdict(tiers.get("full", {}), TARGETS["full"]),
        "double_vs_respx": verdict(double.get("ratio_vs_respx"), TARGETS["double"], at_most=True),
    }


def multi_model_verdict(section: dict[str, Any]) -> dict[str, Any]:
    """Every packaged model in one live run: the stricter wall / floor ratio, at most the target;
    not met, whatever the ratio (and even without one), when the run exited non-zero or timed
    out, a planned request stayed answered 429, or its requests could not be told apart by
    model. A section not run (no exit code) is not measured."""
    judged = verdict(section.get("ratio_judged"), TARGETS["multi_model_live"], at_most=True)
    if "exit_code" not in section:
        return judged
    reason = None
    if section.get("timed_out"):
        reason = "timed out"
    elif section["exit_code"] != 0:
        reason = f"exit code {section['exit_code']}"
    elif section.get("unretried_429") != 0:
        left = section.get("unretried_429")
        reason = (
            "no report: its 429s unknown"
            if left is None
            else f"{left} planned request(s) still answered 429"
        )
    elif section.get("attribution_error"):
        reason = f"requests by model: {section['attribution_error']}"
    elif judged["met"] is None:
        reason = "no floor: no request answered"
    if reason is not None:
        judged["met"] = False
        judged["reason"] = reason
    return judged


def errored(report: dict[str, Any]) -> list[str]:
    """The sections that crashed (``status: error``)."""
    return [name for name in SECTIONS if report.get(name, {}).get("status") == "error"]


def not_measured(verdicts: dict[str, Any]) -> list[str]:
    return [name for name, judged in verdicts.items() if judged["met"] is None]


def run_verdict(report: dict[str, Any]) -> str:
    """ "yes" (every target measured and met), "no" (a measured target missed, or a section
    errored) or "not judged" (none missed, some not measured)."""
    verdicts = report.get("targets") or targets(report)
    if errored(report) or any(judged["met"] is False for judged in verdicts.values()):
        return "no"
    return "not judged" if not_measured(verdicts) else "yes"


def all_met(report: dict[str, Any]) -> bool:
    """Every target measured and met, no section errored: a target not measured is not met."""
    return run_verdict(report) == "yes"


def table(report: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str]] = [("section", "ours", "schemathesis / floor", "ratio")]
    offline = report.get("offline", {})
    if "ours" in offline:
        ours, theirs = offline["ours"], offline.get("schemathesis", {})
        for kind, mode in (("valid", "positive"), ("invalid", "negative")):
            mine, other = ours.get(kind, {}), theirs.get(mode, {})
            rows.append(
                (
                    f"1 offline {kind} (cases/s)",
                    f"{mine.get('cases_per_s')} ({mine.get('cases')} cases)",
                    f"{other.get('cases_per_s')} ({other.get('cases')} cases)" if other else "-",
                    _fmt(offline.get(f"ratio_{kind}")),
                )
            )
            rows.append(
                (
                    "  us/case generate|send|check",
                    f"{mine.get('us_generate')}|{mine.get('us_send')}|{mine.get('us_check')}",
                    f"{other.get('us_generate')}|{other.get('us_send')}|{other.get('us_check')}"
                    if other
                    else "-",
                    "",
                )
            )
        rows.append(
            (
                "1 offline, both kinds (time)",
                f"{offline.get('repetitions')} repetitions",
                f"min {_fmt(offline.get('ratio_min'))}  max {_fmt(offline.get('ratio_max'))}",
                f"median {_fmt(offline.get('ratio'))}",
            )
        )
        validation = offline.get("validation", {})
        rows.append(
            (
                "  validate one response (us)",
                f"run_checks {validation.get('us_run_checks')}",
                f"schema: jsonschema {validation.get('us_schema_jsonschema')}, "
                f"is_valid {validation.get('us_schema_is_valid')}",
                "",
            )
        )
    elif offline:
        rows.extend(_section_rows("1 offline", offline))
    rows.extend(_section_rows("2 http", report.get("http", {})))
    rows.extend(_section_rows("3 live", report.get("live", {})))
    rows.extend(_multi_model_rows(report.get("multi_model_live", {})))
    suite = report.get("suite", {})
    if "serial_seconds" in suite:
        rows.append(
            (
                "4 tests/contract serial (s)",
                f"{suite['serial_seconds']} ({suite.get('serial_peak_rss_mb')} MB peak, "
                f"exit {suite.get('serial_exit_code')})",
                f"target {TARGETS['suite_seconds']}",
                f"min examples {suite.get('min_examples_per_property')}",
            )
        )
        rows.append(
            (
                "4 tests/contract -n 2 (s)",
                f"{suite.get('n2_seconds')} ({suite.get('n2_peak_tree_rss_mb')} MB tree)",
                "",
                "",
            )
        )
    else:
        rows.extend(_section_rows("4 suite", suite))
    rows.extend(_tier_rows(report.get("tiers", {})))
    rows.extend(_double_rows(report.get("double", {})))
    verdicts = report.get("targets", {})
    for name, judged in verdicts.items():
        met = {True: "met", False: "NOT met", None: "not measured"}[judged["met"]]
        if judged.get("reason"):
            met += f" ({judged['reason']})"
        unit = judged["unit"]
        value = "-" if judged["value"] is None else f"{judged['value']}{unit}"
        at_most = unit == "s" or name in AT_MOST
        rows.append(
            (
                f"target {name}",
                value,
                f"target {'<=' if at_most else '>='} {judged['target']}{unit}",
                met,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.append(_summary_line(report, verdicts))
    return "\n".join(lines)


def _summary_line(report: dict[str, Any], verdicts: dict[str, Any]) -> str:
    line = f"all targets met: {run_verdict({**report, 'targets': verdicts})}"
    missed = [name for name, judged in verdicts.items() if judged["met"] is False]
    notes = [
        f"{label}: {', '.join(names)}"
        for label, names in (
            ("not met", missed),
            ("errored", errored(report)),
            ("not measured", not_measured(verdicts)),
        )
        if names
    ]
    return line + (f" ({'; '.join(notes)})" if notes else "")


def _tier_rows(tiers: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    if "status" in tiers or not tiers:
        return _section_rows("5 tiers", tiers) if tiers else []
    rows = []
    for key, label, target in (
        ("fast_serial", "5 fast tier serial (s)", TARGETS["fast_serial"]),
        ("fast_n2", "5 fast tier -n 2 (s)", TARGETS["fast_n2"]),
        ("full", "5 full suite -n 2 (s)", TARGETS["full"]),
    ):
        run = tiers.get(key, {})
        if "seconds" not in run:
            rows.append((label, run.get("status", "-"), run.get("reason", ""), ""))
            continue
        counts = (
            f"timed out, exit {run['exit_code']}"
            if run.get("timed_out")
            else f"{run.get('passed')} passed, {run.get('failed')} failed, exit {run['exit_code']}"
        )
        rows.append(
            (
                label,
                f"{run['seconds']} ({counts})",
                f"target {target}",
                f"{run.get('peak_tree_rss_mb')} MB tree",
            )
        )
    return rows


def _double_rows(double: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Section 6: the fake beside a bare respx route, and the stub's answers per second."""
    if "ratio_vs_respx" not in double:
        return _section_rows("6 doubles", double) if double else []
    return [
        (
            "6 fake vs bare respx (us/call)",
            f"fake {double.get('fake_us_per_call')} ({double.get('calls')} calls)",
            f"respx {double.get('respx_us_per_call')} ({double.get('rounds')} rounds, "
            f"min {_fmt(double.get('ratio_min'))} max {_fmt(double.get('ratio_max'))})",
            f"median {_fmt(double.get('ratio_vs_respx'))}",
        ),
        (
            "6 stub, one keep-alive client",
            f"{double.get('stub_answers_per_second')} answers/s",
            f"({double.get('stub_answers')} in {double.get('stub_seconds')} s)",
            "no target",
        ),
    ]


def _section_rows(label: str, section: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    if "status" in section:
        return [(label, section["status"], section.get("reason", ""), "")]
    if label.startswith("2") and "ours" in section:
        ours, theirs = section["ours"], section["schemathesis"]
        return [
            (
                "2 http (cases/s, wall)",
                f"{ours['cases_per_s']} ({ours['cases']} cases, {ours['seconds']} s)",
                f"{theirs['cases_per_s']} ({theirs['cases']} cases, {theirs['seconds']} s)",
                _fmt(section.get("ratio")),
            ),
            (
                "  stub round trip (ms/request)",
                str(section.get("stub_ms_per_request")),
                "(the floor under both sides)",
                "",
            ),
        ]
    if label.startswith("3") and "seconds" in section:
        return [
            (
                "3 live wall vs floor (s)",
                f"{section['seconds']} ({section['requests']} requests)",
                f"floor {section['floor_seconds']}",
                f"{_fmt(section.get('ratio'))}, 429 unretried {section.get('unretried_429')}",
            ),
            (
                "  floor without 429-answered (s)",
                f"{section['seconds']} ({section.get('requests_excluding_429')} requests)",
                f"floor {section.get('floor_seconds_excluding_429')}",
                f"{_fmt(section.get('ratio_excluding_429'))} (judged on the stricter)",
            ),
            (
                "  requests sent to last answer (s)",
                str(section.get("seconds_in_run")),
                f"floor {section['floor_seconds']}",
                f"{_fmt(section.get('ratio_in_run'))}, "
                f"without 429s {_fmt(section.get('ratio_in_run_excluding_429'))}",
            ),
            *_session_rows(section.get("session") or {}),
            (
                "3 live start-up (s)",
                "collect-only "
                + str(
                    section.get("startup_collect_only_s")
                    if section.get("startup_collect_only_s") is not None
                    else f"error: {section.get('startup_collect_only_error')}"
                ),
                f"whole minus in-run {section.get('startup_outside_run_s')}",
                "",
            ),
        ]
    return []


def _session_rows(session: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The session path (``facedetect-contract live``, no pytest) beside the pytest path."""
    if "seconds" not in session:
        return []
    return [
        (
            "3 live session path vs floor (s)",
            f"{session['seconds']} ({session['requests']} requests, exit {session['exit_code']})",
            f"floor {session['floor_seconds_excluding_429']} without 429s",
            f"{_fmt(session.get('ratio_judged'))} (pytest path above; target "
            f"{TARGETS['live_session']}x)",
        )
    ]


def _multi_model_rows(section: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Every packaged model side by side: the whole run against the largest per-model floor,
    then each model's requests, its floor (requests / its documented QPS) and last answer."""
    if "seconds" not in section:
        return _section_rows("3 live, several models", section) if section else []
    per_model = section.get("per_model") or {}
    last = section.get("last_named_answer_s") or {}
    rows = [
        (
            f"3 live {len(section.get('models', []))} models vs floor (s)",
            f"{section['seconds']} ({section.get('requests')} requests, exit "
            f"{section['exit_code']}, 429 {section.get('throttled_429')}, unretried "
            f"{section.get('unretried_429')})",
            f"floor {section.get('floor_seconds')}, the largest (sum "
            f"{section.get('floor_seconds_sum')})",
            f"{_fmt(section.get('ratio_judged'))} (target {TARGETS['multi_model_live']}x)",
        ),
        (
            "  answers, first to last (s)",
            f"{section.get('first_answer_s')} to {section.get('last_answer_s')}",
            f"in run {section.get('seconds_in_run')}",
            f"{_fmt(section.get('ratio_in_run'))} in run",
        ),
    ]
    if not per_model or section.get("attribution_error"):
        rows.append(("  per model", "error", str(section.get("attribution_error")), ""))
    for model, one in per_model.items():
        slowest = " (the floor)" if model == section.get("slowest_model") else ""
        rows.append(
            (
                f"  {model} at {one['qps']:g} QPS",
                f"{one['requests']} requests, last named answer {last.get(model)}",
                f"floor {one['floor_seconds']}{slowest}",
                "",
            )
        )
    return rows


def _fmt(value: Any) -> str:
    return "-" if value is None else (f"{value}x" if isinstance(value, float) else str(value))
