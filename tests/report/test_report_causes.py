"""One cause, one line, in every report: live runs over real HTTP against the stub.

Issue 18: a renamed ``check_pass`` gave nine rows in every report; a port that refused everything
gave the same "endpoint unreachable" line per request, skips that blamed billing, and the red of
drift. Here a rename is one grouped finding naming it (the findings still one by one in the JSON,
with their stable ids), errors of the run are one line per cause with the requests they hit, and
a run that judged nothing is "not judged", in its own colour, with every link absolute.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from facedetect_contract import PROJECT_URL
from facedetect_contract.contracts.cases import LiveCase
from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.doubles.fake import FakeRequest, FakeResponse
from facedetect_contract.doubles.server import RunningServer, serve_in_thread
from facedetect_contract.live.run import LiveRun, LiveSettings
from facedetect_contract.report import LiveReport, render_reports
from facedetect_contract.report.render_html import tone_of
from facedetect_contract.report.terminal import summary_lines

KEY = "sk-causes-" + "7a1b" * 8
FORMATS = (".json", ".md", ".html")


def renamed(request: FakeRequest, response: FakeResponse) -> FakeResponse:
    """Every verdict field ``check_pass`` sent as ``checkPass``, with the same value."""
    body = response.json()
    output = body.get("output") if isinstance(body, dict) else None
    if not (isinstance(output, dict) and "check_pass" in output):
        return response
    output["checkPass"] = output.pop("check_pass")
    return FakeResponse(response.status, response.headers, json.dumps(body).encode())


@pytest.fixture(scope="module")
def renaming_stub() -> Iterator[RunningServer]:
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR, response_hook=renamed) as stub:
        yield stub


def cases_on(stub: RunningServer) -> tuple[LiveCase, ...]:
    url = stub.image_url("portrait.png")
    return (
        LiveCase("portrait", url, "1:1", "pass"),
        LiveCase("portrait tall", url, "3:4", "pass"),
        LiveCase("nobody", stub.image_url("no-human.png"), "1:1", "fail"),
    )


def run_against(base_url: str, cases: tuple[LiveCase, ...], tmp: Path) -> LiveRun:
    settings = LiveSettings(
        base_url=base_url, qps=0, examples=2, timeout=5, deadline=30, record_dir=tmp / "none"
    )
    run = LiveRun(settings, cases, environ={"DASHSCOPE_API_KEY": KEY})
    try:
        run.execute()
    finally:
        run.close()
    return run


def rendered(report: LiveReport, run: LiveRun, tmp: Path) -> dict[str, str]:
    paths = [tmp / f"drift{suffix}" for suffix in FORMATS]
    return {path.suffix: text for path, text in render_reports(report, paths, run.redactor)}


def markdown_section(markdown: str, heading: str) -> list[str]:
    """The lines of one ``## heading`` section, up to the next blank-line-separated block."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"## {heading}"))
    body = []
    for line in lines[start + 2 :]:
        if not line:
            break
        body.append(line)
    return body


