"""A contract-faithful fake of the endpoint: a pure function from request to response.

It knows no transport. respx mounts it for offline runs and the stub server (``server.py``) serves
it over real HTTP, so both behave the same. It answers rule by rule as the contracts say: which
image URL is acceptable is the request contract's ``image_url`` pattern, every code and message
comes from the endpoint profile's ``rejections`` (checked against ``errors.json``), the fields of
its answers from the profile's pointers. Where the docs allow several readings it plays the ones
its ``readings`` name (``questions.json``: each reading's ``play`` says what it changes, so a new
reading needs no code here), each question's ``double_default`` otherwise. ``docs/double.md`` is
its reference page.

Images are judged by their names alone: the documented example URLs answer their documented
boxes, a URL whose file name (or host) is in the names table ``image-names.json`` gets that
outcome, and any other URL passes with a size and face box drawn from its SHA-256. The names
table is a data file of this package, not a field of the contracts: it is the double's own
vocabulary (what a team names its test images), no fact about the endpoint, and a sibling's
contracts folder need not carry it; every code and rule it names is checked against the
contracts in use, and a documented portrait code it does not list is still named by its code.

Each model is answered in its own shape, read from its profile (``/shape``): the verdict where
it has one (none: its pass is its boxes), the boxes it has (none for some), the ratio where the
request has one, a failed check in the played failure kind's own fields (its code and message
pointers; an error body where that kind is a 4xx), and a rule its profile does not state at the
status face-detect documents for that rule with the model's own first documented code there.

How a name reaches a sibling's failure (a decision about data): the table names a *reason*, in
face-detect's portrait codes (the fullest documented list of the shared portrait check). A model
whose error table has those codes answers the code itself. A model whose docs show no codes
(liveportrait: a message only; emoji: one example code) answers with a failure its docs show,
taken from its documented fixtures (``fixtures/<model>/``: the documented answer, with its
provenance), never with words borrowed from another model: ``image-names.json`` ``/models``
says, per model, which documented fixture answers which reason (``otherwise``: every other
one); a model not listed answers with its first documented failure. So a sibling needs no code
and no second table of names, a name fails the same way in every model, and the text it answers
is always one its own docs give.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
import re
import threading
import types
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from ..contracts.fixtures import FixtureFileError, fixture_dir, load_fixtures
from ..contracts.loader import QUESTIONS_FILE, ContractFileError, Contracts, load_contracts
from ..contracts.outcome import Outcome, classify
from ..contracts.profile import AnswerKind, Rejection
from ..contracts.questions import (
    AdmitUrl,
    AnswerEdit,
    Refusal,
    answer_pointer,
    default_readings,
    request_pointer,
)
from ..core import ecma, geometry
from ..core.interaction import Interaction, parse_json
from ..core.pointers import Pointer
from ..core.violations import ABSENT

__all__ = [
    "NAMES_FILE",
    "CatalogImages",
    "FaceDetectFake",
    "FakeRequest",
    "FakeResponse",
    "Image",
    "ImageSource",
    "ImageUnavailable",
    "NamedImage",
    "documented_failure",
    "documented_image_urls",
    "failure_reason",
    "image_names",
    "named_failure",
    "named_reason",
]

NAMES_FILE = Path(__file__).with_name("image-names.json")


@dataclass(frozen=True)
class FakeRequest:
    """The parts of an HTTP request the endpoint looks at. Header names in any case."""

    method: str
    headers: Mapping[str, str] = field(repr=False)  # holds the Authorization header: never shown
    body: bytes = b""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass(frozen=True)
class FakeResponse:
    """Status, headers and JSON body bytes, ready for any transport."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Image:
    """What the portrait check sees of an image.

    ``reason`` names a documented portrait failure (``InvalidFile.NoHuman`` ...) when the picture
    itself fails the check; ``face`` is the face box when it passes.
    """

    width: int
    height: int
    format: str
    face: geometry.Box | None = None
    reason: str | None = None
    crops: Mapping[str, geometry.Box] = field(default_factory=dict)  # documented, by ratio


class ImageUnavailable(Exception):
    """The image could not be had: one of the profile's rejections, with its filled-in value."""

    def __init__(self, rule: str, value: object | None = None) -> None:
        super().__init__(rule if value is None else f"{rule}: {value}")
        self.rule = rule
        self.value = value


class ImageSource(Protocol):
    """Where the fake gets the image behind the image URL."""

    def fetch(self, url: str) -> Image: ...


