"""The ``/_sandbox/`` control API: seed, state, stats, reset and settings."""

from __future__ import annotations

import requests
from rtc_sandbox import Sandbox
from rtc_sandbox.seed import STANDARD_EVENT

from tests.support.credentials import ZEGO_SECRET

from .conftest import code_of


def _admin(sb, method, path, **kw):
    resp = requests.request(method, sb.url + "/_sandbox" + path, timeout=5, **kw)
    return resp


def test_seed_returns_every_id(sb):
    spec = {
        "trtc": {
            "rooms": 2,
            "users_per_room": 2,
            "str_rooms": 1,
            "recordings": 2,
            "recording_storage": "vod",
        },
        "live": {"mix_sessions": 2, "streams": 2},
        "zego": {"rooms": 2, "users_per_room": 3, "streams_per_room": 2, "mixes": 1, "recordings": 1},
    }
    ids = _admin(sb, "POST", "/seed", json=spec).json()
    trtc, live, zego = ids["trtc"], ids["live"], ids["zego"]
    assert trtc["sdk_app_id"] == 1400000001
    assert trtc["rooms"] == [1001, 1002] and trtc["str_rooms"] == ["str_room_1"]
    assert trtc["users"] == {
        "1001": ["user_1001_1", "user_1001_2"],
        "1002": ["user_1002_1", "user_1002_2"],
        "str_room_1": ["user_str_room_1_1", "user_str_room_1_2"],
    }
    assert [r["room_id"] for r in trtc["recordings"]] == [1001, 1002]
    assert live["mix_sessions"] == ["sandbox_mix_1", "sandbox_mix_2"]
    assert set(live["streams"][0]) == {"stream_name", "domain_name", "app_name"}
    assert zego["rooms"] == ["room_1", "room_2"] and len(zego["streams"]) == 4
    assert set(zego["streams"][0]) == {"room_id", "user_id", "stream_id"}
    assert zego["users"]["room_1"] == ["user_1_1", "user_1_2", "user_1_3"]
    assert zego["mixes"] == [{"task_id": "mix_task_1", "user_id": "mixer_1"}]
    assert zego["recordings"][0]["room_id"] == "room_1" and len(zego["recordings"][0]["task_id"]) == 16
    # seeding again continues the numbering
    again = _admin(sb, "POST", "/seed", json={"trtc": {"rooms": 1}}).json()
    assert again["trtc"]["rooms"] == [1003]


def test_standard_event_and_state(sb):
    ids = _admin(sb, "POST", "/seed").json()  # empty body = the standard event
    assert len(ids["trtc"]["rooms"]) == 12 and len(ids["trtc"]["recordings"]) == 4
    state = _admin(sb, "GET", "/state").json()
    assert state["trtc"]["counts"] == {
        "rooms": 12,
        "str_rooms": 0,
        "users": 36,
        "recordings": 4,
        "uploads_pending": 0,
    }
    assert state["live"]["counts"] == {"mix_sessions": 3, "streams": 3}
    assert state["zego"]["counts"] == {"rooms": 6, "users": 18, "streams": 12, "mixes": 2, "recordings": 2}
    assert {r["storage"] for r in state["trtc"]["recordings"]} == {"cos"}


def test_state_shows_pending_uploads(sb, tencent, wait):
    ids = sb.seed({"trtc": {"rooms": 1, "users_per_room": 1, "recordings": 1}})
    task = ids["trtc"]["recordings"][0]["task_id"]
    tencent("DeleteCloudRecording", {"SdkAppId": 1400000001, "TaskId": task})
    pending = _admin(sb, "GET", "/state").json()["trtc"]["uploads_pending"]
    assert [p["task_id"] for p in pending] == [task]
    wait(lambda: not _admin(sb, "GET", "/state").json()["trtc"]["uploads_pending"])


def test_seeded_repeatability_after_reset(sb):
    first = _admin(sb, "POST", "/reset", json={"seed_event": True}).json()["seeded"]
    second = _admin(sb, "POST", "/reset", json={"seed_event": True}).json()["seeded"]
    assert first == second
    other = Sandbox({"random_seed": 42, "seed_event": True}).state()
    assert [r["task_id"] for r in other["trtc"]["recordings"]] == [
        r["task_id"] for r in first["trtc"]["recordings"]
    ]
    different = Sandbox({"random_seed": 43, "seed_event": True}).state()
    assert different["trtc"]["recordings"][0]["task_id"] != first["trtc"]["recordings"][0]["task_id"]


