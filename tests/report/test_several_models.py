"""A run of several models is told model by model, in every format, for a reader who must see at
once which model changed.

Three models' reports are made by hand (each as ``LiveReport.from_result`` would give it), the
middle one drifting (a breaking finding whose text is hostile: a Markdown link to ``javascript:``,
a ``<script>``, ANSI escapes, a lone surrogate), and made one with ``several.of_models``. Each
format must name the drifting model in its section and let the others pass, carry each model's
outcome in its Models table, never list one model's findings under another, and keep the
endpoint's text inert there; a report of one model keeps the outline it always had.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.contracts.loader import CONTRACT_DIR, load_contracts
from facedetect_contract.contracts.settling import change_for
from facedetect_contract.core import inert
from facedetect_contract.core.violations import Severity, Violation
from facedetect_contract.live.baseline import BaselineEntry
from facedetect_contract.live.budget import Spend
from facedetect_contract.live.observations import Observation
from facedetect_contract.live.result import RunError
from facedetect_contract.report import LiveReport, render_html, render_markdown
from facedetect_contract.report.annotations import annotation_lines, annotations_of
from facedetect_contract.report.history import (
    HistoryError,
    append,
    load_history,
    record_of,
    summarize,
)
from facedetect_contract.report.history_summary import contract_changes
from facedetect_contract.report.model import NOTES_URL
from facedetect_contract.report.several import of_models
from facedetect_contract.report.terminal import summary_lines
from tests.helpers.pages import Tags

CALM, DRIFTING, QUIET = "emo-detect-v1", "liveportrait-detect", "wan2.2-s2v-detect"
MODELS = (CALM, DRIFTING, QUIET)
HOSTILE = "](javascript:x) <script>alert(1)</script> \x1b]52;c;ZXZpbA==\x07\x1b[2J\r \ud83d"
RUN_ERROR = "writing the history failed"


def _row(name: str, breaking: int = 0) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "case",
        "description": f"the case {name}",
        "outcome": "judged",
        "http_status": 200,
        "code": None,
        "billable": True,
        "attempts": 1,
        "elapsed_ms": 20.0,
        "breaking": breaking,
        "additive": 0,
        "note": "",
    }


def _case(name: str, boxes: dict[str, list[int]]) -> dict[str, Any]:
    return {
        "name": name,
        "request": name,
        "image": "http://127.0.0.1:1/images/portrait.png",
        "ratio": "1:1",
        "expect": "pass",
        "outcome": "passed",
        "boxes": boxes,
        "reference": {},
        "reference_source": "",
        "iou": {},
        "image_size": [600, 800],
    }


def part(
    model: str,
    findings: Sequence[Violation] = (),
    errors: Sequence[RunError] = (),
    *,
    price: Decimal | None = Decimal("0.004"),
    cases: Sequence[dict[str, Any]] = (),
    box_names: tuple[str, ...] | None = None,
) -> LiveReport:
    """One model's report, as ``from_result`` makes it (names not yet qualified)."""
    return LiveReport(
        endpoint="http://127.0.0.1:1/api/v1/services/aigc/image2video/face-detect",
        generated_at="2026-12-08T02:00:00+00:00",
        strict_drift=False,
        findings=tuple(findings),
        errors=tuple(errors),
        spend=Spend(8, 2, 2, (), (), price, "CNY" if price is not None else None),
        observations=(
            Observation("throttle-code", "throttle", "not observed"),
            Observation("humanoid-returned", "humanoid", "returned", "returned", ("case-a",)),
        ),
        requests=(_row("case-a", len(findings)), _row("case-b")),
        recorded=(),
        selected=2,
        cases=tuple(cases),
        model=model,
        box_names=box_names,
    )


def drift(text: str = HOSTILE, n: int = 0) -> Violation:
    """A breaking finding whose every text the endpoint chose."""
    return Violation(
        "schema",
        f"case-a{text}",
        f"/output/{text}/{n}",
        f"received {text}",
        "documented",
        Severity.BREAKING,
        "docs",
        f"the verdict {text} is missing",
    )


