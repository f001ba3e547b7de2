"""ZEGO callbacks read as documented: docs_all core_products/real-time-voice-video/zh/server/callback/
(room/logged-out.mdx, room/logged-in.mdx, stream/destroyed.mdx, stream-mixing/started.mdx)."""

from __future__ import annotations

from airflow_provider_rtc.callbacks.inventory import LifecycleStore, zego_updates

#: the example bodies of the docs (signature fields shortened)
LOGOUT = {
    "event": "room_logout",
    "appid": "1",
    "timestamp": "1663740628",
    "nonce": "350176",
    "signature": "signature",
    "room_id": "rid_1242649",
    "room_seq": "6085791336856668982",
    "user_account": "888120154",
    "user_nickname": "888120154",
    "session_id": "792462300429684736",
    "login_time": "1663740623660",
    "logout_time": "1663740627986",
    "reason": "0",
    "user_role": "1",
    "user_update_seq": "13",
}
STREAM_CLOSE = {
    "event": "stream_close",
    "appid": "1",
    "timestamp": "1666986068",
    "room_id": "rid_1",
    "user_id": "u1",
    "stream_id": "s1",
    "type": "0",
    "create_time_ms": "1666786067353",
    "destroy_timemillis": "1666986067248",
}


def _at(updates, kind):
    return next(u for u in updates if u.kind == kind).at_ms


def test_close_and_logout_are_dated_by_their_own_time_not_the_creation():
    assert _at(zego_updates(LOGOUT, "1"), "users") == 1663740627986
    assert _at(zego_updates(STREAM_CLOSE, "1"), "streams") == 1666986067248


def test_a_logout_after_a_list_found_the_user_ends_it(store_location):
    """Found by DescribeUserList 10 min after login, logged out 1 h after: the logout wins."""
    store = LifecycleStore(store_location)
    login = int(LOGOUT["login_time"])
    now = (login + 2 * 3600 * 1000) / 1000
    ids = {"room_id": LOGOUT["room_id"], "user_id": LOGOUT["user_account"]}
    store.correct(
        "zego",
        1,
        [{"kind": "users", "ids": ids, "live": True, "at_ms": login + 600_000, "reason": "DescribeUserList"}],
        now=now,
    )
    logout = {**LOGOUT, "logout_time": str(login + 3600 * 1000)}
    store.apply("zego", 1, zego_updates(logout, "1"), now=now)
    assert store.items("zego", 1) == []  # the user is gone


def test_a_mix_names_its_room_by_channel_id_and_a_stop_without_it_still_matches(store_location):
    store = LifecycleStore(store_location)
    start = {
        "event": "mix_start",
        "task_id": "1:mix9",
        "channel_id": "room_a",
        "publish_id": "host",
        "timestamp": "1800000000",
    }
    (mix,) = zego_updates(start, "1")
    assert mix.ids == {"task_id": "mix9", "room_id": "room_a"}
    store.apply("zego", 1, [mix], now=1800000001)
    assert store.items("zego", 1)[0].ids["room_id"] == "room_a"
    store.apply(
        "zego",
        1,
        zego_updates({"event": "mix_stop", "task_id": "1:mix9", "timestamp": "1800000002"}, "1"),
        now=1800000003,
    )
    assert store.items("zego", 1) == []


def test_admin_robots_are_no_users():
    robot = {
        "event": "room_login",
        "room_id": "r",
        "user_account": "rec_robot",
        "user_role": "4",
        "login_time": "1800000000000",
    }
    updates = zego_updates(robot, "1")
    assert [(u.kind, u.live) for u in updates] == [("rooms", True)]
    assert [u.kind for u in zego_updates({**robot, "event": "room_logout"}, "1")] == ["rooms"]
    assert {u.kind for u in zego_updates({**robot, "user_role": "1"}, "1")} == {"rooms", "users"}
