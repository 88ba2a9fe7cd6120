"""Strings that fully match a JSON Schema ``pattern`` (an ECMA-262 regex, written as the Python
regex of the same meaning by ``ecma.python_pattern`` first), drawn quickly.

First choice, for a pattern of absolute http(s) URLs: a small grammar of the forms URLs take
(RFC 3986: the scheme in any case, user info, a host name, an IPv4 or IPv6 literal, a port, a
path, query or fragment), six draws per URL. It is used only for a pattern that accepts every one
of ``GRAMMAR_CHECK`` samples of it (checked once per pattern), so a contract that narrows its URLs
falls back to the translation below without code edits; its values are filtered by the pattern
all the same.

Otherwise: ``st.from_regex`` draws a string one character at a time. A pattern made only of
literals, classes, escapes, groups, alternation and quantifiers is drawn here as one ``st.text``
per class run instead; any other construct goes to ``st.from_regex``. Which characters a class or
escape matches is decided by ``re`` on the translated pattern.
"""

from __future__ import annotations

import array
import functools
import ipaddress
import itertools
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st

from ..core.ecma import python_pattern

__all__ = ["matching"]

_MAX_ALPHABET = 4096  # a class (or its complement) larger than this goes to st.from_regex
_QUANTIFIER = re.compile(r"\{(\d*)(,?)(\d*)\}")


class _Unsupported(ValueError):
    """A pattern construct the translation does not cover; st.from_regex takes the pattern."""


@functools.cache
def _code_points() -> str:
    """Every code point UTF-8 can encode (surrogates excluded), as one string."""
    points = array.array("I", range(0x110000))
    del points[0xD800:0xE000]
    if points.itemsize != 4:  # pragma: no cover - 'I' is 4 bytes on every supported platform
        return "".join(map(chr, points))
    return points.tobytes().decode("utf-32-le" if sys.byteorder == "little" else "utf-32-be")


@functools.cache
def _alphabet(item: str) -> str | st.SearchStrategy[str]:
    """The characters a class (``[...]``) or escape (``\\s``) matches, as an alphabet."""
    negated = item.startswith("[^") or item in ("\\D", "\\S", "\\W")
    positive = "[" + item[2:] if item.startswith("[^") else item.lower() if negated else item
    matched = re.findall(positive, _code_points())
    if len(matched) > _MAX_ALPHABET or not (matched or negated):
        raise _Unsupported(f"{item} matches too many or no characters")
    if negated:
        return st.characters(codec="utf-8", exclude_characters="".join(matched))
    return "".join(matched)


def _interleave(parts: tuple[str | st.SearchStrategy[str], ...], drawn: tuple[str, ...]) -> str:
    """``parts`` joined, each strategy replaced by the next drawn value in turn."""
    values = iter(drawn)
    return "".join(part if isinstance(part, str) else next(values) for part in parts)


