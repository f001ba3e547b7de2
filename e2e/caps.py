"""Cost caps (issue 23) on the real deployment: `enforce_caps` with rooms and a recording seeded with
past starts. The plan (dry run) warns about the room near its cap and plans the rooms and the
recording past theirs; the enforce task ends exactly those (the recording alone: its room stays),
and leaves the room under its cap and the VIP room (a longer prefix cap) live.

The plan (4 targets) is above the run's ``approval_threshold`` (1): ``approve_plan`` waits for a
person, who approves it through the REST API (``e2e.hitl``), with the plan table in the request.
"""

from __future__ import annotations

from typing import Any

from .discovery import RUN_TIMEOUT, _check, destructive_calls, live_now, settle, with_inventory_receiver
from .harness import Deployment
from .hitl import approve
from .receivers import ScenarioReceiver

CAPS = "enforce_caps"
POLICY = {
    "rooms": {"max_duration": "2h", "prefixes": {"vip-": {"max_duration": "8h"}}},
    "recordings": {"max_duration": "20m"},
}
SEED: dict[str, Any] = {
    "trtc": {
        "rooms": [
            {"room_id": 7001, "users": 2, "started_ago": "3h"},
            {"room_id": 7002, "users": 1, "started_ago": "30m", "recording": True},
        ]
    },
    "zego": {
        "rooms": [
            {"room_id": "caps-old", "users": 2, "streams": 1, "started_ago": "3h"},
            {"room_id": "caps-near", "users": 1, "started_ago": "115m"},
            {"room_id": "vip-old", "users": 1, "started_ago": "3h"},
        ]
    },
}


def enforce_caps_scenario(dep: Deployment) -> dict[str, Any]:
    def body(receiver: ScenarioReceiver) -> dict[str, Any]:
        dep.sandbox_call("POST", "/seed", SEED)
        settle(dep)
        dep.wait_dags([CAPS])  # scheduled: unpaused only for this scenario
        conf = {
            "policy": POLICY,
            "clouds": ["trtc", "zego"],
            "warn_before": "10m",
            "dry_run": False,
            "approval_threshold": 1,  # the plan is larger: a person approves it (REST)
        }
        run_id = dep.api.trigger_alone(CAPS, conf)
        answer = approve(
            dep.api, CAPS, run_id, "approve_plan", timeout=RUN_TIMEOUT, scheduler_log=dep.scheduler_log
        )
        shown = str(answer["request"].get("body") or "")
        state = dep.api.wait_run(CAPS, run_id, RUN_TIMEOUT)
        _check("DismissRoom" in shown and "CloseRoom" in shown, f"no plan table in the request: {shown[:99]}")
        plan = dep.api.xcom(CAPS, run_id, "plan_caps") or {}
        report = dep.api.xcom(CAPS, run_id, "enforce_caps") or {}
        left = live_now(dep)
        _check(state == "success", f"enforce_caps ended {state}")
        planned = sorted(
            (i["kind"], str(i["ref"]["room"] or i["ref"]["id"])) for i in plan.get("ended") or []
        )
        _check(
            planned == [("recordings", "7002"), ("rooms", "7001"), ("rooms", "caps-old")],
            f"planned to end: {planned}",
        )
        warned = sorted(str(i["ref"]["id"]) for i in plan.get("warned") or [])
        _check(warned == ["caps-near"], f"warned: {warned}")
        _check(report.get("ended") == plan.get("ended"), "the enforce task ended another set than the plan")
        _check((report.get("result") or {}).get("survivors") == [], f"survivors: {report.get('result')}")
        _check(left["zego rooms"] == {"caps-near", "vip-old"}, f"ZEGO rooms live: {left['zego rooms']}")
        _check(left["trtc rooms"] == {"7002"}, f"TRTC rooms live: {left['trtc rooms']}")
        _check(not left["trtc recordings"], f"the recording past its cap is live: {left['trtc recordings']}")
        results = (report.get("result") or {}).get("results") or []
        return {
            "run": state,
            "approved_by": (answer["response"].get("responded_by") or {}).get("name"),
            "planned": len(planned),
            "warned": len(warned),
            "ended_calls": sum(1 for r in results if r.get("status") in ("done", "already_gone")),
            "destructive_calls": destructive_calls(dep),
            "rooms_kept": len(left["zego rooms"]) + len(left["trtc rooms"]),
        }

    try:
        return dict(with_inventory_receiver(dep, "caps-receiver", None, body))
    finally:
        dep.api.call("PATCH", f"/api/v2/dags/{CAPS}", {"is_paused": True})
