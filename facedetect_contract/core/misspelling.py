"""Fields of a user's file that the suite does not know, named with the known field meant.

A file the user writes (the cases, the baseline) is read field by field: a field no loader reads
would be ignored, and a misspelled optional one (``face_box`` for ``face_bbox``) would silently
check nothing. The loaders refuse it instead, with this message, so the error says the fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable

__all__ = ["unknown_fields"]


def unknown_fields(given: Iterable[str], known: Collection[str], *, hint: str = "") -> str | None:
    """What is wrong with the fields ``given`` when some are not ``known`` (``None``: nothing).

    One unknown field with a close known one reads ``unknown field 'face_box'; did you mean
    'face_bbox'?``; otherwise each unknown field is listed, with its close match when it has one,
    then every known field and the ``hint`` (where a field of the user's own belongs, say).
    """
    unknown = [name for name in given if name not in known]
    if not unknown:
        return None
    meant = {name: _closest(name, known) for name in unknown}
    if len(unknown) == 1 and meant[unknown[0]] is not None:
        return f"unknown field {unknown[0]!r}; did you mean {meant[unknown[0]]!r}?"
    listed = ", ".join(
        f"{name!r}" + (f" (did you mean {meant[name]!r}?)" if meant[name] else "")
        for name in unknown
    )
    plural = "s" if len(unknown) > 1 else ""
    return f"unknown field{plural} {listed}; the known fields are {sorted(known)}" + (
        f" ({hint})" if hint else ""
    )


def _closest(name: str, known: Collection[str]) -> str | None:
    # Case is not a spelling: 'Face_BBox' means 'face_bbox' as surely as 'face_box' does.
    by_folded = {field.casefold(): field for field in known}
    matches = difflib.get_close_matches(name.casefold(), list(by_folded), n=1)
    return by_folded[matches[0]] if matches else None
