"""A sandbox with the provider's receiver subscribed to its callbacks, and Airflow connections
pointing at both (the receiver extras included), for discovery and end-event tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_rtc import pacing
from airflow_provider_rtc.sandbox.receiver_bed import ReceiverBed
from airflow_provider_rtc.sandbox.server import SandboxServer

#: the event discovery tests end: no Live mix sessions (not discoverable: no callback, no list API)
EVENT: dict[str, Any] = {
    "trtc": {"rooms": 8, "users_per_room": 3, "str_rooms": 2, "recordings": 3},
    "live": {"streams": 3},
    "zego": {"rooms": 5, "users_per_room": 3, "streams_per_room": 2, "mixes": 2, "recordings": 2},
}
LOSSY = {"faults": {"lifecycle": {"lost": 0.2}}}


@pytest.fixture(autouse=True)
def _fresh_pacers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "_pacers", {})


@pytest.fixture
def bed(
    request: pytest.FixtureRequest, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ReceiverBed]:
    """Sandbox + receiver; ``@pytest.mark.parametrize("bed", [config], indirect=True)`` adds config."""
    config: dict[str, Any] = {
        "random_seed": 7,
        "zego": {"mix_ownership": False},
        "timing": {"tick_seconds": 0.02},
        "callbacks": {"timeout": 2.0, "retry_interval": 0.5, "max_age": 5.0},
        **getattr(request, "param", {}),
    }
    with SandboxServer(config=config) as server, ReceiverBed(server, tmp_path) as receiver:
        for conn_id, conn in receiver.connections.items():
            extra = {**conn["extra"], "retry_delay": 0.05, "retry_max_delay": 0.3}
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({**conn, "extra": extra}))
        yield receiver


def live_in_sandbox(server: SandboxServer) -> dict[str, set[Any]]:
    """Every live resource the sandbox holds, as comparable keys (the ground truth)."""
    state = server.state()
    trtc, live, zego = state["trtc"], state["live"], state["zego"]
    return {
        "trtc rooms": {str(r["room_id"]) for r in trtc["rooms"]},
        "trtc users": {(str(r["room_id"]), u) for r in trtc["rooms"] for u in r["users"]},
        "trtc streams": {(str(r["room_id"]), u) for r in trtc["rooms"] for u in r["publishing"]},
        "trtc recordings": {
            r["task_id"] for r in trtc["recordings"] if r["status"] in ("Idle", "InProgress")
        },
        "live streams": {s["stream_name"] for s in live["streams"] if s["state"] == "active"},
        "zego rooms": {r["room_id"] for r in zego["rooms"]},
        "zego users": {(r["room_id"], u) for r in zego["rooms"] for u in r["users"]},
        "zego streams": {s["stream_id"] for r in zego["rooms"] for s in r["streams"]},
        "zego mixes": {m["task_id"] for m in zego["mixes"]},
        "zego recordings": {r["task_id"] for r in zego["recordings"] if r["status"] in (1, 2)},
    }


def discovered(inventory: dict[str, Any]) -> dict[str, set[Any]]:
    """The same keys from a discovery result."""
    c = inventory["clouds"]
    out: dict[str, set[Any]] = {}
    if "trtc" in c:
        t = c["trtc"]
        out["trtc rooms"] = {str(i["ids"]["room_id"]) for i in t["rooms"]}
        out["trtc users"] = {(str(i["ids"]["room_id"]), i["ids"]["user_id"]) for i in t["users"]}
        out["trtc streams"] = {(str(i["ids"]["room_id"]), i["ids"]["user_id"]) for i in t["streams"]}
        out["trtc recordings"] = {i["ids"]["task_id"] for i in t["recordings"]}
    if "live" in c:
        out["live streams"] = {i["ids"]["stream_name"] for i in c["live"]["streams"]}
    if "zego" in c:
        z = c["zego"]
        out["zego rooms"] = {i["ids"]["room_id"] for i in z["rooms"]}
        out["zego users"] = {(i["ids"]["room_id"], i["ids"]["user_id"]) for i in z["users"]}
        out["zego streams"] = {i["ids"]["stream_id"] for i in z["streams"]}
        out["zego mixes"] = {i["ids"]["task_id"] for i in z["mixes"]}
        out["zego recordings"] = {i["ids"]["task_id"] for i in z["recordings"]}
    return out


def destructive_calls(server: SandboxServer) -> int:
    """Calls the sandbox received for APIs the catalog marks destructive (they end something)."""
    from airflow_provider_rtc.catalog import CATALOG

    destructive = {api.action for api in CATALOG.values() if api.destructive}
    actions = server.backend.stats.snapshot()["actions"]
    return sum(stats["calls"] for action, stats in actions.items() if action in destructive)
