"""The input contract, table-driven: every bad input to every public operator, bulk operator,
sensor, hook and connection extra fails with an ``RtcValidationError`` naming the parameter,
before a single request reaches the (recording) server.

``test_figures`` prints the counts the issue asks for (run with ``-s``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from airflow_provider_rtc.exceptions import RtcError, RtcValidationError
from airflow_provider_rtc.hooks.live import LiveHook
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.hooks.vod import VodHook
from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook, ZegoRtcHook
from airflow_provider_rtc.operators.live import (
    BulkCancelCommonMixStreamsOperator,
    CancelCommonMixStreamOperator,
    DropLiveStreamOperator,
)
from airflow_provider_rtc.operators.storage import CopyRecordingsOperator, DeleteExpiredRecordingsOperator
from airflow_provider_rtc.operators.trtc import (
    BulkDismissRoomsOperator,
    DeleteCloudRecordingOperator,
    DismissRoomOperator,
    RemoveUserOperator,
    StopPublishCdnStreamOperator,
    StopStreamIngestOperator,
)
from airflow_provider_rtc.operators.usage import UsageReportOperator
from airflow_provider_rtc.operators.zego import (
    BulkCloseRoomsOperator,
    BulkDeleteStreamsOperator,
    CloseRoomOperator,
    DeleteStreamOperator,
    KickoutUserOperator,
    StopMixOperator,
    StopRecordOperator,
)
from airflow_provider_rtc.sensors.trtc import TrtcRecordingUploadedSensor
from airflow_provider_rtc.sensors.zego import ZegoMixTaskEndedSensor, ZegoRecordingUploadedSensor
from airflow_provider_rtc.triggers.uploads import RecordingUploadedEventTrigger
from tests.support.wire import serve, tc_ok, tencent_conn_json, zego_conn_json, zego_ok


@dataclass
class Case:
    name: str
    param: str
    run: Callable[[], Any]
    #: connection overrides: extras, or "login"/"password"
    tencent: dict[str, Any] = field(default_factory=dict)
    zego: dict[str, Any] = field(default_factory=dict)


def trtc(op: type, **kw: Any) -> Callable[[], Any]:
    return lambda: op(task_id="t", **kw).execute({})


def sense(sensor: type, **kw: Any) -> Callable[[], Any]:
    return lambda: sensor(task_id="t", **kw).poke({})


def aio(call: Callable[[], Any]) -> Callable[[], Any]:
    return lambda: asyncio.run(call())


WAIT = {"wait_for_upload": True, "deferrable": False}
ELEVEN = [f"u{i}" for i in range(11)]
SIX = [f"u{i}" for i in range(6)]
ROOM_1 = trtc(DismissRoomOperator, room_id=1)
CLOSE_R = trtc(CloseRoomOperator, room_id="r")

#: the recording server of the current attempt: manifests point their files at it, so a download
#: that should never have started would show in its request log
SERVER: dict[str, str] = {"url": "http://127.0.0.1:9"}
#: a lake folder that only a copy that should have been refused would create
LAKE = os.path.join(tempfile.gettempdir(), "rtc-bad-inputs-lake-never-written")


def recording(**entry: Any) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        file = {"name": "a.mp4", "status": "uploaded", "url": f"{SERVER['url']}/a.mp4", "size": 10, **entry}
        return {"cloud": "trtc", "app_id": 1, "task_id": "t", "room_id": "r", "files": [file]}

    return build


def copy(manifest: Callable[[], Any] | Any = None, **kw: Any) -> Callable[[], Any]:
    """Build and run a copy of one file served by the recording server (unless ``manifest``)."""

    def run() -> Any:
        given = manifest() if callable(manifest) else manifest
        kw.setdefault("destination", LAKE)
        op = CopyRecordingsOperator(task_id="t", manifest=given or recording()(), **kw)
        return op.execute({})

    return run


def build_copy(**kw: Any) -> Callable[[], Any]:
    """Construction alone: these must fail when the DAG is parsed, not when the task runs."""
    return lambda: CopyRecordingsOperator(task_id="t", destination=LAKE, **kw)


def retention(**kw: Any) -> Callable[[], Any]:
    def run() -> Any:
        kw.setdefault("older_than_days", 30)
        if not {"vod", "bucket", "destination"} & set(kw):
            kw["destination"] = LAKE
        return DeleteExpiredRecordingsOperator(task_id="t", **kw).execute({})

    return run


def watch(**kw: Any) -> Callable[[], Any]:
    kw.setdefault("cloud", "trtc")
    return lambda: RecordingUploadedEventTrigger(**kw)


def _days_ago(n: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%SZ")


def usage(**kw: Any) -> Callable[[], Any]:
    def run() -> Any:
        kw.setdefault("report", "trtc_usage")
        kw.setdefault("destination", LAKE)
        kw.setdefault("start", _days_ago(3))
        kw.setdefault("end", _days_ago(2))
        return UsageReportOperator(task_id="t", **kw).execute({})

    return run


NAN = float("nan")

CASES = [
    # -- TRTC DismissRoom: numeric and string room ids, connection arguments, hook_params
    Case("dismiss-None-text", "room_id", trtc(DismissRoomOperator, room_id="None")),
    Case("dismiss-null-text", "room_id", trtc(DismissRoomOperator, room_id="null")),
    Case("dismiss-empty", "room_id", trtc(DismissRoomOperator, room_id="")),
    Case("dismiss-None", "room_id", trtc(DismissRoomOperator, room_id=None)),
    Case("dismiss-fullwidth-digits", "room_id", trtc(DismissRoomOperator, room_id="\uff11\uff12\uff13")),
    Case("dismiss-superscript", "room_id", trtc(DismissRoomOperator, room_id="²")),
    Case("dismiss-bytes", "room_id", trtc(DismissRoomOperator, room_id=b"123")),
    Case("dismiss-float", "room_id", trtc(DismissRoomOperator, room_id=12.0)),
    Case("dismiss-bool", "room_id", trtc(DismissRoomOperator, room_id=True)),
    Case("dismiss-zero", "room_id", trtc(DismissRoomOperator, room_id=0)),
    Case("dismiss-uint32-max", "room_id", trtc(DismissRoomOperator, room_id=4294967295)),
    Case("dismiss-negative-text", "room_id", trtc(DismissRoomOperator, room_id="-5")),
    Case("dismiss-nul-byte", "room_id", trtc(DismissRoomOperator, room_id="1\x002")),
    Case("str-room-None", "room_id", trtc(DismissRoomOperator, room_id="None", str_room_id=True)),
    Case("str-room-slash", "room_id", trtc(DismissRoomOperator, room_id="room/1", str_room_id=True)),
    Case("str-room-65-bytes", "room_id", trtc(DismissRoomOperator, room_id="r" * 65, str_room_id=True)),
    Case("str-room-newline", "room_id", trtc(DismissRoomOperator, room_id="room\n1", str_room_id=True)),
    Case("str-room-leading-space", "room_id", trtc(DismissRoomOperator, room_id=" room", str_room_id=True)),
    Case("str-room-flag-text", "str_room_id", trtc(DismissRoomOperator, room_id="r", str_room_id="yes")),
    Case("op-region", "region", trtc(DismissRoomOperator, room_id=1, region="ap-mars")),
    Case(
        "op-sdk-app-fullwidth", "sdk_app_id", trtc(DismissRoomOperator, room_id=1, sdk_app_id="\uff11\uff12")
    ),
    Case("op-sdk-app-text", "sdk_app_id", trtc(DismissRoomOperator, room_id=1, sdk_app_id="abc")),
    Case(
        "op-conn-id",
        "tencentcloud_conn_id",
        trtc(DismissRoomOperator, room_id=1, tencentcloud_conn_id="a b!"),
    ),
    Case(
        "op-ignore-not-found", "ignore_not_found", trtc(DismissRoomOperator, room_id=1, ignore_not_found="y")
    ),
    Case(
        "hp-retry-limit-0",
        "retry_limit",
        trtc(DismissRoomOperator, room_id=1, hook_params={"retry_limit": 0}),
    ),
    Case("hp-timeout-nan", "timeout", trtc(DismissRoomOperator, room_id=1, hook_params={"timeout": "nan"})),
    Case(
        "hp-timeout-inf",
        "timeout",
        trtc(DismissRoomOperator, room_id=1, hook_params={"timeout": float("inf")}),
    ),
    Case(
        "hp-qps-nan",
        "qps.DismissRoom",
        trtc(DismissRoomOperator, room_id=1, hook_params={"qps": {"DismissRoom": float("nan")}}),
    ),
    Case("hp-unknown", "hook_params", trtc(DismissRoomOperator, room_id=1, hook_params={"bogus": 1})),
    Case("hp-not-a-dict", "hook_params", trtc(DismissRoomOperator, room_id=1, hook_params="retry_limit=2")),
    Case(
        "hp-retry-delay", "retry_delay", trtc(DismissRoomOperator, room_id=1, hook_params={"retry_delay": -1})
    ),
    Case("hp-pacing", "pacing", trtc(DismissRoomOperator, room_id=1, hook_params={"pacing": "maybe"})),
    # -- TRTC RemoveUser: the list contract
    Case("remove-bare-string", "user_ids", trtc(RemoveUserOperator, room_id=1, user_ids="alice")),
    Case("remove-comma-string", "user_ids", trtc(RemoveUserOperator, room_id=1, user_ids="alice,bob")),
    Case(
        "remove-broken-literal", "user_ids", trtc(RemoveUserOperator, room_id=1, user_ids="['alice', 'bob'")
    ),
    Case("remove-None-item", "user_ids[0]", trtc(RemoveUserOperator, room_id=1, user_ids=[None])),
    Case("remove-None-text-item", "user_ids[0]", trtc(RemoveUserOperator, room_id=1, user_ids=["None"])),
    Case("remove-33-bytes", "user_ids[0]", trtc(RemoveUserOperator, room_id=1, user_ids=["a" * 33])),
    Case("remove-non-ascii", "user_ids[0]", trtc(RemoveUserOperator, room_id=1, user_ids=["用户"])),
    Case("remove-space", "user_ids[0]", trtc(RemoveUserOperator, room_id=1, user_ids=["a b"])),
    Case("remove-empty-list", "user_ids", trtc(RemoveUserOperator, room_id=1, user_ids=[])),
    Case("remove-eleven", "user_ids", trtc(RemoveUserOperator, room_id=1, user_ids=ELEVEN)),
    Case("remove-dict", "user_ids", trtc(RemoveUserOperator, room_id=1, user_ids={"a": 1})),
    Case("remove-json-string", "user_ids", trtc(RemoveUserOperator, room_id=1, user_ids='"alice"')),
    Case("remove-deep", "user_ids", trtc(RemoveUserOperator, room_id=1, user_ids="[[[[['a']]]]]")),
    Case("remove-room-None", "room_id", trtc(RemoveUserOperator, room_id="None", user_ids=["a"])),
    # -- TRTC DeleteCloudRecording (stop-and-wait options included)
    Case("rec-None", "recording_task_id", trtc(DeleteCloudRecordingOperator, recording_task_id="None")),
    Case("rec-empty", "recording_task_id", trtc(DeleteCloudRecordingOperator, recording_task_id="")),
    Case("rec-space", "recording_task_id", trtc(DeleteCloudRecordingOperator, recording_task_id="task 1")),
    Case("rec-nul", "recording_task_id", trtc(DeleteCloudRecordingOperator, recording_task_id="t\x00")),
    Case(
        "rec-template-typo",
        "file_url_template",
        trtc(DeleteCloudRecordingOperator, recording_task_id="t", file_url_template="https://b/{nmae}"),
    ),
    Case(
        "rec-template-broken",
        "file_url_template",
        trtc(DeleteCloudRecordingOperator, recording_task_id="t", file_url_template="https://b/{task_id"),
    ),
    Case(
        "rec-poll-nan",
        "poll_interval",
        trtc(DeleteCloudRecordingOperator, recording_task_id="t", poll_interval=float("nan"), **WAIT),
    ),
    Case(
        "rec-wait-negative",
        "wait_timeout",
        trtc(DeleteCloudRecordingOperator, recording_task_id="t", wait_timeout=-1, **WAIT),
    ),
    Case(
        "rec-storage",
        "storage",
        trtc(DeleteCloudRecordingOperator, recording_task_id="t", storage="s3", **WAIT),
    ),
    Case(
        "rec-failed-policy",
        "on_failed_file",
        trtc(DeleteCloudRecordingOperator, recording_task_id="t", on_failed_file="explode", **WAIT),
    ),
    # -- TRTC stop-by-TaskId
    Case("relay-null", "task_id_to_stop", trtc(StopPublishCdnStreamOperator, task_id_to_stop="null")),
    Case("relay-float", "task_id_to_stop", trtc(StopPublishCdnStreamOperator, task_id_to_stop=1.5)),
    Case("ingest-empty", "task_id_to_stop", trtc(StopStreamIngestOperator, task_id_to_stop="")),
    Case("ingest-129", "task_id_to_stop", trtc(StopStreamIngestOperator, task_id_to_stop="a" * 129)),
    # -- TRTC bulk
    Case(
        "bulk-py-literal-names",
        "room_ids[0]",
        trtc(BulkDismissRoomsOperator, room_ids="['room_2', 'room_3']"),
    ),
    Case("bulk-json-string", "room_ids", trtc(BulkDismissRoomsOperator, room_ids='"room_4"')),
    Case("bulk-comma-string", "room_ids", trtc(BulkDismissRoomsOperator, room_ids="1,2,3")),
    Case("bulk-None-text", "room_ids[1]", trtc(BulkDismissRoomsOperator, room_ids=[1, "None"])),
    Case("bulk-None", "room_ids[1]", trtc(BulkDismissRoomsOperator, room_ids=[1, None])),
    Case("bulk-int", "room_ids", trtc(BulkDismissRoomsOperator, room_ids=5)),
    Case("bulk-set", "room_ids", trtc(BulkDismissRoomsOperator, room_ids={1, 2})),
    Case("bulk-fullwidth", "room_ids[1]", trtc(BulkDismissRoomsOperator, room_ids=[1, "\uff11"])),
    Case("bulk-None-string", "room_ids", trtc(BulkDismissRoomsOperator, room_ids="None")),
    Case(
        "bulk-str-rooms-bad",
        "room_ids[1]",
        trtc(BulkDismissRoomsOperator, room_ids=["ok", "bad/room"], str_room_id=True),
    ),
    Case(
        "bulk-concurrency-0",
        "max_concurrency",
        trtc(BulkDismissRoomsOperator, room_ids=[1], max_concurrency=0),
    ),
    Case(
        "bulk-concurrency-word",
        "max_concurrency",
        trtc(BulkDismissRoomsOperator, room_ids=[1], max_concurrency="four"),
    ),
    Case(
        "bulk-concurrency-nan",
        "max_concurrency",
        trtc(BulkDismissRoomsOperator, room_ids=[1], max_concurrency=float("nan")),
    ),
    Case(
        "bulk-concurrency-huge",
        "max_concurrency",
        trtc(BulkDismissRoomsOperator, room_ids=[1], max_concurrency=10_000),
    ),
    Case(
        "bulk-progress-inf",
        "progress_interval",
        trtc(BulkDismissRoomsOperator, room_ids=[1], progress_interval="inf"),
    ),
    # -- Live
    Case(
        "mix-None", "mix_stream_session_id", trtc(CancelCommonMixStreamOperator, mix_stream_session_id="None")
    ),
    Case(
        "mix-dash", "mix_stream_session_id", trtc(CancelCommonMixStreamOperator, mix_stream_session_id="m-1")
    ),
    Case(
        "mix-81", "mix_stream_session_id", trtc(CancelCommonMixStreamOperator, mix_stream_session_id="m" * 81)
    ),
    Case("drop-None", "stream_name", trtc(DropLiveStreamOperator, stream_name="None", domain_name="d")),
    Case("drop-domain-empty", "domain_name", trtc(DropLiveStreamOperator, stream_name="s", domain_name="")),
    Case(
        "drop-app-space",
        "app_name",
        trtc(DropLiveStreamOperator, stream_name="s", domain_name="d", app_name="a b"),
    ),
    Case("drop-crlf", "stream_name", trtc(DropLiveStreamOperator, stream_name="s\r\nX: y", domain_name="d")),
    Case(
        "bulk-mix-comma",
        "mix_stream_session_ids",
        trtc(BulkCancelCommonMixStreamsOperator, mix_stream_session_ids="a_1, b_2"),
    ),
    Case(
        "bulk-mix-bad-item",
        "mix_stream_session_ids[1]",
        trtc(BulkCancelCommonMixStreamsOperator, mix_stream_session_ids=["ok_1", "bad-1"]),
    ),
    Case(
        "bulk-mix-empty-text",
        "mix_stream_session_ids",
        trtc(BulkCancelCommonMixStreamsOperator, mix_stream_session_ids=""),
    ),
    # -- ZEGO
    Case("stopmix-None", "mix_task_id", trtc(StopMixOperator, mix_task_id="None")),
    Case("stopmix-sequence-neg", "sequence", trtc(StopMixOperator, mix_task_id="m", sequence="-1")),
    Case("stopmix-sequence-fullwidth", "sequence", trtc(StopMixOperator, mix_task_id="m", sequence="\uff11")),
    Case("stopmix-user-nul", "user_id", trtc(StopMixOperator, mix_task_id="m", user_id="u\x00")),
    Case(
        "delstream-slash", "stream_id", trtc(DeleteStreamOperator, room_id="r", user_id="u", stream_id="s/1")
    ),
    Case(
        "delstream-room-None",
        "room_id",
        trtc(DeleteStreamOperator, room_id="None", user_id="u", stream_id="s"),
    ),
    Case(
        "delstream-user-65",
        "user_id",
        trtc(DeleteStreamOperator, room_id="r", user_id="u" * 65, stream_id="s"),
    ),
    Case(
        "delstream-name-newline",
        "user_name",
        trtc(DeleteStreamOperator, room_id="r", user_id="u", stream_id="s", user_name="x\n"),
    ),
    Case("close-null", "room_id", trtc(CloseRoomOperator, room_id="null")),
    Case("close-empty", "room_id", trtc(CloseRoomOperator, room_id="")),
    Case("close-space", "room_id", trtc(CloseRoomOperator, room_id="room 1")),
    Case("close-reason-257", "custom_reason", trtc(CloseRoomOperator, room_id="r", custom_reason="x" * 257)),
    Case(
        "close-conn-id-empty", "zegocloud_conn_id", trtc(CloseRoomOperator, room_id="r", zegocloud_conn_id="")
    ),
    Case("kick-bare-string", "user_ids", trtc(KickoutUserOperator, room_id="r", user_ids="u1")),
    Case("kick-six", "user_ids", trtc(KickoutUserOperator, room_id="r", user_ids=SIX)),
    Case("kick-None-item", "user_ids[0]", trtc(KickoutUserOperator, room_id="r", user_ids=["None"])),
    Case("record-None", "recording_task_id", trtc(StopRecordOperator, recording_task_id="None")),
    Case(
        "record-backup-wait",
        "on_backup_file",
        trtc(StopRecordOperator, recording_task_id="t", on_backup_file="wait"),
    ),
    Case(
        "record-poll-0",
        "poll_interval",
        trtc(StopRecordOperator, recording_task_id="t", poll_interval=0, **WAIT),
    ),
    Case("bulk-close-None-item", "room_ids[1]", trtc(BulkCloseRoomsOperator, room_ids="['r1', 'None']")),
    Case("bulk-close-bare", "room_ids", trtc(BulkCloseRoomsOperator, room_ids="r1")),
    Case(
        "bulk-close-reason-bell",
        "custom_reason",
        trtc(BulkCloseRoomsOperator, room_ids=["r"], custom_reason="\x07"),
    ),
    Case("bulk-streams-text-item", "streams[0]", trtc(BulkDeleteStreamsOperator, streams=["r/s"])),
    Case(
        "bulk-streams-no-stream-id",
        "streams[0].stream_id",
        trtc(BulkDeleteStreamsOperator, streams=[{"room_id": "r", "user_id": "u"}]),
    ),
    Case(
        "bulk-streams-unknown-key",
        "streams[0]",
        trtc(BulkDeleteStreamsOperator, streams=[{"room_id": "r", "user_id": "u", "stream_id": "s", "x": 1}]),
    ),
    Case("bulk-streams-dict-text", "streams", trtc(BulkDeleteStreamsOperator, streams="{'room_id': 'r'}")),
    # -- usage reports
    Case(
        "usage-report", "report", lambda: UsageReportOperator(task_id="t", report="bogus", destination="/x")
    ),
    Case(
        "usage-format",
        "format",
        lambda: UsageReportOperator(task_id="t", report="trtc_usage", destination="/x", format="xml"),
    ),
    Case(
        "usage-lookback",
        "lookback_days",
        lambda: UsageReportOperator(task_id="t", report="trtc_usage", destination="/x", lookback_days=-1),
    ),
    Case(
        "usage-window",
        "window_days",
        lambda: UsageReportOperator(task_id="t", report="trtc_usage", destination="/x", window_days=0),
    ),
    Case(
        "usage-hook-params",
        "retry_limit",
        lambda: UsageReportOperator(
            task_id="t", report="trtc_usage", destination="/x", hook_params={"retry_limit": 0}
        ),
    ),
    # -- sensors
    Case(
        "trtc-sensor-None", "recording_task_id", sense(TrtcRecordingUploadedSensor, recording_task_id="None")
    ),
    Case(
        "trtc-sensor-template",
        "file_url_template",
        sense(TrtcRecordingUploadedSensor, recording_task_id="t", file_url_template="{task_id}/{nmae}"),
    ),
    Case("zego-sensor-empty", "recording_task_id", sense(ZegoRecordingUploadedSensor, recording_task_id="")),
    Case("mix-sensor-null", "mix_task_id", sense(ZegoMixTaskEndedSensor, mix_task_id="null")),
    Case(
        "sensor-hook-params",
        "retry_limit",
        sense(ZegoMixTaskEndedSensor, mix_task_id="m", hook_params={"retry_limit": 0}),
    ),
    Case(
        "sensor-max-errors",
        "max_consecutive_errors",
        sense(ZegoMixTaskEndedSensor, mix_task_id="m", max_consecutive_errors=0),
    ),
    # -- hooks
    Case("hook-dismiss-None", "room_id", lambda: TrtcHook().dismiss_room("None")),
    Case("hook-retry-limit-0", "retry_limit", lambda: TrtcHook(retry_limit=0).dismiss_room(1)),
    Case("hook-timeout-nan", "timeout", lambda: TrtcHook(timeout=float("nan")).dismiss_room(1)),
    Case("hook-pacing-text", "pacing", lambda: TrtcHook(pacing="sometimes").dismiss_room(1)),  # type: ignore[arg-type]
    Case(
        "hook-robot-user", "user_id", lambda: TrtcHook().create_cloud_recording(1, "robot user", "s", {}, {})
    ),
    Case("hook-live-None", "stream_name", lambda: LiveHook().drop_live_stream("None", "d")),
    Case("hook-kick-bare", "user_ids", lambda: ZegoRtcHook().kickout_user("r", "u1")),  # type: ignore[arg-type]
    Case(
        "hook-qps-nan",
        "qps.CloseRoom",
        lambda: ZegoRtcHook(qps={"CloseRoom": float("nan")}).close_room("r"),
    ),
    Case("hook-record-None", "recording_task_id", lambda: ZegoCloudRecordHook().stop_record("None")),
    Case(
        "sensor-conn-id",
        "zegocloud_conn_id",
        sense(ZegoMixTaskEndedSensor, mix_task_id="m", zegocloud_conn_id="None"),
    ),
    Case("hook-conn-id-space", "tencentcloud_conn_id", lambda: TrtcHook("my conn").dismiss_room(1)),
    Case("hook-async-mix-None", "mix_task_id", aio(lambda: ZegoRtcHook().aget_mix_task_info("None"))),
    # -- tencentcloud connection extras (through DismissRoom)
    Case("tc-endpoint-port", "endpoint", ROOM_1, tencent={"endpoint": "http://127.0.0.1:99999"}),
    Case("tc-endpoint-userinfo", "endpoint", ROOM_1, tencent={"endpoint": "http://user:pw@127.0.0.1:8080"}),
    Case("tc-endpoint-query", "endpoint", ROOM_1, tencent={"endpoint": "http://127.0.0.1:8080/?x=1"}),
    Case("tc-endpoint-fragment", "endpoint", ROOM_1, tencent={"endpoint": "http://127.0.0.1:8080#frag"}),
    Case("tc-endpoint-scheme", "endpoint", ROOM_1, tencent={"endpoint": "ftp://127.0.0.1"}),
    Case("tc-endpoint-ipv6", "endpoint", ROOM_1, tencent={"endpoint": "http://[::1"}),
    Case("tc-endpoint-space", "endpoint", ROOM_1, tencent={"endpoint": "http://bad host"}),
    Case("tc-endpoint-port-0", "endpoint", ROOM_1, tencent={"endpoint": "http://127.0.0.1:0"}),
    Case("tc-endpoint-path", "endpoint", ROOM_1, tencent={"endpoint": "http://127.0.0.1:8080/api"}),
    Case("tc-timeout-nan", "timeout", ROOM_1, tencent={"timeout": "nan"}),
    Case("tc-timeout-inf", "timeout", ROOM_1, tencent={"timeout": "inf"}),
    Case("tc-timeout-one-item", "timeout", ROOM_1, tencent={"timeout": [1]}),
    Case("tc-connect-timeout", "connect_timeout", ROOM_1, tencent={"connect_timeout": -1}),
    Case("tc-read-timeout", "read_timeout", ROOM_1, tencent={"read_timeout": "abc"}),
    Case("tc-retry-limit-0", "retry_limit", ROOM_1, tencent={"retry_limit": 0}),
    Case("tc-retry-limit-fullwidth", "retry_limit", ROOM_1, tencent={"retry_limit": "\uff12"}),
    Case("tc-retry-delay-nan", "retry_delay", ROOM_1, tencent={"retry_delay": "nan"}),
    Case("tc-retry-total-0", "retry_total_timeout", ROOM_1, tencent={"retry_total_timeout": 0}),
    Case("tc-qps-nan", "qps.DismissRoom", ROOM_1, tencent={"qps": {"DismissRoom": "nan"}}),
    Case("tc-qps-zero", "qps.DismissRoom", ROOM_1, tencent={"qps": {"DismissRoom": 0}}),
    Case("tc-qps-text", "qps", ROOM_1, tencent={"qps": "fast"}),
    Case("tc-pacing", "pacing", ROOM_1, tencent={"pacing": "sometimes"}),
    Case("tc-region", "region", ROOM_1, tencent={"region": "mars"}),
    Case("tc-sdk-app-fullwidth", "sdk_app_id", ROOM_1, tencent={"sdk_app_id": "\uff11\uff14\uff10\uff10"}),
    Case("tc-intl", "intl", ROOM_1, tencent={"intl": "perhaps"}),
    Case("tc-token-newline", "token", ROOM_1, tencent={"token": "abc\ndef"}),
    Case("tc-language-crlf", "language", ROOM_1, tencent={"language": "zh-CN\r\nX-Evil: 1"}),
    Case("tc-secret-id-newline", "login (SecretId)", ROOM_1, tencent={"login": "AKID\nX"}),
    Case("tc-secret-id-non-latin1", "login (SecretId)", ROOM_1, tencent={"login": "AKID€"}),
    Case("tc-secret-key-spaces", "password (SecretKey)", ROOM_1, tencent={"password": "   "}),
    # -- zegocloud connection extras (through CloseRoom)
    Case("zg-endpoint-userinfo", "endpoint", CLOSE_R, zego={"endpoint": "https://u:p@rtc-api.zego.im"}),
    Case("zg-endpoint-fragment", "endpoint", CLOSE_R, zego={"endpoint": "https://rtc-api.zego.im#x"}),
    Case("zg-is-test", "is_test", CLOSE_R, zego={"is_test": "maybe"}),
    Case("zg-app-id-fullwidth", "login (AppId)", CLOSE_R, zego={"login": "\uff11\uff12\uff13"}),
    Case("zg-app-id-None", "login (AppId)", CLOSE_R, zego={"login": "None"}),
    Case("zg-secret-blank", "password (ServerSecret)", CLOSE_R, zego={"password": " \t "}),
    Case("zg-timeout-inf", "timeout", CLOSE_R, zego={"timeout": "inf"}),
    Case("zg-retry-limit-0", "retry_limit", CLOSE_R, zego={"retry_limit": "0"}),
    # -- CopyRecordingsOperator: the destination, the layout and templates, numbers, the manifest
    Case("copy-dest-empty", "destination", copy(destination="")),
    Case("copy-dest-None-text", "destination", copy(destination="None")),
    Case("copy-dest-ftp", "destination", copy(destination="ftp://127.0.0.1/lake")),
    Case("copy-dest-userinfo", "destination", copy(destination="s3://AKID:secret@lake/x")),
    Case("copy-dest-query", "destination", copy(destination="s3://lake/x?versionId=1")),
    Case("copy-dest-newline", "destination", copy(destination=LAKE + "\n")),
    Case("copy-dest-int", "destination", copy(destination=5)),
    Case("copy-layout-unknown", "layout", build_copy(layout="{cloud}/{nmae}")),
    Case("copy-layout-no-name", "layout", build_copy(layout="{cloud}/{task_id}")),
    Case("copy-layout-broken", "layout", build_copy(layout="{cloud}/{name")),
    Case("copy-layout-dotdot", "layout", build_copy(layout="../{name}")),
    Case("copy-layout-attribute", "layout", build_copy(layout="{name.__class__}")),
    Case("copy-url-template-typo", "source_url_template", build_copy(source_url_template="http://h/{nmae}")),
    Case("copy-bucket-name", "source_bucket", build_copy(source_bucket="s3://rec/{task_id}/{name}")),
    Case("copy-bucket-unknown-field", "source_bucket", build_copy(source_bucket="s3://rec/{tsak_id}")),
    Case("copy-bucket-ftp", "source_bucket", copy(source_bucket="ftp://127.0.0.1/rec")),
    Case("copy-source", "source", build_copy(source="ftp")),
    Case("copy-concurrency-bool", "max_concurrency", build_copy(max_concurrency=True)),
    Case("copy-concurrency-0", "max_concurrency", build_copy(max_concurrency=0)),
    Case("copy-attempts-bool", "attempts", build_copy(attempts=True)),
    Case("copy-attempts-nan", "attempts", build_copy(attempts=NAN)),
    Case("copy-attempt-delay-nan", "attempt_delay", build_copy(attempt_delay=NAN)),
    Case("copy-attempt-delay-negative", "attempt_delay", build_copy(attempt_delay=-1)),
    Case("copy-http-timeout-inf", "http_timeout", build_copy(http_timeout=(5, float("inf")))),
    Case("copy-http-timeout-one-item", "http_timeout", build_copy(http_timeout=(5,))),
    Case("copy-progress-nan", "progress_interval", build_copy(progress_interval=NAN)),
    Case("copy-chunk-bool", "chunk_size", build_copy(chunk_size=True)),
    Case("copy-statuses-bare", "statuses", build_copy(statuses="uploaded")),
    Case("copy-statuses-None", "statuses", build_copy(statuses=None)),
    Case("copy-statuses-unknown", "statuses", build_copy(statuses=["done"])),
    Case("copy-sub-app", "vod_sub_app_id", build_copy(vod_sub_app_id="abc")),
    Case("copy-dest-conn-id", "destination_conn_id", build_copy(destination_conn_id="a b!")),
    Case("copy-tc-conn-id", "tencentcloud_conn_id", build_copy(tencentcloud_conn_id="None")),
    Case("copy-manifest-None-text", "manifest", copy(manifest="None")),
    Case("copy-manifest-no-files", "manifest", copy(manifest={"task_id": "t"})),
    Case("copy-manifest-file-url", "manifest", copy(manifest=recording(url="file:///etc/passwd"))),
    Case("copy-manifest-size-text", "manifest", copy(manifest=recording(size="ten"))),
    # -- DeleteExpiredRecordingsOperator
    Case("ret-days-nan", "older_than_days", retention(older_than_days=NAN)),
    Case("ret-days-negative", "older_than_days", retention(older_than_days=-3)),
    Case("ret-days-zero", "older_than_days", retention(older_than_days=0)),
    Case("ret-days-None-text", "older_than_days", retention(older_than_days="None")),
    Case("ret-days-bool", "older_than_days", retention(older_than_days=True)),
    Case("ret-days-float", "older_than_days", retention(older_than_days=2.5)),
    Case("ret-dry-run-text", "dry_run", retention(dry_run="false")),
    Case("ret-dry-run-word", "dry_run", retention(dry_run="maybe")),
    Case("ret-vod-text", "vod", retention(vod="false")),
    Case("ret-nowhere", "vod", lambda: DeleteExpiredRecordingsOperator(task_id="t", older_than_days=30)),
    Case("ret-dest-None-text", "destination", retention(destination="None")),
    Case("ret-dest-ftp", "destination", retention(destination="ftp://127.0.0.1/lake")),
    Case("ret-bucket-userinfo", "bucket", retention(bucket="s3://AKID:secret@rec/x")),
    Case("ret-max-deletes-bool", "max_deletes", retention(max_deletes=True)),
    Case("ret-max-deletes-negative", "max_deletes", retention(max_deletes=-1)),
    Case("ret-source-types-bare", "vod_source_types", retention(vod=True, vod_source_types="Record")),
    Case("ret-sub-app", "vod_sub_app_id", retention(vod=True, vod_sub_app_id="None")),
    Case("ret-conn-id", "tencentcloud_conn_id", retention(vod=True, tencentcloud_conn_id="a b!")),
    # -- VodHook
    Case("vod-ids-bare", "file_ids", lambda: VodHook().describe_media_infos("5285890781")),  # type: ignore[arg-type]
    Case("vod-ids-None-item", "file_ids[0]", lambda: VodHook().describe_media_infos(["None"])),
    Case("vod-ids-21", "file_ids", lambda: VodHook().describe_media_infos([f"f{i}" for i in range(21)])),
    Case("vod-ids-empty", "file_ids", lambda: VodHook().describe_media_infos([])),
    Case("vod-filters-bare", "filters", lambda: VodHook().describe_media_infos(["f"], filters="basicInfo")),  # type: ignore[arg-type]
    Case("vod-delete-None", "file_id", lambda: VodHook().delete_media("None")),
    Case("vod-delete-space", "file_id", lambda: VodHook().delete_media("f 1")),
    Case("vod-search-order", "order", lambda: VodHook().search_media(order="up")),
    Case("vod-search-offset-bool", "offset", lambda: VodHook().search_media(offset=True)),
    Case("vod-search-offset-negative", "offset", lambda: VodHook().search_media(offset=-1)),
    Case("vod-search-limit-nan", "limit", lambda: VodHook().search_media(limit=NAN)),  # type: ignore[arg-type]
    Case("vod-search-after", "create_after", lambda: VodHook().search_media(create_after="yesterday")),
    Case("vod-search-before-crlf", "create_before", lambda: VodHook().search_media(create_before="x\r\n")),
    Case("vod-sub-app-0", "sub_app_id", lambda: VodHook().delete_media("f", sub_app_id=0)),
    Case("vod-conn-id", "tencentcloud_conn_id", lambda: VodHook("a b!").delete_media("f")),
    # -- RecordingUploadedEventTrigger (its kwargs are checked when the DAG is parsed)
    Case("trig-cloud", "cloud", watch(cloud="rtc")),
    Case("trig-poll-nan", "poll_interval", watch(poll_interval=NAN)),
    Case("trig-poll-text", "poll_interval", watch(poll_interval="5s")),
    Case("trig-lookback-inf", "lookback_hours", watch(lookback_hours=float("inf"))),
    Case("trig-lookback-zego-100", "lookback_hours", watch(cloud="zego", lookback_hours=100)),
    Case("trig-commit-negative", "commit_delay", watch(commit_delay=-1)),
    Case("trig-conn-id", "conn_id", watch(conn_id="a b!")),
    Case("trig-app-id-None", "app_id", watch(app_id="None")),
    Case("trig-app-id-fullwidth", "app_id", watch(app_id="\uff11\uff12")),
    Case(
        "trig-receiver-userinfo",
        "callback_receiver_url",
        watch(callback_receiver_url="http://u:p@127.0.0.1:1"),
    ),
    Case("trig-storage", "storage", watch(storage="s3")),
    Case("trig-zego-source", "zego_source", watch(cloud="zego", zego_source="webhook")),
    Case("trig-hook-params", "retry_limit", watch(hook_params={"retry_limit": 0})),
    Case("trig-failed-policy", "on_failed_file", watch(on_failed_file="explode")),
    # -- UsageReportOperator: the range and the report's limits
    Case("usage-end-future", "end", usage(start=_days_ago(1), end=_days_ago(-2))),
    Case("usage-start-after-end", "start", usage(start=_days_ago(2), end=_days_ago(3))),
    Case("usage-start-None-text", "start", usage(start="None")),
    Case("usage-start-garbage", "start", usage(start="yesterday")),
    Case("usage-window-too-long", "window_days", usage(window_days=1000)),
    Case("usage-window-bool", "window_days", usage(window_days=True)),
    Case("usage-lookback-nan", "lookback_days", usage(lookback_days=NAN)),
    Case("usage-report-None", "report", usage(report=None)),
    Case("usage-destination-None-text", "destination", usage(destination="None")),
    Case("usage-destination-ftp", "destination", usage(destination="ftp://127.0.0.1/reports")),
    Case("usage-conn-id", "tencentcloud_conn_id", usage(tencentcloud_conn_id="a b!")),
    Case("usage-sdk-app", "sdk_app_id", usage(sdk_app_id="abc")),
]


@dataclass
class Outcome:
    validation_error: bool
    requests: int
    named: bool
    error: BaseException | None


def _attempt(case: Case, httpserver: Any, set_connection: Callable[..., None]) -> Outcome:
    url = httpserver.url_for("").rstrip("/")
    tencent = tencent_conn_json(url, **case.tencent)
    zego = zego_conn_json(url, **case.zego)
    set_connection("tencentcloud_default", tencent)
    set_connection("zegocloud_default", zego)
    httpserver.clear()
    SERVER["url"] = url
    serve(httpserver, tc_ok(), zego_ok(), tc_ok(), zego_ok())
    error: BaseException | None = None
    try:
        case.run()
    except BaseException as exc:
        error = exc
    named = isinstance(error, RtcValidationError) and error.param == case.param and case.param in str(error)
    return Outcome(isinstance(error, RtcValidationError), len(httpserver.log), named, error)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_before_any_call(case: Case, httpserver, set_connection) -> None:
    outcome = _attempt(case, httpserver, set_connection)
    assert outcome.validation_error, repr(outcome.error)
    assert isinstance(outcome.error, RtcError) and outcome.error.maybe_executed is False
    assert outcome.error.attempts == 1  # never retried
    assert outcome.requests == 0
    assert outcome.named, (case.param, str(outcome.error))


def test_the_table_is_large_and_covers_every_public_class() -> None:
    assert len(CASES) >= 100
    assert len({c.name for c in CASES}) == len(CASES)


def test_figures(httpserver, set_connection) -> None:
    outcomes = [_attempt(case, httpserver, set_connection) for case in CASES]
    tried = len(outcomes)
    before_any_call = sum(o.validation_error and o.requests == 0 for o in outcomes)
    named = sum(o.validation_error and o.requests == 0 and o.named for o in outcomes)
    print(
        f"\nbad inputs tried: {tried}; rejected before any call: {before_any_call}; "
        f"rejected with the parameter named: {named}"
    )
    assert tried == before_any_call == named
