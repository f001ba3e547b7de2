"""Slot booking in spawned processes, for test_ratelimit. A module of its own so that a spawned child
imports only the limiter, not Airflow (the test module's imports)."""

from __future__ import annotations

from airflow_provider_rtc.ratelimit import key_digest
from airflow_provider_rtc.ratelimit.host import HostLimiter


def host_slots(directory: str, count: int) -> list[float]:
    limiter = HostLimiter(directory, "shared", 50.0)
    slots = [limiter.book()[1] for _ in range(count)]
    assert limiter._degraded_until == 0.0
    return slots


def redis_slots(url: str, directory: str, count: int) -> list[float]:
    from airflow_provider_rtc.ratelimit.redis_backend import RedisLimiter

    limiter = RedisLimiter(url, key_digest(("spacing",)), 50.0, fallback=HostLimiter(directory, "x", 50.0))
    slots = [limiter.book()[1] for _ in range(count)]
    assert limiter._degraded_until == 0.0
    return slots
