"""The `approval` scenario (issue 23, item 3): end_event_by_discovery asks a person when its plan
exceeds ``approval_threshold``; the answer is given through the REST API (:mod:`e2e.hitl`).

Run 1 seeds more ZEGO rooms than the threshold, waits for the request, checks it shows the plan
table, approves: every room in scope is ended. Run 2 seeds them again and rejects: ``end_event`` is
skipped and not one destructive call is made.
"""

from __future__ import annotations

from typing import Any

from .discovery import DISCOVERY, RUN_TIMEOUT, destructive_calls, live_now, settle, with_inventory_receiver
from .harness import Deployment
from .hitl import approve, reject

THRESHOLD = 3
SEED: dict[str, Any] = {"zego": {"rooms": 6, "users_per_room": 1}}
CONF: dict[str, Any] = {"room_id_prefix": "room_", "clouds": ["zego"], "approval_threshold": THRESHOLD}


def _check(condition: Any, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _state(dep: Deployment, run_id: str, task_id: str) -> str:
    return str(next(t["state"] for t in dep.api.task_instances(DISCOVERY, run_id) if t["task_id"] == task_id))


def approval_scenario(dep: Deployment) -> dict[str, Any]:
    def body(receiver: Any) -> dict[str, Any]:
        rooms = set(map(str, dep.sandbox_call("POST", "/seed", SEED)["zego"]["rooms"]))
        settle(dep)
        dep.wait_dags([DISCOVERY])
        _check(rooms <= live_now(dep)["zego rooms"], "the seeded rooms are not live")
        run_id = dep.api.trigger(DISCOVERY, CONF)
        answer = approve(
            dep.api, DISCOVERY, run_id, "approve_plan", timeout=RUN_TIMEOUT, scheduler_log=dep.scheduler_log
        )
        shown = str(answer["request"].get("body") or "")
        state = dep.api.wait_run(DISCOVERY, run_id, RUN_TIMEOUT)
        report = dep.api.xcom(DISCOVERY, run_id, "end_event") or {}
        left = rooms & live_now(dep)["zego rooms"]
        _check("| zego | rooms | CloseRoom |" in shown, f"no plan table in the request: {shown[:300]}")
        _check(state == "success", f"the approved run ended {state}")
        _check(not left, f"rooms left live after the approval: {sorted(left)}")
        _check(report.get("survivors") == [], f"survivors: {report.get('survivors')}")
        ended_calls = destructive_calls(dep)

        again = set(map(str, dep.sandbox_call("POST", "/seed", SEED)["zego"]["rooms"]))
        settle(dep)
        run_id = dep.api.trigger(DISCOVERY, CONF)
        reject(
            dep.api, DISCOVERY, run_id, "approve_plan", timeout=RUN_TIMEOUT, scheduler_log=dep.scheduler_log
        )
        rejected_state = dep.api.wait_run(DISCOVERY, run_id, RUN_TIMEOUT)
        end_state = _state(dep, run_id, "end_event")
        _check(end_state == "skipped", f"end_event after a rejection: {end_state}")
        _check(again <= live_now(dep)["zego rooms"], "a rejected plan ended rooms")
        _check(destructive_calls(dep) == ended_calls, "a rejected plan made destructive calls")
        return {
            "threshold": THRESHOLD,
            "rooms_seeded": len(rooms),
            "approved_run": state,
            "ended_after_approval": len(rooms) - len(left),
            "approved_by": (answer["response"].get("responded_by") or {}).get("name"),
            "rejected_run": rejected_state,
            "end_event_after_reject": end_state,
            "live_after_reject": len(again & live_now(dep)["zego rooms"]),
            "destructive_calls": destructive_calls(dep),
        }

    try:
        return dict(with_inventory_receiver(dep, "approval-receiver", None, body))
    finally:
        dep.api.call("PATCH", f"/api/v2/dags/{DISCOVERY}", {"is_paused": True})
