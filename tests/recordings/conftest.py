"""Fixtures for the recording-upload tests: a real callback receiver on 127.0.0.1 (uvicorn on a
thread, one per session, a fresh SQLite store per test), scripted cloud answers for
pytest-httpserver, and builders for TRTC callbacks and ZEGO DescribeRecordStatus answers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.callbacks.app import create_app
from airflow_provider_rtc.callbacks.config import ReceiverConfig
from airflow_provider_rtc.callbacks.store import CallbackStore
from airflow_provider_rtc.signing.callbacks import trtc_callback_sign
from tests.support import wire
from tests.support.credentials import (
    SDK_APP_ID,
    TRTC_KEY,
    ZEGO_APP_ID,
    ZEGO_CALLBACK_SECRET,
)
from tests.support.sandbox import install_connections
from tests.support.servers import ThreadedServer
from tests.support.wire import Script, serve

__all__ = [
    "SDK_APP_ID",
    "TRTC_KEY",
    "ZEGO_APP_ID",
    "ZEGO_CALLBACK_SECRET",
    "ReceiverServer",
    "Script",
    "admin",
    "fast_retry_extra",
    "wired_sandbox_config",
]

# -- the callback receiver ------------------------------------------------------------------------

ReceiverServer = ThreadedServer  # the provider's receiver app served by uvicorn on a background thread


@pytest.fixture(scope="session")
def receiver_config(tmp_path_factory: pytest.TempPathFactory) -> ReceiverConfig:
    return ReceiverConfig(
        db_path=str(tmp_path_factory.mktemp("receiver") / "callbacks.sqlite3"),
        trtc_keys={"*": TRTC_KEY},
        zego_secrets={"*": ZEGO_CALLBACK_SECRET},
    )


@pytest.fixture(scope="session")
def receiver_server(receiver_config: ReceiverConfig) -> Iterator[ReceiverServer]:
    server = ReceiverServer(create_app(receiver_config))
    yield server
    server.stop()


@pytest.fixture
def receiver(receiver_server: ReceiverServer, tmp_path: Any) -> ReceiverServer:
    """The session receiver with an empty store of its own."""
    receiver_server.app.state.receiver._store = CallbackStore(tmp_path / "callbacks.sqlite3")
    return receiver_server


# -- the shared sandbox beside the receiver (test_sandbox_sensors, test_example_dag_e2e) ------------


@pytest.fixture
def sandbox(
    sandbox: SandboxServer, sandbox_conn_extra: dict[str, Any], receiver: ReceiverServer, monkeypatch: Any
) -> SandboxServer:
    """The shared sandbox; its TRTC connection also names the receiver and its key (each module sets
    ``sandbox_config``, whose callbacks go to ``receiver``, and ``sandbox_conn_extra``)."""
    receiver_extra = {
        **sandbox_conn_extra,
        "callback_receiver_url": receiver.url,
        "callback_secret": TRTC_KEY,
    }
    install_connections(
        sandbox, monkeypatch, receiver_extra, names={"tencentcloud_default": "tencentcloud_default"}
    )
    return sandbox


def wired_sandbox_config(
    receiver: ReceiverServer,
    *,
    random_seed: int,
    retry_interval: float = 0.3,
    max_age: float | None = None,
    **timing: float,
) -> dict[str, Any]:
    """A ``sandbox_config`` whose TRTC callbacks go to ``receiver``, signed with the receiver's key,
    limits off; only the seed, the ``timing`` knobs and the callback retry/max-age differ by module."""
    callbacks: dict[str, Any] = {
        "url": f"{receiver.url}/trtc/callback",
        "key": TRTC_KEY,
        "timeout": 2,
        "retry_interval": retry_interval,
    }
    if max_age is not None:
        callbacks["max_age"] = max_age
    return {
        "random_seed": random_seed,
        "timing": {"tick_seconds": 0.02, **timing},
        "callbacks": callbacks,
        "limits": {"enabled": False},
    }


def fast_retry_extra(retry_delay: float = 0.02, retry_max_delay: float = 0.1) -> dict[str, Any]:
    """A ``sandbox_conn_extra`` for these modules: short retries, no pacing (the sandbox's limits are off)."""
    return {"retry_delay": retry_delay, "retry_max_delay": retry_max_delay, "pacing": False}


def admin(server: SandboxServer, path: str, body: dict[str, Any]) -> None:
    """A sandbox admin call (``PUT /_sandbox<path>``) that must succeed."""
    resp = httpx.put(f"{server.url}/_sandbox{path}", json=body, timeout=5)
    assert resp.status_code == 200, resp.text


def trtc_event(
    task_id: str,
    event_type: int,
    payload: dict[str, Any] | None = None,
    *,
    room_id: int | str = 1001,
    at_ms: int | None = None,
) -> dict[str, Any]:
    at_ms = at_ms if at_ms is not None else int(time.time() * 1000)
    return {
        "EventGroupId": 3,
        "EventType": event_type,
        "CallbackTs": at_ms + 5,
        "EventInfo": {
            "RoomId": room_id,
            "EventTs": at_ms // 1000,
            "EventMsTs": at_ms,
            "UserId": "recorder_1001",
            "TaskId": task_id,
            "Payload": payload or {},
        },
    }


def post_trtc(
    url: str, body: dict[str, Any] | bytes, *, key: str = TRTC_KEY, sdk_app_id: int = SDK_APP_ID
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body, indent=1).encode()
    headers = {
        "Content-Type": "application/json",
        "SdkAppId": str(sdk_app_id),
        "Sign": trtc_callback_sign(raw, key),
    }
    return httpx.post(f"{url}/trtc/callback", content=raw, headers=headers, timeout=5)


def mp4_310(
    task_id: str, name: str, status: int = 0, *, user: str = "", track: str = "audio_video", **kw: Any
) -> dict[str, Any]:
    return trtc_event(
        task_id,
        310,
        {
            "Status": status,
            "FileList": [name],
            "FileMessage": [
                {
                    "FileName": name,
                    "UserId": user,
                    "TrackType": track,
                    "MediaId": "main",
                    "StartTimeStamp": 1_700_000_000_000,
                    "EndTimeStamp": 1_700_000_065_000,
                }
            ],
        },
        **kw,
    )


def vod_311(
    task_id: str, file_id: str, status: int = 0, *, user: str = "alice", track: str = "audio_video", **kw: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "Status": status,
        "TencentVod": {
            "UserId": user,
            "TrackType": track,
            "MediaId": "main",
            "FileId": file_id if status == 0 else "",
            "VideoUrl": f"https://vod.example.com/{file_id}/f0.mp4" if status == 0 else "",
            "CacheFile": f"{task_id}_{user}.mp4",
            "StartTimeStamp": 1_700_000_000_000,
            "EndTimeStamp": 1_700_000_030_000,
        },
    }
    if status:
        payload["Errmsg"] = "upload failed"
    return trtc_event(task_id, 311, payload, **kw)


# -- scripted clouds on pytest-httpserver -----------------------------------------------------------


@pytest.fixture
def script(httpserver: Any) -> Script:
    """One script serving both clouds: Tencent by ``X-TC-Action``, ZEGO by ``?Action=``."""
    return serve(httpserver)


def tc_ok(**response: Any) -> dict[str, Any]:
    return wire.tc_ok("req-1", **response)


def tc_error(code: str, message: str = "error") -> dict[str, Any]:
    return wire.tc_err(code, message, request_id="req-err")


def zego_ok(data: dict[str, Any] | None = None) -> dict[str, Any]:
    return wire.zego_ok(data or {}, request_id="zreq-1")


def zego_error(code: int, message: str = "error") -> dict[str, Any]:
    return wire.zego_err(code, message, request_id="zreq-err")


def zego_file(name: str, status: int, **kw: Any) -> dict[str, Any]:
    return {
        "UserId": "alice",
        "UserName": "alice",
        "StreamId": "stream_alice",
        "FileId": name,
        "VideoId": "",
        "FileUrl": f"https://bucket.example.com/record/{name}",
        "OutputFileFormat": "mp4",
        "FileSize": 432_643,
        "Duration": 33_874,
        "ResolutionWidth": 1280,
        "ResolutionHeight": 720,
        "MediaTrackType": 3,
        "BeginTimestamp": 1_601_221_459_830,
        "Status": status,
        **kw,
    }


def zego_record(
    status: int, files: list[dict[str, Any]] | None, *, room_id: str = "room_1"
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "RoomId": room_id,
        "RecordMode": 1,
        "StreamType": 3,
        "RecordBeginTimestamp": 1_601_221_452_099,
        "RecordEndTimestamp": 1_601_221_508_795 if status in (3, 4) else 0,
        "Status": status,
    }
    if files is not None:
        data["RecordFiles"] = files
    return zego_ok(data)


@pytest.fixture
def trtc_receiver_conn(
    httpserver: Any,
    set_connection: Callable[..., None],
    fast_retries: dict[str, Any],
    receiver: ReceiverServer,
) -> str:
    """``tencentcloud_default`` at pytest-httpserver, with the receiver URL and key as extras."""
    set_connection(
        "tencentcloud_default",
        wire.tencent_conn_json(
            httpserver.url_for("").rstrip("/"),
            callback_receiver_url=receiver.url,
            callback_secret=TRTC_KEY,
            **fast_retries,
        ),
    )
    return "tencentcloud_default"
