"""Pacing: request starts spread so a run stays under the documented rate limit."""

from __future__ import annotations

import threading

import pytest

from facedetect_contract.core.pacing import GUARD_S, Pacer


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


def test_a_request_counts_from_when_its_last_byte_left() -> None:
    """The gateway sees a request when it arrives: one slow to leave (a connection to open)
    counts from when it was sent, and the request a burst after it waits a window from then."""
    now = [0.0]
    pacer = Pacer(2, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    first, second = pacer.wait(), pacer.wait()
    assert (first, second, now[0]) == (0, 1, 0.0)
    now[0] = 0.3  # the first one's bytes leave only now
    assert first is not None
    pacer.sent(first)
    pacer.wait()
    assert now[0] == pytest.approx(0.3 + 1 + GUARD_S)


def test_a_request_already_waiting_waits_longer_when_an_earlier_one_leaves_late() -> None:
    """The third request planned its start a window after the first's start; while it sleeps,
    the first is sent late: it wakes, sees that, and waits the rest."""
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 1:  # meanwhile, on another thread, the first one's last byte leaves
            now[0] = 0.5
            pacer.sent(0)
        now[0] += seconds

    pacer = Pacer(2, clock=lambda: now[0], sleep=sleep)
    assert (pacer.wait(), pacer.wait(), slept) == (0, 1, [])  # the first two start at once
    pacer.wait()
    assert slept[0] == pytest.approx(1 + GUARD_S)
    assert now[0] == pytest.approx(0.5 + 1 + GUARD_S)
