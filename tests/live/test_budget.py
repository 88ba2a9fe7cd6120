"""The billing budget: what can be billed, and never more billable requests than --max-billed."""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.core.interaction import (
    Expectation,
    Interaction,
    RecordedRequest,
    RecordedResponse,
)
from facedetect_contract.live import budget as budget_module
from facedetect_contract.live.budget import (
    BillingBudget,
    BudgetPool,
    Spend,
    images_billed,
    may_be_billed,
)

REJECTED = Expectation(True, "documented rejection", "docs")
SILENT = Expectation(False, "the docs are silent", "docs")


INFERRED = Expectation(True, "rejection only inferred", "docs", open_question="async-header")


@pytest.mark.parametrize(
    ("auth", "expectation", "billable"),
    [
        ("key", None, True),
        ("key", SILENT, True),
        ("key", REJECTED, False),
        ("key", INFERRED, True),
        ("none", None, False),
        ("invalid", SILENT, False),
    ],
    ids=[
        "valid-request",
        "docs-silent",
        "documented-rejection",
        "rejection-only-inferred",
        "no-key",
        "unknown-key",
    ],
)
def test_a_request_can_be_billed_only_with_the_key_and_no_documented_rejection(
    auth: str, expectation: Expectation | None, billable: bool
) -> None:
    assert may_be_billed(auth=auth, expectation=expectation) is billable


