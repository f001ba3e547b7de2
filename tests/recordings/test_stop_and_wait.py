"""Stop and wait in one task: DeleteCloudRecordingOperator and StopRecordOperator with
wait_for_upload=True (blocking and deferred), and unchanged behaviour without it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred

from airflow_provider_rtc.operators.trtc import DeleteCloudRecordingOperator
from airflow_provider_rtc.operators.zego import StopRecordOperator
from airflow_provider_rtc.triggers.trtc import TrtcRecordingUploadedTrigger
from airflow_provider_rtc.triggers.zego import ZegoRecordingUploadedTrigger
from airflow_provider_rtc.waits.outcome import RecordingUploadFailed, RecordingWaitTimeout
from tests.support.clock import ManualClock

from .conftest import (
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

TRTC_TASK = "trtc-task-1"
ZEGO_TASK = "X3CgNeE4I1qAAABN"
GONE = tc_error("FailedOperation.TaskNotExist")


def delete_op(**kw: Any) -> DeleteCloudRecordingOperator:
    kw.setdefault("deferrable", False)
    kw.setdefault("vod_commit_grace", 0)  # VOD completes at the 312: the grace window is test_vod_grace's
    return DeleteCloudRecordingOperator(task_id="stop_trtc", recording_task_id=TRTC_TASK, **kw)


def stop_op(**kw: Any) -> StopRecordOperator:
    kw.setdefault("deferrable", False)
    return StopRecordOperator(task_id="stop_zego", recording_task_id=ZEGO_TASK, **kw)


# -- TRTC ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("trtc_receiver_conn")
def test_delete_without_waiting_is_unchanged(script: Script) -> None:
    script.on("DeleteCloudRecording", tc_ok(TaskId=TRTC_TASK))
    result = delete_op().execute({})
    # the one result shape of every ender (cleanup/result.py), with the task id under its old key too
    assert {k: result[k] for k in ("cloud", "product", "action", "status", "request_id", "RequestId")} == {
        "cloud": "trtc",
        "product": "Tencent Cloud TRTC",
        "action": "DeleteCloudRecording",
        "status": "done",
        "request_id": "req-1",
        "RequestId": "req-1",
    }
    assert result["recording_task_id"] == TRTC_TASK
    assert script.calls == ["DeleteCloudRecording"]


@pytest.mark.usefixtures("trtc_receiver_conn")
def test_delete_then_wait_blocking_returns_the_manifest(script: Script, receiver: ReceiverServer) -> None:
    script.on("DeleteCloudRecording", tc_ok(TaskId=TRTC_TASK))
    script.on("DescribeCloudRecording", tc_ok(TaskId=TRTC_TASK, Status="Exited", StorageFileList=[]), GONE)
    post_trtc(receiver.url, trtc_event(TRTC_TASK, 312, {"Status": 0}))
    manifest = delete_op(wait_for_upload=True, poll_interval=0.02, wait_timeout=5).execute({})
    assert manifest["cloud"] == "trtc" and manifest["storage"] == "vod" and manifest["status"] == "empty"
    assert script.calls == ["DeleteCloudRecording", "DescribeCloudRecording", "DescribeCloudRecording"]


@pytest.mark.usefixtures("trtc_receiver_conn")
def test_already_gone_recording_is_still_waited_for(script: Script, receiver: ReceiverServer) -> None:
    script.on("DeleteCloudRecording", GONE)
    script.on("DescribeCloudRecording", GONE)
    post_trtc(receiver.url, trtc_event(TRTC_TASK, 305, {"Status": 0}))
    assert delete_op(wait_for_upload=True, poll_interval=0.02).execute({})["storage"] == "cos"


@pytest.mark.usefixtures("trtc_receiver_conn")
def test_blocking_wait_times_out_naming_the_missing_callback(script: Script) -> None:
    script.on("DeleteCloudRecording", tc_ok(TaskId=TRTC_TASK))
    script.on("DescribeCloudRecording", GONE)
    with pytest.raises(RecordingWaitTimeout, match="312 VOD_STOP"):
        delete_op(wait_for_upload=True, storage="vod", poll_interval=0.05, wait_timeout=0.2).execute({})


@pytest.mark.usefixtures("trtc_receiver_conn")
def test_delete_then_defer_to_the_trtc_trigger(script: Script, receiver: ReceiverServer) -> None:
    script.on("DeleteCloudRecording", tc_ok(TaskId=TRTC_TASK))
    script.on("DescribeCloudRecording", tc_ok(TaskId=TRTC_TASK, Status="Exited", StorageFileList=[]))
    op = delete_op(wait_for_upload=True, deferrable=True, poll_interval=3, wait_timeout=120, storage="cos")
    with pytest.raises(TaskDeferred) as deferred:
        op.execute({})
    assert deferred.value.timeout == timedelta(seconds=120)
    assert isinstance(deferred.value.trigger, TrtcRecordingUploadedTrigger)
    assert deferred.value.trigger.serialize()[1]["spec"]["storage"] == "cos"
    with pytest.raises(RecordingWaitTimeout, match="305"):
        op.execute_complete({}, {"status": "timeout", "message": "still waiting for: 305 UPLOAD_STOP"})
    with pytest.raises(RecordingUploadFailed):
        op.execute_complete({}, {"status": "failed", "message": "310 Status 2"})


def test_wait_options_are_checked_only_when_waiting() -> None:
    delete_op(poll_interval=0, callback_key="k", deferrable=True)  # not waiting: old behaviour
    with pytest.raises(ValueError, match="poll_interval"):
        delete_op(wait_for_upload=True, poll_interval=0)
    with pytest.raises(ValueError, match="callback_key"):
        delete_op(wait_for_upload=True, callback_key="k", deferrable=True)
    with pytest.raises(ValueError, match="invalid storage: must be one of"):
        delete_op(wait_for_upload=True, storage="s3")


# -- ZEGO ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("zego_conn")
def test_stop_record_without_waiting_is_unchanged(script: Script) -> None:
    script.on("StopRecord", zego_ok())
    result = stop_op().execute({})
    assert result["status"] == "done" and result["recording_task_id"] == ZEGO_TASK
    assert script.calls == ["StopRecord"]


@pytest.mark.usefixtures("zego_conn")
def test_stop_record_then_wait_for_late_uploads(script: Script) -> None:
    script.on("StopRecord", zego_error(300001001, "already ended"))
    script.on(
        "DescribeRecordStatus",
        zego_record(3, [zego_file("a.mp4", 2)]),
        zego_record(3, [zego_file("a.mp4", 3)]),
    )
    manifest = stop_op(wait_for_upload=True, poll_interval=0.02).execute({})
    assert manifest["status"] == "uploaded" and manifest["files"][0]["name"] == "a.mp4"
    assert script.calls == ["StopRecord", "DescribeRecordStatus", "DescribeRecordStatus"]


@pytest.mark.usefixtures("zego_conn")
def test_stop_record_then_defer(script: Script) -> None:
    script.on("StopRecord", zego_ok())
    script.on("DescribeRecordStatus", zego_record(3, [zego_file("a.mp4", 2)]))
    op = stop_op(wait_for_upload=True, deferrable=True, wait_timeout=60, on_backup_file="fail")
    with pytest.raises(TaskDeferred) as deferred:
        op.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, ZegoRecordingUploadedTrigger)
    assert trigger.serialize()[1]["spec"]["on_backup_file"] == "fail"
    assert deferred.value.timeout == timedelta(seconds=60)


@pytest.mark.usefixtures("zego_conn")
def test_stop_record_defers_to_a_deadline_on_the_installed_clock(
    script: Script, manual_clock: ManualClock
) -> None:
    """The trigger's ``end_time`` is read on the client's clock (it read ``time.time()``)."""
    script.on("StopRecord", zego_ok())
    script.on("DescribeRecordStatus", zego_record(3, [zego_file("a.mp4", 2)]))
    with pytest.raises(TaskDeferred) as deferred:
        stop_op(wait_for_upload=True, deferrable=True, wait_timeout=60).execute({})
    assert deferred.value.trigger.serialize()[1]["end_time"] == manual_clock.time() + 60 == 1_060


@pytest.mark.usefixtures("zego_conn")
def test_stop_record_failed_file_fails(script: Script) -> None:
    script.on("StopRecord", zego_ok())
    script.on("DescribeRecordStatus", zego_record(3, [zego_file("a.mp4", 5)]))
    with pytest.raises(RecordingUploadFailed, match="Status 5"):
        stop_op(wait_for_upload=True, poll_interval=0.02).execute({})
