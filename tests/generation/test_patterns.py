"""Strings that fully match a contract's pattern (an ECMA-262 regex, as JSON Schema says): drawn
from the URL grammar when the pattern accepts it, translated to ``st.text`` runs where the
pattern allows it, drawn by ``st.from_regex`` otherwise, full matches either way."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from facedetect_contract.contracts.loader import CONTRACT_DIR, Contracts
from facedetect_contract.core.ecma import python_pattern, search
from facedetect_contract.generation.patterns import matching
from facedetect_contract.generation.strategies import valid_requests
from tests.helpers.strategies import draw_many


@pytest.mark.parametrize(
    "pattern",
    [
        r"^https://[a-z0-9-]{1,20}\.example(:[0-9]{2,4})?/(img|pic)/[^\s?#]+\.(png|jpe?g)$",
        r"^https?://\S+$",
        r"^https?://(?!internal)[a-z.]+/.+$",  # a lookahead: drawn by st.from_regex instead
    ],
    ids=["classes-groups-alternation", "negated-escape", "lookahead-fallback"],
)
def test_a_changed_image_url_pattern_is_generated_without_code_edits(
    tmp_path: Path, pattern: str
) -> None:
    """Whatever the pattern (translated to st.text runs, or left to st.from_regex): full matches."""
    directory = tmp_path / "face-detect"
    shutil.copytree(CONTRACT_DIR, directory)
    path = directory / "request.schema.json"
    schema = json.loads(path.read_text())
    schema["properties"]["input"]["properties"]["image_url"].update(pattern=pattern, examples=[])
    path.write_text(json.dumps(schema))
    contracts = Contracts(directory)
    urls = [r.body["input"]["image_url"] for r in draw_many(valid_requests(contracts), 100)]
    assert len(set(urls)) > 50
    assert all(re.fullmatch(python_pattern(pattern), url) for url in urls)


@pytest.mark.parametrize(
    ("pattern", "translated"),
    [
        (r"^[a-c]{2,4}(x|yz)?-\d+$", True),
        (r"^(?:ab|[^a-z\s])+$", True),
        (r"^(?=a)[a-z]+$", False),  # a lookahead
        (r"^\w+\b$", False),  # a word boundary
        (r"^a+?$", False),  # a lazy quantifier
    ],
)
def test_a_covered_pattern_is_translated_and_any_other_goes_to_from_regex(
    monkeypatch: pytest.MonkeyPatch, pattern: str, translated: bool
) -> None:
    fallbacks: list[str] = []
    from_regex = st.from_regex

    def counted(regex: Any, **options: Any) -> st.SearchStrategy[str]:
        fallbacks.append(regex)
        return from_regex(regex, **options)

    monkeypatch.setattr(st, "from_regex", counted)
    strategy = matching(pattern, min_length=3)
    assert fallbacks == ([] if translated else [python_pattern(pattern)])
    values = draw_many(strategy, 50)
    assert values
    assert all(re.fullmatch(python_pattern(pattern), value) and len(value) >= 3 for value in values)


@pytest.mark.parametrize(
    ("pattern", "text", "ecma"),
    [
        (r"^a\sb$", "a\x1cb", False),  # Python's \s takes the separators; ECMA-262's does not
        (r"^a\sb$", "a\ufeffb", True),  # ECMA-262 takes the byte order mark; Python's does not
        (r"^\S+$", "a\x1cb", True),
        (r"^ab$", "ab\n", False),  # Python's $ also matches before a final newline
        (r"^\d+$", "\u0663", False),  # Python's \d takes every Unicode digit
        (r"^\w+$", "é", False),
        (r"^a.b$", "a\u2028b", False),  # . stops at every ECMA-262 line terminator
        (r"^[^\s/]+$", "a\x1cb", True),  # inside a class as well
        (r"^[\d.]+$", "1.2", True),
        (r"^[]a]+$", "]a", True),  # a ] first in a class is a member (Python's reading, kept)
    ],
)
def test_a_pattern_means_what_ecma_262_says_not_what_python_says(
    pattern: str, text: str, ecma: bool
) -> None:
    assert search(pattern, text) is ecma


def test_the_contracts_validators_read_patterns_as_ecma_262(contracts: Contracts) -> None:
    """A URL with a trailing newline is not a URL; one with a character ECMA-262 does not call
    whitespace is judged as Schemathesis (which reads the published OpenAPI document) judges it."""
    assert not contracts.accepts_image_url("https://example.com/p.png\n")
    assert contracts.accepts_image_url("https://example.com/p.png")
    body = {"model": "emo-detect-v1", "input": {"image_url": "https://example.com/p.png\n"}}
    assert not contracts.validator("request").is_valid(body)


def test_the_url_grammar_is_used_for_the_contracts_pattern_and_not_for_a_narrower_one(
    contracts: Contracts,
) -> None:
    """The grammar serves a pattern that accepts all its checked samples; a pattern that admits
    https only (a narrowed contract) is translated instead, and its values still match."""
    from facedetect_contract.generation.patterns import _grammar_for

    image_url = contracts.request_subschema(contracts.profile.request.image_url)["pattern"]
    assert _grammar_for(python_pattern(image_url)) is not None
    narrowed = r"^https://[a-z]+\.example/[a-z]+\.png$"
    assert _grammar_for(python_pattern(narrowed)) is None
    assert all(re.fullmatch(narrowed, v) for v in draw_many(matching(narrowed), 50))
