"""The receiver's per-callback path stays cheap under a burst (issue 21, measured by
benchmarks/receiver_load.py): an accepted callback writes no INFO line of its own (uvicorn's access
line already records it; two or three structured lines per callback cost ~0.2 ms of a 1.1 ms budget),
and concurrent callbacks share synced commits (group commit) instead of paying one each."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_rtc.callbacks.app import create_app
from airflow_provider_rtc.callbacks.config import ReceiverConfig
from benchmarks.load_client import Pool, run_step
from benchmarks.load_mix import PATTERN, Keys, Mix
from tests.support.servers import ThreadedServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ThreadedServer]:
    config = ReceiverConfig.from_mapping(Keys().env(), db_path=str(tmp_path / "cb.sqlite3"))
    srv = ThreadedServer(create_app(config))
    yield srv
    srv.stop()


def _send(url: str, count: int, rate: float, size: int) -> dict[int, int]:
    async def go() -> dict[int, int]:
        pool = Pool(url, size=size)
        try:
            return (await run_step(pool, Mix(run="hot").take(count), rate)).statuses
        finally:
            pool.close()

    return asyncio.run(go())


def test_accepted_callbacks_log_nothing_at_info(
    server: ThreadedServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="airflow_provider_rtc"):
        assert _send(server.url, len(PATTERN), 100, 4) == {200: len(PATTERN)}
    noisy = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert noisy == []


def test_concurrent_callbacks_share_commits(server: ThreadedServer, tmp_path: Path) -> None:
    from airflow_provider_rtc.callbacks.group_commit import GroupCommit

    assert _send(server.url, 200, 2000, 64) == {200: 200}
    group = GroupCommit.shared(str(tmp_path / "cb.sqlite3"))
    assert group.writes >= 200 and group.commits < group.writes
