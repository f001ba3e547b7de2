"""The provider and the sandbox agree on the corrected vendor facts, through the real hooks and
operators (vendor-review.md): ZEGO CloseRoom 5018, TRTC ended tasks, ResourceExpiredHour, the relay
and ingest stops, and per-region TRTC limits."""

from __future__ import annotations

import time

import pytest

from airflow_provider_rtc.exceptions import RtcInvalidInputError, RtcNotFoundError, RtcValidationError
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.hooks.zego import ZegoRtcHook
from airflow_provider_rtc.operators.trtc import (
    DeleteCloudRecordingOperator,
    StopPublishCdnStreamOperator,
    StopStreamIngestOperator,
)
from airflow_provider_rtc.operators.zego import CloseRoomOperator

FAST = {"retry_delay": 0.01, "retry_max_delay": 0.05, "retry_total_timeout": 5, "timeout": [2, 2]}


@pytest.fixture
def conns(sb, set_connection):
    for conn_id, conn in sb.connections.items():
        set_connection(conn_id, {**conn, "extra": {**conn["extra"], **FAST, "pacing": False}})
    return sb


def test_close_room_twice_is_already_gone_with_5018(conns):
    room = conns.seed({"zego": {"rooms": 1, "users_per_room": 2}})["zego"]["rooms"][0]
    first = CloseRoomOperator(task_id="close", room_id=room).execute({})
    assert first["status"] == "done"
    again = CloseRoomOperator(task_id="close", room_id=room).execute({})
    assert again["status"] == "already_gone" and again["code"] == 5018
    with pytest.raises(RtcNotFoundError) as gone:
        ZegoRtcHook().close_room("never-existed")
    assert gone.value.code == 5024


def _gone(task_id: str) -> str | None:
    try:
        TrtcHook().describe_cloud_recording(task_id)
    except RtcNotFoundError as err:
        return str(err.code)
    return None


def test_ended_recording_answers_resource_not_found_and_counts_as_gone(conns, wait):
    task = conns.seed({"trtc": {"rooms": 1, "users_per_room": 1, "recordings": 1}})["trtc"]["recordings"][0]
    done = DeleteCloudRecordingOperator(task_id="stop", recording_task_id=task["task_id"]).execute({})
    assert done["status"] == "done"
    assert wait(lambda: _gone(task["task_id"])) == "ResourceNotFound"  # Exited, then gone
    again = DeleteCloudRecordingOperator(task_id="stop", recording_task_id=task["task_id"]).execute({})
    assert again["status"] == "already_gone" and again["code"] == "ResourceNotFound"
    assert "expired_task" not in again


def test_not_found_after_resource_expired_hour_is_reported_as_expired(conns, capsys):
    sb = conns.backend
    app = sb.config.sdk_app_id
    sb.trtc.add_users(app, 4242, ["anchor"], sb.now())
    created = sb.now() - 73 * 3600
    task_id = sb.trtc.create_recording(app, "4242", 1, "recorder_4242", created, record_mode=2, storage="cos")
    op = DeleteCloudRecordingOperator(
        task_id="stop", recording_task_id=task_id, recording_started_at=time.time() - 73 * 3600
    )
    result = op.execute({})
    assert result["status"] == "already_gone" and result["code"] == "ResourceNotFound"
    assert result["expired_task"] is True
    warning = [line for line in capsys.readouterr().out.splitlines() if "ResourceExpiredHour" in line]
    assert warning and "warning" in warning[0] and "may NOT be stopped" in warning[0]
    # the sandbox, like TRTC, keeps recording: the stop did not reach it
    running = [r for r in conns.state()["trtc"]["recordings"] if r["task_id"] == task_id]
    assert running and running[0]["status"] == "InProgress"
    # a younger task's not-found stays a plain "already gone"; ISO times are accepted too
    young = DeleteCloudRecordingOperator(
        task_id="stop", recording_task_id="nope", recording_started_at="2999-01-01T00:00:00+00:00"
    ).execute({})
    assert young["status"] == "already_gone" and "expired_task" not in young


def test_relay_and_ingest_stops(conns, set_connection):
    ids = conns.seed({"trtc": {"rooms": 1, "cdn_tasks": 1, "ingest_tasks": 1}})["trtc"]
    (cdn,), (ingest,) = ids["cdn_tasks"], ids["ingest_tasks"]
    assert StopPublishCdnStreamOperator(task_id="relay", task_id_to_stop=cdn).execute({})["status"] == "done"
    again = StopPublishCdnStreamOperator(task_id="relay", task_id_to_stop=cdn).execute({})
    assert again["status"] == "already_gone" and again["code"] == "ResourceNotFound"
    # StopStreamIngest exists in six regions only (StartStreamIngest's page); ap-beijing is not one
    with pytest.raises(RtcInvalidInputError) as unsupported:
        StopStreamIngestOperator(task_id="ingest", task_id_to_stop=ingest, region="ap-beijing").execute({})
    assert unsupported.value.code == "UnsupportedRegion"
    op = StopStreamIngestOperator(task_id="ingest", task_id_to_stop=ingest, region="ap-singapore")
    assert op.execute({})["status"] == "done"
    again = StopStreamIngestOperator(task_id="ingest", task_id_to_stop=ingest, region="ap-jakarta").execute(
        {}
    )
    assert again["status"] == "already_gone" and again["code"] == "FailedOperation.TaskFinished"


def test_a_bad_start_time_is_refused_before_any_call(conns):
    for bad, param in (("last tuesday", "recording_started_at"), (0, "resource_expired_hour")):
        kw = (
            {"recording_started_at": bad}
            if param == "recording_started_at"
            else {"resource_expired_hour": bad}
        )
        op = DeleteCloudRecordingOperator(task_id="stop", recording_task_id="t", **kw)
        with pytest.raises(RtcValidationError) as err:
            op.execute({})
        assert err.value.param == param
    assert "DeleteCloudRecording" not in conns.backend.stats.snapshot()["actions"]
