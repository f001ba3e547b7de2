"""TRTC business rules over HTTP, and the time-driven ones directly on the backend."""

from __future__ import annotations

import pytest
from rtc_sandbox.backends.trtc import TrtcBackend
from rtc_sandbox.errors import SandboxError
from rtc_sandbox.ids import IdFactory, trtc_b64

from .conftest import code_of

APP = 1400000001
COS = {
    "CloudStorage": {
        "Vendor": 0,
        "Region": "ap-guangzhou",
        "Bucket": "b-1250000000",
        "AccessKey": "a",
        "SecretKey": "s",
    }
}


def _create(tencent, room="9001", **record):
    params = {
        "SdkAppId": APP,
        "RoomId": room,
        "UserId": f"recorder_{room}",
        "UserSig": "sig",
        "RecordParams": {"RecordMode": 2, **record},
        "StorageParams": COS,
    }
    return tencent("CreateCloudRecording", params)


def test_dismiss_room_rules(sb, tencent):
    ids = sb.seed({"trtc": {"rooms": 1, "str_rooms": 1, "users_per_room": 2}})
    room, str_room = ids["trtc"]["rooms"][0], ids["trtc"]["str_rooms"][0]
    assert (
        code_of(tencent("DismissRoom", {"SdkAppId": APP, "RoomId": 424242})) == "FailedOperation.RoomNotExist"
    )
    assert (
        code_of(tencent("DismissRoom", {"SdkAppId": APP, "RoomId": str(room)})) == "InvalidParameter.RoomId"
    )
    assert code_of(tencent("DismissRoom", {"SdkAppId": APP, "RoomId": 2**32})) == "InvalidParameter.RoomId"
    assert code_of(tencent("DismissRoom", {"SdkAppId": APP, "RoomId": -1})) == "InvalidParameter.RoomId"
    assert code_of(tencent("DismissRoom", {"SdkAppId": APP})) == "MissingParameter.RoomId"
    assert code_of(tencent("DismissRoom", {"RoomId": room})) == "MissingParameter.SdkAppId"
    assert (
        code_of(tencent("DismissRoom", {"SdkAppId": "1400000001", "RoomId": room}))
        == "InvalidParameter.SdkAppId"
    )
    assert code_of(tencent("DismissRoom", {"SdkAppId": 1400009999, "RoomId": room})) == (
        "UnauthorizedOperation.SdkAppId"
    )
    assert code_of(tencent("DismissRoomByStrRoomId", {"SdkAppId": APP, "RoomId": room})) == (
        "InvalidParameter.RoomId"
    )
    assert code_of(tencent("DismissRoom", {"SdkAppId": APP, "RoomId": room})) is None
    assert code_of(tencent("DismissRoomByStrRoomId", {"SdkAppId": APP, "RoomId": str_room})) is None
    assert sb.state()["trtc"]["counts"] == {
        "rooms": 0,
        "str_rooms": 0,
        "users": 0,
        "recordings": 0,
        "uploads_pending": 0,
    }


def test_numeric_and_string_room_ids_are_separate(sb, tencent):
    sb.backend.trtc.add_users(APP, "123", ["alice"], sb.backend.now())
    assert code_of(tencent("DismissRoom", {"SdkAppId": APP, "RoomId": 123})) == "FailedOperation.RoomNotExist"
    assert code_of(tencent("RemoveUser", {"SdkAppId": APP, "RoomId": 123, "UserIds": ["alice"]})) == (
        "FailedOperation.RoomNotExist"
    )
    assert code_of(tencent("DismissRoomByStrRoomId", {"SdkAppId": APP, "RoomId": "123"})) is None


def test_remove_user_rules(sb, tencent):
    ids = sb.seed({"trtc": {"rooms": 1, "users_per_room": 3}})
    room = ids["trtc"]["rooms"][0]
    users = ids["trtc"]["users"][str(room)]
    eleven = [f"u{i}" for i in range(11)]
    assert code_of(tencent("RemoveUser", {"SdkAppId": APP, "RoomId": room, "UserIds": eleven})) == (
        "InvalidParameter.UserIds"
    )
    assert code_of(tencent("RemoveUser", {"SdkAppId": APP, "RoomId": room, "UserIds": "u1"})) == (
        "InvalidParameter.UserIds"
    )
    assert code_of(tencent("RemoveUser", {"SdkAppId": APP, "RoomId": room})) == "MissingParameter.UserIds"
    assert (
        code_of(tencent("RemoveUser", {"SdkAppId": APP, "RoomId": room, "UserIds": [*users, "ghost"]}))
        is None
    )
    # the room stays until dismissed, even with nobody left
    assert sb.backend.trtc.room_users(APP, room) == []
    assert code_of(tencent("DismissRoom", {"SdkAppId": APP, "RoomId": room})) is None


