"""The HTML rendering of a report: one self-contained page a person can look at.

The page stands alone: opened a week later with no network, the stub stopped or a signed URL
expired, it looks the same. Nothing is fetched when it opens (a Content-Security-Policy allows no
remote load and no script); each case's picture is the data URI the run embedded
(``thumbnails``), and a case without one gets a placeholder of the image's aspect ratio, so a card
never collapses. The outcome comes first, in the colour of its verdict (passed green, passed with
warnings amber, drift red, anything that judged nothing grey), then the findings one row per
change (``grouping``: the same check at one place across answers, a probable rename, the expects
it made miss; every finding's id in the row's fold), new then acknowledged, the errors of the run
one line per cause, every case's picture with the received boxes and the recorded or expected
ones drawn over it in the image's own pixel coordinates (drift cases too) with their IoU, the open
questions with tonight's answer and, with a history, the tally and trends of latency and IoU over
the nights on labelled axes, and links to the doc sources. Every text the endpoint or a file chose
passes ``inert.html_text``.

A run of several models (``report.parts``) is shown model by model: under the verdict a "Models"
table (each model's outcome in its colour, its requests, findings, errors and spend; the model's
name links to its section), then each model's findings in a section of its own (a model with none
says so in one line), the errors of the run per model, each model's cases (drawn with the boxes
its model gives) and its open questions. A report of one model renders as it always did.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..core import inert
from ..core.violations import Severity
from ..live.budget import Spend
from ..live.models import qualified
from ..live.observations import Observation
from .grouping import FindingGroup
from .model import MODELS_HEADER, NOTES_URL, REPORT_NAME, LiveReport, folded_note, pointers

__all__ = ["TONES", "frame_of", "render", "thumbnail_of", "tone_of"]

# The verdict's colour, by the model's outcome: every other outcome (an error of the run, nothing
# sent, incomplete, interrupted, not judged) judged nothing conclusive and is "unjudged", grey.
TONES: Mapping[str, str] = {
    "passed": "passed",
    "passed with warnings": "warnings",
    "drift": "drift",
}
_UNJUDGED = "unjudged"

# Nothing is loaded from anywhere when the page opens: images are our own data URIs, styles are
# inline, no script runs (the JSON block is data, which CSP does not execute).
_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'"
)

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#1d2330;
  padding:0 1rem}
h1{font-size:1.5rem}
h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d9dde6}
.outcome{padding:.8rem 1rem;border-radius:6px;font-weight:600;font-size:1.1rem;
  border-left:.5rem solid}
.tone-passed{background:#e3f6e8;color:#125c2a;border-color:#1e9e4a}
.tone-warnings{background:#fff4d6;color:#6b4d00;border-color:#e0a800}
.tone-drift{background:#fde4e4;color:#8a1212;border-color:#d42020}
.tone-unjudged{background:#eceef2;color:#3b4252;border-color:#7b8496}
table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{border:1px solid #d9dde6;padding:.3rem .5rem;vertical-align:top;text-align:left}
th{background:#f3f5f9}
.breaking{color:#8a1212;font-weight:600}
.additive{color:#6b4d00}
.cases{display:grid;grid-template-columns:repeat(auto-fill,minmax(20rem,1fr));gap:1rem;
  align-items:start}
figure{margin:0;border:1px solid #d9dde6;border-radius:6px;padding:.5rem}
.frame{position:relative;width:100%;background:#eef1f6;overflow:hidden}
.frame>img,.frame>svg,.frame>.placeholder{position:absolute;inset:0;width:100%;height:100%}
.frame>img{display:block}
.placeholder{display:flex;align-items:center;justify-content:center;box-sizing:border-box;
  padding:1rem;text-align:center;font-size:.8rem;color:#4a5468;
  background:repeating-linear-gradient(45deg,#eef1f6 0 10px,#e2e6ee 10px 20px)}
rect{fill:none;vector-effect:non-scaling-stroke}
rect.face{stroke:#0a8f3c;stroke-width:3}
rect.crop{stroke:#1f5fd6;stroke-width:3}
rect.reference{stroke:#e0700b;stroke-dasharray:6 4;stroke-width:2}
figcaption{font-size:.85rem;line-height:1.4;margin-top:.4rem;overflow-wrap:anywhere}
.key span{margin-right:.8rem}
.chart{max-width:100%;height:auto;font-size:11px;fill:#3b4252}
.chart .axis{stroke:#3b4252;stroke-width:1}
.chart .grid{stroke:#c9ced9;stroke-dasharray:3 3}
.chart .trend{stroke:#1f5fd6;fill:none;stroke-width:2}
.chart circle{fill:#1f5fd6}
.chart .title{font-weight:600}
code{font-size:.85em}
"""

