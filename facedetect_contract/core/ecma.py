"""JSON Schema's regular expressions are ECMA-262's (JSON Schema 2020-12 core, section 6.4);
Python's ``re`` reads the same pattern differently in a few places. This module writes a
contract's pattern as the Python regex with ECMA-262's meaning, so that this suite judges a string
exactly as a tool reading the published OpenAPI document does (Schemathesis drew URLs with
``\\x1c``, which Python's ``\\s`` calls whitespace and ECMA-262's does not; Python's ``$`` also
matches before a final newline, ECMA-262's only at the end).

Translated, outside a class: ``\\d \\D \\w \\W \\s \\S`` to their ASCII or ECMA-262 sets, ``.`` to
"anything but a line terminator", ``$`` to the end of the string (``\\Z``); inside a class:
``\\d \\w \\s`` to their members. Everything else (including ``\\D \\W \\S`` inside a class, which
no contract uses) keeps Python's reading.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any, cast

from jsonschema import Draft202012Validator, ValidationError, validators

__all__ = ["EcmaValidator", "python_pattern", "search"]

# ECMA-262 WhiteSpace and LineTerminator: what \s matches there.
_SPACE = "\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
_IN_CLASS = {"d": "0-9", "w": "A-Za-z0-9_", "s": _SPACE}
_OUTSIDE = {
    "d": "[0-9]",
    "D": "[^0-9]",
    "w": "[A-Za-z0-9_]",
    "W": "[^A-Za-z0-9_]",
    "s": f"[{_SPACE}]",
    "S": f"[^{_SPACE}]",
}
_DOT = "[^\\n\\r\\u2028\\u2029]"


@functools.cache
def python_pattern(pattern: str) -> str:
    """``pattern`` (ECMA-262) as a Python regex that matches the same strings."""
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            letter = pattern[index + 1]
            table = _IN_CLASS if in_class else _OUTSIDE
            out.append(table.get(letter, char + letter))
            index += 2
            continue
        if in_class:
            if char == "]" and not _opens_class(out):
                in_class = False
            out.append(char)
        elif char == "[":
            in_class = True
            out.append(char)
        elif char == ".":
            out.append(_DOT)
        elif char == "$":
            out.append("\\Z")
        else:
            out.append(char)
        index += 1
    return "".join(out)


def _opens_class(out: list[str]) -> bool:
    """Whether a ``]`` just after ``[`` or ``[^`` is a member (Python's reading) not the end."""
    return bool(out) and (out[-1] == "[" or (out[-1] == "^" and len(out) > 1 and out[-2] == "["))


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(python_pattern(pattern))


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` (ECMA-262) matches somewhere in ``text``, as JSON Schema asks."""
    return _compiled(pattern).search(text) is not None


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# Draft 2020-12 with the ECMA-262 reading of "pattern" (the one keyword the contracts' regexes use).
EcmaValidator = cast(
    "type[Draft202012Validator]",
    validators.extend(Draft202012Validator, {"pattern": _pattern}),  # type: ignore[no-untyped-call]
)