def several(
    *, drifting: Sequence[Violation] = (drift(),), calm: Sequence[Violation] = ()
) -> LiveReport:
    """Three models, the middle one drifting (and with an error of its own), the run with an
    error of no model; ``drifting=()``: every model passes."""
    errors = [RunError(f"timed out {HOSTILE}", "case-b")] if drifting else []
    return of_models(
        [part(CALM, calm), part(DRIFTING, drifting, errors, price=None), part(QUIET)],
        errors=[RunError(RUN_ERROR)] if drifting else [],
    )


def ids_of(report: LiveReport) -> set[str]:
    return {v.id for v in report.findings}


ALL_IDS = re.compile(r"FD-[0-9a-f]{10}")


def test_the_report_of_several_models_is_what_the_renderers_are_given() -> None:
    """The premise of every test below: one model drifts, the others pass, each id is one
    model's."""
    report = several()
    assert [(p.model, p.outcome) for p in report.parts] == [
        (CALM, "passed"),
        (DRIFTING, "drift"),
        (QUIET, "passed"),
    ]
    assert report.outcome == "drift" and report.failing_models() == (DRIFTING,)
    assert ids_of(report.parts[1]) == ids_of(report) and len(ids_of(report)) == 1


# --- Markdown ----------------------------------------------------------------------------------


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def markdown_sections(markdown: str) -> dict[str, str]:
    """Each model's findings section of the Markdown report, by model (its ``###`` heading on)."""
    findings = _between(markdown, "## New findings", "## Errors of the run")
    chunks = re.split(r"^### `([^`]*)`", findings, flags=re.M)[1:]
    return dict(zip(chunks[::2], chunks[1::2], strict=True))


def markdown_models(markdown: str) -> list[tuple[str, str]]:
    table = _between(markdown, "## Models", "## New findings")
    return re.findall(r"^\| `([^`]*)` \| ([^|]*) \|", table, flags=re.M)


def test_markdown_has_a_models_table_with_each_models_outcome_in_order() -> None:
    report = several()
    markdown = render_markdown.render(report)
    assert (
        markdown.index("**Outcome:")
        < markdown.index("## Models")
        < markdown.index("## New findings")
    )
    assert markdown_models(markdown) == [
        (CALM, "passed"),
        (DRIFTING, "**drift**"),
        (QUIET, "passed"),
    ]
    row = re.search(rf"^\| `{DRIFTING}` \|.*$", markdown, flags=re.M)
    assert row is not None
    assert row.group(0).split(" | ")[2:] == [
        "2 / 2 (of 2)",
        "1",
        "0",
        "1",
        "2, price not documented |",
    ]
    assert f"| `{CALM}` | passed | 2 / 2 (of 2) | 0 | 0 | 0 | 2, CNY 0.008 |" in markdown


def test_markdown_lists_each_models_findings_under_that_model_only() -> None:
    report = several(calm=(drift("calm's own", 1),))
    markdown = render_markdown.render(report)
    sections = markdown_sections(markdown)
    assert list(sections) == list(MODELS)
    for model_report in report.parts:
        shown = set(ALL_IDS.findall(sections[model_report.model]))
        assert shown == ids_of(model_report), model_report.model
    assert sections[DRIFTING].startswith(" (drift): 1 group(s) of 1")
    assert sections[QUIET].strip() == ": no new finding"
    assert f"`{CALM}/case-acalm's own`" in sections[CALM]  # its own answer, qualified


