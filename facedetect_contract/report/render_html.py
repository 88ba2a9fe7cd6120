"""The HTML rendering of a report: one self-contained page a person can look at.

No network is needed to open it (styles and the little script are inline; images are referenced
by their URL, and the boxes are drawn whether the image loads or not). The outcome comes first,
then the findings by severity (new, then acknowledged), every case's image with its face and crop
boxes drawn over it beside the recorded or expected boxes and their IoU, the open questions with
tonight's answer and, with a history, the tally and a trend of latency and IoU over the nights,
and links to the doc sources.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..violations import Severity, Violation
from .model import NOTES_URL, PASSING, REPORT_NAME, LiveReport

__all__ = ["render"]

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#1d2330;
  padding:0 1rem}
h1{font-size:1.5rem}
h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d9dde6}
.outcome{padding:.8rem 1rem;border-radius:6px;font-weight:600;font-size:1.1rem}
.ok{background:#e3f6e8;color:#125c2a}
.warn{background:#fff4d6;color:#6b4d00}
.bad{background:#fde4e4;color:#8a1212}
table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{border:1px solid #d9dde6;padding:.3rem .5rem;vertical-align:top;text-align:left}
th{background:#f3f5f9}
.breaking{color:#8a1212;font-weight:600}
.additive{color:#6b4d00}
.cases{display:grid;grid-template-columns:repeat(auto-fill,minmax(20rem,1fr));gap:1rem}
figure{margin:0;border:1px solid #d9dde6;border-radius:6px;padding:.5rem}
.frame{position:relative;background:#eef1f6;line-height:0}
.frame img{width:100%;display:block}
.frame svg{position:absolute;inset:0;width:100%;height:100%}
rect{fill:none;stroke-width:6;vector-effect:non-scaling-stroke}
rect.face{stroke:#0a8f3c;stroke-width:3}
rect.crop{stroke:#1f5fd6;stroke-width:3}
rect.reference{stroke:#e0700b;stroke-dasharray:6 4;stroke-width:2}
figcaption{font-size:.85rem;line-height:1.4;margin-top:.4rem}
.key span{margin-right:.8rem}
.trend{stroke:#1f5fd6;fill:none;stroke-width:2}
code{font-size:.85em}
"""

# Where the image's size is not known in advance, the drawing takes the image's own size once it
# has loaded; if it cannot load (no network), the boxes stay drawn in the frame they span.
_SCRIPT = """
for (const img of document.querySelectorAll('.frame img')) {
  const fit = () => {
    if (img.naturalWidth && img.dataset.sized !== 'yes') {
      const size = `0 0 ${img.naturalWidth} ${img.naturalHeight}`;
      img.nextElementSibling.setAttribute('viewBox', size);
    }
  };
  img.addEventListener('load', fit); if (img.complete) fit();
  img.addEventListener('error', () => {
    img.style.visibility = 'hidden';
    img.dataset.failed = 'yes';
  });
}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _findings(found: Sequence[Violation], report: LiveReport) -> str:
    if not found:
        return "<p>None.</p>"
    rows = []
    for v in found:
        entry = report.acknowledged.get(v.id)
        note = f"<br>acknowledged: {_e(entry.reason)} ({_e(entry.who or '-')})" if entry else ""
        rows.append(
            (
                f'<span class="{v.severity}">{_e(v.severity)}</span>',
                _e(v.interaction),
                f"<code>{_e(v.pointer or '/')}</code>",
                f"{_e(v.check)}: {_e(v.title)}{note}",
                _e(v.received),
                f"{_e(v.documented)}<br><small>{_e(v.source)}</small>",
                f"<code>{_e(v.id)}</code>",
            )
        )
    return _table(("severity", "request", "at", "check", "received", "documented", "id"), rows)


def _frame(case: Mapping[str, Any]) -> tuple[int, int, bool]:
    """The drawing's size: the image's when the cases file gives it, else the boxes' extent."""
    size = case.get("image_size")
    if size:
        return int(size[0]), int(size[1]), True
    corners = [box for group in ("boxes", "reference") for box in case[group].values() if box]
    width = max((box[2] for box in corners), default=100)
    height = max((box[3] for box in corners), default=100)
    return max(1, round(width * 1.05)), max(1, round(height * 1.05)), False


def _rect(box: Sequence[int], kind: str, name: str, request: str, which: str) -> str:
    x1, y1, x2, y2 = box
    return (
        f'<rect class="{kind}" data-request="{_e(request)}" data-box="{_e(name)}" '
        f'data-which="{which}" x="{x1}" y="{y1}" width="{x2 - x1}" height="{y2 - y1}"/>'
    )


def _case(case: Mapping[str, Any], face_name: str) -> str:
    width, height, sized = _frame(case)
    rects = []
    for name, box in case["reference"].items():
        rects.append(_rect(box, "reference", name, case["request"], "reference"))
    for name, box in case["boxes"].items():
        if box:
            kind = "face" if name == face_name else "crop"
            rects.append(_rect(box, kind, name, case["request"], "live"))
    iou = ", ".join(f"{_e(name)} IoU {value:.2f}" for name, value in case["iou"].items())
    against = f" against {_e(case['reference_source'])}" if case["reference_source"] else ""
    return (
        f'<figure data-request="{_e(case["request"])}">'
        f'<div class="frame"><img alt="{_e(case["name"])}" src="{_e(case["image"])}" '
        f'data-sized="{"yes" if sized else "no"}">'
        f'<svg viewBox="0 0 {width} {height}" preserveAspectRatio="none" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(rects)}</svg></div>'
        f"<figcaption><b>{_e(case['name'])}</b> at {_e(case['ratio'])}, expect "
        f"{_e(case['expect'])}: {_e(case['outcome'])}<br>{iou or 'no reference boxes'}{against}"
        f'<div class="key"><span style="color:#0a8f3c">face</span>'
        f'<span style="color:#1f5fd6">crop</span>'
        f'<span style="color:#e0700b">recorded or expected</span></div></figcaption></figure>'
    )


