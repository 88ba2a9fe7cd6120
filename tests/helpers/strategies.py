"""Drawing from a Hypothesis strategy outside a ``@given`` test of its own: what a strategy
reaches within so many draws (the generation tests and the OpenAPI tests ask it of the same
strategies)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

__all__ = ["draw_many", "draw_until"]


class _Enough(Exception):
    """Raised by draw_until's test once the draws hold what it waits for."""


def draw_until(
    strategy: st.SearchStrategy[Any], enough: Callable[[list[Any]], bool], limit: int
) -> list[Any]:
    """Draws (derandomized) until ``enough(drawn)`` holds or ``limit`` were drawn, whichever
    comes first: an assertion on what a strategy reaches within ``limit`` draws, without paying
    for the draws after it is settled (the failing example is not shrunk: nothing failed)."""
    found: list[Any] = []

    @settings(
        max_examples=limit,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        phases=[Phase.generate],
        print_blob=False,
    )
    @given(strategy)
    def collect(drawn: Any) -> None:
        found.append(drawn)
        if enough(found):
            raise _Enough

    with contextlib.suppress(_Enough):
        collect()
    return found


def draw_many(strategy: st.SearchStrategy[Any], count: int = 300) -> list[Any]:
    """``count`` draws (derandomized), all of them."""
    return draw_until(strategy, lambda _found: False, count)
