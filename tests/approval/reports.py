"""Dry-run reports in the shapes PlanApprovalOperator takes (EndEventOperator's; a caps report)."""

from __future__ import annotations

from typing import Any

APP = "1400000001"


def end_event_report(rooms: int, *, users: int = 0, seconds: float = 12.5) -> dict[str, Any]:
    """EndEventOperator(dry_run=True)'s report: ``rooms`` DismissRoom targets (one ref each) and one
    RemoveUser chunk of ``users`` users (``users`` refs) when given."""
    targets: list[dict[str, Any]] = []
    for n in range(rooms):
        ref = {"cloud": "trtc", "app_id": APP, "kind": "room", "id": str(n), "id_type": "int", "room": None}
        targets.append(
            {
                "stage": "rooms",
                "cloud": "trtc",
                "kind": "rooms",
                "action": "DismissRoom",
                "ids": {"room_id": n},
                "refs": [ref],
                "label": f"trtc:{APP} room {n} (int)",
            }
        )
    if users:
        refs = [
            {"cloud": "trtc", "app_id": APP, "kind": "user", "id": f"u{i}", "id_type": "str", "room": "7"}
            for i in range(users)
        ]
        targets.append(
            {
                "stage": "users",
                "cloud": "trtc",
                "kind": "users",
                "action": "RemoveUser",
                "ids": {"room_id": 7, "user_ids": [r["id"] for r in refs]},
                "refs": refs,
                "label": f"trtc:{APP} {users} user(s) of room 7",
            }
        )
    return {
        "dry_run": True,
        "plan": {"targets": targets, "estimated_seconds": seconds, "total_calls": len(targets), "stages": []},
        "results": [],
        "survivors": [],
        "inventory": {"discovered_at": "2026-12-07T03:00:00+00:00", "clouds": {"trtc": {"app_id": APP}}},
    }


def caps_report(items: int) -> dict[str, Any]:
    """EnforceCapsOperator's report (the shared contract) with ``items`` rooms past their cap."""
    ended = [
        {
            "ref": {"cloud": "zego", "app_id": "1", "kind": "room", "id": f"r{n}", "id_type": "str"},
            "label": f"zego:1 room r{n}",
            "kind": "rooms",
            "rule": "max_duration",
            "age_s": 7300.0,
            "idle_s": None,
            "cap_s": 7200.0,
            "started_at": "2026-12-07T01:00:00+00:00",
            "started_source": "cloud",
        }
        for n in range(items)
    ]
    return {
        "checked_at": "2026-12-07T03:00:00+00:00",
        "policy": {},
        "dry_run": True,
        "warned": [],
        "ended": ended,
        "unproven": [],
        "within": 0,
        "result": None,
    }
