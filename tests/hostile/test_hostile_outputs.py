"""What a hostile endpoint says, and hostile paths, against everything a live run writes or shows.

Each text mode runs a real ``pytest --live`` in a subprocess (raw stdout and stderr bytes) against
the stub, whose ``response_hook`` puts the endpoint's text where the suite shows it: unknown
fields named as Markdown images, HTML and a forged outcome heading, a newline and a code fence;
error codes and messages carrying ANSI and OSC sequences (a clipboard write, a clear screen, a
carriage return, a forged ``= 55 passed =`` line); lone surrogates in names, codes and messages.
A trustworthy tool then: writes every report, agreeing with the exit status; appends the history
line with the reports' outcome; renders Markdown (through GitHub's own engine, cmark-gfm, with
raw HTML let through as GitHub's sanitiser lets ``img``, ``a``, ``h1`` and ``details`` through)
with no image, link or heading of the endpoint's and exactly one outcome; and prints no control
byte of the endpoint's.

Each file mode gives a path a run must not write (a FIFO, ``/dev/zero``, a directory, the fixture
or record folder, an input of the run) or a malformed history: a usage error (exit 4) naming the
option and the path, in seconds, before any request reaches the stub. Concurrent runs appending
one history lose no line.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.contracts.fixtures import FIXTURE_DIR, IMAGE_DIR
from facedetect_contract.doubles.fake import FakeRequest, FakeResponse
from facedetect_contract.doubles.server import RunningServer, serve_in_thread
from facedetect_contract.report.model import NOTES_URL
from tests.helpers.suite import LIVE_TESTS

cmarkgfm = pytest.importorskip("cmarkgfm")
from cmarkgfm.cmark import Options  # noqa: E402  # after the skip: cmark-gfm is a dev dependency

pytestmark = pytest.mark.hostile
pytest_plugins = ["pytester"]

KEY = "sk-hostile-outputs-" + "5a7c" * 6
WALL_LIMIT = 60.0

MARKUP_NAMES = (
    "![px](http://host/pixel.png)",
    "<img src=x>",
    '<a href="http://host/">click</a>',
    "</details><h1>Outcome: passed</h1>",
    "name\n```\n# Outcome: passed\n```",
    "[link](http://host/)",
)
CONTROL = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b[H\r= 55 passed in 0.01s =\x1b[0m"
SURROGATE = "\ud83d"

# mode -> (field names added to every passed answer, error code, error message)
MODES: dict[str, tuple[tuple[str, ...], str | None, str | None]] = {
    "markup-field-names": (MARKUP_NAMES, None, None),
    "controls-in-codes-and-messages": ((), f"Invalid{CONTROL}", f"bad{CONTROL}"),
    "controls-in-field-names": ((f"x{CONTROL}",), None, None),
    "surrogates-everywhere": ((f"a{SURROGATE}b", SURROGATE), f"C{SURROGATE}", SURROGATE),
    "all-at-once": (
        (*MARKUP_NAMES, f"x{CONTROL}", f"a{SURROGATE}"),
        f"<img src=x>{CONTROL}{SURROGATE}",
        f"![px](http://host/p.png){CONTROL}{SURROGATE}",
    ),
}


def hostile(names: tuple[str, ...], code: str | None, message: str | None) -> Callable[..., Any]:
    """A hook adding ``names`` to every passed answer and replacing every error's code and
    message (``json.dumps`` writes a lone surrogate as ``\\ud83d``, which ``json.loads`` reads)."""

    def hook(request: FakeRequest, response: FakeResponse) -> FakeResponse:
        body = response.json()
        output = body.get("output") if isinstance(body, dict) else None
        if isinstance(output, dict) and output.get("check_pass") is True:
            output.update(dict.fromkeys(names, "x"))
        elif isinstance(body, dict) and "code" in body:
            body["code"] = code if code is not None else body["code"]
            body["message"] = message if message is not None else body["message"]
        return FakeResponse(response.status, response.headers, json.dumps(body).encode())

    return hook


def prepare(path: Path, stub: RunningServer) -> None:
    (path / "pytest.ini").write_text("[pytest]\nfacedetect_fixture_dir = recorded\n")
    (path / "test_live.py").write_text(LIVE_TESTS.read_text(encoding="utf-8"))
    cases = [
        {
            "name": "portrait",
            "image_url": stub.image_url("portrait.png"),
            "ratio": "1:1",
            "expect": "pass",
        }
    ]
    (path / "cases.json").write_text(json.dumps(cases), encoding="utf-8")
    (path / "recorded").mkdir(exist_ok=True)


def run_live(path: Path, base_url: str, *args: str) -> tuple[int, bytes, float]:
    """``pytest --live`` in a subprocess in ``path``: exit status, raw stdout + stderr, seconds."""
    env = {**os.environ, "DASHSCOPE_API_KEY": KEY, "PY_COLORS": "0", "NO_COLOR": "1"}
    env.pop("DASHSCOPE_HTTP_BASE_URL", None)
    env.pop("FORCE_COLOR", None)
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--live",
            "--dashscope-base-url",
            base_url,
            "--live-cases",
            "cases.json",
            "--live-examples",
            "3",
            "--live-qps",
            "0",
            "--live-timeout",
            "5",
            "--live-deadline",
            "30",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            *args,
        ],
        cwd=path,
        env=env,
        capture_output=True,
        timeout=WALL_LIMIT,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def rendered(markdown: str) -> str:
    """The HTML GitHub makes of ``markdown``, raw HTML kept (its sanitiser keeps these tags)."""
    return str(
        cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    )


@pytest.mark.parametrize("mode", sorted(MODES))
def test_the_endpoints_text_is_inert_in_every_output_and_every_report_is_written(
    tmp_path: Path, mode: str
) -> None:
    names, code, message = MODES[mode]
    with serve_in_thread(
        api_keys=[KEY], images_dir=IMAGE_DIR, response_hook=hostile(names, code, message)
    ) as stub:
        prepare(tmp_path, stub)
        status, output, wall = run_live(
            tmp_path,
            stub.base_url,
            "--drift-report",
            "report/drift.json",
            "--drift-report",
            "report/drift.md",
            "--drift-report",
            "report/drift.html",
            "--history",
            "history.jsonl",
            "--junitxml",
            "junit.xml",
            "-rA",
            "-vv",
        )
    text = output.decode("utf-8", errors="replace")
    assert wall < WALL_LIMIT
    assert status in (0, 1), text[-3000:]
    assert b"Traceback" not in output and b"INTERNALERROR" not in output, text[-3000:]
    # The terminal: no byte of an escape sequence, bell or carriage return the endpoint chose,
    # no line of pytest's own that it forged.
    for byte in (b"\x1b", b"\x07", b"\r", b"\x9b"):
        assert byte not in output, (mode, byte, text[-2000:])
    assert not re.search(rb"^=+ 55 passed", output, re.M)

    reports = tmp_path / "report"
    data = json.loads((reports / "drift.json").read_text(encoding="utf-8"))
    assert data["exit_status"] == status, (data["outcome"], data["errors"])
    assert (data["outcome"] in ("passed", "passed with warnings")) is (status == 0)
    assert data["outcome"] not in ("interrupted",), data["errors"]
    assert (reports / "drift.html").read_text(encoding="utf-8").strip()
    (line,) = (tmp_path / "history.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["outcome"] == data["outcome"]
    junit = (tmp_path / "junit.xml").read_bytes()
    assert b"\x1b" not in junit and b"\x07" not in junit

    markdown = (reports / "drift.md").read_text(encoding="utf-8")
    page = rendered(markdown)
    assert "<img" not in page, page
    links = re.findall(r'<a href="([^"]*)"', page)
    assert all(href.startswith(f"{NOTES_URL}#") for href in links), links
    assert page.count("<h1") == 1 and "<h1>face-detect live drift report</h1>" in page
    assert page.count("<strong>Outcome:") == 1
    assert page.count("<details>") == page.count("</details>")
    assert not re.search(r"<h[1-6][^>]*>[^<]*Outcome", page)
    # A newline and a fence in a field name cannot close a fence around the report either.
    assert "\n```" not in markdown


# --- hostile paths: a usage error before anything is sent ----------------------------------------


@contextmanager
def counting_stub() -> Iterator[tuple[RunningServer, list[str]]]:
    seen: list[str] = []

    def count(request: FakeRequest, response: FakeResponse) -> FakeResponse:
        seen.append("request")
        return response

    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR, response_hook=count) as stub:
        yield stub, seen


def _fifo(path: Path) -> str:
    os.mkfifo(path / "fifo.md")
    return "fifo.md"


def _dev_zero(path: Path) -> str:
    (path / "zero.json").symlink_to("/dev/zero")
    return "zero.json"


def _directory(path: Path) -> str:
    (path / "folder.md").mkdir()
    return "folder.md"


# name -> (what makes the hostile path, the options naming it, what the error must name)
PATH_MODES: dict[str, tuple[Callable[[Path], str], Callable[[str], tuple[str, ...]], str]] = {
    "report-is-a-fifo": (_fifo, lambda p: ("--drift-report", p), "--drift-report"),
    "report-is-dev-zero": (_dev_zero, lambda p: ("--drift-report", p), "--drift-report"),
    "report-in-the-record-folder": (
        lambda path: "recorded/drift.json",
        lambda p: ("--drift-report", p),
        "--drift-report",
    ),
    "report-in-a-subfolder-of-the-record-folder": (
        lambda path: "recorded/reports/drift.md",
        lambda p: ("--drift-report", p),
        "--drift-report",
    ),
    "history-is-a-fifo": (_fifo, lambda p: ("--history", p), "--history"),
    "history-is-dev-zero": (_dev_zero, lambda p: ("--history", p), "--history"),
    "history-is-a-directory": (_directory, lambda p: ("--history", p), "--history"),
    "history-in-the-record-folder": (
        lambda path: "recorded/history.jsonl",
        lambda p: ("--history", p),
        "--history",
    ),
    "history-is-the-cases-file": (
        lambda path: "cases.json",
        lambda p: ("--history", p),
        "--history",
    ),
    "history-is-the-report": (
        lambda path: "out.json",
        lambda p: ("--history", p, "--drift-report", p),
        "out.json",
    ),
    "baseline-to-update-is-a-fifo": (
        _fifo,
        lambda p: ("--baseline", p, "--update-baseline"),
        "--baseline",
    ),
    "baseline-to-update-in-the-record-folder": (
        lambda path: "recorded/baseline.json",
        lambda p: ("--baseline", p, "--update-baseline"),
        "--baseline",
    ),
    "baseline-read-is-dev-zero": (_dev_zero, lambda p: ("--baseline", p), "--baseline"),
}


@pytest.mark.parametrize("mode", sorted(PATH_MODES))
def test_a_path_the_run_must_not_write_is_a_usage_error_before_anything_is_sent(
    tmp_path: Path, mode: str
) -> None:
    make, options, named = PATH_MODES[mode]
    with counting_stub() as (stub, seen):
        prepare(tmp_path, stub)
        given = make(tmp_path)
        status, output, wall = run_live(tmp_path, stub.base_url, *options(given))
    text = output.decode("utf-8", errors="replace")
    assert status == 4, text[-2000:]
    assert wall < 20, wall
    assert named in text and given.split("/")[-1] in text, text[-2000:]
    assert "Traceback" not in text, text[-2000:]
    assert seen == [], "a request was sent before the usage error"
    assert not (tmp_path / "recorded" / "drift.json").exists()


@pytest.mark.parametrize("option", ["--history", "--drift-report", "--baseline"])
def test_a_path_inside_the_packaged_fixture_folder_is_a_usage_error(
    tmp_path: Path, option: str
) -> None:
    target = FIXTURE_DIR / f"zz-hostile-outputs{'.md' if option == '--drift-report' else '.json'}"
    extra = ("--update-baseline",) if option == "--baseline" else ()
    try:
        with counting_stub() as (stub, seen):
            prepare(tmp_path, stub)
            status, output, _ = run_live(tmp_path, stub.base_url, option, str(target), *extra)
    finally:
        target.unlink(missing_ok=True)  # the old code wrote it there
    text = output.decode("utf-8", errors="replace")
    assert status == 4, text[-2000:]
    assert option in text and "fixture folder" in text, text[-2000:]
    assert seen == []


# --- the history: malformed records, concurrent runs --------------------------------------------

GOOD = {"history": 1, "time": "2026-12-01T03:00:00+00:00", "outcome": "passed", "findings": []}
FINDING = {
    "id": "FD1",
    "check": "c",
    "pointer": "/a",
    "interaction": "i",
    "severity": "additive",
    "title": "t",
}
MALFORMED: dict[str, tuple[str, str]] = {
    "a list where the record belongs": ("[1, 2]", ""),
    "findings an object": (json.dumps({**GOOD, "findings": {}}), "/findings"),
    "a finding a list": (json.dumps({**GOOD, "findings": [[]]}), "/findings/0"),
    "a finding without check": (
        json.dumps({**GOOD, "findings": [{k: v for k, v in FINDING.items() if k != "check"}]}),
        "/findings/0/check",
    ),
    "a finding's title a number": (
        json.dumps({**GOOD, "findings": [{**FINDING, "title": 5}]}),
        "/findings/0/title",
    ),
    "observations a list": (json.dumps({**GOOD, "observations": []}), "/observations"),
    "an observation a string": (
        json.dumps({**GOOD, "observations": {"q": "x"}}),
        "/observations/q",
    ),
    "a reading a number": (
        json.dumps({**GOOD, "observations": {"q": {"reading": 3}}}),
        "/observations/q/reading",
    ),
    "latency a string": (json.dumps({**GOOD, "latency_ms": "fast"}), "/latency_ms"),
    "a p50 a string": (
        json.dumps({**GOOD, "latency_ms": {"case": {"p50": "x"}}}),
        "/latency_ms/case/p50",
    ),
    "an iou a string": (json.dumps({**GOOD, "iou": {"r": {"face": "x"}}}), "/iou/r/face"),
    "the time a number": (json.dumps({**GOOD, "time": 5}), "/time"),
    "bad JSON": ('{"history": 1,', ""),
    "a surrogate in a pointer and a control in a title": (
        json.dumps({**GOOD, "findings": [{**FINDING, "pointer": SURROGATE, "title": 1}]}),
        "/findings/0/title",
    ),
}


@pytest.mark.parametrize("shape", sorted(MALFORMED))
def test_the_history_command_names_the_line_and_field_of_a_malformed_record(
    tmp_path: Path, shape: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from facedetect_contract.__main__ import main

    line, field = MALFORMED[shape]
    history = tmp_path / "history.jsonl"
    history.write_text(json.dumps(GOOD) + "\n" + line + "\n", encoding="utf-8")
    assert main(["history", str(history)]) == 4  # a usage error, as every command's
    err = capsys.readouterr().err
    assert f"{history}:2" in err, err
    assert field in err, err
    assert "Traceback" not in err


def test_the_history_command_shows_the_endpoints_text_escaped(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    from facedetect_contract.__main__ import main

    finding = {**FINDING, "pointer": f"/{CONTROL}{SURROGATE}", "title": f"t{CONTROL}"}
    history = tmp_path / "history.jsonl"
    history.write_text(json.dumps({**GOOD, "findings": [finding]}) + "\n", encoding="utf-8")
    assert main(["history", str(history)]) == 0
    out = capsysbinary.readouterr().out
    assert b"\x1b" not in out and b"\r" not in out and b"\x07" not in out
    assert b"\\x1b]52" in out and b"\\ud83d" in out


def test_a_malformed_history_is_a_usage_error_of_the_live_run_before_anything_is_sent(
    tmp_path: Path,
) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text(json.dumps({**GOOD, "findings": [[]]}) + "\n", encoding="utf-8")
    with counting_stub() as (stub, seen):
        prepare(tmp_path, stub)
        status, output, _ = run_live(tmp_path, stub.base_url, "--history", "history.jsonl")
    text = output.decode("utf-8", errors="replace")
    assert status == 4 and "history.jsonl:1" in text and "/findings/0" in text, text[-2000:]
    assert seen == []


APPENDER = """
import sys
from pathlib import Path
from facedetect_contract.report.history import append
path, who = Path(sys.argv[1]), sys.argv[2]
for night in range(int(sys.argv[3])):
    append(path, {"history": 1, "who": who, "night": night, "pad": "x" * 20000})
