"""Strings that fully match a JSON Schema ``pattern``, drawn quickly.

``st.from_regex`` draws a string one character at a time: for the image URL pattern that was over
half the cost of a generated request (profiled with the benchmark). A pattern made only of
literals, classes, escapes, groups, alternation and quantifiers is drawn here as one ``st.text``
per class run instead, about twice as fast; any other construct goes to ``st.from_regex``. Which
characters a class or escape matches is decided by ``re`` itself, so the semantics are Python's.
"""

from __future__ import annotations

import array
import functools
import re
import sys

from hypothesis import strategies as st

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
            if self.peek() == "$" and self.position == len(self.pattern) - 1:
                self.position += 1  # the closing anchor: every value is a full match anyway
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


def matching(pattern: str, min_length: int = 0) -> st.SearchStrategy[str]:
    """Strings of ``min_length`` or more that fully match ``pattern`` (so ``re.search`` accepts
    them, as JSON Schema does). One filter for both: each filter layer costs a draw."""
    try:
        translated = _PatternTranslation(pattern).strategy()
    except (_Unsupported, re.error):
        translated = st.from_regex(pattern, fullmatch=True, alphabet=st.characters(codec="utf-8"))
    search = re.compile(pattern).search
    return translated.filter(lambda s: len(s) >= min_length and search(s) is not None)
