"""The live run's report: one model (``model``), one module per output format.

A path's suffix picks the format (``FORMATS``); several paths write several formats at once. Every
format renders the same redacted ``LiveReport``; files are written atomically.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

from ..fixtures import write_atomically
from ..redaction import Redactor
from . import render_html, render_json, render_markdown
from .model import REPORT_NAME, LiveReport, Outcome

__all__ = ["FORMATS", "LiveReport", "Outcome", "looks_like_report", "write_reports"]

FORMATS: dict[str, Callable[[LiveReport], str]] = {
    ".json": render_json.render,
    ".md": render_markdown.render,
    ".html": render_html.render,
}


def write_reports(report: LiveReport, paths: Iterable[Path], redactor: Redactor) -> list[Path]:
    """Write ``report`` to each path in the format its suffix names, redacted, atomically."""
    clean = report.redacted(redactor)
    # Every format rendered before any file is written: a renderer's fault writes nothing, so
    # no report on disk can say "passed" for a run whose reports failed.
    rendered = [(path, redactor.text(FORMATS[path.suffix.lower()](clean))) for path in paths]
    for path, text in rendered:
        write_atomically(path, text)
    return [path for path, _ in rendered]


def looks_like_report(path: Path) -> bool:
    """Whether ``path`` holds a report this suite wrote (JSON, Markdown or HTML)."""
    try:
        head = path.read_bytes()[:4096].decode("utf-8", errors="replace")
    except OSError:
        return False
    if path.suffix.lower() == ".json":
        try:
            return bool(json.loads(path.read_text(encoding="utf-8")).get("report") == REPORT_NAME)
        except (OSError, ValueError, AttributeError, RecursionError):
            return False
    return f"# {REPORT_NAME}" in head.splitlines()[:1] or f"<!-- {REPORT_NAME} -->" in head
