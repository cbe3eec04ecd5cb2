"""Transient errors retry with bounded, jittered exponential backoff (no real sleeping)."""

from __future__ import annotations

import pytest

from skyplan.apply.retry import RetryPolicy, call_with_retry
from skyplan.errors import CapacityError, TransientError


def _flaky(n_failures, exc=TransientError):
    calls = []

    def fn():
        calls.append(1)
        if len(calls) <= n_failures:
            raise exc("throttled")
        return "ok"

    return fn, calls


def test_retries_until_success_with_growing_waits():
    waits = []
    policy = RetryPolicy(attempts=5, base=1.0, cap=100, total=1000, sleep=waits.append, rand=lambda: 1.0)
    fn, calls = _flaky(3)
    assert call_with_retry(fn, policy) == "ok"
    assert len(calls) == 4
    assert waits == [1.0, 2.0, 4.0]


def test_attempts_are_bounded():
    waits = []
    fn, calls = _flaky(10)
    with pytest.raises(TransientError):
        call_with_retry(fn, RetryPolicy(attempts=3, sleep=waits.append))
    assert len(calls) == 3 and len(waits) == 2


def test_total_wait_is_bounded_and_cap_applies():
    waits = []
    policy = RetryPolicy(attempts=100, base=1.0, cap=4.0, total=10.0, sleep=waits.append, rand=lambda: 1.0)
    fn, _ = _flaky(100)
    with pytest.raises(TransientError):
        call_with_retry(fn, policy)
    assert max(waits) <= 4.0 and sum(waits) <= 10.0


def test_jitter_is_within_the_window():
    policy = RetryPolicy(base=2.0, cap=50, rand=lambda: 0.25)
    assert policy.delay(3) == pytest.approx(0.25 * 8.0)


def test_other_errors_are_not_retried():
    fn, calls = _flaky(1, exc=lambda m: CapacityError(m, scope="zone"))
    with pytest.raises(CapacityError):
        call_with_retry(fn, RetryPolicy(sleep=lambda s: None))
    assert len(calls) == 1


def test_a_servers_retry_after_is_waited_at_least_up_to_the_cap():
    waits = []
    policy = RetryPolicy(attempts=5, base=0.5, cap=10, total=1000, sleep=waits.append, rand=lambda: 1.0)
    throttled = [TransientError("429"), TransientError("429")]
    throttled[0].retry_after = 3
    throttled[1].retry_after = 60

    def fn():
        if throttled:
            raise throttled.pop(0)
        return "ok"

    assert call_with_retry(fn, policy) == "ok"
    assert waits == [3.0, 10.0]
