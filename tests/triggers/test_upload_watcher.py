"""The upload watcher (``RecordingUploadedEventTrigger``) never stalls and reads ZEGO's documented
DescribeTasks answer.

The burst test puts 10,000 uploaded recordings into a real receiver's store within one minute of
receiver time (the store's clock is given, no sleeps), then drives the trigger poll by poll as the
triggerer does (``poll_once`` then ``save_cursor``), with a restart in between (a fresh trigger
from the serialized kwargs, the same asset state).
"""

from __future__ import annotations

import importlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from airflow_provider_rtc.callbacks.app import create_app
from airflow_provider_rtc.callbacks.config import ReceiverConfig
from airflow_provider_rtc.callbacks.store import CallbackStore
from airflow_provider_rtc.triggers.uploads import RecordingUploadedEventTrigger
from tests.recordings.conftest import trtc_event
from tests.support import wire
from tests.support.credentials import SDK_APP_ID, TRTC_KEY, ZEGO_APP_ID
from tests.support.servers import ThreadedServer

BURST = 10_000


class StateStore:
    """The asset state store the triggerer injects (JSON values kept across restarts)."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    async def aget(self, key: str, default: Any = None) -> Any:
        return json.loads(self.data[key]) if key in self.data else default

    async def aset(self, key: str, value: Any) -> None:
        self.data[key] = json.dumps(value)


@pytest.fixture
def receiver(tmp_path: Any) -> Iterator[ThreadedServer]:
    config = ReceiverConfig(db_path=str(tmp_path / "callbacks.sqlite3"), trtc_keys={"*": TRTC_KEY})
    server = ThreadedServer(create_app(config))
    yield server
    server.stop()


@pytest.fixture
def watched(receiver: ThreadedServer, tencent_conn: str, monkeypatch: pytest.MonkeyPatch) -> CallbackStore:
    """The TRTC connection reads the receiver; returns the receiver's store."""
    conn = json.loads(os.environ["AIRFLOW_CONN_TENCENTCLOUD_DEFAULT"])
    conn["extra"].update(callback_receiver_url=receiver.url, callback_secret=TRTC_KEY)
    monkeypatch.setenv("AIRFLOW_CONN_TENCENTCLOUD_DEFAULT", json.dumps(conn))
    store = receiver.app.state.receiver.store
    assert isinstance(store, CallbackStore)
    return store


def uploaded(store: CallbackStore, task_id: str, at: float) -> None:
    """A COS recording whose 305 UPLOAD_STOP Status 0 reached the receiver at ``at`` (its clock)."""
    body = trtc_event(task_id, 305, {"Status": 0}, at_ms=int(at * 1000))
    store.put(
        cloud="trtc",
        app_id=SDK_APP_ID,
        task_id=task_id,
        event_type=305,
        file_key="",
        status=0,
        event_ms=int(at * 1000),
        body=body,
        now=at,
    )


def bulk_uploaded(store: CallbackStore, recordings: list[tuple[str, float]]) -> None:
    """Many :func:`uploaded` rows in one transaction: the rows ``CallbackStore.put`` writes for a
    new slot (one put per row is a fsync each, ~1 ms: 10 s for the burst, all setup)."""
    rows = []
    for task_id, at in recordings:
        body = trtc_event(task_id, 305, {"Status": 0}, at_ms=int(at * 1000))
        text = json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        rows.append(("trtc", str(SDK_APP_ID), task_id, "305", "", 0, int(at * 1000), at, at, 1, text))
    with sqlite3.connect(store.path) as db:
        db.executemany("INSERT INTO callback_events VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    assert store.events("trtc", SDK_APP_ID, recordings[-1][0])[0].status == 0


def restarted(trigger: RecordingUploadedEventTrigger, state: StateStore) -> RecordingUploadedEventTrigger:
    classpath, kwargs = trigger.serialize()
    module, name = classpath.rsplit(".", 1)
    fresh = getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))
    fresh.asset_state_store = state
    return fresh