def test_remove_user_by_str_room(sb, tencent):
    ids = sb.seed({"trtc": {"str_rooms": 1, "users_per_room": 2}})
    room = ids["trtc"]["str_rooms"][0]
    user = ids["trtc"]["users"][room][0]
    assert (
        code_of(tencent("RemoveUserByStrRoomId", {"SdkAppId": APP, "RoomId": room, "UserIds": [user]}))
        is None
    )
    assert sb.backend.trtc.room_users(APP, room) == ids["trtc"]["users"][room][1:]


def test_recording_lifecycle_and_gone_code(sb, tencent, wait):
    sb.seed({"trtc": {"rooms": 0}})
    sb.backend.trtc.add_users(APP, 9001, ["anchor"], sb.backend.now())
    task = _create(tencent)["TaskId"]
    out = tencent("DescribeCloudRecording", {"SdkAppId": APP, "TaskId": task})
    assert out["Status"] == "InProgress"
    assert out["StorageFileList"] == [
        {
            "UserId": "",
            "FileName": f"{APP}_9001.m3u8",
            "TrackType": "audio_video",
            "BeginTimeStamp": out["StorageFileList"][0]["BeginTimeStamp"],
        }
    ]
    assert tencent("DeleteCloudRecording", {"SdkAppId": APP, "TaskId": task})["TaskId"] == task
    assert tencent("DescribeCloudRecording", {"SdkAppId": APP, "TaskId": task})["Status"] == "Exited"
    assert (
        tencent("DeleteCloudRecording", {"SdkAppId": APP, "TaskId": task})["TaskId"] == task
    )  # still exiting
    wait(lambda: code_of(tencent("DescribeCloudRecording", {"SdkAppId": APP, "TaskId": task})))
    assert code_of(tencent("DescribeCloudRecording", {"SdkAppId": APP, "TaskId": task})) == "ResourceNotFound"
    assert code_of(tencent("DeleteCloudRecording", {"SdkAppId": APP, "TaskId": task})) == "ResourceNotFound"
    assert code_of(tencent("DeleteCloudRecording", {"SdkAppId": APP, "TaskId": "nope"})) == (
        "ResourceNotFound"
    )
    # another app of the same account does not see the task
    task2 = _create(tencent, room="9002")["TaskId"]
    assert code_of(tencent("DescribeCloudRecording", {"SdkAppId": 1400000002, "TaskId": task2})) == (
        "ResourceNotFound"
    )


def test_single_stream_file_names_and_vod(sb, tencent):
    sb.backend.trtc.add_users(APP, "room/a", ["alice", "bob"], sb.backend.now())
    params = {
        "SdkAppId": APP,
        "RoomId": "room/a",
        "RoomIdType": 0,
        "UserId": "rec",
        "UserSig": "sig",
        "RecordParams": {"RecordMode": 1, "StreamType": 0, "AvMerge": 0},
        "StorageParams": COS,
    }
    task = tencent("CreateCloudRecording", params)["TaskId"]
    files = tencent("DescribeCloudRecording", {"SdkAppId": APP, "TaskId": task})["StorageFileList"]
    room_part = trtc_b64("room/a")
    expected = {
        f"{APP}_{room_part}__UserId_s_{trtc_b64(u)}__UserId_e_main_{t}.m3u8"
        for u in ("alice", "bob")
        for t in ("audio", "video")
    }
    assert {f["FileName"] for f in files} == expected
    assert {f["UserId"] for f in files} == {"alice", "bob"}
    vod = {**params, "UserId": "rec2", "StorageParams": {"CloudVod": {"TencentVod": {"MediaType": 0}}}}
    task_vod = tencent("CreateCloudRecording", vod)["TaskId"]
    assert tencent("DescribeCloudRecording", {"SdkAppId": APP, "TaskId": task_vod})["StorageFileList"] == []


