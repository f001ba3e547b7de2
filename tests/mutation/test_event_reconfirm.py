"""EndEvent's re-confirmation judged without a sandbox: a plan must not outlive what it was made
from (issue 17, issue 24 item 5).

Written for `make mutate` (cleanup/plan.py ``reconfirm`` with its ``changed``, ``_ms``, ``iso_ms``).
The receiver's fresh read is a plain function here. The promise: a target of another application,
or whose resource (or room) is live again in a later session than the inventory saw, is taken out
of the plan and reported ``skipped_stale`` with why; everything else is kept, including what the
fresh read no longer lists (a lost callback must not spare a live room), and task ids (recordings,
mixes) are never judged by start time.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_rtc.cleanup import plan as planner
from airflow_provider_rtc.discovery.discover import Access

A, B = "1400000001", "1400000002"
T0 = 1_795_975_200_000  # 2026-11-29T18:00:00Z: the start of the sessions the inventory saw
T0_ISO = planner.iso_ms(T0)


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def warning(self, msg: str, *args: Any) -> None:
        self.lines.append(msg % args)


class Receiver:
    """``receiver.fetch_live``: the fresh read per (cloud, app)."""

    def __init__(self, items: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
        self.items = items
        self.asked: list[tuple[Any, str, str]] = []

    def __call__(self, target: Any, cloud: str, app_id: str) -> dict[str, Any]:
        self.asked.append((target, cloud, app_id))
        return {"items": self.items.get((cloud, app_id), []), "corrections": []}


def access(cloud: str, app: str = A) -> Access:
    return Access(cloud, app, f"receiver-{cloud}", lambda: {})


def item(kind: str, started_ms: int | None, live: bool = True, **ids: Any) -> dict[str, Any]:
    return {"kind": kind, "ids": ids, "live": live, "started_ms": started_ms}


def inventory(app: str = A, started_at: Any = T0_ISO, **kinds: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "discovered_at": planner.iso_ms(T0 + 60_000),
        "clouds": {
            "trtc": {
                "app_id": app,
                **{k: [{"ids": ids, "started_at": started_at} for ids in v] for k, v in kinds.items()},
            }
        },
    }


def reconfirm(
    monkeypatch: pytest.MonkeyPatch, inv: dict, fresh: Receiver, acc: dict | None = None, **kw: Any
):
    monkeypatch.setattr(planner.receiver, "fetch_live", fresh)
    plan = planner.build_plan(inv)
    skipped = planner.reconfirm(plan, inv, {"trtc": access("trtc")} if acc is None else acc, **kw)
    return plan, skipped


def test_a_room_live_again_in_a_later_session_is_skipped_with_why(monkeypatch) -> None:
    inv = inventory(rooms=[{"room_id": 1234}, {"room_id": 5678}])
    fresh = Receiver({("trtc", A): [item("rooms", T0 + 1, room_id=1234), item("rooms", T0, room_id=5678)]})
    log = Log()
    plan, skipped = reconfirm(monkeypatch, inv, fresh, log=log)
    assert [t["ids"] for t in plan["targets"]] == [{"room_id": 5678}]  # the same session: kept
    assert plan["total_calls"] == 1
    reason = (
        f"trtc:{A} room 1234 (int) started again at {planner.iso_ms(T0 + 1)}, "
        f"after the inventory's {T0_ISO}: a later session"
    )
    assert [(s["ids"], s["status"], s["reason"]) for s in skipped] == [
        ({"room_id": 1234}, "skipped_stale", reason)
    ]
    assert (
        skipped[0]["action"] == "DismissRoom"
        and skipped[0]["refs"] == planner.build_plan(inv)["targets"][0]["refs"]
    )
    assert log.lines == [f"skipped (stale): DismissRoom trtc:{A} room 1234 (int): {reason}"]
    assert fresh.asked == [("receiver-trtc", "trtc", A)]


def test_an_earlier_start_or_no_start_keeps_the_target(monkeypatch) -> None:
    inv = inventory(rooms=[{"room_id": 1}, {"room_id": 2}, {"room_id": 3}])
    fresh = Receiver(
        {
            ("trtc", A): [
                item("rooms", T0 - 1, room_id=1),
                item("rooms", None, room_id=2),
                item("rooms", 0, room_id=3),
            ]
        }
    )
    plan, skipped = reconfirm(monkeypatch, inv, fresh)
    assert skipped == [] and plan["total_calls"] == 3


def test_what_the_fresh_read_no_longer_lists_or_shows_ended_is_kept(monkeypatch) -> None:
    """A lost callback must not spare a live room: not listed (or not live) is no reason to skip."""
    inv = inventory(rooms=[{"room_id": 1}, {"room_id": 2}])
    fresh = Receiver({("trtc", A): [item("rooms", T0 + 5, live=False, room_id=1)]})
    plan, skipped = reconfirm(monkeypatch, inv, fresh)
    assert skipped == [] and [t["ids"]["room_id"] for t in plan["targets"]] == [1, 2]


def test_without_the_items_start_the_inventorys_time_is_the_baseline(monkeypatch) -> None:
    inv = inventory(started_at=None, rooms=[{"room_id": 1}, {"room_id": 2}])
    discovered = T0 + 60_000
    fresh = Receiver(
        {("trtc", A): [item("rooms", discovered + 1, room_id=1), item("rooms", discovered, room_id=2)]}
    )
    plan, skipped = reconfirm(monkeypatch, inv, fresh)
    assert [s["ids"]["room_id"] for s in skipped] == [1]
    assert skipped[0]["reason"].endswith(
        f"after the inventory's {planner.iso_ms(discovered)}: a later session"
    )
    assert [t["ids"]["room_id"] for t in plan["targets"]] == [2]


def test_without_any_time_nothing_is_judged_stale(monkeypatch) -> None:
    inv = inventory(started_at=None, rooms=[{"room_id": 1}])
    del inv["discovered_at"]
    plan, skipped = reconfirm(monkeypatch, inv, Receiver({("trtc", A): [item("rooms", T0 * 2, room_id=1)]}))
    assert skipped == [] and plan["total_calls"] == 1


def test_a_user_whose_room_started_again_is_skipped(monkeypatch) -> None:
    """RemoveUser for a user of a room the plan does not end: the room's new session spares it."""
    inv = inventory(users=[{"room_id": 7, "user_id": "u1"}, {"room_id": 8, "user_id": "u2"}])
    later = T0 + 60_001  # the room has no start of its own in the inventory: after its discovery
    fresh = Receiver(
        {("trtc", A): [item("rooms", later, room_id=7), item("users", T0, room_id=8, user_id="u2")]}
    )
    plan, skipped = reconfirm(monkeypatch, inv, fresh)
    assert [s["ids"] for s in skipped] == [{"room_id": 7, "user_ids": ["u1"]}]
    assert skipped[0]["reason"].startswith(f"trtc:{A} room 7 (int) started again at ")
    assert [t["ids"] for t in plan["targets"]] == [{"room_id": 8, "user_ids": ["u2"]}]


