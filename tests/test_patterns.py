"""Strings that fully match a contract's pattern: translated to ``st.text`` runs where the pattern
allows it, drawn by ``st.from_regex`` otherwise, full matches either way."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from facedetect_contract.contracts import CONTRACT_DIR, Contracts
from facedetect_contract.patterns import matching
from facedetect_contract.strategies import valid_requests
from tests.test_strategies import draw_many


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
    assert all(re.fullmatch(pattern, url) for url in urls)


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
    assert fallbacks == ([] if translated else [pattern])
    values = draw_many(strategy, 50)
    assert values
    assert all(re.fullmatch(pattern, value) and len(value) >= 3 for value in values), values