# Only a run of several models has these (a report of one renders as it always did).
_STYLE_OF_MODELS = """.verdict{padding:.05rem .4rem;border-radius:4px;border-left:.3rem solid;
  font-weight:600}
section.model{margin-left:.5rem}
"""

_Format = Callable[[float], str]


def _e(value: object) -> str:
    return inert.html_text(value)


def tone_of(outcome: str) -> str:
    """The verdict's colour class: passed, warnings, drift, or unjudged for the rest."""
    return TONES.get(outcome, _UNJUDGED)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _ids(group: FindingGroup) -> str:
    ids = [f"<code>{_e(v.id)}</code>" for v in group.members]
    if len(ids) == 1:
        return ids[0]
    return f"<details><summary>{len(ids)} ids</summary>{' '.join(ids)}</details>"


def _findings(groups: Sequence[FindingGroup], report: LiveReport) -> str:
    if not groups:
        return "<p>None.</p>"
    rows = []
    for group in groups:
        reasons = dict.fromkeys(
            f"{entry.reason} ({entry.who or '-'})"
            for v in group.members
            if (entry := report.acknowledged.get(v.id)) is not None
        )
        note = "".join(f"<br>acknowledged: {_e(reason)}" for reason in reasons)
        at = " and ".join(f"<code>{_e(pointer)}</code>" for pointer in pointers(group))
        answers = ", ".join(_e(name) for name in group.interactions) + folded_note(group)
        first = group.findings[0]
        rows.append(
            (
                f'<span class="{_e(group.severity)}">{_e(group.severity)}</span>',
                f'<span class="headline">{_e(group.headline())}</span>{note}',
                answers,
                at,
                _e(group.check),
                _e(", ".join(group.received)),
                f"{_e(first.documented)}<br><small>{_e(first.source)}</small>",
                _ids(group),
            )
        )
    return _table(
        ("severity", "finding", "answers", "at", "check", "received", "documented", "ids"), rows
    )


# --- cases -------------------------------------------------------------------------------------


def _mapping(value: object) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one: a record's parts may be missing."""
    return value if isinstance(value, Mapping) else {}


def _size(value: object) -> tuple[int, int] | None:
    """``[width, height]`` as two positive integers, or None for anything else."""
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        return int(value[0]), int(value[1])
    return None


def _box(value: object) -> tuple[float, float, float, float] | None:
    """``[x1, y1, x2, y2]`` of finite numbers with x2 >= x1 and y2 >= y1, or None."""
    if (
        isinstance(value, list | tuple)
        and len(value) == 4
        and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in value
        )
        and value[2] >= value[0]
        and value[3] >= value[1]
    ):
        return float(value[0]), float(value[1]), float(value[2]), float(value[3])
    return None


def _boxes(case: Mapping[str, Any], group: str) -> list[tuple[str, tuple[float, ...]]]:
    found = case.get(group)
    if not isinstance(found, Mapping):
        return []
    return [(str(name), box) for name, value in found.items() if (box := _box(value)) is not None]


def thumbnail_of(case: Mapping[str, Any]) -> tuple[str | None, tuple[int, int] | None, str]:
    """The case's embedded picture (only a data URI of our own making), the image's original
    size as the run read it, and why there is no picture (empty when there is one)."""
    # Imported here: thumbnails loads Pillow, which a run that writes no HTML report, and every
    # import of the report package (``formats`` imports this module), should not pay for.
    from .thumbnails import is_embedded_image  # noqa: PLC0415

    found = case.get("thumbnail")
    if not isinstance(found, Mapping):
        return None, None, "the run did not fetch the image"
    src = found.get("src")
    size = _size(found.get("size"))
    if is_embedded_image(src):
        return str(src), size, ""
    reason = found.get("reason")
    return None, size, str(reason) if reason else "no picture of ours was embedded"


