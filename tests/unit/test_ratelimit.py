"""The shared rate limiter: backend choice, the host backend's SQLite state (real processes, a
SIGKILLed lock holder) and the redis backend against a real redis-server on a free loopback port."""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_rtc import catalog, pacing, ratelimit
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.hooks.settings import rate_limit_settings
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.ratelimit import RateLimitSettings, limiter_for
from airflow_provider_rtc.ratelimit.host import FILENAME, HostLimiter
from tests.support.wire import tencent_conn_json

from ._slots import host_slots, redis_slots

KEY = ("trtc", "AKIDexample:1400000001", "DismissRoom")


def booked(directory: Path, limiter: HostLimiter) -> float:
    with sqlite3.connect(directory / FILENAME) as conn:
        return conn.execute("SELECT next FROM slots WHERE key = ?", (limiter.key_id,)).fetchone()[0]


# -- choosing a backend -----------------------------------------------------------------------------


def test_default_backend_is_host_and_config_and_extras_choose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW__RTC__RATE_LIMIT_BACKEND", raising=False)
    assert rate_limit_settings({}, "tencentcloud").backend == "host"
    monkeypatch.setenv("AIRFLOW__RTC__RATE_LIMIT_BACKEND", "process")
    assert rate_limit_settings({}, "tencentcloud").backend == "process"
    # the connection wins over the provider config
    monkeypatch.setenv("AIRFLOW__RTC__RATE_LIMIT_REDIS_URL", "redis://:pw@127.0.0.1:1/0")
    chosen = rate_limit_settings({"rate_limit_backend": "redis"}, "tencentcloud")
    assert chosen.backend == "redis" and chosen.redis_url == "redis://:pw@127.0.0.1:1/0"
    assert "pw" not in repr(chosen)
    legacy = rate_limit_settings({"extra__zegocloud__rate_limit_backend": "HOST"}, "zegocloud")
    assert legacy.backend == "host"


def test_bad_backend_settings_name_the_parameter_and_hide_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RtcValidationError, match="rate_limit_backend"):
        rate_limit_settings({"rate_limit_backend": "memcached"}, "tencentcloud")
    monkeypatch.delenv("AIRFLOW__RTC__RATE_LIMIT_REDIS_URL", raising=False)
    with pytest.raises(RtcValidationError, match="rate_limit_redis_url"):
        rate_limit_settings({"rate_limit_backend": "redis"}, "tencentcloud")
    with pytest.raises(RtcValidationError, match="rate_limit_redis_url") as err:
        RateLimitSettings(backend="redis", redis_url="http://user:s3cret@host/")
    assert "s3cret" not in str(err.value)


def test_hook_gets_the_connections_backend(set_connection, tmp_path: Path) -> None:
    conn = tencent_conn_json(None, pacing=True, rate_limit_backend="host", rate_limit_dir=str(tmp_path))
    set_connection("tencentcloud_default", conn)
    hook = TrtcHook()
    scope = {"secret_id": "AKIDx", "region": "ap-guangzhou"}
    limiter = hook._pacer(hook.settings, catalog.DISMISS_ROOM, scope)
    assert isinstance(limiter, HostLimiter) and limiter.directory == str(tmp_path)
    assert limiter is hook._pacer(hook.settings, catalog.DISMISS_ROOM, scope)  # one per key and process
    set_connection(
        "tencentcloud_default", {**conn, "extra": {**conn["extra"], "rate_limit_backend": "process"}}
    )
    hook = TrtcHook()
    assert isinstance(hook._pacer(hook.settings, catalog.DISMISS_ROOM, scope), pacing.Pacer)


def test_redis_backend_without_the_client_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # as if not installed
    settings = RateLimitSettings(backend="redis", directory=str(tmp_path), redis_url="redis://127.0.0.1:1/0")
    with pytest.raises(RtcValidationError, match=r"airflow-provider-rtc\[redis\]"):
        limiter_for(KEY, 20.0, settings)


# -- host: one SQLite row per key -------------------------------------------------------------------


def test_host_limiters_in_one_directory_share_the_slots(tmp_path: Path) -> None:
    first = HostLimiter(str(tmp_path), "k", 20.0)
    second = HostLimiter(str(tmp_path), "k", 20.0)  # another hook, thread or process
    other_key = HostLimiter(str(tmp_path), "other", 20.0)
    first.reserve()
    after_one = booked(tmp_path, first)
    second.reserve()
    assert booked(tmp_path, first) == pytest.approx(after_one + first.interval)
    other_key.reserve()
    assert booked(tmp_path, first) == pytest.approx(after_one + first.interval)  # keys are separate
    assert first.interval == pytest.approx(1.03 / 20)  # the same headroom as the process pacer


