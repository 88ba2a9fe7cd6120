"""The repository explains itself from its own files: no citation of a document users lack,
every link resolves, and the notes cover every open question and source the data names."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from facedetect_contract import PROJECT_URL
from facedetect_contract.contracts.loader import CONTRACT_DIR, load_contracts

ROOT = Path(__file__).parents[2]
NOTES = ROOT / "docs" / "endpoint.md"
# How a text cites a document the repository does not have: the research file the project was
# started from, by any of the names it went by.
ELSEWHERE = re.compile(r"API (file|notes)( section)?|section 8\.[0-9]|shared/api|founding document")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    paths = [ROOT / name for name in listed if (ROOT / name).is_file()]
    return [p for p in paths if p.suffix in {".py", ".md", ".json", ".toml", ".yml", ".txt", ""}]


def anchors(markdown: str) -> set[str]:
    """GitHub's anchors of a Markdown text's headings."""
    found = set()
    for line in markdown.splitlines():
        match = re.match(r"#+\s+(.*)", line)
        if match:
            text = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower())
            found.add(text.replace(" ", "-"))
    return found


def section(markdown: str, anchor: str) -> str:
    """The text under the heading whose anchor is ``anchor``, up to the next heading."""
    lines = markdown.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("#") and anchors(line) == {anchor}:
            rest = lines[index + 1 :]
            end = next((i for i, text in enumerate(rest) if text.startswith("#")), len(rest))
            return "\n".join(rest[:end])
    raise AssertionError(f"{NOTES.name} has no section #{anchor}")


def test_nothing_cites_a_document_outside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in tracked_text_files()
        if path.name != "test_docs.py"
        for number, line in enumerate(
            path.read_text(encoding="utf-8", errors="replace").splitlines(), 1
        )
        if ELSEWHERE.search(line)
    ]
    assert not offenders, "cite docs/endpoint.md or a public URL instead:\n" + "\n".join(offenders)


MARKDOWN = sorted(
    {*ROOT.glob("*.md"), *(ROOT / "docs").rglob("*.md"), *ROOT.glob("*/README.md")}
    | {*ROOT.glob("tests/*/README.md")}
)
# The project's own address: README links to files through it, so they work on the package
# index too; such a link must name a file the repository has.
OWN = re.compile(re.escape(PROJECT_URL) + r"/(?:blob|tree)/main/([^)#\s]+)")


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_of_the_docs_to_a_file_of_the_project_resolves(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    broken = []
    for target in LINK.findall(text):
        own = OWN.match(target)
        if own:
            if not (ROOT / own.group(1)).exists():
                broken.append(target)
            continue
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file, _, anchor = target.partition("#")
        resolved = (path.parent / file) if file else path
        if not resolved.exists() or (
            anchor and resolved.suffix == ".md" and anchor not in anchors(resolved.read_text())
        ):
            broken.append(target)
    assert not broken, f"{path.name}: links to nothing: {broken}"


@pytest.mark.parametrize("question", list(load_contracts().questions.values()), ids=lambda q: q.id)
def test_every_open_question_has_its_section_in_the_notes_with_every_reading(
    question: object,
) -> None:
    text = NOTES.read_text(encoding="utf-8")
    notes_file, _, anchor = question.notes.partition("#")  # type: ignore[attr-defined]
    assert (ROOT / notes_file) == NOTES
    body = section(text, anchor)
    for reading in question.readings:  # type: ignore[attr-defined]
        assert f"`{reading.id}`" in body, f"#{anchor} does not name the reading {reading.id!r}"


def test_every_source_of_the_profile_is_in_the_notes() -> None:
    text = NOTES.read_text(encoding="utf-8")
    sources = json.loads((CONTRACT_DIR / "endpoint.json").read_text())["sources"]
    missing = [
        page["url"]
        for entry in sources.values()
        for page in entry["pages"]
        if page["url"] not in text
    ]
    assert not missing, f"docs/endpoint.md lists no source {missing}"


def test_every_schema_comment_on_an_open_question_names_its_id() -> None:
    """A ``$comment`` about an open question says which (an id of questions.json)."""
    ids = set(load_contracts().questions)

    def comments(node: object) -> list[str]:
        if isinstance(node, dict):
            own = [node["$comment"]] if isinstance(node.get("$comment"), str) else []
            return own + [c for value in node.values() for c in comments(value)]
        if isinstance(node, list):
            return [c for item in node for c in comments(item)]
        return []

    for path in CONTRACT_DIR.glob("*.schema.json"):
        for comment in comments(json.loads(path.read_text())):
            if "Open question" in comment:
                named = set(re.findall(r"[a-z]+(?:-[a-z]+)+", comment)) & ids
                assert named, f"{path.name}: {comment[:80]}... names no question id"


def test_the_readme_is_for_the_suites_users_first_and_short() -> None:
    """What it guards, the two commands, install, use: contributor matters live elsewhere."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 250
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert headings[:3] == ["Quick start", "Install", "Use it in your project"]
    for contributor_matter in ("Benchmark", "Development", "Mutation", "Outside judges"):
        assert contributor_matter not in headings
    assert "CONTRIBUTING.md" in text
