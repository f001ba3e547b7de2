"""TRTC cleanup operators on the wire: the documented call, signed, and "already gone" handling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_rtc.cleanup import result as result_keys
from airflow_provider_rtc.exceptions import RtcNotFoundError, RtcValidationError
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.operators.trtc import (
    DeleteCloudRecordingOperator,
    DismissRoomOperator,
    RemoveUserOperator,
    StopAITranscriptionOperator,
    StopPublishCdnStreamOperator,
    StopStreamIngestOperator,
)
from tests.support.wire import Seen, assert_tencent_call, html_502, serve, tc_err, tc_ok, tencent_conn_json

APP = 1400000001
V = "2019-07-22"


def _assert_trtc(seen: Seen, action: str, body: dict[str, Any], region: str = "ap-guangzhou") -> None:
    assert_tencent_call(seen, action=action, version=V, service="trtc", body=body, region=region)


# --- every operator row sends its documented call -------------------------------------------------

ROWS: list[tuple[str, Callable[[], Any], str, dict[str, Any], dict[str, Any]]] = [
    (
        "dismiss-int",
        lambda: DismissRoomOperator(task_id="t", room_id=1234),
        "DismissRoom",
        {"SdkAppId": APP, "RoomId": 1234},
        {"room_id": 1234},
    ),
    (
        "dismiss-numeric-string",
        lambda: DismissRoomOperator(task_id="t", room_id=" 4294967294 "),
        "DismissRoom",
        {"SdkAppId": APP, "RoomId": 4294967294},
        {"room_id": 4294967294},
    ),
    (
        "dismiss-str-room",
        lambda: DismissRoomOperator(task_id="t", room_id="event_2024-room", str_room_id=True),
        "DismissRoomByStrRoomId",
        {"SdkAppId": APP, "RoomId": "event_2024-room"},
        {"room_id": "event_2024-room"},
    ),
    (
        "dismiss-str-room-numeric-text",
        lambda: DismissRoomOperator(task_id="t", room_id="1234", str_room_id=True),
        "DismissRoomByStrRoomId",
        {"SdkAppId": APP, "RoomId": "1234"},
        {"room_id": "1234"},
    ),
    (
        "remove-user",
        lambda: RemoveUserOperator(task_id="t", room_id="1234", user_ids=["alice", "bob"]),
        "RemoveUser",
        {"SdkAppId": APP, "RoomId": 1234, "UserIds": ["alice", "bob"]},
        {"room_id": 1234, "user_ids": ["alice", "bob"]},
    ),
    (
        "remove-user-json-list",
        lambda: RemoveUserOperator(task_id="t", room_id=1234, user_ids='["alice", "bob"]'),
        "RemoveUser",
        {"SdkAppId": APP, "RoomId": 1234, "UserIds": ["alice", "bob"]},
        {"room_id": 1234, "user_ids": ["alice", "bob"]},
    ),
    (
        "remove-user-str-room",
        lambda: RemoveUserOperator(task_id="t", room_id="lobby", user_ids="['carol']", str_room_id=True),
        "RemoveUserByStrRoomId",
        {"SdkAppId": APP, "RoomId": "lobby", "UserIds": ["carol"]},
        {"room_id": "lobby", "user_ids": ["carol"]},
    ),
    (
        "delete-cloud-recording",
        lambda: DeleteCloudRecordingOperator(task_id="t", recording_task_id="rec-task-1"),
        "DeleteCloudRecording",
        {"SdkAppId": APP, "TaskId": "rec-task-1"},
        {"recording_task_id": "rec-task-1"},
    ),
    (
        "stop-publish-cdn-stream",
        lambda: StopPublishCdnStreamOperator(task_id="t", task_id_to_stop="relay-task-1"),
        "StopPublishCdnStream",
        {"SdkAppId": APP, "TaskId": "relay-task-1"},
        {"relay_task_id": "relay-task-1"},
    ),
    (
        "stop-stream-ingest",
        lambda: StopStreamIngestOperator(task_id="t", task_id_to_stop="ingest-task-1"),
        "StopStreamIngest",
        {"SdkAppId": APP, "TaskId": "ingest-task-1"},
        {"ingest_task_id": "ingest-task-1"},
    ),
    (  # the worked example of docs/cleanup-engine.md: its request is the TaskId alone
        "stop-ai-transcription",
        lambda: StopAITranscriptionOperator(task_id="t", task_id_to_stop="ai-task-1"),
        "StopAITranscription",
        {"TaskId": "ai-task-1"},
        {"ai_task_id": "ai-task-1"},
    ),
]


@pytest.mark.parametrize(("make", "action", "body", "ids"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_operator_sends_the_documented_signed_call(httpserver, tencent_conn, make, action, body, ids) -> None:
    script = serve(httpserver, tc_ok("rid-op-1"))
    result = make().execute(context={})
    assert len(script.seen) == 1
    _assert_trtc(script.seen[0], action, body)
    # the one result shape (cleanup/result.py), the operator's own argument names beside it
    assert set(result_keys.KEYS) <= set(result)
    assert {
        k: result[k] for k in ("cloud", "product", "action", *ids, "status", "request_id", "RequestId")
    } == {
        "cloud": "trtc",
        "product": "Tencent Cloud TRTC",
        "action": action,
        **ids,
        "status": "done",
        "request_id": "rid-op-1",
        "RequestId": "rid-op-1",
    }
    assert result["ref"]["cloud"] == "trtc" and result["label"].startswith("trtc:")


def test_operator_region_and_sdk_app_id_override_the_connection(httpserver, tencent_conn) -> None:
    script = serve(httpserver, tc_ok())
    DismissRoomOperator(task_id="t", room_id=5, region="ap-singapore", sdk_app_id="1400000042").execute({})
    _assert_trtc(script.seen[0], "DismissRoom", {"SdkAppId": 1400000042, "RoomId": 5}, region="ap-singapore")


def test_templated_fields_render_then_validate(httpserver, tencent_conn) -> None:
    op = DismissRoomOperator(
        task_id="t", room_id="{{ params.room }}", region="{{ params.region }}", sdk_app_id="{{ params.app }}"
    )
    op.render_template_fields({"params": {"room": 8489, "region": "ap-beijing", "app": 1400000003}})
    assert op.room_id == "8489"
    script = serve(httpserver, tc_ok())
    assert op.execute({})["room_id"] == 8489
    _assert_trtc(script.seen[0], "DismissRoom", {"SdkAppId": 1400000003, "RoomId": 8489}, region="ap-beijing")


def test_hook_params_reach_the_hook(httpserver, tencent_conn) -> None:
    script = serve(httpserver, *[html_502()] * 3)
    op = DeleteCloudRecordingOperator(task_id="t", recording_task_id="rec-1", hook_params={"retry_limit": 2})
    with pytest.raises(Exception, match="after 2 attempts"):
        op.execute({})
    assert len(script.seen) == 2


@pytest.mark.parametrize(
    ("cls", "business"),
    [
        (DismissRoomOperator, {"room_id"}),
        (RemoveUserOperator, {"room_id", "user_ids"}),
        (DeleteCloudRecordingOperator, {"recording_task_id"}),
        (StopPublishCdnStreamOperator, {"task_id_to_stop"}),
        (StopStreamIngestOperator, {"task_id_to_stop"}),
    ],
)
def test_template_fields(cls, business) -> None:
    fields = set(cls.template_fields)
    assert business | {"tencentcloud_conn_id", "region", "sdk_app_id"} <= fields
    # hook_params is templated: it holds no secret (only HOOK_PARAMS keys: timeouts, retries, qps, pacing)
    assert not {"password", "secret_key"} & fields


# --- not found is success (by default) ---------------------------------------------------------------

NOT_FOUND = [
    (lambda **kw: DismissRoomOperator(task_id="t", room_id=1234, **kw), "FailedOperation.RoomNotExist"),
    (
        lambda **kw: DismissRoomOperator(task_id="t", room_id="r1", str_room_id=True, **kw),
        "FailedOperation.RoomNotExist",
    ),
    (
        lambda **kw: RemoveUserOperator(task_id="t", room_id=1, user_ids=["u"], **kw),
        "FailedOperation.RoomNotExist",
    ),
    (
        lambda **kw: RemoveUserOperator(task_id="t", room_id=1, user_ids=["u"], **kw),
        "FailedOperation.UserNotExist",
    ),
    (lambda **kw: DeleteCloudRecordingOperator(task_id="t", recording_task_id="r", **kw), "ResourceNotFound"),
    (
        lambda **kw: DeleteCloudRecordingOperator(task_id="t", recording_task_id="r", **kw),
        "FailedOperation.TaskNotExist",
    ),
    (
        lambda **kw: StopPublishCdnStreamOperator(task_id="t", task_id_to_stop="r", **kw),
        "FailedOperation.TaskNotExist",
    ),
    (
        lambda **kw: StopStreamIngestOperator(task_id="t", task_id_to_stop="r", **kw),
        "FailedOperation.TaskNotExist",
    ),
]


@pytest.mark.parametrize(("make", "code"), NOT_FOUND)
def test_not_found_is_already_gone_by_default(httpserver, tencent_conn, make, code) -> None:
    script = serve(httpserver, tc_err(code, request_id="rid-gone"))
    result = make().execute({})
    assert len(script.seen) == 1
    assert result["status"] == "already_gone"
    assert result["code"] == code
    assert result["RequestId"] == "rid-gone"
    assert result["after_lost_response"] is False


@pytest.mark.parametrize(("make", "code"), NOT_FOUND)
def test_not_found_raises_when_not_ignored(httpserver, tencent_conn, make, code) -> None:
    script = serve(httpserver, tc_err(code))
    with pytest.raises(RtcNotFoundError) as info:
        make(ignore_not_found=False).execute({})
    assert info.value.code == code
    assert len(script.seen) == 1


def test_lost_response_then_room_not_exist_succeeds(raw_server, set_connection) -> None:
    """Attempt 1 reaches the server but its answer is lost; attempt 2 hears "room does not exist"."""
    server = raw_server("drop", tc_err("FailedOperation.RoomNotExist", request_id="rid-second"))
    set_connection("tencentcloud_default", tencent_conn_json(server.url))
    result = DismissRoomOperator(task_id="t", room_id=1234).execute({})
    assert result["status"] == "already_gone"
    assert result["after_lost_response"] is True
    assert result["RequestId"] == "rid-second"
    assert len(server.requests) == 2
    for request in server.requests:
        _assert_trtc(Seen.from_raw(request), "DismissRoom", {"SdkAppId": APP, "RoomId": 1234})


def test_lost_response_then_not_found_still_raises_when_not_ignored(raw_server, set_connection) -> None:
    server = raw_server("drop", tc_err("FailedOperation.RoomNotExist"))
    set_connection("tencentcloud_default", tencent_conn_json(server.url))
    with pytest.raises(RtcNotFoundError) as info:
        DismissRoomOperator(task_id="t", room_id=1234, ignore_not_found=False).execute({})
    assert info.value.after_lost_response is True
    assert info.value.attempts == 2


def test_other_errors_are_not_swallowed(httpserver, tencent_conn) -> None:
    serve(httpserver, tc_err("FailedOperation"))
    with pytest.raises(Exception) as info:
        DismissRoomOperator(task_id="t", room_id=1234).execute({})
    assert not isinstance(info.value, RtcNotFoundError)


def test_non_ascii_body_is_signed_as_the_utf8_bytes_sent(httpserver, tencent_conn) -> None:
    script = serve(httpserver, tc_ok())
    # TRTC user ids are ASCII ([a-zA-Z0-9_-]); free-form API parameters may not be
    TrtcHook().call("RemoveUser", {"SdkAppId": APP, "RoomId": 1234, "UserIds": ["用户一", "ünïcode"]})
    seen = script.seen[0]
    assert "用户一".encode() in seen.body  # raw UTF-8, not \\u escapes
    _assert_trtc(seen, "RemoveUser", {"SdkAppId": APP, "RoomId": 1234, "UserIds": ["用户一", "ünïcode"]})


def test_non_ascii_user_ids_are_refused_before_the_network(httpserver, tencent_conn) -> None:
    script = serve(httpserver, tc_ok())
    with pytest.raises(RtcValidationError) as info:
        RemoveUserOperator(task_id="t", room_id=1234, user_ids=["用户一"]).execute({})
    assert info.value.param == "user_ids[0]"
    assert script.seen == []