@pytest.mark.slow  # several processes, slots on the wall clock
@pytest.mark.timing  # serially, on a core of its own (make test-all)
def test_host_slots_are_evenly_spaced_across_processes(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        per_process = pool.starmap(host_slots, [(str(tmp_path), 25)] * 4)
    slots = sorted(s for chunk in per_process for s in chunk)
    assert len(slots) == 100
    interval = 1.03 / 50
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    # time.monotonic is one clock for every process: no two slots closer than the interval
    assert min(gaps) >= interval - 1e-6


HOLDER = textwrap.dedent(
    """
    import sys, time
    from airflow_provider_rtc.ratelimit.host import _database
    conn = _database(sys.argv[1]).connection()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO slots (key, next) VALUES ('k', 1e12) "
                 "ON CONFLICT(key) DO UPDATE SET next = 1e12")
    print("holding", flush=True)
    time.sleep(300)
    """
)


@pytest.fixture
def lock_holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A process in the middle of a reservation: the SQLite write lock taken, its write not committed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


def test_host_lock_holder_killed_mid_reservation_wedges_nobody(
    tmp_path: Path, lock_holder: subprocess.Popen[str]
) -> None:
    limiter = HostLimiter(str(tmp_path), "k", 20.0)
    probe = sqlite3.connect(tmp_path / FILENAME, timeout=0.1)
    with pytest.raises(sqlite3.OperationalError, match="locked"):  # the holder really holds the lock
        probe.execute("BEGIN IMMEDIATE")
    probe.close()
    os.kill(lock_holder.pid, signal.SIGKILL)
    lock_holder.wait(10)
    wait = limiter.reserve()
    assert limiter._degraded_until == 0.0  # served by the shared file, not the local fallback
    assert wait == 0.0  # the killed holder's uncommitted booking (1e12) was discarded
    assert booked(tmp_path, limiter) < 1e11


def test_host_await_slot_never_blocks_the_event_loop(
    tmp_path: Path, lock_holder: subprocess.Popen[str]
) -> None:
    limiter = HostLimiter(str(tmp_path), "k", 20.0)

    async def scenario() -> list[str]:
        order: list[str] = []

        async def release_the_lock() -> None:
            await asyncio.sleep(0)
            order.append("loop ran while the reservation waited for the lock")
            os.kill(lock_holder.pid, signal.SIGKILL)

        async def take_slot() -> None:
            await limiter.await_slot()
            order.append("slot")

        await asyncio.gather(take_slot(), release_the_lock())
        return order

    assert asyncio.run(scenario()) == ["loop ran while the reservation waited for the lock", "slot"]
    assert limiter._degraded_until == 0.0


def test_unusable_directory_degrades_to_process_pacing_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    limiter = HostLimiter(str(blocker), "k", 20.0)
    with caplog.at_level(logging.WARNING, logger="airflow_provider_rtc.ratelimit.host"):
        first, second = limiter.reserve(), limiter.reserve()
    assert "pacing within this process" in caplog.text
    assert first == 0.0 and second == pytest.approx(limiter.interval, abs=0.01)


# -- redis: one Lua script per reservation ----------------------------------------------------------


def _settings(url: str, directory: Path) -> RateLimitSettings:
    return RateLimitSettings(backend="redis", directory=str(directory), redis_url=url)


def test_redis_reservations_are_spaced_on_the_server(redis_url: str, tmp_path: Path) -> None:
    import redis

    from airflow_provider_rtc.ratelimit.redis_backend import KEY_PREFIX, RedisLimiter

    # 0.1/s: the second booking must come before the first slot ends (10.3 s) for the two to be
    # spaced by exactly one interval on Redis's clock; at 2/s (0.515 s) a machine at load 20 let
    # the first slot end first, and the second booking rightly started afresh. A key of its own: the
    # slots it leaves booked 20 s ahead would hold up the next test's calls on KEY in this redis
    slow_key = (*KEY[:2], "SpacingProbe")
    limiter = limiter_for(slow_key, 0.1, _settings(redis_url, tmp_path))
    other_process_view = RedisLimiter(
        redis_url, ratelimit.key_digest(slow_key), 0.1, fallback=HostLimiter(str(tmp_path), "x", 0.1)
    )
    client = redis.Redis.from_url(redis_url)
    key = KEY_PREFIX + ratelimit.key_digest(slow_key)
    limiter.reserve()
    first = int(client.get(key))
    other_process_view.reserve()
    assert int(client.get(key)) - first == round(1.03 / 0.1 * 1_000_000)
    assert 0 < client.pttl(key) <= 1000 + round(2 * 1.03 / 0.1 * 1000)  # idle keys expire
    assert "AKID" not in key  # the key names no credential


@pytest.mark.slow  # several processes, slots on the wall clock
@pytest.mark.timing  # serially, on a core of its own (make test-all)
def test_redis_slots_are_evenly_spaced_across_processes(redis_url: str, tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        per_process = pool.starmap(redis_slots, [(redis_url, str(tmp_path), 25)] * 4)
    slots = sorted(s for chunk in per_process for s in chunk)
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert len(slots) == 100
    assert min(gaps) >= 1.03 / 50 - 2e-6  # booked on the server's clock, in whole microseconds


def test_redis_await_slot_uses_the_asyncio_client(redis_url: str, tmp_path: Path) -> None:
    limiter = limiter_for(KEY, 5.0, _settings(redis_url, tmp_path))

    async def scenario() -> list[str]:
        order: list[str] = []

        async def other_work() -> None:
            await asyncio.sleep(0)
            order.append("other work")

        async def two_slots() -> None:
            await limiter.await_slot()
            await limiter.await_slot()  # waits about 0.2 s for its slot, on the loop
            order.append("slots")

        await asyncio.gather(two_slots(), other_work())
        return order

    assert asyncio.run(scenario()) == ["other work", "slots"]
    assert limiter._degraded_until == 0.0  # type: ignore[attr-defined]


def test_unreachable_redis_falls_back_to_host_without_leaking_the_url(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = _settings(f"redis://:topsecret@127.0.0.1:{port}/0", tmp_path)
    limiter = limiter_for(KEY, 20.0, settings)
    with caplog.at_level(logging.WARNING):
        limiter.reserve()
        limiter.reserve()
    assert "within this machine" in caplog.text and "topsecret" not in caplog.text
    assert "topsecret" not in repr(limiter)
    assert (tmp_path / FILENAME).exists()  # the host backend took over
