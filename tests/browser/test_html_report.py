"""The HTML report in a real headless browser (Chromium from the system's packages).

A live run against the stub whose boxes moved from what the cases file expects, rendered to HTML
and opened in Chromium: the page loads without errors, each case's image is shown with the face
and crop boxes drawn where the numbers say (checked on the page's own geometry, not on the HTML
text) beside the expected boxes, and a screenshot is written (to ``$FACEDETECT_SCREENSHOT_DIR``
too, when set).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.cases import LiveCase
from facedetect_contract.fake import FakeRequest, FakeResponse
from facedetect_contract.fixtures import IMAGE_DIR
from facedetect_contract.images import place_face
from facedetect_contract.live import LiveRun, LiveSettings
from facedetect_contract.redaction import Redactor
from facedetect_contract.report import LiveReport, write_reports
from facedetect_contract.server import RunningServer, serve_in_thread

pytestmark = pytest.mark.browser

KEY = "sk-browser-" + "3c2d" * 8
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# A run against a machine without Chromium says so; CI (.ci/run installs it) makes it an error.
REQUIRED = os.environ.get("FACEDETECT_REQUIRE_BROWSER") == "1"
SHIFT = 90  # pixels the stub moves every box by, to the right


def moved(request: FakeRequest, response: FakeResponse) -> FakeResponse:
    body = response.json()
    output = body.get("output")
    if isinstance(output, dict) and output.get("check_pass"):
        for name in ("face_bbox", "ext_bbox"):
            x1, y1, x2, y2 = output[name]
            output[name] = [x1 + SHIFT, y1, x2 + SHIFT, y2]
    return FakeResponse(response.status, response.headers, json.dumps(body).encode())


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
def page_of_a_run_with_moved_boxes(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, RunningServer]]:
    tmp = tmp_path_factory.mktemp("html")
    size = (600, 800)  # portrait.png
    face = place_face(*size)
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR, response_hook=moved) as stub:
        url = stub.image_url("portrait.png")
        cases = (
            LiveCase(
                "portrait", url, "1:1", "pass", {"face_bbox": list(face), "image_size": list(size)}
            ),
            LiveCase("portrait tall", url, "3:4", "pass", {"face_bbox": list(face)}),
        )
        settings = LiveSettings(base_url=stub.base_url, examples=0, qps=0, record_dir=tmp / "none")
        run = LiveRun(settings, cases, environ={"DASHSCOPE_API_KEY": KEY})
        run.execute()
        report = LiveReport.from_run(run)
        run.close()
        (page,) = write_reports(report, [tmp / "drift.html"], Redactor([KEY]))
        yield page, stub


def test_the_report_renders_with_both_boxes_on_the_image_where_the_numbers_say(
    browser: Any, page_of_a_run_with_moved_boxes: tuple[Path, RunningServer], tmp_path: Path
) -> None:
    path, _stub = page_of_a_run_with_moved_boxes
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    problems: list[str] = []
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
    page.wait_for_function(
        "[...document.querySelectorAll('.frame img')].every(i => i.complete && i.naturalWidth)"
    )
    assert problems == []
    assert page.inner_text("#outcome").startswith("passed with warnings")
    figures = page.query_selector_all("figure")
    assert len(figures) == 2
    for figure in figures:
        image = figure.query_selector("img")
        frame = image.bounding_box()
        natural = image.evaluate("i => [i.naturalWidth, i.naturalHeight]")
        scale_x, scale_y = frame["width"] / natural[0], frame["height"] / natural[1]
        kinds = set()
        for rect in figure.query_selector_all("rect"):
            drawn = rect.bounding_box()
            x, y = float(rect.get_attribute("x")), float(rect.get_attribute("y"))
            width, height = float(rect.get_attribute("width")), float(rect.get_attribute("height"))
            # Where the numbers say: the box's pixels, scaled to the image as shown (the stroke
            # is drawn centred on the edge, so allow its width).
            assert abs(drawn["x"] - (frame["x"] + x * scale_x)) <= 3
            assert abs(drawn["y"] - (frame["y"] + y * scale_y)) <= 3
            assert abs(drawn["width"] - width * scale_x) <= 6
            assert abs(drawn["height"] - height * scale_y) <= 6
            kinds.add((rect.get_attribute("data-box"), rect.get_attribute("data-which")))
        assert ("face_bbox", "live") in kinds and ("face_bbox", "reference") in kinds
        assert ("ext_bbox", "live") in kinds
    live = page.query_selector("rect.face[data-which=live]")
    expected = page.query_selector("rect.reference[data-box=face_bbox]")
    assert float(live.get_attribute("x")) - float(expected.get_attribute("x")) == SHIFT
    assert "IoU" in figures[0].inner_text()
    shot = tmp_path / "drift-report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    keep = os.environ.get("FACEDETECT_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)
    page.close()


def test_the_report_opens_without_the_network_and_still_draws_the_boxes(
    browser: Any, page_of_a_run_with_moved_boxes: tuple[Path, RunningServer], tmp_path: Path
) -> None:
    """Images referenced by a URL that does not answer: the boxes are still drawn, no script
    error (a failed image load is not a page error)."""
    path, stub = page_of_a_run_with_moved_boxes
    offline = tmp_path / "offline.html"
    offline.write_text(
        path.read_text(encoding="utf-8").replace(stub.images_url or "", "http://127.0.0.1:9/x")
    )
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(offline.as_uri())
    page.wait_for_function("[...document.querySelectorAll('.frame img')].every(i => i.complete)")
    assert errors == []
    assert len(page.query_selector_all("rect")) >= 5
    assert all(r.bounding_box()["width"] > 0 for r in page.query_selector_all("rect.face"))
    page.close()
