"""Client-side pacing at each API's documented QPS, so bulk work reaches the limit without tripping it.

One limiter per (product, quota key, action) in the process, shared by every hook, thread and
event loop. Calls are spaced evenly (no burst): the clouds count per second, and a burst followed
by a steady rate is what makes network jitter land a call in an already-full second. The spacing
keeps a small headroom (``HEADROOM``) for the same reason: at ZEGO's 1 CloseRoom call/s, a call
sent exactly 1.000 s after the previous one can arrive 0.999 s after it. The hooks take a call's
slot once its connection is open, right before the request is written (``departure``): the clouds
count arrivals, and a slot taken before connecting lets the connection setup push a call late.
"""

from __future__ import annotations

import threading
from typing import Any

from airflow_provider_rtc.catalog import CATALOG
from airflow_provider_rtc.clock import current_clock

#: Documented QPS by (product, action), derived from the catalog: the fallback when a caller passes no
#: rate. What a limit is counted per is the entry's ``per`` (``Api.rate_key``), chosen by the hook.
DOCUMENTED_QPS: dict[tuple[str, str], float] = {
    api.key: api.qps for api in CATALOG.values() if api.qps is not None
}


#: calls are spaced at documented QPS / (1 + HEADROOM), i.e. 97% of the documented rate
HEADROOM = 0.03


class Pacer:
    """Evenly spaced slots at ``qps``; reserving a slot is O(1) under a lock, waiting happens outside it."""

    __slots__ = ("_lock", "_next", "interval", "qps")

    def __init__(self, qps: float) -> None:
        if qps <= 0:
            raise ValueError("qps must be positive")
        self.qps = qps
        self.interval = (1.0 + HEADROOM) / qps
        self._next = 0.0
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Claim the next slot; return how long to wait for it."""
        with self._lock:
            now = current_clock().monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
            return slot - now

    def wait(self) -> float:
        """Sleep until the next slot; return the seconds slept (not spent from any retry budget)."""
        return sleep_for(self.reserve())

    async def await_slot(self) -> float:
        return await asleep_for(self.reserve())


def sleep_for(delay: float) -> float:
    """Wait out a reserved slot's delay (outside every lock); return the seconds waited."""
    if delay > 0:
        current_clock().sleep(delay)
    return max(delay, 0.0)


async def asleep_for(delay: float) -> float:
    if delay > 0:
        await current_clock().asleep(delay)
    return max(delay, 0.0)


_pacers: dict[tuple[str, str, str], Pacer] = {}
_registry_lock = threading.Lock()


def pacer_for(product: str, account: str, action: str, qps: float | None) -> Pacer | None:
    """The shared pacer for this key, or None when the action has no known or configured limit.

    ``account`` is what the vendor counts the limit per besides the action (``Api.rate_key``:
    SecretId and region for TRTC, SecretId for Live, AppId, plus the room for per-room ZEGO APIs)."""
    rate = qps if qps is not None else DOCUMENTED_QPS.get((product, action))
    if not rate:
        return None
    key = (product, account, action)
    pacer = _pacers.get(key)
    if pacer is None or pacer.qps != rate:
        with _registry_lock:
            pacer = _pacers.get(key)
            if pacer is None or pacer.qps != rate:
                pacer = _pacers[key] = Pacer(rate)
    return pacer


class AllOf:
    """Several quotas one call spends (ZEGO's per-room and per-AppId limits of one API): a slot is
    claimed in each and the call waits for the latest. A call held back by one quota may then send
    just after the next holder of another's slot; the 3% headroom absorbs that at these rates."""

    __slots__ = ("limiters",)

    def __init__(self, limiters: list[Any]) -> None:
        self.limiters = limiters

    def reserve(self) -> float:
        return max(limiter.reserve() for limiter in self.limiters)

    def wait(self) -> float:
        return sleep_for(self.reserve())

    async def await_slot(self) -> float:
        return await asleep_for(self.reserve())
