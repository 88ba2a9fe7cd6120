"""Pacing: request starts spread so a run stays under the documented rate limit."""

from __future__ import annotations

import threading

import pytest

from facedetect_contract.pacing import GUARD_S, Pacer


def test_the_pacer_never_starts_more_than_qps_requests_in_a_guarded_second() -> None:
    now = [0.0]
    starts: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(5, clock=lambda: now[0], sleep=sleep)
    for _ in range(12):
        pacer.wait()
        starts.append(now[0])
    window = 1 + GUARD_S
    assert starts[:5] == [0.0] * 5
    assert starts[5:10] == pytest.approx([window] * 5)
    assert starts[10:] == pytest.approx([2 * window] * 2)
    for index, start in enumerate(starts):
        in_window = [s for s in starts[: index + 1] if s > start - window + 1e-9]
        assert len(in_window) <= 5
    slept: list[float] = []
    Pacer(0, sleep=slept.append).wait()
    assert slept == []


def test_threads_sharing_a_pacer_are_spaced_as_one_stream() -> None:
    """Eight threads at 2 qps: two start at once, then two per guarded window, in any order."""
    slept: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            slept.append(seconds)

    pacer = Pacer(2, clock=lambda: 0.0, sleep=sleep)
    threads = [threading.Thread(target=pacer.wait) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    window = 2 / 2 + GUARD_S
    assert sorted(slept) == pytest.approx([window] * 2 + [2 * window] * 2 + [3 * window] * 2)
