"""Retry budgets at their edges, on a clock and a random source the test controls.

Written for `make mutate` (issue 24 item 5): the transport tests prove throttles outlast faults,
but not where each budget ends (the attempt that is the last, a delay that exactly fills the time
budget, waits for the limiter's slot that count against nothing).
"""

from __future__ import annotations

import pytest

from airflow_provider_rtc import retry
from airflow_provider_rtc.errors import RtcApiError, RtcThrottledError, RtcTransientError
from airflow_provider_rtc.retry import RetryClock, RetryPolicy

FAULT = RtcTransientError("reset", maybe_executed=False)
THROTTLE = RtcThrottledError("slow down", maybe_executed=False)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def top(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every jitter draws its upper bound, so delays are exact."""
    monkeypatch.setattr(retry.random, "uniform", lambda low, high: high)


@pytest.mark.parametrize(
    "kwargs",
    [{"initial_delay": -0.1}, {"max_delay": -1}, {"total_timeout": -1}, {"throttle_budget": -0.5}],
)
def test_negative_budgets_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        RetryPolicy(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_attempts": 0}, "max_attempts must be at least 1"),
        ({"total_timeout": 0}, "retry delays must be >= 0 and total_timeout > 0"),
        ({"throttle_budget": -1}, "throttle_budget must be >= 0"),
    ],
)
def test_a_bad_policy_says_which_bound_it_breaks(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        RetryPolicy(**kwargs)
    assert str(caught.value) == message


def test_zero_delays_and_one_attempt_are_allowed() -> None:
    policy = RetryPolicy(max_attempts=1, initial_delay=0, max_delay=0, total_timeout=0.5, throttle_budget=0)
    assert policy.delay(1) == 0
    assert RetryClock(policy, now=Clock()).next_delay(FAULT, idempotent=True) is None  # the one attempt


def test_fault_delays_double_from_the_initial_delay_up_to_the_cap(top: None) -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=3)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 3.0]


def test_throttle_delay_grows_threefold_from_its_base_and_is_capped(top: None) -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=8)
    assert policy.throttle_delay(0) == 0.5  # nothing before: the base
    assert policy.throttle_delay(0.5) == 1.5
    assert policy.throttle_delay(2) == 6
    assert policy.throttle_delay(5) == 8
    assert RetryPolicy(initial_delay=0).throttle_delay(0) == 0.001  # never a busy loop


def test_the_last_attempt_gets_no_retry(top: None) -> None:
    budget = RetryClock(RetryPolicy(max_attempts=3, initial_delay=1, total_timeout=600), now=Clock())
    assert budget.next_delay(FAULT, idempotent=True) == 1
    assert budget.next_delay(FAULT, idempotent=True) == 2
    assert budget.next_delay(FAULT, idempotent=True) is None
    assert budget.faults == 3


def test_a_failure_that_is_not_retried_gives_up_at_once() -> None:
    budget = RetryClock(RetryPolicy(max_attempts=5), now=Clock())
    assert budget.next_delay(RtcApiError("no"), idempotent=True) is None
    executed = RtcTransientError("timeout after sending", maybe_executed=True)
    assert RetryClock(RetryPolicy(), now=Clock()).next_delay(executed, idempotent=False) is None


def test_a_delay_that_exactly_fills_the_time_budget_is_taken(top: None) -> None:
    clock = Clock()
    budget = RetryClock(RetryPolicy(initial_delay=2, max_delay=2, total_timeout=10), now=clock)
    clock.t += 8  # 8 s spent + a 2 s delay = the 10 s budget
    assert budget.next_delay(FAULT, idempotent=True) == 2
    clock.t += 0.5  # 8.5 + 2 > 10
    assert budget.next_delay(FAULT, idempotent=True) is None


def test_limiter_waits_and_throttle_backoff_count_against_no_fault_budget(top: None) -> None:
    clock = Clock()
    budget = RetryClock(RetryPolicy(initial_delay=2, max_delay=2, total_timeout=10), now=clock)
    assert budget.started == 1000.0
    clock.t += 30  # 20 s waiting for the limiter's slot, 9 s of throttle backoff, 1 s of the call
    budget.paced, budget.throttle_sleep = 20, 9
    assert budget.spent() == 1
    assert budget.next_delay(FAULT, idempotent=True) == 2


def test_throttles_stop_at_the_throttle_budget_and_use_no_attempt(top: None) -> None:
    clock = Clock()
    budget = RetryClock(
        RetryPolicy(max_attempts=1, initial_delay=1, max_delay=4, throttle_budget=10), now=clock
    )
    delays = []
    while (delay := budget.next_delay(THROTTLE, idempotent=False)) is not None:
        delays.append(delay)
        clock.t += delay
    assert delays == [1, 3, 4] and budget.throttle_sleep == 8 and budget.faults == 0
    # 8 s slept + a 4 s delay > 10: given up; but the limiter's waits do not count
    budget.paced = 2
    assert budget.next_delay(THROTTLE, idempotent=False) == 4  # 8 - 2 + 4 = 10: exactly the budget


def test_a_throttle_budget_of_zero_gives_up_at_the_first_throttle() -> None:
    assert (
        RetryClock(RetryPolicy(throttle_budget=0), now=Clock()).next_delay(THROTTLE, idempotent=True) is None
    )
