#!/usr/bin/env python3
"""A face-detect client as a team would write it from Alibaba's docs (emo-detect-api), on requests.

Written the way a consumer of the endpoint writes one, not from this package: the documented
path, model and field names are spelled out here, so ``tests/outside/test_any_client.py`` judges
the stub by a client that never read the suite's contracts.

    DASHSCOPE_API_KEY=sk-... python detect_requests.py BASE_URL IMAGE_URL [RATIO]

The key is read from the environment (never the command line, never printed). Prints one line of
JSON: the status, the verdict, the boxes or the code and message, the request id; ``error`` when
the answer is not what the docs describe. Exit status: 0 the check passed, 1 it failed or the
request was refused, 3 an answer not as documented (or none), 4 a usage error.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, NoReturn

import requests

__all__ = ["detect", "main"]

PATH = "/services/aigc/image2video/face-detect"
MODEL = "emo-detect-v1"
BOX_FIELDS = ("face_bbox", "ext_bbox")
USAGE = "usage: DASHSCOPE_API_KEY=sk-... python detect_requests.py BASE_URL IMAGE_URL [RATIO]"


def _is_box(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 4
        and all(type(n) is int and n >= 0 for n in value)
        and value[0] < value[2]
        and value[1] < value[3]
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def detect(
    base_url: str, api_key: str, image_url: str, ratio: str = "1:1"
) -> tuple[dict[str, Any], int]:
    """One call: the summary to print and the exit status."""
    try:
        response = requests.post(
            base_url.rstrip("/") + PATH,
            headers={"Authorization": f"Bearer {api_key}"},
            json={
                "model": MODEL,
                "input": {"image_url": image_url},
                "parameters": {"ratio": ratio},
            },
            timeout=30,
        )
    except requests.RequestException as exc:
        return {"status": None, "error": f"no answer: {type(exc).__name__}"}, 3
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        return {"status": status, "error": "the answer is not JSON"}, 3
    if not isinstance(body, dict):
        return {"status": status, "error": "the answer is not a JSON object"}, 3
    request_id = _text(body.get("request_id"))

    if status != 200:
        code = _text(body.get("code"))
        if code is None:
            return {
                "status": status,
                "error": "an error answer without a code",
                "request_id": request_id,
            }, 3
        summary = {
            "status": status,
            "verdict": None,
            "code": code,
            "message": _text(body.get("message")),
        }
        return {**summary, "request_id": request_id}, 1
    output = body.get("output")
    if not isinstance(output, dict) or not isinstance(output.get("check_pass"), bool):
        error = "verdict missing: output.check_pass"
        return {"status": status, "verdict": None, "error": error, "request_id": request_id}, 3
    if not output["check_pass"]:
        summary = {"status": status, "verdict": False, "code": _text(output.get("code"))}
        return {**summary, "message": _text(output.get("message")), "request_id": request_id}, 1
    for name in BOX_FIELDS:
        if not _is_box(output.get(name)):
            error = f"box missing or malformed: output.{name}"
            return {"status": status, "verdict": True, "error": error, "request_id": request_id}, 3
    boxes = {name: output[name] for name in BOX_FIELDS}
    return {"status": status, "verdict": True, "boxes": boxes, "request_id": request_id}, 0


def _usage(message: str) -> NoReturn:
    print(f"detect_requests.py: {message}\n{USAGE}", file=sys.stderr)
    raise SystemExit(4)


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        _usage("BASE_URL and IMAGE_URL are required")
    api_key = os.environ.get("DASHSCOPE_API_KEY", "")
    if not api_key:
        _usage("DASHSCOPE_API_KEY is not set: export your API key")
    summary, code = detect(argv[0], api_key, *argv[1:])
    print(json.dumps(summary))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
