"""The sensors against the sandbox emulating both clouds (no dag.test): real signing, real lifecycle
timings, TRTC callbacks delivered by the sandbox to the provider's receiver, storage playlists."""

from __future__ import annotations

import time
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowSensorTimeout, TaskDeferred
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook
from airflow_provider_rtc.sensors.trtc import TrtcRecordingUploadedSensor
from airflow_provider_rtc.sensors.zego import ZegoMixTaskEndedSensor, ZegoRecordingUploadedSensor
from airflow_provider_rtc.waits.outcome import RecordingUploadFailed

from .conftest import ReceiverServer, admin, fast_retry_extra, wired_sandbox_config


@pytest.fixture
def sandbox_config(receiver: ReceiverServer) -> dict[str, Any]:
    """The shared sandbox fixture's configuration here: callbacks to this test's receiver."""
    return wired_sandbox_config(
        receiver,
        random_seed=3,
        upload_delay=0.3,
        recording_exit_seconds=0.2,
        zego_record_init_seconds=0.05,
        zego_mix_auto_stop_seconds=0.4,
        callback_late_seconds=0.6,
    )


@pytest.fixture
def sandbox_conn_extra() -> dict[str, Any]:
    return fast_retry_extra()


def trtc_recording(server: SandboxServer, storage: str, fault: str | None = None) -> str:
    seeded = server.seed(
        {"trtc": {"rooms": 1, "users_per_room": 2, "recordings": 1, "recording_storage": storage}}
    )
    task_id = seeded["trtc"]["recordings"][0]["task_id"]
    if fault:
        admin(server, f"/recordings/trtc/{task_id}", {"callback_fault": fault})
    return task_id


def trtc_sensor(task_id: str, **kw: Any) -> TrtcRecordingUploadedSensor:
    kw.setdefault("poke_interval", 0.05)
    kw.setdefault("timeout", 30)
    kw.setdefault("deferrable", False)
    kw.setdefault("vod_commit_grace", 0)  # VOD completes at the 312: the grace window is test_vod_grace's
    return TrtcRecordingUploadedSensor(task_id="wait_trtc", recording_task_id=task_id, **kw)


def test_trtc_vod_recording_is_done_after_311_and_312(sandbox: SandboxServer) -> None:
    task_id = trtc_recording(sandbox, "vod")
    TrtcHook().delete_cloud_recording(task_id)
    manifest = trtc_sensor(task_id).execute({})
    storage = sandbox.backend.trtc.storage(task_id)
    assert storage["upload"] == "done"
    assert manifest["storage"] == "vod" and manifest["status"] == "uploaded"
    assert [f["file_id"] for f in manifest["files"]] == [f["vod_file_id"] for f in storage["files"]]


def test_trtc_callbacks_that_never_come_time_out_naming_them(sandbox: SandboxServer) -> None:
    task_id = trtc_recording(sandbox, "vod", fault="never")
    TrtcHook().delete_cloud_recording(task_id)
    with pytest.raises(AirflowSensorTimeout, match="312 VOD_STOP"):
        trtc_sensor(task_id, timeout=1.5).execute({})


def test_trtc_failed_upload_fails_the_sensor(sandbox: SandboxServer) -> None:
    task_id = trtc_recording(sandbox, "cos", fault="failed")
    TrtcHook().delete_cloud_recording(task_id)
    with pytest.raises(RecordingUploadFailed, match="310 MP4_STOP Status 2"):
        trtc_sensor(task_id, storage="cos").execute({})


def test_trtc_lost_305_is_completed_from_the_storage_playlists(sandbox: SandboxServer) -> None:
    task_id = trtc_recording(sandbox, "cos", fault="never")
    template = f"{sandbox.url}/_sandbox/storage/trtc/{{task_id}}/{{file_name}}"
    task = trtc_sensor(task_id, storage="cos", file_url_template=template, check_playlists=True)
    assert task.probe.check({}).state == "waiting"  # recording: its index files are captured
    TrtcHook().delete_cloud_recording(task_id)
    manifest = task.execute({})
    assert manifest["files"] and all(f["name"].endswith(".m3u8") for f in manifest["files"])
    assert manifest["files"][0]["url"].startswith(f"{sandbox.url}/_sandbox/storage/trtc/{task_id}/")
    assert sandbox.backend.trtc.storage(task_id)["upload"] == "done"


async def test_trtc_deferrable_with_late_callbacks(sandbox: SandboxServer) -> None:
    task_id = trtc_recording(sandbox, "cos", fault="late")
    TrtcHook().delete_cloud_recording(task_id)
    task = trtc_sensor(task_id, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        task.execute({})
    started = time.monotonic()
    (event,) = [e async for e in deferred.value.trigger.run()]
    assert time.monotonic() - started > 0.3  # it really waited for the late 305
    manifest = task.execute_complete({}, event.payload)
    assert manifest["storage"] == "cos" and manifest["status"] == "uploaded"


def zego_recording(server: SandboxServer, **seed: Any) -> str:
    spec = {"rooms": 1, "users_per_room": 1, "streams_per_room": 1, "recordings": 1, **seed}
    return server.seed({"zego": spec})["zego"]["recordings"][0]["task_id"]


async def test_zego_recording_deferrable(sandbox: SandboxServer) -> None:
    task_id = zego_recording(sandbox)
    ZegoCloudRecordHook().stop_record(task_id)
    task = ZegoRecordingUploadedSensor(task_id="wait_zego", recording_task_id=task_id, poke_interval=0.05,
                                       timeout=10, deferrable=True)  # fmt: skip
    with pytest.raises(TaskDeferred) as deferred:
        task.execute({})
    (event,) = [e async for e in deferred.value.trigger.run()]
    manifest = task.execute_complete({}, event.payload)
    assert manifest["status"] == "uploaded" and manifest["files"][0]["size"] > 0


def test_zego_recording_started_long_ago_cannot_be_queried(sandbox: SandboxServer) -> None:
    task_id = zego_recording(sandbox, started_ago_seconds=3 * 86400 + 60)
    task = ZegoRecordingUploadedSensor(task_id="wait_zego", recording_task_id=task_id, deferrable=False)
    with pytest.raises(RecordingUploadFailed, match="more than 3 days ago"):
        task.execute({})


def test_zego_mix_sensor_waits_for_the_auto_stop(sandbox: SandboxServer) -> None:
    seeded = sandbox.seed({"zego": {"rooms": 1, "users_per_room": 1, "streams_per_room": 1, "mixes": 1}})
    stream = seeded["zego"]["streams"][0]
    mix = seeded["zego"]["mixes"][0]["task_id"]
    sensor = ZegoMixTaskEndedSensor(task_id="mix_gone", mix_task_id=mix, poke_interval=0.05, timeout=10,
                                    deferrable=False)  # fmt: skip
    assert sensor.probe.check({}).state == "waiting"
    backend = sandbox.backend.zego
    backend.delete_stream(sandbox.backend.config.zego_app.app_id, stream["room_id"], stream["user_id"],
                          stream["stream_id"], sandbox.backend.now())  # fmt: skip
    started = time.monotonic()
    assert sensor.execute({})["status"] == "gone"
    assert time.monotonic() - started > 0.2  # the mix outlived its inputs, as ZEGO's 90 s rule says
