"""The ``redis`` backend: one limit per key shared by every worker on every machine.

A reservation is one Lua script, atomic on the server: read the key's next free slot, book
``max(now, next) + interval`` and return the wait, all on the server's clock (``TIME``), so the
workers' clocks need not agree. The slot is waited for in the worker, outside Redis. The key expires
a second after its last booked slot, so idle keys leave nothing behind.

If Redis cannot be reached the limiter logs a warning (never the URL: it may hold a password) and
falls back to the ``host`` limiter for a minute, rather than failing a cleanup. The fallback never
exceeds the rate on this machine: every slot booked in Redis is also recorded in the host limiter's
state (``HostLimiter.hold_until``, one SQLite write), so when Redis dies with slots still booked
ahead, the host limiter's first slot comes after the last of them, not beside them (which doubled
the rate for as long as the Redis queue was deep). The way back is symmetric: the first Redis
booking after a fallback starts no earlier than the host limiter's queue ends. Within a process a
lock makes booking-and-recording one step; across the machine's processes a Redis death can still
race one booking against one recording (a window of one SQLite write, about 0.1 ms).
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

#: KEYS[1] = the limit's key; ARGV[1] = interval in microseconds; ARGV[2] = the earliest slot, in
#: microseconds from now (the host queue left by a fallback; 0 otherwise).
#: Returns {wait, slot} in microseconds (the slot on the server's clock).
RESERVE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local booked = tonumber(redis.call('GET', KEYS[1]))
local slot = now + tonumber(ARGV[2] or '0')
if booked and booked > slot then slot = booked end
local after = slot + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.0f', after), 'PX', math.floor((after - now) / 1000) + 1000)
return {slot - now, slot}
"""


def _redis_module() -> Any:
    try:
        import redis
    except ImportError:
        from airflow_provider_rtc.errors import RtcValidationError

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
        #: a fallback happened: the next Redis booking must start after the host queue
        self._after_fallback = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # the URL may hold a password
        return f"RedisLimiter(qps={self.qps})"

    def _degrade(self, exc: BaseException) -> None:
        self._degraded_until = time.monotonic() + 60.0
        self._after_fallback = True
        log.warning(
            "redis rate limiter unreachable (%s); sharing the limit only within this machine for 60 s",
            type(exc).__name__,
        )

    def _floor_us(self) -> int:
        """Microseconds from now before which the next Redis slot may not start (after a fallback)."""
        return round(self._fallback.pending() * 1_000_000) if self._after_fallback else 0

    def _booked(self, wait_us: Any) -> float:
        """Record a Redis slot in the host state (see the module docstring); return its wait."""
        wait = int(wait_us) / 1_000_000
        self._after_fallback = False
        self._fallback.hold_until(time.monotonic() + wait + self.interval)
        return wait

    def _host_book(self) -> tuple[float, float]:
        wait, slot = self._fallback.book()
        return wait, slot + (time.time() - time.monotonic())  # on the wall clock, like Redis TIME

    def reserve(self) -> float:
        """Claim the next slot across every worker; return how long to wait for it."""
        return self.book()[0]

    def book(self) -> tuple[float, float]:
        """Claim the next slot; return (seconds to wait, the slot in epoch seconds: the Redis server's
        clock, or this machine's when falling back)."""
        with self._lock:
            if time.monotonic() < self._degraded_until:
                return self._host_book()
            redis = _redis_module()
            try:
                script = _sync_script(self._url)
                wait_us, slot_us = script(keys=[self._key], args=[self._interval_us, self._floor_us()])
            except redis.RedisError as exc:
                self._degrade(exc)
                return self._host_book()
            return self._booked(wait_us), int(slot_us) / 1_000_000

    async def areserve(self) -> float:
        if time.monotonic() < self._degraded_until:
            return await asyncio.to_thread(self._fallback.reserve)
        redis = _redis_module()
        try:
            floor = await asyncio.to_thread(self._floor_us) if self._after_fallback else 0
            script = _async_script(self._url)
            wait_us, _ = await script(keys=[self._key], args=[self._interval_us, floor])
        except redis.RedisError as exc:
            self._degrade(exc)
            return await asyncio.to_thread(self._fallback.reserve)
        # the host state is SQLite: never touched on the event loop
        return await asyncio.to_thread(self._booked, wait_us)

    def wait(self) -> float:
        return pacing.sleep_for(self.reserve())

    async def await_slot(self) -> float:
        return await pacing.asleep_for(await self.areserve())
