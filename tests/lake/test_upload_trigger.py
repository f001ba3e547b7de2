"""The event-driven "recording uploaded" trigger: exactly one event per uploaded recording, also
across a triggerer restart (a fresh trigger from the serialized kwargs, the same asset state
store), for TRTC (callbacks through the receiver) and ZEGO (DescribeTasks/DescribeRecordStatus)."""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from typing import Any

import pytest
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook
from airflow_provider_rtc.triggers.uploads import RecordingUploadedEventTrigger

from .conftest import TRTC_KEY

#: the VOD recordings' grace window for late 311s, short: each is held, then woken by its end
GRACE = 0.3


class StateStore:
    """What the triggerer injects as ``asset_state_store`` for one watched asset (kept in a dict,
    as the metadata DB keeps it across restarts)."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    async def aget(self, key: str, default: Any = None) -> Any:
        return json.loads(self.data[key]) if key in self.data else default

    async def aset(self, key: str, value: Any) -> None:
        self.data[key] = json.dumps(value)


class BlockingStateStore:
    """The accessor of task SDK 1.3.x (Airflow 3.3.2's triggerer): blocking ``get``/``set`` only."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return json.loads(self.data[key]) if key in self.data else default

    def set(self, key: str, value: Any) -> None:
        self.data[key] = json.dumps(value)


def restarted(
    trigger: RecordingUploadedEventTrigger, store: StateStore | BlockingStateStore
) -> RecordingUploadedEventTrigger:
    """What the triggerer does after a restart: import the classpath, build from the kwargs."""
    classpath, kwargs = trigger.serialize()
    json.dumps(kwargs)  # kwargs are JSON primitives
    module, name = classpath.rsplit(".", 1)
    fresh = getattr(importlib.import_module(module), name)(**kwargs)
    fresh.asset_state_store = store
    return fresh


async def collect(
    trigger: RecordingUploadedEventTrigger, *, until: int, settle: float = 0.5
) -> list[dict[str, Any]]:
    """Run the trigger like the triggerer does, until ``until`` events came and a few more polls
    passed (the cursor was saved), then cancel it as a triggerer shutdown would."""
    events: list[dict[str, Any]] = []

    async def consume() -> None:
        async for event in trigger.run():
            events.append(event.payload)

    task = asyncio.create_task(consume())
    deadline = time.monotonic() + 20
    while len(events) < until:
        assert time.monotonic() < deadline, f"only {len(events)} of {until} events"
        assert not task.done() or task.exception() is None, task.exception()
        await asyncio.sleep(0.05)
    await asyncio.sleep(settle)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return events


def wait_uploaded(sandbox: SandboxServer, task_id: str) -> None:
    deadline = time.monotonic() + 10
    while sandbox.backend.trtc.storage(task_id)["upload"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def trtc_recordings(sandbox: SandboxServer, n: int) -> list[str]:
    seeded = sandbox.seed(
        {"trtc": {"rooms": n, "users_per_room": 1, "recordings": n, "recording_storage": "vod"}}
    )
    return [r["task_id"] for r in seeded["trtc"]["recordings"]]


async def test_trtc_one_event_per_recording_across_a_restart(trtc_feed: SandboxServer) -> None:
    first, second, third = trtc_recordings(trtc_feed, 3)
    hook = TrtcHook()
    for task_id in (first, second):
        hook.delete_cloud_recording(task_id)
        wait_uploaded(trtc_feed, task_id)
    store = StateStore()
    trigger = RecordingUploadedEventTrigger(
        cloud="trtc", poll_interval=0.05, commit_delay=0, vod_commit_grace=GRACE
    )
    trigger.asset_state_store = store
    before = await collect(trigger, until=2)
    assert sorted(e["task_id"] for e in before) == sorted([first, second])
    for event in before:
        assert event["status"] == "done" and event["manifest"]["status"] == "uploaded"
        assert event["manifest"]["files"] and event["key"] == f"trtc/{event['app_id']}/{event['task_id']}"
        assert TRTC_KEY not in json.dumps(event)

    hook.delete_cloud_recording(third)  # uploads while the triggerer is down
    wait_uploaded(trtc_feed, third)
    after = await collect(restarted(trigger, store), until=1, settle=0.8)
    assert [e["task_id"] for e in after] == [third]  # the first two are not emitted again
    assert TRTC_KEY not in json.dumps(trigger.serialize())


async def test_trtc_cursor_in_a_blocking_state_store(trtc_feed: SandboxServer) -> None:
    """What the real triggerer injects today: a store without aget/aset (found by `make e2e`)."""
    first, second = trtc_recordings(trtc_feed, 2)
    hook = TrtcHook()
    hook.delete_cloud_recording(first)
    wait_uploaded(trtc_feed, first)
    store = BlockingStateStore()
    trigger = RecordingUploadedEventTrigger(
        cloud="trtc", poll_interval=0.05, commit_delay=0, vod_commit_grace=GRACE
    )
    trigger.asset_state_store = store
    assert [e["task_id"] for e in await collect(trigger, until=1)] == [first]
    assert store.data, "the cursor was not saved"
    hook.delete_cloud_recording(second)
    wait_uploaded(trtc_feed, second)
    after = await collect(restarted(trigger, store), until=1, settle=0.8)
    assert [e["task_id"] for e in after] == [second]


async def test_trtc_uncommitted_events_are_emitted_again_not_lost(trtc_feed: SandboxServer) -> None:
    (task_id,) = trtc_recordings(trtc_feed, 1)
    TrtcHook().delete_cloud_recording(task_id)
    wait_uploaded(trtc_feed, task_id)
    store = StateStore()
    trigger = RecordingUploadedEventTrigger(
        cloud="trtc", poll_interval=0.05, commit_delay=3600, vod_commit_grace=GRACE
    )
    trigger.asset_state_store = store
    assert [e["task_id"] for e in await collect(trigger, until=1)] == [task_id]
    # the triggerer died before the event was committed to the cursor: it comes again
    again = await collect(restarted(trigger, store), until=1)
    assert [e["task_id"] for e in again] == [task_id]


async def test_zego_one_event_per_recording_across_a_restart(sandbox: SandboxServer) -> None:
    spec = {"rooms": 3, "users_per_room": 1, "streams_per_room": 1, "recordings": 3}
    tasks = [r["task_id"] for r in sandbox.seed({"zego": spec})["zego"]["recordings"]]
    hook = ZegoCloudRecordHook()
    for task_id in tasks[:2]:
        hook.stop_record(task_id)
    time.sleep(0.5)  # upload_delay
    store = StateStore()
    trigger = RecordingUploadedEventTrigger(cloud="zego", poll_interval=0.05, commit_delay=0)
    trigger.asset_state_store = store
    before = await collect(trigger, until=2)
    assert sorted(e["task_id"] for e in before) == sorted(tasks[:2])
    assert all(e["manifest"]["cloud"] == "zego" and e["manifest"]["files"] for e in before)
    hook.stop_record(tasks[2])
    after = await collect(restarted(trigger, store), until=1, settle=0.8)
    assert [e["task_id"] for e in after] == [tasks[2]]


def test_kwargs_are_validated_and_hold_no_secret() -> None:
    from airflow_provider_rtc.exceptions import RtcValidationError

    with pytest.raises(RtcValidationError, match="cloud"):
        RecordingUploadedEventTrigger(cloud="agora")
    _, kwargs = RecordingUploadedEventTrigger(cloud="trtc").serialize()
    assert set(kwargs) >= {"cloud", "conn_id", "poll_interval", "commit_delay"}
    assert not any("key" in k or "secret" in k or "password" in k for k in kwargs)


async def test_zego_from_the_receivers_upload_callbacks(
    sandbox: SandboxServer, receiver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """zego_source="callbacks": ZEGO's "files uploaded" callbacks (event_type 1) stored by the
    receiver decide, through the same decision as DescribeRecordStatus; no Describe call."""
    import httpx

    from airflow_provider_rtc.signing.callbacks import zego_callback_signature
    from tests.support.credentials import ZEGO_CALLBACK_SECRET

    conn = sandbox.connections["zegocloud_default"]
    extra = {**conn["extra"], "callback_receiver_url": receiver.url, "callback_secret": ZEGO_CALLBACK_SECRET}
    monkeypatch.setenv("AIRFLOW_CONN_ZEGOCLOUD_DEFAULT", json.dumps({**conn, "extra": extra}))
    app_id = int(conn["login"])

    def uploaded(task_id: str, sequence: int) -> None:
        stamp, nonce = str(int(time.time())), f"n{sequence}"
        body = {
            "app_id": app_id,
            "task_id": task_id,
            "room_id": "room_1",
            "event_type": 1,
            "sequence": sequence,
            "timestamp": stamp,
            "nonce": nonce,
            "signature": zego_callback_signature(ZEGO_CALLBACK_SECRET, stamp, nonce),
            "detail": {
                "upload_status": 1,
                "file_info": [
                    {
                        "file_id": f"{task_id}.mp4",
                        "file_url": f"https://x/{task_id}.mp4",
                        "status": 3,
                        "file_size": 9,
                    }
                ],
            },
        }
        assert httpx.post(f"{receiver.url}/zego/callback", json=body, timeout=5).status_code == 200

    uploaded("zrec1", 1)
    store = StateStore()
    trigger = RecordingUploadedEventTrigger(
        cloud="zego", zego_source="callbacks", poll_interval=0.05, commit_delay=0
    )
    trigger.asset_state_store = store
    before = await collect(trigger, until=1)
    assert [e["task_id"] for e in before] == ["zrec1"]
    assert before[0]["manifest"]["files"][0]["name"] == "zrec1.mp4"
    uploaded("zrec2", 2)
    after = await collect(restarted(trigger, store), until=1, settle=0.8)
    assert [e["task_id"] for e in after] == ["zrec2"]
    assert sandbox.backend.stats.snapshot()["totals"]["calls"] == 0  # no DescribeTasks/RecordStatus


def test_the_changes_read_is_signed(receiver: Any) -> None:
    import httpx

    from airflow_provider_rtc.callbacks.auth import sign_read

    path = "/trtc/1400000001/tasks?since=0&limit=10"
    assert httpx.get(f"{receiver.url}{path}", timeout=5).status_code == 401
    wrong = sign_read("not-the-key", path)
    assert httpx.get(f"{receiver.url}{path}", headers=wrong, timeout=5).status_code == 401
    ok = httpx.get(f"{receiver.url}{path}", headers=sign_read(TRTC_KEY, path), timeout=5)
    assert ok.status_code == 200 and ok.json()["tasks"] == []


async def test_zego_describe_calls_stay_within_their_documented_rate(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """25 ended recordings at once: the watcher's DescribeRecordStatus calls are paced at ZEGO's
    10/s by the hook, so the sandbox (limits on) never throttles one."""
    import httpx

    spec = {"rooms": 25, "users_per_room": 1, "streams_per_room": 1, "recordings": 25}
    tasks = [r["task_id"] for r in sandbox.seed({"zego": spec})["zego"]["recordings"]]
    hook = ZegoCloudRecordHook()
    for task_id in tasks:
        hook.stop_record(task_id)
    time.sleep(0.5)
    conn = sandbox.connections["zegocloud_default"]
    monkeypatch.setenv("AIRFLOW_CONN_ZEGOCLOUD_DEFAULT", json.dumps(conn))  # pacing on (the default)
    assert httpx.put(f"{sandbox.url}/_sandbox/limits", json={"enabled": True}, timeout=5).status_code == 200
    before = sandbox.backend.stats.snapshot()["actions"].get("DescribeRecordStatus", {}).get("calls", 0)
    trigger = RecordingUploadedEventTrigger(cloud="zego", poll_interval=0.05, commit_delay=0)
    events = await collect(trigger, until=25, settle=0.2)
    assert sorted(e["task_id"] for e in events) == sorted(tasks)
    stats = sandbox.backend.stats.snapshot()
    assert stats["actions"]["DescribeRecordStatus"]["calls"] - before >= 25
    assert stats["totals"]["throttled"] == 0
