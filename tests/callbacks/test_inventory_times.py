"""Times in the lifecycle inventory say where they came from, and none outranks the present."""

from __future__ import annotations

import json
import sqlite3

from airflow_provider_rtc.callbacks.inventory import (
    LifecycleStore,
    item_key,
    live_updates,
    trtc_updates,
    zego_updates,
)

NOW = 1_800_000_000.0  # the receiver's clock in these tests (2027-01-15)
NOW_MS = int(NOW * 1000)
TEN_YEARS_MS = 10 * 365 * 86400 * 1000


def _trtc(etype: int, room, at_ms: int, user: str = "") -> dict:
    info = {"RoomId": room, "EventMsTs": at_ms, "EventTs": at_ms // 1000}
    if user:
        info["UserId"] = user
    return {"EventGroupId": 1 if etype < 200 else 2, "EventType": etype, "EventInfo": info}


def _by_kind(store: LifecycleStore, cloud: str, app) -> dict:
    return {(i.kind, json.dumps(i.ids, sort_keys=True)): i for i in store.items(cloud, app)}


def test_a_room_first_seen_by_a_user_event_is_an_upper_bound_until_the_cloud_says(store_location):
    store = LifecycleStore(store_location)
    three_hours_ago = NOW_MS - 3 * 3600 * 1000
    # room created 3 h ago (callback lost); a user enters 1 min ago: the room is first seen then
    store.apply("trtc", 1, trtc_updates(_trtc(103, 7, NOW_MS - 60_000, "u1")), now=NOW)
    room = next(i for i in store.items("trtc", 1) if i.kind == "rooms")
    user = next(i for i in store.items("trtc", 1) if i.kind == "users")
    assert (room.started_ms, room.started_source) == (NOW_MS - 60_000, "first_seen")
    assert user.started_source == "cloud"  # 103 is the user's own entry time
    assert room.as_dict()["started_source"] == "first_seen"
    # the late "room created" brings the cloud's creation time
    store.apply("trtc", 1, trtc_updates(_trtc(101, 7, three_hours_ago)), now=NOW)
    room = next(i for i in store.items("trtc", 1) if i.kind == "rooms")
    assert (room.started_ms, room.started_source) == (three_hours_ago, "cloud")
    # a list API's create time is the cloud's too; without one, only "first seen"
    store.correct(
        "zego",
        9,
        [
            {
                "kind": "streams",
                "ids": {"room_id": "r", "user_id": "u", "stream_id": "s1"},
                "live": True,
                "at_ms": NOW_MS,
                "reason": "x",
                "started_ms": three_hours_ago,
            },
            {"kind": "rooms", "ids": {"room_id": "r"}, "live": True, "at_ms": NOW_MS, "reason": "x"},
        ],
        now=NOW,
    )
    sources = {i.kind: (i.started_ms, i.started_source) for i in store.items("zego", 9)}
    assert sources == {"streams": (three_hours_ago, "cloud"), "rooms": (NOW_MS, "first_seen")}


def test_an_existing_file_gains_the_column_and_typed_keys(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        """CREATE TABLE lifecycle_items (cloud TEXT NOT NULL, app_id TEXT NOT NULL, kind TEXT NOT NULL,
        item_key TEXT NOT NULL, room_id TEXT NOT NULL, ids TEXT NOT NULL, live INTEGER NOT NULL,
        started_ms INTEGER, last_activity_ms INTEGER NOT NULL, state_ms INTEGER NOT NULL,
        sources TEXT NOT NULL, ended_reason TEXT, updated_at REAL NOT NULL,
        PRIMARY KEY (cloud, app_id, kind, item_key));"""
    )
    old_key = json.dumps({"room_id": 1234}, separators=(",", ":"))  # the old key: str_room dropped
    db.execute(
        "INSERT INTO lifecycle_items VALUES ('trtc','1','rooms',?,'1234',?,1,5,5,5,'callback',NULL,0)",
        (old_key, json.dumps({"room_id": 1234, "str_room": False})),
    )
    db.commit()
    db.close()
    store = LifecycleStore(path)
    (room,) = store.items("trtc", 1)
    assert room.started_source == "first_seen"  # nothing said the old time was the creation time
    # the migrated row is the same item a new callback names: dismissing it ends it, no duplicate
    store.apply("trtc", 1, trtc_updates(_trtc(102, 1234, NOW_MS)), now=NOW)
    assert store.items("trtc", 1) == []
    LifecycleStore(path)  # opening again migrates nothing twice


def test_numeric_and_string_trtc_rooms_never_share_an_item(store_location):
    store = LifecycleStore(store_location)
    assert item_key("rooms", {"room_id": 1234}) != item_key("rooms", {"room_id": "1234", "str_room": True})
    assert item_key("rooms", {"room_id": 1234}) == item_key("rooms", {"room_id": "1234", "str_room": False})
    for room in (1234, "1234"):
        store.apply("trtc", 1, trtc_updates(_trtc(103, room, NOW_MS - 1000, "alice")), now=NOW)
    assert len([i for i in store.items("trtc", 1) if i.kind == "rooms"]) == 2
    # dismissing the numeric room ends it and its users, never the string room's
    store.apply("trtc", 1, trtc_updates(_trtc(102, 1234, NOW_MS)), now=NOW)
    left = {(i.kind, type(i.ids["room_id"]).__name__) for i in store.items("trtc", 1)}
    assert left == {("rooms", "str"), ("users", "str")}
    # a correction naming the numeric room by text plus its flag is that room, not a new one
    store.apply("trtc", 1, trtc_updates(_trtc(101, 1234, NOW_MS + 1)), now=NOW + 1)
    store.correct(
        "trtc",
        1,
        [
            {
                "kind": "rooms",
                "ids": {"room_id": "1234", "str_room": False},
                "live": False,
                "at_ms": NOW_MS + 2,
                "reason": "DismissRoom: done",
            }
        ],
        now=NOW + 2,
    )
    assert {(i.kind, type(i.ids["room_id"]).__name__) for i in store.items("trtc", 1)} == left


def test_a_callback_dated_ten_years_ahead_is_stored_at_its_receipt(store_location):
    store = LifecycleStore(store_location)
    store.apply(
        "zego",
        9,
        zego_updates({"event": "room_create", "room_id": "r", "room_create_time": str(NOW_MS - 60_000)}, "9"),
        now=NOW,
    )
    close = {"event": "room_close", "room_id": "r", "room_close_time": str(NOW_MS + TEN_YEARS_MS)}
    store.apply("zego", 9, zego_updates(close, "9"), now=NOW)
    assert store.items("zego", 9) == []
    # the room is seen again by the list API a second later: the observation made now wins
    store.correct(
        "zego",
        9,
        [
            {
                "kind": "rooms",
                "ids": {"room_id": "r"},
                "live": True,
                "at_ms": NOW_MS + 1000,
                "reason": "DescribeRoomList: listed",
            }
        ],
        now=NOW + 1,
    )
    (room,) = store.items("zego", 9)
    assert room.live and room.state_ms == NOW_MS + 1000
    # a Live stop-push dated ahead cannot outrank the next push either
    push = {"event_type": 1, "stream_id": "s", "app": "d", "appname": "live", "event_time": int(NOW) - 5}
    store.apply("live", 5, live_updates(push), now=NOW)
    store.apply(
        "live",
        5,
        live_updates({**push, "event_type": 0, "event_time": int(NOW) + 10 * 365 * 86400}),
        now=NOW + 1,
    )
    store.apply("live", 5, live_updates({**push, "event_time": int(NOW) + 2}), now=NOW + 2)
    assert [i.live for i in store.items("live", 5)] == [True]
    # corrections likewise: a worker's clock ten years ahead changes nothing for good
    store.correct(
        "zego",
        9,
        [
            {
                "kind": "rooms",
                "ids": {"room_id": "r"},
                "live": False,
                "at_ms": NOW_MS + TEN_YEARS_MS,
                "reason": "x",
            }
        ],
        now=NOW + 3,
    )
    store.apply(
        "zego",
        9,
        zego_updates({"event": "room_create", "room_id": "r", "room_create_time": str(NOW_MS + 4000)}, "9"),
        now=NOW + 4,
    )
    (room,) = store.items("zego", 9)
    assert room.live and room.started_ms <= NOW_MS + 4000


def test_a_future_dated_start_is_no_cloud_time(store_location):
    store = LifecycleStore(store_location)
    body = {
        "event": "stream_create",
        "room_id": "r",
        "user_id": "u",
        "stream_id": "s",
        "create_time_ms": str(NOW_MS + TEN_YEARS_MS),
    }
    store.apply("zego", 9, zego_updates(body, "9"), now=NOW)
    stream = next(i for i in store.items("zego", 9) if i.kind == "streams")
    assert (stream.started_ms, stream.started_source) == (NOW_MS, "first_seen")
    assert max(i.state_ms for i in store.items("zego", 9)) <= NOW_MS


def test_a_stop_push_ends_a_live_stream_only_until_reconciliation_confirms(store_location):
    store = LifecycleStore(store_location)
    push = {"event_type": 1, "stream_id": "s", "app": "d", "appname": "live", "event_time": int(NOW) - 5}
    store.apply("live", 5, live_updates(push), now=NOW)
    store.apply("live", 5, live_updates({**push, "event_type": 0, "event_time": int(NOW)}), now=NOW)
    (item,) = store.items("live", 5, now=NOW)
    assert (item.live, item.end_unconfirmed) == (False, True)  # shown to reconciliation, not as live
    assert store.items("live", 5, now=NOW + 2 * 86400) == []  # not kept in every read for ever
    ids = item.ids
    store.correct(
        "live",
        5,
        [
            {
                "kind": "streams",
                "ids": ids,
                "live": False,
                "at_ms": NOW_MS + 1000,
                "reason": "stop-push confirmed",
            }
        ],
        now=NOW + 1,
    )
    assert store.items("live", 5, now=NOW + 1) == []
    # a list API's end needs no confirmation; a TRTC/ZEGO callback's end neither (their bodies are signed)
    store.apply("live", 5, live_updates({**push, "event_time": int(NOW) + 2}), now=NOW + 2)
    store.correct(
        "live",
        5,
        [{"kind": "streams", "ids": ids, "live": False, "at_ms": NOW_MS + 3000, "reason": "x"}],
        now=NOW + 3,
    )
    assert store.items("live", 5, now=NOW + 3) == []
