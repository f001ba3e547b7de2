"""The one sandbox of the test suites: servers pooled per configuration for the session, reset
(moto's reset semantics) before each test, their connections installed as AIRFLOW_CONN_* JSON the
way users give them. Suites choose a configuration by overriding the ``sandbox_config`` fixture
(or ``@pytest.mark.parametrize("sandbox", [config], indirect=True)``) and the connection extras by
overriding ``sandbox_conn_extra``; the ``sandbox`` fixture lives in :mod:`tests.support.fixtures`."""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import pytest
from rtc_sandbox.server import SandboxServer

from benchmarks.sandbox_proc import seed, totals

__all__ = ["FAST_RETRIES", "SandboxPool", "install_connections", "seed", "totals"]

#: connection extras that keep the client's retry back-off short against the sandbox
FAST_RETRIES: dict[str, Any] = {"retry_delay": 0.05, "retry_max_delay": 0.2}


class SandboxPool:
    """Running sandboxes keyed by their configuration; the least recently used one is stopped once
    more than ``size`` are running (a configuration naming a per-test receiver URL is used once)."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self._servers: OrderedDict[str, SandboxServer] = OrderedDict()

    def get(self, config: dict[str, Any]) -> SandboxServer:
        key = json.dumps(config, sort_keys=True, default=str)
        server = self._servers.pop(key, None)
        if server is None:
            server = SandboxServer(config=config).start()
        self._servers[key] = server
        while len(self._servers) > self.size:
            self._servers.popitem(last=False)[1].stop()
        return server

    def close(self) -> None:
        while self._servers:
            self._servers.popitem()[1].stop()


def install_connections(
    server: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    extra: dict[str, Any] | None = None,
    *,
    names: dict[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Point connections at ``server`` with ``extra`` merged into each; ``names`` maps a connection
    id to install to the sandbox connection it copies (default: ``tencentcloud_default`` and
    ``zegocloud_default`` under their own names)."""
    conns = server.connections
    installed = {}
    for conn_id, source in (names or {name: name for name in conns}).items():
        conn = conns[source]
        conn = {**conn, "extra": {**conn["extra"], **(extra or {})}}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        installed[conn_id] = conn
    return installed