# The path of a URL whose authority Python cannot parse (the contract admits any bracketed host).
_AFTER_AUTHORITY = re.compile(r"^[^:/?#]+://[^/?#]*([^?#]*)")


@dataclass(frozen=True)
class NamedImage:
    """One row of the names table: an image name and the outcome it gives.

    ``code`` is a portrait reason (a failed check); ``rule`` a rule of the profile's rejections
    (a request failure, its placeholder filled with the host when ``value`` is ``"host"``).
    ``where`` says what is matched: the file name (``"file"``) or the host (``"host"``).
    """

    name: str
    code: str | None = None
    rule: str | None = None
    where: str = "file"
    value: str | None = None


def _key(name: str) -> str:
    return name.replace("-", "").lower()


@functools.cache
def _names_data() -> Mapping[str, Any]:
    data: Mapping[str, Any] = json.loads(NAMES_FILE.read_text(encoding="utf-8"))
    return data


def _names_table() -> tuple[Mapping[str, Any], ...]:
    return tuple(_names_data()["names"])


def failure_reason(rule: str, contracts: Contracts) -> str:
    """The reason a failed check of the profile's rule ``rule`` carries (``no-face``): the
    rule's code where the profile states the rule, else the rule's own name (a sibling then
    answers it with a failure its docs show, ``documented_failure``)."""
    rejection = contracts.profile.rejections.get(rule)
    return rule if rejection is None else rejection.code


def documented_image_urls(contracts: Contracts) -> tuple[str, ...]:
    """The image URLs the model's docs use: its documented examples and the requests of its
    documented fixtures. A double answers them as documented in every mode (never downloads
    them), so a live run of the default cases against the stub judges what the docs show."""
    at = contracts.profile.request.image_url
    urls = [example.url for example in contracts.profile.example_images]
    urls += [at.get(i.request.body) for i, _ in _documented(contracts)]
    return tuple(dict.fromkeys(u for u in urls if isinstance(u, str)))


@functools.lru_cache(maxsize=16)
def _documented(contracts: Contracts) -> tuple[tuple[Interaction, Outcome], ...]:
    """The documented fixtures of the contracts' model (``fixture_dir``), each with its outcome;
    none when it has no fixtures folder."""
    try:
        shown = load_fixtures(fixture_dir(contracts), contracts)
    except FixtureFileError:
        return ()
    return tuple((i, classify(i.response, contracts)) for i in shown)


def _failures(contracts: Contracts) -> dict[str, tuple[str | None, str | None]]:
    """The documented failed checks of the contracts' model: fixture name -> (code, message)."""
    return {
        interaction.name: (outcome.code, outcome.message)
        for interaction, outcome in _documented(contracts)
        if outcome.kind == "failed"
    }


@functools.lru_cache(maxsize=64)
def documented_failure(reason: str, contracts: Contracts) -> tuple[str | None, str | None]:
    """The code and message a model without ``reason`` in its error table answers a failed
    check with: those of the documented fixture ``image-names.json`` ``/models/<model>`` names
    for the reason (``otherwise`` for every other), else of its first documented failure (the
    fixture folder of its contracts, ``fixture_dir``). ``ContractFileError`` names the model,
    the reason and what to add when the model documents no such failure (or none at all)."""
    model = contracts.profile.model
    chosen: Mapping[str, Any] = _names_data().get("models", {}).get(model, {})
    folder = fixture_dir(contracts)
    failures = _failures(contracts)
    wanted = chosen.get("reasons", {}).get(reason, chosen.get("otherwise"))
    if reason in failures:  # the name of a documented failure is answered with it
        wanted = reason
    if wanted is None and failures:
        wanted = min(failures)
    if wanted not in failures:
        missing = "no documented failed check" + ("" if wanted is None else f" {wanted!r}")
        raise ContractFileError(
            f"{NAMES_FILE}: at /models/{model}: {missing} in {folder} to answer the reason "
            f"{reason!r} with ({model}'s error table lacks that reason); add the documented "
            f"failure there (a fixture whose response is a failed check) or name one of "
            f"{sorted(failures)}"
        )
    return failures[wanted]


def _answerable(row: NamedImage, contracts: Contracts) -> NamedImage:
    """``row``, when the model can answer the failure it names: a code of its own error table,
    or a reason answered with a failure its docs show. ``ContractFileError`` naming the model,
    the image name and the fix otherwise (a model whose docs show no failed check)."""
    if row.code is None or row.code in contracts.portrait_codes or _failures(contracts):
        return row
    model = contracts.profile.model
    raise ContractFileError(
        f"{NAMES_FILE}: the image name {row.name!r} asks {model} for a failed check "
        f"({row.code!r}), but the error table of {contracts.directory} lacks that code and "
        f"{model}'s docs show no failed check to answer it with; add the documented failure to "
        f"{fixture_dir(contracts)} (a fixture whose response is a failed check), or name the "
        f"image otherwise for {model} (any other name passes)"
    )


