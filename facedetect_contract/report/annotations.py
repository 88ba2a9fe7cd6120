"""GitHub Actions annotations of a written JSON report (``facedetect-contract annotations``).

A CI job shows a run's findings beside its log without failing on additive ones: one
``::error::`` workflow command per breaking finding, one ``::warning::`` per additive finding
and per error of the run, and a ``::notice::`` with the outcome. It reads the JSON format's file,
not the run, so a later job (or another machine) can annotate what a nightly run wrote. Every
text is the endpoint's: escaped as GitHub's workflow commands require, then ``inert.terminal``.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..core import inert
from .model import REPORT_NAME

__all__ = ["UNREADABLE", "annotation_lines", "annotations_of"]

# What reading a file that is not a well-formed JSON report of this suite raises.
UNREADABLE = (OSError, ValueError, AttributeError, KeyError, TypeError)


def _escape(text: object, *, property_value: bool = False) -> str:
    """GitHub's workflow-command escaping (% CR LF, and : , in property values), then every
    other control character shown escaped (the report's text is the endpoint's)."""
    text = str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    text = inert.terminal(text)
    return text.replace(":", "%3A").replace(",", "%2C") if property_value else text


def annotations_of(path: Path) -> list[str]:
    """The workflow commands of the JSON report at ``path`` (one of ``UNREADABLE`` when it
    cannot be read or is not a well-formed report of this suite)."""
    report = json.loads(path.read_text(encoding="utf-8"))
    if report.get("report") != REPORT_NAME:
        raise ValueError("not a drift report of this suite")
    return annotation_lines(report)


def annotation_lines(report: dict[str, object]) -> list[str]:
    """The workflow commands of one report (``KeyError``/``TypeError`` when it is malformed)."""
    lines = []
    findings, errors = report["findings"], report["errors"]
    if not isinstance(findings, list) or not isinstance(errors, list):
        raise TypeError("findings and errors must be lists")
    for finding in findings:
        level = "error" if finding["severity"] == "breaking" else "warning"
        title = _escape(f"{finding['check']} at {finding['pointer'] or '/'}", property_value=True)
        text = (
            f"{finding['interaction']}: {finding['title']}. Received {finding['received']}; "
            f"documented {finding['documented']} ({finding['source']})"
        )
        lines.append(f"::{level} title={title}::{_escape(text)}")
    for error in errors:
        lines.append(f"::warning title=error of the run::{_escape(error)}")
    lines.append(f"::notice title=face-detect live run::{_escape(report['outcome'])}")
    return lines