def test_create_recording_validation(tencent):
    base = {
        "SdkAppId": APP,
        "RoomId": "1",
        "UserId": "r",
        "UserSig": "s",
        "RecordParams": {"RecordMode": 1},
        "StorageParams": COS,
    }
    for name in ("RoomId", "UserId", "UserSig", "RecordParams", "StorageParams", "SdkAppId"):
        params = {k: v for k, v in base.items() if k != name}
        assert code_of(tencent("CreateCloudRecording", params)) == f"MissingParameter.{name}"
    assert (
        code_of(tencent("CreateCloudRecording", {**base, "RecordParams": {}}))
        == "MissingParameter.RecordMode"
    )
    assert (
        code_of(tencent("CreateCloudRecording", {**base, "StorageParams": {}}))
        == "MissingParameter.CloudStorage"
    )
    no_bucket = {"CloudStorage": {k: v for k, v in COS["CloudStorage"].items() if k != "Bucket"}}
    assert (
        code_of(tencent("CreateCloudRecording", {**base, "StorageParams": no_bucket}))
        == "MissingParameter.Bucket"
    )
    for record in (
        {"RecordMode": 3},
        {"RecordMode": 1, "MaxIdleTime": 4},
        {"RecordMode": 1, "OutputFormat": 5},
    ):
        assert code_of(tencent("CreateCloudRecording", {**base, "RecordParams": record})) == (
            "InvalidParameter.OutOfRange"
        )
    assert (
        code_of(tencent("CreateCloudRecording", {**base, "RoomId": "abc"})) == "InvalidParameter.OutOfRange"
    )
    assert code_of(tencent("CreateCloudRecording", {**base, "ResourceExpiredHour": 5})) == (
        "InvalidParameter.OutOfRange"
    )
    assert (
        code_of(tencent("CreateCloudRecording", {**base, "SdkAppId": 1499999999}))
        == "InvalidParameter.SdkAppId"
    )


def test_robot_reuse_and_robot_kick_stop_tasks(sb, tencent):
    sb.backend.trtc.add_users(APP, 5005, ["anchor"], sb.backend.now())
    first = _create(tencent, room="5005")["TaskId"]
    second = _create(tencent, room="5005")["TaskId"]
    assert tencent("DescribeCloudRecording", {"SdkAppId": APP, "TaskId": first})["Status"] == "Exited"
    assert tencent("DescribeCloudRecording", {"SdkAppId": APP, "TaskId": second})["Status"] == "InProgress"
    tencent("RemoveUser", {"SdkAppId": APP, "RoomId": 5005, "UserIds": ["recorder_5005"]})
    assert tencent("DescribeCloudRecording", {"SdkAppId": APP, "TaskId": second})["Status"] == "Exited"
    leave = {r["task_id"]: r["leave_code"] for r in sb.state()["trtc"]["recordings"]}
    assert leave == {first: 101, second: 1}


def test_dismiss_room_stops_its_recordings(sb, tencent):
    ids = sb.seed({"trtc": {"rooms": 2, "users_per_room": 2, "recordings": 2}})
    rec = ids["trtc"]["recordings"][0]
    tencent("DismissRoom", {"SdkAppId": APP, "RoomId": rec["room_id"]})
    assert (
        tencent("DescribeCloudRecording", {"SdkAppId": APP, "TaskId": rec["task_id"]})["Status"] == "Exited"
    )
    other = ids["trtc"]["recordings"][1]["task_id"]
    assert tencent("DescribeCloudRecording", {"SdkAppId": APP, "TaskId": other})["Status"] == "InProgress"


def test_concurrency_cap():
    backend = TrtcBackend([APP], IdFactory(1), max_recordings=2)
    for room in ("1", "2"):
        backend.create_recording(APP, room, 1, "r", 0.0, record_mode=2, storage="cos")
    with pytest.raises(SandboxError) as err:
        backend.create_recording(APP, "3", 1, "r", 0.0, record_mode=2, storage="cos")
    assert err.value.code == "FailedOperation.RestrictedConcurrency"


