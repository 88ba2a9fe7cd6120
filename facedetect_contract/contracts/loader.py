"""The contract files of ``contracts/face-detect/``: loaded once, checked, turned into validators.

The contracts are data: the JSON Schemas of the messages, the error table, the endpoint profile
(``profile.py``) and the open questions (``questions.py``). This module is the only place that
knows where they live and how they refer to each other; it checks those references when it loads
them, so a broken edit is named with its file, field and fix before anything runs.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ..core.ecma import EcmaValidator
from ..core.memo import Memo
from ..core.pointers import Pointer, shown
from ..core.redaction import Secret
from ..core.violations import ABSENT
from .profile import (
    CONTRACT_DIR,
    PROFILE_FILE,
    AnswerKind,
    EndpointProfile,
    NotInProfile,
    parse_profile,
)
from .questions import OpenQuestion, check_plays, parse_questions

try:  # optional: the same verdicts as jsonschema, sooner (see Contracts.is_valid)
    import jsonschema_rs
except ImportError:  # pragma: no cover - depends on the environment
    jsonschema_rs = None  # type: ignore[assignment]  # absent: jsonschema alone answers

__all__ = [
    "CONTRACT_DIR",
    "SCHEMA_FILES",
    "ContractFileError",
    "Contracts",
    "ErrorEntry",
    "api_vocabulary",
    "chosen_contracts",
    "key_from_env",
    "load_contracts",
    "packaged_models",
]


# Short name -> file. The short names are what the rest of the package asks for.
SCHEMA_FILES: Mapping[str, str] = {
    "common": "common.schema.json",
    "request": "request.schema.json",
    "request_headers": "request-headers.schema.json",
    "check_passed": "response-check-passed.schema.json",
    "check_failed": "response-check-failed.schema.json",
    "error_body": "error.schema.json",
    "interaction": "interaction.schema.json",
    "error_table": "errors.schema.json",
    "profile": "endpoint.schema.json",
    "questions": "questions.schema.json",
}
ERROR_TABLE_FILE = "errors.json"
QUESTIONS_FILE = "questions.json"
_SHAPE_RATIO_NULL = "ratio parameter (endpoint.json /shape/ratio is null)"
# The schemas of data files, as opposed to the schemas of the endpoint's messages.
_META_SCHEMAS = frozenset({"interaction", "error_table", "profile", "questions"})


class ContractFileError(ValueError):
    """A contract file is missing, not JSON or not a valid schema; the message says the fix."""


@dataclass(frozen=True)
class ErrorEntry:
    """One row of ``errors.json``."""

    status: int
    code: str
    messages: tuple[str, ...]
    kind: str
    retryable: bool
    source: str
    stub_message: str | None = None


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractFileError(
            f"{path}: contract file is missing; restore it from git (git checkout -- {path.name})"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContractFileError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); fix the syntax there"
        ) from None


def _check_schema(schema: Any, path: Path) -> None:
    """``schema`` is valid JSON Schema 2020-12, or a ContractFileError naming the keyword.

    jsonschema-rs checks it against the meta-schema in about 0.1 ms (jsonschema takes about 10 ms
    a schema, a tenth of ``pytest --live``'s start-up for all of them); a schema it refuses, or
    every schema without it, goes to jsonschema, the reference, for its message (rs's message if
    the two disagree)."""
    fast: Any = None
    if jsonschema_rs is not None:
        try:
            jsonschema_rs.meta.validate(schema)
        except jsonschema_rs.ValidationError as exc:
            fast = exc
        else:
            return
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where, message = shown(exc.absolute_path), exc.message
    else:
        if fast is None:
            return
        where, message = shown(fast.instance_path), fast.message
    raise ContractFileError(
        f"{path}: at {where}: not a valid JSON Schema 2020-12 ({message}); fix that keyword"
    )


class Contracts:
    """All face-detect contracts of one directory, with validators built once."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # (schema, digest of the bytes) of content that passed: see schema_errors.
        self._passed: Memo[tuple[str, bytes], bool] = Memo(1024)
        self.schemas: dict[str, dict[str, Any]] = {}
        resources = []
        for name, filename in SCHEMA_FILES.items():
            schema = _read_json(directory / filename)
            _check_schema(schema, directory / filename)
            self.schemas[name] = schema
            resource = Resource.from_contents(schema, default_specification=DRAFT202012)
            resources.append((schema.get("$id", filename), resource))
        self.registry: Registry[Any] = Registry().with_resources(resources)
        self.validators = {  # "pattern" read as ECMA-262 regexes, as JSON Schema says (ecma.py)
            name: EcmaValidator(schema, registry=self.registry)
            for name, schema in self.schemas.items()
        }
        table = self._read_checked(ERROR_TABLE_FILE, "error_table")
        self.errors = tuple(
            ErrorEntry(
                status=row["status"],
                code=row["code"],
                messages=tuple(row["messages"]),
                kind=row["kind"],
                retryable=row["retryable"],
                source=row["source"],
                stub_message=row.get("stub_message"),
            )
            for row in table["errors"]
        )
        try:
            self.questions: Mapping[str, OpenQuestion] = parse_questions(
                self._read_checked(QUESTIONS_FILE, "questions")
            )
        except ValueError as exc:
            raise ContractFileError(f"{directory / QUESTIONS_FILE}: at {exc}") from None
        try:
            self.profile: EndpointProfile = parse_profile(
                self._read_checked(PROFILE_FILE, "profile"),
                messages_of=self._messages_of,
                request_field=self._request_field,
            )
        except ValueError as exc:
            raise ContractFileError(f"{directory / PROFILE_FILE}: at {exc}") from None
        self._check_references()

    def _read_checked(self, filename: str, schema_name: str) -> Any:
        """A data file of the directory, validated against its schema (the first error named)."""
        data = _read_json(self.directory / filename)
        problems = self.schema_errors(schema_name, data)
        if problems:
            first = problems[0]
            where = shown(first.absolute_path)
            raise ContractFileError(
                f"{self.directory / filename}: at {where}: {first.message}; "
                f"make it match {SCHEMA_FILES[schema_name]}"
            )
        return data

    def _messages_of(self, code: str) -> tuple[str, ...] | None:
        rows = [entry for entry in self.errors if entry.code == code]
        if not rows:
            return None
        return tuple(
            text
            for row in rows
            for text in (*row.messages, *((row.stub_message,) if row.stub_message else ()))
        )

    def _check_references(self) -> None:
        """Every id and file one data file names in another exists."""
        profile, where = self.profile, self.directory / PROFILE_FILE
        if profile.model not in self.models:
            raise ContractFileError(
                f"{where}: at /model: {profile.model!r} is not in the model enum of "
                f"{SCHEMA_FILES['request']}; add it there"
            )
        files = set(SCHEMA_FILES.values())
        for kind in profile.answers:
            if kind.schema not in files:
                raise ContractFileError(
                    f"{where}: at /answers/{kind.name}/schema: no contract {kind.schema!r}; "
                    f"use one of {sorted(files)}"
                )
            self._check_shape_fields(where, kind)
            if kind.question is not None:
                self._check_reading(where, f"/answers/{kind.name}", kind.question, kind.reading)
        for question_id in _open_question_ids(self.schemas):
            self._check_reading(self.directory, "x-open-questions", question_id, None)
        for question in self.questions.values():
            for reading in question.readings:
                if question.settled not in (None, reading.id):
                    continue  # a reading the question was settled against is encoded no more
                for filename, pointer in reading.encoded_by:
                    target = self._document(filename)
                    if Pointer.parse(pointer).get(target) is ABSENT:
                        raise ContractFileError(
                            f"{self.directory / QUESTIONS_FILE}: question {question.id!r}, "
                            f"reading {reading.id!r}: {filename} has nothing at {pointer!r}; "
                            f"point at the keyword that encodes the reading"
                        )
        try:  # every reading's play is one the doubles can carry out with these contracts
            check_plays(
                self.questions,
                profile,
                lambda code: next(self.errors_for(code=code), None) is not None,
                self.directory / QUESTIONS_FILE,
            )
        except ValueError as exc:
            raise ContractFileError(str(exc)) from None

    def _check_shape_fields(self, where: Path, kind: AnswerKind) -> None:
        """Every field the profile says an answer kind carries is a field of its contract: the
        verdict (where the kind has one), the boxes (of a pass), its code, message and the fields
        that tell it apart (not those it must not have: its contract need not name them)."""
        profile, schema = self.profile, self._document(kind.schema)
        named: list[tuple[str, Pointer | None]] = [
            (f"/answers/{kind.name}/code", kind.code),
            (f"/answers/{kind.name}/message", kind.message),
            *((f"/answers/{kind.name}/present/{i}", at) for i, at in enumerate(kind.present)),
        ]
        if kind.verdict is not None:
            if profile.verdict is None:
                raise ContractFileError(
                    f"{where}: at /answers/{kind.name}/verdict: the kind has a verdict but "
                    f"/shape/verdict is null; name the verdict field there or drop the verdict"
                )
            named.append(("/shape/verdict", profile.verdict))
        if kind.outcome == "passed":
            named += [(f"/shape/boxes/{role}", at) for role, at in profile.boxes.items()]
        for field, pointer in named:
            if pointer is not None and not _schema_has(schema, pointer):
                raise ContractFileError(
                    f"{where}: at {field}: {str(pointer)!r} is not a field of {kind.schema} "
                    f"(the contract of answer {kind.name!r}); name a field it describes, or "
                    f"describe it there"
                )

    def _request_field(self, pointer: Pointer) -> Mapping[str, Any] | None:
        """The request contract's schema of the body field at ``pointer``, or ``None``."""
        try:
            return self.request_subschema(pointer)
        except (KeyError, TypeError):
            return None

    def _check_reading(self, where: Any, field: str, question: str, reading: str | None) -> None:
        if question not in self.questions:
            raise ContractFileError(
                f"{where}: at {field}: no open question {question!r} in {QUESTIONS_FILE}; "
                f"known: {sorted(self.questions)}"
            )
        readings = [r.id for r in self.questions[question].readings]
        if reading is not None and reading not in readings:
            raise ContractFileError(
                f"{where}: at {field}/reading: question {question!r} has no reading "
                f"{reading!r}; readings: {readings}"
            )

    def _document(self, filename: str) -> Any:
        by_file = {file: name for name, file in SCHEMA_FILES.items()}
        if filename in by_file:
            return self.schemas[by_file[filename]]
        if filename not in (ERROR_TABLE_FILE, PROFILE_FILE, QUESTIONS_FILE):
            raise ContractFileError(
                f"{self.directory / QUESTIONS_FILE}: names {filename!r}, which is not a file of "
                f"{self.directory}"
            )
        return _read_json(self.directory / filename)

    def validator(self, name: str) -> Draft202012Validator:
        """The validator of the schema with short name ``name`` (see ``SCHEMA_FILES``)."""
        return self.validators[name]

    def schema_errors(
        self, name: str, instance: Any, *, content: bytes | None = None
    ) -> list[ValidationError]:
        """jsonschema's errors of ``instance`` against schema ``name``, in the order of their
        place in it. ``content``: the bytes ``instance`` was read from; bytes that passed this
        schema before are not validated again (each live run reads every fixture file). An
        error is never remembered."""
        key = None if content is None else (name, hashlib.sha256(content).digest())
        if key is not None and self._passed.get(key):
            return []
        errors = sorted(
            self.validators[name].iter_errors(instance), key=lambda e: list(e.absolute_path)
        )
        if key is not None and not errors:
            self._passed.put(key, True)
        return errors

    def is_valid(self, name: str, instance: Any) -> bool:
        """Whether ``instance`` conforms to schema ``name``: jsonschema's verdict, sooner.

        jsonschema-rs answers, when installed, for schemas that use no ``pattern`` or ``format``
        (its regex dialect is not Python's);
        tests/contracts/test_validator_differential.py holds it to
        jsonschema's verdict on every generated and recorded instance. jsonschema stays the
        reference, and the only source of errors.
        """
        fast = self._fast_validators.get(name)
        if fast is not None:
            try:
                return bool(fast.is_valid(instance))
            except (ValueError, TypeError, OverflowError):  # a value it cannot convert
                pass
        return bool(self.validators[name].is_valid(instance))

    @property
    def fast_schemas(self) -> frozenset[str]:
        """Names of the schemas ``is_valid`` asks jsonschema-rs about (none when it is absent)."""
        return frozenset(self._fast_validators)

    @functools.cached_property
    def _fast_validators(self) -> dict[str, Any]:
        """jsonschema-rs validators of the schemas it judges as jsonschema does (see is_valid)."""
        if jsonschema_rs is None:
            return {}
        by_file = {filename: name for name, filename in SCHEMA_FILES.items()}
        registry = jsonschema_rs.Registry(
            [(schema["$id"], schema) for schema in self.schemas.values() if "$id" in schema]
        )
        return {
            name: jsonschema_rs.Draft202012Validator(
                schema, registry=registry, validate_formats=False, offline=True
            )
            for name, schema in self.schemas.items()
            if not _uses_regex_or_format(schema, self.schemas, by_file)
        }

    @functools.cached_property
    def documented_statuses(self) -> frozenset[int]:
        """200 and every status of the error table."""
        return frozenset({200, *(entry.status for entry in self.errors)})

    def errors_for(
        self, *, code: str | None = None, status: int | None = None
    ) -> Iterator[ErrorEntry]:
        """Error-table rows matching ``code`` and/or ``status``."""
        for entry in self.errors:
            if (code is None or entry.code == code) and (status is None or entry.status == status):
                yield entry

    @functools.cached_property
    def version(self) -> str:
        """A digest of the contract files (the generated OpenAPI document apart): the history
        says which contracts judged each run."""
        digest = hashlib.sha256()
        for path in sorted(self.directory.glob("*.json")):
            if path.name != "openapi.json":
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return "sha256:" + digest.hexdigest()[:16]

    @functools.cached_property
    def portrait_codes(self) -> frozenset[str]:
        """Codes of failure shape B: the portrait check's reasons."""
        return frozenset(entry.code for entry in self.errors if entry.kind == "portrait")

    @functools.cached_property
    def retryable_statuses(self) -> frozenset[int]:
        """Statuses a client retries: the error table's retryable rows, and gateway faults."""
        documented = {entry.status for entry in self.errors if entry.retryable}
        return frozenset(documented | self.profile.gateway_retry_statuses)

    def request_subschema(self, pointer: Pointer) -> dict[str, Any]:
        """The part of the request contract that describes the body field at ``pointer``."""
        node = self.schemas["request"]
        for part in pointer.parts:
            node = node["properties"][part]
        return node

    @functools.cached_property
    def ratios(self) -> tuple[str, ...]:
        """The documented values of the ratio (the request contract's enum at endpoint.json
        /shape/ratio/field); ``NotInProfile`` for a model without a ratio parameter."""
        if self.profile.ratio is None:
            raise NotInProfile(self.profile.model, "ratio", _SHAPE_RATIO_NULL)
        return self.profile.ratio.values

    @functools.cached_property
    def default_ratio(self) -> str:
        """The documented default of the ratio; ``NotInProfile`` for a model without a ratio
        parameter or whose docs give no default (the parameter is then required)."""
        ratio = self.profile.ratio
        if ratio is None:
            raise NotInProfile(self.profile.model, "ratio", _SHAPE_RATIO_NULL)
        if ratio.default is None:
            raise NotInProfile(
                self.profile.model,
                "default_ratio",
                f"documented default ratio (the request contract gives {ratio.field} no "
                f"default: send one of {list(ratio.values)})",
            )
        return ratio.default

    @functools.cached_property
    def models(self) -> tuple[str, ...]:
        """The accepted model names, read from the request contract."""
        return tuple(self.request_subschema(self.profile.request.model)["enum"])

    @functools.cached_property
    def _image_url_validator(self) -> Draft202012Validator:
        return EcmaValidator(self.request_subschema(self.profile.request.image_url))

    def accepts_image_url(self, url: object) -> bool:
        """Whether the request contract admits ``url`` as the image URL."""
        return bool(self._image_url_validator.is_valid(url))


def _schema_has(schema: Any, pointer: Pointer) -> bool:
    """Whether ``schema`` describes the field at ``pointer`` (its ``properties``, followed
    through ``anyOf``/``oneOf``/``allOf`` branches of the same file)."""
    nodes = [schema]
    for part in pointer.parts:
        found = []
        while nodes:
            node = nodes.pop()
            if not isinstance(node, dict):
                continue
            for keyword in ("anyOf", "oneOf", "allOf"):
                nodes.extend(node.get(keyword, ()))
            properties = node.get("properties", {})
            if part in properties:
                found.append(properties[part])
        if not found:
            return False
        nodes = found
    return True


def _open_question_ids(node: Any) -> Iterator[str]:
    """Every id an ``x-open-questions`` annotation of the schemas names."""
    if isinstance(node, dict):
        yield from node.get("x-open-questions", ())
        for value in node.values():
            yield from _open_question_ids(value)
    elif isinstance(node, list):
        for item in node:
            yield from _open_question_ids(item)


def _uses_regex_or_format(
    node: Any,
    schemas: Mapping[str, Any],
    by_file: Mapping[str, str],
    seen: frozenset[str] = frozenset(),
) -> bool:
    """Whether a schema, or a schema file it refers to, uses a keyword whose meaning rests on a
    regex dialect or a format checker (where jsonschema-rs and jsonschema may disagree)."""
    if isinstance(node, list):
        return any(_uses_regex_or_format(item, schemas, by_file, seen) for item in node)
    if not isinstance(node, dict):
        return False
    if {"pattern", "patternProperties", "format", "$dynamicRef"} & node.keys():
        return True
    reference = node.get("$ref")
    if isinstance(reference, str):
        filename = reference.partition("#")[0].rsplit("/", 1)[-1]
        if filename and filename not in seen:
            if filename not in by_file:
                return True  # a reference this module cannot follow: stay on jsonschema
            target = schemas[by_file[filename]]
            if _uses_regex_or_format(target, schemas, by_file, seen | {filename}):
                return True
    return any(_uses_regex_or_format(value, schemas, by_file, seen) for value in node.values())


@functools.cache
def load_contracts(directory: Path | None = None) -> Contracts:
    """The contracts of ``directory`` (default: the project's), loaded and checked once."""
    return Contracts(directory or CONTRACT_DIR)


def chosen_contracts(directory: Path, *, named: str) -> Contracts:
    """The contracts of a folder a user chose with the option or ini key ``named``;
    ``ContractFileError`` naming ``named``, the folder, what is wrong and the fix."""
    drop = f"or drop {named} for the packaged ones ({CONTRACT_DIR})"
    if not directory.exists():
        raise ContractFileError(
            f"{named} {directory}: no such folder; give a folder of contract files (a copy of "
            f"the packaged ones, with {PROFILE_FILE} and the schemas), {drop}"
        )
    if not directory.is_dir():
        raise ContractFileError(
            f"{named} {directory}: is a file, not a folder; give the folder that holds "
            f"{PROFILE_FILE} and the schemas, {drop}"
        )
    try:
        return load_contracts(directory)
    except ContractFileError as exc:
        raise ContractFileError(
            f"{named} {directory}: its contracts do not load: {exc}; or give another folder"
        ) from None


def packaged_models() -> dict[str, Path]:
    """Model name -> its packaged contracts folder: every folder beside the packaged face-detect
    one whose profile names a model (read from each ``endpoint.json``'s ``model``, in the
    folders' order), so ``--model NAME`` finds a folder by the name its profile gives."""
    found: dict[str, Path] = {}
    for folder in sorted(CONTRACT_DIR.parent.iterdir()):
        if not (folder / PROFILE_FILE).is_file():
            continue
        model = _read_json(folder / PROFILE_FILE).get("model")
        if isinstance(model, str) and model not in found:
            found[model] = folder
    return found


def api_vocabulary(contracts: Contracts) -> tuple[str, ...]:
    """The API's own words, as its reports show them: every name and every string of the
    contract files (schemas' property names, enums, error codes and messages, model names,
    paths, header names, the open questions' topics), once each, in a stable order."""
    words: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            words.add(node)
        elif isinstance(node, Mapping):
            for name, value in node.items():
                words.add(str(name))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in sorted(Path(contracts.directory).glob("*.json")):
        try:
            walk(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):  # load_contracts already named a broken file
            continue
    return tuple(sorted(words))


def key_from_env(environ: Mapping[str, str] | None, contracts: Contracts) -> Secret | None:
    """The key from the variable the profile names (``api_key_env``); see ``Secret.from_env``."""
    return Secret.from_env(environ, name=contracts.profile.api_key_env)
