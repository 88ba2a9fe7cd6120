"""The report formats a run can write: one registry that every consumer of a format reads.

A format is a file suffix, the renderer that writes it, and the signature that tells one of our
reports from a user's file before a run replaces it. Writing (``write_reports``), telling our
files apart (``paths.looks_like_report``) and refusing a ``--drift-report`` path of no format
(``paths.check_outputs``) all read ``FORMATS``, so a format added here is written, recognised and
accepted at once, and no list of suffixes can disagree with another.

The terminal summary, the GitHub annotations and the history summary are views, not formats:
each has its own module here (``terminal``, ``annotations``, ``history_summary``) and one caller,
takes a different input (the report, a written JSON report, the history), and is never chosen by
a suffix, so they are not registered.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import render_html, render_json, render_markdown
from .model import REPORT_NAME, LiveReport

__all__ = ["FORMATS", "Format", "format_of"]


@dataclass(frozen=True)
class Format:
    """One file format of the report: ``render`` writes it, ``signature(head, tail)`` says
    whether a file's first and last bytes (decoded) are a report this suite wrote in it."""

    name: str
    suffix: str  # lower case, with its dot: the key in ``FORMATS``
    render: Callable[[LiveReport], str]
    signature: Callable[[str, str], bool]


def _json_signature(head: str, tail: str) -> bool:
    # ``render_json`` writes the "report" pair first; reports of earlier versions (sorted keys)
    # end with the "tool" pair, or nearly.
    return f'"report": {json.dumps(REPORT_NAME)}' in head or '"tool": "facedetect-contract ' in tail


def _markdown_signature(head: str, tail: str) -> bool:
    return head.startswith(f"# {REPORT_NAME}\n")


def _html_signature(head: str, tail: str) -> bool:
    return f"<!-- {REPORT_NAME} -->" in head


FORMATS: dict[str, Format] = {
    f.suffix: f
    for f in (
        Format("JSON", ".json", render_json.render, _json_signature),
        Format("Markdown", ".md", render_markdown.render, _markdown_signature),
        Format("HTML", ".html", render_html.render, _html_signature),
    )
}


def format_of(path: Path) -> Format | None:
    """The format ``path``'s suffix names (case does not matter), ``None`` when it names none."""
    return FORMATS.get(path.suffix.lower())