def test_idle_status_then_in_progress_and_idle_timeout():
    backend = TrtcBackend([APP], IdFactory(1), start_seconds=2.0, exit_seconds=1.0, upload_delay=3.0)
    backend.add_users(APP, 77, ["anchor"], 100.0)
    task = backend.create_recording(APP, "77", 1, "rec", 100.0, record_mode=2, storage="cos", max_idle_time=5)
    assert backend.describe_recording(APP, task, 101.0)["Status"] == "Idle"
    assert backend.describe_recording(APP, task, 102.5)["Status"] == "InProgress"
    assert [e.event_type for e in backend.advance(102.5)] == [301]
    backend.remove_users(APP, 77, ["anchor"], 110.0)
    assert backend.describe_recording(APP, task, 114.9)["Status"] == "InProgress"
    assert backend.describe_recording(APP, task, 115.5)["Status"] == "Exited"  # MaxIdleTime 5 s passed
    events = backend.advance(115.5)
    assert [(e.event_type, e.payload) for e in events] == [(302, {"LeaveCode": 99})]
    with pytest.raises(SandboxError):
        backend.describe_recording(APP, task, 116.5)
    assert backend.storage(task)["upload"] == "pending"
    assert [e.event_type for e in backend.advance(118.5)] == [305]
    assert backend.storage(task)["upload"] == "done"


def test_resource_expired_hour_limits_queries():
    backend = TrtcBackend([APP], IdFactory(1))
    backend.add_users(APP, 1, ["a"], 0.0)
    task = backend.create_recording(
        APP, "1", 1, "rec", 0.0, record_mode=2, storage="cos", resource_expired_hour=6
    )
    assert backend.describe_recording(APP, task, 6 * 3600 - 1)["Status"] == "InProgress"
    with pytest.raises(SandboxError) as err:
        backend.delete_recording(APP, task, 6 * 3600 + 1)
    assert err.value.code == "ResourceNotFound"


def test_stop_publish_cdn_stream(sb, tencent):
    ids = sb.seed({"trtc": {"rooms": 1, "cdn_tasks": 2}})
    first, second = ids["trtc"]["cdn_tasks"]
    assert tencent("StopPublishCdnStream", {"SdkAppId": APP, "TaskId": first})["TaskId"] == first
    # stopped or never started: ResourceNotFound, the code the API's error list gives
    again = tencent("StopPublishCdnStream", {"SdkAppId": APP, "TaskId": first})
    assert code_of(again) == "ResourceNotFound"
    assert code_of(tencent("StopPublishCdnStream", {"SdkAppId": APP, "TaskId": "nope"})) == "ResourceNotFound"
    assert code_of(tencent("StopPublishCdnStream", {"SdkAppId": APP})) == "MissingParameter.TaskId"
    live = [t["task_id"] for t in sb.state()["trtc"]["relays"]]
    assert live == [second]
    # the documented regions only
    outside = tencent("StopPublishCdnStream", {"SdkAppId": APP, "TaskId": second}, region="ap-beijing")
    assert code_of(outside) == "UnsupportedRegion"


def test_stop_stream_ingest_exists_only_in_its_regions(sb, tencent):
    ids = sb.seed({"trtc": {"rooms": 1, "ingest_tasks": 1, "cdn_tasks": 1}})
    (task,), (cdn,) = ids["trtc"]["ingest_tasks"], ids["trtc"]["cdn_tasks"]
    params = {"SdkAppId": APP, "TaskId": task}
    for region in ("ap-beijing", "ap-shanghai"):
        assert code_of(tencent("StopStreamIngest", params, region=region)) == "UnsupportedRegion"
    # StartStreamIngest's page (647/57835, 2025-11-13) adds ap-guangzhou and ap-tokyo: Stop follows it
    unknown = {**params, "TaskId": "no-such-task"}
    for region in ("ap-guangzhou", "ap-tokyo"):
        assert code_of(tencent("StopStreamIngest", unknown, region=region)) == "FailedOperation.TaskFinished"
    stopped = tencent("StopStreamIngest", params, region="ap-singapore")
    assert code_of(stopped) is None and set(stopped) == {"RequestId"}
    assert code_of(tencent("StopStreamIngest", params, region="ap-mumbai")) == "FailedOperation.TaskFinished"
    # an ingest task id is not a relay task id, and the reverse
    cdn_params = {"SdkAppId": APP, "TaskId": cdn}
    assert (
        code_of(tencent("StopStreamIngest", cdn_params, region="ap-jakarta"))
        == "FailedOperation.TaskFinished"
    )
    bad_app = tencent("StopStreamIngest", {**params, "SdkAppId": 1}, region="ap-bangkok")
    assert code_of(bad_app) == "InvalidParameter.SdkAppId"
