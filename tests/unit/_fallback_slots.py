"""Slot booking in spawned processes while Redis dies, for test_ratelimit_safety. A module of its own
so that a spawned child imports only the limiter, not Airflow (the test module's imports)."""

from __future__ import annotations

import threading
import time

from airflow_provider_rtc.ratelimit.host import HostLimiter
from airflow_provider_rtc.ratelimit.redis_backend import RedisLimiter


def booked_slots(
    url: str, directory: str, key_id: str, qps: float, start_at: float, seconds: float
) -> list[float]:
    """Two threads book-and-wait from ``start_at`` (``time.time()``) for ``seconds``; returns every
    slot the limiter granted, on ``time.monotonic()`` (one clock for every process of the machine),
    and whether this process fell back to the host limiter."""
    limiter = RedisLimiter(url, key_id, qps, fallback=HostLimiter(directory, key_id, qps))
    time.sleep(limiter.reserve() + max(0.0, start_at - time.time()))  # warm: the first call connects
    stop = time.monotonic() + seconds
    slots: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        while time.monotonic() < stop:
            wait = limiter.reserve()
            with lock:
                slots.append(time.monotonic() + wait)
            time.sleep(max(wait, 0.0))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return slots, limiter._degraded_until > 0
