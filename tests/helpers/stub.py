"""Talking to the stub server from a test: the suite's client on it, the documented request body,
an answer's outcome in one word, and a response hook that records every exchange."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from facedetect_contract.client import FaceDetectClient
from facedetect_contract.core.interaction import Interaction
from facedetect_contract.doubles.fake import FakeRequest, FakeResponse
from facedetect_contract.doubles.server import ResponseHook, RunningServer
from facedetect_contract.plugin import TEST_KEY as STUB_KEY

__all__ = ["STUB_KEY", "Exchange", "Recorder", "detect_body", "make_client", "outcome"]


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


class Exchange(NamedTuple):
    """One request the stub received, and what it answered."""

    request: FakeRequest
    response: FakeResponse

    @property
    def body(self) -> Any:
        return json.loads(self.request.body)

    @property
    def headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.request.headers.items()}


class Recorder:
    """A ``response_hook`` that keeps every exchange, optionally answering in its own way."""

    def __init__(self, replace: ResponseHook | None = None) -> None:
        self.exchanges: list[Exchange] = []
        self.replace = replace

    def __call__(self, request: FakeRequest, response: FakeResponse) -> FakeResponse:
        if self.replace is not None:
            response = self.replace(request, response)
        self.exchanges.append(Exchange(request, response))
        return response