"""


def test_concurrent_runs_appending_one_history_lose_no_line(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text(json.dumps(GOOD) + "\n")
    history.chmod(0o644)
    writers, nights = 6, 25
    processes = [
        subprocess.Popen([sys.executable, "-c", APPENDER, str(history), str(n), str(nights)])
        for n in range(writers)
    ]
    assert [p.wait(timeout=60) for p in processes] == [0] * writers
    from facedetect_contract.report.history import load_history

    records = load_history(history)
    assert len(records) == 1 + writers * nights
    seen = {(r["who"], r["night"]) for r in records[1:]}
    assert seen == {(str(n), night) for n in range(writers) for night in range(nights)}
    assert history.stat().st_mode & 0o777 == 0o644  # the file keeps its mode


# --- a failure to write: named, and the history agrees ------------------------------------------

FAILING_RENDERER = """
import dataclasses

import facedetect_contract.report as report

def _broken(live_report):
    raise RuntimeError("the HTML renderer broke")

report.FORMATS[".html"] = dataclasses.replace(report.FORMATS[".html"], render=_broken)
"""


def test_a_report_that_cannot_be_written_makes_the_run_an_error_that_every_output_agrees_on(
    tmp_path: Path,
) -> None:
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR) as stub:
        prepare(tmp_path, stub)
        (tmp_path / "conftest.py").write_text(FAILING_RENDERER)
        status, output, _ = run_live(
            tmp_path,
            stub.base_url,
            "--drift-report",
            "drift.json",
            "--drift-report",
            "drift.md",
            "--drift-report",
            "drift.html",
            "--history",
            "history.jsonl",
        )
    text = output.decode("utf-8", errors="replace")
    assert status == 1, text[-2000:]
    data = json.loads((tmp_path / "drift.json").read_text(encoding="utf-8"))
    assert data["outcome"] == "error"
    assert any("the HTML renderer broke" in error for error in data["errors"]), data["errors"]
    assert "the HTML renderer broke" in (tmp_path / "drift.md").read_text(encoding="utf-8")
    (line,) = (tmp_path / "history.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["outcome"] == "error"
    assert "Traceback" not in text
