"""The billing budget: what can be billed, and never more billable requests than --max-billed."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from facedetect_contract.budget import BillingBudget, may_be_billed
from facedetect_contract.interaction import Expectation

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
        thread.join()
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


def settle_later(budget: BillingBudget, name: str, images: int) -> threading.Thread:
    """Settle ``name`` from another thread once the main thread is waiting in ``admit``."""

    def settle() -> None:
        time.sleep(0.05)
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
    thread.join()
    assert budget.summary().images_billed == trial_images
    assert not budget.trial("probe-unknown-model")  # the claim is tested: no second trial


def test_slots_go_in_the_queued_order_whichever_thread_asks_first() -> None:
    budget = BillingBudget(1)
    budget.queue(["case-first", "case-second"])
    second: list[bool] = []
    thread = threading.Thread(
        target=lambda: second.append(budget.admit("case-second", billable=True))
    )
    thread.start()
    time.sleep(0.05)  # case-second asks first, and waits for its turn
    assert budget.admit("case-first", billable=True)
    thread.join()
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
    assert budget.admit_retry("request", billable=billable) is not slots_needed
    assert budget.summary().retries_not_sent == (("request",) if slots_needed else ())


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
    waiting: list[bool] = []
    thread = threading.Thread(target=lambda: waiting.append(budget.admit("case", billable=True)))
    thread.start()
    time.sleep(0.05)
    budget.cancel()
    thread.join(timeout=2)
    assert waiting == [False]


def test_a_negative_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="max_billed must be >= 0"):
        BillingBudget(-1)
