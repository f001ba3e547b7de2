"""Discovery scenarios of issue 17 (H2) on the real deployment, asserting the sandbox's ground truth:

* ``future_dated_callback`` - a signed ZEGO ``room_close`` dated ten years ahead reaches the receiver
  while the room is live; ``end_event_by_discovery`` must still find the room (reconciliation asks
  DescribeUserNum now, which outranks a time clamped to the callback's receipt) and end it, so the
  sandbox has no room left in scope. Before the fix the run succeeded with nothing ended.
* ``idle_for_lost_enter_callbacks`` - a TRTC room with two users whose enter callbacks were all lost;
  ``sweep_idle_rooms`` asked to sweep TRTC by ``idle_for`` must refuse (TRTC lists no users for free)
  and the room must still hold its two users. Before the fix the busy room was dismissed.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from .discovery import DISCOVERY, RUN_TIMEOUT, SWEEP, _check, live_now, settle, with_inventory_receiver
from .harness import Deployment, http_json
from .receivers import ScenarioReceiver

TEN_YEARS_S = 10 * 365 * 86400


def _post_zego(receiver: ScenarioReceiver, body: dict[str, Any]) -> Any:
    from airflow_provider_rtc.signing.callbacks import zego_callback_signature

    timestamp, nonce = str(int(time.time())), secrets.token_hex(6)
    signed = {
        **body,
        "timestamp": timestamp,
        "nonce": nonce,
        "signature": zego_callback_signature(receiver.zego_secret, timestamp, nonce),
    }
    return http_json("POST", f"{receiver.url}/zego/callback", signed, timeout=10)


def future_dated_callback_scenario(dep: Deployment) -> dict[str, Any]:
    def body(receiver: ScenarioReceiver) -> dict[str, Any]:
        app_id = str(dep.sandbox["connections"]["zegocloud_default"]["login"])
        (room,) = dep.sandbox_call("POST", "/seed", {"zego": {"rooms": 1, "users_per_room": 2}})["zego"][
            "rooms"
        ]
        settle(dep)
        _check(room in live_now(dep)["zego rooms"], f"the seeded room {room} is not live")
        future_ms = int((time.time() + TEN_YEARS_S) * 1000)
        _post_zego(
            receiver,
            {
                "event": "room_close",
                "appid": app_id,
                "room_id": room,
                "close_reason": "1",
                "room_close_time": str(future_ms),
            },
        )
        dep.wait_dags([DISCOVERY])
        run_id = dep.api.trigger(DISCOVERY, {"room_id_prefix": "room_", "clouds": ["zego"], "dry_run": False})
        state = dep.api.wait_run(DISCOVERY, run_id, RUN_TIMEOUT)
        report = dep.api.xcom(DISCOVERY, run_id, "end_event") or {}
        left = live_now(dep)
        ended = [r for r in report.get("results") or [] if r.get("status") in ("done", "already_gone")]
        _check(state == "success", f"the run ended {state}")
        _check(room not in left["zego rooms"], f"the room {room} is still live in the sandbox")
        _check(ended, f"nothing was ended: {report.get('results')}")
        return {"run": state, "ended": len(ended), "zego_rooms_left": len(left["zego rooms"])}

    try:
        return dict(with_inventory_receiver(dep, "future-receiver", None, body))
    finally:
        dep.api.call("PATCH", f"/api/v2/dags/{DISCOVERY}", {"is_paused": True})


def idle_for_lost_enter_callbacks_scenario(dep: Deployment) -> dict[str, Any]:
    def body(receiver: ScenarioReceiver) -> dict[str, Any]:
        seeded = dep.sandbox_call("POST", "/seed", {"trtc": {"rooms": 1, "users_per_room": 2}})
        (room,) = seeded["trtc"]["rooms"]
        settle(dep)
        lost = [e for e in dep.sandbox_call("GET", "/callbacks")["log"] if e.get("fate") == "lost"]
        dep.wait_dags([SWEEP])
        run_id = dep.api.trigger(
            SWEEP, {"idle_minutes": 0, "older_than_hours": 12, "idle_clouds": ["trtc"], "clouds": ["trtc"]}
        )
        state = dep.api.wait_run(SWEEP, run_id, RUN_TIMEOUT)
        left = live_now(dep)
        _check(str(room) in left["trtc rooms"], f"the busy TRTC room {room} was dismissed")
        users = {u for u in left["trtc users"] if u[0] == str(room)}
        _check(len(users) == 2, f"the room's users are not both there: {sorted(map(str, users))}")
        _check(state == "failed", f"the idle sweep over TRTC ended {state}, not refused")
        return {"run": state, "lost_user_callbacks": len(lost), "users_kept": len(users)}

    faults = {"lifecycle": {"lost": 1.0, "kinds": ["user"]}}
    try:
        return dict(with_inventory_receiver(dep, "idle-receiver", faults, body))
    finally:
        dep.api.call("PATCH", f"/api/v2/dags/{SWEEP}", {"is_paused": True})
