"""The ``redis`` backend: one limit per key shared by every worker on every machine.

A reservation is one Lua script, atomic on the server: read the key's next free slot, book
``max(now, next) + interval`` and return the wait, all on the server's clock (``TIME``), so the
workers' clocks need not agree. The slot is waited for in the worker, outside Redis. The key expires
a second after its last booked slot, so idle keys leave nothing behind.

If Redis cannot be reached the limiter logs a warning (never the URL: it may hold a password) and
falls back to the ``host`` limiter for a minute, rather than failing a cleanup.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

from airflow_provider_rtc import pacing

if TYPE_CHECKING:
    from airflow_provider_rtc.ratelimit.host import HostLimiter

log = logging.getLogger(__name__)

KEY_PREFIX = "airflow-provider-rtc:rate:"
SOCKET_TIMEOUT = 5.0

#: KEYS[1] = the limit's key; ARGV[1] = interval in microseconds.
#: Returns {wait, slot} in microseconds (the slot on the server's clock).
RESERVE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local booked = tonumber(redis.call('GET', KEYS[1]))
local slot = now
if booked and booked > now then slot = booked end
local after = slot + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.0f', after), 'PX', math.floor((after - now) / 1000) + 1000)
return {slot - now, slot}
"""


def _redis_module() -> Any:
    try:
        import redis
    except ImportError:
        from airflow_provider_rtc.exceptions import RtcValidationError

        raise RtcValidationError(
            "rate_limit_backend",
            "redis needs the redis client: pip install 'airflow-provider-rtc[redis]'",
            "redis",
        ) from None
    return redis


_sync_clients: dict[tuple[str, int], Any] = {}
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Any]] = (
    weakref.WeakKeyDictionary()
)
_clients_lock = threading.Lock()


def _sync_script(url: str) -> Any:
    key = (url, os.getpid())  # a client's sockets must not cross a fork
    with _clients_lock:
        script = _sync_clients.get(key)
        if script is None:
            client = _redis_module().Redis.from_url(
                url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT
            )
            script = _sync_clients[key] = client.register_script(RESERVE_LUA)
    return script


def _async_script(url: str) -> Any:
    """One asyncio client per event loop (a client is bound to the loop that created it)."""
    per_loop = _async_clients.setdefault(asyncio.get_running_loop(), {})
    script = per_loop.get(url)
    if script is None:
        _redis_module()
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(
            url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT
        )
        script = per_loop[url] = client.register_script(RESERVE_LUA)
    return script


class RedisLimiter:
    """Evenly spaced slots at ``qps`` for ``key_id``, shared through the Redis at ``url``."""

    def __init__(self, url: str, key_id: str, qps: float, *, fallback: HostLimiter) -> None:
        if qps <= 0:
            raise ValueError("qps must be positive")
        _redis_module()  # fail before the first cloud call, naming the extra to install
        self.qps = qps
        self.interval = (1.0 + pacing.HEADROOM) / qps
        self._interval_us = round(self.interval * 1_000_000)
        self._key = KEY_PREFIX + key_id
        self._url = url
        self._fallback = fallback
        self._degraded_until = 0.0

    def __repr__(self) -> str:  # the URL may hold a password
        return f"RedisLimiter(qps={self.qps})"

    def _degrade(self, exc: BaseException) -> None:
        self._degraded_until = time.monotonic() + 60.0
        log.warning(
            "redis rate limiter unreachable (%s); sharing the limit only within this machine for 60 s",
            type(exc).__name__,
        )

    def reserve(self) -> float:
        """Claim the next slot across every worker; return how long to wait for it."""
        return self.book()[0]

    def book(self) -> tuple[float, float]:
        """Claim the next slot; return (seconds to wait, the slot on the Redis server's clock)."""
        if time.monotonic() < self._degraded_until:
            return self._fallback.book()
        redis = _redis_module()
        try:
            wait_us, slot_us = _sync_script(self._url)(keys=[self._key], args=[self._interval_us])
        except redis.RedisError as exc:
            self._degrade(exc)
            return self._fallback.book()
        return int(wait_us) / 1_000_000, int(slot_us) / 1_000_000

    async def areserve(self) -> float:
        if time.monotonic() < self._degraded_until:
            return await asyncio.to_thread(self._fallback.reserve)
        redis = _redis_module()
        try:
            wait_us, _ = await _async_script(self._url)(keys=[self._key], args=[self._interval_us])
        except redis.RedisError as exc:
            self._degrade(exc)
            return await asyncio.to_thread(self._fallback.reserve)
        return int(wait_us) / 1_000_000

    def wait(self) -> float:
        return pacing.sleep_for(self.reserve())

    async def await_slot(self) -> float:
        return await pacing.asleep_for(await self.areserve())
