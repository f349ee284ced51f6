"""``paused_gc`` turns the cyclic collector off for a block and restores what was there before."""

from __future__ import annotations

import gc
import threading

import pytest

from bot.gcpause import paused_gc


@pytest.fixture(autouse=True)
def _collector_on():
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_off_inside_and_back_on_after_even_when_the_block_raises():
    with pytest.raises(RuntimeError), paused_gc():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_nested_pauses_resume_only_when_the_outermost_ends():
    with paused_gc():
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_turned_off_by_someone_else_stays_off():
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()


def test_two_threads_overlapping_leave_the_collector_on():
    inside = threading.Barrier(2)
    leave_first = threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with paused_gc():
            inside.wait()
        leave_first.set()

    def second() -> None:
        with paused_gc():
            inside.wait()
            leave_first.wait(5)
            seen.append(gc.isenabled())  # the first left, the second still holds the pause

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == [False]
    assert gc.isenabled()