def test_markdown_says_each_models_errors_and_the_runs_own_under_their_names() -> None:
    markdown = render_markdown.render(several())
    errors = _between(markdown, "## Errors of the run", "<details>")
    assert errors.startswith("## Errors of the run: 2 from 2 cause(s)")
    items = re.findall(r"^- (.*?): (.*)$", errors, flags=re.M)
    assert items == [
        ("the run itself", "1 from 1 cause(s)"),
        (f"`{CALM}`", "none"),
        (f"`{DRIFTING}`", "1 from 1 cause(s)"),
        (f"`{QUIET}`", "none"),
    ]
    lines = errors.splitlines()
    assert lines[lines.index("- the run itself: 1 from 1 cause(s)") + 1] == f"  - {RUN_ERROR}"
    after = lines[lines.index(f"- `{DRIFTING}`: 1 from 1 cause(s)") + 1]
    assert after.startswith("  - timed out") and f"`{DRIFTING}/case-b`" in after


def test_markdown_has_each_models_open_questions_with_its_own_evidence() -> None:
    markdown = render_markdown.render(several())
    questions = _between(markdown, "Open questions (notes:", "<summary>Requests")
    tables = re.split(r"^\*\*`([^`]*)`\*\*$", questions, flags=re.M)[1:]
    by_model = dict(zip(tables[::2], tables[1::2], strict=True))
    assert list(by_model) == list(MODELS)
    for model, table in by_model.items():
        assert table.count("](https://") == 2  # the model's two questions
        evidence = re.findall(r"\| ([^|]*) \|$", table, flags=re.M)[1:]  # the header's out
        assert evidence == ["\\-", inert.markdown_text(f"{model}/case-a")]


def test_markdown_keeps_hostile_text_inert_in_the_models_sections() -> None:
    cmarkgfm = pytest.importorskip("cmarkgfm")
    from cmarkgfm.cmark import Options

    markdown = render_markdown.render(several())
    markdown.encode("utf-8")  # the lone surrogate was escaped
    assert "\x1b" not in markdown and "\x07" not in markdown and "\r" not in markdown
    page = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    assert "<script" not in page
    assert "javascript:" not in "".join(re.findall(r'href="(.*?)"', page))
    assert all(href.startswith(f"{NOTES_URL}#") for href in re.findall(r'href="(.*?)"', page))
    assert re.findall(r"<h1>.*?</h1>", page) == ["<h1>face-detect live drift report</h1>"]
    headings = re.findall(r"<h3>(.*?)</h3>", page)
    assert headings == [
        f"<code>{CALM}</code>: no new finding",
        f"<code>{DRIFTING}</code> (drift): 1 group(s) of 1",
        f"<code>{QUIET}</code>: no new finding",
    ]
    # Said through the inert helpers, as every other row of the report (its spaces collapsed).
    (finding,) = several().parts[1].findings
    drifting = markdown_sections(markdown)[DRIFTING]
    assert inert.markdown_text(" ".join(finding.title.split())) in drifting
    assert inert.markdown_code(" ".join(finding.interaction.split())) in drifting
    assert "\\\\x1b\\]52" in drifting  # the escape sequence shown, escaped


def test_a_flood_in_one_model_leaves_room_for_the_others_findings() -> None:
    """One model's findings table gets its share of the size limit: the drifting model's finding
    is still shown when the first model sends thousands."""
    flood = tuple(drift("x" * 150, n) for n in range(6000))
    report = several(calm=flood)
    markdown = render_markdown.render(report)
    assert len(markdown.encode("utf-8")) <= render_markdown.MAX_BYTES
    sections = markdown_sections(markdown)
    assert re.search(r"_\d+ more finding groups not shown", sections[CALM])
    assert set(ALL_IDS.findall(sections[DRIFTING])) == ids_of(report.parts[1])
    assert markdown.rstrip().endswith("</details>")


# --- HTML --------------------------------------------------------------------------------------


SECTION = re.compile(
    r'<section class="model" id="(model-\d+)" data-model="([^"]*)">(.*?)</section>', re.S
)