@functools.lru_cache(maxsize=16)
def image_names(contracts: Contracts) -> tuple[NamedImage, ...]:
    """The names table (``image-names.json``) checked against ``contracts``, then a name for
    every documented portrait code it does not list: the code after its category, lower-cased
    (``InvalidFile.Pose.Head`` by ``pose.head``). ``ValueError`` names the file, row and field
    of a code or rule the contracts do not have."""
    rows: list[NamedImage] = []
    own = contracts.profile.rejections
    reference = load_contracts()  # the double's own vocabulary: face-detect's rules and codes
    vocabulary = set(own) | set(reference.profile.rejections)
    reasons = set(reference.portrait_codes)
    for index, entry in enumerate(_names_table()):
        row = NamedImage(
            entry["name"], entry.get("code"), entry.get("rule"), entry.get("in", "file"),
            entry.get("value"),
        )  # fmt: skip
        if row.code is not None and row.code not in contracts.portrait_codes:
            if row.code not in reasons:
                raise ContractFileError(
                    f"{NAMES_FILE}: at /names/{index}/code: {row.code!r} is no portrait code "
                    f"of the error table of {contracts.directory}; use one of "
                    f"{sorted(contracts.portrait_codes | reasons)}"
                )
            if _failures(contracts) or contracts.profile.model in _names_data().get("models", {}):
                documented_failure(row.code, contracts)  # a reason its table lacks: its docs'
            # words; a model whose docs show no failure is told when the name is used (_answerable)
        if row.rule is not None and row.rule not in vocabulary:
            raise ContractFileError(
                f"{NAMES_FILE}: at /names/{index}/rule: no rule {row.rule!r} in endpoint.json's "
                f"rejections; use one of {sorted(vocabulary)}"
            )
        if (row.code is None) == (row.rule is None):
            raise ContractFileError(
                f"{NAMES_FILE}: at /names/{index}: give exactly one of code and rule"
            )
        rows.append(row)
    listed = {row.code for row in rows}
    for code in sorted(contracts.portrait_codes - listed):
        rows.append(NamedImage(code.split(".", 1)[-1].lower(), code=code))
    return tuple(rows)


def _host_and_path(url: str, unparsed: str | None = None) -> tuple[str, str]:
    """Host and path; for a URL Python cannot parse, no host and the path after the authority
    (``unparsed``, else the whole URL, when not even that is found)."""
    try:
        parts = urlsplit(url)
        return (parts.hostname or "", parts.path)
    except ValueError:  # a host Python cannot parse: the path still ends at a query or fragment
        match = _AFTER_AUTHORITY.match(url)
        return ("", match.group(1) if match else url if unparsed is None else unparsed)


