"""Lifecycle callbacks (TRTC room/media, ZEGO room/stream/login/mix/recording, Live push), signed as
each cloud signs them, with seeded "lost"/"late" faults; and the list APIs discovery relies on."""

from __future__ import annotations

import json
import time

import pytest
import requests

from airflow_provider_rtc.signing.callbacks import (
    verify_live_callback,
    verify_trtc_callback,
    verify_zego_callback,
)

from .conftest import code_of

TRTC_KEY = "roomKey123"
ZEGO_SECRET = "zegoSecret123"
LIVE_KEY = "liveKey123"
APP = 1400000001


@pytest.fixture
def sink(sb, httpserver):
    for path in ("/trtc", "/zego", "/live"):
        httpserver.expect_request(path, method="POST").respond_with_data('{"code":0}')
    settings = {
        "room_url": httpserver.url_for("/trtc"),
        "key": TRTC_KEY,
        "zego_url": httpserver.url_for("/zego"),
        "zego_secret": ZEGO_SECRET,
        "live_url": httpserver.url_for("/live"),
        "live_key": LIVE_KEY,
    }
    requests.put(sb.url + "/_sandbox/callbacks", json=settings, timeout=5).raise_for_status()
    return httpserver


def _received(httpserver, path):
    return [(r.headers, r.get_data()) for r, _ in httpserver.log if r.path == path]


def _log(sb):
    return requests.get(sb.url + "/_sandbox/callbacks", timeout=5).json()["log"]


def test_seeded_event_emits_signed_lifecycle_callbacks_of_every_cloud(sb, sink, wait):
    sb.seed(
        {
            "trtc": {"rooms": 1, "users_per_room": 2},
            "zego": {"rooms": 1, "users_per_room": 2, "streams_per_room": 1, "mixes": 1},
            "live": {"streams": 1},
        }
    )
    wait(lambda: len(sink.log) == 5 + 5 + 1)
    trtc = [json.loads(raw) for headers, raw in _received(sink, "/trtc")]
    for headers, raw in _received(sink, "/trtc"):
        assert verify_trtc_callback(raw, headers["Sign"], TRTC_KEY) and headers["SdkAppId"] == str(APP)
    # deliveries run in parallel (as on the clouds): order from the log, content from the receiver
    assert [e["event_type"] for e in _log(sb) if e["cloud"] == "trtc"] == [101, 103, 201, 103, 201]
    assert sorted((b["EventGroupId"], b["EventType"]) for b in trtc) == [
        (1, 101),
        (1, 103),
        (1, 103),
        (2, 201),
        (2, 201),
    ]
    assert len({b["EventInfo"]["RoomId"] for b in trtc}) == 1
    zego = [json.loads(raw) for _, raw in _received(sink, "/zego")]
    assert [e["event_type"] for e in _log(sb) if e["cloud"] == "zego"] == [
        "room_create",
        "room_login",
        "room_login",
        "stream_create",
        "mix_start",
    ]
    for body in zego:
        assert verify_zego_callback(ZEGO_SECRET, body["timestamp"], body["nonce"], body["signature"])
        assert all(isinstance(v, str) for v in body.values())  # RTC callback fields are strings
    live = [json.loads(raw) for _, raw in _received(sink, "/live")]
    assert live[0]["event_type"] == 1 and live[0]["stream_id"].startswith("sandbox_stream_")
    assert verify_live_callback(LIVE_KEY, live[0]["t"], live[0]["sign"], now=time.time())
    assert not verify_live_callback("other", live[0]["t"], live[0]["sign"], now=time.time())


