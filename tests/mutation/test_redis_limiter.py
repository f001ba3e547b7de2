"""The redis limiter's bookkeeping against a real redis-server on a loopback port.

Written for `make mutate` (issue 24 item 5): tests/unit/test_ratelimit*.py prove the spacing on the
server and the fallback's safety on the wall clock; these pin the steps in between, on values the
test reads back: the slot's epoch time, the key's name and expiry, the host state each Redis slot
is recorded in, the floor a fallback leaves, and the minute a dead Redis is left alone.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from pathlib import Path

import pytest

from airflow_provider_rtc.ratelimit.host import HostLimiter
from airflow_provider_rtc.ratelimit.redis_backend import (
    KEY_PREFIX,
    SOCKET_TIMEOUT,
    RedisLimiter,
    _async_script,
    _sync_script,
)

redis = pytest.importorskip("redis")


def dead_url() -> str:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        return f"redis://:topsecret@127.0.0.1:{sock.getsockname()[1]}/0"


def make(url: str, tmp_path: Path, key: str, qps: float = 1.0) -> RedisLimiter:
    return RedisLimiter(url, key, qps, fallback=HostLimiter(str(tmp_path), key, qps))


def test_the_interval_key_and_repr(tmp_path: Path) -> None:
    limiter = make("redis://127.0.0.1:1/0", tmp_path, "abc", qps=4.0)
    assert limiter.interval == pytest.approx(1.03 / 4)
    assert limiter._interval_us == 257_500
    assert limiter._key == "airflow-provider-rtc:rate:abc" == KEY_PREFIX + "abc"
    assert repr(limiter) == "RedisLimiter(qps=4.0)"
    assert (limiter._degraded_until, limiter._after_fallback) == (0.0, False)
    with pytest.raises(ValueError, match="qps must be positive"):
        make("redis://127.0.0.1:1/0", tmp_path, "abc", qps=0)
    assert make("redis://127.0.0.1:1/0", tmp_path, "abc", qps=0.001).interval == pytest.approx(1030.0)


def test_book_gives_the_wait_and_the_slot_on_the_servers_clock(redis_url: str, tmp_path: Path) -> None:
    limiter = make(redis_url, tmp_path, "epoch-slot")
    before = time.time()
    wait, slot = limiter.book()
    assert wait == 0.0 and before - 1 <= slot <= time.time() + 1  # epoch seconds, not microseconds
    wait2, slot2 = limiter.book()
    assert slot2 - slot == pytest.approx(1.03, abs=1e-6)
    assert wait2 == pytest.approx(1.03, abs=0.2)


def test_the_key_holds_the_next_slot_and_expires_a_second_after_it(redis_url: str, tmp_path: Path) -> None:
    client = redis.Redis.from_url(redis_url)
    limiter = make(redis_url, tmp_path, "expiry", qps=1.0)
    _, slot = limiter.book()
    stored = int(client.get(limiter._key))
    assert stored == round(slot * 1_000_000) + 1_030_000  # the next free slot, in microseconds
    ttl = client.pttl(limiter._key)
    assert 1_030 + 1_000 - 500 <= ttl <= 1_030 + 1_000  # interval + 1 s, in milliseconds


def test_each_redis_slot_is_recorded_in_the_host_state(redis_url: str, tmp_path: Path) -> None:
    limiter = make(redis_url, tmp_path, "recorded", qps=1.0)
    limiter._after_fallback = True  # cleared by a Redis booking
    limiter.reserve()
    assert limiter._after_fallback is False
    # the host queue now ends one interval after the Redis slot (now): a fallback continues there
    assert limiter._fallback.pending() == pytest.approx(1.03, abs=0.2)
    wait = limiter.reserve()
    assert limiter._fallback.pending() == pytest.approx(wait + 1.03, abs=0.2)


def test_the_floor_is_the_host_queue_only_after_a_fallback(redis_url: str, tmp_path: Path) -> None:
    limiter = make(redis_url, tmp_path, "floor", qps=1.0)
    limiter._fallback.hold_until(time.monotonic() + 5)
    assert limiter._floor_us() == 0  # no fallback happened: Redis alone decides
    limiter._after_fallback = True
    assert limiter._floor_us() == pytest.approx(5_000_000, abs=300_000)
    assert isinstance(limiter._floor_us(), int)


def test_a_dead_redis_is_left_alone_for_a_minute(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    limiter = make(dead_url(), tmp_path, "dead", qps=1.0)
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="airflow_provider_rtc.ratelimit.redis_backend"):
        wait, slot = limiter.book()
    assert start + 59 < limiter._degraded_until <= time.monotonic() + 60
    assert limiter._after_fallback is True
    assert [r.getMessage() for r in caplog.records] == [
        "redis rate limiter unreachable (ConnectionError); "
        "sharing the limit only within this machine for 60 s"
    ]
    # the host limiter booked it; the slot is given on the wall clock, as Redis's would be
    assert wait == 0.0 and slot == pytest.approx(time.time(), abs=1)
    caplog.clear()
    wait2, slot2 = limiter.book()  # within the minute: straight to the host, no second warning
    assert caplog.records == []
    assert wait2 == pytest.approx(1.03, abs=0.2) and slot2 - slot == pytest.approx(1.03, abs=0.01)


def test_a_dead_redis_on_the_loop_falls_back_too(tmp_path: Path) -> None:
    limiter = make(dead_url(), tmp_path, "dead-async", qps=1.0)

    async def two() -> tuple[float, float]:
        return await limiter.areserve(), await limiter.areserve()

    first, second = asyncio.run(two())
    assert limiter._degraded_until > time.monotonic() + 50 and limiter._after_fallback
    assert first == 0.0 and second == pytest.approx(1.03, abs=0.2)


def test_areserve_books_in_redis_and_records_the_slot(redis_url: str, tmp_path: Path) -> None:
    limiter = make(redis_url, tmp_path, "async-book", qps=1.0)

    async def two() -> tuple[float, float]:
        return await limiter.areserve(), await limiter.areserve()

    first, second = asyncio.run(two())
    assert first == 0.0 and second == pytest.approx(1.03, abs=0.2)
    assert limiter._fallback.pending() == pytest.approx(second + 1.03, abs=0.2)
    assert limiter._degraded_until == 0.0


def test_areserve_after_a_fallback_starts_after_the_host_queue(redis_url: str, tmp_path: Path) -> None:
    limiter = make(redis_url, tmp_path, "async-floor", qps=1.0)
    limiter._fallback.hold_until(time.monotonic() + 3)
    limiter._after_fallback = True
    wait = asyncio.run(limiter.areserve())
    assert wait == pytest.approx(3, abs=0.3)
    assert limiter._after_fallback is False


def test_clients_are_cached_per_url_and_loop_with_timeouts(redis_url: str) -> None:
    script = _sync_script(redis_url)
    assert _sync_script(redis_url) is script
    kwargs = script.registered_client.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == SOCKET_TIMEOUT == 5.0
    assert kwargs["socket_connect_timeout"] == SOCKET_TIMEOUT

    async def on_one_loop() -> tuple[object, object]:
        return _async_script(redis_url), _async_script(redis_url)

    a, b = asyncio.run(on_one_loop())
    c, _ = asyncio.run(on_one_loop())
    assert a is b and a is not c  # a client is bound to its loop
    async_kwargs = a.registered_client.connection_pool.connection_kwargs  # type: ignore[attr-defined]
    assert async_kwargs["socket_timeout"] == 5.0 and async_kwargs["socket_connect_timeout"] == 5.0


# -- survivors of the first run ---------------------------------------------------------------------


def test_a_zero_rate_is_refused_by_the_redis_limiter_itself(tmp_path: Path) -> None:
    fallback = HostLimiter(str(tmp_path), "k", 1.0)
    with pytest.raises(ValueError, match=r"^qps must be positive$"):
        RedisLimiter("redis://127.0.0.1:1/0", "k", 0, fallback=fallback)


def test_without_the_client_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from airflow_provider_rtc.errors import RtcValidationError
    from airflow_provider_rtc.ratelimit.redis_backend import _redis_module

    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(RtcValidationError) as err:
        _redis_module()
    assert err.value.param == "rate_limit_backend"
    assert str(err.value) == (
        "invalid rate_limit_backend: redis needs the redis client: "
        "pip install 'airflow-provider-rtc[redis]' (got 'redis')"
    )


class HostStub:
    """The fallback, reduced to what the redis limiter asks of it."""

    def __init__(self, pending: float = 0.0) -> None:
        self._pending = pending
        self.holds: list[float] = []

    def pending(self) -> float:
        return self._pending

    def hold_until(self, moment: float) -> None:
        self.holds.append(moment)


def test_the_floor_and_the_wait_in_exact_microseconds() -> None:
    stub = HostStub(pending=5.0)
    limiter = RedisLimiter("redis://127.0.0.1:1/0", "k", 1.0, fallback=stub)  # type: ignore[arg-type]
    limiter._after_fallback = True
    assert limiter._floor_us() == 5_000_000
    before = time.monotonic()
    assert limiter._booked(2_000_000) == 2.0
    assert limiter._booked("3000000") == 3.0  # the script's reply may come as text
    (first, _) = stub.holds
    assert before + 2.0 + 1.03 <= first <= time.monotonic() + 2.0 + 1.03


def test_the_async_fallback_warning_names_the_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    limiter = make(dead_url(), tmp_path, "dead-async-log", qps=1.0)
    with caplog.at_level(logging.WARNING, logger="airflow_provider_rtc.ratelimit.redis_backend"):
        asyncio.run(limiter.areserve())
    assert [r.getMessage() for r in caplog.records] == [
        "redis rate limiter unreachable (ConnectionError); "
        "sharing the limit only within this machine for 60 s"
    ]


def test_wait_takes_a_slot_and_returns_the_seconds_waited(redis_url: str, tmp_path: Path) -> None:
    limiter = make(redis_url, tmp_path, "wait-first", qps=1.0)
    assert limiter.wait() == 0.0  # the first slot is now: nothing to wait


class FixedClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return time.time()


def test_redis_is_tried_again_exactly_when_the_minute_is_over(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_rtc.ratelimit import redis_backend

    limiter = make(redis_url, tmp_path, "minute-over", qps=1.0)
    monkeypatch.setattr(redis_backend, "time", FixedClock(500.0))
    limiter._degraded_until = 500.0
    limiter.book()
    assert redis.Redis.from_url(redis_url).get(limiter._key) is not None  # booked in Redis

    other = make(redis_url, tmp_path, "minute-over-async", qps=1.0)
    other._degraded_until = 500.0
    asyncio.run(other.areserve())
    assert redis.Redis.from_url(redis_url).get(other._key) is not None