def named_failure(url: str, contracts: Contracts) -> NamedImage | None:
    """The row of the names table a URL names, if any: a host containing a host name, else a
    file name (its extension after the last dot apart, in any case, dashes ignored).

    Both image sources use it (the catalog offline, the stub server's downloader over HTTP), so
    a test provokes the same documented outcome in every mode by naming its image after it. A
    name asking for a failed check the model cannot answer in its own words is a
    ``ContractFileError`` naming the model, the name and the fix (``_answerable``).
    """
    host, path = _host_and_path(url)
    names = image_names(contracts)
    for row in names:
        if row.where == "host" and host and _key(row.name) in _key(host):
            return _answerable(row, contracts)
    stem = _key(path.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    found = next((row for row in names if row.where == "file" and _key(row.name) == stem), None)
    return None if found is None else _answerable(found, contracts)


def named_reason(url: str, contracts: Contracts) -> str | None:
    """The portrait reason a URL's file name names (``.../no-human.png`` -> NoHuman), if any."""
    row = named_failure(url, contracts)
    return row.code if row is not None else None


@dataclass
class CatalogImages:
    """Offline images: the documented examples, named scenarios, and a deterministic draw.

    A documented example URL answers its documented boxes; a URL the names table names
    (``.../no-human.png`` -> ``InvalidFile.NoHuman``, ``unreachable`` in the host -> a refused
    connection) gets that outcome; any other URL passes, with a size and face box derived from
    its hash (its format from the path's extension), so the same URL always gets the same
    answer and a failure is only ever one somebody named. The image URL of each documented
    failed check of the model (its fixtures, not named by the table) fails with that documented
    failure, so its docs' examples replay. Sizes are drawn from the model's shortest side up
    (the double's own where the profile states none) within its documented aspect ratio.
    """

    contracts: Contracts = field(default_factory=load_contracts)
    images: dict[str, Image] = field(default_factory=dict)

    def __post_init__(self) -> None:
        contracts = self.contracts
        profile = contracts.profile
        default = profile.image_formats[0]
        side = max(_least_side(contracts), 1024)
        for interaction, outcome in _documented(contracts):  # its documented failures fail
            url = profile.request.image_url.get(interaction.request.body)
            named = isinstance(url, str) and named_failure(url, contracts) is not None
            if outcome.kind == "failed" and isinstance(url, str) and not named:
                _, path = _host_and_path(url, unparsed="")
                name = path.rsplit("/", 1)[-1]
                fmt = name.rsplit(".", 1)[-1].lower() if "." in name else default
                self.images.setdefault(url, Image(side, side, fmt, reason=interaction.name))
        for example in profile.example_images:
            self.images.setdefault(
                example.url,
                Image(
                    example.width,
                    example.height,
                    example.format,
                    face=example.face_box,
                    crops=example.crop_boxes,
                ),
            )

    def fetch(self, url: str) -> Image:
        if url in self.images:
            return self.images[url]
        host, path = _host_and_path(url, unparsed="")  # no path: the default format
        named = named_failure(url, self.contracts)
        if named is not None and named.rule is not None:
            raise ImageUnavailable(named.rule, host if named.value == "host" else None)
        filename = path.rsplit("/", 1)[-1]
        # The file name's extension is the format (the first documented one without one); an
        # unsupported one is answered as such.
        default = self.contracts.profile.image_formats[0]
        fmt = filename.rsplit(".", 1)[-1].lower() if "." in filename else default
        if named is not None and named.code is not None:
            return Image(1024, 1024, fmt, reason=named.code)
        digest = hashlib.sha256(url.encode("utf-8", "surrogatepass")).digest()
        least = _least_side(self.contracts)  # sizes from the shortest side admitted up
        width, height = least + digest[0] * 12, least + digest[1] * 12
        widest = self.contracts.profile.max_aspect_ratio  # within the documented aspect ratio
        if widest is not None:
            height = max(min(height, int(width * widest)), math.ceil(width / widest))
        # A face of a fifth to a third of the shorter side: every ratio's crop box fits around it.
        side = min(width, height) // (3 + digest[4] % 3)
        x1 = (width - side) * digest[5] // 255
        y1 = (height - side) * digest[6] // 255
        return Image(width, height, fmt, face=(x1, y1, x1 + side, y1 + side))


_DRAWN_LEAST_SIDE = 512  # the double's own: a model that states no minimum side gets this one


def _least_side(contracts: Contracts) -> int:
    """The shortest side the profile admits, or the double's own for a model stating none."""
    profile = contracts.profile
    return profile.min_side_px if profile.states("min_side_px") else _DRAWN_LEAST_SIDE


def _constants(
    schema: Mapping[str, Any], at: tuple[str, ...] = ()
) -> Iterable[tuple[Pointer, Any]]:
    """The fields of a contract (its ``properties``, in this file) whose value is a ``const``:
    an answer carries them as the contract says (liveportrait's pass: ``message`` ``""``)."""
    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, Mapping):
            continue
        if "const" in sub:
            yield Pointer.of((*at, name)), sub["const"]
        yield from _constants(sub, (*at, name))


def _remove(pointer: Pointer, body: dict[str, Any]) -> None:
    parent = pointer.parent.get(body)
    if isinstance(parent, dict):
        parent.pop(pointer.name, None)


def _unknown_field(value: Any, schema: Mapping[str, Any], path: tuple[str, ...]) -> str | None:
    """The dotted path of the first field of ``value`` its schema's ``properties`` do not list."""
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not isinstance(value, dict):
        return None
    for name, item in value.items():
        if name not in properties:
            return ".".join((*path, name))
        found = _unknown_field(item, properties[name], (*path, name))
        if found is not None:
            return found
    return None


