"""``logs --follow`` for clouds that only hand out the latest console output (EC2's
``GetConsoleOutput``, Azure's boot-diagnostics serial log): read it again every few
seconds, print the lines after the part already printed, and stop once the node no
longer runs. The window a cloud keeps slides (EC2 keeps the last 64 KiB), so the new
part is found by where the lines printed last end in the new read, not by offset."""

from __future__ import annotations

import time
from typing import Callable, Iterator, Sequence

RUNNING = ("pending", "running")


def new_lines(printed: Sequence[str], now: Sequence[str]) -> list[str]:
    """The lines of ``now`` after the longest tail of ``printed`` it starts with (all of
    ``now`` when they share none: the window moved past everything printed)."""
    for k in range(min(len(printed), len(now)), 0, -1):
        if list(printed[len(printed) - k:]) == list(now[:k]):
            return list(now[k:])
    return list(now)


def poll_follow(read_lines: Callable[[], list[str]], read_state: Callable[[], str | None],
                interval: float) -> Iterator[str]:
    """Every ``interval`` s: the node's state, then its output (so nothing written before
    it stopped is missed); new lines are yielded; ends when the state is not running,
    or at once when the node is gone (``read_state`` returns None: its log went with it)."""
    printed: list[str] = []
    while True:
        state = read_state()
        if state is None:
            return
        lines = read_lines()
        yield from new_lines(printed, lines)
        printed = lines
        if state not in RUNNING:
            return
        time.sleep(interval)
