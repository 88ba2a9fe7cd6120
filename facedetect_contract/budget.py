"""The billing budget of a live run: which requests can be billed, and never more of them than N.

The endpoint bills CNY 0.004 per checked image; request failures are not billed (API file
section 6). A request *can be billed* when it carries the real key and the docs do not say it is
rejected. Such a request takes a slot of the budget just before it is sent (``admit``; slots go in
the order the run queued them, cases first), and once the slots taken plus the images billed reach
``max_billed``, no more are sent. What the endpoint did bill (``usage.image_count``) is noted as
each answer comes back (``settle``), so the report shows the spend, including images billed for
requests the docs call free.

The docs' word that failures are free is tested, not assumed: the first request sent with the key
that the docs call free goes out alone among the keyed requests (the *trial*), and the billable
ones wait for its answer. Billed, it disproves the docs: from then on every keyed request needs a
slot. So an endpoint that bills every answer, or only what the docs say, never costs more than
``max_billed`` images; one that bills only some failures can add at most the documented-free
requests in flight when the first such charge comes back (fewer than the run's worker count);
with ``max_billed`` 0 the trial itself is the one image a failure-billing endpoint can cost.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

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
    """At most ``max_billed`` billable requests, and images, per run; thread-safe.

    ``admit`` just before sending a request (``False``: do not send it); ``settle`` with what
    every answer billed, or with 0 when none came back. A request the docs call free that comes
    back billed uses up the budget too, so a drifting endpoint cannot spend it twice.
    """

    def __init__(self, max_billed: int) -> None:
        if max_billed < 0:
            raise ValueError(f"max_billed must be >= 0, not {max_billed}")
        self.max_billed = max_billed
        self._lock = threading.Condition()
        self._reserved: list[str] = []
        self._refused: list[str] = []
        self._billed: dict[str, int] = {}
        self._unexpected: list[str] = []
        self._free_keyed: set[str] = set()  # sent with the key as documented free
        self._free_claim: Literal["untested", "holds", "broken"] = "untested"
        self._trial: str | None = None
        self._queue: list[str] = []  # keyed requests in the order they are admitted in
        self._decided: set[str] = set()
        self._next = 0  # the first position in the queue not decided yet

    def __repr__(self) -> str:
        return f"BillingBudget({self.summary()})"

    def _used(self) -> int:
        """Slots taken: each billable request counts 1 until its answer says how many images."""
        return sum(
            max(1 if name in self._reserved else 0, self._billed.get(name, 0))
            for name in {*self._reserved, *self._billed}
        )

    def trial(self, name: str) -> bool:
        """Make ``name`` (documented free, sent with the key) the trial of the docs' claim.

        ``False`` when the claim was tested already or a trial is out. Keyed requests wait in
        ``admit`` until the trial's answer is settled, so the caller must send it first.
        """
        with self._lock:
            if self._free_claim != "untested" or self._trial is not None:
                return False
            self._trial = name
            return True

    def queue(self, names: Iterable[str]) -> None:
        """Admit these keyed requests in this order, whatever thread asks first.

        So the slots go to the first ones planned (the cases); give them in the order they are
        handed to the threads, or a thread may wait for one no thread has taken yet.
        """
        with self._lock:
            self._queue += [name for name in names if name not in self._queue]

    def _turn(self, name: str) -> bool:
        """Whether ``name`` may be decided now: no trial out, no queued request before it."""
        if self._trial is not None and self._trial != name:
            return False
        return name not in self._queue[self._next + 1 :]

    def _decide(self, name: str, admitted: bool) -> bool:
        self._decided.add(name)
        while self._next < len(self._queue) and self._queue[self._next] in self._decided:
            self._next += 1
        self._lock.notify_all()
        return admitted

    def admit(self, name: str, *, billable: bool, keyed: bool = True) -> bool:
        """Whether ``name`` may be sent now; ``False`` (and noted as not sent) when it must not.

        Without the key nothing can be billed. With it, a request waits while the trial is out;
        a billable one (or any, once the endpoint billed what the docs call free) then takes a
        slot if one is left.
        """
        if not keyed:
            return True
        with self._lock:
            while not self._turn(name):
                self._lock.wait()
            if not (billable or self._free_claim == "broken"):
                if self._free_claim == "untested" and self._trial is None:
                    self._trial = name  # no trial was named: this one is it
                self._free_keyed.add(name)
                return self._decide(name, True)
            if self._used() < self.max_billed:
                self._reserved.append(name)
                return self._decide(name, True)
            self._refused.append(name)
            if self._trial == name:  # a trial refused (the claim fell meanwhile) settles nothing
                self._trial = None
            return self._decide(name, False)

    def settle(self, name: str, images: int, *, answered: bool) -> None:
        """Note the images an answer to ``name`` billed; ``answered``: a final answer came back.

        An unbilled final answer to a documented-free keyed request confirms the docs; a billed
        answer to any request that took no slot disproves them.
        """
        with self._lock:
            if images > 0:
                self._billed[name] = self._billed.get(name, 0) + images
                if name not in self._reserved:
                    if name not in self._unexpected:
                        self._unexpected.append(name)
                    self._free_claim = "broken"
            elif answered and name in self._free_keyed and self._free_claim == "untested":
                self._free_claim = "holds"
            if self._trial == name:
                self._trial = None
            self._lock.notify_all()

    def summary(self) -> Spend:
        with self._lock:
            return Spend(
                max_billed=self.max_billed,
                billable_sent=len(self._reserved),
                images_billed=sum(self._billed.values()),
                not_sent=tuple(self._refused),
                billed_unexpectedly=tuple(self._unexpected),
            )