async def polls(trigger: RecordingUploadedEventTrigger, *, most: int = 6) -> list[str]:
    """Poll as ``run()`` does (cursor loaded, then poll + save) until a poll finds nothing new."""
    await trigger.load_cursor()
    emitted: list[str] = []
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(most):
            found = [event["task_id"] async for event in trigger.poll_once(client)]
            await trigger.save_cursor(time.time())
            emitted += found
            if not found:
                break
    return emitted


@pytest.mark.slow  # a burst far larger than a page, across a restart: benchmark-sized (~1 min)
async def test_a_burst_far_larger_than_a_page_is_emitted_once_each_across_a_restart(
    watched: CallbackStore,
) -> None:
    start = time.time() - 55  # 10,000 completions within one minute of receiver time
    burst = [f"burst-{i:05d}" for i in range(BURST)]
    bulk_uploaded(watched, [(task_id, start + i * 0.005) for i, task_id in enumerate(burst)])
    state = StateStore()
    trigger = RecordingUploadedEventTrigger(cloud="trtc", poll_interval=1, commit_delay=0)
    trigger.asset_state_store = state

    first = await polls(trigger)
    assert len(first) == BURST, f"{len(first)} of {BURST} recordings emitted (the watcher stalled)"
    assert len(set(first)) == BURST and set(first) == set(burst)

    # after a restart: a recording completing later (still inside the re-read window) comes once,
    # nothing of the burst comes again
    later = "later-00001"
    uploaded(watched, later, time.time())
    again = await polls(restarted(trigger, state))
    assert again == [later]


async def test_a_burst_sharing_one_instant_is_read_page_by_page(watched: CallbackStore) -> None:
    """1,200 recordings stored at the very same receiver time: the cursor's task id tells them apart."""
    at = time.time() - 5
    burst = {f"same-{i:04d}" for i in range(1_200)}
    bulk_uploaded(watched, [(task_id, at) for task_id in burst])
    trigger = RecordingUploadedEventTrigger(cloud="trtc", poll_interval=1, commit_delay=0)
    emitted = await polls(trigger)
    assert sorted(emitted) == sorted(burst)


