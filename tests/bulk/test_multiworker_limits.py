"""Several worker processes (spawned, as executors run task instances) bulk-dismiss rooms on one
account against the sandbox enforcing TRTC's 20/s: with a shared backend the sandbox never counts a
call over the documented rate, and every room ends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from rtc_sandbox.server import SandboxServer

from benchmarks.multiworker import run_workers
from tests.support.sandbox import seed

# spawned worker processes pacing against the sandbox in real time (tens of seconds)
pytestmark = [pytest.mark.slow, pytest.mark.timing]  # timing: serially, on a core of its own

WORKERS = 3
ROOMS = 45


def _dismiss_in_workers(server: SandboxServer, backend: str, rate_dir: Path, redis_url: str | None) -> None:
    room_ids = seed(server, {"trtc": {"rooms": ROOMS, "users_per_room": 1}})["trtc"]["rooms"]
    conn_env = {
        f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn) for conn_id, conn in server.connections.items()
    }
    got = run_workers(
        conn_env=conn_env,
        room_ids=room_ids,
        workers=WORKERS,
        backend=backend,
        rate_dir=str(rate_dir),
        redis_url=redis_url,
    )
    stats = requests.get(f"{server.url}/_sandbox/stats", timeout=5).json()["actions"]["DismissRoom"]
    assert got["done"] == ROOMS and got["failed"] == 0
    assert stats["ok"] == ROOMS
    assert stats["throttled"] == 0, stats  # no call ever arrived over 20/s as the sandbox counts it
    assert stats["calls"] == ROOMS  # so nothing had to be sent twice
    assert not server.state()["trtc"]["rooms"]


def test_host_backend_shares_the_limit_between_processes(sandbox: SandboxServer, tmp_path: Path) -> None:
    _dismiss_in_workers(sandbox, "host", tmp_path, None)


def test_redis_backend_shares_the_limit_between_processes(
    sandbox: SandboxServer, tmp_path: Path, redis_url: str
) -> None:
    _dismiss_in_workers(sandbox, "redis", tmp_path, redis_url)