def frame_of(case: Mapping[str, Any]) -> tuple[int, int, str]:
    """The drawing's coordinate system and where it comes from: the image's size as the run
    read it, else as the cases file gives it, else the extent of the boxes (a little margin
    around them), else a square."""
    _, read, _ = thumbnail_of(case)
    for size, source in ((read, "image"), (_size(case.get("image_size")), "cases file")):
        if size is not None:
            return size[0], size[1], source
    boxes = [box for group in ("boxes", "reference") for _, box in _boxes(case, group)]
    if boxes:
        width = max(box[2] for box in boxes)
        height = max(box[3] for box in boxes)
        if width > 0 and height > 0:
            return max(1, round(width * 1.05)), max(1, round(height * 1.05)), "boxes"
    return 100, 100, "unknown"


def _number(value: float) -> str:
    return f"{value:g}"


def _rect(box: Sequence[float], kind: str, name: str, request: str, which: str) -> str:
    x1, y1, x2, y2 = box
    return (
        f'<rect class="{kind}" data-request="{_e(request)}" data-box="{_e(name)}" '
        f'data-which="{which}" x="{_number(x1)}" y="{_number(y1)}" '
        f'width="{_number(x2 - x1)}" height="{_number(y2 - y1)}"><title>{_e(name)} '
        f"{'received' if which == 'live' else 'recorded or expected'}</title></rect>"
    )


def _reference_label(source: str) -> str:
    if source.startswith("fixture"):
        return "recorded"
    if source:
        return "expected"
    return "recorded or expected"


def _case(case: Mapping[str, Any], face_name: str, box_names: tuple[str, ...] | None) -> str:
    """One case's figure; ``box_names`` empty (a model without boxes): no box, no box key."""
    request = str(case.get("request", ""))
    width, height, sized_by = frame_of(case)
    src, _, missing = thumbnail_of(case)
    rects = [
        _rect(box, "reference", name, request, "reference")
        for name, box in _boxes(case, "reference")
    ]
    rects += [
        _rect(box, "face" if name == face_name else "crop", name, request, "live")
        for name, box in _boxes(case, "boxes")
    ]
    if src is not None:
        picture = f'<img alt="{_e(case.get("name", ""))}" src="{_e(src)}">'
    else:
        shape = {
            "image": "the image's size",
            "cases file": "the image_size of the cases file",
            "boxes": "the boxes' extent",
            "unknown": "no size known",
        }[sized_by]
        picture = (
            f'<div class="placeholder" role="img" aria-label="{_e(case.get("name", ""))}">'
            f"<span>image not embedded: {_e(missing)}<br><small>{width}x{height}, from "
            f"{_e(shape)}</small></span></div>"
        )
    iou = _mapping(case.get("iou"))
    iou_text = ", ".join(
        f"{_e(name)} IoU {value:.2f}"
        for name, value in iou.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    )
    source = str(case.get("reference_source") or "")
    against = f" against {_e(source)}" if source else ""
    boxless = box_names is not None and not box_names
    nothing = (
        ""
        if rects or boxless
        else "<br>no box to draw: the answer carried none, none recorded or expected"
    )
    ratio = case.get("ratio")
    at = f" at {_e(ratio)}" if ratio is not None else ""
    key = (
        ""
        if boxless
        else f'<div class="key"><span style="color:#0a8f3c">face</span>'
        f'<span style="color:#1f5fd6">crop</span>'
        f'<span style="color:#e0700b">{_reference_label(source)}</span></div>'
    )
    svg = (
        ""
        if boxless
        else f'<svg viewBox="0 0 {width} {height}" preserveAspectRatio="none" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(rects)}</svg>'
    )
    ious = "" if boxless else f"{iou_text or 'no IoU: no box pair to compare'}{against}{nothing}"
    return (
        f'<figure data-request="{_e(request)}" data-frame="{sized_by}" '
        f'data-embedded="{"yes" if src else "no"}">'
        f'<div class="frame" style="aspect-ratio:{width} / {height}">{picture}{svg}</div>'
        f"<figcaption><b>{_e(case.get('name', ''))}</b>{at}, expect "
        f"{_e(case.get('expect', ''))}: {_e(case.get('outcome', ''))}<br>"
        f"{ious}{key}"
        f"<small>image <code>{_e(case.get('image', ''))}</code></small></figcaption></figure>"
    )


# --- history -----------------------------------------------------------------------------------

