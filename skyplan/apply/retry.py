"""Retrying transient provider errors (throttling, timeouts, 5xx).

Exponential backoff with full jitter: before attempt ``n`` (n >= 1) wait a random
time in ``[0, min(cap, base * 2**(n-1))]``, or longer when the error carries the
server's ``retry_after`` (seconds, from a ``Retry-After`` header; capped at
``cap``). Bounded twice: at most ``attempts``
calls and at most ``total`` seconds of waiting. ``sleep`` and ``rand`` are
injectable so tests never wait.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from skyplan.errors import TransientError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base: float = 0.5  # seconds
    cap: float = 20.0  # longest single wait
    total: float = 120.0  # longest summed wait
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    rand: Callable[[], float] = field(default=random.random, compare=False)

    def delay(self, attempt: int) -> float:
        """The wait before retry number ``attempt`` (1-based)."""
        return self.rand() * min(self.cap, self.base * (2 ** (attempt - 1)))


NO_WAIT = RetryPolicy(sleep=lambda s: None)


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy = RetryPolicy(),
    *,
    on_retry: Callable[[int, float, TransientError], None] | None = None,
) -> T:
    """Call ``fn``; on TransientError wait and call again within the policy's bounds.
    Raises the last TransientError when the bounds are reached; any other error at once."""
    waited = 0.0
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn()
        except TransientError as e:
            if attempt >= policy.attempts:
                raise
            wait = policy.delay(attempt)
            hinted = getattr(e, "retry_after", None)
            if hinted:
                wait = max(wait, min(policy.cap, float(hinted)))
            if waited + wait > policy.total:
                raise
            if on_retry is not None:
                on_retry(attempt, wait, e)
            policy.sleep(wait)
            waited += wait
