"""Issue 10: a receiver URL with a path prefix (the Airflow plugin's documented form) works for the
sensor, the stop-and-wait operator and the trigger; the secret extra is ``callback_secret`` (the old
``callback_key`` still read, with a DeprecationWarning); bad receiver URLs are refused by name."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from airflow_provider_rtc.callbacks.app import create_app
from airflow_provider_rtc.callbacks.client import resolve_target
from airflow_provider_rtc.callbacks.config import ReceiverConfig
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.operators.trtc import DeleteCloudRecordingOperator
from airflow_provider_rtc.sensors.trtc import TrtcRecordingUploadedSensor
from airflow_provider_rtc.triggers.trtc import TrtcRecordingUploadedTrigger
from airflow_provider_rtc.validation import receiver_url
from tests.support.wire import tencent_conn_json

from .conftest import TRTC_KEY, ReceiverServer, Script, post_trtc, tc_error, tc_ok, trtc_event

TASK = "trtc-task-prefix"
GONE = tc_error("FailedOperation.TaskNotExist")
PREFIX = "/rtc-callbacks"


@pytest.fixture
def mounted(tmp_path: Any) -> Iterator[ReceiverServer]:
    """The receiver mounted under /rtc-callbacks, as the Airflow plugin serves it."""
    config = ReceiverConfig(db_path=str(tmp_path / "cb.sqlite3"), trtc_keys={"*": TRTC_KEY})
    server = ReceiverServer(Starlette(routes=[Mount(PREFIX, create_app(config))]))
    yield server
    server.stop()


@pytest.fixture
def prefixed_conn(
    httpserver: Any, set_connection: Any, fast_retries: dict[str, Any], mounted: ReceiverServer
) -> dict[str, Any]:
    conn = tencent_conn_json(
        httpserver.url_for("").rstrip("/"),
        callback_receiver_url=mounted.url + PREFIX,
        callback_secret=TRTC_KEY,
    )
    set_connection("tencentcloud_default", conn)
    post_trtc(mounted.url + PREFIX, trtc_event(TASK, 312, {"Status": 0}))
    return conn


@pytest.mark.usefixtures("prefixed_conn")
def test_sensor_reads_through_a_prefixed_receiver_url(script: Script) -> None:
    script.on("DescribeCloudRecording", GONE)
    sensor = TrtcRecordingUploadedSensor(
        task_id="wait", recording_task_id=TASK, poke_interval=0.01, timeout=5, vod_commit_grace=0
    )
    assert sensor.execute({})["storage"] == "vod"


@pytest.mark.usefixtures("prefixed_conn")
def test_stop_and_wait_reads_through_a_prefixed_receiver_url(script: Script) -> None:
    script.on("DeleteCloudRecording", tc_ok(TaskId=TASK))
    script.on("DescribeCloudRecording", GONE)
    op = DeleteCloudRecordingOperator(
        task_id="stop",
        recording_task_id=TASK,
        wait_for_upload=True,
        deferrable=False,
        poll_interval=0.01,
        vod_commit_grace=0,
    )
    assert op.execute({})["storage"] == "vod"


@pytest.mark.usefixtures("prefixed_conn")
def test_trigger_reads_through_a_prefixed_receiver_url(script: Script, mounted: ReceiverServer) -> None:
    trigger = TrtcRecordingUploadedTrigger(
        recording_task_id=TASK,
        end_time=time.time() + 5,
        poll_interval=0.01,
        task_gone=True,
        callback_receiver_url=mounted.url + PREFIX + "/",
        vod_commit_grace=0,
    )

    async def first() -> Any:
        return [event async for event in trigger.run()]

    (event,) = asyncio.run(first())
    assert event.payload["status"] == "done"


def test_deprecated_callback_key_extra_still_works_with_a_warning(
    prefixed_conn: dict[str, Any], set_connection: Any, script: Script
) -> None:
    extra = prefixed_conn["extra"]
    extra["callback_key"] = extra.pop("callback_secret")
    set_connection("tencentcloud_default", prefixed_conn)
    script.on("DescribeCloudRecording", GONE)
    sensor = TrtcRecordingUploadedSensor(
        task_id="wait", recording_task_id=TASK, poke_interval=0.01, timeout=5, vod_commit_grace=0
    )
    with pytest.warns(DeprecationWarning, match="callback_secret"):
        assert sensor.execute({})["storage"] == "vod"


def test_the_new_secret_extra_wins_over_the_old_one() -> None:
    extra = {"callback_receiver_url": "http://h:1", "callback_secret": "new", "callback_key": "old"}
    assert resolve_target(extra, mask=False).key == "new"
    legacy = {
        "extra__zegocloud__callback_receiver_url": "http://h:1",
        "extra__zegocloud__callback_secret": "z",
    }
    assert resolve_target(legacy, conn_type="zegocloud", mask=False).key == "z"


@pytest.mark.parametrize(
    "url",
    [
        "http://airflow:8080/rtc-callbacks",
        "https://airflow.example.com/a/b/rtc-callbacks/",
        "http://127.0.0.1:8990",
        "http://[::1]:8080/rtc-callbacks",
    ],
)
def test_receiver_urls_with_a_path_prefix_are_accepted(url: str) -> None:
    assert receiver_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://h/x",
        "http://",
        "http://h:99999/x",
        "http://h:0",
        "http://user:pw@h/x",
        "http://h/x?a=1",
        "http://h/x#frag",
        "http://h/x y",
        "http://h/x\ny",
        "",
    ],
)
def test_bad_receiver_urls_are_refused_naming_the_parameter(url: str) -> None:
    with pytest.raises(RtcValidationError, match="callback_receiver_url") as err:
        receiver_url(url)
    assert "pw" not in str(err.value)
