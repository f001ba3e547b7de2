"""The TRTC sensor against a scripted DescribeCloudRecording and the real callback receiver, in poke,
reschedule and deferrable mode: never done while the task lives or before the completion callback,
late callbacks waited for, missing ones named at the timeout, failures per policy, the key kept secret."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from airflow.providers.common.compat.sdk import AirflowSensorTimeout, TaskDeferred
from airflow.sdk.exceptions import AirflowRescheduleException

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.sensors.trtc import TrtcRecordingUploadedSensor
from airflow_provider_rtc.triggers.trtc import TrtcRecordingUploadedTrigger
from airflow_provider_rtc.waits.outcome import RecordingUploadFailed
from tests.support.wire import tencent_conn_json

from .conftest import (
    TRTC_KEY,
    ReceiverServer,
    Script,
    mp4_310,
    post_trtc,
    tc_error,
    tc_ok,
    trtc_event,
    vod_311,
)

TASK = "trtc-task-1"
HLS = "1400000001_1001.m3u8"
GONE = tc_error("FailedOperation.TaskNotExist", "The task does not exist or has ended.")

pytestmark = pytest.mark.usefixtures("trtc_receiver_conn")


def alive(status: str = "InProgress") -> dict[str, Any]:
    files = [{"UserId": "", "FileName": HLS, "TrackType": "audio_video", "BeginTimeStamp": 1_700_000_000_000}]
    return tc_ok(TaskId=TASK, Status=status, StorageFileList=files)


def sensor(**kw: Any) -> TrtcRecordingUploadedSensor:
    kw.setdefault("poke_interval", 0.02)
    kw.setdefault("timeout", 5)
    kw.setdefault("deferrable", False)
    kw.setdefault("vod_commit_grace", 0)  # VOD completes at the 312: the grace window is test_vod_grace's
    return TrtcRecordingUploadedSensor(task_id="wait_trtc", recording_task_id=TASK, **kw)


def later(seconds: float, receiver: ReceiverServer, *bodies: dict[str, Any]) -> threading.Timer:
    def deliver() -> None:
        for body in bodies:
            post_trtc(receiver.url, body)

    timer = threading.Timer(seconds, deliver)
    timer.start()
    return timer


def test_poke_mode_waits_for_the_task_to_end_and_for_a_late_305(
    script: Script, receiver: ReceiverServer, capsys: Any
) -> None:
    script.on("DescribeCloudRecording", alive("InProgress"), alive("Exited"), GONE)
    timer = later(
        0.4, receiver, trtc_event(TASK, 302, {"LeaveCode": 0}), trtc_event(TASK, 305, {"Status": 0})
    )
    manifest = sensor(storage="cos").execute({})
    timer.join()
    assert manifest["status"] == "uploaded" and manifest["storage"] == "cos"
    assert [f["name"] for f in manifest["files"]] == [HLS]
    assert script.calls.count("DescribeCloudRecording") == 3
    assert TRTC_KEY not in capsys.readouterr().out  # the key is never logged


def test_not_done_before_the_last_mp4_callback(script: Script, receiver: ReceiverServer) -> None:
    script.on("DescribeCloudRecording", alive("Exited"), GONE)
    stem = HLS[: -len(".m3u8")]
    post_trtc(receiver.url, trtc_event(TASK, 305, {"Status": 0}))
    timer = later(0.4, receiver, mp4_310(TASK, f"{stem}_1.mp4"))
    manifest = sensor(storage="cos", wait_for_mp4=True).execute({})
    timer.join()
    assert [f["name"] for f in manifest["files"]] == [HLS, f"{stem}_1.mp4"]


def test_callback_that_never_arrives_times_out_naming_it(script: Script, receiver: ReceiverServer) -> None:
    script.on("DescribeCloudRecording", GONE)
    post_trtc(receiver.url, trtc_event(TASK, 302, {"LeaveCode": 0}))
    post_trtc(receiver.url, vod_311(TASK, "528589078"))
    with pytest.raises(AirflowSensorTimeout, match=r"Still waiting for: 312 VOD_STOP"):
        sensor(timeout=0.3).execute({})


def test_failed_vod_file_fails_by_default_and_warns_on_request(
    script: Script, receiver: ReceiverServer
) -> None:
    script.on("DescribeCloudRecording", GONE)
    for body in (
        vod_311(TASK, "1", status=2, user="bob"),
        vod_311(TASK, "2"),
        trtc_event(TASK, 312, {"Status": 0}),
    ):
        post_trtc(receiver.url, body)
    with pytest.raises(RecordingUploadFailed, match="311 VOD_COMMIT Status 2"):
        sensor().execute({})
    manifest = sensor(on_failed_file="warn").execute({})
    assert manifest["status"] == "partial"
    assert sorted(f["status"] for f in manifest["files"]) == ["failed", "uploaded"]


def test_stuck_files_wait_for_the_recovery_callback(script: Script, receiver: ReceiverServer) -> None:
    script.on("DescribeCloudRecording", GONE)
    post_trtc(receiver.url, trtc_event(TASK, 305, {"Status": 1}, at_ms=1_000))
    timer = later(0.3, receiver, trtc_event(TASK, 305, {"Status": 2}, at_ms=2_000))
    manifest = sensor().execute({})
    timer.join()
    assert manifest["status"] == "uploaded"


def test_missing_receiver_settings_fail_at_the_first_check(
    script: Script, set_connection: Any, httpserver: Any
) -> None:
    set_connection(
        "tencentcloud_default", tencent_conn_json(httpserver.url_for("").rstrip("/"), sdk_app_id=1)
    )
    script.on("DescribeCloudRecording", alive())
    with pytest.raises(RtcValidationError, match="callback_receiver_url"):
        sensor().execute({})
    assert script.calls == []  # before any cloud call


def test_callback_key_argument_works_in_poke_mode_and_is_refused_with_deferrable(
    script: Script, receiver: ReceiverServer
) -> None:
    script.on("DescribeCloudRecording", GONE)
    post_trtc(receiver.url, trtc_event(TASK, 312, {"Status": 0}))
    assert sensor(callback_key=TRTC_KEY, callback_receiver_url=receiver.url).execute({})["storage"] == "vod"
    with pytest.raises(ValueError, match="connection extra 'callback_secret'"):
        sensor(callback_key=TRTC_KEY, deferrable=True)


def test_invalid_storage_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid storage: must be one of"):
        sensor(storage="s3")


def test_file_url_template_typo_is_refused_when_the_task_is_built() -> None:
    with pytest.raises(RtcValidationError, match="file_url_template"):
        sensor(file_url_template="https://b/{taskid}/{file_name}")
    with pytest.raises(RtcValidationError, match="file_url_template"):
        sensor(file_url_template="https://b/{0}")
    assert sensor(file_url_template="https://{{ params.bucket }}/{task_id}/{file_name}")  # Jinja is fine


class FakeStateStore(dict):
    def set(self, key: str, value: Any, **kw: Any) -> None:
        self[key] = value


def test_reschedule_mode_keeps_the_index_files_across_processes(
    script: Script, receiver: ReceiverServer
) -> None:
    script.on("DescribeCloudRecording", alive("InProgress"), GONE)
    store = FakeStateStore()
    ti = mock.Mock()
    ti.get_first_reschedule_date.return_value = None
    with pytest.raises(AirflowRescheduleException):
        sensor(mode="reschedule").execute({"ti": ti, "task_state_store": store})
    assert store["rtc_trtc_recording_probe"]["storage_files"][0]["FileName"] == HLS
    post_trtc(receiver.url, trtc_event(TASK, 305, {"Status": 0}))
    manifest = sensor(mode="reschedule").execute({"ti": ti, "task_state_store": store})
    assert [f["name"] for f in manifest["files"]] == [HLS]  # known only from the first process


def test_deferrable_hands_the_captured_state_to_the_trigger_without_the_key(
    script: Script, receiver: ReceiverServer
) -> None:
    script.on("DescribeCloudRecording", alive("Exited"))
    task = sensor(
        deferrable=True, timeout=900, poke_interval=10, storage="cos", callback_receiver_url=receiver.url
    )
    with pytest.raises(TaskDeferred) as deferred:
        task.execute({})
    assert deferred.value.timeout == timedelta(seconds=900)
    trigger = deferred.value.trigger
    assert isinstance(trigger, TrtcRecordingUploadedTrigger)
    _, kwargs = trigger.serialize()
    assert kwargs["storage_files"][0]["FileName"] == HLS and kwargs["task_gone"] is False
    assert kwargs["spec"]["callback_receiver_url"] == receiver.url and kwargs["spec"]["storage"] == "cos"
    assert TRTC_KEY not in repr(kwargs)


async def test_deferrable_end_to_end_through_the_trigger(script: Script, receiver: ReceiverServer) -> None:
    script.on("DescribeCloudRecording", alive("Exited"), GONE)
    task = sensor(deferrable=True, poke_interval=0.02)
    with pytest.raises(TaskDeferred) as deferred:
        task.execute({})
    post_trtc(receiver.url, trtc_event(TASK, 305, {"Status": 0}))
    events = [e async for e in deferred.value.trigger.run()]
    assert len(events) == 1
    manifest = task.execute_complete({}, events[0].payload)
    assert manifest["status"] == "uploaded" and manifest["files"][0]["name"] == HLS


def test_playlists_in_storage_complete_hls_when_the_305_is_lost(
    script: Script, receiver: ReceiverServer, httpserver: Any
) -> None:
    script.on("DescribeCloudRecording", alive("Exited"), GONE)
    ended = "#EXTM3U\n#EXTINF:10.000,\nseg_1.ts\n#EXT-X-ENDLIST\n"
    httpserver.expect_request(f"/cos/{TASK}/{HLS}").respond_with_data(
        ended, content_type="application/vnd.apple.mpegurl"
    )
    template = httpserver.url_for("/cos/{task_id}/{file_name}")
    manifest = sensor(file_url_template=template, check_playlists=True).execute({})
    assert manifest["files"][0]["url"] == httpserver.url_for(f"/cos/{TASK}/{HLS}")
    assert "EXT-X-ENDLIST" in manifest["warnings"][0]


def test_playlist_still_growing_is_not_complete(
    script: Script, receiver: ReceiverServer, httpserver: Any
) -> None:
    script.on("DescribeCloudRecording", GONE)
    growing = "#EXTM3U\n#EXTINF:10.000,\nseg_1.ts\n"
    httpserver.expect_request(f"/cos/{TASK}/{HLS}").respond_with_data(growing)
    task = sensor(
        file_url_template=httpserver.url_for("/cos/{task_id}/{file_name}"), check_playlists=True, timeout=0.2
    )
    task.probe.memory.state = {
        "storage_files": [{"FileName": HLS, "UserId": "", "TrackType": "audio_video", "BeginTimeStamp": 1}]
    }
    with pytest.raises(AirflowSensorTimeout, match="305 UPLOAD_STOP"):
        task.execute({})


def test_the_key_never_reaches_any_log_even_at_debug(
    script: Script, receiver: ReceiverServer, capsys: Any, caplog: Any
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    script.on("DescribeCloudRecording", alive("Exited"), GONE)
    post_trtc(receiver.url, trtc_event(TASK, 301, {"Status": 0}))
    timer = later(0.2, receiver, trtc_event(TASK, 305, {"Status": 0}))
    sensor().execute({})
    timer.join()
    with pytest.raises(AirflowSensorTimeout) as err:
        TrtcRecordingUploadedSensor(
            task_id="t", recording_task_id="other-task", poke_interval=0.02, timeout=0.1, deferrable=False
        ).execute({})
    out = capsys.readouterr()
    for text in (out.out, out.err, caplog.text, str(err.value)):
        assert TRTC_KEY not in text
