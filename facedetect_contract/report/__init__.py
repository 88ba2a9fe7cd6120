"""The live run's report: one model (``model``), one module per output format.

A path's suffix picks the format (``FORMATS``, the one registry of formats: ``formats``); several
paths write several formats at once. Every format renders the same redacted ``LiveReport``; files
are written atomically. Which paths a run may write is ``paths``' to say. The views that are not
files have a module each: ``terminal`` (the summary), ``annotations`` (GitHub's workflow
commands), ``history_summary`` (``facedetect-contract history``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..contracts.fixtures import write_atomically
from ..core import inert
from ..core.redaction import Redactor
from .formats import FORMATS, Format
from .model import REPORT_NAME, LiveReport, RunOutcome
from .paths import looks_like_report

__all__ = [
    "FORMATS",
    "REPORT_NAME",
    "Format",
    "LiveReport",
    "RunOutcome",
    "looks_like_report",
    "render_reports",
    "write_reports",
]


def render_reports(
    report: LiveReport, paths: Iterable[Path], redactor: Redactor
) -> list[tuple[Path, str]]:
    """Each path with its report's text, redacted and encodable (nothing is written)."""
    clean = report.redacted(redactor)
    # A renderer that let a lone surrogate through would make the file unwritable: escaped here
    # too, whatever the format.
    return [
        (path, inert.encodable(redactor.text(FORMATS[path.suffix.lower()].render(clean))))
        for path in paths
    ]


def write_reports(report: LiveReport, paths: Iterable[Path], redactor: Redactor) -> list[Path]:
    """Write ``report`` to each path in the format its suffix names, redacted, atomically."""
    # Every format rendered before any file is written: a renderer's fault writes nothing, so
    # no report on disk can say "passed" for a run whose reports failed.
    rendered = render_reports(report, paths, redactor)
    for path, text in rendered:
        write_atomically(path, text)
    return [path for path, _ in rendered]
