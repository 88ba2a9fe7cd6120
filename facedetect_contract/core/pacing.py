"""Pacing: request starts spread so a run stays under the endpoint's documented rate limit.

The limit is a count per second, so up to ``int(qps)`` requests may start together; the next one
waits until the oldest of them is a window old, plus a guard, counted from when its last byte
left. Retries are paced too: every attempt counts.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

__all__ = ["GUARD_S", "Pacer"]

# Each window is stretched by this guard: the gateway counts a request when it arrives, and
# arrivals spread from our starts by the route's jitter, a time, not a share of the rate. 25 ms
# covers the jitter of a steady route; a request it does not cover is answered 429, which is not
# billed, is retried after its Retry-After (also paced) and is counted in the report; a route
# that sees them often: a lower --live-qps.
GUARD_S = 0.025


class Pacer:
    """Spaces request starts across threads so a run stays under ``qps`` (0: no pacing).

    The limit is a count per second, so up to ``int(qps)`` requests may start together; request
    ``k`` waits until request ``k - int(qps)`` (and every one before it) is a window old. A
    request's time is when it started, moved to when its last byte was written once the
    transport says so (``sent``): a request slow to leave (a connection to open, a thread that
    waited for the interpreter) is counted from when the gateway can have seen it, and the ones
    after it wait for that. The window is stretched by ``GUARD_S`` for the route's jitter.
    """

    def __init__(
        self,
        qps: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._burst = max(1, int(qps)) if qps > 0 else 0
        self._window = self._burst / qps + GUARD_S if qps > 0 else 0.0
        self._clock, self._sleep = clock, sleep
        self._times: list[float] = []  # per request, in the order they asked to start
        self._lock = threading.Lock()

    def starts_within(self, seconds: float) -> int | None:
        """How many requests may start within ``seconds`` of the first, at best (None: unpaced).

        Slots are taken by retries too, so fewer may start; never more."""
        if not self._burst:
            return None
        return self._burst * max(1, math.ceil(seconds / self._window))

    def time_to_start(self, count: int) -> float:
        """Seconds from the first start to the start of the ``count``-th request, at best."""
        if not self._burst or count <= self._burst:
            return 0.0
        return (math.ceil(count / self._burst) - 1) * self._window

    def _earliest(self, slot: int) -> float:
        """When request ``slot`` may start: a window after the latest of the requests at least
        a burst before it (their times only ever move later)."""
        if slot < self._burst:
            return float("-inf")
        return max(self._times[: slot - self._burst + 1]) + self._window

    def wait(self) -> int | None:
        """Block until a request may start; its slot, for ``sent`` (None without pacing)."""
        if not self._burst:
            return None
        with self._lock:
            slot = len(self._times)
            planned = max(self._clock(), self._earliest(slot))
            self._times.append(planned)
        while True:
            now = self._clock()
            if planned > now:
                self._sleep(planned - now)
            with self._lock:
                later = self._earliest(slot)  # an earlier request may have left late meanwhile
                if later <= planned:
                    self._times[slot] = max(planned, self._clock())
                    return slot
                planned = self._times[slot] = later

    def sent(self, slot: int) -> None:
        """Request ``slot`` has just written its last byte: it counts from now."""
        with self._lock:
            self._times[slot] = max(self._times[slot], self._clock())
