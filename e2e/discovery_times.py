"""Discovery scenarios of issue 17 on the real deployment, asserting the sandbox's ground truth:

* ``future_dated_callback`` - a validly signed Live stop-push dated ten years ahead reaches the
  receiver while the stream pushes; ``end_event_by_discovery`` must still find the stream
  (DescribeLiveStreamOnlineList, asked now, outranks a time clamped to the callback's receipt) and
  drop it, so the sandbox has no stream left. Before the fix the run succeeded with nothing ended.
* ``idle_for_lost_enter_callbacks`` - a TRTC room with two users whose enter (and stream) callbacks
  were all lost; ``sweep_idle_rooms`` asked to sweep TRTC by ``idle_for`` must refuse (its
  ``end_idle_rooms`` task fails: TRTC lists no users for free) and the room must still hold its two
  users. Before the fix the busy room was dismissed. (The run itself succeeds: its last task, the
  age cap, runs anyway.)
"""

from __future__ import annotations

import time
from typing import Any

from .discovery import DISCOVERY, RUN_TIMEOUT, SWEEP, _check, live_now, settle, with_inventory_receiver
from .harness import Deployment, http_json
from .receivers import ScenarioReceiver

TEN_YEARS_S = 10 * 365 * 86400


def future_dated_callback_scenario(dep: Deployment) -> dict[str, Any]:
    def body(receiver: ScenarioReceiver) -> dict[str, Any]:
        from airflow_provider_rtc.signing.callbacks import live_callback_sign

        seeded = dep.sandbox_call("POST", "/seed", {"live": {"streams": 1}})["live"]["streams"]
        (stream,) = seeded
        settle(dep)
        name = stream["stream_name"]
        _check(name in live_now(dep)["live streams"], f"the seeded stream {name} is not pushing")
        settings = dep.sandbox_call("GET", "/callbacks")["settings"]
        t = int(time.time()) + 900  # a signature of its own: Tencent signs only key + t
        forged = {
            "appid": settings["live_app_id"],
            "app": stream["domain_name"],
            "appname": stream["app_name"],
            "stream_id": name,
            "event_type": 0,
            "event_time": int(time.time()) + TEN_YEARS_S,
            "t": t,
            "sign": live_callback_sign(receiver.live_key, t),
        }
        http_json("POST", f"{receiver.url}/live/callback", forged, timeout=10)
        dep.wait_dags([DISCOVERY])
        conf = {"room_id_prefix": name, "clouds": ["live"], "dry_run": False}
        run_id = dep.api.trigger(DISCOVERY, conf)
        state = dep.api.wait_run(DISCOVERY, run_id, RUN_TIMEOUT)
        report = dep.api.xcom(DISCOVERY, run_id, "end_event") or {}
        left = live_now(dep)
        ended = [r for r in report.get("results") or [] if r.get("status") in ("done", "already_gone")]
        _check(state == "success", f"the run ended {state}")
        _check(name not in left["live streams"], f"the stream {name} still pushes in the sandbox")
        _check(ended, f"nothing was ended: {report.get('results')}")
        return {"run": state, "ended": len(ended), "streams_left": len(left["live streams"])}

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
        run_id = dep.api.trigger_alone(
            SWEEP, {"idle_minutes": 0, "older_than_hours": 12, "idle_clouds": ["trtc"], "clouds": ["trtc"]}
        )
        state = dep.api.wait_run(SWEEP, run_id, RUN_TIMEOUT)
        tasks = {ti["task_id"]: ti["state"] for ti in dep.api.task_instances(SWEEP, run_id)}
        left = live_now(dep)
        _check(str(room) in left["trtc rooms"], f"the busy TRTC room {room} was dismissed")
        users = {u for u in left["trtc users"] if u[0] == str(room)}
        _check(len(users) == 2, f"the room's users are not both there: {sorted(map(str, users))}")
        idle_task = tasks.get("end_idle_rooms")
        _check(idle_task == "failed", f"the idle sweep over TRTC ended {idle_task}, not refused")
        return {
            "idle_task": idle_task,
            "run": state,
            "lost_user_callbacks": len(lost),
            "users_kept": len(users),
        }

    faults = {"lifecycle": {"lost": 1.0, "kinds": ["user", "stream"]}}  # only "room created" arrives
    try:
        return dict(with_inventory_receiver(dep, "idle-receiver", faults, body))
    finally:
        dep.api.call("PATCH", f"/api/v2/dags/{SWEEP}", {"is_paused": True})
