"""The bounded memo: at most its size, the least recently used entry dropped first."""

from __future__ import annotations

import threading

import pytest

from facedetect_contract.core.memo import Memo


def test_the_least_recently_used_entry_is_dropped_first() -> None:
    memo: Memo[str, int] = Memo(2)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1  # a is now the most recent
    memo.put("c", 3)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (1, None, 3)
    assert len(memo) == 2


def test_putting_a_key_again_replaces_its_value_and_refreshes_it() -> None:
    memo: Memo[str, int] = Memo(2)
    memo.put("a", 1)
    memo.put("b", 2)
    memo.put("a", 10)
    memo.put("c", 3)
    assert (memo.get("a"), memo.get("b")) == (10, None)


def test_a_memo_of_no_entries_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one entry"):
        Memo(0)


def test_threads_sharing_a_memo_never_see_it_beyond_its_size() -> None:
    memo: Memo[int, int] = Memo(16)
    sizes: list[int] = []
    wrong: list[tuple[int, int | None]] = []

    def fill(offset: int) -> None:
        for i in range(2000):
            memo.put(offset + i, i)
            got = memo.get(offset + i)
            if got not in (i, None):  # None: another thread pushed it out meanwhile
                wrong.append((i, got))
            sizes.append(len(memo))

    threads = [threading.Thread(target=fill, args=(n * 10_000,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not wrong
    assert max(sizes) <= 16 and len(memo) == 16
