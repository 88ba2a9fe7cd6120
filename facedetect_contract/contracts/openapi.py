"""The OpenAPI 3.1 document of the endpoint, assembled from the JSON Schema contracts.

The schemas stay the one source of truth: ``build_openapi`` copies them into
``components/schemas`` and rewrites their cross-file ``$ref``s; ``contracts/face-detect/
openapi.json`` is its output, and a test fails when that file is stale
(``python -m facedetect_contract openapi --write`` refreshes it). Each contracts folder gets its
own document (``openapi --contracts DIR``): its schemas, its model's name, its answers, and as
examples the documented fixtures of that folder only (``documented_fixture_dir``), never another
model's. Several folders (``openapi --model A --model B``) make one document
(``build_openapi_for``): each model's components under its model's name, each path once, and
where models share a path, the request and each response as ``oneOf`` by model, with each model's
own examples (keyed ``model/fixture``). One folder's document is unchanged.

Writing is refused inside an installed package (a ``site-packages`` or ``dist-packages`` folder,
or the package's own folder outside a checkout): a reinstall would undo it, and every run of the
installed tool would read the edited copy. The contracts' own file is refreshed only in a source
checkout of this project; the document can always be written to a path of the user's.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..core.data import PACKAGE_DIR
from .loader import CONTRACT_DIR, SCHEMA_FILES, Contracts

__all__ = [
    "OPENAPI_FILE",
    "OpenAPIWriteError",
    "build_openapi",
    "build_openapi_for",
    "documented_fixture_dir",
    "installed_package",
    "render_openapi",
    "render_openapi_for",
    "source_checkout",
    "write_openapi",
]

OPENAPI_FILE = "openapi.json"
PROJECT = "facedetect-contract"  # the distribution's name, as a checkout's pyproject.toml gives it
_INSTALL_FOLDERS = frozenset({"site-packages", "dist-packages"})
_ELSEWHERE = (
    "a path of yours (`facedetect-contract openapi --write openapi.json`, or "
    "`facedetect-contract openapi > openapi.json`)"
)
_COMPONENTS = ("request", "check_passed", "check_failed", "error_body")
_DROPPED_KEYWORDS = ("$schema", "$id")


def _component_names(contracts: Contracts) -> dict[str, str]:
    """File name -> component name (the schema's title)."""
    return {
        SCHEMA_FILES[name]: contracts.schemas[name]["title"] for name in (*_COMPONENTS, "common")
    }


def _rewrite_refs(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in _DROPPED_KEYWORDS:
                continue
            if key == "$ref" and isinstance(value, str) and not value.startswith("#"):
                # common.schema.json#/$defs/Box -> #/components/schemas/Box
                filename, _, fragment = value.partition("#")
                target = fragment.removeprefix("/$defs/") if fragment else names[filename]
                out[key] = "#/components/schemas/" + target
                continue
            out[key] = _rewrite_refs(value, names)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, names) for item in node]
    return node


def documented_fixture_dir(contracts: Contracts) -> Path | None:
    """The folder of documented fixtures that belongs to ``contracts``, or ``None``
    (``fixtures.own_fixture_dir``: the one rule for where a folder's fixtures are)."""
    from .fixtures import own_fixture_dir  # noqa: PLC0415  # fixtures import us not

    return own_fixture_dir(contracts)


def _examples(contracts: Contracts, status: int) -> dict[str, Any]:
    """The documented fixtures of the contracts' own folder answered with ``status``, as OpenAPI
    response examples."""
    from .fixtures import load_fixtures  # noqa: PLC0415  # fixtures import us not

    examples: dict[str, Any] = {}
    directory = documented_fixture_dir(contracts)
    if directory is None:
        return examples
    for fixture in load_fixtures(directory, contracts):
        if fixture.provenance.get("kind") == "documented" and fixture.response.status == status:
            summary = fixture.description or fixture.name
            examples[fixture.name] = {
                "summary": summary if len(summary) <= 120 else summary[:117] + "...",
                "value": fixture.response.body,
            }
    return examples


