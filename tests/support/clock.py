"""A clock the test moves: installed for the client's pacers and retry backoff (``manual_clock``
fixture), so waits are counted, not slept. The sandbox has its own (``SandboxServer.freeze`` /
``advance``); see docs/testing.md."""

from __future__ import annotations

import asyncio


class ManualClock:
    """``monotonic()`` stands still; ``sleep``/``asleep`` record the wait and move the clock by it."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 9))
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)  # still a suspension point, as a real sleep is

    # the name test modules used for their fakes' coroutine sleep
    async_sleep = asleep
