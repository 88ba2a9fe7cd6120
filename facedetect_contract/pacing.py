"""Pacing: request starts spread so a run stays under the endpoint's documented rate limit.

The limit is a count per second, so up to ``int(qps)`` requests may start together; the next one
waits until the oldest of them is a window old, plus a guard. Retries are paced too: every attempt
counts.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable

__all__ = ["GUARD_S", "Pacer"]

# Each window is stretched by this guard: the gateway counts a request when it arrives, and
# arrivals spread from our starts by the route's jitter, a time, not a share of the rate. 50 ms
# covers the jitter of a steady route; a request it does not cover is answered 429, which is not
# billed, and retried after its Retry-After (also paced).
GUARD_S = 0.05


class Pacer:
    """Spaces request starts across threads so a run stays under ``qps`` (0: no pacing).

    The limit is a count per second, so up to ``int(qps)`` requests may start together; the
    next one waits until the oldest of them is a window old. The window is stretched by
    ``GUARD_S``, because the gateway counts arrivals and we can only time starts.
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
        self._starts: collections.deque[float] = collections.deque(maxlen=self._burst or 1)
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self._burst:
            return
        with self._lock:
            now = self._clock()
            start = now
            if len(self._starts) == self._burst:
                start = max(now, self._starts[0] + self._window)
            self._starts.append(start)
        if start > now:
            self._sleep(start - now)
