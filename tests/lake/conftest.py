"""The lake tests' real parts: the sandbox (serving recording bytes and the VOD API) and moto in
server mode (an S3-compatible endpoint on loopback, started and stopped here), both reached
through Airflow connections given as AIRFLOW_CONN_* variables."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.recordings.manifest import build_manifest, file_entry
from tests.support.credentials import TRTC_KEY
from tests.support.services import clear_s3fs_cache, moto_s3_connection

S3_CONN = "lake_s3"
SANDBOX_CONFIG: dict[str, Any] = {
    "random_seed": 5,
    "timing": {
        "upload_delay": 0.2,
        "recording_exit_seconds": 0.1,
        "zego_record_init_seconds": 0.05,
        "tick_seconds": 0.02,
    },
    "limits": {"enabled": False},
}


@pytest.fixture
def sandbox_config() -> dict[str, Any]:
    return SANDBOX_CONFIG


@pytest.fixture
def sandbox_conn_extra() -> dict[str, Any]:
    """Fast retries, no pacing (the sandbox's limits are off)."""
    return {"retry_delay": 0.02, "retry_max_delay": 0.1, "pacing": False}


@pytest.fixture
def s3(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A boto3 S3 client on moto (empty, fresh buckets per test) and the ``lake_s3`` connection."""
    yield moto_s3_connection(moto_server, monkeypatch, S3_CONN, ("rec-source", "lake"))
    clear_s3fs_cache()


def vod_media(
    sandbox: SandboxServer,
    name: str,
    size: int,
    *,
    created_at: float | None = None,
    source_type: str = "Upload",
    trtc_app: int | None = None,
    sub_app_id: int | None = None,
) -> dict[str, Any]:
    """A VOD media through the admin API; ``trtc_app`` makes it a TRTC recording of that app
    (``TrtcRecord`` with ``TrtcRecordInfo``, as VOD labels them)."""
    body: dict[str, Any] = {"name": name, "size": size, "source_context": "sandbox-test"}
    if created_at is not None:
        body["created_at"] = created_at
    if trtc_app is not None:
        source_type = "TrtcRecord"
        body["trtc_record_info"] = {"SdkAppId": trtc_app, "RoomId": "r1", "TaskId": "t1", "UserIds": []}
    body["source_type"] = source_type
    if sub_app_id is not None:
        body["sub_app_id"] = sub_app_id
    resp = httpx.post(f"{sandbox.url}/_sandbox/vod/media", json=body, timeout=5)
    assert resp.status_code == 200, resp.text
    return resp.json()


def set_faults(sandbox: SandboxServer, rules: list[dict[str, Any]]) -> None:
    resp = httpx.put(f"{sandbox.url}/_sandbox/faults", json={"rules": rules}, timeout=5)
    assert resp.status_code == 200, resp.text


def trtc_cos_recording(sandbox: SandboxServer, *, users: int = 2) -> tuple[str, dict[str, Any]]:
    """A TRTC recording stored on COS in HLS, uploaded; the manifest lists only the ``.m3u8``
    indexes (as TRTC's StorageFileList does), with their storage URLs and no size."""
    task_id = _stopped_and_uploaded(sandbox, users, "cos")
    storage = sandbox.backend.trtc.storage(task_id)
    files = [
        file_entry(
            name=f["name"],
            status="uploaded",
            url=f"{sandbox.url}/_sandbox/storage/trtc/{task_id}/{f['name']}",
            format=f["kind"],
            user_id=f["user_id"] or None,
        )
        for f in storage["files"]
        if f["kind"] == "m3u8"
    ]
    assert files
    return task_id, _trtc_manifest(storage, task_id, "cos", files)


def _trtc_manifest(storage: dict[str, Any], task_id: str, mode: str, files: list[Any]) -> dict[str, Any]:
    return build_manifest(
        cloud="trtc",
        app_id=storage["sdk_app_id"],
        task_id=task_id,
        room_id=storage["room_id"],
        storage=mode,
        files=files,
        warnings=[],
    )


def _stopped_and_uploaded(sandbox: SandboxServer, users: int, storage: str) -> str:
    from airflow_provider_rtc.hooks.trtc import TrtcHook

    seeded = sandbox.seed(
        {"trtc": {"rooms": 1, "users_per_room": users, "recordings": 1, "recording_storage": storage}}
    )
    task_id = seeded["trtc"]["recordings"][0]["task_id"]
    sandbox.advance(0.3)  # a little recording, so files have a size (the sandbox's clock, no sleep)
    TrtcHook().delete_cloud_recording(task_id)
    sandbox.advance(0.1 + 0.2 + 0.02)  # recording_exit_seconds + upload_delay + a tick: uploaded
    deadline = time.monotonic() + 10
    while sandbox.backend.trtc.storage(task_id)["upload"] != "done":
        assert time.monotonic() < deadline, "the sandbox never finished the upload"
        time.sleep(0.05)
    return task_id


def trtc_vod_recording(sandbox: SandboxServer, *, users: int = 2) -> tuple[str, dict[str, Any]]:
    """A TRTC recording stored in VOD, stopped and uploaded; returns (task id, manifest)."""
    task_id = _stopped_and_uploaded(sandbox, users, "vod")
    storage = sandbox.backend.trtc.storage(task_id)
    vod = sandbox.backend.vod
    files = [
        file_entry(
            name=f["name"],
            status="uploaded",
            url=vod.url(f["vod_file_id"], f["name"]),
            file_id=f["vod_file_id"],
            size=f["size"],
            format=f["kind"],
            user_id=f["user_id"] or None,
        )
        for f in storage["files"]
    ]
    return task_id, _trtc_manifest(storage, task_id, "vod", files)


# the callback receiver of the recording tests (real app on loopback, fresh store per test)
from tests.recordings.conftest import (  # noqa: E402
    ReceiverServer,
    receiver,
    receiver_config,
    receiver_server,
)

__all__ = ["TRTC_KEY", "ReceiverServer", "receiver", "receiver_config", "receiver_server"]


@pytest.fixture
def trtc_feed(
    sandbox: SandboxServer, receiver: ReceiverServer, monkeypatch: pytest.MonkeyPatch
) -> SandboxServer:
    """The sandbox delivering TRTC callbacks to the receiver; the connection knows both."""
    sandbox.backend.callbacks.configure(
        url=f"{receiver.url}/trtc/callback", key=TRTC_KEY, timeout=2, retry_interval=0.3
    )
    conn = sandbox.connections["tencentcloud_default"]
    extra = {
        **conn["extra"],
        "retry_delay": 0.02,
        "retry_max_delay": 0.1,
        "pacing": False,
        "callback_receiver_url": receiver.url,
        "callback_secret": TRTC_KEY,
    }
    monkeypatch.setenv("AIRFLOW_CONN_TENCENTCLOUD_DEFAULT", json.dumps({**conn, "extra": extra}))
    return sandbox