def _content(schema: dict[str, Any], examples: dict[str, Any]) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": schema}
    if examples:
        media["examples"] = examples
    return media


def _error_response(contracts: Contracts, status: int) -> dict[str, Any]:
    codes = sorted({entry.code for entry in contracts.errors_for(status=status)})
    profile = contracts.profile
    schema = {"$ref": "#/components/schemas/" + contracts.schemas["error_body"]["title"]}
    response: dict[str, Any] = {
        "description": f"Request failure. Documented codes: {', '.join(codes)}.",
        "content": {profile.content_type: _content(schema, _examples(contracts, status))},
    }
    if status == profile.throttle_status:
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait, when given.",
                "schema": {"type": "string"},
            }
        }
    return response


def build_openapi(contracts: Contracts) -> dict[str, Any]:
    """The OpenAPI 3.1 document: one operation, its request and every documented response."""
    profile = contracts.profile
    names = _component_names(contracts)
    schemas: dict[str, Any] = {}
    for name in _COMPONENTS:
        schema = contracts.schemas[name]
        schemas[schema["title"]] = _rewrite_refs(copy.deepcopy(schema), names)
    for def_name, definition in contracts.schemas["common"]["$defs"].items():
        schemas[def_name] = _rewrite_refs(copy.deepcopy(definition), names)
    headers = contracts.schemas["request_headers"]
    auth = headers["properties"]["authorization"]
    by_file = {filename: name for name, filename in SCHEMA_FILES.items()}
    passing = [k for k in profile.answers if k.status == 200]
    refs = [
        {"$ref": "#/components/schemas/" + contracts.schemas[by_file[k.schema]]["title"]}
        for k in passing
    ]
    responses: dict[str, Any] = {
        "200": {
            "description": "The check ran: " + "; ".join(k.description for k in passing),
            "content": {
                profile.content_type: _content(
                    refs[0] if len(refs) == 1 else {"oneOf": refs}, _examples(contracts, 200)
                )
            },
        }
    }
    for status in sorted(contracts.documented_statuses - {200}):
        responses[str(status)] = _error_response(contracts, status)
    # The header a synchronous API must not be sent is told in prose: as a parameter whose
    # schema is `not: {}`, generators (Schemathesis) send it on valid requests.
    operation_text = contracts.schemas["request"]["description"]
    async_header = headers["properties"].get(profile.async_header)
    if async_header is not None:
        told = " ".join(async_header[k] for k in ("description", "$comment") if k in async_header)
        operation_text += f" Header {profile.async_header}: {told}"
    request_schema = contracts.schemas["request"]["title"]
    boxes = ", ".join(at.name for at in profile.boxes.values())
    summary = f"Check a portrait for {profile.model}" + (
        f" and get its boxes ({boxes})" if boxes else ""
    )
    notes = sorted({q.notes.partition("#")[0] for q in contracts.questions.values()})
    variables = {"host": {"default": "127.0.0.1"}, "port": {"default": "8000"}}
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": f"DashScope image detection ({profile.model})",
            "version": __version__,
            "description": f"Generated from the contracts folder {contracts.directory.name}"
            " (*.schema.json and endpoint.json). Do not edit: run `python -m facedetect_contract"
            " openapi --write`. Open questions (x-open-questions): "
            + (", ".join(notes) or "none")
            + ".",
        },
        "servers": [
            {"url": profile.default_base_url, "description": "The documented endpoint"},
            {
                "url": "http://{host}:{port}/api/v1",
                "description": "The stub server (python -m facedetect_contract serve)",
                "variables": variables,
            },
            {
                "url": "http://{host}:{port}/qwen/api/v1",
                "description": "A gateway or stub that serves the API under a prefix",
                "variables": variables,
            },
        ],
        "security": [{"bearer": []}],
        "paths": {
            profile.path: {
                profile.method.lower(): {
                    "operationId": "faceDetect",
                    "summary": summary,
                    "description": operation_text,
                    "requestBody": {
                        "required": True,
                        "content": {
                            profile.content_type: {
                                "schema": {"$ref": "#/components/schemas/" + request_schema}
                            }
                        },
                    },
                    "responses": responses,
                }
            }
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": auth["description"]}
            },
        },
    }


