#!/usr/bin/env python3
"""A face-detect client as a team would write it from Alibaba's docs (emo-detect-api), on requests.

Written the way a consumer of the endpoint writes one, not from this package: the documented
path, model and field names are spelled out here, so ``tests/outside/test_any_client.py`` judges
the stub by a client that never read the suite's contracts.

    DASHSCOPE_API_KEY=sk-... python detect_requests.py BASE_URL IMAGE_URL [RATIO]

The key is read from the environment (never the command line, never printed). Prints one line of
JSON: the status, the verdict, the boxes or the code and message, the request id; ``error`` when
the answer is not what the docs describe: no answer in time or a broken connection (``no answer:
...``), a body cut short (``the answer was cut short: ...``), a page that is not JSON (a gateway's
502/504). A refusal with a ``Retry-After`` header adds it as given (``"retry_after": "2"``).
Exit status: 0 the check passed, 1 it failed or the request was refused, 3 an answer not as
documented (or none), 4 a usage error. ``DETECT_TIMEOUT``: seconds to wait for the connection
and between bytes of the answer (default 30).
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any, NoReturn

import requests

__all__ = ["detect", "main"]

PATH = "/services/aigc/image2video/face-detect"
MODEL = "emo-detect-v1"
BOX_FIELDS = ("face_bbox", "ext_bbox")
USAGE = "usage: DASHSCOPE_API_KEY=sk-... python detect_requests.py BASE_URL IMAGE_URL [RATIO]"
DEFAULT_TIMEOUT = 30.0


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
    base_url: str,
    api_key: str,
    image_url: str,
    ratio: str = "1:1",
    timeout: float = DEFAULT_TIMEOUT,
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
            timeout=timeout,
            stream=True,  # the body read below, apart: a cut body is not "no answer"
        )
    except requests.RequestException as exc:
        return {"status": None, "error": f"no answer: {type(exc).__name__}"}, 3
    status = response.status_code
    with response:
        try:
            content = response.content
        except requests.RequestException as exc:
            return {"status": status, "error": f"the answer was cut short: {type(exc).__name__}"}, 3
    try:
        body = json.loads(content)
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
            "request_id": request_id,
        }
        retry_after = response.headers.get("Retry-After")
        return (summary if retry_after is None else {**summary, "retry_after": retry_after}), 1
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
    timeout = os.environ.get("DETECT_TIMEOUT", "") or str(DEFAULT_TIMEOUT)
    try:
        seconds = float(timeout)
    except ValueError:
        seconds = -1.0
    if not (seconds > 0 and math.isfinite(seconds)):
        _usage(f"DETECT_TIMEOUT is {timeout!r}: give seconds > 0")
    ratio = argv[2] if len(argv) == 3 else "1:1"
    summary, code = detect(argv[0], api_key, argv[1], ratio, timeout=seconds)
    print(json.dumps(summary))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