_CHART_WIDTH, _CHART_HEIGHT = 560, 210
_LEFT, _RIGHT, _TOP, _BOTTOM = 78, 44, 28, 48  # room for the tick labels and axis titles
_NIGHT_LABELS = 6  # at most this many nights named under the x axis (first and last always)


def _nights(history: Sequence[Mapping[str, Any]]) -> list[str]:
    """A label per record: its date, or date and time when one date has several runs."""
    times = [r.get("time") if isinstance(r.get("time"), str) else None for r in history]
    dates = [t[:10] if t else None for t in times]
    repeated = len({d for d in dates if d}) < len([d for d in dates if d])
    return [
        (t[:16].replace("T", " ") if repeated else t[:10]) if t else f"night {i + 1}"
        for i, t in enumerate(times)
    ]


def _shown(count: int) -> list[int]:
    """Which of ``count`` nights get a label: evenly spread, first and last included."""
    if count <= _NIGHT_LABELS:
        return list(range(count))
    step = (count - 1) / (_NIGHT_LABELS - 1)
    return sorted({round(i * step) for i in range(_NIGHT_LABELS)})


def _trend(points: Sequence[tuple[str, float]], title: str, unit: str, fmt: _Format) -> str:
    """A line chart of one figure over the nights: y ticks at its min and max (with the unit),
    the nights named under the x axis."""
    values = [value for _, value in points]
    low, high = min(values), max(values)
    pad = (high - low) * 0.12 or (abs(high) * 0.12 or 1.0)
    bottom, top = (max(0.0, low - pad) if low >= 0 else low - pad), high + pad
    plot_w = _CHART_WIDTH - _LEFT - _RIGHT
    plot_h = _CHART_HEIGHT - _TOP - _BOTTOM
    count = len(points)

    def x(i: int) -> float:
        return _LEFT + (plot_w / 2 if count == 1 else i * plot_w / (count - 1))

    def y(value: float) -> float:
        return _TOP + (top - value) * plot_h / (top - bottom)

    axis_y = _TOP + plot_h
    parts = [
        f'<text class="title" x="{_LEFT}" y="16">{_e(title)}</text>',
        f'<line class="axis" x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{axis_y}"/>',
        f'<line class="axis" x1="{_LEFT}" y1="{axis_y}" x2="{_LEFT + plot_w}" y2="{axis_y}"/>',
        f'<text class="axis-title" transform="translate(14 {_TOP + plot_h / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{_e(unit)}</text>',
        f'<text class="axis-title" x="{_LEFT + plot_w / 2:.1f}" y="{_CHART_HEIGHT - 6}" '
        f'text-anchor="middle">night</text>',
    ]
    for name, value in (("max", high), ("min", low))[: 1 if high == low else 2]:
        at = y(value)
        parts.append(
            f'<line class="grid" x1="{_LEFT}" y1="{at:.1f}" x2="{_LEFT + plot_w}" y2="{at:.1f}"/>'
            f'<text class="tick y-tick" data-tick="{name}" x="{_LEFT - 6}" y="{at + 4:.1f}" '
            f'text-anchor="end">{_e(fmt(value))}</text>'
        )
    for i in _shown(count):
        parts.append(
            f'<text class="tick x-tick" x="{x(i):.1f}" y="{axis_y + 16}" '
            f'text-anchor="middle">{_e(points[i][0])}</text>'
        )
    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    if count > 1:
        parts.append(f'<polyline class="trend" points="{line}"/>')
    parts += [
        f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3"><title>{_e(night)}: {_e(fmt(v))}'
        f"</title></circle>"
        for i, (night, v) in enumerate(points)
    ]
    return (
        f'<svg class="chart" data-label="{_e(title)}" width="{_CHART_WIDTH}" '
        f'height="{_CHART_HEIGHT}" viewBox="0 0 {_CHART_WIDTH} {_CHART_HEIGHT}" role="img" '
        f'aria-label="{_e(title)}" xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
    )


