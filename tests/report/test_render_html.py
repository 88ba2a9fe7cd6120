"""The HTML report without a browser: each card's picture is one we embedded or a placeholder of
the image's shape, every case's boxes are drawn in the image's coordinates, nothing is loaded when
the page opens, the endpoint's text stays text, the verdict has its colour and the trends their
axes. (Chromium looks at the same page in tests/browser.)"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, get_args

import pytest

from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.core.violations import Severity, Violation
from facedetect_contract.live.budget import Spend
from facedetect_contract.report import LiveReport, RunOutcome
from facedetect_contract.report.render_html import render
from tests.helpers.pages import Tags

SENT = ({"name": "case-a", "kind": "case", "outcome": "passed", "elapsed_ms": 10.0},)
FACE = [210, 110, 390, 290]
CROP = [165, 0, 615, 450]


def _our_jpeg() -> str:
    from facedetect_contract.report.thumbnails import (
        from_bytes,
    )  # a new module: imported late, so the other tests run on older code

    thumbnail = from_bytes((IMAGE_DIR / "portrait.png").read_bytes())
    assert thumbnail.data_uri is not None
    return thumbnail.data_uri


def report_of(
    *,
    cases: Sequence[Mapping[str, Any]] = (),
    history: Sequence[Mapping[str, Any]] = (),
    findings: Sequence[Violation] = (),
) -> LiveReport:
    return LiveReport(
        endpoint="http://127.0.0.1:1/api/v1/services/aigc/image2video/face-detect",
        generated_at="2025-03-03T02:00:00+00:00",
        strict_drift=False,
        findings=tuple(findings),
        errors=(),
        spend=Spend(0, 0, 0, (), (), Decimal("0"), "CNY"),
        observations=(),
        requests=SENT,
        recorded=(),
        cases=tuple(dict(case) for case in cases),
        history=tuple(history),
    )


def case_row(**given: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": "portrait",
        "request": "live-case-portrait",
        "image": "http://127.0.0.1:1/images/portrait.png",
        "ratio": "1:1",
        "expect": "pass",
        "outcome": "passed",
        "boxes": {"face_bbox": FACE, "ext_bbox": CROP},
        "reference": {"face_bbox": FACE},
        "reference_source": "the cases file",
        "iou": {"face_bbox": 1.0},
        "image_size": None,
    }
    return {**row, **given}


def figures(page: str) -> list[str]:
    return re.findall(r"<figure.*?</figure>", page, re.S)


def frame(figure: str) -> tuple[str, str]:
    """The card's CSS aspect ratio and its drawing's viewBox."""
    ratio = re.search(r'class="frame" style="aspect-ratio:([^"]*)"', figure)
    box = re.search(r'<svg viewBox="([^"]*)"', figure)
    return (ratio.group(1) if ratio else "", box.group(1) if box else "")


# --- the picture, or a placeholder of its shape ------------------------------------------------


def test_a_case_with_our_thumbnail_shows_it_in_the_images_own_coordinates() -> None:
    uri = _our_jpeg()
    row = case_row(thumbnail={"src": uri, "size": [600, 800], "reason": ""})
    (figure,) = figures(render(report_of(cases=[row])))
    assert f'src="{uri}"' in figure
    assert frame(figure) == ("600 / 800", "0 0 600 800")
    assert 'class="placeholder"' not in figure


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"image_size": [600, 800]}, ("600 / 800", "0 0 600 800")),
        (
            {"image_size": [600, 800], "thumbnail": {"src": None, "size": [900, 1200]}},
            ("900 / 1200", "0 0 900 1200"),
        ),
        (
            {"boxes": {"face_bbox": [0, 0, 400, 300], "ext_bbox": None}},
            ("420 / 315", "0 0 420 315"),
        ),
        (
            {"boxes": {"face_bbox": None, "ext_bbox": None}, "reference": {}},
            ("100 / 100", "0 0 100 100"),
        ),
        ({"image_size": [0, 800], "boxes": {}, "reference": {}}, ("100 / 100", "0 0 100 100")),
    ],
    ids=[
        "the cases file's size",
        "the size the run read wins",
        "the boxes' extent",
        "nothing known: square",
        "a size that is none",
    ],
)
def test_a_case_without_a_picture_gets_a_placeholder_of_the_images_shape(
    given: dict[str, Any], expected: tuple[str, str]
) -> None:
    (figure,) = figures(render(report_of(cases=[case_row(**{"reference": {}, **given})])))
    assert "<img" not in figure
    assert 'class="placeholder"' in figure and "image not embedded" in figure
    assert frame(figure) == expected


def test_the_placeholder_says_why_the_picture_is_missing() -> None:
    rows = [
        case_row(image_size=[600, 800]),
        case_row(thumbnail={"src": None, "size": None, "reason": "127.0.0.1 could not be reached"}),
    ]
    first, second = figures(render(report_of(cases=rows)))
    assert "image not embedded: the run did not fetch the image" in first
    assert "image not embedded: 127.0.0.1 could not be reached" in second


@pytest.mark.parametrize(
    "src",
    [
        "https://evil.example/track.png",
        "//evil.example/track.png",
        "javascript:alert(1)",
        "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9ImFsZXJ0KDEpIi8+",
        'data:image/jpeg;base64,/9j/"><script>alert(1)</script>',
        "data:image/png;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/",
    ],
    ids=["remote", "scheme-relative", "javascript", "svg", "markup", "jpeg said to be png"],
)
def test_a_picture_that_is_not_our_own_data_uri_is_never_shown(src: str) -> None:
    row = case_row(image="http://127.0.0.1:1/x.png", thumbnail={"src": src, "size": [600, 800]})
    page = render(report_of(cases=[row]))
    (figure,) = figures(page)
    assert "<img" not in figure and 'class="placeholder"' in figure
    assert frame(figure) == ("600 / 800", "0 0 600 800")  # its shape still kept
    assert "evil.example" not in page and "alert(1)" not in page
    assert not [attrs for tag, attrs in Tags(page).found if tag == "img"]


# --- boxes on every case ----------------------------------------------------------------------


def test_every_case_draws_its_boxes_drift_and_failures_included() -> None:
    rows = [
        case_row(request="passed"),
        # Drift: the answer's verdict renamed, no box read from it; the expected one is drawn.
        case_row(
            request="drift", outcome="unexplained", boxes={"face_bbox": None, "ext_bbox": None}
        ),
        # Boxes moved: received and expected side by side.
        case_row(request="moved", boxes={"face_bbox": [300, 110, 480, 290], "ext_bbox": None}),
        case_row(request="no reference", reference={}, reference_source=""),
    ]
    drawn = {
        re.search(r'data-request="([^"]*)"', figure).group(1): re.findall(  # type: ignore[union-attr]
            r'<rect class="(\w+)"[^>]*data-which="(\w+)" x="([\d.]+)" y="([\d.]+)" '
            r'width="([\d.]+)" height="([\d.]+)"',
            figure,
        )
        for figure in figures(render(report_of(cases=rows)))
    }
    assert drawn["passed"] == [
        ("reference", "reference", "210", "110", "180", "180"),
        ("face", "live", "210", "110", "180", "180"),
        ("crop", "live", "165", "0", "450", "450"),
    ]
    assert drawn["drift"] == [("reference", "reference", "210", "110", "180", "180")]
    assert drawn["moved"][1] == ("face", "live", "300", "110", "180", "180")
    assert [kind for kind, *_ in drawn["no reference"]] == ["face", "crop"]


def test_a_case_with_no_box_at_all_says_so_instead_of_an_empty_frame() -> None:
    row = case_row(
        outcome="request_error", boxes={"face_bbox": None, "ext_bbox": None}, reference={}
    )
    (figure,) = figures(render(report_of(cases=[row])))
    assert "<rect" not in figure
    assert "no box to draw" in figure


@pytest.mark.parametrize(
    "box",
    [["1", 2, 3, 4], [1, 2, 3], [5, 5, 1, 1], [1, 2, float("nan"), 4], "x", [True, 0, 1, 1]],
)
def test_a_box_that_is_not_four_ordered_numbers_is_not_drawn(box: Any) -> None:
    row = case_row(boxes={"face_bbox": box, "ext_bbox": None}, reference={})
    (figure,) = figures(render(report_of(cases=[row])))
    assert "<rect" not in figure


# --- nothing loaded, nothing the endpoint chose as markup ---------------------------------------


def test_the_page_loads_nothing_when_opened_and_runs_no_script() -> None:
    page = render(report_of(cases=[case_row(image_size=[600, 800])]))
    tags = Tags(page).found
    (policy,) = [
        attrs["content"]
        for tag, attrs in tags
        if tag == "meta" and attrs.get("http-equiv", "").lower() == "content-security-policy"
    ]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives["default-src"] == ["'none'"]
    assert directives["img-src"] == ["data:"]
    assert "script-src" not in directives  # default-src 'none': no script at all
    assert [attrs.get("type") for tag, attrs in tags if tag == "script"] == ["application/json"]
    assert not [tag for tag, attrs in tags if tag in ("link", "iframe", "object", "embed")]
    loads = [attrs["src"] for tag, attrs in tags if "src" in attrs]
    assert all(src.startswith("data:image/") for src in loads)


def test_text_from_the_endpoint_and_the_cases_file_stays_text_in_the_cards() -> None:
    hostile = '<img src=x onerror=alert(1)>"\ud800'
    row = case_row(
        name=hostile,
        outcome=hostile,
        image=f'javascript:"{hostile}',
        reference_source=hostile,
        iou={hostile: 0.5},
        boxes={hostile: FACE},
        thumbnail={"src": None, "size": None, "reason": hostile},
    )
    page = render(report_of(cases=[row]))
    assert "<img src=x" not in page and "onerror=alert(1)>" not in page
    assert html.escape('<img src=x onerror=alert(1)>"', quote=True) in page
    assert "\ud800" not in page and "\\ud800" in page  # inert.html_text: encodable
    assert not [attrs for tag, attrs in Tags(page).found if tag == "img"]


# --- the verdict's colour ---------------------------------------------------------------------


@pytest.mark.parametrize("outcome", get_args(RunOutcome))
def test_the_verdict_has_the_colour_of_its_outcome(
    outcome: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LiveReport, "outcome", property(lambda self: outcome))
    page = render(report_of())
    (tone,) = re.findall(r'<p class="outcome tone-(\w+)" id="outcome"', page)
    expected = {"passed": "passed", "passed with warnings": "warnings", "drift": "drift"}
    assert tone == expected.get(outcome, "unjudged")
    colours = dict(re.findall(r"\.tone-(\w+)\{background:(#[0-9a-f]{6})", page))
    assert set(colours) == {"passed", "warnings", "drift", "unjudged"}
    assert len(set(colours.values())) == 4  # four colours a person can tell apart


def test_a_report_that_found_drift_is_red_and_one_that_found_warnings_amber() -> None:
    def finding(severity: Severity) -> Violation:
        return Violation("c", "live-case-a", "/a", "r", "d", severity, "s", "t")

    drift = render(report_of(findings=[finding(Severity.BREAKING)]))
    warnings = render(report_of(findings=[finding(Severity.ADDITIVE)]))
    assert 'class="outcome tone-drift"' in drift
    assert 'class="outcome tone-warnings"' in warnings


# --- trends on labelled axes ------------------------------------------------------------------


def night(day: str, p50: Any, iou: Any = 0.9, hour: str = "02:00") -> dict[str, Any]:
    return {
        "time": f"2025-03-{day}T{hour}:00+00:00",
        "latency_ms": {"case": {"p50": p50, "p95": 1, "max": 1, "n": 1}},
        "iou": {"live-case-a": {"face_bbox": iou}},
    }


def charts(page: str) -> dict[str, str]:
    found = re.finditer(r'<svg class="chart" data-label="([^"]*)".*?</svg>', page, re.S)
    return {html.unescape(chart.group(1)): chart.group(0) for chart in found}


def texts(chart: str, kind: str) -> list[str]:
    return [
        html.unescape(t) for t in re.findall(rf'<text class="{kind}"[^>]*>([^<]*)</text>', chart)
    ]


def test_the_trends_have_axes_with_units_min_and_max_ticks_and_the_nights() -> None:
    history = [night("01", 120.5, 0.91), night("02", 180.0, 0.88), night("03", 95.25, 0.62)]
    found = charts(render(report_of(history=history)))
    latency = found["latency p50 of case requests"]
    assert texts(latency, "tick y-tick") == ["180 ms", "95.25 ms"]
    assert texts(latency, "tick x-tick") == ["2025-03-01", "2025-03-02", "2025-03-03"]
    assert texts(latency, "axis-title") == ["milliseconds", "night"]
    assert latency.count('<line class="axis"') == 2
    iou = found["mean IoU of the cases' boxes with their references"]
    assert texts(iou, "tick y-tick") == ["0.91", "0.62"]
    assert texts(iou, "axis-title") == ["IoU (0 to 1)", "night"]


def test_many_nights_name_six_of_them_first_and_last_included() -> None:
    history = [night(f"{day:02d}", float(day)) for day in range(1, 11)]
    latency = charts(render(report_of(history=history)))["latency p50 of case requests"]
    labels = texts(latency, "tick x-tick")
    assert len(labels) == 6 and labels[0] == "2025-03-01" and labels[-1] == "2025-03-10"
    assert latency.count("<circle") == 10


def test_two_runs_on_one_date_are_told_apart_by_their_time() -> None:
    history = [night("01", 1.0, hour="02:00"), night("01", 2.0, hour="14:30")]
    latency = charts(render(report_of(history=history)))["latency p50 of case requests"]
    assert texts(latency, "tick x-tick") == ["2025-03-01 02:00", "2025-03-01 14:30"]


def test_one_night_is_one_point_with_one_tick() -> None:
    latency = charts(render(report_of(history=[night("01", 42.0)])))["latency p50 of case requests"]
    assert texts(latency, "tick y-tick") == ["42 ms"]
    assert latency.count("<circle") == 1 and "<polyline" not in latency


def test_a_malformed_history_value_is_left_out_of_the_trend_not_a_crash() -> None:
    history = [
        night("01", "fast", "high"),
        night("02", float("nan"), None),
        night("03", 10.0, 0.5),
        {"time": 7, "latency_ms": "x", "iou": []},
    ]
    found = charts(render(report_of(history=history)))
    latency = found["latency p50 of case requests"]
    assert texts(latency, "tick x-tick") == ["2025-03-03"]
    assert "4 night(s)." in render(report_of(history=history))