class FaceDetectFake:
    """The endpoint's documented behaviour as ``FakeRequest -> FakeResponse``.

    ``api_keys`` are the keys it accepts. ``readings`` picks, per open question of
    ``questions.json``, the reading it plays (``{"failure-details": "empty"}``); the others play
    their ``double_default``. ``failure_shape`` is a shorthand for the reading of the failed-check
    answer kind of that shape (A: 200 with the verdict false, billed; B: 400 with the reason's
    code, not billed). ``billed`` counts the images it would have charged for.

    Its answers take the shape of the contracts' model (module docstring): the same fake
    answers emo-detect-v1, liveportrait-detect or emoji-detect-v1 by the contracts it is given.
    """

    def __init__(
        self,
        *,
        api_keys: Iterable[str],
        images: ImageSource | None = None,
        failure_shape: str | None = None,
        contracts: Contracts | None = None,
        request_ids: Callable[[], str] | None = None,
        readings: Mapping[str, str] | None = None,
    ) -> None:
        self.contracts = contracts or load_contracts()
        # The names table checked against these contracts now, not at the first request: a row
        # they cannot answer is a ContractFileError when the fake is made.
        image_names(self.contracts)
        profile, questions = self.contracts.profile, self.contracts.questions
        chosen = default_readings(questions)
        for question, reading in (readings or {}).items():
            if question not in questions:
                raise ValueError(
                    f"readings: no open question {question!r} (reading {reading!r}) in "
                    f"{QUESTIONS_FILE}; questions: {sorted(questions)}"
                )
            valid = [r.id for r in questions[question].playable]
            if reading not in valid:
                raise ValueError(
                    f"readings: question {question!r} has no reading {reading!r}; readings: {valid}"
                )
            chosen[question] = reading
        failed = [k for k in profile.answers if k.outcome == "failed"]
        shapes = {k.shape: k for k in failed if k.shape}
        shorthand: AnswerKind | None = None
        if failure_shape is not None:
            if failure_shape not in shapes:
                raise ValueError(
                    f"failure_shape must be one of {sorted(shapes)} (the profile's answers), "
                    f"not {failure_shape!r}"
                )
            shorthand = shapes[failure_shape]
            shape_question, shape_reading = shorthand.question, shorthand.reading
            if shape_question is not None and shape_reading is not None:
                asked = (readings or {}).get(shape_question)
                if asked is not None and asked != shape_reading:
                    raise ValueError(
                        f"failure_shape={failure_shape!r} is reading {shape_reading!r} of "
                        f"question {shape_question!r}, but readings asks for {asked!r}: "
                        f"give one of them"
                    )
                chosen[shape_question] = shape_reading
        self.readings: Mapping[str, str] = types.MappingProxyType(chosen)
        self._play(chosen, failed[0] if failed else None)
        if shorthand is not None and shorthand.question is None:  # a shape no question names
            self._failure, self.failure_shape = shorthand, failure_shape
        self._keys = frozenset(api_keys)
        self.images: ImageSource = images or CatalogImages(self.contracts)
        self._request_ids = request_ids or (lambda: str(uuid.uuid4()))
        self._lock = threading.Lock()
        self.billed = 0
        self.requests = 0

    def _play(self, chosen: Mapping[str, str], fallback: AnswerKind | None) -> None:
        """What the chosen readings' plays do, gathered once."""
        profile, questions = self.contracts.profile, self.contracts.questions
        by_name = {kind.name: kind for kind in profile.answers}
        failure: tuple[str, AnswerKind] | None = None
        self._edits: dict[str, list[AnswerEdit]] = {}
        self._require: list[tuple[Pointer, Refusal]] = []
        self._refuse: list[tuple[Pointer, str, Refusal]] = []
        self._refuse_headers: list[tuple[str, Refusal]] = []
        self._admit: list[AdmitUrl] = []
        self._unknown: Refusal | None = None
        self._codes: dict[str, str] = {}
        self._add_headers: list[tuple[str, Pointer]] = []
        for question, reading in chosen.items():
            play, named = questions[question].reading(reading).play, f"{question}={reading}"
            if play.failure_answer is not None:
                if failure is not None and failure[1].name != play.failure_answer:
                    raise ValueError(
                        f"readings {failure[0]} and {named} both choose how a failed check is "
                        f"answered; choose one"
                    )
                failure = (named, by_name[play.failure_answer])
            for edit in play.answers:
                for kind in edit.on:
                    self._edits.setdefault(kind, []).append(edit)
            self._require += [(request_pointer(at, profile), r) for at, r in play.require]
            self._refuse += [
                (request_pointer(at, profile), pattern, r) for at, pattern, r in play.refuse
            ]
            self._refuse_headers += list(play.refuse_headers)
            self._admit += list(play.admit_urls)
            self._unknown = play.unknown_fields or self._unknown
            self._codes.update(play.rejections)
            self._add_headers += [(h, answer_pointer(at, profile)) for h, at in play.add_headers]
        played = failure[1] if failure is not None else fallback
        if played is None:
            raise ValueError("the profile has no answer kind for a failed check")
        self._failure = played
        self.failure_shape = played.shape or played.name
        self._kinds = {k.outcome: k.name for k in reversed(profile.answers)}  # first of each

    def __repr__(self) -> str:  # the keys stay out of reprs
        return f"FaceDetectFake(failure_shape={self.failure_shape!r}, keys={len(self._keys)})"

    # -- responses --------------------------------------------------------------------------

    def _respond(
        self,
        status: int,
        body: dict[str, Any],
        headers: Mapping[str, str] = {},
        kind: str | None = None,
    ) -> FakeResponse:
        profile = self.contracts.profile
        fields = profile.response
        fields.request_id.put(body, self._request_ids())
        for edit in self._edits.get(kind or "", ()):
            for at, value in edit.set.items():
                answer_pointer(at, profile).put(body, copy.deepcopy(value))
            for at in edit.remove:
                _remove(answer_pointer(at, profile), body)
            for at, by in edit.offset.items():
                pointer = answer_pointer(at, profile)
                numbers = pointer.get(body)
                if isinstance(numbers, list) and len(numbers) == len(by):
                    pointer.put(body, [n + d for n, d in zip(numbers, by, strict=True)])
        billed = fields.billed_images.get(body)
        if isinstance(billed, int):
            with self._lock:
                self.billed += billed
        added = {}
        for header, pointer in self._add_headers:
            value = pointer.get(body)
            if value is not ABSENT:
                added[header] = str(value)
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        content_type = f"{profile.content_type};charset=UTF-8"
        return FakeResponse(status, {"content-type": content_type, **added, **headers}, data)

    def error(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] = {},
        *,
        kind: str | None = None,
    ) -> FakeResponse:
        """A request-failure body: top-level code, message, request id; no usage."""
        fields = self.contracts.profile.response
        body: dict[str, Any] = {}
        fields.error_code.put(body, code)
        fields.error_message.put(body, message)
        return self._respond(status, body, headers, kind or self._kinds.get("request_error"))

    def reject(
        self, rule: str | Rejection, value: object | None = None, headers: Mapping[str, str] = {}
    ) -> FakeResponse:
        """The documented answer to a broken rule of the profile's ``rejections``, with the
        code the played readings give the rule (``rejections`` of a play, such as the throttle's).
        """
        rejection = rule if isinstance(rule, Rejection) else self._rejection(rule)
        status = next(entry.status for entry in self.contracts.errors_for(code=rejection.code))
        code = self._codes.get(rejection.rule, rejection.code)
        if code == rejection.code:
            return self.error(status, rejection.code, rejection.text(value), headers)
        rows = list(self.contracts.errors_for(code=code))
        row = next((r for r in rows if r.status == status), rows[0])
        message = row.messages[0] if row.messages else (row.stub_message or code)
        return self.error(row.status, code, message, headers)

    def _rejection(self, rule: str) -> Rejection:
        """The profile's rejection ``rule``; for a rule it does not state (a sibling documents
        fewer), the model's own first documented code at the status face-detect documents for
        the rule (the double's reference vocabulary), else at the request contract's
        ``x-rejected-with`` status: a refusal is never an undocumented code."""
        contracts = self.contracts
        stated = contracts.profile.rejections.get(rule)
        if stated is not None:
            return stated
        reference = load_contracts()
        known = reference.profile.rejections.get(rule)
        if known is None:  # neither: a rule of the double's that no profile has
            contracts.profile.rejection(rule)  # KeyError naming the rules
        statuses = (
            [] if known is None else [e.status for e in reference.errors_for(code=known.code)]
        )
        rows = [r for status in statuses[:1] for r in contracts.errors_for(status=status)]
        if not rows:
            fallback = contracts.schemas["request"].get("x-rejected-with", {}).get("status")
            rows = [r for r in contracts.errors if r.status == fallback] or [
                r for r in contracts.errors if r.status < 500 and r.kind != "throttling"
            ]
        row = next((r for r in rows if r.kind == "request"), rows[0])
        message = row.messages[0] if row.messages else (row.stub_message or row.code)
        return Rejection(rule, row.code, message)

    def refuse(self, refusal: Refusal, value: object | None = None) -> FakeResponse:
        """The answer a play's refusal names: a rule of the profile, or an error-table code."""
        if refusal.rejection is not None:
            return self.reject(refusal.rejection, value)
        entry = next(self.contracts.errors_for(code=refusal.code))
        message = entry.messages[0] if entry.messages else (entry.stub_message or entry.code)
        return self.error(entry.status, entry.code, message)

    def _portrait_failure(self, reason: str) -> FakeResponse:
        """A failed check for ``reason`` in the played failure kind's own fields: an error body
        where that kind is a 4xx (shape B), else its verdict (where it has one), code and
        message (where it carries them), billed. A reason the model's error table lacks is
        answered with a failure its docs show (``documented_failure``)."""
        contracts = self.contracts
        entry = next(contracts.errors_for(code=reason), None)
        message: str | None
        if entry is not None:
            code: str | None = reason
            message = entry.messages[0] if entry.messages else (entry.stub_message or reason)
        else:
            code, message = documented_failure(reason, contracts)
        kind, fields = self._failure, contracts.profile.response
        least = kind.status or kind.status_at_least or 200
        if least >= 400 and not code:  # an error body needs a code: the first portrait one
            row = next((e for e in contracts.errors if e.kind == _PORTRAIT), None)
            if row is not None:
                code, message = row.code, (row.messages or (row.stub_message or row.code,))[0]
        if least >= 400 and code:  # an error body (shape B)
            status = kind.status or (entry.status if entry is not None else least)
            return self.error(status, code, message or code, kind=kind.name)
        status = kind.status or 200
        body: dict[str, Any] = {}
        if kind.verdict is not None and contracts.profile.verdict is not None:
            contracts.profile.verdict.put(body, kind.verdict)
        for at, name, value in (
            (kind.code, "reason_code", code),
            (kind.message, "reason_message", message),
        ):
            where = at or (getattr(fields, name) if fields.states(name) else None)
            if where is not None and value is not None:
                where.put(body, value)
        fields.billed_images.put(body, 1)
        return self._respond(status, body, kind=kind.name)

    # -- the endpoint ----------------------------------------------------------------------------

    def authenticate(self, request: FakeRequest) -> FakeResponse | None:
        """The 401 a request without an accepted key gets, or ``None`` when its key is accepted.

        The stub server asks this before it throttles: the documented rate limit is counted on
        authenticated requests, so a request without a key is a 401 whatever the rate.
        """
        authorization = request.header("authorization") or ""
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return self.reject("no-api-key")
        if key.strip() not in self._keys:
            return self.reject("unknown-api-key")
        return None

    def __call__(self, request: FakeRequest) -> FakeResponse:
        with self._lock:
            self.requests += 1
        profile = self.contracts.profile
        if request.method.upper() != profile.method:
            return self.reject("method-not-supported", request.method.upper())
        refused = self.authenticate(request)
        if refused is not None:
            return refused
        for header, refusal in self._refuse_headers:  # whatever the value (async-header)
            if request.header(header) is not None:
                return self.refuse(refusal, header)
        media_type = (request.header("content-type") or "").split(";", 1)[0].strip().lower()
        if media_type != profile.content_type:
            return self.reject("not-json")
        try:
            body = parse_json(request.body)
        except ValueError:  # not UTF-8, not JSON, or nested too deep
            body = None
        if not isinstance(body, dict):
            return self.reject("body-invalid")
        return self._detect(body, request)

    def _detect(self, body: dict[str, Any], request: FakeRequest) -> FakeResponse:
        contracts = self.contracts
        fields = contracts.profile.request
        model = fields.model.get(body)
        if model is ABSENT or model is None or model == "":
            return self.reject("model-missing")
        if not isinstance(model, str):
            return self.reject("field-invalid", ".".join(fields.model.parts))
        if model not in contracts.models:
            return self.reject("model-unknown")
        payload = fields.image_url.parent.get(body)
        if payload is ABSENT or payload is None:
            return self.reject("input-missing")
        if not isinstance(payload, dict):
            return self.reject("field-invalid", ".".join(fields.image_url.parent.parts))
        url = fields.image_url.get(body)
        if not isinstance(url, str) or not url:
            return self.reject("field-invalid", ".".join(fields.image_url.parts))
        stated = contracts.profile.ratio  # None: the request has no ratio (nothing is read)
        if stated is not None:
            parameters = stated.field.parent.get(body)
            if parameters is not ABSENT and not isinstance(parameters, dict):
                return self.reject("field-invalid", ".".join(stated.field.parent.parts))
        for pointer, refusal in self._require:  # ratio-default: required
            if pointer.get(body) is ABSENT:
                return self.refuse(refusal, ".".join(pointer.parts))
        if self._unknown is not None:  # unknown-fields: rejected
            unknown = _unknown_field(body, contracts.schemas["request"], ())
            if unknown is not None:
                return self.refuse(self._unknown, unknown)
        ratio: Any = None
        if stated is not None:
            ratio = stated.field.get(body)
            if ratio is ABSENT and stated.default is None:  # no documented default: required
                return self.reject("ratio-invalid")
            ratio = stated.default if ratio is ABSENT else ratio
            if ratio not in stated.values:
                return self.reject("ratio-invalid")
        for pointer, pattern, refusal in self._refuse:  # image-url: http-only
            value = pointer.get(body)
            if isinstance(value, str) and ecma.search(pattern, value):
                return self.refuse(refusal, ".".join(pointer.parts))
        admitted = False
        for admit in self._admit:  # oss-url: resolved with its header
            if ecma.search(admit.matches, url):
                if (request.header(admit.header) or "").strip() != admit.value:
                    return self.refuse(admit.otherwise)
                admitted = True
                break
        if not admitted and not contracts.accepts_image_url(url):
            return self.reject("url-invalid")
        try:
            image = self.images.fetch(url)
        except ImageUnavailable as unavailable:
            return self.reject(unavailable.rule, unavailable.value)
        return self._check(image, ratio)

    def _check(self, image: Image, ratio_text: str | None) -> FakeResponse:
        """The portrait check: format, size, a named reason, a face; then the pass in the
        model's shape (its verdict, the boxes it has, the constants its pass contract gives)."""
        contracts = self.contracts
        profile = contracts.profile
        if image.format.lower() not in profile.image_formats:
            return self.reject("format-unsupported")
        sides = (image.width, image.height)
        least = profile.min_side_px if profile.states("min_side_px") else 1
        if min(sides) < least or max(sides) > profile.max_side_px:
            return self._portrait_failure(failure_reason("image-resolution", contracts))
        if image.reason is not None:
            return self._portrait_failure(image.reason)
        if image.face is None:
            return self._portrait_failure(failure_reason("no-face", contracts))
        boxes, found = profile.boxes, {_FACE: image.face, _CROP: image.face}
        if ratio_text is not None and _CROP in boxes:  # no ratio: the crop is the face's own
            ratio = geometry.parse_ratio(ratio_text)
            crop = image.crops.get(ratio_text) or geometry.ext_box_for(image.face, sides, ratio)
            if crop is None:
                return self._portrait_failure(failure_reason("no-crop-fits", contracts))
            found[_CROP] = crop
        body = dict[str, Any]()
        if profile.verdict is not None:
            profile.verdict.put(body, True)
        humanoid = profile.response.humanoid_or_none
        if humanoid is not None and _documented_pass_has(contracts, humanoid):
            humanoid.put(body, True)  # where the model's documented pass returns it
        for role, at in boxes.items():
            at.put(body, list(found[role]))
        passed = self._kinds.get("passed")
        kind = profile.answer(passed) if passed is not None else None
        if kind is not None:
            for at, value in _pass_constants(contracts, kind.schema):
                if not at.present(body):
                    at.put(body, copy.deepcopy(value))
        profile.response.billed_images.put(body, 1)
        return self._respond(200, body, kind=passed)


_FACE, _CROP = "face_box", "crop_box"  # the box roles endpoint.schema.json names
_PORTRAIT = "portrait"  # the error kind of a failed check's codes (errors.schema.json)


def _documented_pass_has(contracts: Contracts, at: Pointer) -> bool:
    """Whether the model's first documented pass carries the field at ``at``."""
    passes = (i.response.body for i, outcome in _documented(contracts) if outcome.passed)
    first = next(passes, ABSENT)
    return first is not ABSENT and at.present(first)


@functools.lru_cache(maxsize=16)
def _pass_constants(contracts: Contracts, schema_file: str) -> tuple[tuple[Pointer, Any], ...]:
    """The ``const`` fields of the pass contract ``schema_file`` that the model's documented pass
    carries (liveportrait's ``message`` ``""``; not emoji's empty code, which its docs show on no
    pass: a reading plays it). None for a model with no documented pass."""
    passes = [i.response.body for i, outcome in _documented(contracts) if outcome.passed]
    for schema in contracts.schemas.values():
        if passes and str(schema.get("$id", "")).endswith("/" + schema_file):
            return tuple((at, v) for at, v in _constants(schema) if at.present(passes[0]))
    return ()
