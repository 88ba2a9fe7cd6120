"""The JSON rendering of a report: for machines, the history and the baseline."""

from __future__ import annotations

import json

from .model import LiveReport

__all__ = ["render"]


def render(report: LiveReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
