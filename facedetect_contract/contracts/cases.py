"""The live cases file: which images a live run checks, at which ratio, and what it expects.

A JSON list of objects ``{"name", "image_url", "ratio", "expect"}``, each optionally with
``face_bbox`` and ``ext_bbox`` (expected boxes), ``image_size`` (``[width, height]``) and ``note``
(free text). The fields follow the model's profile: a model without a ratio parameter
(liveportrait-detect) takes no ``ratio`` (one given is an error naming the model), a model
without boxes no expected box. Every field is validated and any other is an error naming the field
meant, so a misspelled optional field (``face_box``) does not silently check nothing. The file is
the user's to fix, so every error names the entry (index and name) and the field.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from ..core import geometry
from ..core.data import packaged_or_checkout
from ..core.interaction import read_json_file
from ..core.misspelling import unknown_fields
from ..core.pointers import Pointer
from .fixtures import fixture_dir, load_fixtures
from .loader import Contracts, packaged_models
from .profile import CONTRACT_DIR, PROFILE_FILE

__all__ = [
    "DEFAULT_CASES_FILE",
    "EXPECTS",
    "CasesFileError",
    "LiveCase",
    "default_cases",
    "load_cases",
    "load_cases_of_models",
]

# The checkout keeps it in fixtures/; an installed wheel carries a copy inside the package.
DEFAULT_CASES_FILE = packaged_or_checkout("_data/live-cases.json", "fixtures/live-cases.json")
EXPECTS = ("pass", "fail", "any")
MODEL_FIELD = "model"  # an entry's model: required in a run of several models
# Optional fields besides the profile's boxes: the image's size (edge observations), free text.
_OPTIONAL = ("image_size", "note")

Expect = Literal["pass", "fail", "any"]


def _keys(contracts: Contracts) -> tuple[str, ...]:
    """The required keys of an entry: its name, the request's image field, its ratio field
    (for a model that has one), expect."""
    profile = contracts.profile
    ratio = () if profile.ratio is None else (profile.ratio.field.name,)
    return ("name", profile.request.image_url.name, *ratio, "expect")


def _ratio_key(contracts: Contracts) -> str | None:
    ratio = contracts.profile.ratio
    return None if ratio is None else ratio.field.name


def _fields(contracts: Contracts) -> tuple[str, ...]:
    """Every field an entry may have: the required ones, the expected boxes, ``_OPTIONAL``."""
    boxes = tuple(at.name for at in contracts.profile.response.boxes)
    return (*_keys(contracts), *boxes, *_OPTIONAL)


def _ratio_names(contracts: Contracts) -> tuple[str, ...]:
    """What a ratio is called in a cases file written for another model on the path: the ratio
    field of every packaged profile (``ratio``), read from their data, never spelled here."""
    return tuple(sorted(set(_packaged_ratio_names()) - set(_fields(contracts))))


@functools.cache
def _packaged_ratio_names() -> tuple[str, ...]:
    names: set[str] = set()
    for folder in packaged_models().values():
        try:
            shape = json.loads((folder / PROFILE_FILE).read_text(encoding="utf-8"))["shape"]
            names.add(Pointer.parse(shape["ratio"]["field"]).name)
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return tuple(sorted(names))


class CasesFileError(ValueError):
    """The cases file is missing, not JSON, or an entry is malformed; the message says where."""


@dataclass(frozen=True)
class LiveCase:
    """One image the live run sends, the ratio it asks for, and what it expects back."""

    name: str
    image_url: str
    ratio: str | None  # None: the model has no ratio parameter
    expect: Expect
    extra: Mapping[str, Any] = field(default_factory=dict)
    model: str = ""  # empty: the profile's model

    @property
    def slug(self) -> str:
        """The name as used in test ids and fixture file names (``[a-z0-9-]``)."""
        return _slug(self.name)

    def body(self, contracts: Contracts) -> dict[str, Any]:
        """The request body: the documented request with this image and ratio (no ratio for a
        model without one)."""
        fields, body = contracts.profile.request, dict[str, Any]()
        fields.model.put(body, self.model or contracts.profile.model)
        fields.image_url.put(body, self.image_url)
        if self.ratio is not None:
            fields.ratio.put(body, self.ratio)
        return body

    def expected_box(self, name: str) -> geometry.Box | None:
        """A box (by its field name) as the cases file expects it, when it gives one."""
        box = self.extra.get(name)
        return cast(geometry.Box, tuple(box)) if box is not None else None

    @property
    def image_size(self) -> tuple[int, int] | None:
        """``[width, height]`` of the image when the cases file gives it (edge observations)."""
        size = self.extra.get("image_size")
        return (size[0], size[1]) if size is not None else None


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _where(path: Path, index: int, entry: Any) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    named = f" ({name!r})" if isinstance(name, str) else ""
    return f"{path}: entry {index}{named}"


def _check_entry(entry: Any, where: str, contracts: Contracts) -> LiveCase:
    if not isinstance(entry, dict):
        raise CasesFileError(f"{where}: is {type(entry).__name__}; make it a JSON object")
    profile = contracts.profile
    if profile.ratio is None:  # a ratio the model has not: named before any other field
        for named in _ratio_names(contracts):
            if named in entry:
                raise CasesFileError(
                    f"{where}: field {named!r} is {json.dumps(entry[named])}, but "
                    f"{profile.model} has no ratio parameter (its endpoint.json /shape/ratio "
                    f"is null); remove the field"
                )
    # Before the required fields: a misspelled one is named as such, not only as missing.
    unknown = unknown_fields(entry, _fields(contracts), hint="free text goes in 'note'")
    if unknown is not None:
        raise CasesFileError(f"{where}: {unknown}")
    required = _keys(contracts)
    url_key, ratio_key = profile.request.image_url.name, _ratio_key(contracts)
    for key in required:
        if key not in entry:
            raise CasesFileError(
                f"{where}: field {key!r} is missing; every entry needs {list(required)}"
            )
    name = entry["name"]
    if not isinstance(name, str) or not _slug(name):
        raise CasesFileError(
            f"{where}: field 'name' is {json.dumps(name)}; give a string with a letter or digit"
        )
    url = entry[url_key]
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
        host = parts.hostname if parts is not None else None
    except ValueError:  # such as an unclosed IPv6 bracket
        parts, host = None, None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not host:
        raise CasesFileError(
            f"{where}: field {url_key!r} is {json.dumps(url)}; give the public http(s) URL of "
            f"the image (local paths are not supported by the endpoint)"
        )
    if not contracts.accepts_image_url(url):
        raise CasesFileError(
            f"{where}: field {url_key!r} is {json.dumps(url)}, which the request contract "
            f"refuses (no whitespace, a port 0..65535); give a well-formed http(s) URL"
        )
    if ratio_key is not None and entry[ratio_key] not in contracts.ratios:
        raise CasesFileError(
            f"{where}: field {ratio_key!r} is {json.dumps(entry[ratio_key])}; "
            f"use one of {list(contracts.ratios)}"
        )
    if entry["expect"] not in EXPECTS:
        raise CasesFileError(
            f"{where}: field 'expect' is {json.dumps(entry['expect'])}; use one of {list(EXPECTS)}"
        )
    for box_name in (at.name for at in contracts.profile.response.boxes):
        if box_name in entry and not geometry.is_box(entry[box_name]):
            raise CasesFileError(
                f"{where}: field {box_name!r} is {json.dumps(entry[box_name])}; give "
                f"[x1, y1, x2, y2], 4 non-negative integers with x1 < x2 and y1 < y2"
            )
    size = entry.get("image_size")
    if size is not None and not (
        isinstance(size, list) and len(size) == 2 and all(type(v) is int and v > 0 for v in size)
    ):
        raise CasesFileError(
            f"{where}: field 'image_size' is {json.dumps(size)}; give [width, height] in pixels"
        )
    if not isinstance(entry.get("note", ""), str):
        raise CasesFileError(f"{where}: field 'note' is {json.dumps(entry['note'])}; give a string")
    return LiveCase(
        name=name,
        image_url=url,
        ratio=None if ratio_key is None else entry[ratio_key],
        expect=entry["expect"],
        extra={k: v for k, v in entry.items() if k not in required},
        model=contracts.profile.model,
    )


def _entries(path: Path, keys: Sequence[str]) -> list[Any]:
    """The entries of the cases file ``path``: a non-empty JSON list, else ``CasesFileError``."""
    if path.is_dir():
        raise CasesFileError(f"{path}: is a directory; give the cases file (a JSON list)")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CasesFileError(
            f"{path}: cannot read the cases file ({exc.strerror or type(exc).__name__}); "
            f"check the path (a dangling link?) and its permissions"
        ) from None
    data = read_json_file(path, raw, CasesFileError)
    if not isinstance(data, list) or not data:
        raise CasesFileError(
            f"{path}: give a non-empty JSON list of cases "
            f"({list(keys)}); found {type(data).__name__}" + (" (empty)" if data == [] else "")
        )
    return data


def _model_of(entry: Any, where: str, models: Sequence[str], *, required: bool) -> str | None:
    """The model an entry names (field ``model``); ``CasesFileError`` when it names none of
    ``models`` (or names none where ``required``)."""
    if not isinstance(entry, dict):
        raise CasesFileError(f"{where}: is {type(entry).__name__}; make it a JSON object")
    if MODEL_FIELD not in entry and not required:
        return None
    model = entry.get(MODEL_FIELD)
    if model not in models:
        several = "in a run of several models every entry names its model: "
        raise CasesFileError(
            f"{where}: field {MODEL_FIELD!r} is {json.dumps(model)}; "
            + (several if required else "")
            + f"give one of {list(models)}"
            + ("" if required else " (the model of this run), or drop the field")
        )
    return str(model)


def _without_model(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key != MODEL_FIELD}


def _add(
    cases: list[LiveCase], seen: dict[str, int], case: LiveCase, index: int, where: str
) -> None:
    if case.slug in seen:
        raise CasesFileError(
            f"{where}: field 'name' gives the id {case.slug!r} that entry {seen[case.slug]} "
            f"already uses; names must differ in their letters and digits"
        )
    seen[case.slug] = index
    cases.append(case)


def load_cases(path: Path, contracts: Contracts) -> tuple[LiveCase, ...]:
    """The cases of ``path``; ``CasesFileError`` names the entry and the field on any problem.
    An entry may name its model (``model``): this run's, or it is an error."""
    cases: list[LiveCase] = []
    seen: dict[str, int] = {}
    model = contracts.profile.model
    for index, entry in enumerate(_entries(path, _keys(contracts))):
        where = _where(path, index, entry)
        if isinstance(entry, dict):
            _model_of(entry, where, [model], required=False)
        own = _without_model(entry) if isinstance(entry, dict) else entry
        _add(cases, seen, _check_entry(own, where, contracts), index, where)
    return tuple(cases)


