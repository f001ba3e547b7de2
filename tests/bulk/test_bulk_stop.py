"""A bulk can be stopped: SIGTERM (on_kill) and execution_timeout in a real task process.

The child process (``bulk_child.py``) closes ZEGO rooms at ZEGO's 1 CloseRoom call/s, so a
bulk of 8 rooms is still running when it is stopped. After the stop no new call may reach the
cloud, the calls on the wire finish, and the per-target summary is still pushed and logged.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from rtc_sandbox.server import SandboxServer

from tests.support.sandbox import seed

CHILD = Path(__file__).with_name("bulk_child.py")
ROOMS = 8


def _close_room_calls(server: SandboxServer, *, executed: bool = False) -> int:
    """CloseRoom calls the cloud received (``executed``: less those it throttled, which did nothing)."""
    stats = requests.get(f"{server.url}/_sandbox/stats", timeout=5).json()
    action = stats["actions"].get("CloseRoom", {})
    return int(action.get("calls", 0)) - (int(action.get("throttled", 0)) if executed else 0)


def _live_rooms(server: SandboxServer) -> set[str]:
    state = requests.get(f"{server.url}/_sandbox/state", timeout=5).json()
    return {room["room_id"] for room in state["zego"]["rooms"]}


def _start(mode: str, rooms: list[str], out: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), mode, json.dumps(rooms), str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert child.stdout is not None
    for line in child.stdout:  # wait until the operator is built (imports done)
        if line.strip() == "ready":
            break
    return child


def _wait_for_calls(server: SandboxServer, child: subprocess.Popen[str], count: int) -> None:
    """Synchronise on what the cloud saw (not on time): at least ``count`` calls made."""
    deadline = time.monotonic() + 60
    while _close_room_calls(server) < count:
        assert child.poll() is None, "the bulk ended before it could be stopped"
        assert time.monotonic() < deadline, "the bulk made no progress"
        time.sleep(0.05)


def _finish(child: subprocess.Popen[str], out: Path) -> dict[str, Any]:
    output, _ = child.communicate(timeout=120)
    assert out.exists(), output
    result = json.loads(out.read_text())
    result["returncode"] = child.returncode
    result["log"] = output
    return result


def _check_summary(server: SandboxServer, rooms: list[str], result: dict[str, Any]) -> dict[str, Any]:
    summary = result["xcom"]["bulk_results"]
    statuses = {r["room_id"]: r["status"] for r in summary["results"]}
    assert sorted(statuses) == sorted(rooms)  # every target is reported
    assert set(statuses.values()) <= {"done", "already_gone", "failed", "not_started"}
    started = [room for room, status in statuses.items() if status != "not_started"]
    not_started = [room for room, status in statuses.items() if status == "not_started"]
    assert not_started, summary  # it really stopped early
    # no call ran for a not-started target: the cloud executed exactly the started ones (a call
    # it throttled did nothing; stopped before its retry, that target is rightly "not_started") ...
    assert _close_room_calls(server, executed=True) == len(started), summary["results"]
    # ... and the rooms never called are still open, the others closed
    live = _live_rooms(server)
    assert set(not_started) <= live and not (set(started) & live)
    assert sum(summary["counts"].values()) == len(rooms)
    assert "not started" in result["log"] and "bulk close_rooms finished" in result["log"]
    return summary


@pytest.mark.parametrize("sandbox", [{"random_seed": 5}], indirect=True)
@pytest.mark.slow  # a real SIGTERM into a paced run: real elapsed time
@pytest.mark.timing  # serially, on a core of its own (make test-all)
def test_sigterm_stops_new_calls_and_still_reports(sandbox: SandboxServer, tmp_path: Path) -> None:
    rooms = seed(sandbox, {"zego": {"rooms": ROOMS, "users_per_room": 1, "streams_per_room": 0}})["zego"][
        "rooms"
    ]
    out = tmp_path / "out.json"
    child = _start("sigterm", rooms, out)
    _wait_for_calls(sandbox, child, 2)
    child.send_signal(signal.SIGTERM)
    result = _finish(child, out)
    assert result["returncode"] == 1 and result["ended"] == "AirflowException"
    assert "bulk stopped (on_kill)" in result["message"]
    summary = _check_summary(sandbox, rooms, result)
    assert summary["stopped"] == "on_kill"


@pytest.mark.slow  # a real execution timeout: real elapsed time
@pytest.mark.timing  # serially, on a core of its own (make test-all)
def test_execution_timeout_stops_new_calls_and_still_reports(sandbox: SandboxServer, tmp_path: Path) -> None:
    rooms = seed(sandbox, {"zego": {"rooms": ROOMS, "users_per_room": 1, "streams_per_room": 0}})["zego"][
        "rooms"
    ]
    out = tmp_path / "out.json"
    # 8 rooms at 1 call/s need about 7 s; the task's execution_timeout is 2.5 s
    child = _start("timeout=2.5", rooms, out)
    result = _finish(child, out)
    assert result["returncode"] == 1 and result["ended"] == "AirflowTaskTimeout"
    summary = _check_summary(sandbox, rooms, result)
    assert summary["stopped"] == "AirflowTaskTimeout"
    assert summary["counts"].get("done", 0) >= 1