def _spark(values: Sequence[float], label: str) -> str:
    """A small line chart of one figure over the nights."""
    if len(values) < 2:
        return f"<p>{_e(label)}: {', '.join(f'{v:g}' for v in values) or 'no data'}</p>"
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    points = " ".join(
        f"{i * 300 / (len(values) - 1):.1f},{50 - (v - low) * 44 / span:.1f}"
        for i, v in enumerate(values)
    )
    return (
        f'<p>{_e(label)} ({low:g} to {high:g})</p><svg class="spark" data-label="{_e(label)}" '
        f'width="300" height="54" viewBox="0 0 300 54" xmlns="http://www.w3.org/2000/svg">'
        f'<polyline class="trend" points="{points}"/></svg>'
    )


def _history(report: LiveReport) -> str:
    if not report.history:
        return "<p>No history given (<code>--history FILE</code>).</p>"
    parts = [f"<p>{len(report.history)} night(s).</p>"]
    kinds = sorted({k for r in report.history for k in r.get("latency_ms", {})})
    for kind in kinds:
        series = [
            float(r["latency_ms"][kind]["p50"])
            for r in report.history
            if kind in r.get("latency_ms", {})
        ]
        parts.append(_spark(series, f"latency p50 of {kind} requests, ms"))
    ious = [
        sum(values) / len(values)
        for r in report.history
        if (values := [v for case in r.get("iou", {}).values() for v in case.values()])
    ]
    if ious:
        parts.append(_spark(ious, "mean IoU of the cases' boxes with their references"))
    return "".join(parts)


def _questions(report: LiveReport) -> str:
    tallies: dict[str, dict[str, int]] = {}
    for record in report.history:
        for question, seen in record.get("observations", {}).items():
            if seen.get("reading"):
                counts = tallies.setdefault(question, {})
                counts[seen["reading"]] = counts.get(seen["reading"], 0) + 1
    rows = (
        (
            f'<a href="{_e(NOTES_URL)}#{_e(o.question)}">{_e(o.question)}</a>',
            _e(o.answer),
            _e(o.reading or "-"),
            _e(
                ", ".join(f"{r} {n}x" for r, n in sorted(tallies.get(o.question, {}).items()))
                or "-"
            ),
        )
        for o in report.observations
    )
    return _table(("question", "tonight", "reading", "over the nights"), rows)


def render(report: LiveReport) -> str:
    outcome = report.outcome
    tone = "ok" if outcome == "passed" else "warn" if outcome in PASSING else "bad"
    why = report.why_not_passed()
    new_breaking, new_additive = report.new(Severity.BREAKING), report.new(Severity.ADDITIVE)
    acknowledged = [v for v in report.findings if v.id in report.acknowledged]
    face_name = next(iter(report.cases[0]["boxes"])) if report.cases else ""
    errors = "".join(f"<li>{_e(e)}</li>" for e in report.errors) or "<li>None.</li>"
    stale = "".join(f"<li>{_e(e.describe())}: {_e(e.reason)}</li>" for e in report.stale)
    expired = "".join(f"<li>{_e(e.describe())}: {_e(e.reason)}</li>" for e in report.expired)
    sources = "".join(
        f'<li><a href="{_e(url)}">{_e(title)}</a></li>' for title, url in report.sources
    )
    data = json.dumps({"outcome": outcome, "exit_status": report.exit_status}).replace(
        "<", "\\u003c"
    )
    return f"""<!DOCTYPE html>
<!-- {REPORT_NAME} -->
<html lang="en"><head><meta charset="utf-8"><meta name="generator" content="facedetect-contract">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{_e(REPORT_NAME)}: {_e(outcome)}</title><style>{_STYLE}</style></head>
<body><h1>{_e(REPORT_NAME)}</h1>
<p class="outcome {tone}" id="outcome">{_e(report.headline())}{f" ({_e(why)})" if why else ""}</p>
<p>Endpoint <code>{_e(report.endpoint)}</code>, generated {_e(report.generated_at)};
{_e(report.spend)}.</p>
<h2>New breaking findings: {len(new_breaking)}</h2>{_findings(new_breaking, report)}
<h2>New additive findings: {len(new_additive)}</h2>{_findings(new_additive, report)}
<h2>Acknowledged findings: {len(acknowledged)}</h2>{_findings(acknowledged, report)}
{f"<h2>Baseline entries past their date</h2><ul>{expired}</ul>" if expired else ""}
{f"<h2>Stale baseline entries</h2><ul>{stale}</ul>" if stale else ""}
<h2>Errors of the run</h2><ul>{errors}</ul>
<h2>Cases</h2><div class="cases">{"".join(_case(case, face_name) for case in report.cases)}</div>
<h2>Open questions</h2>{_questions(report)}
<h2>Over the nights</h2>{_history(report)}
<h2>Sources</h2><ul>{sources}</ul>
<script type="application/json" id="report-data">{data}</script>
<script>{_SCRIPT}</script>
</body></html>
"""
