"""ZEGO rooms, streams and mix tasks; time-driven mix rules directly on the backend."""

from __future__ import annotations

import pytest
from rtc_sandbox.backends.zego import ZegoBackend
from rtc_sandbox.errors import SandboxError
from rtc_sandbox.ids import IdFactory


@pytest.fixture
def event(sb):
    return sb.seed({"zego": {"rooms": 2, "users_per_room": 3, "streams_per_room": 2}})["zego"]


def test_delete_stream(zego, event):
    s = event["streams"][0]
    params = {"RoomId": s["room_id"], "UserId": "Server-Administrator", "StreamId": s["stream_id"]}
    assert zego("DeleteStream", params)["Code"] == 0
    assert zego("DeleteStream", params)["Code"] == 138
    assert zego("DeleteStream", {**params, "RoomId": "nope"})["Code"] == 104
    assert zego("DeleteStream", {"RoomId": s["room_id"], "UserId": "x"})["Code"] == 2
    streams = zego("DescribeSimpleStreamList", {"RoomId": s["room_id"]})["Data"]["StreamList"]
    assert [x["StreamId"] for x in streams] == [event["streams"][1]["stream_id"]]


def test_kickout_destroys_room_with_last_user(sb, zego, event):
    room = event["rooms"][0]
    users = event["users"][room]
    assert zego("KickoutUser", {"RoomId": room, "UserId": [f"u{i}" for i in range(6)]})["Code"] == 2
    assert zego("KickoutUser", {"RoomId": room, "UserId": users[:1]})["Code"] == 0
    # the kicked user's stream ended with them
    streams = zego("DescribeSimpleStreamList", {"RoomId": room})["Data"]["StreamList"]
    assert [s["UserId"] for s in streams] == [users[1]]
    assert zego("KickoutUser", {"RoomId": room, "UserId": [*users[1:], "ghost"]})["Code"] == 0
    assert room not in [r["room_id"] for r in sb.state()["zego"]["rooms"]]
    assert zego("KickoutUser", {"RoomId": room, "UserId": users[:1]})["Code"] == 104
    assert zego("CloseRoom", {"RoomId": room})["Code"] == 5018  # destroyed with its last user
    assert zego("DescribeUserNum", {"RoomId": [room]})["Data"]["UserCountList"][0]["UserCount"] == 0


def test_close_room(sb, zego, event):
    room = event["rooms"][1]
    assert zego("CloseRoom", {"RoomId": room, "CustomReason": "event over"})["Code"] == 0
    # closed once: 5018 "room already destroyed or does not exist"; never existed: 5024
    assert zego("CloseRoom", {"RoomId": room})["Code"] == 5018
    assert zego("CloseRoom", {"RoomId": "never-existed"})["Code"] == 5024
    assert zego("DescribeSimpleStreamList", {"RoomId": room})["Data"]["StreamList"] == []
    assert zego("CloseRoom", {"RoomId": event["rooms"][0], "CustomReason": "x" * 257})["Code"] == 3
    assert sb.state()["zego"]["counts"]["rooms"] == 1


def test_describe_users_and_user_num(zego, event):
    room = event["rooms"][0]
    users = event["users"][room]
    out = zego("DescribeUsers", {"RoomId": room, "UserId": [users[0], "ghost"]})["Data"]["UserStatusList"]
    assert [(u["UserId"], u["Status"]) for u in out] == [(users[0], 1), ("ghost", 0)]
    assert out[0]["LoginTime"] > 0
    assert zego("DescribeUsers", {"RoomId": room, "UserId": [f"u{i}" for i in range(11)]})["Code"] == 2
    rooms = [f"r{i}" for i in range(11)]
    assert zego("DescribeUserNum", {"RoomId": rooms})["Code"] == 2


def test_mix_lifecycle(zego, event):
    inputs = [{"StreamId": s["stream_id"]} for s in event["streams"][:2]]
    body = {"TaskId": "m1", "UserId": "owner", "MixInput": inputs, "MixOutput": [{"StreamId": "mix_out"}]}
    started = zego("StartMix", body)
    assert started["Code"] == 0
    assert started["Data"]["UserId"] == "owner" and started["Data"]["PlayInfo"][0]["StreamId"] == "mix_out"
    assert (
        zego("StartMix", {**body, "MixInput": inputs[:1], "Sequence": 2})["Code"] == 0
    )  # same TaskId updates
    assert zego("StartMix", {**body, "UserId": "intruder"})["Code"] == 110200160
    info = zego("GetMixTaskInfo", {"TaskId": "m1"})["Data"]["TaskInfo"]
    assert info["TaskId"] == "m1" and info["MixDuration"] >= 0
    assert zego("StopMix", {"TaskId": "m1", "UserId": "intruder"})["Code"] == 110200160
    assert zego("StopMix", {"TaskId": "m1"})["Code"] == 110200160  # ownership on: UserId required
    assert zego("StopMix", {"TaskId": "m1", "UserId": "owner"})["Code"] == 0
    assert zego("StopMix", {"TaskId": "m1", "UserId": "owner"})["Code"] == 110209001
    assert zego("GetMixTaskInfo", {"TaskId": "m1"})["Code"] == 110209001


def test_mix_input_rules(zego, event):
    sid = event["streams"][0]["stream_id"]
    base = {"TaskId": "m", "UserId": "u", "MixInput": [{"StreamId": sid}], "MixOutput": [{"StreamId": "o"}]}
    for missing in ("TaskId", "UserId", "MixInput", "MixOutput"):
        assert zego("StartMix", {k: v for k, v in base.items() if k != missing})["Code"] == 110200002, missing
    assert zego("StartMix", {**base, "MixInput": [{"StreamId": "not_published"}]})["Code"] == 110200150
    assert zego("StartMix", {**base, "MixOutput": [{"StreamId": sid}]})["Code"] == 110200140
    ten = [{"StreamUrl": f"rtmp://x/{i}"} for i in range(10)]
    assert zego("StartMix", {**base, "MixInput": ten})["Code"] == 110200158
    assert zego("StartMix", {**base, "MixInput": [{"StreamUrl": "rtmp://elsewhere/live/a"}]})["Code"] == 0


def test_mix_ends_90s_after_all_inputs_are_gone():
    backend = ZegoBackend(IdFactory(1), mix_auto_stop_seconds=90)
    backend.publish(1, "r", "alice", "s1", 0.0)
    backend.start_mix(1, "m", "owner", [{"StreamId": "s1"}], [{"StreamId": "o"}], 1.0)
    backend.delete_stream(1, "r", "admin", "s1", 10.0)
    assert backend.mix_info(1, "m", 99.0)["TaskInfo"]["MixDuration"] == 98
    with pytest.raises(SandboxError) as err:
        backend.mix_info(1, "m", 100.5)
    assert err.value.code == 110209001


def test_seeded_mixes_are_owned_by_their_mixer(sb, zego):
    mixes = sb.seed({"zego": {"rooms": 1, "users_per_room": 2, "streams_per_room": 2, "mixes": 2}})["zego"][
        "mixes"
    ]
    assert [m["task_id"] for m in mixes] == ["mix_task_1", "mix_task_2"]
    for mix in mixes:
        assert zego("StopMix", {"TaskId": mix["task_id"], "UserId": mix["user_id"]})["Code"] == 0
