"""Text the endpoint chose, made inert for the place it is shown: one function per output kind.

Everything an answer carries (field names, codes, messages, pointers) is untrusted: spelled as
markup it would forge a job summary, spelled as control characters it would rewrite a terminal,
and a lone surrogate (which ``json.loads`` accepts) cannot be encoded as UTF-8 at all. Every
renderer, the terminal summary, each command's output and the stub's log pass such text through
the function of their kind here, and nowhere else is it escaped.

- ``printable``: any text as code points that encode and print as themselves: controls (C0, DEL,
  C1), lone surrogates, bidirectional overrides and other invisible format characters become
  ``\\xNN`` / ``\\uNNNN`` escapes. Letters of every script stay as they are.
- ``terminal`` and ``log``: one line of ``printable`` text (a newline is shown as ``\\n``).
- ``markdown_text``: inline Markdown (GitHub's dialect) where every punctuation character that
  could start markup is a backslash escape and ``<``, ``>``, ``&`` are character references:
  no raw HTML, no image, no link, no heading, no emphasis the endpoint chose; ``|`` cannot end a
  table cell.
- ``markdown_code``: a code span sized to its content (a backtick run longer than any inside).
- ``html_text``: HTML text and attribute values.
- ``encodable``: a string (or a JSON value) that UTF-8 can encode: lone surrogates escaped.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

__all__ = [
    "encodable",
    "html_text",
    "log",
    "markdown_code",
    "markdown_text",
    "printable",
    "terminal",
]

# Code points shown escaped: C0 controls, DEL and C1 controls; lone surrogates; and the
# invisible format characters that reorder or hide text (bidi embeddings, overrides and isolates,
# zero-width ones, the byte order mark, soft hyphen, interlinear annotation, tag characters).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)
# Punctuation that may start or end Markdown syntax in GitHub's dialect (CommonMark's escapable
# ASCII punctuation): each is written backslash-escaped, which renders as the character itself.
_PUNCTUATION = frozenset("\\`*_{}[]()#+-.!|~:\"'$%/=?^@;,")
_HTML_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _escape(match: re.Match[str]) -> str:
    point = ord(match.group(0))
    return (
        f"\\x{point:02x}"
        if point <= 0xFF
        else f"\\u{point:04x}"
        if point <= 0xFFFF
        else (f"\\U{point:08x}")
    )


def printable(text: object) -> str:
    """``text`` with every control, lone surrogate and invisible format character escaped."""
    value = text if isinstance(text, str) else str(text)
    value = _UNSAFE.sub(_escape, value)
    # Other unassigned or private-use code points print as boxes at worst: kept, but a category
    # the regular expression does not name (a new format character) is escaped too.
    if value.isascii():
        return value
    return "".join(
        _escape_char(char) if unicodedata.category(char) in ("Cc", "Cf", "Cs") else char
        for char in value
    )


def _escape_char(char: str) -> str:
    point = ord(char)
    return f"\\u{point:04x}" if point <= 0xFFFF else f"\\U{point:08x}"


def terminal(text: object) -> str:
    """One terminal line of ``text``: no escape sequence, carriage return or newline survives."""
    return printable(text)


def log(text: object) -> str:
    """One log line of ``text`` (what a client sent the stub, say), escaped as for a terminal."""
    return printable(text)


def markdown_text(text: object) -> str:
    """``text`` as inline Markdown that renders as exactly these characters, on one line."""
    value = " ".join(printable(text).split())
    value = "".join(
        _HTML_SPECIAL.get(char) or (f"\\{char}" if char in _PUNCTUATION else char) for char in value
    )
    # GitHub links an e-mail address even with its punctuation escaped; an empty comment after
    # the ``@`` (which GitHub drops from the page) keeps it plain text.
    return value.replace("\\@", "\\@<!-- -->")


def markdown_code(text: object) -> str:
    """``text`` as one inline code span: fenced by more backticks than any run inside it.

    Inside a code span Markdown reads nothing as markup (no HTML, no link); only ``|`` still
    splits a GitHub table cell, so it is escaped (GitHub removes that backslash in cells).
    """
    value = " ".join(printable(text).split()) or " "
    longest = max((len(run) for run in re.findall("`+", value)), default=0)
    fence = "`" * (longest + 1)
    # A span that starts or ends with a backtick (or a space) needs a space of padding, which
    # CommonMark strips again.
    padded = f" {value} " if value[0] in "` " or value[-1] in "` " else value
    return f"{fence}{padded.replace('|', chr(92) + '|')}{fence}"


def html_text(text: object) -> str:
    """``text`` as HTML text or a quoted attribute value: markup-inert and encodable."""
    return html.escape(encodable(str(text)), quote=True)


def encodable(value: Any) -> Any:
    """``value`` (a string or a JSON value) with every lone surrogate escaped, so UTF-8 encodes it.

    Mapping keys are escaped too; other values are returned as they are.
    """
    if isinstance(value, str):
        return _SURROGATE.sub(_escape, value) if _SURROGATE.search(value) else value
    if isinstance(value, dict):
        return {encodable(key): encodable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encodable(item) for item in value]
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")
