"""The triggers: exact serialize() round trip through Airflow's serde (JSON primitives, no secret),
exactly one event per run, transient errors polled through, a bounded error budget, timeouts."""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from typing import Any

import pytest
from airflow.sdk.serde import deserialize, serialize

from airflow_provider_rtc.triggers.base import PollingTrigger
from airflow_provider_rtc.triggers.trtc import TrtcRecordingUploadedTrigger
from airflow_provider_rtc.triggers.zego import ZegoMixTaskEndedTrigger, ZegoRecordingUploadedTrigger
from airflow_provider_rtc.waits.spec import TrtcWaitSpec
from tests.support.credentials import ZEGO_SECRET
from tests.support.wire import tencent_conn_json

from .conftest import (
    TRTC_KEY,
    ReceiverServer,
    Script,
    post_trtc,
    tc_error,
    tc_ok,
    trtc_event,
    zego_error,
    zego_file,
    zego_ok,
    zego_record,
)

TASK = "X3CgNeE4I1qAAABN"
TRTC_TASK = "trtc-task-1"
HLS = "1400000001_1001.m3u8"


def rebuild(trigger: PollingTrigger) -> PollingTrigger:
    classpath, kwargs = trigger.serialize()
    module, name = classpath.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    return cls(**deserialize(serialize(kwargs)))


async def run_all(trigger: PollingTrigger) -> list[Any]:
    return [event async for event in trigger.run()]


def zego_trigger(**kw: Any) -> ZegoRecordingUploadedTrigger:
    kw.setdefault("end_time", time.time() + 10)
    kw.setdefault("poll_interval", 0.01)
    return ZegoRecordingUploadedTrigger(recording_task_id=TASK, **kw)


def trtc_trigger(**kw: Any) -> TrtcRecordingUploadedTrigger:
    kw.setdefault("end_time", time.time() + 10)
    kw.setdefault("poll_interval", 0.01)
    return TrtcRecordingUploadedTrigger(recording_task_id=TRTC_TASK, **kw)


# -- serialize ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "trigger",
    [
        ZegoRecordingUploadedTrigger(
            recording_task_id=TASK,
            end_time=1_800_000_000.5,
            poll_interval=15,
            zegocloud_conn_id="zego_prod",
            on_failed_file="warn",
            on_backup_file="fail",
            last_seen={"status": 3, "begin_ms": 1, "room_id": "r"},
            max_consecutive_errors=7,
            hook_params={"retry_limit": 3, "qps": {"DescribeRecordStatus": 5}, "bad": object()},
        ),
        ZegoMixTaskEndedTrigger(mix_task_id="mix_1", end_time=1_800_000_000.0, poll_interval=5),
        TrtcRecordingUploadedTrigger(
            recording_task_id=TRTC_TASK,
            end_time=1_800_000_000.0,
            poll_interval=20,
            tencentcloud_conn_id="tc",
            region="ap-beijing",
            sdk_app_id=1400000002,
            storage="cos",
            wait_for_mp4=True,
            on_failed_file="warn",
            on_backup_file="wait",
            callback_receiver_url="https://airflow.example.com/rtc-callbacks",
            file_url_template="https://b.example.com/{task_id}/{file_name}",
            check_playlists=True,
            storage_files=[{"FileName": HLS, "UserId": "", "TrackType": "audio_video", "BeginTimeStamp": 1}],
            task_gone=True,
            vod_commit_grace=12.5,
            vod_stop_seen_at=1_799_999_990.25,  # mid-window: a restored trigger resumes it
            hook_params={"timeout": (2, 5)},
        ),
    ],
    ids=["zego-recording", "zego-mix", "trtc-recording"],
)
def test_serialize_round_trips_exactly_with_json_primitives_only(trigger: PollingTrigger) -> None:
    classpath, kwargs = trigger.serialize()
    assert classpath == f"{type(trigger).__module__}.{type(trigger).__name__}"
    assert json.loads(json.dumps(kwargs)) == kwargs  # JSON primitives only
    assert rebuild(trigger).serialize() == (classpath, kwargs)
    assert "bad" not in kwargs["hook_params"]
    assert "key" not in {k.lower() for k in kwargs}  # no secret-bearing argument exists at all


def test_trtc_trigger_kwargs_name_every_setting() -> None:
    _, kwargs = trtc_trigger(end_time=5.0, poll_interval=1).serialize()
    assert set(kwargs) == {
        "recording_task_id", "tencentcloud_conn_id", "region", "sdk_app_id", "spec",
        "storage_files", "task_gone", "end_time", "poll_interval", "max_consecutive_errors", "hook_params",
    }  # fmt: skip
    assert set(kwargs["spec"]) == set(TrtcWaitSpec.names()) == {
        "storage", "wait_for_mp4", "on_failed_file", "on_backup_file", "callback_receiver_url",
        "file_url_template", "check_playlists", "vod_commit_grace",
    }  # fmt: skip
    _, mid_window = trtc_trigger(end_time=5.0, poll_interval=1, vod_stop_seen_at=3.0).serialize()
    assert mid_window["vod_stop_seen_at"] == 3.0


