"""Talking to the stub server from a test: the suite's client on it, the documented request body,
and an answer's outcome in one word."""

from __future__ import annotations

from typing import Any

from facedetect_contract.client import FaceDetectClient
from facedetect_contract.core.interaction import Interaction
from facedetect_contract.doubles.server import RunningServer
from facedetect_contract.plugin import TEST_KEY as STUB_KEY

__all__ = ["STUB_KEY", "detect_body", "make_client", "outcome"]


def make_client(server: RunningServer, key: str = STUB_KEY, **options: Any) -> FaceDetectClient:
    options.setdefault("max_retries", 0)
    return FaceDetectClient(base_url=server.base_url, environ={"DASHSCOPE_API_KEY": key}, **options)


def detect_body(url: str, ratio: str = "1:1") -> dict[str, Any]:
    return {"model": "emo-detect-v1", "input": {"image_url": url}, "parameters": {"ratio": ratio}}


def outcome(interaction: Interaction) -> str:
    """``pass``, the failed check's code (shape A) or the error body's code."""
    body = interaction.response.body
    if interaction.response.status == 200:
        output = body["output"]
        return "pass" if output["check_pass"] else str(output["code"])
    return str(body["code"])
