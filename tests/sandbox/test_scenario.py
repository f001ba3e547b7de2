"""Scenarios users write (rtc_sandbox.scenario): named rooms of each cloud, past start times, lost and
late callbacks per resource or per kind, the TOML file, the seed API and ``RtcSandbox``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests
from rtc_sandbox import RtcSandbox
from rtc_sandbox.admin import AdminClient, AdminError
from rtc_sandbox.scenario import load_scenario, parse_duration

NOWHERE = "http://127.0.0.1:9/callbacks"  # the discard port: refused at once, so fates are logged
FAST = {
    "timing": {"tick_seconds": 0.02},
    "callbacks": {
        "timeout": 2.0,
        "retry_interval": 0.5,
        "max_age": 5.0,
        "url": NOWHERE,
        "room_url": NOWHERE,
        "zego_url": NOWHERE,
        "live_url": NOWHERE,
    },
}

SCENARIO: dict[str, Any] = {
    "sandbox": FAST,
    "trtc": {
        "rooms": [
            {
                "name": "stage",
                "room_id": 2001,
                "users": ["host", "guest"],
                "started_ago": "2h",
                "recording": True,
            },
            {"name": "back", "room_id": "back-a", "users": 2},
        ]
    },
    "zego": {
        "rooms": [{"name": "green", "room_id": "green", "users": ["anna", "ben"], "streams": 1, "mix": True}]
    },
    "live": {"streams": [{"name": "feed", "stream_name": "main_feed", "started_ago": 600}]},
}


def _log(sb: RtcSandbox) -> list[dict[str, Any]]:
    return sb.admin.callbacks()["log"]


def _wait(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_named_rooms_of_each_cloud_with_their_ids_users_and_past_start() -> None:
    with RtcSandbox(SCENARIO) as sb:
        names = sb.names
        assert names["stage"] == {"cloud": "trtc", "room_id": 2001, "sdk_app_id": 1400000001}
        assert names["back"]["room_id"] == "back-a"  # a string: a string TRTC room
        assert names["green"]["cloud"] == "zego" and names["feed"]["stream_id"] == "main_feed"
        state = sb.admin.state()
        rooms = {r["room_id"]: r for r in state["trtc"]["rooms"]}
        assert rooms[2001]["users"] == ["host", "guest"] and not rooms[2001]["str_room"]
        assert rooms["back-a"]["str_room"] and len(rooms["back-a"]["users"]) == 2
        assert abs(rooms[2001]["created_at"] - (state["now"] - 7200)) < 60  # started 2 hours ago
        assert rooms[2001]["recordings"]  # a recording running in it
        zego = {r["room_id"]: r for r in state["zego"]["rooms"]}
        assert zego["green"]["users"] == ["anna", "ben"] and len(zego["green"]["streams"]) == 1
        assert len(state["zego"]["mixes"]) == 1
        assert [s["stream_name"] for s in state["live"]["streams"]] == ["main_feed"]


def test_lost_callbacks_per_resource_leave_every_other_resource_heard() -> None:
    scenario = {
        **SCENARIO,
        "callbacks": {"lost": [{"room": "stage"}], "late": [{"room": "back", "after": "1s"}]},
    }
    with RtcSandbox(scenario) as sb:
        _wait(
            lambda: any(e["fate"] == "lost" for e in _log(sb)) and any(e["fate"] == "late" for e in _log(sb))
        )
        trtc = [e for e in _log(sb) if e.get("cloud") == "trtc" and e["kind"] != "recording"]
        fates = {(str(e["body"]["EventInfo"]["RoomId"]), e["fate"]) for e in trtc if "body" in e}
        assert fates == {("2001", "lost"), ("back-a", "late")}, fates


def test_lost_callbacks_per_kind_and_cloud() -> None:
    scenario = {**SCENARIO, "callbacks": {"lost": [{"cloud": "zego", "kind": "stream"}]}}
    with RtcSandbox(scenario) as sb:
        _wait(lambda: any(e.get("cloud") == "zego" and e["kind"] == "stream" for e in _log(sb)))
        log = _log(sb)
        assert {e["fate"] for e in log if e.get("cloud") == "zego" and e["kind"] == "stream"} == {"lost"}
        assert all(e["fate"] == "sent" for e in log if e["kind"] != "stream")


def test_a_rule_naming_no_resource_is_refused_with_its_place() -> None:
    with pytest.raises(ValueError, match=r"callbacks.lost\[0\]: 'stgae' names no resource"):
        RtcSandbox({**SCENARIO, "callbacks": {"lost": [{"room": "stgae"}]}}).start()


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ({"trtc": {"rooms": [{"room_id": True}]}}, r"trtc.rooms\[0\].room_id"),
        ({"trtc": {"rooms": [{"room_id": 0}]}}, r"1..4294967295"),
        (
            {"zego": {"rooms": [{"room_id": 5}]}},
            r"zego.rooms\[0\].room_id: a ZEGO room id is a non-empty string",
        ),
        ({"zego": {"rooms": [{"streams": 2, "users": ["a"]}]}}, r"2 streams need at least 2 users"),
        ({"trtc": {"rooms": [{"name": "x"}, {"name": "x"}]}}, r"'x' names two resources"),
        ({"trtc": {"rooms": [{"started_ago": "yesterday"}]}}, r"cannot read 'yesterday'"),
        ({"trtc": {"rooms": [{"colour": "red"}]}}, r"unknown keys \['colour'\]"),
        ({"rooms": []}, r"unknown scenario sections"),
        ({"callbacks": {"late": [{"kind": "user"}]}}, r"a late rule says how late"),
    ],
)
def test_bad_scenarios_are_refused_naming_the_entry(scenario: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RtcSandbox(scenario).start()


def test_durations() -> None:
    assert parse_duration("2h", "x") == 7200
    assert parse_duration("1h30m", "x") == 5400
    assert parse_duration("90 minutes ago", "x") == 5400
    assert parse_duration(45, "x") == 45
    with pytest.raises(ValueError):
        parse_duration(-1, "x")


def test_toml_file_and_the_seed_api_name_rooms(tmp_path: Path) -> None:
    path = tmp_path / "event.toml"
    path.write_text(
        '[[trtc.rooms]]\nname = "stage"\nroom_id = 7\nusers = 1\n\n'
        '[[trtc.rooms]]\nname = "str-stage"\nroom_id = "7"\nusers = 1\n'
    )
    assert load_scenario(path)["trtc"]["rooms"][0]["room_id"] == 7
    with RtcSandbox(path) as sb:
        # numeric room 7 and string room "7" are two rooms (the id's type is part of its identity)
        assert sb.names["stage"]["room_id"] == 7 and sb.names["str-stage"]["room_id"] == "7"
        seeded = sb.admin.seed({"zego": {"rooms": [{"name": "late-room", "room_id": "late", "users": 1}]}})
        assert seeded["names"]["late-room"] == {"cloud": "zego", "room_id": "late", "app_id": 1234567890}
        with pytest.raises(AdminError, match="names no resource"):
            sb.admin.seed({"callbacks": {"lost": [{"room": "nowhere"}]}})


def test_admin_client_covers_users_faults_clock_callbacks_stats() -> None:
    with RtcSandbox({"sandbox": FAST}) as sb:
        admin = AdminClient(sb.url)
        admin.add_users("trtc", 3001, ["a", "b"])
        assert admin.add_users("zego", "z", ["c"], streams=[{"user_id": "c", "stream_id": "s"}])["streams"]
        admin.remove_users("trtc", 3001, ["a"])
        rooms = {r["room_id"]: r["users"] for r in admin.state()["trtc"]["rooms"]}
        assert rooms == {3001: ["b"]}
        faults = admin.faults({"rules": [{"action": "DismissRoom", "kind": "drop", "count": 1}]})
        assert faults["rules"][0]["action"] == "DismissRoom"
        assert admin.clock(offset_seconds=-3600)["offset_seconds"] == -3600
        assert "log" in admin.callbacks() and "actions" in admin.stats()
        assert admin.limits(enabled=False)["enabled"] is False
        with pytest.raises(AdminError) as err:
            admin.faults({"rules": [{"kind": "melt"}]})
        assert err.value.status == 400


def test_connections_and_airflow_env_point_at_the_sandbox() -> None:
    import json

    with RtcSandbox() as sb:
        assert sb.url == f"http://127.0.0.1:{sb.port}" and sb.port != 0
        env = sb.airflow_env()
        tencent = json.loads(env["AIRFLOW_CONN_TENCENTCLOUD_DEFAULT"])
        assert tencent["extra"]["endpoint"] == sb.url
        assert json.loads(env["AIRFLOW_CONN_ZEGOCLOUD_DEFAULT"])["conn_type"] == "zegocloud"
        assert requests.get(sb.url + "/_sandbox/state", timeout=5).ok