def test_concurrent_admissions_never_exceed_the_budget() -> None:
    budget = BillingBudget(5)
    granted: list[bool] = []
    lock = threading.Lock()

    def admit(index: int) -> None:
        result = budget.admit(f"request-{index}", billable=True)
        with lock:
            granted.append(result)

    threads = [threading.Thread(target=admit, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert granted.count(True) == 5
    assert len(budget.summary().not_sent) == 45


def test_a_billable_request_keeps_its_slot_even_when_its_answer_was_not_billed() -> None:
    budget = BillingBudget(1)
    assert budget.admit("example-01", billable=True)
    budget.settle("example-01", 0)
    budget.finish("example-01", answered=True)
    assert not budget.admit("case", billable=True)
    assert budget.summary().billable_sent == 1


def test_a_request_without_the_key_is_always_sent() -> None:
    budget = BillingBudget(0)
    assert budget.admit("probe-no-key", billable=False, keyed=False)
    assert budget.summary().not_sent == ()


def test_an_image_billed_for_a_free_request_uses_up_the_budget() -> None:
    budget = BillingBudget(2, price=Decimal("0.004"), currency="CNY")
    assert budget.admit("case", billable=True)
    budget.settle("case", 1)
    budget.settle("probe-invalid-ratio", 1)  # documented free, billed all the same
    assert not budget.admit("example-01", billable=True)
    spend = budget.summary()
    assert spend.images_billed == 2
    assert spend.cost == Decimal("0.008")
    assert spend.billed_unexpectedly == ("probe-invalid-ratio",)
    assert "spent 2 image(s), CNY 0.008" in str(spend)


def test_usage_on_an_answer_to_a_request_without_the_key_is_not_spend() -> None:
    budget = BillingBudget(1)
    budget.settle("probe-no-key", 1, keyed=False)
    assert budget.summary().images_billed == 0
    assert budget.claim == "untested"
    assert budget.admit("case", billable=True)


def test_once_a_free_request_was_billed_every_keyed_request_needs_a_slot() -> None:
    budget = BillingBudget(1)
    assert budget.admit("probe-invalid-ratio", billable=False)
    budget.settle("probe-invalid-ratio", 1)
    budget.finish("probe-invalid-ratio", answered=True)
    assert not budget.admit("probe-unknown-model", billable=False)
    assert budget.admit("probe-bad-key", billable=False, keyed=False)
    assert budget.summary().not_sent == ("probe-unknown-model",)


def test_once_an_unbilled_failure_confirmed_the_docs_free_requests_need_no_slot() -> None:
    budget = BillingBudget(0)
    assert budget.admit("probe-invalid-ratio", billable=False)  # the trial, at budget 0
    budget.settle("probe-invalid-ratio", 0)
    budget.finish("probe-invalid-ratio", answered=True)
    assert budget.claim == "holds"
    assert budget.admit("probe-unknown-model", billable=False)
    assert not budget.admit("case", billable=True)


WAIT = 2.0  # seconds: the bound on every wait for another thread; a pass never comes near it


def waiting_in_the_budget(ident: int | None) -> bool:
    """Whether the thread ``ident`` is parked in the budget's own wait (in ``admit``)."""
    frame = sys._current_frames().get(ident) if ident is not None else None
    return (
        frame is not None
        and frame.f_code is threading.Condition.wait.__code__
        and frame.f_back is not None
        and frame.f_back.f_code.co_filename == budget_module.__file__
    )


def wait_until_parked(ident: int | None, done: Callable[[], bool] = lambda: False) -> bool:
    """Wait (at most ``WAIT``) until thread ``ident`` waits in the budget or ``done()``; ``True``
    when it waits there."""
    deadline = time.monotonic() + WAIT
    while not done() and time.monotonic() < deadline:
        if waiting_in_the_budget(ident):
            return True
        time.sleep(0.001)
    return False


def asks_in_a_thread(call: Callable[[], bool]) -> tuple[threading.Thread, list[bool]]:
    """Run ``call`` (an ``admit``) on a daemon thread; return it once it waits in the budget or
    is done, with the list its answer goes into."""
    answers: list[bool] = []
    thread = threading.Thread(target=lambda: answers.append(call()), daemon=True)
    thread.start()
    wait_until_parked(thread.ident, done=lambda: not thread.is_alive())
    return thread, answers


def settle_later(budget: BillingBudget, name: str, images: int) -> threading.Thread:
    """Settle ``name`` from another thread once the calling thread is waiting in ``admit``."""
    waiter = threading.get_ident()

    def settle() -> None:
        wait_until_parked(waiter)
        budget.settle(name, images)
        budget.finish(name, answered=True)

    thread = threading.Thread(target=settle)
    thread.start()
    return thread


@pytest.mark.parametrize(("trial_images", "case_admitted"), [(0, True), (1, False)])
def test_billable_requests_wait_for_the_trial_so_a_billing_endpoint_spends_no_more_than_n(
    trial_images: int, case_admitted: bool
) -> None:
    budget = BillingBudget(1)
    assert budget.trial("probe-invalid-ratio")
    assert not budget.trial("probe-unknown-model")  # one trial at a time
    assert budget.admit("probe-invalid-ratio", billable=False)
    thread = settle_later(budget, "probe-invalid-ratio", trial_images)
    assert budget.admit("case", billable=True) is case_admitted  # waits for the trial
    thread.join(WAIT)
    assert budget.summary().images_billed == trial_images
    assert not budget.trial("probe-unknown-model")  # the claim is tested: no second trial


def test_slots_go_in_the_queued_order_whichever_thread_asks_first() -> None:
    budget = BillingBudget(1)
    budget.queue(["case-first", "case-second"])
    thread, second = asks_in_a_thread(lambda: budget.admit("case-second", billable=True))
    assert thread.is_alive()  # case-second asks first, and waits for its turn
    assert budget.admit("case-first", billable=True)
    thread.join(WAIT)
    assert second == [False]
    assert budget.summary().not_sent == ("case-second",)


def test_a_trial_refused_after_the_claim_fell_releases_the_requests_waiting_on_it() -> None:
    budget = BillingBudget(0)
    assert budget.trial("probe-invalid-ratio")
    budget.settle("probe-missing-image-url", 1)  # a keyed free request billed: the claim falls
    assert not budget.admit("probe-invalid-ratio", billable=False)
    assert not budget.admit("probe-unknown-model", billable=False)  # would hang if not released


def test_a_trial_that_gets_no_final_answer_does_not_make_keyed_requests_wait_in_turn() -> None:
    """No answer proves nothing: the claim is treated as fallen, and nothing queues behind it."""
    budget = BillingBudget(1)
    assert budget.trial("probe-invalid-ratio")
    assert budget.admit("probe-invalid-ratio", billable=False)
    budget.finish("probe-invalid-ratio", answered=False)  # 503 forever, or unreachable
    assert budget.claim == "unknown"
    assert not budget.trial("probe-unknown-model")  # no second trial to serialise behind
    assert budget.admit("probe-unknown-model", billable=False)  # takes the one slot
    assert not budget.admit("case", billable=True)


@pytest.mark.parametrize(
    ("billable", "first_billed", "slots_needed"),
    [(True, 0, True), (False, 1, True), (False, 0, False)],
    ids=["billable request", "free request whose first attempt was billed", "free and unbilled"],
)
def test_a_retry_that_can_be_billed_needs_a_slot_of_its_own(
    billable: bool, first_billed: int, slots_needed: bool
) -> None:
    budget = BillingBudget(1)
    budget.finish("probe-bad-key", answered=True)  # nothing to do with the claim
    assert budget.admit("request", billable=billable)
    budget.settle("request", first_billed)
    assert budget.admit_retry("request", billable=billable) is (not slots_needed)
    spend = budget.summary()
    assert spend.retries_not_sent == (("request",) if slots_needed else ())
    assert spend.billable_sent == (1 if billable else 0)  # a retry sent for free takes no slot


def test_an_endpoint_billing_every_retry_costs_no_more_than_the_budget() -> None:
    """Three billed 503s and a billed 200 per request, at --max-billed 1: one image, no more."""
    budget = BillingBudget(1)
    sent = 0
    for name in ("case-a", "case-b"):
        if not budget.admit(name, billable=True):
            continue
        for attempt in range(4):
            if attempt and not budget.admit_retry(name, billable=True):
                break
            sent += 1
            budget.settle(name, 1)
    assert budget.summary().images_billed == sent == 1


def test_cancelling_releases_every_request_waiting_for_its_turn() -> None:
    budget = BillingBudget(1)
    assert budget.trial("probe-invalid-ratio")
    thread, waiting = asks_in_a_thread(lambda: budget.admit("case", billable=True))
    assert thread.is_alive()  # waiting for the trial
    budget.cancel()
    thread.join(WAIT)
    assert waiting == [False]


def test_a_negative_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="max_billed must be >= 0"):
        BillingBudget(-1)


# -- what an answer billed ---------------------------------------------------------------------

JSON = {"content-type": "application/json"}
FAILED_A: dict[str, Any] = {
    "output": {"check_pass": False, "code": "InvalidFile.NoHuman", "message": "No human"},
    "request_id": "r-a",
}


def answer(body: Any, status: int = 200) -> Interaction:
    return Interaction(
        "live-case", RecordedRequest("POST", {}), RecordedResponse(status, JSON, body)
    )


@pytest.mark.parametrize(
    ("body", "status", "billed"),
    [
        ({**FAILED_A, "usage": {"image_count": 2}}, 200, 2),
        ({**FAILED_A, "usage": {"image_count": "two"}}, 200, 1),
        (FAILED_A, 200, 0),
        ({"code": "Throttling", "message": "slow down", "request_id": "r-429"}, 429, 0),
    ],
    ids=["usage count", "malformed usage", "no usage", "request failure"],
)
def test_an_answer_bills_its_usage_count_one_for_a_malformed_usage_and_none_without(
    body: dict[str, Any], status: int, billed: int
) -> None:
    """Rule (images_billed): the images an answer billed are its usage count, 1 when the usage
    does not say how many, and 0 without a usage (by the contracts it is handed)."""
    assert images_billed(answer(body, status), load_contracts()) == billed


# -- the Spend summary, for the report --------------------------------------------------------


def spent_budget() -> BillingBudget:
    """--max-billed 2 at CNY 0.004: a case billed twice (a retry), two cases and a retry held
    back, and a request the docs call free billed all the same."""
    budget = BillingBudget(2, price=Decimal("0.004"), currency="CNY")
    assert budget.admit("case-1", billable=True)
    budget.settle("case-1", 1)  # a billed 503
    assert budget.admit_retry("case-1", billable=True) is True  # its retry takes slot 2
    budget.settle("case-1", 1)
    assert not budget.admit("case-2", billable=True)
    assert not budget.admit("case-3", billable=True)
    assert budget.admit_retry("case-1", billable=True) is False
    budget.settle("probe-invalid-ratio", 1)  # documented free, billed all the same
    return budget


def test_the_spend_summary_reports_every_count_under_its_documented_key() -> None:
    """Rule (Spend.to_dict): the report's spend carries the budget, the billable attempts sent
    (retries included), the images billed and their cost at the price per image, the currency,
    what was not sent for the budget (requests, then retries) and what was billed though the
    docs call it free. Every billed answer adds its images, a retry's too."""
    assert spent_budget().summary().to_dict() == {
        "max_billed": 2,
        "billable_requests_sent": 2,
        "images_billed": 3,
        "cost": "0.012",
        "currency": "CNY",
        "price_per_image": "0.004",
        "not_sent_for_budget": ["case-2", "case-3"],
        "retries_not_sent_for_budget": ["case-1"],
        "billed_although_documented_free": ["probe-invalid-ratio"],
    }


def test_the_spend_line_says_what_was_spent_and_what_was_held_back_for_the_budget() -> None:
    """Rule (Spend.__str__): one line with the images, the cost, the attempts sent and the
    budget, then how many requests and how many retries were not sent to stay within it; a
    budget's repr is that line."""
    budget = spent_budget()
    line = str(budget.summary())
    assert line == (
        "spent 3 image(s), CNY 0.012 (2 billable attempt(s) sent; --max-billed 2)"
        "; 2 not sent to stay within the budget; 1 retries not sent to stay within it"
    )
    assert repr(budget) == f"BillingBudget({line})"


def test_a_spend_built_without_retries_held_back_reports_none_and_cannot_be_changed() -> None:
    """Rule (Spend): a summary is a record for the report: no retries held back unless told,
    and no one can alter it after the budget gave it."""
    spend = Spend(
        max_billed=1,
        billable_sent=1,
        images_billed=1,
        not_sent=("case-2",),
        billed_unexpectedly=(),
        price=Decimal("0.004"),
        currency="CNY",
    )
    assert spend.to_dict()["retries_not_sent_for_budget"] == []
    assert str(spend).endswith("; 1 not sent to stay within the budget")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spend.images_billed = 0  # type: ignore[misc]


def test_a_budget_given_no_price_reports_its_images_at_no_cost_in_no_currency() -> None:
    """Rule (BillingBudget): the price and the currency come from the endpoint profile; a
    budget not given them counts the images and costs nothing."""
    budget = BillingBudget(1)
    assert budget.admit("case", billable=True)
    budget.settle("case", 1)
    spend = budget.summary()
    assert (spend.price, spend.currency, spend.cost) == (Decimal(0), "", Decimal(0))
    assert spend.to_dict()["cost"] == "0"


# -- the end of the run ------------------------------------------------------------------------


def test_a_cancelled_run_sends_nothing_more_and_blames_none_of_it_on_the_budget() -> None:
    """Rule (cancel): once the run is over, every keyed request is refused, and it is not
    noted as not sent for the budget (the run ended; slots were left)."""
    budget = BillingBudget(5)
    assert budget.cancelled is False
    budget.cancel()
    assert budget.cancelled is True
    assert not budget.admit("case", billable=True)
    assert not budget.admit("probe-invalid-ratio", billable=False)
    assert budget.admit("probe-no-key", billable=False, keyed=False)  # nothing to bill
    assert budget.summary().not_sent == ()


# -- the order of the slots --------------------------------------------------------------------


def test_a_request_waits_for_every_request_queued_before_it_across_queue_calls() -> None:
    """Rule (queue): keyed requests are admitted in the order queued, the examples queued later
    after the cases queued first; a request's turn comes only once each one before it is
    decided, the one just before it included."""
    budget = BillingBudget(2)
    budget.queue(["case-1", "case-2"])
    budget.queue(["case-1", "example-01"])  # the examples, drawn later; case-1 is queued already
    assert budget.admit("case-1", billable=True)
    thread, late = asks_in_a_thread(lambda: budget.admit("example-01", billable=True))
    try:
        assert thread.is_alive()  # example-01 waits: case-2, just before it, is not decided
        assert budget.admit("case-2", billable=True)
        thread.join(WAIT)
        assert late == [False]
        assert budget.summary().not_sent == ("example-01",)
    finally:
        budget.cancel()  # releases the thread, whatever happened


def test_every_decision_passes_the_turn_to_the_next_queued_request() -> None:
    """Rule (queue): a request is decided when admitted for free, admitted with a slot or
    refused, and each of these lets the next one in the queue go; none waits for ever."""
    budget = BillingBudget(1)
    order = ["probe-invalid-ratio", "case-1", "case-2", "case-3"]
    budget.queue(order)
    answers: list[bool] = []

    def send_in_order() -> None:
        answers.append(budget.admit("probe-invalid-ratio", billable=False))  # the trial, free
        budget.settle("probe-invalid-ratio", 0)
        budget.finish("probe-invalid-ratio", answered=True)
        answers.extend(budget.admit(name, billable=True) for name in order[1:])

    thread = threading.Thread(target=send_in_order, daemon=True)
    thread.start()
    thread.join(WAIT)
    budget.cancel()  # releases it if it hangs
    thread.join(WAIT)
    assert answers == [True, True, False, False]
    assert budget.summary().not_sent == ("case-2", "case-3")


# -- the trial ---------------------------------------------------------------------------------


def test_the_first_free_keyed_request_is_the_trial_when_none_was_named() -> None:
    """Rule (the trial): the first request sent with the key that the docs call free goes out
    alone among the keyed requests, named or not, and the billable ones wait for its final
    answer; billed, it uses the budget up."""
    budget = BillingBudget(1)
    assert budget.admit("probe-invalid-ratio", billable=False)  # no trial was named
    assert not budget.trial("probe-unknown-model")  # this one is the trial
    thread, case = asks_in_a_thread(lambda: budget.admit("case", billable=True))
    try:
        assert thread.is_alive()  # the case waits for the trial's answer
        budget.settle("probe-invalid-ratio", 1)
        budget.finish("probe-invalid-ratio", answered=True)
        thread.join(WAIT)
        assert case == [False]
        assert budget.claim == "broken"
    finally:
        budget.cancel()


def test_only_an_answer_to_a_free_keyed_request_tests_the_claim_that_failures_are_free() -> None:
    """Rule (finish): the claim is confirmed by an unbilled final answer to a documented-free
    request sent with the key; an unbilled answer to a billable request, or to one without the
    key, says nothing of it, and the trial is still to come."""
    budget = BillingBudget(1)
    assert budget.admit("probe-no-key", billable=False, keyed=False)
    budget.finish("probe-no-key", answered=True)
    assert budget.admit("case", billable=True)
    budget.settle("case", 0)
    budget.finish("case", answered=True)
    assert budget.claim == "untested"
    assert budget.trial("probe-invalid-ratio")


# -- retries -----------------------------------------------------------------------------------


def test_a_billable_retry_takes_a_slot_of_its_own_while_one_is_left() -> None:
    """Rule (admit_retry): every attempt that can be billed, retries included, takes a slot,
    and a retry that finds none is not sent; each billed answer counts."""
    budget = BillingBudget(3)
    assert budget.admit("case", billable=True)
    budget.settle("case", 1)
    assert budget.admit_retry("case", billable=True) is True
    budget.settle("case", 1)
    assert budget.admit_retry("case", billable=True) is True
    budget.settle("case", 1)
    assert budget.admit_retry("case", billable=True) is False
    spend = budget.summary()
    assert (spend.billable_sent, spend.images_billed) == (3, 3)
    assert spend.retries_not_sent == ("case",)


def test_a_retry_without_the_key_is_always_sent() -> None:
    """Rule (admit_retry): without the key nothing can be billed, so no slot is needed."""
    budget = BillingBudget(0)
    assert budget.admit("probe-no-key", billable=True, keyed=False)
    budget.settle("probe-no-key", 1, keyed=False)
    assert budget.admit_retry("probe-no-key", billable=True, keyed=False) is True
    spend = budget.summary()
    assert (spend.billable_sent, spend.images_billed, spend.retries_not_sent) == (0, 0, ())


# --- several models: one pool, each model's spend ---------------------------------------------


def test_a_pool_never_admits_more_than_its_cap_across_its_budgets() -> None:
    """The budgets of several models share one cap: slots taken by one are gone for all."""
    pool = BudgetPool(2)
    first, second = BillingBudget(99, pool=pool), BillingBudget(99, pool=pool)
    assert first.max_billed == second.max_billed == 2
    assert first.admit("a", billable=True)
    assert second.admit("b", billable=True)
    assert not first.admit("c", billable=True)
    assert not second.admit("d", billable=True)
    assert (first.summary().not_sent, second.summary().not_sent) == (("c",), ("d",))
    alone = BillingBudget(2)  # outside the pool: its own cap
    assert alone.admit("e", billable=True) and alone.admit("f", billable=True)


def test_the_spend_of_several_models_sums_them_and_prices_each_in_its_own_currency() -> None:
    def spend(images: int, price: str | None, currency: str | None) -> Spend:
        return Spend(8, images, images, (), (), None if price is None else Decimal(price), currency)

    both = Spend.of_models([("a", spend(2, "0.004", "CNY")), ("b", spend(3, "0.004", "CNY"))])
    assert (both.images_billed, both.cost, both.currency) == (5, Decimal("0.020"), "CNY")
    unpriced = Spend.of_models([("a", spend(2, "0.004", "CNY")), ("b", spend(1, None, None))])
    assert unpriced.cost is None  # a model that billed states no price: no total is made up
    free = Spend.of_models([("a", spend(2, "0.004", "CNY")), ("b", spend(0, None, None))])
    assert free.cost == Decimal("0.008")  # a model that billed nothing costs nothing
    assert "by model: a 2 image(s) CNY 0.008, b 0 image(s)" in str(free)
    assert set(both.to_dict()["by_model"]) == {"a", "b"}


def _spend(images: int, price: str | None, currency: str | None, **more: Any) -> Spend:
    fields: dict[str, Any] = {"max_billed": 8, "billable_sent": images, "images_billed": images,
                              "not_sent": (), "billed_unexpectedly": (), **more}  # fmt: skip
    return Spend(**fields, price=None if price is None else Decimal(price), currency=currency)


def test_the_spend_of_several_models_keeps_every_figure_of_each() -> None:
    a = _spend(2, "0.004", "CNY", not_sent=("a/x",), retries_not_sent=("a/r",), max_billed=5)
    b = _spend(3, "0.004", "CNY", billed_unexpectedly=("b/y",), not_sent=("b/z",), max_billed=3)
    both = Spend.of_models([("a", a), ("b", b)])
    assert both == Spend(
        max_billed=5,
        billable_sent=5,
        images_billed=5,
        not_sent=("a/x", "b/z"),
        billed_unexpectedly=("b/y",),
        price=Decimal("0.004"),
        currency="CNY",
        retries_not_sent=("a/r",),
        by_model=(("a", a), ("b", b)),
    )
    assert _spend(1, "1", "CNY").by_model == ()  # one model's spend has no parts
    with pytest.raises(ValueError, match=r"^a spend of several models needs at least one$"):
        Spend.of_models([])


def test_the_spend_of_several_models_prices_only_what_it_can() -> None:
    two_prices = Spend.of_models([("a", _spend(1, "0.004", "CNY")), ("b", _spend(1, "0.1", "CNY"))])
    assert (two_prices.price, two_prices.currency, two_prices.cost) == (
        None,
        "CNY",
        Decimal("0.104"),
    )
    two_currencies = Spend.of_models([("a", _spend(1, "1", "CNY")), ("b", _spend(1, "1", "USD"))])
    assert (two_currencies.currency, two_currencies.cost) == (None, None)
    # nothing billed: the currency of the priced models, and a total of exactly nothing
    idle = Spend.of_models([("a", _spend(0, "0.004", "CNY")), ("b", _spend(0, None, None))])
    assert idle.currency == "CNY"
    assert isinstance(idle.cost, Decimal) and str(idle.cost) == "0"
    unpriced = Spend.of_models([("a", _spend(2, "0.004", "CNY")), ("b", _spend(1, None, None))])
    assert unpriced.to_dict()["cost"] is None and unpriced.to_dict()["price_per_image"] is None


def test_a_spend_says_what_it_cost_in_one_line() -> None:
    assert str(_spend(2, None, None)) == (
        "spent 2 image(s), at a price the docs do not state (2 billable attempt(s) sent; "
        "--max-billed 8)"
    )
    assert str(_spend(2, "0.004", None)).startswith("spent 2 image(s), 0.008 (")
    several = Spend.of_models([("a", _spend(2, "0.004", "CNY")), ("b", _spend(1, None, None))])
    assert str(several) == (
        "spent 3 image(s), at prices the docs do not all state, or not in one currency (3 billable "
        "attempt(s) sent; --max-billed 8); by model: a 2 image(s) CNY 0.008, b 1 image(s)"
    )
    free = Spend.of_models([("a", _spend(2, "0.004", None)), ("b", _spend(0, None, None))])
    assert str(free).endswith("; by model: a 2 image(s) 0.008, b 0 image(s)")
    blank = Spend.of_models([("a", _spend(2, "0.004", "")), ("b", _spend(0, None, None))])
    assert str(blank).endswith("; by model: a 2 image(s) 0.008, b 0 image(s)")  # "" is none


def test_a_pool_is_one_lock_and_one_cap_from_zero() -> None:
    with pytest.raises(ValueError, match="max_billed must be >= 0, not -1"):
        BudgetPool(-1)
    empty = BudgetPool(0)
    member = BillingBudget(5, pool=empty)
    assert member._lock is empty.lock  # one lock: one state across the models
    assert not member.admit("a", billable=True)
    assert repr(empty) == "BudgetPool(max_billed=0, models=1)"


def test_a_pool_keeps_a_slot_for_each_model_still_without_one() -> None:
    """A model's first slot is first come; a further one leaves a slot for every other model
    still running without any, until that model's run is done."""
    pool = BudgetPool(3)
    fast, slow, idle = (BillingBudget(3, pool=pool) for _ in range(3))
    assert fast.admit("f1", billable=True)
    assert not fast.admit("f2", billable=True)  # 1 used + 2 kept for slow and idle
    assert slow.admit("s1", billable=True)
    assert not fast.admit("f3", billable=True)  # 2 used + 1 kept for idle
    idle.close()  # its run is done: nothing is kept for it
    assert fast.admit("f4", billable=True)
    assert not slow.admit("s2", billable=True)  # the cap
    assert (fast.summary().not_sent, slow.summary().not_sent) == (("f2", "f3"), ("s2",))
    assert (fast.closed, idle.closed) == (False, True)
    roomy = BudgetPool(4)  # one slot kept for each of the two others: one more for the first
    ahead, *others = (BillingBudget(4, pool=roomy) for _ in range(3))
    assert ahead.admit("a1", billable=True) and ahead.admit("a2", billable=True)
    assert not ahead.admit("a3", billable=True)  # 2 used + 2 kept
    assert all(other.admit(f"o{i}", billable=True) for i, other in enumerate(others))
    first = BudgetPool(1)  # fewer slots than models: the first come takes it
    one, other = BillingBudget(1, pool=first), BillingBudget(1, pool=first)
    assert one.admit("o1", billable=True) and not other.admit("x1", billable=True)