def _finite(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _history(report: LiveReport) -> str:
    if not report.history:
        return "<p>No history given (<code>--history FILE</code>).</p>"
    nights = _nights(report.history)
    parts = [f"<p>{len(report.history)} night(s).</p>"]
    latency = [_mapping(r.get("latency_ms")) for r in report.history]
    for kind in sorted({str(k) for by_kind in latency for k in by_kind}):
        points = [
            (night, value)
            for night, by_kind in zip(nights, latency, strict=True)
            if (value := _finite(_mapping(by_kind.get(kind)).get("p50"))) is not None
        ]
        if points:
            parts.append(
                _trend(
                    points, f"latency p50 of {kind} requests", "milliseconds", lambda v: f"{v:g} ms"
                )
            )
    ious = []
    for night, record in zip(nights, report.history, strict=True):
        values = [
            value
            for case in _mapping(record.get("iou")).values()
            for item in _mapping(case).values()
            if (value := _finite(item)) is not None
        ]
        if values:
            ious.append((night, sum(values) / len(values)))
    if ious:
        parts.append(
            _trend(
                ious,
                "mean IoU of the cases' boxes with their references",
                "IoU (0 to 1)",
                lambda v: f"{v:.2f}",
            )
        )
    return "".join(parts)


def _questions(
    observations: Sequence[Observation],
    history: Sequence[Mapping[str, Any]],
    key: Callable[[str], str] = str,
) -> str:
    """The open questions with tonight's answer and the readings over the nights; ``key``: a
    question's name in the history's records (a model's own in a run of several)."""
    tallies: dict[str, dict[str, int]] = {}
    for record in history:
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
                ", ".join(f"{r} {n}x" for r, n in sorted(tallies.get(key(o.question), {}).items()))
                or "-"
            ),
        )
        for o in observations
    )
    return _table(("question", "tonight", "reading", "over the nights"), rows)


def _counted(groups: Sequence[FindingGroup]) -> str:
    members = sum(len(g.members) for g in groups)
    return f"{len(groups)} group(s) of {members}" if members != len(groups) else str(members)


# --- a run of several models ---------------------------------------------------------------------


def _verdict(outcome: str) -> str:
    tone = tone_of(outcome)
    return f'<span class="verdict tone-{tone}" data-tone="{tone}">{_e(outcome)}</span>'


def _billed(spend: Spend) -> str:
    cost = spend.cost
    if cost is None:
        return f"{spend.images_billed}" + (", price not documented" if spend.images_billed else "")
    return f"{spend.images_billed}, " + _e(" ".join(filter(None, (spend.currency, str(cost)))))


def _severity_count(part: LiveReport, severity: Severity) -> str:
    found = part.by_severity(severity)
    known = sum(1 for v in found if v.id in part.acknowledged)
    return f"{len(found)}" + (f" ({known} acknowledged)" if known else "")


def _anchor(index: int) -> str:
    """A model's section's id: by its place, so no name of a file's choosing is an id."""
    return f"model-{index + 1}"


def _models(report: LiveReport) -> str:
    rows = (
        (
            f'<a href="#{_anchor(index)}"><code>{_e(part.model)}</code></a>',
            _verdict(part.outcome),
            f"{part.sent} / {part.judged} (of {len(part.requests)})",
            _severity_count(part, Severity.BREAKING),
            _severity_count(part, Severity.ADDITIVE),
            str(len(part.errors)),
            _billed(part.spend),
        )
        for index, part in enumerate(report.parts)
    )
    return f'<h2>Models</h2><div id="models">{_table(MODELS_HEADER, rows)}</div>\n'


def _model_findings(index: int, part: LiveReport) -> str:
    groups = part.groups()
    sections = (
        ("New breaking findings", [g for g in groups if g.severity is Severity.BREAKING]),
        ("New additive findings", [g for g in groups if g.severity is not Severity.BREAKING]),
        ("Acknowledged findings", list(part.acknowledged_groups())),
    )
    body = "".join(
        f"<h4>{title}: {_counted(shown)}</h4>{_findings(shown, part)}"
        for title, shown in sections
        if shown
    )
    return (
        f'<section class="model" id="{_anchor(index)}" data-model="{_e(part.model)}">'
        f"<h3><code>{_e(part.model)}</code>: {_verdict(part.outcome)}</h3>"
        f"{body or '<p>No finding.</p>'}</section>"
    )


def _findings_by_model(report: LiveReport) -> str:
    return "<h2>Findings by model</h2>" + "".join(
        _model_findings(index, part) for index, part in enumerate(report.parts)
    )


def _causes(report: LiveReport) -> str:
    return "".join(f"<li>{_e(c.line())}</li>" for c in report.error_causes())


