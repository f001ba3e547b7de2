"""The client's clock: what retry budgets, backoff and the pacers read and wait on.

Real time by default; tests install a manual clock (``use_clock``) so backoff and pacing are
counted, not slept. Its own module, below both ``pacing`` and ``retry`` (the floors contract).
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """What retries and pacers read and wait on: real time, or a test's manual clock."""

    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    async def asleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time (``time.monotonic``, ``time.sleep``, ``asyncio.sleep``): the default clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        """Wall time, epoch seconds: what a wait's windows are measured on, because its state (a
        rescheduled sensor's, a trigger's) outlives the process and monotonic time does not."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


_clock: Clock = SystemClock()


def current_clock() -> Clock:
    """The clock retry budgets, backoff and the client pacers use (process-wide)."""
    return _clock


def use_clock(clock: Clock | None) -> Clock:
    """Install ``clock`` (None: real time again) and return the one it replaces. Tests install a
    manual clock so backoff and pacing are counted, not slept."""
    global _clock
    previous, _clock = _clock, (clock if clock is not None else SystemClock())
    return previous
