"""GitHub Actions annotations of a written JSON report (``facedetect-contract annotations``).

A CI job shows a run's findings beside its log without failing on additive ones: one
``::error::`` workflow command per breaking finding, one ``::warning::`` per additive finding
and per error of the run, and a ``::notice::`` with the outcome. It reads the JSON format's file,
not the run, so a later job (or another machine) can annotate what a nightly run wrote. Every
text is the endpoint's: escaped as GitHub's workflow commands require, then ``inert.terminal``.
A report of several models (its ``models`` list more than one) names the model in each title
(a finding's and an error's model is the one its request's ``<model>/`` names) and has one
notice per model with that model's outcome; a report of one model reads as it always did.
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


def _models(report: dict[str, object]) -> list[dict[str, object]]:
    """The models of a report of several (each with its outcome); empty for one model or an
    older report without ``models``."""
    models = report.get("models", [])
    if not isinstance(models, list) or not all(
        isinstance(m, dict) and isinstance(m.get("model"), str) for m in models
    ):
        raise TypeError("models must be a list of objects, each naming its model")
    return models if len(models) > 1 else []


def _of_model(text: str, models: list[dict[str, object]]) -> str:
    """The model whose ``<model>/`` (a request) or ``<model>: `` (an error of the model as a
    whole) ``text`` starts with; empty when none does."""
    return next(
        (
            name
            for m in models
            if (name := str(m["model"]))
            and (text.startswith(f"{name}/") or text.startswith(f"{name}: "))
        ),
        "",
    )


def annotation_lines(report: dict[str, object]) -> list[str]:
    """The workflow commands of one report (``KeyError``/``TypeError`` when it is malformed)."""
    lines = []
    findings, errors = report["findings"], report["errors"]
    if not isinstance(findings, list) or not isinstance(errors, list):
        raise TypeError("findings and errors must be lists")
    models = _models(report)
    for finding in findings:
        level = "error" if finding["severity"] == "breaking" else "warning"
        model = _of_model(str(finding["interaction"]), models)
        title = _escape(
            (f"{model}: " if model else "") + f"{finding['check']} at {finding['pointer'] or '/'}",
            property_value=True,
        )
        text = (
            f"{finding['interaction']}: {finding['title']}. Received {finding['received']}; "
            f"documented {finding['documented']} ({finding['source']})"
        )
        lines.append(f"::{level} title={title}::{_escape(text)}")
    for error in errors:
        model = _of_model(str(error), models)
        title = _escape("error of the run" + (f" ({model})" if model else ""), property_value=True)
        lines.append(f"::warning title={title}::{_escape(error)}")
    for m in models:
        title = _escape(f"face-detect live run ({m['model']})", property_value=True)
        lines.append(f"::notice title={title}::{_escape(m.get('outcome'))}")
    lines.append(f"::notice title=face-detect live run::{_escape(report['outcome'])}")
    return lines
