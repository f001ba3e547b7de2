"""Ending an event: the plan (ordered stages, calls, time at the rate limits), its execution and
the verification that nothing in scope is left.

Stages run in order, each one finished before the next: **mixes** (they read streams), **recordings**
(stopped before their rooms so the files are finalised by the stop, not by the robot being thrown
out), **streams and users**, **rooms**. Users and streams of a room that the rooms stage ends are
*covered* by DismissRoom/CloseRoom (which remove everyone; ZEGO's CloseRoom also closes the streams)
and cost no call of their own; only those whose room stays get RemoveUser/KickoutUser/DeleteStream.
Live streams (no rooms) are dropped in the third stage. The time of each stage is what the slowest
of its actions needs at the catalog's documented rate (ZEGO CloseRoom: 1 call/s).

Calls go through the hooks (paced at the documented rate, retried, "already gone" = done) and the
bulk engine (:mod:`airflow_provider_rtc.operators.bulk`: bounded concurrency, stoppable); results
are ``done`` / ``already_gone`` / ``failed`` with the cloud's code and the engine's
``maybe_executed`` / ``after_lost_response``, or ``not_started`` once the run was stopped. Every
answer that says a target is gone is recorded in the receiver's inventory as a correction, so a
lost "room dismissed" callback cannot make the verification report a survivor that is not there,
while any callback about a later moment (a user entering again) still makes it one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_provider_rtc import catalog
from airflow_provider_rtc.discovery import receiver
from airflow_provider_rtc.discovery.discover import Access, discover
from airflow_provider_rtc.discovery.selector import Selector
from airflow_provider_rtc.exceptions import RtcNotFoundError
from airflow_provider_rtc.operators.bulk import BulkTarget, not_started

if TYPE_CHECKING:
    from airflow_provider_rtc.operators.bulk import BulkRun

STAGES = ("mixes", "recordings", "streams and users", "rooms")
_PRODUCT = {"trtc": "tencent", "live": "tencent", "zego": "zego"}


def _qps(cloud: str, action: str) -> float:
    api = catalog.by_action(_PRODUCT[cloud], action)  # type: ignore[arg-type]
    return float(api.qps) if api is not None and api.qps else 10.0


def _target(
    stage: str, cloud: str, kind: str, action: str, ids: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {"stage": stage, "cloud": cloud, "kind": kind, "action": action, "ids": ids, **extra}


def _chunks(values: list[str], size: int) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def build_plan(inventory: dict[str, Any], *, zego_mix_user_id: str | None = None) -> dict[str, Any]:
    """The plan for an inventory (a discovery result, or the same shape built by hand)."""
    clouds = inventory.get("clouds") or {}
    targets: list[dict[str, Any]] = []
    covered: list[dict[str, Any]] = []
    trtc, live, zego = clouds.get("trtc") or {}, clouds.get("live") or {}, clouds.get("zego") or {}

    for mix in zego.get("mixes") or []:
        user = mix["ids"].get("user_id") or zego_mix_user_id
        targets.append(_target("mixes", "zego", "mixes", "StopMix", mix["ids"], user_id=user))
    for mix in live.get("mixes") or []:
        targets.append(_target("mixes", "live", "mixes", "CancelCommonMixStream", mix["ids"]))
    for rec in trtc.get("recordings") or []:
        targets.append(_target("recordings", "trtc", "recordings", "DeleteCloudRecording", rec["ids"]))
    for rec in zego.get("recordings") or []:
        targets.append(_target("recordings", "zego", "recordings", "StopRecord", rec["ids"]))

    for stream in live.get("streams") or []:
        targets.append(_target("streams and users", "live", "streams", "DropLiveStream", stream["ids"]))
    trtc_rooms = {str(r["ids"]["room_id"]): r for r in trtc.get("rooms") or []}
    zego_rooms = {str(r["ids"]["room_id"]): r for r in zego.get("rooms") or []}
    for cloud, rooms, data in (("trtc", trtc_rooms, trtc), ("zego", zego_rooms, zego)):
        by = "DismissRoom" if cloud == "trtc" else "CloseRoom"
        for kind in ("users", "streams"):
            items = data.get(kind) or []
            inside = [i for i in items if str(i["ids"].get("room_id")) in rooms]
            if inside:
                covered.append({"cloud": cloud, "kind": kind, "count": len(inside), "by": by})
            outside: dict[str, list[dict[str, Any]]] = {}
            for item in items:
                if str(item["ids"].get("room_id")) not in rooms:
                    outside.setdefault(str(item["ids"].get("room_id")), []).append(item)
            for members in outside.values():
                room_value = members[0]["ids"]["room_id"]
                if kind == "streams" and cloud == "zego":
                    for m in members:
                        targets.append(
                            _target("streams and users", "zego", "streams", "DeleteStream", m["ids"])
                        )
                elif kind == "users":
                    size = 10 if cloud == "trtc" else 5
                    action = "KickoutUser" if cloud == "zego" else "RemoveUser"
                    if cloud == "trtc" and isinstance(room_value, str):
                        action = "RemoveUserByStrRoomId"
                    names = sorted({str(m["ids"]["user_id"]) for m in members})
                    for chunk in _chunks(names, size):
                        ids = {"room_id": room_value, "user_ids": chunk}
                        targets.append(_target("streams and users", cloud, "users", action, ids))
                # a TRTC stream outside a dismissed room ends when its user is removed
    for room in trtc_rooms.values():
        str_room = isinstance(room["ids"]["room_id"], str)
        action = "DismissRoomByStrRoomId" if str_room else "DismissRoom"
        targets.append(_target("rooms", "trtc", "rooms", action, room["ids"]))
    for room in zego_rooms.values():
        targets.append(_target("rooms", "zego", "rooms", "CloseRoom", room["ids"]))

    stages: list[dict[str, Any]] = []
    for stage in STAGES:
        counts: dict[tuple[str, str], int] = {}
        for t in targets:
            if t["stage"] == stage:
                counts[(t["cloud"], t["action"])] = counts.get((t["cloud"], t["action"]), 0) + 1
        calls: list[dict[str, Any]] = [
            {
                "cloud": cloud,
                "action": action,
                "calls": n,
                "qps": _qps(cloud, action),
                "seconds": round(n / _qps(cloud, action), 2),
            }
            for (cloud, action), n in sorted(counts.items())
        ]
        stages.append(
            {
                "stage": stage,
                "calls": calls,
                "covered": [c for c in covered if stage == "streams and users"],
                "seconds": max((float(c["seconds"]) for c in calls), default=0.0),
            }
        )
    return {
        "stages": stages,
        "targets": targets,
        "total_calls": len(targets),
        "estimated_seconds": round(sum(float(s["seconds"]) for s in stages), 2),
    }


def render_table(plan: dict[str, Any]) -> str:
    """The plan as a table for the task log."""
    lines = [f"{'#':<2} {'stage':<18} {'cloud':<5} {'action':<28} {'calls':>6} {'qps':>7} {'time':>8}"]
    for n, stage in enumerate(plan["stages"], start=1):
        if not stage["calls"] and not stage["covered"]:
            lines.append(f"{n:<2} {stage['stage']:<18} {'-':<5} {'(nothing)':<28} {0:>6} {'':>7} {'0.0s':>8}")
        for c in stage["calls"]:
            lines.append(
                f"{n:<2} {stage['stage']:<18} {c['cloud']:<5} {c['action']:<28} {c['calls']:>6} "
                f"{c['qps']:>7g} {c['seconds']:>7.1f}s"
            )
        for c in stage["covered"]:
            label = f"({c['count']} {c['kind']}: by {c['by']})"
            lines.append(f"{n:<2} {stage['stage']:<18} {c['cloud']:<5} {label:<28} {0:>6} {'':>7} {'':>8}")
    lines.append(
        f"total: {plan['total_calls']} destructive call(s), about {plan['estimated_seconds']:.1f}s "
        "at the documented rate limits"
    )
    return "\n".join(lines)


def _call(target: dict[str, Any], hooks: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    ids, action = target["ids"], target["action"]
    if action == "StopMix":
        return lambda: hooks["rtc"].stop_mix(ids["task_id"], target.get("user_id"))
    if action == "CancelCommonMixStream":
        return lambda: hooks["live"].cancel_common_mix_stream(ids["session_id"])
    if action == "DeleteCloudRecording":
        return lambda: hooks["trtc"].delete_cloud_recording(ids["task_id"])
    if action == "StopRecord":
        return lambda: hooks["record"].stop_record(ids["task_id"])
    if action == "DropLiveStream":
        return lambda: hooks["live"].drop_live_stream(ids["stream_name"], ids["domain_name"], ids["app_name"])
    if action == "DeleteStream":
        return lambda: hooks["rtc"].delete_stream(ids["room_id"], ids["user_id"], ids["stream_id"])
    if action == "KickoutUser":
        return lambda: hooks["rtc"].kickout_user(ids["room_id"], ids["user_ids"])
    if action == "RemoveUser":
        return lambda: hooks["trtc"].remove_user(ids["room_id"], ids["user_ids"])
    if action == "RemoveUserByStrRoomId":
        return lambda: hooks["trtc"].remove_user_by_str_room_id(ids["room_id"], ids["user_ids"])
    if action == "DismissRoom":
        return lambda: hooks["trtc"].dismiss_room(ids["room_id"])
    if action == "DismissRoomByStrRoomId":
        return lambda: hooks["trtc"].dismiss_room_by_str_room_id(ids["room_id"])
    if action == "CloseRoom":
        return lambda: hooks["rtc"].close_room(ids["room_id"], room_close_callback=True)
    raise ValueError(f"no call for {action}")


def _bulk_target(target: dict[str, Any], hooks: dict[str, Any]) -> BulkTarget:
    """The target as the bulk engine runs it; the call notes when it started (``at_ms``), which
    the corrections need so that a callback about a later moment still wins."""
    described = {k: target[k] for k in ("stage", "cloud", "kind", "action", "ids")}
    send = _call(target, hooks)

    def call() -> dict[str, Any]:
        described["at_ms"] = int(time.time() * 1000)
        return send()

    return BulkTarget(f"{target['cloud']} {target['action']} {target['ids']}", described, call)


def _as_result(raw: dict[str, Any], item: BulkTarget) -> dict[str, Any]:
    """An engine result in the report's shape: the resource ``kind`` stays, the error's kind is
    ``kind_of_error``; ``target`` (the label) is dropped as ``ids`` already say it."""
    result = {k: v for k, v in raw.items() if k != "target"}
    if "kind" in raw and raw["kind"] != item.described["kind"]:
        result["kind_of_error"] = raw["kind"]
    result.update(item.described)
    return result


def execute(
    plan: dict[str, Any], access: dict[str, Access], run: BulkRun, *, log: Any = None
) -> tuple[list[dict[str, Any]], dict[str, float], BaseException | None]:
    """Run the stages in order with the bulk engine, each finished before the next.

    Returns the results (one per target, in plan order: ``done`` / ``already_gone`` / ``failed``
    with ``maybe_executed`` and ``after_lost_response`` / ``not_started``), the seconds per stage
    run, and the interruption (the ``execution_timeout`` alarm) if there was one. Once ``run`` is
    stopped no new call is issued and every later target is ``not_started``.
    """
    results: list[dict[str, Any]] = []
    timings: dict[str, float] = {}
    interrupted: BaseException | None = None
    for stage in STAGES:
        batch = [_bulk_target(t, access[t["cloud"]].hooks) for t in plan["targets"] if t["stage"] == stage]
        if run.stopped or interrupted is not None:
            results += [_as_result(not_started(item), item) for item in batch]
            continue
        started = time.monotonic()
        raw, interrupted = run.run(batch, log=log)
        done = [_as_result(r, item) for r, item in zip(raw, batch, strict=True)]
        results += done
        timings[stage] = round(time.monotonic() - started, 3)
        if log is not None and batch:
            counts: dict[str, int] = {}
            for r in done:
                counts[r["status"]] = counts.get(r["status"], 0) + 1
            log.info("stage %s: %s in %.1fs", stage, counts, timings[stage])
    return results, timings, interrupted


def record_results(results: list[dict[str, Any]], access: dict[str, Access]) -> None:
    """Tell the receiver what the clouds answered: every target they said is gone has ended."""
    by_cloud: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        if r["status"] not in ("done", "already_gone") or r["cloud"] not in access:
            continue
        reason = f"{r['action']}: {r['status']}"
        if r["kind"] == "users":
            for user in r["ids"]["user_ids"]:
                ids = {"room_id": r["ids"]["room_id"], "user_id": user}
                by_cloud.setdefault(r["cloud"], []).append(
                    {"kind": "users", "ids": ids, "live": False, "at_ms": r["at_ms"], "reason": reason}
                )
            continue
        ids = {k: v for k, v in r["ids"].items() if k != "str_room"}
        by_cloud.setdefault(r["cloud"], []).append(
            {"kind": r["kind"], "ids": ids, "live": False, "at_ms": r["at_ms"], "reason": reason}
        )
    for cloud, corrections in by_cloud.items():
        acc = access[cloud]
        receiver.post_corrections(acc.target, cloud, acc.app_id, corrections)


def scope_of(plan: dict[str, Any]) -> dict[str, dict[str, set[str]]]:
    """Per cloud: the rooms, stream names and task ids the plan ends (what verification watches)."""
    scope: dict[str, dict[str, set[str]]] = {}
    for t in plan["targets"]:
        s = scope.setdefault(t["cloud"], {"rooms": set(), "streams": set(), "tasks": set()})
        ids = t["ids"]
        if "room_id" in ids:
            s["rooms"].add(str(ids["room_id"]))
        if "stream_name" in ids:
            s["streams"].add(str(ids["stream_name"]))
        if "task_id" in ids:
            s["tasks"].add(str(ids["task_id"]))
    return scope


def survivors_in(inventory: dict[str, Any], scope: dict[str, dict[str, set[str]]]) -> list[dict[str, Any]]:
    out = []
    for cloud, kinds in inventory["clouds"].items():
        s = scope.get(cloud)
        if not s:
            continue
        for kind, items in kinds.items():
            if not isinstance(items, list):
                continue
            for item in items:
                ids = item["ids"]
                if (
                    str(ids.get("room_id")) in s["rooms"]
                    or str(ids.get("stream_name")) in s["streams"]
                    or str(ids.get("task_id")) in s["tasks"]
                ):
                    out.append({"cloud": cloud, "kind": kind, **item})
    return out


def verify(
    plan: dict[str, Any],
    access: dict[str, Access],
    *,
    timeout: float,
    interval: float,
    run: BulkRun | None = None,
    log: Any = None,
) -> tuple[list[dict[str, Any]], int, list[dict[str, Any]]]:
    """Discover (reconciled) until nothing in scope is live, ``timeout`` passes or ``run`` is stopped.

    Returns (survivors, passes, corrections seen). Mixes are checked with GetMixTaskInfo, as no
    callback or list names their room.
    """
    scope = scope_of(plan)
    names = {n for s in scope.values() for n in s["rooms"] | s["streams"]}
    selector = Selector(room_ids=frozenset(names) if names else None, allow_all=True)
    zego_mixes = [t for t in plan["targets"] if t["action"] == "StopMix"]
    deadline = time.monotonic() + timeout
    passes = 0
    corrections: list[dict[str, Any]] = []
    while True:
        passes += 1
        survivors: list[dict[str, Any]] = []
        if names or any(s["tasks"] for s in scope.values()):
            inventory = discover(access, selector, reconcile=True)
            corrections += inventory["corrections"]
            survivors = survivors_in(inventory, scope)
        for mix in zego_mixes:
            try:
                access["zego"].hooks["rtc"].get_mix_task_info(mix["ids"]["task_id"])
            except RtcNotFoundError:
                continue
            survivors.append({"cloud": "zego", "kind": "mixes", "ids": mix["ids"], "source": "list_api"})
        if not survivors or time.monotonic() + interval > deadline:
            if log is not None:
                log.info("verify pass %d: %d survivor(s)", passes, len(survivors))
            return survivors, passes, corrections
        if log is not None:
            log.info(
                "verify pass %d: %d still live, checking again in %.0fs", passes, len(survivors), interval
            )
        if run is not None:
            if run.wait(interval):
                return survivors, passes, corrections
        else:
            time.sleep(interval)
