"""The billing budget of a live run: which attempts can be billed, and never more of them than N.

The endpoint bills per checked image (price and unit in the endpoint profile); request failures
are not billed. A request *can be billed* when it carries the real key and the docs do not say it
is rejected (or only infer it). Every attempt that can be billed, retries included, takes a slot
of the budget just before it is sent (``admit``; slots go in the order the run queued the
requests, cases first), and once the slots taken plus the images billed reach ``max_billed``, no
more are sent: a retry that finds no slot is not sent. What the endpoint did bill is noted as each
keyed answer comes back (``settle``); usage on an answer to a request without the key is not
spend (nothing was charged to the key).

The docs' word that failures are free is tested, not assumed: the first request sent with the key
that the docs call free goes out alone among the keyed requests (the *trial*), and the billable
ones wait for its final answer. Billed, it disproves the docs: from then on every keyed attempt
needs a slot. A trial that gets no final answer (throttled, failing, unreachable) proves nothing,
and the run then treats the claim as disproved rather than send keyed requests one at a time. So
an endpoint that bills every answer, or only what the docs say, never costs more than
``max_billed`` images; one that bills only some failures can add at most the documented-free
requests in flight when the first such charge comes back (fewer than the run's worker count);
with ``max_billed`` 0 the trial itself is the one image a failure-billing endpoint can cost.

Several models in one run share one budget (``BudgetPool``): each model's ``BillingBudget`` keeps
its own queue, trial and claim (the models' docs bill differently: liveportrait-detect bills a
failed check), and a slot is taken from the pool, so the run never sends more than ``max_billed``
billable attempts across its models; each model's trial may cost one image more when its docs'
claim is false. A model's first slot is first come; a further one is taken only while a slot
stays for each other model still running without any, so one fast model cannot spend the run's
budget before a slower one's first case (a model that needs no slot holds one until its run
ends).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from ..contracts.loader import Contracts
from ..contracts.outcome import classify
from ..core.interaction import Expectation, Interaction

__all__ = [
    "BillingBudget",
    "BudgetPool",
    "Spend",
    "images_billed",
    "may_be_billed",
]

Claim = Literal["untested", "holds", "broken", "unknown"]


def may_be_billed(*, auth: str, expectation: Expectation | None) -> bool:
    """Whether a request could cost money: it authenticates and the docs do not say it fails.

    A rejection the docs only infer (an open question) counts as billable: the endpoint may
    ignore the rule and check the image.
    """
    if auth != "key":
        return False  # no key or an unknown key: 401 before any image is looked at
    if expectation is None or not expectation.must_reject:
        return True
    return expectation.open_question is not None


def images_billed(interaction: Interaction, contracts: Contracts) -> int:
    """Images the answer says were billed (its usage count; 1 for a malformed usage), else 0."""
    return classify(interaction.response, contracts).billed_images


@dataclass(frozen=True)
class Spend:
    """What a run sent and was billed, for the report."""

    max_billed: int
    billable_sent: int
    images_billed: int
    not_sent: tuple[str, ...]
    billed_unexpectedly: tuple[str, ...]
    price: Decimal | None  # None: the model's docs state no price (liveportrait-detect)
    currency: str | None
    retries_not_sent: tuple[str, ...] = ()
    # Several models' run: each model's own spend, by model (the figures above are their sums).
    by_model: tuple[tuple[str, Spend], ...] = ()

    @classmethod
    def of_models(cls, spends: Iterable[tuple[str, Spend]]) -> Spend:
        """The spend of a run of several models: the sums, each model's own kept (``by_model``);
        one budget (``max_billed``) for the run, which every model's spend states."""
        parts = tuple(spends)
        if not parts:
            raise ValueError("a spend of several models needs at least one")
        prices = {spend.price for _, spend in parts}
        # The run's currency is that of what was billed (a model that billed nothing, its price
        # unstated, leaves it alone); none when the billed models bill in different ones.
        billed = [spend for _, spend in parts if spend.images_billed] or [s for _, s in parts]
        currencies = {spend.currency for spend in billed if spend.price is not None}
        if len(currencies) != 1:
            currencies = {None}
        return cls(
            max_billed=max(spend.max_billed for _, spend in parts),
            billable_sent=sum(spend.billable_sent for _, spend in parts),
            images_billed=sum(spend.images_billed for _, spend in parts),
            not_sent=tuple(name for _, spend in parts for name in spend.not_sent),
            billed_unexpectedly=tuple(n for _, spend in parts for n in spend.billed_unexpectedly),
            price=prices.pop() if len(prices) == 1 else None,
            currency=currencies.pop(),  # the one, or None
            retries_not_sent=tuple(n for _, spend in parts for n in spend.retries_not_sent),
            by_model=parts,
        )

    @property
    def cost(self) -> Decimal | None:
        """What the billed images cost, or ``None`` when the docs state no price (for several
        models: the sum of their costs, ``None`` when a model that billed states no price or
        the models bill in different currencies)."""
        if self.by_model:
            billed = [spend for _, spend in self.by_model if spend.images_billed]
            costs = [spend.cost for spend in billed]
            if any(cost is None for cost in costs) or len({s.currency for s in billed}) > 1:
                return None  # a price unstated, or several currencies: no total is made up
            return sum((cost for cost in costs if cost is not None), Decimal(0))
        return None if self.price is None else self.images_billed * self.price

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_billed": self.max_billed,
            "billable_requests_sent": self.billable_sent,
            "images_billed": self.images_billed,
            "cost": None if self.cost is None else str(self.cost),
            "currency": self.currency,
            "price_per_image": None if self.price is None else str(self.price),
            "not_sent_for_budget": list(self.not_sent),
            "retries_not_sent_for_budget": list(self.retries_not_sent),
            "billed_although_documented_free": list(self.billed_unexpectedly),
            **(
                {"by_model": {model: spend.to_dict() for model, spend in self.by_model}}
                if self.by_model
                else {}
            ),
        }

    def __str__(self) -> str:
        if self.by_model and self.cost is None and self.images_billed:
            cost = "at prices the docs do not all state, or not in one currency"
        elif self.cost is None:
            cost = "at a price the docs do not state"
        else:
            cost = f"{self.currency or ''} {self.cost}".strip()
        text = (
            f"spent {self.images_billed} image(s), {cost} "
            f"({self.billable_sent} billable attempt(s) sent; --max-billed {self.max_billed})"
        )
        if self.not_sent:
            text += f"; {len(self.not_sent)} not sent to stay within the budget"
        if self.retries_not_sent:
            text += f"; {len(self.retries_not_sent)} retries not sent to stay within it"
        if self.by_model:
            text += "; by model: " + ", ".join(
                " ".join(
                    str(word)
                    for word in (
                        model,
                        f"{spend.images_billed} image(s)",
                        spend.currency,
                        spend.cost,
                    )
                    if word is not None and word != ""
                )
                for model, spend in self.by_model
            )
        return text


