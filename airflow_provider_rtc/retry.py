"""When to retry and how long to wait, shared by the sync and async transports.

Throttled answers were not executed, so they are always safe to retry. A transient fault that
may have reached the server (timeout after sending, dropped connection, 5xx, ``InternalError``)
is retried only for calls that are idempotent: cleanups are (a repeat hears "already gone"),
creations are not (a repeat could start a second recording).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from airflow_provider_rtc.exceptions import RtcError, RtcThrottledError, RtcTransientError


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded in attempts and in total time; exponential backoff with equal jitter."""

    max_attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 8.0
    total_timeout: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_delay < 0 or self.max_delay < 0 or self.total_timeout <= 0:
            raise ValueError("retry delays must be >= 0 and total_timeout > 0")

    def delay(self, attempt: int) -> float:
        """Wait before attempt ``attempt + 1``: half fixed, half random, so callers spread out."""
        ceiling = min(self.max_delay, self.initial_delay * (2 ** (attempt - 1)))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def should_retry(error: RtcError, *, idempotent: bool) -> bool:
    if isinstance(error, RtcThrottledError):
        return True
    if isinstance(error, RtcTransientError):
        return idempotent or not error.maybe_executed
    return False
