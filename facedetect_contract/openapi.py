"""The OpenAPI 3.1 document of the endpoint, assembled from the JSON Schema contracts.

The schemas stay the one source of truth: ``build_openapi`` copies them into
``components/schemas`` and rewrites their cross-file ``$ref``s; ``contracts/face-detect/
openapi.json`` is its output, and a test fails when that file is stale
(``python -m facedetect_contract openapi --write`` refreshes it).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from . import __version__
from .contracts import SCHEMA_FILES, Contracts, load_contracts
from .interaction import ENDPOINT_PATH

__all__ = ["OPENAPI_FILE", "build_openapi", "render_openapi"]

OPENAPI_FILE = "openapi.json"
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


def _error_response(contracts: Contracts, status: int) -> dict[str, Any]:
    codes = sorted({entry.code for entry in contracts.errors_for(status=status)})
    response: dict[str, Any] = {
        "description": f"Request failure. Documented codes: {', '.join(codes)}.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
    if status == 429:
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait, when given.",
                "schema": {"type": "string"},
            }
        }
    return response


def build_openapi(contracts: Contracts | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document: one POST operation, its request and every documented response."""
    contracts = contracts or load_contracts()
    names = _component_names(contracts)
    schemas: dict[str, Any] = {}
    for name in _COMPONENTS:
        schema = contracts.schemas[name]
        schemas[schema["title"]] = _rewrite_refs(copy.deepcopy(schema), names)
    for def_name, definition in contracts.schemas["common"]["$defs"].items():
        schemas[def_name] = _rewrite_refs(copy.deepcopy(definition), names)
    headers = contracts.schemas["request_headers"]
    auth = headers["properties"]["authorization"]
    responses: dict[str, Any] = {
        "200": {
            "description": "The check ran: passed (boxes) or failed (failure shape A).",
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/CheckPassed"},
                            {"$ref": "#/components/schemas/CheckFailed"},
                        ]
                    }
                }
            },
        }
    }
    for status in sorted(contracts.documented_statuses - {200}):
        responses[str(status)] = _error_response(contracts, status)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "DashScope EMO image detection (emo-detect-v1)",
            "version": __version__,
            "description": "Generated from contracts/face-detect/*.schema.json."
            " Do not edit: run `python -m facedetect_contract openapi --write`.",
        },
        "servers": [
            {"url": "https://dashscope.aliyuncs.com/api/v1", "description": "China (Beijing)"},
            {
                "url": "{base}",
                "description": "A gateway or stub (DASHSCOPE_HTTP_BASE_URL)",
                "variables": {"base": {"default": "http://127.0.0.1:8000/api/v1"}},
            },
        ],
        "security": [{"bearer": []}],
        "paths": {
            ENDPOINT_PATH: {
                "post": {
                    "operationId": "faceDetect",
                    "summary": "Check a portrait for EMO and get its face and crop boxes",
                    "description": contracts.schemas["request"]["description"],
                    "parameters": [
                        {
                            "name": "X-DashScope-Async",
                            "in": "header",
                            "required": False,
                            "description": headers["properties"]["x-dashscope-async"]["description"]
                            + " "
                            + headers["properties"]["x-dashscope-async"]["$comment"],
                            "schema": {"not": {}},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/FaceDetectRequest"}
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


def render_openapi(contracts: Contracts | None = None) -> str:
    """The document as committed: 2-space indent, key order kept, trailing newline."""
    return json.dumps(build_openapi(contracts), indent=2, ensure_ascii=False) + "\n"


def write_openapi(contracts: Contracts | None = None) -> Path:
    """Refresh ``contracts/face-detect/openapi.json``."""
    contracts = contracts or load_contracts()
    path = contracts.directory / OPENAPI_FILE
    path.write_text(render_openapi(contracts), encoding="utf-8")
    return path
