"""A sandbox with the provider's receiver subscribed to its callbacks, and Airflow connections
pointing at both (the receiver extras included), for discovery and end-event tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from rtc_sandbox.inventory import discovered_resources, live_resources
from rtc_sandbox.receiver import ReceiverBed
from rtc_sandbox.server import SandboxServer

from tests.support.sandbox import SandboxPool

#: the event discovery tests end: no Live mix sessions (not discoverable: no callback, no list API)
EVENT: dict[str, Any] = {
    "trtc": {"rooms": 8, "users_per_room": 3, "str_rooms": 2, "recordings": 3},
    "live": {"streams": 3},
    "zego": {"rooms": 5, "users_per_room": 3, "streams_per_room": 2, "mixes": 2, "recordings": 2},
}
LOSSY = {"faults": {"lifecycle": {"lost": 0.2}}}


@pytest.fixture
def bed(
    request: pytest.FixtureRequest, sandbox_pool: SandboxPool, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ReceiverBed]:
    """Sandbox + receiver; ``@pytest.mark.parametrize("bed", [config], indirect=True)`` adds config."""
    config: dict[str, Any] = {
        "random_seed": 7,
        "zego": {"mix_ownership": False},
        "timing": {"tick_seconds": 0.02},
        "callbacks": {"timeout": 2.0, "retry_interval": 0.5, "max_age": 5.0},
        **getattr(request, "param", {}),
    }
    server = sandbox_pool.get(config)
    server.reset()
    with ReceiverBed(server, tmp_path) as receiver:
        for conn_id, conn in receiver.connections.items():
            extra = {**conn["extra"], "retry_delay": 0.05, "retry_max_delay": 0.3}
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({**conn, "extra": extra}))
        yield receiver


def live_in_sandbox(server: SandboxServer) -> dict[str, set[Any]]:
    return live_resources(server.state())


discovered = discovered_resources


def destructive_calls(server: SandboxServer) -> int:
    """Calls the sandbox received for APIs the catalog marks destructive (they end something)."""
    from airflow_provider_rtc.catalog import CATALOG

    destructive = {api.action for api in CATALOG.values() if api.destructive}
    actions = server.backend.stats.snapshot()["actions"]
    return sum(stats["calls"] for action, stats in actions.items() if action in destructive)