def test_html_has_a_models_table_whose_rows_carry_each_models_outcome_and_link_its_section() -> (
    None
):
    page = render_html.render(several())
    models = _between(page, '<div id="models">', "</div>")
    rows = re.findall(
        r'<tr><td><a href="#(model-\d+)"><code>([^<]*)</code></a></td>'
        r'<td><span class="verdict tone-(\w+)" data-tone="\w+">([^<]*)</span>',
        models,
    )
    assert [row[1:] for row in rows] == [
        (CALM, "passed", "passed"),
        (DRIFTING, "drift", "drift"),
        (QUIET, "passed", "passed"),
    ]
    sections = {anchor: model for anchor, model, _ in SECTION.findall(page)}
    assert {anchor: model for anchor, model, *_ in rows} == sections  # each link finds its model
    assert (
        page.index('id="outcome"')
        < page.index("<h2>Models</h2>")
        < page.index("<h2>Findings by model</h2>")
    )


def test_html_lists_each_models_findings_in_its_own_section_only() -> None:
    report = several(calm=(drift("calm's own", 1),))
    page = render_html.render(report)
    found = {model: body for _, model, body in SECTION.findall(page)}
    assert list(found) == list(MODELS)
    for model_report in report.parts:
        assert set(ALL_IDS.findall(found[model_report.model])) == ids_of(model_report)
    assert 'data-tone="drift"' in found[DRIFTING] and "New breaking findings: 1" in found[DRIFTING]
    assert found[QUIET].endswith("<p>No finding.</p>") and 'data-tone="passed"' in found[QUIET]


def test_html_says_each_models_errors_cases_and_questions_under_its_name() -> None:
    face = [10, 10, 100, 100]
    calm = part(CALM, cases=[_case("case-a", {"face_bbox": face, "ext_bbox": face})])
    other = part(DRIFTING, cases=[_case("case-a", {"bbox": face})], box_names=("bbox",))
    report = of_models([calm, other], errors=[RunError(RUN_ERROR)])
    history = {"observations": {f"{DRIFTING}/humanoid-returned": {"reading": "returned"}}}
    page = render_html.render(dataclasses.replace(report, history=(history,)))
    errors = _between(render_html.render(several()), "<h2>Errors of the run</h2>", "<h2>Cases")
    items = re.findall(
        r"<li>([^<]*(?:<code>[^<]*</code>)?): ([^<]*)(?:<ul>(.*?)</ul>)?</li>", errors
    )
    assert [(label, said) for label, said, _ in items] == [
        ("the run itself", "1 from 1 cause(s)"),
        (f"<code>{CALM}</code>", "none"),
        (f"<code>{DRIFTING}</code>", "1 from 1 cause(s)"),
        (f"<code>{QUIET}</code>", "none"),
    ]
    assert items[0][2] == f"<li>{RUN_ERROR}</li>"
    assert items[2][2].startswith("<li>timed out") and f"{DRIFTING}/case-b)" in items[2][2]
    # Each model's boxes are drawn as its model names them: its face box is the face.
    rects = [attrs for tag, attrs in Tags(page).found if tag == "rect"]
    assert {(r["data-request"], r["data-box"], r["class"]) for r in rects} == {
        (f"{CALM}/case-a", "face_bbox", "face"),
        (f"{CALM}/case-a", "ext_bbox", "crop"),
        (f"{DRIFTING}/case-a", "bbox", "face"),
    }
    questions = _between(page, "<h2>Open questions</h2>", "<h2>Over the nights</h2>")
    tables = re.split(r"<h3><code>([^<]*)</code></h3>", questions)[1:]
    by_model = dict(zip(tables[::2], tables[1::2], strict=True))
    assert list(by_model) == [CALM, DRIFTING]
    assert "returned 1x" in by_model[DRIFTING] and "returned 1x" not in by_model[CALM]


