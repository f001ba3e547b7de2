"""When to retry and how long to wait, shared by the sync and async transports.

Throttled answers were not executed, so they are always safe to retry, and they are not failures:
they are retried until a time budget (``throttle_budget``, 10 minutes by default) runs out, with
decorrelated jitter so workers that were throttled together do not come back together, and they do
not use up the attempts kept for faults. Time spent waiting for the rate limiter's slot is spent on
no budget at all: at ZEGO's 1 CloseRoom/s a queue of 60 callers is a minute of waiting, not a fault.

A transient fault that may have reached the server (timeout after sending, dropped connection,
5xx, ``InternalError``) is retried only for calls that are idempotent: cleanups are (a repeat hears
"already gone"), creations are not (a repeat could start a second recording).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from airflow_provider_rtc.clock import Clock, SystemClock, current_clock, use_clock
from airflow_provider_rtc.errors import RtcError, RtcThrottledError, RtcTransientError

__all__ = ["Clock", "RetryClock", "RetryPolicy", "SystemClock", "current_clock", "use_clock"]


@dataclass(frozen=True)
class RetryPolicy:
    """Faults: bounded in attempts and in total time, exponential backoff with equal jitter.
    Throttles: bounded by ``throttle_budget`` seconds only, decorrelated jitter."""

    max_attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 8.0
    total_timeout: float = 60.0
    throttle_budget: float = 600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_delay < 0 or self.max_delay < 0 or self.total_timeout <= 0:
            raise ValueError("retry delays must be >= 0 and total_timeout > 0")
        if self.throttle_budget < 0:
            raise ValueError("throttle_budget must be >= 0")

    def delay(self, attempt: int) -> float:
        """Wait before attempt ``attempt + 1``: half fixed, half random, so callers spread out."""
        ceiling = min(self.max_delay, self.initial_delay * (2 ** (attempt - 1)))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def throttle_delay(self, previous: float) -> float:
        """Decorrelated jitter (next = uniform(base, 3 x previous), capped): spreads throttled callers."""
        base = max(self.initial_delay, 0.001)
        return min(self.max_delay, random.uniform(base, max(base, previous * 3)))


def should_retry(error: RtcError, *, idempotent: bool) -> bool:
    if isinstance(error, RtcThrottledError):
        return True
    if isinstance(error, RtcTransientError):
        return idempotent or not error.maybe_executed
    return False


@dataclass
class RetryClock:
    """What one call has spent of its budgets. Limiter waits (``paced``) count against neither budget;
    throttle backoff counts against the throttle budget only; faults have their own attempts and time."""

    policy: RetryPolicy
    started: float = math.nan
    paced: float = 0.0
    throttle_sleep: float = 0.0
    faults: int = 0
    last_throttle_delay: float = 0.0
    #: the interval clock the budgets are measured on (default: the installed clock's)
    now: Callable[[], float] = field(default_factory=lambda: current_clock().monotonic, repr=False)

    def __post_init__(self) -> None:
        if math.isnan(self.started):
            self.started = self.now()

    def spent(self) -> float:
        """Seconds of the call's life that count: neither limiter waits nor throttle backoff."""
        return self.now() - self.started - self.paced - self.throttle_sleep

    def next_delay(self, error: RtcError, *, idempotent: bool) -> float | None:
        """Seconds to wait before retrying after ``error``, or None when the call must give up."""
        policy = self.policy
        if isinstance(error, RtcThrottledError):
            delay = policy.throttle_delay(self.last_throttle_delay)
            if self.now() - self.started - self.paced + delay > policy.throttle_budget:
                return None
            self.last_throttle_delay = delay
            self.throttle_sleep += delay
            return delay
        self.faults += 1
        if self.faults >= policy.max_attempts or not should_retry(error, idempotent=idempotent):
            return None
        delay = policy.delay(self.faults)
        if self.spent() + delay > policy.total_timeout:
            return None
        return delay