@pytest.fixture(scope="module")
def rename_run(
    renaming_stub: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[LiveRun, LiveReport, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("rename")
    run = run_against(renaming_stub.base_url, cases_on(renaming_stub), tmp)
    report = LiveReport.from_run(run)
    return run, report, rendered(report, run, tmp)


def test_a_renamed_verdict_field_is_one_grouped_finding_naming_the_rename_in_every_report(
    rename_run: tuple[LiveRun, LiveReport, dict[str, str]],
) -> None:
    _, report, texts = rename_run
    ids = {v.id for v in report.findings}
    assert len(ids) == len(report.findings) == 9  # 3 missing, 3 new, 3 missed expects

    data = json.loads(texts[".json"])
    assert [f["id"] for f in data["findings"]] == [v.id for v in report.findings]  # one by one
    (group,) = data["groups"]
    assert group["renamed_to"] == "/output/checkPass"
    assert (group["pointer"], group["severity"], group["count"]) == (
        "/output/check_pass",
        "breaking",
        3,
    )
    assert group["missed_expects"] == 3 and set(group["ids"]) == ids
    assert "looks like a rename" in group["headline"]
    assert sorted(group["interactions"]) == [
        "live-case-nobody",
        "live-case-portrait",
        "live-case-portrait-tall",
    ]

    markdown = texts[".md"]
    rows = markdown_section(markdown, "New findings")[2:]  # past the header and the rule
    (row,) = rows
    assert "looks like a rename" in row and "3 live cases missed their expect" in row
    assert all(f"`{finding_id}`" in row for finding_id in ids)  # each id still searchable
    assert "`/output/check_pass` and `/output/checkPass`" in row  # both places of the rename

    html = texts[".html"]
    assert html.count('class="headline"') == 1 and "looks like a rename" in html
    assert all(finding_id in html for finding_id in ids)
    assert "<code>/output/check_pass</code> and <code>/output/checkPass</code>" in html

    lines = [line for line, _ in summary_lines(report)]
    flagged = [line for line in lines if line.startswith(("BREAKING", "warning"))]
    (line,) = flagged
    assert "check_pass is gone and checkPass appeared" in line
    assert all(finding_id in line for finding_id in ids)


def test_the_drift_cases_show_the_boxes_they_received(
    rename_run: tuple[LiveRun, LiveReport, dict[str, str]],
) -> None:
    """The verdict field renamed: no documented reading explains the answers, and the boxes they
    carry at their documented pointers are drawn all the same."""
    _, report, _ = rename_run
    passing = [case for case in report.cases if case["expect"] == "pass"]
    assert len(passing) == 2
    for case in passing:
        assert all(isinstance(box, list) and len(box) == 4 for box in case["boxes"].values())


def test_the_markdown_summary_opens_with_its_verdict_and_links_absolutely(
    rename_run: tuple[LiveRun, LiveReport, dict[str, str]],
) -> None:
    markdown = rename_run[2][".md"]
    title, verdict = markdown.splitlines()[:2]
    assert title == "# face-detect live drift report"
    assert verdict.startswith("**Outcome: drift:")
    links = re.findall(r"\]\(([^)]*)\)", markdown)
    assert links and all(link.startswith(f"{PROJECT_URL}/blob/main/docs/") for link in links)
    assert "](docs/" not in markdown


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening: every connection is refused
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_endpoint_that_refuses_everything_is_not_judged_with_one_line_per_cause(
    tmp_path: Path,
) -> None:
    base = f"http://127.0.0.1:{_closed_port()}"
    cases = (
        LiveCase("portrait", f"{base}/images/portrait.png", "1:1", "pass"),
        LiveCase("portrait tall", f"{base}/images/portrait.png", "3:4", "pass"),
    )
    run = run_against(f"{base}/api/v1", cases, tmp_path)
    report = LiveReport.from_run(run)
    assert report.outcome == "not judged" and report.exit_status == 1
    assert report.headline().startswith("not judged: the endpoint could not be reached")
    (cause,) = report.error_causes()
    assert cause.count == len(report.errors) > 1
    assert cause.cause.startswith("endpoint unreachable")

    # Requests the budget refused say why: the endpoint, not billing.
    refused = [v for v in run.verdicts.values() if v.status == "not-sent"]
    assert refused
    for verdict in refused:
        assert verdict.reason.startswith("not sent: the endpoint could not be reached")
        assert "the endpoint billed" not in verdict.reason

    texts = rendered(report, run, tmp_path)
    data = json.loads(texts[".json"])
    assert data["outcome"] == "not judged" and data["exit_status"] == 1
    assert data["why_not_passed"].startswith("the endpoint could not be reached")
    assert [c["count"] for c in data["error_causes"]] == [len(report.errors)]
    markdown = texts[".md"]
    assert markdown.splitlines()[1].startswith("**Outcome: not judged: the endpoint could not")
    assert len(markdown_section(markdown, "Errors of the run")) == 1
    assert markdown.count("endpoint unreachable") == 1
    # The requests it hit as code spans: names the endpoint's run chose, inert in the summary.
    (cause_line,) = markdown_section(markdown, "Errors of the run")
    assert all(f"`{name}`" in cause_line for name in cause.requests)
    assert 'data-tone="unjudged"' in texts[".html"] and tone_of(report.outcome) == "unjudged"
    assert texts[".html"].count("endpoint unreachable") == 1

    summary = summary_lines(report)
    headline, colour = summary[0]
    assert headline.startswith("not judged") and colour == "yellow"  # not drift's red
    errors = [(line, tone) for line, tone in summary if line.startswith("ERROR")]
    assert len(errors) == 1 and errors[0][1] != "red"
    assert not any(line.startswith("not passed") for line, _ in summary)  # said once


def test_a_run_whose_every_answer_says_nothing_is_there_is_not_judged_for_its_configuration(
    tmp_path: Path,
) -> None:
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR) as stub:
        origin = stub.base_url.removesuffix("/api/v1")
        run = run_against(origin + "/gateway/api/v1", cases_on(stub), tmp_path)
    report = LiveReport.from_run(run)
    assert report.outcome == "not judged" and report.exit_status == 1
    assert report.headline().startswith("not judged: the configuration is wrong")
    (cause,) = report.error_causes()
    assert "is the base URL right?" in cause.cause
