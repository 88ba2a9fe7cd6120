"""JSON pointers (RFC 6901): how the endpoint profile names a field, and how code reads it.

The profile says where the verdict, the boxes and the error code live (``/output/check_pass``);
every module reads a body through a ``Pointer`` instead of spelling the field names itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .violations import ABSENT

__all__ = ["Pointer", "escape", "shown"]


def escape(part: object) -> str:
    """One reference token, escaped (``~`` -> ``~0``, ``/`` -> ``~1``)."""
    return str(part).replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class Pointer:
    """A JSON pointer into a document: ``Pointer.parse("/output/face_bbox")``."""

    parts: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Pointer:
        """``ValueError`` for a non-empty pointer that does not start with ``/``."""
        if text == "":
            return cls(())
        if not text.startswith("/"):
            raise ValueError(f"{text!r} is not a JSON pointer: it must start with '/'")
        return cls(tuple(p.replace("~1", "/").replace("~0", "~") for p in text[1:].split("/")))

    @classmethod
    def of(cls, parts: Iterable[object]) -> Pointer:
        return cls(tuple(str(p) for p in parts))

    def __str__(self) -> str:
        return "".join("/" + escape(part) for part in self.parts)

    @property
    def name(self) -> str:
        """The last reference token: the field's own name."""
        return self.parts[-1] if self.parts else ""

    @property
    def parent(self) -> Pointer:
        return Pointer(self.parts[:-1])

    def child(self, *parts: object) -> Pointer:
        return Pointer((*self.parts, *(str(p) for p in parts)))

    def get(self, document: Any) -> Any:
        """The value at this pointer, or ``ABSENT`` when any step is missing."""
        node = document
        for part in self.parts:
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif (
                isinstance(node, list)
                and part.isascii()
                and part.isdigit()
                and (part == "0" or not part.startswith("0"))  # RFC 6901: no leading zeros
                and int(part) < len(node)
            ):
                node = node[int(part)]
            else:
                return ABSENT
        return node

    def present(self, document: Any) -> bool:
        return self.get(document) is not ABSENT

    def put(self, document: dict[str, Any], value: Any) -> dict[str, Any]:
        """Set the value at this pointer in ``document``, making the objects on the way."""
        node = document
        for part in self.parts[:-1]:
            node = node.setdefault(part, {})
        node[self.parts[-1]] = value
        return document


def shown(parts: Iterable[object]) -> str:
    """The JSON pointer to ``parts`` (a validation error's path) as messages show it: ``/`` for
    the whole document."""
    return str(Pointer.of(parts)) or "/"
