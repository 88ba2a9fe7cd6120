"""The HTML report in a real headless browser (Chromium from the system's packages).

A live run against the stub, its images served by a loopback image host: one image's boxes moved
from what the cases file expects, one answer's verdict field renamed (drift, no box the model
reads), one image on a host that never answered. The run's images are embedded at its end; then
the image host and the stub stop, and the page is opened in Chromium. Every case shows its
picture or a placeholder of the image's aspect ratio (never a strip), its boxes drawn where the
numbers say (checked on the page's own geometry, not on the HTML text), nothing is fetched, the
verdict is in the colour of drift, the trends have labelled axes, and a screenshot is written (to
``$FACEDETECT_SCREENSHOT_DIR`` too, when set) and its path printed.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.contracts.cases import LiveCase
from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.core.redaction import Redactor
from facedetect_contract.doubles.fake import FakeRequest, FakeResponse
from facedetect_contract.doubles.images import place_face
from facedetect_contract.doubles.server import serve_in_thread
from facedetect_contract.live.run import LiveRun, LiveSettings
from facedetect_contract.report import LiveReport, write_reports

pytestmark = pytest.mark.browser

KEY = "sk-browser-" + "3c2d" * 8
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# A run against a machine without Chromium says so; CI (.ci/run installs it) makes it an error.
REQUIRED = os.environ.get("FACEDETECT_REQUIRE_BROWSER") == "1"
SHIFT = 90  # pixels the stub moves every box of portrait.png by, to the right
PORTRAIT = (600, 800)
PHOTO = (1024, 768)
HISTORY = tuple(
    {
        "time": f"2025-03-0{night}T02:00:00+00:00",
        "latency_ms": {"case": {"p50": p50, "p95": p50 * 2, "max": p50 * 3, "n": 4}},
        "iou": {"live-case-portrait": {"face_bbox": iou}},
    }
    for night, p50, iou in ((1, 120.5, 0.91), (2, 180.0, 0.88), (3, 95.25, 0.62))
)


def drifted(request: FakeRequest, response: FakeResponse) -> FakeResponse:
    """portrait.png: every box moved right; photo.jpg: the verdict field renamed."""
    body = response.json()
    output = body.get("output")
    if not (isinstance(output, dict) and output.get("check_pass")):
        return response
    if b"photo.jpg" in request.body:
        output["checkPass"] = output.pop("check_pass")
    else:
        for name in ("face_bbox", "ext_bbox"):
            x1, y1, x2, y2 = output[name]
            output[name] = [x1 + SHIFT, y1, x2 + SHIFT, y2]
    return FakeResponse(response.status, response.headers, json.dumps(body).encode())


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # the name is the base class's
        pass


@functools.cache
def _closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening: a host that refuses at once
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        message = "Chromium is not installed (Debian: apt-get install chromium)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message + "; .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def page_whose_image_host_has_stopped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("html")
    face = list(place_face(*PORTRAIT))
    images = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(IMAGE_DIR))
    )
    thread = threading.Thread(target=images.serve_forever, daemon=True)
    thread.start()
    host = f"http://127.0.0.1:{images.server_address[1]}"
    try:
        with serve_in_thread(api_keys=[KEY], response_hook=drifted) as stub:
            cases = (
                LiveCase(
                    "portrait",
                    f"{host}/portrait.png",
                    "1:1",
                    "pass",
                    {"face_bbox": face, "image_size": list(PORTRAIT)},
                ),
                LiveCase(
                    "portrait tall", f"{host}/portrait.png", "3:4", "pass", {"face_bbox": face}
                ),
                LiveCase(
                    "photo renamed",
                    f"{host}/photo.jpg",
                    "1:1",
                    "pass",
                    {"face_bbox": list(place_face(*PHOTO))},
                ),
                LiveCase(
                    "never answered",
                    f"http://127.0.0.1:{_closed_port()}/portrait.png",
                    "1:1",
                    "pass",
                    {"face_bbox": face, "image_size": list(PORTRAIT)},
                ),
            )
            settings = LiveSettings(
                base_url=stub.base_url, examples=0, qps=0, record_dir=tmp / "none"
            )
            run = LiveRun(settings, cases, environ={"DASHSCOPE_API_KEY": KEY})
            run.execute()
            # The end of the run: its images fetched while their host still answers, as the
            # plugin asks when an HTML report is written.
            report = LiveReport.from_run(run, history=HISTORY, images=10)
            run.close()
    finally:
        images.shutdown()
        images.server_close()
        thread.join(timeout=5)
    (page,) = write_reports(report, [tmp / "drift.html"], Redactor([KEY]))
    return page


def _open(browser: Any, path: Path, fetched: list[str], problems: list[str]) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    page.on("request", lambda request: fetched.append(request.url))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "warning")
            else None
        ),
    )
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page


def _assert_card(figure: Any) -> None:
    """One card: the image's shape kept with or without its picture, its boxes where the
    numbers say."""
    frame = figure.query_selector(".frame").bounding_box()
    width, height = (
        float(v) for v in figure.query_selector("svg").get_attribute("viewBox").split()[2:]
    )
    # The card keeps the image's shape whether its picture is there or not: never a strip.
    assert frame["height"] > 0.5 * frame["width"]
    assert abs(frame["height"] / frame["width"] - height / width) < 0.02
    picture = figure.query_selector("img")
    if figure.get_attribute("data-embedded") == "yes":
        assert picture.get_attribute("src").startswith("data:image/jpeg;base64,")
        assert picture.evaluate("i => i.naturalWidth") > 0  # it decoded: a picture, not a hole
        shown = picture.bounding_box()
        assert abs(shown["width"] - frame["width"]) <= 1
        assert abs(shown["height"] - frame["height"]) <= 1
    else:
        assert picture is None
        assert "image not embedded" in figure.query_selector(".placeholder").inner_text()
    rects = figure.query_selector_all("rect")
    assert rects, figure.inner_text()  # boxes on every case, the drift ones included
    scale_x, scale_y = frame["width"] / width, frame["height"] / height
    for rect in rects:
        drawn = rect.bounding_box()
        x, y = float(rect.get_attribute("x")), float(rect.get_attribute("y"))
        w, h = float(rect.get_attribute("width")), float(rect.get_attribute("height"))
        # Where the numbers say, in the image's pixels scaled to the frame as shown (the stroke
        # is drawn centred on the edge, so allow its width).
        assert abs(drawn["x"] - (frame["x"] + x * scale_x)) <= 3
        assert abs(drawn["y"] - (frame["y"] + y * scale_y)) <= 3
        assert abs(drawn["width"] - w * scale_x) <= 6
        assert abs(drawn["height"] - h * scale_y) <= 6
        assert drawn["width"] > 10 and drawn["height"] > 10


def test_every_case_shows_its_picture_or_a_placeholder_of_its_shape_with_its_boxes_drawn(
    browser: Any, page_whose_image_host_has_stopped: Path, tmp_path: Path
) -> None:
    path = page_whose_image_host_has_stopped
    fetched: list[str] = []
    problems: list[str] = []
    page = _open(browser, path, fetched, problems)
    page.wait_for_function("[...document.querySelectorAll('.frame img')].every(i => i.complete)")
    assert problems == []
    # Nothing but the page itself (its pictures are in it): the host is gone, and none is asked.
    assert [url for url in fetched if not url.startswith(("file:", "data:"))] == []
    figures = page.query_selector_all("figure")
    assert len(figures) == 4
    embedded = {f.get_attribute("data-request"): f.get_attribute("data-embedded") for f in figures}
    assert list(embedded.values()) == ["yes", "yes", "yes", "no"], embedded
    for figure in figures:
        _assert_card(figure)
    portrait = figures[0]
    live = portrait.query_selector("rect.face[data-which=live]")
    expected = portrait.query_selector("rect.reference[data-box=face_bbox]")
    assert float(live.get_attribute("x")) - float(expected.get_attribute("x")) == SHIFT
    assert portrait.query_selector("rect.crop[data-which=live]") is not None
    assert "IoU" in portrait.inner_text()
    # The photo's size was read from the image itself, the unanswered one from the cases file.
    assert figures[2].get_attribute("data-frame") == "image"
    assert figures[2].query_selector("svg").get_attribute("viewBox") == "0 0 1024 768"
    assert figures[3].get_attribute("data-frame") == "cases file"
    assert "could not be reached" in figures[3].inner_text()

    shot = tmp_path / "html-report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
    keep = os.environ.get("FACEDETECT_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)
    page.close()


def test_the_verdict_is_in_the_colour_of_drift_and_the_trends_have_labelled_axes(
    browser: Any, page_whose_image_host_has_stopped: Path
) -> None:
    page = _open(browser, page_whose_image_host_has_stopped, [], [])
    outcome = page.query_selector("#outcome")
    assert outcome.inner_text().startswith("drift")
    red, green, blue = (
        int(part)
        for part in outcome.evaluate("e => getComputedStyle(e).backgroundColor")[4:-1].split(",")
    )
    assert red > green + 20 and red > blue + 20  # reddish, not the grey of "not judged"
    charts = page.query_selector_all("svg.chart")
    assert [c.get_attribute("data-label") for c in charts] == [
        "latency p50 of case requests",
        "mean IoU of the cases' boxes with their references",
    ]
    latency = charts[0]
    ticks = [t.text_content() for t in latency.query_selector_all("text.y-tick")]
    assert ticks == ["180 ms", "95.25 ms"]
    nights = [t.text_content() for t in latency.query_selector_all("text.x-tick")]
    assert nights == ["2025-03-01", "2025-03-02", "2025-03-03"]
    titles = [t.text_content() for t in latency.query_selector_all("text.axis-title")]
    assert titles == ["milliseconds", "night"]
    box = latency.bounding_box()
    for label in latency.query_selector_all("text"):
        drawn = label.bounding_box()  # every label inside the chart, none clipped away
        assert drawn["width"] > 0
        assert (
            box["x"] - 1 <= drawn["x"]
            and drawn["x"] + drawn["width"] <= box["x"] + box["width"] + 1
        )
    page.close()
