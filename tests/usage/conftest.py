"""The usage tests' sandbox: one server per module, reset per test, its TRTC connection in the env."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from rtc_sandbox.server import SandboxServer


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer({"random_seed": 3}) as srv:
        yield srv


@pytest.fixture
def sandbox(server: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    server.reset()
    conn = server.connections["tencentcloud_default"]
    extra = {**conn["extra"], "retry_delay": 0.05, "retry_max_delay": 0.2}
    monkeypatch.setenv("AIRFLOW_CONN_TENCENTCLOUD_DEFAULT", json.dumps({**conn, "extra": extra}))
    return server
