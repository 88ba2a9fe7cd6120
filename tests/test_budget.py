"""The billing budget: what can be billed, and never more billable requests than --max-billed."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from facedetect_contract.budget import BillingBudget, may_be_billed
from facedetect_contract.interaction import Expectation

REJECTED = Expectation(True, "documented rejection", "docs")
SILENT = Expectation(False, "the docs are silent", "docs")


@pytest.mark.parametrize(
    ("auth", "expectation", "headers", "billable"),
    [
        ("key", None, {}, True),
        ("key", SILENT, {}, True),
        ("key", REJECTED, {}, False),
        ("key", REJECTED, {"X-DashScope-Async": "enable"}, True),
        ("none", None, {}, False),
        ("invalid", SILENT, {}, False),
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
    auth: str, expectation: Expectation | None, headers: dict[str, str], billable: bool
) -> None:
    assert may_be_billed(auth=auth, expectation=expectation, headers=headers) is billable


def test_concurrent_reservations_never_exceed_the_budget() -> None:
    budget = BillingBudget(5)
    granted: list[bool] = []
    lock = threading.Lock()

    def reserve(index: int) -> None:
        result = budget.reserve(f"request-{index}")
        with lock:
            granted.append(result)

    threads = [threading.Thread(target=reserve, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 5
    assert len(budget.summary().not_sent) == 45


def test_an_image_billed_for_a_free_request_uses_up_the_budget() -> None:
    budget = BillingBudget(2)
    assert budget.reserve("case")
    budget.charge("case", 1)
    budget.charge("probe-invalid-ratio", 1)  # documented free, billed all the same
    assert not budget.reserve("example-01")
    spend = budget.summary()
    assert spend.images_billed == 2
    assert spend.cny == Decimal("0.008")
    assert spend.billed_unexpectedly == ("probe-invalid-ratio",)
    assert "spent 2 image(s), CNY 0.008" in str(spend)


def test_a_negative_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="max_billed must be >= 0"):
        BillingBudget(-1)
