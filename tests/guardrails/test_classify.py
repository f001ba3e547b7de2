"""Classification of an inventory against a policy (pure: a hand-built inventory, a fixed ``now``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_provider_rtc.guardrails.caps import classify, idle_clouds, scope
from airflow_provider_rtc.guardrails.policy import parse_policy

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def ago(seconds: float) -> str:
    return (NOW - dt.timedelta(seconds=seconds)).isoformat()


def item(
    ids: dict[str, Any], started: float | None, source: str = "cloud", active: float = 0
) -> dict[str, Any]:
    return {
        "ids": ids,
        "started_at": None if started is None else ago(started),
        "started_source": source,
        "last_activity_at": ago(active if active else (started or 0)),
    }


def inventory(**clouds: dict[str, Any]) -> dict[str, Any]:
    return {"discovered_at": NOW.isoformat(), "clouds": clouds}


POLICY = parse_policy(
    {"rooms": {"max_duration": "1h", "idle_timeout": "10m"}, "recordings": {"max_duration": "30m"}},
    warn_before="5m",
)


def labels(items: list[dict[str, Any]]) -> list[str]:
    return sorted(i["label"] for i in items)


def test_past_cap_ends_near_cap_warns_under_is_within():
    inv = inventory(
        trtc={
            "app_id": "1400000001",
            "rooms": [
                item({"room_id": 1, "str_room": False}, 3601),
                item({"room_id": 2, "str_room": False}, 3400),
                item({"room_id": 3, "str_room": False}, 3000),
            ],
            "users": [item({"room_id": r, "user_id": f"u{r}"}, 10) for r in (1, 2, 3)],
        }
    )
    out = classify(inv, POLICY, NOW, idle_ok=idle_clouds(["trtc"], trtc_monitoring=False))
    assert labels(out["ended"]) == ["trtc:1400000001 room 1 (int)"]
    assert labels(out["warned"]) == ["trtc:1400000001 room 2 (int)"]
    assert out["within"] == 1 and out["unproven"] == []
    ended = out["ended"][0]
    assert ended["rule"] == "max_duration" and ended["cap_s"] == 3600.0 and ended["age_s"] == 3601.0
    assert ended["started_source"] == "cloud" and ended["ref"]["id_type"] == "int"
    # a room ended ends what is in it: its user joins the end, the other rooms' users do not
    assert [u["ids"]["user_id"] for u in out["to_end"]["clouds"]["trtc"]["users"]] == ["u1"]


def test_a_first_seen_start_never_ends_an_item_for_max_duration():
    inv = inventory(
        zego={
            "app_id": "1",
            "rooms": [
                item({"room_id": "seen"}, 7200, source="first_seen"),
                item({"room_id": "unknown"}, None, source="first_seen"),
            ],
            "users": [item({"room_id": r, "user_id": "u"}, 10) for r in ("seen", "unknown")],
        }
    )
    out = classify(inv, POLICY, NOW, idle_ok={"zego": None})
    assert out["ended"] == [] and not any(out["to_end"]["clouds"]["zego"].get(k) for k in ("rooms", "users"))
    assert labels(out["unproven"]) == ["zego:1 room seen", "zego:1 room unknown"]
    assert {i["started_source"] for i in out["unproven"]} == {"first_seen"}


def test_a_recording_past_its_cap_ends_alone_and_its_room_stays_out_of_scope():
    inv = inventory(
        trtc={
            "app_id": "1400000001",
            "rooms": [item({"room_id": 7, "str_room": False}, 2400)],
            "users": [item({"room_id": 7, "user_id": "u"}, 2400)],
            "recordings": [item({"room_id": 7, "task_id": "rec-1"}, 2400)],
        }
    )
    out = classify(inv, POLICY, NOW, idle_ok={"trtc": "no"})
    assert [(i["kind"], i["rule"]) for i in out["ended"]] == [("recordings", "max_duration")]
    assert out["to_end"]["clouds"]["trtc"]["rooms"] == [] and out["to_end"]["clouds"]["trtc"]["users"] == []
    assert {r.kind for r in scope(out["to_end"])} == {"recordings"}


def test_idle_rooms_end_only_where_the_inventory_can_tell_idle():
    rooms = [item({"room_id": "empty"}, 1200, active=900), item({"room_id": "busy"}, 1200, active=900)]
    users = [item({"room_id": "busy", "user_id": "u"}, 1200)]
    zego = classify(
        inventory(zego={"app_id": "1", "rooms": rooms, "users": users}), POLICY, NOW, idle_ok={"zego": None}
    )
    assert [(i["label"], i["rule"], i["idle_s"]) for i in zego["ended"]] == [
        ("zego:1 room empty", "idle_timeout", 900.0)
    ]
    trtc_rooms = [item({"room_id": "empty", "str_room": True}, 1200, active=900)]
    why = idle_clouds(["trtc"], trtc_monitoring=False)
    assert "trtc_monitoring" in str(why["trtc"])  # TRTC refuses idle without the paid monitoring data
    trtc = classify(inventory(trtc={"app_id": "1400000001", "rooms": trtc_rooms}), POLICY, NOW, idle_ok=why)
    assert trtc["ended"] == [] and trtc["within"] == 1
    assert idle_clouds(["trtc", "zego"], trtc_monitoring=True) == {"trtc": None, "zego": None}


def test_prefix_overrides_and_kinds_without_a_cap():
    policy = parse_policy({"rooms": {"max_duration": "1h", "prefixes": {"vip-": {"max_duration": "8h"}}}})
    inv = inventory(
        zego={
            "app_id": "1",
            "rooms": [item({"room_id": "vip-1"}, 7200), item({"room_id": "std-1"}, 7200)],
            "users": [item({"room_id": r, "user_id": "u"}, 10) for r in ("vip-1", "std-1")],
            "mixes": [item({"task_id": "m"}, 99999)],  # no mixes cap: never classified
        }
    )
    out = classify(inv, policy, NOW, idle_ok={"zego": None})
    assert labels(out["ended"]) == ["zego:1 room std-1"] and out["within"] == 1