# -- ZEGO runs ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("zego_conn")
async def test_zego_trigger_yields_one_done_event_after_late_uploads(script: Script) -> None:
    script.on(
        "DescribeRecordStatus",
        zego_record(3, [zego_file("a.mp4", 2)]),
        zego_record(3, [zego_file("a.mp4", 2)]),
        zego_record(3, [zego_file("a.mp4", 3)]),
    )
    events = await run_all(zego_trigger())
    assert len(events) == 1
    payload = events[0].payload
    assert payload["status"] == "done" and payload["manifest"]["files"][0]["status"] == "uploaded"
    assert script.calls.count("DescribeRecordStatus") == 3


@pytest.mark.usefixtures("zego_conn")
async def test_zego_trigger_keeps_running_while_uploading(script: Script) -> None:
    script.on("DescribeRecordStatus", zego_record(3, [zego_file("a.mp4", 2)]))
    task = asyncio.create_task(anext(zego_trigger(poll_interval=0.01).run()))

    async def three_checks() -> None:  # waits on the checks, not on a fixed 0.5 s a loaded machine stretches
        while script.calls.count("DescribeRecordStatus") < 3:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(three_checks(), timeout=30)
    assert not task.done()  # three "uploading" answers and still waiting: no event yet
    task.cancel()
    assert script.calls.count("DescribeRecordStatus") >= 3


@pytest.mark.usefixtures("zego_conn")
async def test_transient_errors_are_retried_by_the_hook_inside_the_trigger(script: Script) -> None:
    script.on("DescribeRecordStatus", (503, {}), (502, {}), zego_record(3, [zego_file("a.mp4", 3)]))
    (event,) = await run_all(zego_trigger())
    assert event.payload["status"] == "done"


@pytest.mark.usefixtures("zego_conn")
async def test_exhausted_retries_keep_polling_within_the_error_budget(script: Script) -> None:
    busy = zego_error(300000003, "too many requests")  # throttled, exhausted with retry_limit=1
    script.on("DescribeRecordStatus", busy, busy, zego_record(3, [zego_file("a.mp4", 3)]))
    trigger = zego_trigger(max_consecutive_errors=3, hook_params={"retry_limit": 1})
    (event,) = await run_all(trigger)
    assert event.payload["status"] == "done"


@pytest.mark.usefixtures("zego_conn")
async def test_error_budget_exhausted_yields_an_error_event(script: Script) -> None:
    script.on("DescribeRecordStatus", (500, {}))
    (event,) = await run_all(zego_trigger(max_consecutive_errors=2, hook_params={"retry_limit": 1}))
    assert event.payload["status"] == "error" and "2 consecutive errors" in event.payload["message"]


@pytest.mark.usefixtures("zego_conn")
async def test_non_retryable_error_yields_an_error_event_without_secrets(script: Script) -> None:
    script.on("DescribeRecordStatus", zego_error(100000005, "signature wrong"))
    (event,) = await run_all(zego_trigger())
    assert event.payload["status"] == "error" and "100000005" in event.payload["message"]
    assert ZEGO_SECRET not in json.dumps(event.payload)


@pytest.mark.usefixtures("zego_conn")
async def test_timeout_yields_a_timeout_event_naming_what_is_missing(script: Script) -> None:
    """The deadline has already passed: one check, then the timeout naming what it waited for, with
    no second call. (A deadline 0.3 s ahead and a '< 3 s' wall-clock bound raced the checks on a
    loaded machine; the loop's deadline arithmetic is checked on a moved clock in test_waits.py.)"""
    script.on("DescribeRecordStatus", zego_record(3, [zego_file("a.mp4", 3), zego_file("b.mp4", 2)]))
    (event,) = await run_all(zego_trigger(end_time=time.time() - 1, poll_interval=0.05))
    assert script.calls.count("DescribeRecordStatus") == 1  # stopped at the deadline, not polling on
    assert event.payload["status"] == "timeout"
    assert "b.mp4 (uploading)" in event.payload["waiting_for"][0]
    assert "b.mp4" in event.payload["message"]


@pytest.mark.usefixtures("zego_conn")
async def test_expired_task_event_explains_the_query_window(script: Script) -> None:
    script.on("DescribeRecordStatus", zego_error(300001000))
    (event,) = await run_all(zego_trigger(last_seen={"status": 2, "begin_ms": 1_601_221_452_099}))
    assert event.payload["status"] == "failed" and "answered earlier" in event.payload["message"]


