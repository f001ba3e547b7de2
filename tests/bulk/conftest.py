from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from rtc_sandbox.server import SandboxServer


@pytest.fixture
def sandbox(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    """A fresh sandbox (rate limits on) with the default connections pointing at it."""
    config: dict[str, Any] = {"random_seed": 5, **getattr(request, "param", {})}
    with SandboxServer(config=config) as server:
        for conn_id, conn in server.connections.items():
            extra = {**conn["extra"], "retry_delay": 0.05, "retry_max_delay": 0.2}
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({**conn, "extra": extra}))
        yield server


def seed(server: SandboxServer, doc: dict[str, Any]) -> dict[str, Any]:
    return requests.post(f"{server.url}/_sandbox/seed", json=doc, timeout=10).json()


def totals(server: SandboxServer) -> dict[str, Any]:
    return requests.get(f"{server.url}/_sandbox/stats", timeout=5).json()["totals"]