def test_a_user_live_again_is_skipped_by_its_own_start(monkeypatch) -> None:
    inv = inventory(users=[{"room_id": 7, "user_id": "u1"}])
    fresh = Receiver({("trtc", A): [item("users", T0 + 10, room_id=7, user_id="u1")]})
    _, skipped = reconfirm(monkeypatch, inv, fresh)
    assert skipped[0]["reason"].startswith(f"trtc:{A} user u1 in room 7 (int) started again at ")


def test_the_string_room_with_the_same_digits_is_another_room(monkeypatch) -> None:
    inv = inventory(rooms=[{"room_id": 1234}])
    fresh = Receiver({("trtc", A): [item("rooms", T0 + 10, room_id="1234")]})
    plan, skipped = reconfirm(monkeypatch, inv, fresh)
    assert skipped == [] and plan["total_calls"] == 1


def test_recordings_are_never_judged_by_their_start(monkeypatch) -> None:
    """Task ids are never reused: a recording's later start is no new session."""
    inv = inventory(recordings=[{"task_id": "t1", "room_id": 7}])
    fresh = Receiver(
        {
            ("trtc", A): [
                item("recordings", T0 + 10, task_id="t1", room_id=7),
                item("rooms", T0 + 10, room_id=7),
            ]
        }
    )
    plan, skipped = reconfirm(monkeypatch, inv, fresh)
    assert skipped == [] and [t["action"] for t in plan["targets"]] == ["DeleteCloudRecording"]


def test_mixes_are_never_judged_by_their_start(monkeypatch) -> None:
    """A mix's task (ZEGO) or session (Live) id is never reused: neither its own later start nor its
    room's new session spares it."""
    inv = {
        "discovered_at": planner.iso_ms(T0),
        "clouds": {
            "zego": {"app_id": "9", "mixes": [{"ids": {"task_id": "m1", "room_id": "z"}, "started_at": T0}]},
            "live": {"app_id": "d", "mixes": [{"ids": {"session_id": "s1"}, "started_at": T0}]},
        },
    }
    fresh = Receiver(
        {
            ("zego", "9"): [
                item("mixes", T0 + 10, task_id="m1", room_id="z"),
                item("rooms", T0 + 10, room_id="z"),
            ],
            ("live", "d"): [item("mixes", T0 + 10, session_id="s1")],
        }
    )
    monkeypatch.setattr(planner.receiver, "fetch_live", fresh)
    plan = planner.build_plan(inv)
    skipped = planner.reconfirm(plan, inv, {"zego": access("zego", "9"), "live": access("live", "d")})
    assert skipped == []
    assert sorted(t["action"] for t in plan["targets"]) == ["CancelCommonMixStream", "StopMix"]


def test_a_target_of_another_application_is_skipped(monkeypatch) -> None:
    inv = inventory(app=B, rooms=[{"room_id": 1}])
    fresh = Receiver({})
    plan, skipped = reconfirm(monkeypatch, inv, fresh)
    assert plan["targets"] == [] and plan["total_calls"] == 0
    assert skipped[0]["reason"] == f"trtc:{B} room 1 (int) belongs to app {B}, not this connection's {A}"