class _PatternTranslation:
    """Recursive descent over the covered subset of Python's regular expression syntax."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.position = 1 if pattern.startswith("^") else 0

    def peek(self) -> str:
        return self.pattern[self.position : self.position + 1]

    def strategy(self) -> st.SearchStrategy[str]:
        result = self.alternation()
        if self.position != len(self.pattern):
            raise _Unsupported(f"unexpected {self.peek()!r} at {self.position}")
        return result

    def alternation(self) -> st.SearchStrategy[str]:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.position += 1
            branches.append(self.sequence())
        return branches[0] if len(branches) == 1 else st.one_of(branches)

    def sequence(self) -> st.SearchStrategy[str]:
        # Literal runs are not drawn: each draw costs Hypothesis a span, so only the variable
        # parts are drawn and the literals are put back between them.
        parts: list[str | st.SearchStrategy[str]] = []
        while self.peek() not in ("", "|", ")"):
            if self.pattern[self.position :] in ("$", "\\Z"):
                self.position = len(self.pattern)  # the closing anchor: values are full matches
                break
            alphabet, group = self.atom()
            low, high = self.quantifier()
            if isinstance(alphabet, str) and len(alphabet) == 1 and (low, high) == (1, 1):
                if parts and isinstance(parts[-1], str):
                    parts[-1] += alphabet
                else:
                    parts.append(alphabet)
            elif alphabet is not None:
                parts.append(st.text(alphabet, min_size=low, max_size=high))
            elif (low, high) == (1, 1):
                parts.append(group)
            elif (low, high) == (0, 1):
                parts.append(st.one_of(st.just(""), group))
            else:
                parts.append(st.lists(group, min_size=low, max_size=high).map("".join))
        drawn = [part for part in parts if not isinstance(part, str)]
        if not drawn:
            return st.just("".join(part for part in parts if isinstance(part, str)))
        if len(parts) == 1:
            return drawn[0]
        return st.tuples(*drawn).map(functools.partial(_interleave, tuple(parts)))

    def atom(self) -> tuple[str | st.SearchStrategy[str] | None, st.SearchStrategy[str]]:
        """(alphabet, strategy) of one atom; the alphabet is None for a group."""
        char = self.peek()
        if char == "(":
            self.position += 1
            if self.pattern.startswith("?:", self.position):
                self.position += 2
            elif self.peek() == "?":
                raise _Unsupported("(?...) constructs")
            inner = self.alternation()
            if self.peek() != ")":
                raise _Unsupported("an unbalanced group")
            self.position += 1
            return None, inner
        if char == "[":
            end = self.class_end()
            item, self.position = self.pattern[self.position : end], end
        elif char == "\\":
            item = self.pattern[self.position : self.position + 2]
            if len(item) < 2 or (item[1].isalnum() and item[1] not in "dDsSwWnrtfv"):
                raise _Unsupported(f"the escape {item}")
            self.position += 2
        elif char in ".^$*+?{}":
            raise _Unsupported(f"{char!r} here")
        else:
            self.position += 1
            return char, st.just(char)
        alphabet = _alphabet(item)
        return alphabet, st.text(alphabet, min_size=1, max_size=1)

    def class_end(self) -> int:
        """Index just past the class that starts at the current position."""
        index = self.position + 1
        if self.pattern.startswith("^", index):
            index += 1
        if self.pattern.startswith("]", index):
            index += 1
        while index < len(self.pattern):
            char = self.pattern[index]
            if char == "]":
                return index + 1
            if char == "[":
                raise _Unsupported("nested classes")
            index += 2 if char == "\\" else 1
        raise _Unsupported("an unterminated class")

    def quantifier(self) -> tuple[int, int | None]:
        char = self.peek()
        bounds: tuple[int, int | None]
        if char in ("?", "*", "+"):
            bounds = {"?": (0, 1), "*": (0, None), "+": (1, None)}[char]
            self.position += 1
        elif char == "{":
            match = _QUANTIFIER.match(self.pattern, self.position)
            if match is None or not (match.group(1) or match.group(3)):
                raise _Unsupported("a '{' that is not a quantifier")
            low = int(match.group(1) or 0)
            high = int(match.group(3)) if match.group(3) else None if match.group(2) else low
            bounds = (low, high)
            self.position = match.end()
        else:
            return 1, 1
        if self.peek() in ("?", "+"):
            raise _Unsupported("lazy or possessive quantifiers")
        return bounds


# --- the URL grammar ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Piece:
    """One part of a grammar: its strategy, and a plain sampler for the acceptance check."""

    strategy: st.SearchStrategy[str]
    sample: Callable[[random.Random], str]


def _choice(*options: str) -> _Piece:
    return _Piece(st.sampled_from(options), lambda rng: rng.choice(options))


def _either(*pieces: _Piece) -> _Piece:
    return _Piece(
        st.one_of([piece.strategy for piece in pieces]),
        lambda rng: rng.choice(pieces).sample(rng),
    )


def _ipv4() -> _Piece:
    def shown(number: int) -> str:
        return str(ipaddress.IPv4Address(number))

    return _Piece(st.integers(0, 2**32 - 1).map(shown), lambda rng: shown(rng.getrandbits(32)))


def _port() -> _Piece:
    def shown(number: int) -> str:
        return f":{number}"

    return _Piece(st.integers(0, 65535).map(shown), lambda rng: shown(rng.randrange(65536)))


_PATH_CHARS = "abcxyz019-._~%/!$&'()*+,;=:@?#" + "图像é"


def _path_text() -> _Piece:
    def shown(text: str) -> str:
        return "/" + text

    return _Piece(
        st.text(_PATH_CHARS, max_size=12).map(shown),
        lambda rng: shown("".join(rng.choice(_PATH_CHARS) for _ in range(rng.randrange(13)))),
    )


def _http_url_grammar() -> tuple[_Piece, ...]:
    schemes = [
        "".join(letters)
        for word in ("http", "https")
        for letters in itertools.product(*((c, c.upper()) for c in word))
    ]
    return (
        _choice(*schemes),
        _choice("://"),
        _choice("", "", "", "user@", "user:secret@", "a%20b:c@"),
        _either(
            _choice(
                "example.com",
                "img.example.org",
                "a.b.c.example.net",
                "localhost",
                "x",
                "EXAMPLE.COM",
                "host-1.example",
                "xn--fsqu00a.xn--0zwm56d",
                "例子.测试",
            ),
            _ipv4(),
            _choice("[::1]", "[2001:db8::1]", "[::ffff:192.0.2.1]", "[FE80::1:2]"),
        ),
        _either(_choice("", "", "", ":", ":0", ":080", ":65535"), _port()),
        _either(
            _choice(
                "",
                "/",
                "/portrait.png",
                "/a/b/c.jpg",
                "/emo-%E5%9B%BE.png",
                "?q=1",
                "/img.webp?x=1&y=2",
                "#top",
                "/p.bmp#f",
                "/路径/图.jpeg",
                "/A.JPEG",
            ),
            _path_text(),
        ),
    )


GRAMMAR_CHECK = 500  # samples of the grammar a pattern must all accept for the grammar to be used


@functools.cache
def _grammar_for(pattern: str) -> st.SearchStrategy[str] | None:
    """The URL grammar's strategy when ``pattern`` accepts every one of its checked samples."""
    pieces = _http_url_grammar()
    search = re.compile(pattern).search
    rng = random.Random(0)
    for _ in range(GRAMMAR_CHECK):
        if search("".join(piece.sample(rng) for piece in pieces)) is None:
            return None
    return st.tuples(*(piece.strategy for piece in pieces)).map("".join)


def matching(pattern: str, min_length: int = 0) -> st.SearchStrategy[str]:
    """Strings of ``min_length`` or more that fully match ``pattern``, an ECMA-262 regex as in
    JSON Schema (so the contracts' validators accept them). One filter for all: each filter
    layer costs a draw."""
    return _matching(pattern, min_length)


@functools.cache
def _matching(ecma_pattern: str, min_length: int) -> st.SearchStrategy[str]:
    pattern = python_pattern(ecma_pattern)  # what the contracts' validators match (ecma.py)
    strategy = _grammar_for(pattern) if re.match(r"\^?\[?[Hh]", pattern) else None
    if strategy is None:
        try:
            strategy = _PatternTranslation(pattern).strategy()
        except (_Unsupported, re.error):
            strategy = st.from_regex(pattern, fullmatch=True, alphabet=st.characters(codec="utf-8"))
    search = re.compile(pattern).search
    return strategy.filter(lambda s: len(s) >= min_length and search(s) is not None)
