"""The billing budget of a live run: which requests can be billed, and never more of them than N.

The endpoint bills CNY 0.004 per checked image; request failures are not billed (API file
section 6). A request *can be billed* when it carries the real key and the docs do not say it is
rejected: those are reserved before they are sent, and once ``max_billed`` are reserved no more
are sent. What the endpoint did bill (``usage.image_count``) is charged as it comes back, so the
report can show the spend, including images billed for requests the docs call free.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .interaction import Expectation, Interaction

__all__ = [
    "PRICE_PER_IMAGE_CNY",
    "BillingBudget",
    "Spend",
    "images_billed",
    "may_be_billed",
]

PRICE_PER_IMAGE_CNY = Decimal("0.004")
# Headers whose rejection the docs only infer (API file section 2): a request carrying one is
# treated as billable, because the endpoint may ignore the header and check the image.
_INFERRED_REJECTION_HEADERS = frozenset({"x-dashscope-async"})


def may_be_billed(
    *, auth: str, expectation: Expectation | None, headers: Mapping[str, str]
) -> bool:
    """Whether a request could cost money: it authenticates and the docs do not say it fails."""
    if auth != "key":
        return False  # no key or an unknown key: 401 before any image is looked at
    if expectation is None or not expectation.must_reject:
        return True
    return any(name.lower() in _INFERRED_REJECTION_HEADERS for name in headers)


def images_billed(interaction: Interaction) -> int:
    """Images the response says were billed (``usage.image_count``), 0 without ``usage``."""
    body: Any = interaction.response.body
    usage = body.get("usage") if isinstance(body, dict) else None
    count = usage.get("image_count") if isinstance(usage, dict) else None
    if type(count) is int and count > 0:
        return count
    return 1 if isinstance(usage, dict) else 0  # a malformed usage still means billed


@dataclass(frozen=True)
class Spend:
    """What a run sent and was billed, for the report."""

    max_billed: int
    billable_sent: int
    images_billed: int
    not_sent: tuple[str, ...]
    billed_unexpectedly: tuple[str, ...]

    @property
    def cny(self) -> Decimal:
        return self.images_billed * PRICE_PER_IMAGE_CNY

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_billed": self.max_billed,
            "billable_requests_sent": self.billable_sent,
            "images_billed": self.images_billed,
            "cny": str(self.cny),
            "price_per_image_cny": str(PRICE_PER_IMAGE_CNY),
            "not_sent_for_budget": list(self.not_sent),
            "billed_although_documented_free": list(self.billed_unexpectedly),
        }

    def __str__(self) -> str:
        text = (
            f"spent {self.images_billed} image(s), CNY {self.cny} "
            f"({self.billable_sent} billable request(s) sent; --max-billed {self.max_billed})"
        )
        if self.not_sent:
            text += f"; {len(self.not_sent)} not sent to stay within the budget"
        return text


class BillingBudget:
    """At most ``max_billed`` billable requests per run; thread-safe.

    ``reserve`` before sending a billable request; ``charge`` with every final response. A
    request the docs call free that comes back billed also uses up the budget, so a drifting
    endpoint cannot make the run spend more than it was told to by much.
    """

    def __init__(self, max_billed: int) -> None:
        if max_billed < 0:
            raise ValueError(f"max_billed must be >= 0, not {max_billed}")
        self.max_billed = max_billed
        self._lock = threading.Lock()
        self._reserved: list[str] = []
        self._refused: list[str] = []
        self._billed: dict[str, int] = {}
        self._unexpected: list[str] = []

    def __repr__(self) -> str:
        return f"BillingBudget({self.summary()})"

    def _used(self) -> int:
        return len(self._reserved) + len(self._unexpected)

    def reserve(self, name: str) -> bool:
        """Reserve one billable request; ``False`` (and noted as not sent) when none is left."""
        with self._lock:
            if self._used() >= self.max_billed:
                self._refused.append(name)
                return False
            self._reserved.append(name)
            return True

    def charge(self, name: str, images: int) -> None:
        """Note what a response billed; a request sent without a reservation uses one up now."""
        if images <= 0:
            return
        with self._lock:
            self._billed[name] = self._billed.get(name, 0) + images
            if name not in self._reserved and name not in self._unexpected:
                self._unexpected.append(name)

    def summary(self) -> Spend:
        with self._lock:
            return Spend(
                max_billed=self.max_billed,
                billable_sent=len(self._reserved),
                images_billed=sum(self._billed.values()),
                not_sent=tuple(self._refused),
                billed_unexpectedly=tuple(self._unexpected),
            )
