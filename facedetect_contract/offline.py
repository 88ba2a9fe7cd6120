"""Mounting the fake and the fixtures on respx, so the client runs offline unchanged.

``mount_fake`` routes the endpoint to ``FaceDetectFake``; ``mount_replay`` serves recorded
interactions and fails loudly, saying which fixture came closest and where it differed, when a
request matches none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import httpx
import respx

from .fake import FaceDetectFake, FakeRequest
from .interaction import Interaction

__all__ = ["UnmatchedRequest", "fake_handler", "mount_fake", "mount_replay", "replay_handler"]


class UnmatchedRequest(AssertionError):
    """A replayed run sent a request no fixture holds."""


def fake_handler(fake: FaceDetectFake) -> Any:
    """An httpx handler (for respx ``side_effect`` or ``httpx.MockTransport``) serving ``fake``."""

    def handle(request: httpx.Request) -> httpx.Response:
        answer = fake(FakeRequest(request.method, dict(request.headers), request.read()))
        return httpx.Response(answer.status, headers=dict(answer.headers), content=answer.body)

    return handle


def mount_fake(router: respx.Router, fake: FaceDetectFake, url: str) -> respx.Route:
    """Route every method on ``url`` to ``fake``."""
    return router.route(url=url).mock(side_effect=fake_handler(fake))


def _auth_kind(headers: Any) -> str:
    value = headers.get("authorization")
    if value is None:
        return "none"
    return "invalid" if "invalid" in value else "key"


def _request_key(method: str, auth: str, body: Any, body_text: str | None) -> tuple[str, str, str]:
    payload = body_text if body_text is not None else json.dumps(body, sort_keys=True)
    return method.upper(), auth, payload


def _differences(sent: tuple[str, str, str], recorded: tuple[str, str, str]) -> list[str]:
    labels = ("method", "authorization", "body")
    return [
        f"{label}: sent {a[:120]!r}, recorded {b[:120]!r}"
        for label, a, b in zip(labels, sent, recorded, strict=True)
        if a != b
    ]


def replay_handler(interactions: Iterable[Interaction]) -> Any:
    """An httpx handler answering each request with the fixture recorded for it."""
    table: dict[tuple[str, str, str], Interaction] = {}
    # Where several fixtures hold the same request, real traffic wins: recorded before
    # documented, the newest recording first.
    by_date = sorted(interactions, key=lambda i: i.provenance.get("date", ""), reverse=True)
    for interaction in sorted(by_date, key=lambda i: i.provenance.get("kind") != "recorded"):
        request = interaction.request
        key = _request_key(
            request.method, _auth_kind(request.headers), request.body, request.body_text
        )
        table.setdefault(key, interaction)

    def handle(request: httpx.Request) -> httpx.Response:
        content = request.read()
        try:
            body, body_text = json.loads(content), None
        except ValueError:
            body, body_text = None, content.decode("utf-8", errors="replace")
        sent = _request_key(request.method, _auth_kind(request.headers), body, body_text)
        found = table.get(sent)
        if found is None:
            raise UnmatchedRequest(_explain(sent, list(table.items())))
        response = found.response
        payload = (
            json.dumps(response.body).encode()
            if response.body_is_json
            else str(response.body).encode()
        )
        return httpx.Response(response.status, headers=dict(response.headers), content=payload)

    return handle


def _explain(
    sent: tuple[str, str, str], table: Sequence[tuple[tuple[str, str, str], Interaction]]
) -> str:
    if not table:
        return "no fixture is loaded; add interactions under fixtures/face-detect/"
    closest_key, closest = min(table, key=lambda item: len(_differences(sent, item[0])))
    differences = "; ".join(_differences(sent, closest_key))
    return (
        f"no fixture matches {sent[0]} with authorization={sent[1]} and body {sent[2][:200]}; "
        f"closest is fixture {closest.name!r}, which differs in {differences}. "
        f"Record it (pytest --live --record) or add a fixture under fixtures/face-detect/."
    )


def mount_replay(
    router: respx.Router, interactions: Iterable[Interaction], url: str
) -> respx.Route:
    """Route ``url`` to the recorded interactions; unmatched requests raise ``UnmatchedRequest``."""
    return router.route(url=url).mock(side_effect=replay_handler(interactions))
