"""The targets and the table: what each section's figures are judged against, and how they read.

``targets`` turns a report into one verdict per target (the figure, the target, met or not, or
``None`` when the section did not measure it): offline and http are ratios of cases per second
(ours / theirs, at least the target), live the stricter wall / floor ratio (at most the target,
and no planned request left answered 429), the suite its serial wall time (at most the target,
with at least ``examples`` examples per property test). ``table`` renders the report, targets
last, for people; the JSON line ``run.py`` prints after it is for machines.
"""

from __future__ import annotations

from typing import Any

TARGETS = {"offline": 3.0, "http": 2.0, "live": 1.3, "suite_seconds": 15.0, "examples": 200}


def targets(report: dict[str, Any]) -> dict[str, Any]:
    """Each target: the figure reached, the target, and whether it is met (None: not measured)."""
    offline, http_, live, suite = (report.get(k, {}) for k in ("offline", "http", "live", "suite"))

    def verdict(
        value: float | None, target: float, *, at_most: bool = False, unit: str = "x"
    ) -> dict[str, Any]:
        met = None if value is None else (value <= target if at_most else value >= target)
        return {"value": value, "target": target, "met": met, "unit": unit}

    unretried = live.get("unretried_429")
    live_ratio = live.get("ratio_judged", live.get("ratio"))
    live_verdict = verdict(live_ratio, TARGETS["live"], at_most=True)
    if live_verdict["met"] and unretried not in (0, None):
        live_verdict["met"] = False
    suite_seconds = suite.get("serial_seconds")
    examples = suite.get("min_examples_per_property")
    suite_verdict = verdict(suite_seconds, TARGETS["suite_seconds"], at_most=True, unit="s")
    if suite_verdict["met"] and (examples is None or examples < TARGETS["examples"]):
        suite_verdict["met"] = False
    return {
        "offline_vs_schemathesis": verdict(offline.get("ratio"), TARGETS["offline"]),
        "http_vs_schemathesis_run": verdict(http_.get("ratio"), TARGETS["http"]),
        "live_vs_floor": live_verdict,
        "suite_serial_seconds": suite_verdict,
    }


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
        rows.append(("1 offline, both kinds (time)", "", "", _fmt(offline.get("ratio"))))
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
    rows.extend(_section_rows("2 http", report.get("http", {})))
    rows.extend(_section_rows("3 live", report.get("live", {})))
    suite = report.get("suite", {})
    if "serial_seconds" in suite:
        rows.append(
            (
                "4 tests/contract serial (s)",
                f"{suite['serial_seconds']} ({suite.get('serial_peak_rss_mb')} MB peak)",
                f"target {TARGETS['suite_seconds']}",
                f"min examples {suite.get('min_examples_per_property')}",
            )
        )
        rows.append(
            (
                "4 tests/contract -n 2 (s)",
                f"{suite['n2_seconds']} ({suite.get('n2_peak_tree_rss_mb')} MB tree)",
                "",
                "",
            )
        )
    else:
        rows.extend(_section_rows("4 suite", suite))
    for name, verdict in report.get("targets", {}).items():
        met = {True: "met", False: "NOT met", None: "not measured"}[verdict["met"]]
        unit = verdict["unit"]
        value = "-" if verdict["value"] is None else f"{verdict['value']}{unit}"
        rows.append((f"target {name}", value, f"target {verdict['target']}{unit}", met))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


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
        ]
    return []


def _fmt(value: Any) -> str:
    return "-" if value is None else (f"{value}x" if isinstance(value, float) else str(value))