async def test_missing_connection_is_an_error_event(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_NOPE", raising=False)
    (event,) = await run_all(zego_trigger(zegocloud_conn_id="nope"))
    assert event.payload["status"] == "error" and "cannot start polling" in event.payload["message"]


@pytest.mark.usefixtures("zego_conn")
async def test_mix_trigger_done_when_gone(script: Script) -> None:
    running = zego_ok({"TaskInfo": {"TaskId": "mix_1", "MixDuration": 3}})
    script.on("GetMixTaskInfo", running, zego_error(110209001))
    (event,) = await run_all(
        ZegoMixTaskEndedTrigger(mix_task_id="mix_1", end_time=time.time() + 5, poll_interval=0.01)
    )
    assert event.payload["status"] == "done" and event.payload["manifest"]["status"] == "gone"


# -- TRTC runs ---------------------------------------------------------------------------------------


def describe(status: str) -> dict[str, Any]:
    files = [{"UserId": "", "FileName": HLS, "TrackType": "audio_video", "BeginTimeStamp": 1}]
    return tc_ok(TaskId=TRTC_TASK, Status=status, StorageFileList=files)


@pytest.mark.usefixtures("trtc_receiver_conn")
async def test_trtc_trigger_waits_for_the_task_then_for_the_callbacks(
    script: Script, receiver: ReceiverServer
) -> None:
    script.on(
        "DescribeCloudRecording",
        describe("InProgress"),
        describe("Exited"),
        tc_error("FailedOperation.TaskNotExist"),
    )

    async def deliver_late() -> None:
        await asyncio.sleep(0.3)
        await asyncio.to_thread(post_trtc, receiver.url, trtc_event(TRTC_TASK, 305, {"Status": 0}))

    delivery = asyncio.create_task(deliver_late())
    (event,) = await run_all(trtc_trigger(poll_interval=0.05))
    await delivery
    payload = event.payload
    assert payload["status"] == "done"
    assert payload["manifest"]["files"][0]["name"] == HLS  # StorageFileList captured while alive
    assert script.calls.count("DescribeCloudRecording") == 3  # not asked again once gone
    assert TRTC_KEY not in json.dumps(payload)


@pytest.mark.usefixtures("trtc_receiver_conn")
async def test_trtc_trigger_gone_task_goes_straight_to_the_callbacks(
    script: Script, receiver: ReceiverServer
) -> None:
    post_trtc(receiver.url, trtc_event(TRTC_TASK, 312, {"Status": 0}))
    (event,) = await run_all(trtc_trigger(task_gone=True, vod_commit_grace=0))  # grace: test_vod_grace
    assert event.payload["status"] == "done" and event.payload["manifest"]["storage"] == "vod"
    assert script.calls == []


@pytest.mark.usefixtures("trtc_receiver_conn")
async def test_trtc_trigger_timeout_names_the_missing_callback(
    script: Script, receiver: ReceiverServer
) -> None:
    """The deadline has already passed when the trigger starts: the loop still checks once, then
    times out naming what that check was waiting for. (A deadline 0.2 s ahead raced the first check
    on a loaded machine; a past one leaves no window to race.)"""
    post_trtc(receiver.url, trtc_event(TRTC_TASK, 303, {"Status": 0}))
    (event,) = await run_all(trtc_trigger(task_gone=True, end_time=time.time() - 1, poll_interval=0.05))
    assert event.payload["status"] == "timeout", event.payload
    assert "305 UPLOAD_STOP" in event.payload["message"]  # the 303 says COS storage: its completion
    assert event.payload["waiting_for"] and "the first successful check" not in event.payload["message"]


async def test_trtc_trigger_reads_the_key_from_the_connection_only(
    script: Script, receiver: ReceiverServer, set_connection: Any, httpserver: Any
) -> None:
    conn = tencent_conn_json(httpserver.url_for("").rstrip("/"))
    set_connection("tencentcloud_default", conn)
    (event,) = await run_all(trtc_trigger(task_gone=True, callback_receiver_url=receiver.url))
    assert event.payload["status"] == "error" and "callback_secret" in event.payload["message"]
    conn["extra"]["callback_secret"] = "not-the-receivers-key"
    set_connection("tencentcloud_default", conn)
    (event,) = await run_all(trtc_trigger(task_gone=True, callback_receiver_url=receiver.url))
    assert event.payload["status"] == "error" and "rejected the signed read" in event.payload["message"]
    assert "not-the-receivers-key" not in event.payload["message"]


@pytest.mark.usefixtures("trtc_receiver_conn")
async def test_trtc_trigger_polls_through_a_receiver_outage(script: Script, receiver: ReceiverServer) -> None:
    post_trtc(receiver.url, trtc_event(TRTC_TASK, 305, {"Status": 0}))
    trigger = trtc_trigger(
        task_gone=True, callback_receiver_url="http://127.0.0.1:9", max_consecutive_errors=3
    )
    (event,) = await run_all(trigger)
    assert event.payload["status"] == "error" and "3 consecutive errors" in event.payload["message"]
    (event,) = await run_all(trtc_trigger(task_gone=True))
    assert event.payload["status"] == "done"
