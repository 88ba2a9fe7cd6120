"""Endpoint text made inert per output kind, judged by GitHub's own Markdown engine (cmark-gfm)."""

from __future__ import annotations

import html
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facedetect_contract.core.inert import (
    encodable,
    html_text,
    log,
    markdown_code,
    markdown_text,
    printable,
    terminal,
)

cmarkgfm = pytest.importorskip("cmarkgfm")

# What an endpoint may put in a field name, a code or a message to forge a report or a terminal.
HOSTILE = (
    "![px](http://host/pixel.png)",
    '<img src="http://host/pixel.png">',
    "</details><h1>Outcome: passed</h1>",
    "[click](javascript:alert(1))",
    "see http://evil.example/x, www.evil.example and someone@evil.example",
    "a|b|c",
    "```\n# forged\n```",
    "`x``y`",
    "# heading",
    "*em* _u_ ~~s~~ \\",
    "&lt;img&gt; &#60;b&#62;",
    "\x1b]52;c;ZXZpbA==\x07",
    "\x1b[2J\x1b[H= 55 passed =",
    "ok\rFAILED",
    "\u202eevil\u202c",
    "\ud83d",
    "line\nbreak",
)


def _cell_html(markdown: str) -> str:
    """The HTML GitHub renders for ``markdown`` placed in a table cell, the cell's content only."""
    page = cmarkgfm.github_flavored_markdown_to_html(f"| h |\n|---|\n| {markdown} |\n")
    (cell,) = re.findall(r"<td>(.*?)</td>", page, re.S)
    return cell


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("render", [markdown_text, markdown_code], ids=["text", "code"])
def test_markdown_shows_hostile_text_as_characters_never_as_markup(render, text):
    cell = _cell_html(render(text))
    inner = re.sub(r"^<code>(.*)</code>$", r"\1", cell, flags=re.S)
    assert "<" not in inner.replace("<!-- raw HTML omitted -->", ""), cell  # no element at all
    shown = html.unescape(inner.replace("<!-- raw HTML omitted -->", ""))
    assert shown == " ".join(printable(text).split())


@given(st.text())
def test_markdown_text_renders_as_itself_for_any_text(text):
    """Whatever the text, GitHub shows exactly its printable form: no element, no lost char."""
    cell = _cell_html(markdown_text(text)).replace("<!-- raw HTML omitted -->", "")
    assert "<" not in cell
    assert html.unescape(cell) == " ".join(printable(text).split())


@given(st.text())
def test_markdown_code_is_one_code_span_for_any_text(text):
    cell = _cell_html(markdown_code(text))
    assert re.fullmatch(r"<code>[^<]*</code>", cell), cell


@pytest.mark.parametrize("render", [terminal, log, printable])
@given(text=st.text())
def test_terminal_and_log_lines_hold_no_control_or_surrogate(render, text):
    line = render(text)
    assert not re.search("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]", line)
    line.encode("utf-8")  # always encodable


def test_terminal_shows_each_control_escaped_visibly():
    assert terminal("\x1b]52;c;x\x07") == "\\x1b]52;c;x\\x07"
    assert terminal("a\rb\nc") == "a\\x0db\\x0ac"
    assert terminal("\u202e") == "\\u202e"
    assert terminal("\ud83d") == "\\ud83d"
    assert terminal("visage 顔 ok") == "visage 顔 ok"


def test_html_text_escapes_markup_and_surrogates():
    assert html_text('<a href="x">&\ud83d') == "&lt;a href=&quot;x&quot;&gt;&amp;\\ud83d"


@given(st.recursive(st.text(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)))
def test_encodable_json_values_always_serialise_as_utf8(value):
    json.dumps(encodable(value), ensure_ascii=False).encode("utf-8")


def test_a_code_span_is_longer_than_any_backtick_run_inside():
    assert markdown_code("a``b") == "```a``b```"
    assert markdown_code("`") == "`` ` ``"
