"""Fixtures every suite gets; ``tests/conftest.py`` registers this module as a pytest plugin.

One of each: ``sandbox`` (pooled, reset per test), ``redis_url`` (a redis-server per module),
``moto_server`` (moto's S3 per session), ``manual_clock`` (the client's pacing and retry clock)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc import pacing, retry
from tests.support.clock import ManualClock
from tests.support.sandbox import FAST_RETRIES, SandboxPool, install_connections
from tests.support.services import moto_s3, own_redis


@pytest.fixture(autouse=True)
def _fresh_pacers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pacers are process-wide; each test starts with none."""
    monkeypatch.setattr(pacing, "_pacers", {})


@pytest.fixture(autouse=True)
def _own_rate_limits(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test gets its own host rate-limit state (not the machine-wide default directory, which
    other test runs on this machine share) and builds its limiters afresh."""
    from airflow_provider_rtc import ratelimit

    monkeypatch.setenv("AIRFLOW__RTC__RATE_LIMIT_DIR", str(tmp_path_factory.mktemp("rate-limits")))
    monkeypatch.setattr(ratelimit, "_limiters", {})


@pytest.fixture
def manual_clock() -> Iterator[ManualClock]:
    """The client's pacers, retry budgets and back-off on a clock the test moves: every wait is
    recorded in ``.sleeps`` and moves the clock instead of sleeping."""
    clock = ManualClock()
    previous = retry.use_clock(clock)
    try:
        yield clock
    finally:
        retry.use_clock(previous)


# -- the sandbox -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sandbox_pool() -> Iterator[SandboxPool]:
    pool = SandboxPool()
    yield pool
    pool.close()


@pytest.fixture
def sandbox_config() -> dict[str, Any]:
    """The sandbox configuration of a suite (override in its conftest.py)."""
    return {"random_seed": 5}


@pytest.fixture
def sandbox_conn_extra() -> dict[str, Any]:
    """Extras merged into the sandbox's connections (override in a suite's conftest.py)."""
    return dict(FAST_RETRIES)


@pytest.fixture
def sandbox(
    request: pytest.FixtureRequest,
    sandbox_pool: SandboxPool,
    sandbox_config: dict[str, Any],
    sandbox_conn_extra: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> SandboxServer:
    """A running sandbox, emptied and back to its start-up settings, with ``tencentcloud_default``
    and ``zegocloud_default`` pointing at it; ``indirect`` parametrization adds configuration."""
    server = sandbox_pool.get({**sandbox_config, **getattr(request, "param", {})})
    server.reset()
    install_connections(server, monkeypatch, sandbox_conn_extra)
    return server


# -- redis and moto ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free loopback port (the OS package), stopped after the module."""
    with own_redis() as url:
        yield url


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's S3 in server mode on a free loopback port, for the whole session."""
    with moto_s3() as url:
        yield url