def test_ending_emits_the_end_callbacks(sb, sink, tencent, zego, wait):
    ids = sb.seed(
        {
            "trtc": {"rooms": 1, "users_per_room": 1},
            "zego": {"rooms": 1, "users_per_room": 1, "streams_per_room": 1},
        }
    )
    room = ids["trtc"]["rooms"][0]
    zroom = ids["zego"]["rooms"][0]
    wait(lambda: len(sink.log) == 3 + 3)
    assert code_of(tencent("DismissRoom", {"SdkAppId": APP, "RoomId": room})) is None
    assert zego("CloseRoom", {"RoomId": zroom, "RoomCloseCallback": "true"})["Code"] == 0
    wait(lambda: len(sink.log) == 6 + 2 + 3)
    log = _log(sb)
    assert [e["event_type"] for e in log if e["cloud"] == "trtc"][-2:] == [104, 102]
    assert [e["event_type"] for e in log if e["cloud"] == "zego"][-3:] == [
        "stream_close",
        "room_logout",
        "room_close",
    ]
    closes = [json.loads(raw) for _, raw in _received(sink, "/zego") if b"stream_close" in raw]
    assert closes[0]["type"] == "5"


def test_lost_and_late_callbacks_are_seeded_and_logged(sb, sink, wait):
    faults = {"seed": 3, "lifecycle": {"lost": 0.3, "late": 0.2, "late_seconds": 0.5}}
    requests.put(sb.url + "/_sandbox/faults", json=faults, timeout=5).raise_for_status()
    sb.freeze()  # the late ones wait for the clock, not for the machine
    sb.seed({"trtc": {"rooms": 10, "users_per_room": 2}})
    wait(lambda: len(_log(sb)) == 50)
    assert not any(e["attempts"] for e in _log(sb) if e["fate"] == "late")  # their 0.5 s has not passed
    sb.advance(0.5)
    wait(lambda: all(e["delivered"] for e in _log(sb) if e["fate"] != "lost"), timeout=30)
    log = _log(sb)
    fates = [e["fate"] for e in log]
    assert 0 < fates.count("lost") < 50 and fates.count("late") > 0
    assert all(e["gave_up"] and not e["attempts"] for e in log if e["fate"] == "lost")
    assert len(sink.log) == 50 - fates.count("lost")
    # same seed, same losses
    sb.reset()
    test_seed = [e["fate"] for e in log]
    requests.put(sb.url + "/_sandbox/callbacks", json={"room_url": sink.url_for("/trtc")}, timeout=5)
    requests.put(sb.url + "/_sandbox/faults", json=faults, timeout=5).raise_for_status()
    sb.seed({"trtc": {"rooms": 10, "users_per_room": 2}})
    wait(lambda: len(_log(sb)) == 50)
    assert [e["fate"] for e in _log(sb)] == test_seed


def test_room_list_is_off_until_enabled_and_pages(sb, zego):
    assert zego("DescribeRoomList", {})["Code"] == 9
    sb.backend.zego.room_list_enabled = True
    sb.seed({"zego": {"rooms": 3, "users_per_room": 2}})
    first = zego("DescribeRoomList", {"PageIndex": 1, "PageSize": 2})["Data"]
    second = zego("DescribeRoomList", {"PageIndex": 2, "PageSize": 2})["Data"]
    assert first["TotalCount"] == 3 and len(first["RoomList"]) == 2 and len(second["RoomList"]) == 1
    assert zego("DescribeRoomList", {"PageSize": 201})["Code"] == 2


def test_stream_and_user_lists_are_limited_per_room(sb, zego):
    requests.put(sb.url + "/_sandbox/limits", json={"enabled": True}, timeout=5).raise_for_status()
    ids = sb.seed({"zego": {"rooms": 2, "users_per_room": 3, "streams_per_room": 1}})
    a, b = ids["zego"]["rooms"]
    assert len(zego("DescribeSimpleStreamList", {"RoomId": a})["Data"]["StreamList"]) == 1
    assert zego("DescribeSimpleStreamList", {"RoomId": a})["Code"] == 206  # 1 call per 10 s per room
    assert zego("DescribeSimpleStreamList", {"RoomId": b})["Code"] == 0  # another room has its own
    page = zego("DescribeUserList", {"RoomId": a, "Limit": 2})["Data"]
    assert len(page["UserList"]) == 2 and page["Marker"]
    assert zego("DescribeUserList", {"RoomId": a, "Marker": page["Marker"]})["Code"] == 206
