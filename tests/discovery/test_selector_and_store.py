"""Selector rules and the inventory's ordering rules, without any server."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest

from airflow_provider_rtc.callbacks.inventory import trtc_updates, zego_updates
from airflow_provider_rtc.callbacks.lifecycle_store import LifecycleStore
from airflow_provider_rtc.discovery.selector import Selector
from airflow_provider_rtc.exceptions import RtcValidationError

NOW = dt.datetime(2026, 11, 29, 18, 0, tzinfo=dt.UTC)
MS = int(NOW.timestamp() * 1000)


def test_selector_accepts_pendulum_times_and_matches_on_all_conditions():
    sel = Selector.parse(
        {"room_id_prefix": "conf-", "started_after": "2026-11-29 16:00", "older_than": 1800, "idle_for": 60}
    )
    started = MS - 3600_000
    # the cloud's own start time: started_after can be proven (see test_scope.py, time semantics)
    matches = partial(sel.matches, started_source="cloud")
    assert matches("conf-1", started, MS - 120_000, idle=True, now=NOW)
    assert not matches("conf-1", started, MS - 120_000, idle=False, now=NOW)  # someone is in it
    assert not matches("conf-1", started, MS - 30_000, idle=True, now=NOW)  # quiet for 30 s only
    assert not matches("other-1", started, MS - 120_000, idle=True, now=NOW)
    assert not matches("conf-1", MS - 600_000, MS - 120_000, idle=True, now=NOW)  # too young
    assert not matches("conf-1", None, MS, idle=True, now=NOW)  # start unknown: not older than


def test_allow_all_is_required_to_select_everything():
    with pytest.raises(RtcValidationError) as err:
        Selector.parse({})
    assert err.value.param == "selector"
    with pytest.raises(RtcValidationError) as err:
        Selector.parse({"room_id_prefix": "c"})
    assert err.value.param == "selector.room_id_prefix"
    assert Selector.parse({}, allow_all=True).matches_everything
    assert Selector.parse({"allow_all": True, "room_id_prefix": "c"}).room_name_matches("conf")
    assert Selector.parse({"room_ids": [1001]}).by_room is not False


def test_impossible_combinations_name_their_key():
    cases = {
        "selector.room_id_prefix": {"room_ids": ["a1"], "room_id_prefix": "bb"},
        "selector.started_after": {
            "started_after": "2026-11-29T10:00Z",
            "started_before": "2026-11-29T09:00Z",
        },
        "selector.older_than": {"older_than": 7200, "started_after": dt.datetime.now(dt.UTC).isoformat()},
        "selector.started_before": {"started_before": "not a time"},
        "selector.room_ids": {"room_ids": []},
        "selector.colour": {"colour": "red"},
    }
    for param, raw in cases.items():
        with pytest.raises(RtcValidationError) as err:
            Selector.parse(raw)
        assert err.value.param == param, raw


def _trtc(etype, room=1001, user="u1", at=MS):
    return {
        "EventGroupId": 1 if etype < 200 else 2,
        "EventType": etype,
        "EventInfo": {"RoomId": room, "UserId": user, "EventMsTs": at},
    }


def test_events_apply_by_their_time_not_their_arrival(tmp_path):
    store = LifecycleStore(tmp_path / "db.sqlite3")
    store.apply("trtc", 1, trtc_updates(_trtc(103, at=MS)))  # the 101 was lost: 103 still shows the room
    assert {i.kind for i in store.items("trtc", 1)} == {"rooms", "users"}
    store.apply("trtc", 1, trtc_updates(_trtc(102, at=MS + 5000)))
    assert store.items("trtc", 1) == []  # the room ended and took its user with it
    store.apply("trtc", 1, trtc_updates(_trtc(103, user="late", at=MS + 1000)))  # a late 103
    assert store.items("trtc", 1) == []
    store.apply("trtc", 1, trtc_updates(_trtc(103, user="again", at=MS + 9000)))  # a new session
    assert {(i.kind, i.started_ms) for i in store.items("trtc", 1)} == {
        ("rooms", MS + 9000),
        ("users", MS + 9000),
    }


def test_corrections_are_logged_and_lose_to_newer_callbacks(tmp_path):
    store = LifecycleStore(tmp_path / "db.sqlite3")
    store.apply(
        "zego",
        7,
        zego_updates({"event": "room_login", "room_id": "r", "user_account": "a", "login_time": MS}, "7"),
    )
    changed = store.correct(
        "zego",
        7,
        [
            {
                "kind": "rooms",
                "ids": {"room_id": "r"},
                "live": False,
                "at_ms": MS + 10,
                "reason": "DescribeUserNum: 0 users",
            }
        ],
    )
    assert [c["change"] for c in changed] == ["ended"] and store.items("zego", 7) == []
    assert store.corrections("zego", 7)[0]["reason"] == "DescribeUserNum: 0 users"
    store.apply(
        "zego",
        7,
        zego_updates(
            {"event": "room_login", "room_id": "r", "user_account": "b", "login_time": MS + 20}, "7"
        ),
    )
    assert {i.kind for i in store.items("zego", 7)} == {"rooms", "users"}
    # a confirmation adds the source without changing the state
    assert (
        store.correct("zego", 7, [{"kind": "rooms", "ids": {"room_id": "r"}, "live": True, "at_ms": MS + 30}])
        == []
    )
    assert store.items("zego", 7)[0].sources == ["callback", "list_api"]
