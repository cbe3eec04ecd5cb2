"""``logs --follow`` on clouds that hand out only the latest console output: each new
read prints only the lines after what was printed, also when the cloud's window slid
past the start, and the follow ends once the node stops."""

from __future__ import annotations

import pytest

from skyplan.providers.follow import new_lines, poll_follow


@pytest.mark.parametrize("printed, now, new", [
    ([], ["a", "b"], ["a", "b"]),
    (["a", "b"], ["a", "b"], []),
    (["a", "b"], ["a", "b", "c"], ["c"]),
    (["a", "b", "c"], ["b", "c", "d", "e"], ["d", "e"]),  # the window slid by one line
    (["a", "b"], ["x", "y"], ["x", "y"]),  # slid past everything printed
    (["x", "x"], ["x", "x", "x"], ["x"]),
])
def test_new_lines_after_the_printed_tail(printed, now, new):
    assert new_lines(printed, now) == new


def test_poll_follow_reads_until_the_node_stops():
    reads = iter([["boot"], ["boot", "step 1"], ["step 1", "step 2", "done"]])
    states = iter(["running", "running", "stopped"])
    assert list(poll_follow(lambda: next(reads), lambda: next(states), 0)) == ["boot", "step 1", "step 2", "done"]
