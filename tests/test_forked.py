"""The forked work split: the serial answer in task order, the tail of it from a
child when it can fork, all of it from the parent when the child fails."""

from __future__ import annotations

import time

import pytest

from skyplan import forked

pytestmark = pytest.mark.skipif(not forked.enabled(), reason="splitting needs Linux and a second core")


def _square(ran: list, seconds=lambda x: 0.0):
    def fn(x: int) -> int:
        ran.append(x)  # in the parent's memory only: what the child runs is not seen here
        time.sleep(seconds(x))
        return x * x
    return fn


def test_the_parent_runs_the_front_the_child_the_back_and_the_order_is_kept():
    ran: list[int] = []
    out = forked.map_split(_square(ran, lambda x: 0.005), list(range(50)), lambda r: ("sq", r), lambda e: e[1],
                           least=2)
    assert out == [x * x for x in range(50)]
    assert 0 < len(ran) < 50 and ran == list(range(len(ran)))  # a prefix: the rest came from the child


def test_the_two_meet_where_the_work_balances():
    """Cheap tasks at the front, dear ones at the back: the parent gets through far
    more than half of the list while the child runs the few dear ones."""
    ran: list[int] = []
    out = forked.map_split(_square(ran, lambda x: 0.001 if x < 30 else 0.05), list(range(40)), lambda r: r,
                           lambda e: e, least=2)
    assert out == [x * x for x in range(40)]
    assert len(ran) > 25


def test_a_failing_child_is_replaced_by_the_parent():
    def encode(r):
        raise ValueError("cannot cross")

    ran: list[int] = []
    out = forked.map_split(_square(ran), list(range(9)), encode, lambda e: e, least=2)
    assert out == [x * x for x in range(9)]
    assert sorted(ran) == list(range(9))


def test_an_answer_that_does_not_decode_is_run_again():
    def decode(e):
        raise KeyError(e)

    ran: list[int] = []
    assert forked.map_split(_square(ran, lambda x: 0.01), [3, 4, 5], lambda r: r, decode, least=2) == [9, 16, 25]
    assert sorted(ran) == [3, 4, 5]  # what the child ran, run again here


def test_few_tasks_or_splitting_off_run_in_the_parent(monkeypatch):
    ran: list[int] = []
    assert forked.map_split(_square(ran), [1, 2], lambda r: r, lambda e: e) == [1, 4]
    assert ran == [1, 2]
    monkeypatch.setenv("SKYPLAN_PARALLEL", "0")
    ran.clear()
    assert forked.map_split(_square(ran), list(range(6)), lambda r: r, lambda e: e, least=2) == [x * x for x in range(6)]
    assert ran == list(range(6))


def test_the_parents_error_reaches_the_caller():
    def fn(x):
        if x == 0:
            raise RuntimeError("parent task failed")
        return x

    with pytest.raises(RuntimeError, match="parent task failed"):
        forked.map_split(fn, list(range(4)), lambda r: r, lambda e: e, least=2)
