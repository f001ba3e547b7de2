"""The fault suite: 100 rooms dismissed under each kind of fault the sandbox injects. Nothing may be
lost (every room ends, no target fails) and nothing done twice silently (a room found already gone
after a lost answer says so). Prints the figures; run with ``-s`` to see them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.operators.trtc import BulkDismissRoomsOperator

# 100 rooms under each kind of fault, paced at the documented rates: minutes
pytestmark = pytest.mark.slow

ROOMS = 100
FAULTS: dict[str, dict[str, Any]] = {
    "throttle": {"kind": "throttle", "probability": 0.3},
    "internal": {"kind": "internal", "probability": 0.3},
    "http5xx": {"kind": "http5xx", "probability": 0.3},
    "drop": {"kind": "drop", "probability": 0.3},
    "latency": {"kind": "latency", "probability": 0.05, "latency_seconds": 1.5},
}
FIGURES: dict[str, dict[str, Any]] = {}


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    with SandboxServer(config={"random_seed": 1, "limits": {"enabled": False}}) as server:
        for conn_id, conn in server.connections.items():
            extra = {
                **conn["extra"],
                "retry_delay": 0.01,
                "retry_max_delay": 0.05,
                "retry_limit": 8,
                "timeout": [1, 1],  # the latency fault sleeps past the read timeout
                "pacing": False,
            }
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({**conn, "extra": extra}))
        yield server


@pytest.mark.parametrize("fault", list(FAULTS))
def test_no_room_lost_and_nothing_done_twice_silently(sandbox: SandboxServer, fault: str) -> None:
    url = sandbox.url
    rooms = requests.post(f"{url}/_sandbox/seed", json={"trtc": {"rooms": ROOMS, "users_per_room": 1}}).json()
    rooms = rooms["trtc"]["rooms"]
    requests.put(f"{url}/_sandbox/faults", json={"rules": [{"action": "DismissRoom", **FAULTS[fault]}]})
    summary = BulkDismissRoomsOperator(task_id="fault_suite", room_ids=rooms, max_concurrency=8).execute({})
    stats = requests.get(f"{url}/_sandbox/stats").json()["actions"]["DismissRoom"]
    state = requests.get(f"{url}/_sandbox/state").json()

    counts = summary["counts"]
    gone_after_lost = sum(1 for r in summary["results"] if r.get("after_lost_response"))
    FIGURES[fault] = {
        "rooms": ROOMS,
        "calls": stats["calls"],
        "faults": sum(stats["faults"].values()),
        "done": counts.get("done", 0),
        "already_gone": counts.get("already_gone", 0),
        "after_lost_answer": gone_after_lost,
        "failed": counts.get("failed", 0),
    }
    print(f"\nfault suite {fault:<9} {json.dumps(FIGURES[fault])}")

    assert counts.get("failed", 0) == 0  # nothing lost
    assert state["trtc"]["rooms"] == []  # every room really ended
    assert counts.get("done", 0) + counts.get("already_gone", 0) == ROOMS
    # every "already gone" is explained by an earlier attempt whose answer was lost
    assert gone_after_lost == counts.get("already_gone", 0)
    assert stats["calls"] > ROOMS  # the faults happened and were retried