def load_cases_of_models(
    path: Path, chosen: Sequence[Contracts]
) -> dict[str, tuple[LiveCase, ...]]:
    """The cases of a run of several models, by model: every entry names its model (``model``,
    one of ``chosen``'s) and is checked against that model's profile; every model needs an
    entry. ``CasesFileError`` names the entry, the field and the fix."""
    by_model = {contracts.profile.model: contracts for contracts in chosen}
    cases: dict[str, list[LiveCase]] = {model: [] for model in by_model}
    seen: dict[str, dict[str, int]] = {model: {} for model in by_model}
    keys = ("name", MODEL_FIELD, "expect", "the image URL (and ratio) each model's profile names")
    for index, entry in enumerate(_entries(path, keys)):
        where = _where(path, index, entry)
        model = _model_of(entry, where, list(by_model), required=True)
        assert model is not None  # required: named or raised
        case = _check_entry(_without_model(entry), where, by_model[model])
        _add(cases[model], seen[model], case, index, where)
    for model, found in cases.items():
        if not found:
            raise CasesFileError(
                f"{path}: no entry names model {model!r}; every model of the run needs a case: "
                f'add one with "{MODEL_FIELD}": "{model}", or drop that model from the run'
            )
    return {model: tuple(found) for model, found in cases.items()}