def test_reset_clears_everything(sb, tencent):
    sb.seed(STANDARD_EVENT)
    tencent("DismissRoom", {"SdkAppId": 1400000001, "RoomId": 1})
    _admin(sb, "PUT", "/faults", json={"rules": [{"kind": "internal"}]})
    _admin(sb, "PUT", "/limits", json={"enabled": True})
    _admin(sb, "PUT", "/clock", json={"offset_seconds": 1000})
    assert _admin(sb, "POST", "/reset").json() == {"reset": True, "seeded": None}
    state = _admin(sb, "GET", "/state").json()
    assert (
        state["trtc"]["rooms"] == [] and state["zego"]["rooms"] == [] and state["live"]["mix_sessions"] == []
    )
    assert _admin(sb, "GET", "/stats").json()["totals"]["calls"] == 0
    assert _admin(sb, "GET", "/faults").json()["rules"] == []
    assert _admin(sb, "GET", "/limits").json()["enabled"] is False  # the session config's setting
    assert abs(_admin(sb, "GET", "/clock").json()["offset_seconds"]) < 1e-6


def test_stats_shape(sb, tencent, zego):
    tencent("DismissRoom", {"SdkAppId": 1400000001, "RoomId": 1})
    tencent("DescribeLiveStreamState", {"AppName": "a", "DomainName": "d", "StreamName": "s"})
    zego("CloseRoom", {"RoomId": "r"})
    stats = _admin(sb, "GET", "/stats").json()
    assert stats["actions"]["DismissRoom"] == {
        "calls": 1,
        "ok": 0,
        "errors": {"FailedOperation.RoomNotExist": 1},
        "throttled": 0,
        "faults": {},
        "dropped": 0,
    }
    assert stats["actions"]["CloseRoom"]["errors"] == {"5024": 1}
    assert stats["totals"] == {"calls": 3, "ok": 1, "errors": 2, "throttled": 0, "faults": {}, "dropped": 0}


def test_clock_timing_connections(sb):
    now = _admin(sb, "PUT", "/clock", json={"now": 1615186943}).json()["now"]
    assert abs(now - 1615186943) < 2
    assert _admin(sb, "PUT", "/clock", json={}).status_code == 400
    timing = _admin(sb, "PUT", "/timing", json={"upload_delay": 0.5}).json()
    assert timing["upload_delay"] == 0.5 and sb.backend.trtc.upload_delay == 0.5
    assert _admin(sb, "PUT", "/timing", json={"warp": 9}).status_code == 400
    conns = _admin(sb, "GET", "/connections").json()
    assert conns["url"] == sb.url and conns["connections"] == sb.connections


def test_population_helpers(sb, zego, tencent):
    out = _admin(sb, "POST", "/trtc/users", json={"room_id": 77, "users": ["a", "b"]}).json()
    assert out["users"] == ["a", "b"]
    assert code_of(tencent("RemoveUser", {"SdkAppId": 1400000001, "RoomId": 77, "UserIds": ["a"]})) is None
    _admin(
        sb,
        "POST",
        "/zego/users",
        json={"room_id": "z", "users": ["u1"], "streams": [{"user_id": "u2", "stream_id": "s"}]},
    )
    assert zego("DescribeUserNum", {"RoomId": ["z"]})["Data"]["UserCountList"][0]["UserCount"] == 2
    _admin(sb, "POST", "/live/streams", json={"domain_name": "d", "stream_name": "s"})
    assert (
        tencent("DescribeLiveStreamState", {"AppName": "live", "DomainName": "d", "StreamName": "s"})[
            "StreamState"
        ]
        == "active"
    )


def test_bad_admin_documents(sb):
    assert _admin(sb, "POST", "/seed", data=b"[1]").status_code == 400
    assert _admin(sb, "POST", "/seed", json={"trtc": {"roomz": 1}}).status_code == 400
    assert _admin(sb, "PUT", "/limits", json={"qps": {"DismissRoom": 0}}).status_code == 400
    assert _admin(sb, "PUT", "/callbacks", json={"colour": "red"}).status_code == 400
    assert _admin(sb, "GET", "/nothing-here").status_code == 404


def test_connections_are_airflow_connection_json(sb):
    conns = sb.connections
    assert conns["tencentcloud_default"] == {
        "conn_type": "tencentcloud",
        "login": "AKIDSANDBOXEXAMPLE00000000000000000",
        "password": "sandboxSecretKeyExample0000000000",
        "extra": {"endpoint": sb.url, "region": "ap-guangzhou", "sdk_app_id": 1400000001},
    }
    assert conns["zegocloud_default"] == {
        "conn_type": "zegocloud",
        "login": "1234567890",
        "password": ZEGO_SECRET,
        "extra": {"endpoint": sb.url},
    }