def test_a_target_of_a_cloud_without_access_is_skipped_and_not_read(monkeypatch) -> None:
    inv = inventory(rooms=[{"room_id": 1}])
    fresh = Receiver({})
    plan, skipped = reconfirm(monkeypatch, inv, fresh, acc={"zego": access("zego", "9")})
    assert skipped[0]["reason"] == f"trtc:{A} room 1 (int) belongs to app {A}, not this connection's None"
    assert fresh.asked == []  # neither zego (no target) nor trtc (no access) is read
    assert plan["total_calls"] == 0


def test_each_cloud_with_targets_is_read_once_in_order(monkeypatch) -> None:
    inv = {
        "clouds": {
            "zego": {"app_id": "9", "rooms": [{"ids": {"room_id": "z"}}]},
            "trtc": {"app_id": A, "rooms": [{"ids": {"room_id": 1}}, {"ids": {"room_id": 2}}]},
        }
    }
    fresh = Receiver({})
    acc = {"zego": access("zego", "9"), "trtc": access("trtc"), "live": access("live", "d")}
    plan, skipped = reconfirm(monkeypatch, inv, fresh, acc=acc)
    assert fresh.asked == [("receiver-trtc", "trtc", A), ("receiver-zego", "zego", "9")]
    assert skipped == [] and plan["total_calls"] == 3


def test_a_fresh_item_is_keyed_by_the_connections_app(monkeypatch) -> None:
    """The fresh read is of the connection's app: its later session spares that app's room."""
    inv = {
        "discovered_at": planner.iso_ms(T0),
        "clouds": {"zego": {"app_id": "9", "rooms": [{"ids": {"room_id": "z"}, "started_at": T0}]}},
    }
    fresh = Receiver({("zego", "9"): [item("rooms", T0 + 1, room_id="z")]})
    monkeypatch.setattr(planner.receiver, "fetch_live", fresh)
    plan = planner.build_plan(inv)
    skipped = planner.reconfirm(plan, inv, {"zego": access("zego", "9")})
    assert skipped[0]["reason"].startswith("zego:9 room z started again at ")
    assert skipped[0]["reason"].endswith(f"after the inventory's {T0_ISO}: a later session")


def test_an_inventory_without_app_ids_is_compared_under_a_dash(monkeypatch) -> None:
    """A hand-built inventory without app ids plans under "-": no connection's app is "-"."""
    inv = {"clouds": {"zego": {"rooms": [{"ids": {"room_id": "z"}}], "note": "x", "bad": ["x", {"ids": 1}]}}}
    monkeypatch.setattr(planner.receiver, "fetch_live", Receiver({}))
    plan = planner.build_plan(inv)
    skipped = planner.reconfirm(plan, inv, {"zego": access("zego", "9")})
    assert skipped[0]["reason"] == "zego:- room z belongs to app -, not this connection's 9"


def test_the_inventorys_start_of_each_kind_is_its_own(monkeypatch) -> None:
    """A user's start is not its room's: the room's baseline is the room item's own start."""
    inv = {
        "discovered_at": planner.iso_ms(T0 + 100),
        "clouds": {
            "trtc": {
                "app_id": A,
                "rooms": [{"ids": {"room_id": 7}, "started_at": T0 + 50}],
                "users": [{"ids": {"room_id": 7, "user_id": "u"}, "started_at": T0}],
            }
        },
    }
    fresh = Receiver(
        {("trtc", A): [item("rooms", T0 + 20, room_id=7), item("users", T0 + 20, room_id=7, user_id="u")]}
    )
    monkeypatch.setattr(planner.receiver, "fetch_live", fresh)
    plan = planner.build_plan(inv)
    skipped = planner.reconfirm(plan, inv, {"trtc": access("trtc")})
    assert skipped == [] and plan["total_calls"] == 1  # the room at T0+20 is the session seen at T0+50


# -- the times -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        (0, 0),
        (1234.9, 1234),
        (True, None),
        ("2026-11-29T18:00:00Z", 1_795_975_200_000),
        ("2026-11-29T18:00:00.0006+00:00", 1_795_975_200_001),
        ("not a time", None),
    ],
)
def test_ms_reads_epoch_ms_and_iso_text(value: Any, expected: int | None) -> None:
    assert planner._ms(value) == expected


def test_iso_ms_is_utc_iso_text_whatever_the_local_zone() -> None:
    """A worker in Tencent Cloud's own zone (UTC+8) still tells times in UTC, as the receiver does."""
    import pendulum

    pendulum.set_local_timezone(pendulum.timezone("Asia/Shanghai"))
    try:
        assert planner.iso_ms(1_795_975_200_000) == "2026-11-29T18:00:00+00:00"
        assert planner.iso_ms(1500) == "1970-01-01T00:00:01.500000+00:00"
    finally:
        pendulum.set_local_timezone()
