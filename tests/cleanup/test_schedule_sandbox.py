"""The dependency-aware executor against the sandbox (HTTP on 127.0.0.1, its rate limits on): every
call's start and end in one sequence, then order and overlap are read from it. Order only, no
wall-clock windows: the pacers' spacing (10 DeleteStream/s, 1 CloseRoom/s) is what makes work overlap."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from rtc_sandbox.inventory import cleanup_conf, leftovers
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc import pacing
from airflow_provider_rtc.cleanup.engine import BulkRun
from airflow_provider_rtc.cleanup.event_conf import end_event
from airflow_provider_rtc.event import event_targets
from airflow_provider_rtc.hooks.live import LiveHook
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.hooks.zego import ZegoRtcHook

EVENT = {
    "trtc": {"rooms": 12, "users_per_room": 1, "recordings": 3, "recording_storage": "cos"},
    "live": {"mix_sessions": 3, "streams": 0},
    "zego": {"rooms": 6, "users_per_room": 2, "streams_per_room": 2, "mixes": 0, "recordings": 0},
}


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    monkeypatch.setattr(pacing, "_pacers", {})
    with SandboxServer(config={"random_seed": 5}) as server:
        for conn_id, conn in server.connections.items():
            extra = {**conn["extra"], "retry_delay": 0.05, "retry_max_delay": 0.2}
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({**conn, "extra": extra}))
        server.seed(EVENT)
        yield server


class Sequence:
    """("start"|"end", action, room) of every destructive call, in the order they happened."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[str, str, str]] = []

    def wrap(self, monkeypatch: pytest.MonkeyPatch, hook: type, method: str, action: str) -> None:
        original = getattr(hook, method)

        def recorded(this: Any, *args: Any, **kwargs: Any) -> Any:
            room = (
                str(args[0])
                if args and action not in ("CancelCommonMixStream", "DeleteCloudRecording")
                else ""
            )
            with self.lock:
                self.events.append(("start", action, room))
            try:
                return original(this, *args, **kwargs)
            finally:
                with self.lock:
                    self.events.append(("end", action, room))

        monkeypatch.setattr(hook, method, recorded)

    def first(self, what: str, action: str, room: str | None = None) -> int:
        return min(i for i, e in enumerate(self.events) if e[:2] == (what, action) and room in (None, e[2]))

    def last(self, what: str, action: str, room: str | None = None) -> int:
        return max(i for i, e in enumerate(self.events) if e[:2] == (what, action) and room in (None, e[2]))


def test_rooms_wait_for_their_own_streams_and_users_while_independent_work_overlaps(sandbox, monkeypatch):
    seq = Sequence()
    seq.wrap(monkeypatch, ZegoRtcHook, "delete_stream", "DeleteStream")
    seq.wrap(monkeypatch, ZegoRtcHook, "kickout_user", "KickoutUser")
    seq.wrap(monkeypatch, ZegoRtcHook, "close_room", "CloseRoom")
    seq.wrap(monkeypatch, TrtcHook, "dismiss_room", "DismissRoom")
    seq.wrap(monkeypatch, TrtcHook, "delete_cloud_recording", "DeleteCloudRecording")
    seq.wrap(monkeypatch, LiveHook, "cancel_common_mix_stream", "CancelCommonMixStream")
    state = requests.get(f"{sandbox.url}/_sandbox/state", timeout=5).json()
    conf = cleanup_conf(state)

    summary, interrupted = end_event(event_targets(conf), run=BulkRun(16))

    assert interrupted is None and set(summary["counts"]) <= {"done", "already_gone"}, summary["counts"]
    assert summary["total"] == sum(len(v) for v in conf.values())  # (a kicked user's stream: already gone)
    left = leftovers(requests.get(f"{sandbox.url}/_sandbox/state", timeout=5).json())
    assert not any(left.values()), left
    zego_rooms = [str(r) for r in conf["zego_rooms"]]
    for room in zego_rooms:  # order: a room is closed only after its own streams and users ended
        closed = seq.first("start", "CloseRoom", room)
        assert closed > seq.last("end", "DeleteStream", room)
        assert closed > seq.last("end", "KickoutUser", room)
    # TRTC rooms after every TRTC recording (named by task id: no room known, so all of them)
    assert seq.first("start", "DismissRoom") > seq.last("end", "DeleteCloudRecording")
    # overlap: the first ZEGO room closes while other rooms' streams are still being deleted, and
    # TRTC rooms are dismissed meanwhile (stage by stage, both waited for every stream)
    last_stream = seq.last("end", "DeleteStream")
    assert seq.first("start", "CloseRoom") < last_stream
    assert seq.first("start", "DismissRoom") < last_stream
    assert set(summary["apis"]) >= {"zego CloseRoom", "zego DeleteStream", "trtc DismissRoom"}