class BudgetPool:
    """One ``max_billed`` shared by the budgets of several models in one run: they share its
    lock, and a slot is free while the slots and images of all of them are under the cap."""

    def __init__(self, max_billed: int) -> None:
        if max_billed < 0:
            raise ValueError(f"max_billed must be >= 0, not {max_billed}")
        self.max_billed = max_billed
        self.lock = threading.Condition()
        self.members: list[BillingBudget] = []

    def __repr__(self) -> str:
        return f"BudgetPool(max_billed={self.max_billed}, models={len(self.members)})"

    def used(self) -> int:
        """Slots taken across the members (the caller holds ``lock``)."""
        return sum(member._used() for member in self.members)  # one lock: one state

    def waiting_for_a_first(self) -> int:
        """Members still running that have taken no slot yet: one slot is kept for each, so
        one model cannot spend the run's budget before another's first case (the caller holds
        ``lock``; it asks for a member that has a slot, so never counts itself)."""
        return sum(1 for member in self.members if not member.closed and not member._used())


class BillingBudget:
    """At most ``max_billed`` billable attempts, and images, per run; thread-safe.

    ``admit`` just before a request's first attempt, ``admit_retry`` before each retry (``False``:
    do not send it); ``settle`` with what every keyed answer billed, and ``finish`` when a
    request is done. A request the docs call free that comes back billed uses up the budget too,
    so a drifting endpoint cannot spend it twice.
    """

    def __init__(
        self,
        max_billed: int,
        *,
        price: Decimal | None = Decimal(0),
        currency: str | None = "",
        pool: BudgetPool | None = None,
    ) -> None:
        if max_billed < 0:
            raise ValueError(f"max_billed must be >= 0, not {max_billed}")
        self.max_billed = max_billed if pool is None else pool.max_billed
        self._price, self._currency = price, currency
        self._pool = pool
        self._lock = threading.Condition() if pool is None else pool.lock
        if pool is not None:
            with pool.lock:
                pool.members.append(self)
        self._slots: Counter[str] = Counter()  # slots taken, by request
        self._billed: Counter[str] = Counter()  # images billed, by request
        self._refused: list[str] = []
        self._retries_refused: list[str] = []
        self._unexpected: list[str] = []
        self._free_keyed: set[str] = set()  # sent with the key as documented free
        self._claim: Claim = "untested"
        self._trial: str | None = None
        self._queue: list[str] = []  # keyed requests in the order they are admitted in
        self._decided: set[str] = set()
        self._next = 0  # the first position in the queue not decided yet
        self._cancelled = False
        self.closed = False  # its run has sent all it will: a pool keeps no slot for it

    def __repr__(self) -> str:
        return f"BillingBudget({self.summary()})"

    @property
    def claim(self) -> Claim:
        """What the run knows of the docs' claim that failures are free."""
        return self._claim

    def _used(self) -> int:
        """Slots taken: each slot counts 1 until the answers say how many images they cost."""
        return sum(
            max(self._slots[name], self._billed[name]) for name in {*self._slots, *self._billed}
        )

    def _slot_left(self) -> bool:
        """Whether a slot is left: this budget's; or its pool's across the models, where a
        model's first slot is first come, and a further one leaves one for each other model
        still without any (``BudgetPool.waiting_for_a_first``)."""
        pool = self._pool
        if pool is None:
            return self._used() < self.max_billed
        kept = pool.waiting_for_a_first() if self._used() else 0
        return pool.used() + kept < self.max_billed

    def _needs_slot(self, billable: bool) -> bool:
        return billable or self._claim in ("broken", "unknown")

    def trial(self, name: str) -> bool:
        """Make ``name`` (documented free, sent with the key) the trial of the docs' claim.

        ``False`` when the claim was tested already or a trial is out. Keyed requests wait in
        ``admit`` until the trial is settled, so the caller must send it first.
        """
        with self._lock:
            if self._claim != "untested" or self._trial is not None:
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
        """Whether ``name``'s first attempt may be sent now; ``False`` (noted) when it must not.

        Without the key nothing can be billed. With it, a request waits while the trial is out;
        a billable one (or any, once the claim fell or could not be tested) then takes a slot if
        one is left.
        """
        if not keyed:
            return True
        with self._lock:
            while not self._turn(name) and not self._cancelled:
                self._lock.wait()
            if self._cancelled:  # the run ended: not sent, and not for the budget's sake
                return self._decide(name, False)
            if not self._needs_slot(billable):
                if self._claim == "untested" and self._trial is None:
                    self._trial = name  # no trial was named: this one is it
                self._free_keyed.add(name)
                return self._decide(name, True)
            if self._slot_left():
                self._slots[name] += 1
                return self._decide(name, True)
            self._refused.append(name)
            if self._trial == name:  # a trial refused (the claim fell meanwhile) settles nothing
                self._trial = None
            return self._decide(name, False)

    def admit_retry(self, name: str, *, billable: bool, keyed: bool = True) -> bool:
        """Whether a retry of ``name`` may be sent: it needs a slot of its own whenever it can be
        billed (a billable request; or any keyed one once the claim fell or this request's
        earlier attempt was billed)."""
        if not keyed:
            return True
        with self._lock:
            if not (self._needs_slot(billable) or self._billed[name]):
                return True
            if self._slot_left():
                self._slots[name] += 1
                return True
            self._retries_refused.append(name)
            return False

    def settle(self, name: str, images: int, *, keyed: bool = True) -> None:
        """Note the images one keyed answer to ``name`` billed (0: none)."""
        if not keyed or images <= 0:
            return  # usage on an answer to a request without the key is not spend
        with self._lock:
            self._billed[name] += images
            if self._billed[name] > self._slots[name]:
                if name not in self._unexpected:
                    self._unexpected.append(name)
                self._claim = "broken"
            self._lock.notify_all()

    def finish(self, name: str, *, answered: bool) -> None:
        """``name`` is done: ``answered`` when a final (not retryable) answer came back.

        An unbilled final answer to a documented-free keyed request confirms the docs; a trial
        that got no final answer leaves the claim untestable, and it is treated as fallen.
        """
        with self._lock:
            if name in self._free_keyed and self._claim == "untested":
                if answered and not self._billed[name]:
                    self._claim = "holds"
                elif not answered and self._trial == name:
                    self._claim = "unknown"
            if self._trial == name:
                self._trial = None
            self._lock.notify_all()

    def close(self) -> None:
        """Its run is done sending (a pool then keeps no slot for it; nobody waits on it)."""
        with self._lock:
            self.closed = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        """The run is over (its deadline, an interrupt): refuse every request still waiting."""
        with self._lock:
            self._cancelled = True
            self._lock.notify_all()

    def summary(self) -> Spend:
        with self._lock:
            return Spend(
                max_billed=self.max_billed,
                billable_sent=sum(self._slots.values()),
                images_billed=sum(self._billed.values()),
                not_sent=tuple(self._refused),
                billed_unexpectedly=tuple(self._unexpected),
                price=self._price,
                currency=self._currency,
                retries_not_sent=tuple(self._retries_refused),
            )