_RESULTS = {"check_passed": "pass", "check_failed": "fail"}  # a fixture's expect.result


def default_cases(contracts: Contracts) -> tuple[LiveCase, ...]:
    """The cases of a run given no cases file: the packaged ``live-cases.json`` for the model it
    was written for (the packaged contracts' model, emo-detect-v1); for another model, one case
    per documented fixture of its own (``fixture_dir``) that shows a check's result: its image,
    its ratio (where the model has one) and the result the docs show. ``CasesFileError`` when
    the model has neither (give ``--live-cases``)."""
    packaged = json.loads((CONTRACT_DIR / PROFILE_FILE).read_text(encoding="utf-8"))["model"]
    if contracts.profile.model == packaged:
        return load_cases(DEFAULT_CASES_FILE, contracts)
    folder = fixture_dir(contracts)
    fields, ratio = contracts.profile.request, contracts.profile.ratio
    cases: list[LiveCase] = []
    for fixture in load_fixtures(folder, contracts) if folder.is_dir() else ():
        result = (fixture.expect or {}).get("result")
        body = fixture.request.body
        url = fields.image_url.get(body)
        if fixture.provenance.get("kind") != "documented" or result not in _RESULTS:
            continue
        if not isinstance(url, str):
            continue
        asked = None if ratio is None else ratio.field.get(body)
        cases.append(
            LiveCase(
                name=fixture.name,
                image_url=url,
                ratio=asked if isinstance(asked, str) else None,
                expect=cast(Expect, _RESULTS[result]),
                extra={"note": f"the documented fixture {folder / fixture.name}.json"},
                model=contracts.profile.model,
            )
        )
    if not cases:
        raise CasesFileError(
            f"{contracts.profile.model}: no packaged live cases and no documented fixture "
            f"showing a check's result in {folder}; give --live-cases FILE (a JSON list of "
            f"{list(_keys(contracts))})"
        )
    return tuple(cases)
