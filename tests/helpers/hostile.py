"""The hostile tier's consumer project and what every hostile run is held to: the sentinel keys
of several shapes, the options that make a run write every output it can, the project a run
happens in (``Project``: the shipped live tests, cases, a seeded fixture, a bystander file) and
``check_the_run`` (bounded time, exit status and reports agreeing, no key in any form in any
output, every recorded fixture loading again, the project's files untouched). The fault proxy has
a module of its own (``tests/hostile/proxy.py``); which fault must be reported how stays with the
tests that say it."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.contracts.fixtures import FIXTURE_DIR, load_fixture
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.doubles.server import RunningServer
from tests.helpers.suite import LIVE_TESTS

__all__ = [
    "FIGURES",
    "KEYS",
    "LIVE_ARGS",
    "WALL_LIMIT",
    "WRITE_EVERYTHING",
    "Project",
    "check_the_run",
    "digest",
    "leaks",
    "record_figures",
]

# Keys of several shapes: the generic key-like patterns must not be what hides any of them.
KEYS = (
    "sk-" + "0f3c9a7e" * 4,
    "gwkey-SENTINEL-5e4f5e4f5e4f5e4f5e4f5e4f",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZW50aW5lbCJ9.c2VudGluZWwtc2lnbmF0dXJl",
    "SENTINELKEYABCDEFGHIJKLMNOP234567",
    "k~e_y.S+E/N=T-1N3L!42:sentinel",
)
WALL_LIMIT = 60.0  # seconds a faulty run may take, start to exit (the deadlines are small)
LIVE_ARGS = ("--live-timeout", "2", "--live-deadline", "40", "--live-qps", "0")
# Every output a live run can write, the logs at DEBUG: the texts the leak check reads.
WRITE_EVERYTHING = (
    "--record",
    "--drift-report",
    "report/drift.json",
    "--drift-report",
    "report/drift.md",
    "--junitxml",
    "junit.xml",
    "-o",
    "junit_logging=all",
    "--log-level=DEBUG",
    "-vv",
    "-l",
    "-p",
    "no:cacheprovider",
)


def leaks(text: str, key: str) -> list[str]:
    """The forms in which ``key`` (or a run of 12 of its characters) appears in ``text``."""
    lowered = text.lower()
    found = []
    if key.lower() in lowered:
        found.append("whole")
    runs = {key[i : i + 12].lower() for i in range(len(key) - 11)}
    if any(run in lowered for run in runs):
        found.append("in part")
    for form in (base64.b64encode(key.encode()), base64.urlsafe_b64encode(key.encode())):
        if form.decode()[:16] in text:
            found.append("base64")
    return found


def digest(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@dataclass
class Project:
    """A consumer's project for one hostile run: the live tests, cases, a fixture, a bystander."""

    pytester: pytest.Pytester
    key: str

    @property
    def path(self) -> Path:
        return self.pytester.path

    def prepare(self, stub: RunningServer) -> dict[str, str]:
        self.pytester.makeini("[pytest]\nfacedetect_fixture_dir = recorded\n")
        (self.path / "test_live.py").write_text(LIVE_TESTS.read_text(encoding="utf-8"))
        cases = [
            {
                "name": "portrait",
                "image_url": stub.image_url("portrait.png"),
                "ratio": "1:1",
                "expect": "pass",
            },
            {
                "name": "portrait tall",
                "image_url": stub.image_url("portrait.png"),
                "ratio": "3:4",
                "expect": "pass",
            },
        ]
        (self.path / "cases.json").write_text(json.dumps(cases), encoding="utf-8")
        recorded = self.path / "recorded"
        recorded.mkdir()
        seed = FIXTURE_DIR / "documented-pass-1-1.json"
        (recorded / seed.name).write_bytes(seed.read_bytes())
        (self.path / "notes.txt").write_text("a file of the project, not the suite's\n")
        return digest(self.path)


FIGURES = "FACEDETECT_HOSTILE_FIGURES"  # a file: one JSON line per run, for the closing figures


def record_figures(
    mode: str, wall: float, status: int, report: dict[str, Any], leaked: dict[str, list[str]]
) -> None:
    """With $FACEDETECT_HOSTILE_FIGURES set, append what one run did (before it is judged)."""
    if path := os.environ.get(FIGURES):
        line = {
            "mode": mode,
            "wall_s": round(wall, 2),
            "exit": status,
            "outcome": report.get("outcome"),
            "images_billed": report.get("spend", {}).get("images_billed"),
            "max_billed": report.get("spend", {}).get("max_billed"),
            "leaks": sorted(leaked),
        }
        with open(path, "a", encoding="utf-8") as figures:
            figures.write(json.dumps(line) + "\n")


def check_the_run(
    result: pytest.RunResult, wall: float, project: Project, before: dict[str, str], mode: str
) -> dict[str, Any]:
    path = project.path
    output = "\n".join(result.outlines + result.errlines)
    assert wall < WALL_LIMIT, f"{mode}: the run took {wall:.1f} s"
    assert int(result.ret) in (0, 1), f"{mode}: exit {result.ret}\n{output[-3000:]}"
    report: dict[str, Any] = json.loads(
        (path / "report" / "drift.json").read_text(encoding="utf-8")
    )
    markdown = (path / "report" / "drift.md").read_text(encoding="utf-8")
    assert report["exit_status"] == int(result.ret), f"{mode}: the report and the exit disagree"
    assert (report["outcome"] in ("passed", "passed with warnings")) is (result.ret == 0)
    assert markdown.startswith("# face-detect live drift report")
    written = {
        "terminal": output,
        "JUnit XML": (path / "junit.xml").read_text(encoding="utf-8"),
        "JSON report": json.dumps(report),
        "Markdown report": markdown,
    }
    recorded = sorted((path / "recorded").glob("*.json"))
    for fixture in recorded:
        written[f"fixture {fixture.name}"] = fixture.read_text(encoding="utf-8")
        load_fixture(fixture, load_contracts())  # whatever --record wrote, the loader takes back
    leaked = {
        where: forms for where, text in written.items() if (forms := leaks(text, project.key))
    }
    record_figures(mode, wall, int(result.ret), report, leaked)
    assert not leaked, f"{mode}: the key leaked: {leaked}"
    after = digest(path)
    for name, value in before.items():
        assert after.get(name) == value, f"{mode}: {name} was changed or removed"
    return report