async def test_an_older_receiver_without_the_cursor_is_still_read_to_the_end(
    watched: CallbackStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A receiver that ignores ``after`` (no echo) is paged by change time, ties included."""
    from airflow_provider_rtc.callbacks import client as receiver_client

    original = receiver_client.afetch_changed_page
    asked: list[str | None] = []

    async def old_receiver(*args: Any, after: str | None = None, **kwargs: Any) -> Any:
        asked.append(after)
        return await original(*args, **kwargs)  # the cursor is not sent: an old receiver's answer

    monkeypatch.setattr(receiver_client, "afetch_changed_page", old_receiver)
    at = time.time() - 5
    # 499 distinct instants, then 101 recordings sharing the instant a page ends on
    burst = [(f"old-{i:04d}", at + min(i, 499) * 0.001) for i in range(600)]
    bulk_uploaded(watched, burst)
    trigger = RecordingUploadedEventTrigger(cloud="trtc", poll_interval=1, commit_delay=0)
    async with httpx.AsyncClient(timeout=30) as client:
        found = [event["task_id"] async for event in trigger.poll_once(client)]
    assert sorted(found) == [task_id for task_id, _ in burst]
    assert asked[:3] == [None, "old-0499", None]
    assert "ignores the 'after' cursor" in caplog.text


# -- ZEGO DescribeTasks answers TaskidList -----------------------------------------------------------

#: the shape of ZEGO's documented example (docs_all extended_services/cloud_recording/en/server/
#: describe-tasks.yaml, QueryRecordTaskListResponse), with ended tasks (Status 3)
TASKID_LIST = {
    "PageOffset": 1,
    "PageSize": 50,
    "TotalCount": 2,
    "TaskidList": [
        {"RecordBeginTimestamp": 1628565227899, "TaskId": "YRHu6-E4IyvEAAAD", "RoomId": "1000", "Status": 3},
        {"RecordBeginTimestamp": 1628565226303, "TaskId": "YRHu6uE4IyvEAAAC", "RoomId": "1000", "Status": 3},
    ],
}


def record_status(task_id: str) -> dict[str, Any]:
    return wire.zego_ok(
        {
            "RoomId": "1000",
            "RecordMode": 1,
            "StreamType": 3,
            "RecordBeginTimestamp": 1628565226303,
            "RecordEndTimestamp": 1628565286303,
            "Status": 3,
            "RecordFiles": [
                {
                    "UserId": "alice",
                    "StreamId": "s1",
                    "FileId": f"{task_id}.mp4",
                    "FileUrl": f"https://bucket.example.com/{task_id}.mp4",
                    "OutputFileFormat": "mp4",
                    "FileSize": 1000,
                    "Duration": 60000,
                    "MediaTrackType": 3,
                    "BeginTimestamp": 1628565226303,
                    "Status": 3,
                }
            ],
        }
    )


@pytest.mark.parametrize("field", ["TaskidList", "TaskList"])
async def test_zego_describe_tasks_list_is_read_by_its_documented_name(
    httpserver: Any, zego_conn: str, field: str
) -> None:
    data = {**TASKID_LIST}
    data[field] = data.pop("TaskidList")
    script = wire.serve(httpserver).on("DescribeTasks", wire.zego_ok(data))
    answers = iter([record_status("YRHu6-E4IyvEAAAD"), record_status("YRHu6uE4IyvEAAAC")])
    script.on("DescribeRecordStatus", lambda: next(answers))
    trigger = RecordingUploadedEventTrigger(cloud="zego", poll_interval=1, commit_delay=0)
    async with httpx.AsyncClient(timeout=10) as client:
        events = [event async for event in trigger.poll_once(client)]
    assert [e["task_id"] for e in events] == ["YRHu6-E4IyvEAAAD", "YRHu6uE4IyvEAAAC"]
    assert all(e["key"].startswith(f"zego/{ZEGO_APP_ID}/") and e["manifest"]["files"] for e in events)
    assert script.calls.count("DescribeRecordStatus") == 2


async def test_the_cursor_survives_task_ids_that_need_encoding(
    receiver: ThreadedServer, watched: CallbackStore
) -> None:
    """TRTC task ids are base64-like ('+', '/', '='): the cursor is sent percent-encoded, signed as
    sent, and pages one task at a time through ids sharing one instant."""
    from airflow_provider_rtc.callbacks.client import ReceiverTarget, afetch_changed_page

    odd = sorted(["a+b/c==", "a b&c=d", "zé?#", "a%2Bb"])
    bulk_uploaded(watched, [(task_id, 1_700_000_000.5) for task_id in odd])
    target = ReceiverTarget(url=receiver.url, key=TRTC_KEY)
    seen: list[str] = []
    since, after = 1_700_000_000.0, None
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(len(odd) + 1):
            page = await afetch_changed_page(
                target, "trtc", SDK_APP_ID, since, client=client, limit=1, after=after
            )
            assert after is None or page.keyset
            if not page.tasks:
                break
            seen.append(page.tasks[0]["task_id"])
            since, after = page.tasks[0]["changed_at"], page.tasks[0]["task_id"]
    assert seen == odd


def test_an_old_client_reading_without_the_cursor_gets_what_it_got(
    receiver: ThreadedServer, watched: CallbackStore
) -> None:
    """``since`` alone stays "changed strictly after since", first page only, no ``after`` echo."""
    from airflow_provider_rtc.callbacks.auth import sign_read

    bulk_uploaded(watched, [("t1", 100.0), ("t2", 200.0), ("t3", 200.0), ("t4", 300.0)])
    path = f"/trtc/{SDK_APP_ID}/tasks?since=200.0&limit=500"
    answer = httpx.get(receiver.url + path, headers=sign_read(TRTC_KEY, path), timeout=5).json()
    assert [t["task_id"] for t in answer["tasks"]] == ["t4"] and "after" not in answer
    path = f"/trtc/{SDK_APP_ID}/tasks?since=100.0&limit=2"
    answer = httpx.get(receiver.url + path, headers=sign_read(TRTC_KEY, path), timeout=5).json()
    assert [t["task_id"] for t in answer["tasks"]] == ["t2", "t3"]
    too_long = f"/trtc/{SDK_APP_ID}/tasks?since=0&after={'x' * 2000}"
    assert (
        httpx.get(receiver.url + too_long, headers=sign_read(TRTC_KEY, too_long), timeout=5).status_code
        == 400
    )