_REF = "#/components/schemas/"
_COMPONENT_NAME = re.compile(r"[^A-Za-z0-9._-]")  # what OpenAPI allows in a component's name


def _prefixed(node: Any, prefix: str) -> Any:
    """``node`` with every component ``$ref`` renamed under ``prefix``."""
    if isinstance(node, dict):
        return {
            key: (
                _REF + prefix + value.removeprefix(_REF)
                if key == "$ref" and isinstance(value, str) and value.startswith(_REF)
                else _prefixed(value, prefix)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_prefixed(item, prefix) for item in node]
    return node


def _by_model(media: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """One media type object of several models' (model, media): the schemas as ``oneOf`` (one
    schema alone as it is), the examples of each keyed ``model/name``."""
    schemas: list[Any] = []
    examples: dict[str, Any] = {}
    for model, item in media:
        if item["schema"] not in schemas:
            schemas.append(item["schema"])
        for name, example in item.get("examples", {}).items():
            examples[f"{model}/{name}"] = example
    merged: dict[str, Any] = {"schema": schemas[0] if len(schemas) == 1 else {"oneOf": schemas}}
    if examples:
        merged["examples"] = examples
    return merged


def _merged_operation(operations: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The operation of a path several models share: its text by model, the request body and
    every response status any of them documents as ``oneOf`` by model."""
    first = operations[0][1]
    models = ", ".join(model for model, _ in operations)
    operation: dict[str, Any] = {
        "operationId": first["operationId"],
        "summary": f"Check a portrait for one of {models}, named by the request's model",
        "description": " ".join(f"{model}: {op['description']}" for model, op in operations),
    }
    body_types = {t for _, op in operations for t in op["requestBody"]["content"]}
    operation["requestBody"] = {
        "required": True,
        "content": {
            media_type: _by_model(
                [
                    (model, op["requestBody"]["content"][media_type])
                    for model, op in operations
                    if media_type in op["requestBody"]["content"]
                ]
            )
            for media_type in sorted(body_types)
        },
    }
    responses: dict[str, Any] = {}
    for status in sorted({s for _, op in operations for s in op["responses"]}):
        answering = [
            (m, op["responses"][status]) for m, op in operations if status in op["responses"]
        ]
        response: dict[str, Any] = {
            "description": " ".join(f"{m}: {r['description']}" for m, r in answering),
        }
        media_types = sorted({t for _, r in answering for t in r.get("content", {})})
        response["content"] = {
            media_type: _by_model(
                [
                    (m, r["content"][media_type])
                    for m, r in answering
                    if media_type in r.get("content", {})
                ]
            )
            for media_type in media_types
        }
        for _, r in answering:
            if "headers" in r:
                response.setdefault("headers", {}).update(r["headers"])
        responses[status] = response
    operation["responses"] = responses
    return operation


def build_openapi_for(models: Sequence[Contracts]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of several models (one: ``build_openapi``'s, unchanged): the
    first model's servers and security; each model's components under its model's name
    (``emo-detect-v1.FaceDetectRequest``); each path once, its operation the model's own where
    one model serves it, else ``oneOf`` by model with each model's own examples."""
    if not models:
        raise ValueError("build_openapi_for: give at least one model's contracts")
    if len(models) == 1:
        return build_openapi(models[0])
    documents = [(c.profile.model, build_openapi(c)) for c in models]
    first = documents[0][1]
    schemas: dict[str, Any] = {}
    paths: dict[str, dict[str, list[tuple[str, dict[str, Any]]]]] = {}
    for model, document in documents:
        prefix = _COMPONENT_NAME.sub("_", model) + "."
        for name, schema in document["components"]["schemas"].items():
            schemas[prefix + name] = _prefixed(schema, prefix)
        for path, item in _prefixed(document["paths"], prefix).items():
            for method, operation in item.items():
                paths.setdefault(path, {}).setdefault(method, []).append((model, operation))
    merged_paths: dict[str, Any] = {}
    for index, (path, methods) in enumerate(paths.items()):
        merged_paths[path] = {}
        for method, operations in methods.items():
            operation = operations[0][1] if len(operations) == 1 else _merged_operation(operations)
            if index:  # operationId is unique in a document: the first path keeps its own
                operation = {**operation, "operationId": f"{operation['operationId']}{index + 1}"}
            merged_paths[path][method] = operation
    names = ", ".join(model for model, _ in documents)
    return {
        **first,
        "info": {
            **first["info"],
            "title": f"DashScope image detection ({names})",
            "description": " ".join(
                f"{model}: {document['info']['description']}" for model, document in documents
            ),
        },
        "paths": merged_paths,
        "components": {**first["components"], "schemas": schemas},
    }


def render_openapi_for(models: Sequence[Contracts]) -> str:
    """The document of several models, rendered as ``render_openapi`` renders one."""
    return json.dumps(build_openapi_for(models), indent=2, ensure_ascii=False) + "\n"


def render_openapi(contracts: Contracts) -> str:
    """The document as committed: 2-space indent, key order kept, trailing newline."""
    return json.dumps(build_openapi(contracts), indent=2, ensure_ascii=False) + "\n"


class OpenAPIWriteError(ValueError):
    """The document may not be written there; the message names the path and the fix."""


def source_checkout(path: Path) -> Path | None:
    """The source checkout of this project that holds ``path``: the nearest folder at or above
    it with a ``pyproject.toml`` naming the project (None when there is none)."""
    path = path.resolve()
    for folder in (path, *path.parents):
        try:
            project = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue  # no pyproject.toml here (or not one of ours): look further up
        name = project.get("project", {})
        if isinstance(name, dict) and name.get("name") == PROJECT:
            return folder
    return None


def installed_package(path: Path) -> str | None:
    """Where ``path`` lies inside an installed package (None when it does not): a folder
    Python installs packages into, or this package's own folder outside a source checkout."""
    path = path.resolve()
    for folder in path.parents:
        if folder.name in _INSTALL_FOLDERS:
            return f"{folder} holds installed packages"
    package = PACKAGE_DIR.resolve()
    if path.is_relative_to(package) and source_checkout(package) is None:
        return f"{package} is the installed package"
    return None


def write_openapi(contracts: Contracts, path: Path | None = None) -> Path:
    """Write the document to ``path`` (a file, or a folder to hold ``openapi.json``), or without
    a path refresh the contracts' own ``openapi.json``; returns the file written.

    Raises ``OpenAPIWriteError`` for a file inside an installed package, and for the project's
    own contracts outside a source checkout (the copy an installed wheel carries)."""
    target = contracts.directory / OPENAPI_FILE if path is None else path
    if target.is_dir():
        target = target / OPENAPI_FILE
    where = installed_package(target)
    if where is not None:
        raise OpenAPIWriteError(
            f"{target} is inside an installed package ({where}): a reinstall would undo the "
            "write, and every run of the installed tool would read it. Write the document to "
            f"{_ELSEWHERE} instead; refresh the contracts' copy in a source checkout of {PROJECT}."
        )
    own = contracts.directory.resolve() == CONTRACT_DIR.resolve()
    if path is None and own and source_checkout(contracts.directory) is None:
        raise OpenAPIWriteError(
            f"{target} is not in a source checkout of {PROJECT} (no pyproject.toml naming it in "
            f"{contracts.directory} or a folder above): those contracts are the copy the package "
            f"carries. Run the command in a checkout, or write the document to {_ELSEWHERE}."
        )
    target.write_text(render_openapi(contracts), encoding="utf-8")
    return target