def test_html_keeps_hostile_text_inert_in_the_models_sections() -> None:
    page = render_html.render(several())
    page.encode("utf-8")  # the lone surrogate was escaped (a control character is no markup)
    tags = Tags(page).found
    assert [attrs.get("type") for tag, attrs in tags if tag == "script"] == ["application/json"]
    assert not any(
        value.strip().lower().startswith("javascript:")
        for _, attrs in tags
        for value in attrs.values()
    )
    (policy,) = [a["content"] for t, a in tags if a.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script" not in policy
    (drifting,) = [body for _, model, body in SECTION.findall(page) if model == DRIFTING]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in drifting and "\\ud83d" in drifting


# --- the terminal ------------------------------------------------------------------------------


def test_the_terminal_has_one_line_per_model_in_its_outcomes_colour_after_the_headline() -> None:
    report = several()
    lines = summary_lines(report)
    assert lines[0][0].startswith(report.headline()) and lines[0][1] == "red"
    assert lines[1:4] == [
        (f"  {CALM}: {report.parts[0].headline()}", "green"),
        (f"  {DRIFTING}: {report.parts[1].headline()}", "red"),
        (f"  {QUIET}: {report.parts[2].headline()}", "green"),
    ]
    assert not any("\x1b" in line or "\ud83d" in line for line, _ in lines)
    (breaking,) = [line for line, tone in lines if line.startswith("BREAKING")]
    assert f" in {DRIFTING}/case-a" in breaking and "\\x1b]52" in breaking


# --- the history -------------------------------------------------------------------------------


def test_a_history_line_of_several_models_maps_each_model_to_its_outcome(tmp_path: Path) -> None:
    record = record_of(several())
    assert record["models"] == {CALM: "passed", DRIFTING: "drift", QUIET: "passed"}
    # Each model's questions kept apart: the models share question ids.
    assert set(record["observations"]) == {
        f"{model}/{question}"
        for model in MODELS
        for question in ("throttle-code", "humanoid-returned")
    }
    assert "models" not in record_of(part(CALM))
    assert set(record_of(part(CALM))["observations"]) == {"throttle-code", "humanoid-returned"}
    path = append(tmp_path / "history.jsonl", record)
    assert load_history(path)[0]["models"] == record["models"]


def test_the_history_command_summarises_nights_of_several_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from facedetect_contract.__main__ import main

    path = tmp_path / "history.jsonl"
    for report in (several(drifting=()), several(drifting=()), several()):
        append(path, record_of(report))
    assert main(["history", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    start = out.index("models (outcomes over the nights they ran, the last night's):")
    assert out[start + 1 : start + 4] == [
        f"  {CALM}: passed 3; last: passed",
        f"  {DRIFTING}: passed 2, drift 1; last: drift",
        f"  {QUIET}: passed 3; last: passed",
    ]
    assert any(f"on {DRIFTING}/case-a" in line and "nights 3-3" in line for line in out)
    assert f"  {DRIFTING}/humanoid-returned: returned 3x; open (latest streak: returned x3)" in out
    assert not any("\x1b" in line for line in out)


def test_a_history_line_whose_models_are_not_outcomes_is_named(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    record = {**record_of(several()), "models": {CALM: 3}}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(HistoryError, match=rf":1: field /models/{CALM} is int, not a string"):
        load_history(path)


def test_a_question_settled_by_one_model_changes_that_models_contracts_only() -> None:
    contracts = load_contracts(CONTRACT_DIR)
    model = contracts.profile.model
    other = next(m for m in MODELS if m != model)
    nights = [
        {
            "observations": {
                f"{model}/failure-shape": {"reading": "B"},
                f"{other}/failure-shape": {"reading": "A"},
            }
        }
    ] * 3
    summary = summarize(nights, settle_after=3)
    assert contract_changes(summary, contracts) == change_for(contracts, "failure-shape", "B")
    theirs = [{"observations": {f"{other}/failure-shape": {"reading": "A"}}}] * 3
    assert contract_changes(summarize(theirs, settle_after=3), contracts) == ""


# --- the annotations ---------------------------------------------------------------------------


def test_annotations_name_the_model_of_each_finding_and_error(tmp_path: Path) -> None:
    path = tmp_path / "drift.json"
    path.write_text(json.dumps(several().to_dict()), encoding="utf-8")
    lines = annotations_of(path)
    (finding,) = [line for line in lines if line.startswith("::error ")]
    assert finding.startswith(f"::error title={DRIFTING}%3A schema at /output/")
    assert f"::{DRIFTING}/case-a" in finding
    assert not any("\x1b" in line for line in lines)
    errors = [line.split("::")[1] for line in lines if line.startswith("::warning ")]
    assert errors == [
        "warning title=error of the run",
        f"warning title=error of the run ({DRIFTING})",
    ]
    assert lines[-4:] == [
        f"::notice title=face-detect live run ({CALM})::passed",
        f"::notice title=face-detect live run ({DRIFTING})::drift",
        f"::notice title=face-detect live run ({QUIET})::passed",
        "::notice title=face-detect live run::drift",
    ]


def test_annotations_of_one_model_name_no_model() -> None:
    lines = annotation_lines(part(CALM, [drift("x")]).to_dict())
    assert lines[0].startswith("::error title=schema at /output/x/0::")
    assert lines[-1] == "::notice title=face-detect live run::drift" and len(lines) == 2


# --- one model: the outline it always had ------------------------------------------------------


def one_model() -> LiveReport:
    finding = drift("x")
    known = dataclasses.replace(finding, pointer="/output/known")
    return dataclasses.replace(
        part(CALM, [finding, known], [RunError("timed out", "case-b")]),
        acknowledged={known.id: BaselineEntry("seen", id=known.id)},
    )


def test_a_report_of_one_model_renders_with_the_outline_it_always_had() -> None:
    report = one_model()
    assert report.parts == ()
    markdown = render_markdown.render(report)
    assert re.findall(r"^#+ .*$", markdown, flags=re.M) == [
        "# face-detect live drift report",
        "## New findings: 1 group(s) of 1",
        "## Errors of the run: 1 from 1 cause(s)",
    ]
    assert "## New findings: 1 group(s) of 1\n\n| finding |" in markdown
    assert "\n- timed out (1 request: `case-b`)\n" in markdown
    assert "**`" not in markdown  # no model's name over a table
    page = render_html.render(report)
    assert re.findall(r"<h2>(.*?)(?::.*)?</h2>", page) == [
        "New breaking findings",
        "New additive findings",
        "Acknowledged findings",
        "Errors of the run",
        "Cases",
        "Open questions",
        "Over the nights",
        "Sources",
    ]
    assert not re.search(r"<h[34]>|class=\"(model|verdict|by-model)|\.verdict\{", page)
    lines = summary_lines(report)
    assert not any(line.startswith("  ") for line, _ in lines)
    assert lines[1][0].startswith("not passed: new breaking findings (see below)")


def asked(model: str, outcome: str, *, selected: int = 1) -> LiveReport:
    """A model's report whose one request ended as ``outcome`` (``part``'s, otherwise)."""
    request = {**_row("case-a"), "outcome": outcome, "http_status": None, "elapsed_ms": None}
    return dataclasses.replace(part(model), requests=(request,), selected=selected, observations=())


def test_a_model_asked_something_that_sent_nothing_keeps_the_run_from_passing() -> None:
    """A model whose every selected request went unsent ("nothing sent") beside one that
    passed: the merged figures would pass (one request sent and judged); the run does not, it
    says that model's outcome and why."""
    report = of_models([asked("a", "judged"), asked("b", "not-sent")])
    assert [p.outcome for p in report.parts] == ["passed", "nothing sent"]
    assert report.outcome == "nothing sent" and report.exit_status == 1
    assert report.failing_models() == ("b",)
    assert report.why_not_passed().startswith("b: no request was sent"), report.why_not_passed()
    assert report.headline().startswith("nothing sent: ")
    # the gravest of several models' outcomes is the run's
    graver = of_models([asked("a", "not-sent"), asked("b", "unreachable"), asked("c", "judged")])
    assert graver.outcome == "not judged"
    # a model nothing was asked of (pytest -k) is no failure
    unasked = of_models([asked("a", "judged"), asked("b", "not-sent", selected=0)])
    assert unasked.outcome == "passed" and unasked.failing_models() == ()
