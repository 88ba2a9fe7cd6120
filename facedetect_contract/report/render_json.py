"""The JSON rendering of a report: for machines, the history and the baseline.

The ``report`` pair comes first, so a peek at a file's first bytes tells whether it is one of
ours (``paths.looks_like_report``); every other key is sorted. Text the endpoint chose may hold
lone surrogates (``json.loads`` accepts them), which UTF-8 cannot encode: each is written as the
text ``\\udXXX`` (``inert.encodable``), so the report is always written.

A case's embedded picture (``thumbnail.src``, up to 64 KiB of base64 each) is the HTML page's: the
JSON keeps the image's size and why it was not embedded, which is what a machine reads.
"""

from __future__ import annotations

import json
from typing import Any

from ..core import inert
from .model import LiveReport

__all__ = ["render"]


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [_sorted(item) for item in value]
    return value


def _without_pictures(case: Any) -> Any:
    thumbnail = case.get("thumbnail") if isinstance(case, dict) else None
    if not isinstance(thumbnail, dict):
        return case
    return {**case, "thumbnail": {k: v for k, v in thumbnail.items() if k != "src"}}


def render(report: LiveReport) -> str:
    data = inert.encodable(report.to_dict())
    data["cases"] = [_without_pictures(case) for case in data.get("cases", [])]
    ordered = {"report": data.pop("report"), **_sorted(data)}
    return json.dumps(ordered, indent=2, ensure_ascii=False) + "\n"
