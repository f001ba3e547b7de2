"""ZEGO's own API examples (data/zego/, copied from docs_all) served by a fake ZEGO on 127.0.0.1:
the hooks, the recording-status parser and discovery must read the values ZEGO documents."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug import Request, Response

from airflow_provider_rtc.discovery.reconcile import reconcile_zego
from airflow_provider_rtc.discovery.selector import Selector
from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook, ZegoRtcHook
from airflow_provider_rtc.recordings.manifest import UploadPolicy
from airflow_provider_rtc.recordings.zego import evaluate_record_status

from .conftest import zego_example

STEMS = {
    "CloseRoom": "close_room",
    "KickoutUser": "kickout_user",
    "DeleteStream": "delete_stream",
    "DescribeUserNum": "describe_user_num",
    "DescribeUserList": "describe_user_list",
    "DescribeUsers": "describe_users",
    "DescribeSimpleStreamList": "describe_simple_stream_list",
    "DescribeRoomList": "describe_room_list",
    "StartMix": "start_mix",
    "StopMix": "stop_mix",
    "GetMixTaskInfo": "get_mix_task_info",
    "StartRecord": "start_record",
    "StopRecord": "stop_record",
    "DescribeRecordStatus": "describe_record_status",
    "DescribeTasks": "describe_tasks",
}


SENT: list[dict[str, Any]] = []


def fake_zego(httpserver: Any, overrides: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """Answer every action with ZEGO's example (or an override); returns the actions called. The JSON
    bodies the hooks sent are in :data:`SENT`."""
    called: list[str] = []
    SENT.clear()

    def answer(request: Request) -> Response:
        action = request.args["Action"]
        called.append(action)
        if request.method == "POST":
            SENT.append(json.loads(request.data or b"{}"))
        body = (overrides or {}).get(action) or zego_example(STEMS[action])["response"]
        if action == "DescribeUserList" and request.args.get("Marker"):  # the example is page one
            body = {**body, "Data": {"Marker": "", "UserList": []}}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/").respond_with_handler(answer)
    return called


def _request_id(example: str) -> str:
    return str(zego_example(example)["response"]["RequestId"])


CALLS = {
    "CloseRoom": lambda: ZegoRtcHook().close_room("room1"),
    "KickoutUser": lambda: ZegoRtcHook().kickout_user("room1", ["user1"]),
    "DeleteStream": lambda: ZegoRtcHook().delete_stream("room1", "user1", "stream1"),
    "StopMix": lambda: ZegoRtcHook().stop_mix("2213699902971205739", "456", 1),
    "StopRecord": lambda: ZegoCloudRecordHook().stop_record("XXXXXXXXXXX"),
}


@pytest.mark.parametrize("action", sorted(CALLS))
def test_ending_calls_read_zegos_success_answer(httpserver: Any, zego_conn: str, action: str) -> None:
    called = fake_zego(httpserver)
    answer = CALLS[action]()
    assert called == [action]
    if action in ("StopMix", "StopRecord"):
        _sent_matches(zego_example(STEMS[action])["body"])
    assert answer["Code"] == 0
    assert str(answer["RequestId"]) == _request_id(STEMS[action])


def _sent_matches(example_body: dict[str, Any]) -> None:
    """The hook, given the example's values, sends the example's body (members it leaves out are null)."""
    (sent,) = SENT
    assert {k: v for k, v in sent.items() if v is not None} == example_body


def test_start_mix_and_start_record_answers(httpserver: Any, zego_conn: str) -> None:
    fake_zego(httpserver)
    body = zego_example("start_mix")["body"]
    mix = ZegoRtcHook().start_mix(body["TaskId"], body["UserId"], body["MixInput"], body["MixOutput"])
    _sent_matches(body)
    (play,) = mix["Data"]["PlayInfo"]
    assert (play["StreamId"], play["RTMP"]) == ("test", "rtmp://domain/appname/test")
    fake_zego(httpserver)
    record = ZegoCloudRecordHook().start_record("room1", {"RecordMode": 1, "StreamType": 3})
    assert record["Data"]["TaskId"] == "XXXXXXXXXXXX"


def test_get_mix_task_info_answer(httpserver: Any, zego_conn: str) -> None:
    fake_zego(httpserver)
    info = ZegoRtcHook().get_mix_task_info("task_test_123")["Data"]["TaskInfo"]
    assert (info["TaskId"], info["MixDuration"]) == ("task_test_123", 13)


def test_describe_record_status_example_becomes_a_manifest(httpserver: Any, zego_conn: str) -> None:
    fake_zego(httpserver)
    envelope = ZegoCloudRecordHook().describe_record_status("X3CgNeE4I1qAAABN")
    _sent_matches(zego_example("describe_record_status")["body"])
    verdict = evaluate_record_status(envelope, app_id=1, task_id="X3CgNeE4I1qAAABN", policy=UploadPolicy())
    assert verdict.done, verdict.message
    assert verdict.manifest is not None
    (entry,) = verdict.manifest["files"]
    assert entry["url"] == ("https://xxxx.com/record/X3CgNeE4I1qAAABN_xxxx_my_out_VA_20200927154419775.mp4")
    assert (entry["size"], entry["duration_ms"], entry["format"]) == (432643544, 33874, "mp4")
    assert (entry["user_id"], entry["stream_id"], entry["file_id"]) == (
        "my_out",
        "my_out",
        "820e50e52e0a490caf44eec8aec527a7",
    )
    assert entry["begin_ms"] == 1601221459830
    assert entry["status"] == "uploaded"


# -- discovery on ZEGO's examples ----------------------------------------------------------------

KNOWN = [
    {"kind": "rooms", "ids": {"room_id": "room1"}, "live": True},
    {"kind": "rooms", "ids": {"room_id": "room2"}, "live": True},
    {"kind": "mixes", "ids": {"task_id": "task_test_123"}, "live": True},
    {"kind": "recordings", "ids": {"room_id": "1000", "task_id": "YRHu6-E4IyvEAAAD"}, "live": True},
]


def _discover(httpserver: Any, *, room_list: bool) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    not_enabled = zego_example("describe_room_list")["not_enabled"]
    called = fake_zego(httpserver, None if room_list else {"DescribeRoomList": not_enabled})
    notes: list[str] = []
    fixes = reconcile_zego(
        ZegoRtcHook(), ZegoCloudRecordHook(), KNOWN, Selector.parse({}, allow_all=True), notes
    )
    return fixes, notes, called


def _fix(fixes: list[dict[str, Any]], kind: str, ids: dict[str, Any]) -> dict[str, Any]:
    found = [f for f in fixes if f["kind"] == kind and f["ids"] == ids]
    assert len(found) == 1, [f for f in fixes if f["kind"] == kind]
    return found[0]


def test_discovery_without_room_list_counts_users_with_describe_user_num(
    httpserver: Any, zego_conn: str
) -> None:
    fixes, notes, called = _discover(httpserver, room_list=False)
    assert "DescribeUserNum" in called
    assert any("DescribeRoomList is not enabled" in n for n in notes)
    for room in ("room1", "room2"):
        assert _fix(fixes, "rooms", {"room_id": room})["live"] is True
        for user in ("user1", "user2"):
            assert _fix(fixes, "users", {"room_id": room, "user_id": user})["live"] is True
    assert _fix(fixes, "mixes", {"task_id": "task_test_123"})["live"] is True


def test_discovery_with_room_list_reads_its_rooms(httpserver: Any, zego_conn: str) -> None:
    fixes, notes, called = _discover(httpserver, room_list=True)
    assert "DescribeUserNum" not in called and not notes
    assert {f["ids"]["room_id"] for f in fixes if f["kind"] == "rooms" and f["live"]} == {"room1", "room2"}


def test_discovery_reads_the_stream_list(httpserver: Any, zego_conn: str) -> None:
    fixes, _, _ = _discover(httpserver, room_list=True)
    stream = _fix(fixes, "streams", {"room_id": "room1", "user_id": "user_demo", "stream_id": "stream_demo"})
    assert stream["live"] is True


def test_discovery_dates_a_stream_by_its_create_time_in_ms(httpserver: Any, zego_conn: str) -> None:
    fixes, _, _ = _discover(httpserver, room_list=True)
    stream = _fix(fixes, "streams", {"room_id": "room1", "user_id": "user_demo", "stream_id": "stream_demo"})
    assert stream["started_ms"] == 1642045110123


def test_discovery_finds_the_recordings_describe_tasks_lists(httpserver: Any, zego_conn: str) -> None:
    fixes, _, _ = _discover(httpserver, room_list=True)
    for task, begin in (
        ("YRHu6-E4IyvEAAAD", 1628565227899),
        ("YRHu6uE4IyvEAAAC", 1628565226303),
        ("YRHu5uE4IyvEAAAB", 1628565222498),
    ):
        rec = _fix(fixes, "recordings", {"room_id": "1000", "task_id": task})
        assert (rec["live"], rec.get("started_ms")) == (True, begin)


def test_describe_tasks_request_is_zegos_example(httpserver: Any, zego_conn: str) -> None:
    fake_zego(httpserver)
    body = zego_example("describe_tasks")["body"]
    ZegoCloudRecordHook().describe_tasks(
        body["Status"],
        body["StartTime"],
        body["EndTime"],
        room_id=body["RoomId"],
        page_offset=body["PageOffset"],
        page_size=body["PageSize"],
    )
    _sent_matches(body)


# -- role 4: "administrator" users (cloud recording, stream review), per describe-user-list.yaml ----
def test_a_room_holding_only_a_recording_robot_is_live_but_nobody_is_in_it(
    httpserver: Any, zego_conn: str
) -> None:
    """describe-user-num.yaml: "UserCount includes AdminUserCount" (role 4: cloud recording, review).
    A room only a robot holds open still exists on ZEGO (and CloseRoom ends it): reconciliation must
    not report it gone, or an event's end would verify "nothing live" while it runs. It is idle: the
    robot is no user (discovery's user list leaves role 4 out, below)."""
    example = zego_example("describe_user_num")["response"]
    robot_only = {
        **example,
        "Data": {"UserCountList": [{"RoomId": "room1", "UserCount": 1, "AdminUserCount": 1}]},
    }
    not_enabled = zego_example("describe_room_list")["not_enabled"]
    fake_zego(httpserver, {"DescribeRoomList": not_enabled, "DescribeUserNum": robot_only})
    fixes = reconcile_zego(
        ZegoRtcHook(), ZegoCloudRecordHook(), KNOWN[:1], Selector.parse({}, allow_all=True), []
    )
    assert _fix(fixes, "rooms", {"room_id": "room1"})["live"] is True  # never corrected to "gone"


def test_discovery_does_not_report_role_4_users_as_people(httpserver: Any, zego_conn: str) -> None:
    """ZEGO's DescribeUserList example plus a role-4 user (the documented value for recording robots):
    client SDKs filter such users out, and so should discovery's user list."""
    example = zego_example("describe_user_list")["response"]
    users = [*example["Data"]["UserList"], {"UserId": "recorder", "UserName": "recorder", "UserRole": 4}]
    with_robot = {**example, "Data": {**example["Data"], "UserList": users}}
    fake_zego(httpserver, {"DescribeUserList": with_robot})
    fixes = reconcile_zego(
        ZegoRtcHook(), ZegoCloudRecordHook(), KNOWN[:1], Selector.parse({}, allow_all=True), []
    )
    people = {f["ids"]["user_id"] for f in fixes if f["kind"] == "users" and f["live"]}
    assert people == {"user1", "user2"}
