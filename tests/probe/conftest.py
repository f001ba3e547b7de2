"""One sandbox for the probe tests (reset and seeded with a live event before each test), its
connections installed as AIRFLOW_CONN_* variables the way users give them, and helpers that read
what is live through the sandbox's admin API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from rtc_sandbox.inventory import live_resources
from rtc_sandbox.server import SandboxServer

TENCENT = "probe_tencent"
ZEGO = "probe_zego"
LIVE_DOMAIN = "push.probe.example.com"
VOD_FILES: list[str] = []


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxServer]:
    # documented rate limits stay on: the probe makes one call per API and must pass them
    with SandboxServer({"random_seed": 11}) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    """Reset, seeded with the standard live event plus a VOD media (its FileId kept in
    ``VOD_FILES``), connections installed."""
    sandbox_server.reset()
    VOD_FILES.clear()
    sandbox_server.seed_event()
    resp = httpx.post(
        f"{sandbox_server.url}/_sandbox/vod/media", json={"name": "keep.mp4", "size": 1000}, timeout=5
    )
    assert resp.status_code == 200, resp.text
    VOD_FILES.append(resp.json()["file_id"])
    conns = sandbox_server.connections
    for conn_id, source in ((TENCENT, "tencentcloud_default"), (ZEGO, "zegocloud_default")):
        conn = conns[source]
        extra = {**conn["extra"], "retry_delay": 0.05, "retry_max_delay": 0.2, "retry_limit": 2}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({**conn, "extra": extra}))
    return sandbox_server


def live(server: SandboxServer) -> dict[str, Any]:
    """Every live resource (admin API ``/_sandbox/state``) and the seeded VOD media still there
    (in-process backend: the admin API does not list VOD)."""
    state = httpx.get(f"{server.url}/_sandbox/state", timeout=5).json()
    found: dict[str, Any] = dict(live_resources(state))
    found["vod media"] = {f for f in VOD_FILES if server.backend.vod.get(f) is not None}
    return found


def calls(server: SandboxServer) -> dict[str, int]:
    actions = httpx.get(f"{server.url}/_sandbox/stats", timeout=5).json()["actions"]
    return {name: entry["calls"] for name, entry in actions.items()}