def _errors(report: LiveReport) -> str:
    """The errors of the run, one line per cause; of several models, per model (the run's own
    first)."""
    causes = _causes(report)
    if not report.parts or not causes:
        return f"<ul>{causes or '<li>None.</li>'}</ul>"
    own = report.errors_of_no_model()
    sections = [
        *([("the run itself", dataclasses.replace(report, errors=own, parts=()))] if own else []),
        *((f"<code>{_e(part.model)}</code>", part) for part in report.parts),
    ]
    items = []
    for label, part in sections:
        listed = _causes(part)
        count = len(part.error_causes())
        items.append(
            f"<li>{label}: {len(part.errors)} from {count} cause(s)<ul>{listed}</ul></li>"
            if listed
            else f"<li>{label}: none</li>"
        )
    return f'<ul class="by-model">{"".join(items)}</ul>'


def _face_name(report: LiveReport) -> str:
    first = report.cases[0].get("boxes") if report.cases else None
    return next(iter(first), "") if isinstance(first, Mapping) else ""


def _figures(report: LiveReport) -> str:
    face_name = _face_name(report)
    return "".join(_case(case, face_name, report.box_names) for case in report.cases)


def _cases(report: LiveReport) -> str:
    """Every case's figure; of several models, per model, each drawn with its model's boxes."""
    if not report.parts:
        return f'<div class="cases">{_figures(report)}</div>'
    return "".join(
        f"<h3><code>{_e(part.model)}</code></h3>"
        + (f'<div class="cases">{_figures(part)}</div>' if part.cases else "<p>No case.</p>")
        for part in report.parts
    )


def _open_questions(report: LiveReport) -> str:
    if not report.parts:
        return _questions(report.observations, report.history)
    return "".join(
        f"<h3><code>{_e(part.model)}</code></h3>"
        + _questions(
            part.observations,
            report.history,
            functools.partial(qualified, part.model),
        )
        for part in report.parts
    )


def render(report: LiveReport) -> str:
    outcome = report.outcome
    tone = tone_of(outcome)
    why = report.why_not_passed()
    groups = report.groups()
    new_breaking = [g for g in groups if g.severity is Severity.BREAKING]
    new_additive = [g for g in groups if g.severity is not Severity.BREAKING]
    acknowledged = report.acknowledged_groups()
    stale = "".join(f"<li>{_e(e.describe())}: {_e(e.reason)}</li>" for e in report.stale)
    expired = "".join(f"<li>{_e(e.describe())}: {_e(e.reason)}</li>" for e in report.expired)
    sources = "".join(
        f'<li><a href="{_e(url)}">{_e(title)}</a></li>' for title, url in report.sources
    )
    data = json.dumps({"outcome": outcome, "exit_status": report.exit_status}).replace(
        "<", "\\u003c"
    )
    findings = (
        _findings_by_model(report)
        if report.parts
        else f"""<h2>New breaking findings: {_counted(new_breaking)}</h2>{
            _findings(new_breaking, report)
        }
<h2>New additive findings: {_counted(new_additive)}</h2>{_findings(new_additive, report)}
<h2>Acknowledged findings: {_counted(acknowledged)}</h2>{_findings(acknowledged, report)}"""
    )
    return f"""<!DOCTYPE html>
<!-- {REPORT_NAME} -->
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_POLICY}">
<meta name="generator" content="facedetect-contract">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{_e(REPORT_NAME)}: {_e(outcome)}</title><style>{
        _STYLE + (_STYLE_OF_MODELS if report.parts else "")
    }</style></head>
<body><h1>{_e(REPORT_NAME)}</h1>
<p class="outcome tone-{tone}" id="outcome" data-tone="{tone}">{_e(report.headline())}{
        f" ({_e(why)})" if why and outcome != "not judged" else ""
    }</p>
<p>Endpoint <code>{_e(report.endpoint)}</code>, generated {_e(report.generated_at)};
{_e(report.spend)}.</p>
{_models(report) if report.parts else ""}{findings}
{f"<h2>Baseline entries past their date</h2><ul>{expired}</ul>" if expired else ""}
{f"<h2>Stale baseline entries</h2><ul>{stale}</ul>" if stale else ""}
<h2>Errors of the run</h2>{_errors(report)}
<h2>Cases</h2>{_cases(report)}
<h2>Open questions</h2>{_open_questions(report)}
<h2>Over the nights</h2>{_history(report)}
<h2>Sources</h2><ul>{sources}</ul>
<script type="application/json" id="report-data">{data}</script>
</body></html>
"""
