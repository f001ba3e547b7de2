"""Discovery scenarios (issue 12) on the real deployment: `end_event_by_discovery` (a dry run that
makes no destructive call, then the real run that leaves nothing in scope alive) and
`sweep_idle_rooms` (idle and old rooms ended, busy rooms untouched).

The sandbox's room, user, stream and recording lifecycle callbacks of all three clouds go to a
receiver started for the scenario (an empty inventory), a fifth of them lost; the connections get
that receiver and its keys over REST and are put back afterwards. Assertions read the run state,
the `end_event` report XCom and the sandbox's state and call counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .harness import Deployment, wait_for
from .receivers import ScenarioReceiver

DISCOVERY = "end_event_by_discovery"
SWEEP = "sweep_idle_rooms"
RUN_TIMEOUT = 420.0
#: what the discovery scenario seeds (as the discovery tests: no Live mix session, which neither a
#: callback nor a list API reveals)
EVENT: dict[str, Any] = {
    "trtc": {"rooms": 8, "users_per_room": 3, "str_rooms": 2, "recordings": 3},
    "live": {"streams": 3},
    "zego": {"rooms": 5, "users_per_room": 3, "streams_per_room": 2, "mixes": 2, "recordings": 2},
}
LOSSY: dict[str, Any] = {"lifecycle": {"lost": 0.2}}
ZEGO_SCOPE = ("zego rooms", "zego users", "zego streams", "zego recordings")


def _check(condition: Any, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def live_now(dep: Deployment) -> dict[str, set[Any]]:
    from rtc_sandbox.inventory import live_resources

    return live_resources(dep.sandbox_call("GET", "/state"))


def destructive_calls(dep: Deployment) -> int:
    """Calls the sandbox counted for APIs the catalog marks destructive (they end something)."""
    from airflow_provider_rtc.catalog import CATALOG

    destructive = {api.action for api in CATALOG.values() if api.destructive}
    actions = dep.sandbox_call("GET", "/stats")["actions"]
    return sum(int(stats["calls"]) for action, stats in actions.items() if action in destructive)


def settle(dep: Deployment, timeout: float = 60.0) -> None:
    """Until the sandbox has no callback in flight (lost ones never are)."""

    def quiet() -> bool:
        log = dep.sandbox_call("GET", "/callbacks")["log"]
        return not any(
            e.get("url") and e.get("fate") != "lost" and not e.get("delivered") and not e.get("gave_up")
            for e in log
        )

    # a sandbox tick hands what the seed generated to the delivery log: run one now (advance by 0
    # s: rtc_sandbox/wire/admin.py ``clock_advance``) instead of sleeping 1 s for the ticker, then
    # a few ticker periods (0.05 s) for a drain the ticker thread had under way (issue 24)
    dep.sandbox_call("POST", "/clock/advance", {"seconds": 0})
    time.sleep(0.25)
    wait_for("the sandbox's callbacks to be delivered", quiet, timeout, 0.25)


def with_inventory_receiver(
    dep: Deployment, name: str, faults: dict[str, Any] | None, body: Callable[[ScenarioReceiver], Any]
) -> Any:
    """Reset the sandbox, subscribe a fresh receiver to its lifecycle callbacks, point both
    connections at it, run ``body``; then put the connections and callbacks back."""
    from .scenarios import put_connection, use_receiver

    dep.sandbox_call("POST", "/reset", {})
    receiver = ScenarioReceiver(dep, name).start()
    try:
        settings = dep.sandbox_call(
            "PUT",
            "/callbacks",
            {
                "url": f"{receiver.url}/trtc/callback",
                "room_url": f"{receiver.url}/trtc/callback",
                "key": dep.callback_key,
                "zego_url": f"{receiver.url}/zego/callback",
                "zego_secret": receiver.zego_secret,
                "live_url": f"{receiver.url}/live/callback",
                "live_key": receiver.live_key,
                "timeout": 2.0,
                "retry_interval": 0.5,
                "max_age": 5.0,
            },
        )
        if faults:
            dep.sandbox_call("PUT", "/faults", faults)
        tencent = dep.sandbox["connections"]["tencentcloud_default"]
        zego = dep.sandbox["connections"]["zegocloud_default"]
        tencent_extra = {
            **tencent["extra"],
            "callback_receiver_url": receiver.url,
            "callback_secret": dep.callback_key,
            "live_callback_secret": receiver.live_key,
        }
        if settings.get("live_app_id"):
            tencent_extra["live_app_id"] = str(settings["live_app_id"])
        put_connection(dep, "tencentcloud_default", tencent, tencent_extra)
        zego_extra = {
            **zego["extra"],
            "callback_receiver_url": receiver.url,
            "callback_secret": receiver.zego_secret,
        }
        put_connection(dep, "zegocloud_default", zego, zego_extra)
        return body(receiver)
    finally:
        zego = dep.sandbox["connections"]["zegocloud_default"]
        put_connection(dep, "zegocloud_default", zego, zego["extra"])
        use_receiver(dep, dep.receiver_url)
        receiver.stop()


def end_event_by_discovery_scenario(dep: Deployment) -> dict[str, Any]:
    def body(receiver: ScenarioReceiver) -> dict[str, Any]:
        dep.sandbox_call("POST", "/seed", EVENT)
        settle(dep)
        before = live_now(dep)
        dep.wait_dags([DISCOVERY])
        conf = {"room_id_prefix": "room_", "clouds": ["zego"], "dry_run": True}
        dry_id = dep.api.trigger(DISCOVERY, conf)
        dry_state = dep.api.wait_run(DISCOVERY, dry_id, RUN_TIMEOUT)
        dry_report = dep.api.xcom(DISCOVERY, dry_id, "end_event") or {}
        inventory = dep.api.xcom(DISCOVERY, dry_id, "discover") or {}
        dry_destructive = destructive_calls(dep)
        after_dry = live_now(dep)
        _check(dry_state == "success", f"the dry run ended {dry_state}")
        _check(dry_destructive == 0, f"the dry run made {dry_destructive} destructive call(s)")
        _check(after_dry == before, "the dry run changed what is live in the sandbox")
        plan_calls = int((dry_report.get("plan") or {}).get("total_calls") or 0)
        _check(dry_report.get("dry_run") and plan_calls > 0, f"no plan in the dry run's report: {dry_report}")

        real_id = dep.api.trigger(DISCOVERY, {**conf, "dry_run": False})
        real_state = dep.api.wait_run(DISCOVERY, real_id, RUN_TIMEOUT)
        report = dep.api.xcom(DISCOVERY, real_id, "end_event") or {}
        after = live_now(dep)
        left = {kind: sorted(map(str, after[kind]))[:5] for kind in ZEGO_SCOPE if after[kind]}
        results = report.get("results") or []
        _check(real_state == "success", f"the real run ended {real_state}")
        _check(report.get("survivors") == [], f"survivors reported: {report.get('survivors')}")
        _check(not left, f"left alive in the sandbox, in scope: {left}")
        _check(after["trtc rooms"] == before["trtc rooms"], "TRTC rooms (out of scope) were touched")
        return {
            "zego_rooms": len(before["zego rooms"]),
            "callbacks_lost": sum(
                1 for e in dep.sandbox_call("GET", "/callbacks")["log"] if e.get("fate") == "lost"
            ),
            "dry_destructive_calls": dry_destructive,
            "plan_calls": plan_calls,
            "ended": sum(
                1 for r in results if isinstance(r, dict) and r.get("status") in ("done", "already_gone")
            ),
            "discovery_corrections": len(inventory.get("corrections") or []),
            "survivors": len(report.get("survivors") or []),
            "left_in_scope": sum(len(after[k]) for k in ZEGO_SCOPE),
            "destructive_calls": destructive_calls(dep),
        }

    try:
        return dict(with_inventory_receiver(dep, "discovery-receiver", LOSSY, body))
    finally:
        dep.api.call("PATCH", f"/api/v2/dags/{DISCOVERY}", {"is_paused": True})


def sweep_idle_rooms_scenario(dep: Deployment) -> dict[str, Any]:
    def body(receiver: ScenarioReceiver) -> dict[str, Any]:
        from .lake import use_client_connections

        dep.sandbox_call("PUT", "/clock", {"offset_seconds": -3 * 3600})  # these started 3 h ago
        old = dep.sandbox_call("POST", "/seed", {"zego": {"rooms": 2, "users_per_room": 2}})["zego"]["rooms"]
        dep.sandbox_call("PUT", "/clock", {"offset_seconds": 0})
        seeded = dep.sandbox_call(
            "POST",
            "/seed",
            {"trtc": {"rooms": 3, "users_per_room": 2}, "zego": {"rooms": 1, "users_per_room": 1}},
        )
        idle, *busy = seeded["trtc"]["rooms"]
        use_client_connections(dep)
        from airflow_provider_rtc.hooks.trtc import TrtcHook

        TrtcHook().remove_user(idle, list(seeded["trtc"]["users"][str(idle)]))  # everyone left: idle
        settle(dep)
        dep.wait_dags([SWEEP])  # unpaused only for this scenario (it is scheduled)
        run_id = dep.api.trigger_alone(SWEEP, {"idle_minutes": 0, "older_than_hours": 2})
        state = dep.api.wait_run(SWEEP, run_id, RUN_TIMEOUT)
        left = live_now(dep)
        _check(state == "success", f"the sweep ended {state}")
        # the idle sweep covers ZEGO only (TRTC cannot tell idle from busy): every TRTC room, 3 h old
        # at most, is kept
        kept = {str(r) for r in [idle, *busy]}
        _check(left["trtc rooms"] == kept, f"TRTC rooms touched: {left['trtc rooms']}")
        _check(
            not set(old) & left["zego rooms"], f"old ZEGO rooms still live: {set(old) & left['zego rooms']}"
        )
        _check(left["zego rooms"] == set(seeded["zego"]["rooms"]), "a busy ZEGO room was ended")
        return {
            "idle_rooms_ended": 0,
            "old_rooms_ended": len(old),
            "busy_rooms_kept": len(busy) + len(seeded["zego"]["rooms"]),
            "run": state,
        }

    try:
        return dict(with_inventory_receiver(dep, "sweep-receiver", None, body))
    finally:
        dep.api.call("PATCH", f"/api/v2/dags/{SWEEP}", {"is_paused": True})


#: the second SDKAppID the deployed sandbox holds (``e2e/__main__.py`` passes it in the config)
OTHER_APP = 1400000002


def _trtc_rooms(dep: Deployment) -> set[tuple[int, Any]]:
    """Ground truth: every live TRTC room as (SDKAppID, room id as the cloud holds it: int or str)."""
    return {(int(r["sdk_app_id"]), r["room_id"]) for r in dep.sandbox_call("GET", "/state")["trtc"]["rooms"]}


def _action_calls(dep: Deployment) -> dict[str, int]:
    return {a: int(s["calls"]) for a, s in dep.sandbox_call("GET", "/stats")["actions"].items()}


def _end_rooms(dep: Deployment, room_ids: list[Any]) -> tuple[str, dict[str, Any]]:
    """Run end_event_by_discovery for these (typed) TRTC room ids: run state and the report."""
    run_id = dep.api.trigger(DISCOVERY, {"room_ids": room_ids, "clouds": ["trtc"], "dry_run": False})
    state = dep.api.wait_run(DISCOVERY, run_id, RUN_TIMEOUT)
    return state, dep.api.xcom(DISCOVERY, run_id, "end_event") or {}


def typed_trtc_rooms_scenario(dep: Deployment) -> dict[str, Any]:
    """Numeric room 1234 and string room "1234": ``room_ids: [1234]`` ends the numeric one only,
    ``["1234"]`` then the string one only (issue 17, wrong target)."""

    def body(receiver: ScenarioReceiver) -> dict[str, Any]:
        app = int(dep.sandbox_call("GET", "/state")["trtc"]["sdk_app_ids"][0])  # the connection's
        dep.sandbox_call("POST", "/trtc/users", {"room_id": 1234, "users": ["n1", "n2"]})
        dep.sandbox_call("POST", "/trtc/users", {"room_id": "1234", "users": ["s1"]})
        settle(dep)
        dep.wait_dags([DISCOVERY])
        _check(_trtc_rooms(dep) == {(app, 1234), (app, "1234")}, f"seeded: {_trtc_rooms(dep)}")
        state, report = _end_rooms(dep, [1234])
        after_numeric = _trtc_rooms(dep)
        calls = _action_calls(dep)
        _check(state == "success", f"the numeric run ended {state}")
        _check(after_numeric == {(app, "1234")}, f"after room_ids [1234]: {after_numeric}")
        _check(calls.get("DismissRoom") == 1, f"DismissRoom calls: {calls.get('DismissRoom')}")
        _check(not calls.get("DismissRoomByStrRoomId"), "the string room was dismissed")
        labels = [r.get("label") for r in report.get("results") or []]
        _check(labels == [f"trtc:{app} room 1234 (int)"], f"results: {labels}")
        state, _ = _end_rooms(dep, ["1234"])
        after_string = _trtc_rooms(dep)
        calls = _action_calls(dep)
        _check(state == "success", f"the string run ended {state}")
        _check(after_string == set(), f"after room_ids ['1234']: {after_string}")
        _check(calls.get("DismissRoomByStrRoomId") == 1 and calls.get("DismissRoom") == 1, f"calls: {calls}")
        return {
            "numeric_run_destructive_calls": 1,
            "string_room_live_after_numeric_run": (app, "1234") in after_numeric,
            "destructive_calls": destructive_calls(dep),
        }

    try:
        return dict(with_inventory_receiver(dep, "typed-rooms-receiver", None, body))
    finally:
        dep.api.call("PATCH", f"/api/v2/dags/{DISCOVERY}", {"is_paused": True})


def two_apps_scenario(dep: Deployment) -> dict[str, Any]:
    """Room 1234 in the connection's SDKAppID and in another: only the connection's app's room ends
    (issue 17, another app)."""

    def body(receiver: ScenarioReceiver) -> dict[str, Any]:
        app = int(dep.sandbox_call("GET", "/state")["trtc"]["sdk_app_ids"][0])  # the connection's
        apps = [int(a) for a in dep.sandbox_call("GET", "/state")["trtc"]["sdk_app_ids"]]
        _check(OTHER_APP in apps, f"the sandbox has no second SDKAppID {OTHER_APP}: {apps}")
        for sdk_app_id in (app, OTHER_APP):
            dep.sandbox_call(
                "POST", "/trtc/users", {"room_id": 1234, "users": ["u1"], "sdk_app_id": sdk_app_id}
            )
        settle(dep)
        dep.wait_dags([DISCOVERY])
        state, report = _end_rooms(dep, [1234])
        after = _trtc_rooms(dep)
        _check(state == "success", f"the run ended {state}")
        _check(after == {(OTHER_APP, 1234)}, f"live after the run: {after}")
        _check(destructive_calls(dep) == 1, f"destructive calls: {destructive_calls(dep)}")
        return {
            "other_app_room_live": (OTHER_APP, 1234) in after,
            "destructive_calls": destructive_calls(dep),
            "ended": [r.get("label") for r in report.get("results") or []],
        }

    try:
        return dict(with_inventory_receiver(dep, "two-apps-receiver", None, body))
    finally:
        dep.api.call("PATCH", f"/api/v2/dags/{DISCOVERY}", {"is_paused": True})
