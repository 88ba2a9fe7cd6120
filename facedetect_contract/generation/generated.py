"""What a generated request is, without Hypothesis: the live run's cases and probes are made of
these before any example is drawn, so ``pytest --live`` does not import Hypothesis at start-up
(``strategies`` draws them, and re-exports both names).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..client import Auth
from ..contracts.loader import Contracts
from ..core.interaction import Expectation, Interaction
from .mutations import Mutation

if TYPE_CHECKING:
    from ..client import FaceDetectClient
    from ..doubles.offline import InProcessExchange

__all__ = ["GeneratedRequest", "base_headers"]


@dataclass(frozen=True)
class GeneratedRequest:
    """A request to send: headers (without Authorization), how to authenticate, and the body.

    ``mutation`` says how a valid request was broken (``None`` for a valid one); ``expectation``
    what the docs demand of the answer (``None``: any documented answer).
    """

    description: str
    body: Any
    headers: Mapping[str, str]
    auth: Auth = "key"
    content: bytes | None = None
    expectation: Expectation | None = None
    mutation: Mutation | None = None

    @property
    def bytes(self) -> bytes:
        """The body as sent: ``content`` when set (malformed JSON), else the JSON encoding."""
        if self.content is not None:
            return self.content
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8", "surrogatepass")

    def send(
        self,
        client: FaceDetectClient | InProcessExchange,
        *,
        name: str | None = None,
        retry: bool = True,
    ) -> Interaction:
        """Send it through ``client`` (or exchange it with the fake in-process); the interaction
        carries this request's expectation."""
        interaction = client.exchange(
            content=self.bytes,
            headers=self.headers,
            auth=self.auth,
            name=name or self.description,
            retry=retry,
        )
        return replace(interaction, expectation=self.expectation)

    @property
    def must_reject(self) -> bool:
        return self.expectation is not None and self.expectation.must_reject


def base_headers(contracts: Contracts) -> dict[str, str]:
    """The headers every generated request carries (the key is added by the client)."""
    return {"content-type": contracts.profile.content_type}
