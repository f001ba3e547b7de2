"""Ending an event: the plan (ordered stages, calls, time at the rate limits), its execution and
the verification that nothing in scope is left.

Targets are grouped in stages for the table: **mixes** (they read streams), **recordings** (stopped
before their rooms so the files are finalised by the stop, not by the robot being thrown out),
**streams and users**, **rooms**. They are not run stage by stage: the dependency-aware executor
(:mod:`.schedule`) releases each target once what it depends on (its ender row's ``after``, per
room: :mod:`.deps`) has ended, every API at its own rate, so the plan's time is the critical path at
the documented limits (:func:`estimate`), about the slowest API's targets / rate (ZEGO CloseRoom:
1 call/s). Users and streams of a room the plan ends are *covered* by DismissRoom/CloseRoom (which
remove everyone; ZEGO's CloseRoom also closes the streams) and cost no call of their own; only those
whose room stays get RemoveUser/KickoutUser/DeleteStream. Live streams (no rooms) are dropped
after the Live mixes.

Calls go through the hooks (paced at the documented rate, retried, "already gone" = done) and the
executor (bounded concurrency, stoppable, as the engine :mod:`airflow_provider_rtc.cleanup.engine`); which API
ends what, in which stage, after what and in how many calls is the ender table's
(:mod:`airflow_provider_rtc.cleanup.enders`); results are in the one shape (:mod:`.result`):
``done`` / ``already_gone`` / ``failed`` with the cloud's code and the engine's
``maybe_executed`` / ``after_lost_response``, or ``not_started`` once the run was stopped. Every
answer that says a target is gone is recorded in the receiver's inventory as a correction, so a
lost "room dismissed" callback cannot make the verification report a survivor that is not there,
while any callback about a later moment (a user entering again) still makes it one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_provider_rtc import audit, metrics
from airflow_provider_rtc.cleanup import deps, schedule
from airflow_provider_rtc.cleanup.enders import ENDERS, STAGES, chunks, ender, ender_for
from airflow_provider_rtc.cleanup.engine import BulkTarget
from airflow_provider_rtc.cleanup.result import identity, label_of
from airflow_provider_rtc.discovery import receiver
from airflow_provider_rtc.discovery.discover import Access, discover
from airflow_provider_rtc.discovery.refs import label, ref_of, room_ref_of
from airflow_provider_rtc.discovery.selector import Selector
from airflow_provider_rtc.exceptions import RtcNotFoundError
from airflow_provider_rtc.identity import ID_INT, ID_STR, ResourceRef

if TYPE_CHECKING:
    from airflow_provider_rtc.cleanup.engine import BulkRun

#: targets the plan table lists one by one (all of them are in the returned plan)
TABLE_TARGETS = 50
__all__ = ["STAGES", "build_plan", "execute", "reconfirm", "record_results", "render_table", "verify"]


def _qps(cloud: str, action: str) -> float:
    return ender(action).qps


def _target(
    stage: str,
    cloud: str,
    kind: str,
    action: str,
    ids: dict[str, Any],
    refs: list[ResourceRef],
    **extra: Any,
) -> dict[str, Any]:
    """One destructive call; ``refs`` are the typed identities it ends (a RemoveUser chunk: its
    users), ``label`` says it for people (``trtc:1400000001 room 1234 (int)``); ``after`` the
    kinds (in the same room, or app) its ender row says must end first, ``room`` the room's ref
    (None for Live and app-wide targets), for the dependency-aware executor."""
    row = ender(action)
    room = refs[0].room_ref.as_dict() if refs and (refs[0].room or kind == "rooms") else None
    return {
        "stage": stage,
        "cloud": cloud,
        "kind": kind,
        "action": action,
        "ids": ids,
        **extra,
        "refs": [r.as_dict() for r in refs],
        "label": label_of(refs),
        "product": row.product,
        "after": list(row.after),
        "room": room,
    }


def _ended(
    cloud: str, kind: str, ids: dict[str, Any], refs: list[ResourceRef], *, id_type: str = "", **extra: Any
) -> dict[str, Any]:
    """The target ending ``kind`` on ``cloud``: the API and its stage are the ender table's."""
    row = ender_for(cloud, kind, id_type)
    return _target(row.stage, cloud, kind, row.action, ids, refs, **extra)


def app_of(inventory: dict[str, Any], cloud: str) -> str:
    """The application an inventory's cloud section describes ("" when a hand-built one omits it)."""
    data = (inventory.get("clouds") or {}).get(cloud) or {}
    return str(data.get("app_id") or "")


def build_plan(inventory: dict[str, Any], *, zego_mix_user_id: str | None = None) -> dict[str, Any]:
    """The plan for an inventory (a discovery result, or the same shape built by hand).

    Rooms are keyed by :class:`ResourceRef`, so TRTC's numeric room 1234 and string room "1234" are
    two targets (DismissRoom and DismissRoomByStrRoomId), and a user is covered only by the dismissal
    of its own room.
    """
    clouds = inventory.get("clouds") or {}
    targets: list[dict[str, Any]] = []
    covered: list[dict[str, Any]] = []
    trtc, live, zego = clouds.get("trtc") or {}, clouds.get("live") or {}, clouds.get("zego") or {}
    apps = {c: app_of(inventory, c) or "-" for c in ("trtc", "live", "zego")}

    def ref(cloud: str, kind: str, ids: dict[str, Any]) -> ResourceRef:
        return ref_of(cloud, apps[cloud], kind, ids)

    for mix in zego.get("mixes") or []:
        user = mix["ids"].get("user_id") or zego_mix_user_id
        refs = [ref("zego", "mixes", mix["ids"])]
        targets.append(_ended("zego", "mixes", mix["ids"], refs, user_id=user))
    by_cloud = {"trtc": trtc, "live": live, "zego": zego}
    # in this order: mixes and recordings before the streams and rooms they read from
    for cloud, kind in (
        ("live", "mixes"),
        ("trtc", "recordings"),
        ("zego", "recordings"),
        ("live", "streams"),
    ):
        for item in by_cloud[cloud].get(kind) or []:
            targets.append(_ended(cloud, kind, item["ids"], [ref(cloud, kind, item["ids"])]))
    trtc_rooms = {ref("trtc", "rooms", r["ids"]): r for r in trtc.get("rooms") or []}
    zego_rooms = {ref("zego", "rooms", r["ids"]): r for r in zego.get("rooms") or []}
    for cloud, rooms, data in (("trtc", trtc_rooms, trtc), ("zego", zego_rooms, zego)):
        by = ender_for(cloud, "rooms").action
        for kind in ("users", "streams"):
            items = data.get(kind) or []
            inside = [i for i in items if room_ref_of(cloud, apps[cloud], i["ids"]) in rooms]
            if inside:
                covered.append({"cloud": cloud, "kind": kind, "count": len(inside), "by": by})
            outside: dict[ResourceRef | None, list[dict[str, Any]]] = {}
            for item in items:
                room = room_ref_of(cloud, apps[cloud], item["ids"])
                if room not in rooms:
                    outside.setdefault(room, []).append(item)
            for room, members in sorted(outside.items(), key=lambda kv: str(kv[0])):
                if room is None:
                    continue  # no room to address the call to
                room_value = members[0]["ids"]["room_id"]
                if kind == "streams" and cloud == "zego":
                    for m in members:
                        targets.append(
                            _ended("zego", "streams", m["ids"], [ref("zego", "streams", m["ids"])])
                        )
                elif kind == "users":
                    by_name = {str(m["ids"]["user_id"]): m for m in members}
                    for chunk in chunks(sorted(by_name), ender_for(cloud, "users", room.id_type).batch):
                        ids = {"room_id": room_value, "user_ids": chunk}
                        refs = [ref(cloud, "users", by_name[u]["ids"]) for u in chunk]
                        targets.append(_ended(cloud, "users", ids, refs, id_type=room.id_type))
                # a TRTC stream outside a dismissed room ends when its user is removed
    for cloud, rooms in (("trtc", trtc_rooms), ("zego", zego_rooms)):
        for room_ref, room in sorted(rooms.items()):
            targets.append(_ended(cloud, "rooms", room["ids"], [room_ref], id_type=room_ref.id_type))

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
    apis = [c for s in stages for c in s["calls"]]
    slowest = max(apis, key=lambda c: float(c["seconds"]), default=None)
    return {
        "stages": stages,
        "targets": targets,
        "total_calls": len(targets),
        # what the executor can reach: every API at its limit, targets released per room as what
        # they depend on ends (the critical path, not the sum of stage maxima)
        "estimated_seconds": round(estimate(targets), 2),
        "slowest_api": slowest,
        "stage_by_stage_seconds": round(sum(float(s["seconds"]) for s in stages), 2),
    }


def _lane(target: dict[str, Any]) -> str:
    """The executor's queue of a target: its API (each has its own documented limit)."""
    return f"{target['cloud']} {target['action']}"


def estimate(targets: list[dict[str, Any]]) -> float:
    """Seconds the documented limits allow for ``targets``, dependencies included
    (:func:`airflow_provider_rtc.cleanup.schedule.estimate`)."""

    class _Timed:
        def __init__(self, target: dict[str, Any], after: tuple[int, ...]) -> None:
            self.lane, self.qps, self.after = _lane(target), _qps(target["cloud"], target["action"]), after

    return schedule.estimate([_Timed(t, a) for t, a in zip(targets, deps.dependencies(targets), strict=True)])


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
        "at the documented rate limits (APIs side by side, each target once what it depends on ended)"
    )
    slowest = plan.get("slowest_api")
    if slowest:
        lines.append(
            f"slowest API: {slowest['cloud']} {slowest['action']}, {slowest['calls']} call(s) at "
            f"{slowest['qps']:g}/s = {slowest['seconds']:.1f}s"
        )
    if not plan["targets"]:
        lines.append("nothing in scope is live: no destructive call will be made")
    for t in plan["targets"][:TABLE_TARGETS]:
        lines.append(f"   {t['stage']:<18} {t['action']:<24} {t['label']}")
    if len(plan["targets"]) > TABLE_TARGETS:
        lines.append(f"   ... and {len(plan['targets']) - TABLE_TARGETS} more (all in the returned plan)")
    return "\n".join(lines)


def _call(target: dict[str, Any], hooks: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    """The target's call, as its ender row says (hook, method, argument order)."""
    return ENDERS[target["action"]].call(hooks, target["ids"], user_id=target.get("user_id"))


def _bulk_target(target: dict[str, Any], hooks: dict[str, Any]) -> BulkTarget:
    """The target as the bulk engine runs it; the call notes when it started (``at_ms``), which
    the corrections need so that a callback about a later moment still wins."""
    refs = [ResourceRef.from_dict(r) for r in target["refs"]]
    described = {"stage": target["stage"], **identity(ENDERS[target["action"]], target["ids"], refs)}
    send = _call(target, hooks)

    def call() -> dict[str, Any]:
        described["at_ms"] = int(time.time() * 1000)
        return send()

    return BulkTarget(f"{target['action']} {target['label']}", described, call)


def audit_planned(plan: dict[str, Any], *, origin: str) -> None:
    """A dry run's targets as ``planned`` audit lines: what the real run would call, on what."""
    rows = []
    for target in plan["targets"]:
        refs = [ResourceRef.from_dict(r) for r in target["refs"]]
        rows.append({**identity(ENDERS[target["action"]], target["ids"], refs), "status": "planned"})
    audit.record_planned(rows, origin=origin)


def _as_result(raw: dict[str, Any], item: BulkTarget) -> dict[str, Any]:
    """An engine result in the report's shape (:mod:`.result`); ``target`` (the label) is dropped
    as ``label`` already says it."""
    result = {k: v for k, v in raw.items() if k != "target"}
    result.update(item.described)
    return result


def execute(
    plan: dict[str, Any], access: dict[str, Access], run: BulkRun, *, log: Any = None
) -> tuple[list[dict[str, Any]], dict[str, float], BaseException | None]:
    """End every target with the dependency-aware executor
    (:mod:`airflow_provider_rtc.cleanup.schedule`): each API in its own lane at its documented rate,
    each target once what it depends on (:mod:`airflow_provider_rtc.cleanup.deps`) has ended.

    Returns the results (one per target, in plan order: ``done`` / ``already_gone`` / ``failed``
    with ``maybe_executed`` and ``after_lost_response`` / ``not_started``; ``after_failed`` when a
    dependency failed), the seconds from the start until each API's last call ended, and the
    interruption (the ``execution_timeout`` alarm) if there was one. Once ``run`` is stopped no new
    call is issued and every target without a call is ``not_started``.
    """
    targets = plan["targets"]
    items = [_bulk_target(t, access[t["cloud"]].hooks) for t in targets]
    ended: dict[str, float] = {}
    started = time.monotonic()

    def timed(item: BulkTarget, lane: str) -> BulkTarget:
        def call() -> dict[str, Any]:
            try:
                return item.call()
            finally:
                ended[lane] = max(ended.get(lane, 0.0), round(time.monotonic() - started, 3))

        return BulkTarget(item.target, item.described, call)

    jobs = [
        schedule.Job(timed(item, _lane(t)), _lane(t), _qps(t["cloud"], t["action"]), after)
        for t, item, after in zip(targets, items, deps.dependencies(targets), strict=True)
    ]
    if log is not None and jobs:
        log.info(
            "ending %d target(s) in %d API lane(s), up to %d calls in flight",
            len(jobs),
            len({j.lane for j in jobs}),
            run.max_concurrency,
        )
    raw, interrupted = schedule.run_jobs(run, jobs, log=log)
    results = [_as_result(r, item) for r, item in zip(raw, items, strict=True)]
    if log is not None and jobs:
        counts: dict[str, int] = {}
        for r in results:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        log.info(
            "ended: %s in %.1fs; per API, last call ended at: %s", counts, time.monotonic() - started, ended
        )
    return results, dict(sorted(ended.items())), interrupted


def record_results(results: list[dict[str, Any]], access: dict[str, Access]) -> None:
    """Tell the receiver what the clouds answered: every target they said is gone has ended."""
    by_cloud: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        if r["status"] not in ("done", "already_gone") or r["cloud"] not in access:
            continue
        reason = f"{r['action']}: {r['status']}"
        ref = (r.get("refs") or [{}])[0]  # a RemoveUser chunk's users share one room
        if r["kind"] == "users":
            for user in r["ids"]["user_ids"]:
                ids = _room_typed({"room_id": r["ids"]["room_id"], "user_id": user}, ref)
                by_cloud.setdefault(r["cloud"], []).append(
                    {"kind": "users", "ids": ids, "live": False, "at_ms": r["at_ms"], "reason": reason}
                )
            continue
        ids = _room_typed(r["ids"], ref)
        by_cloud.setdefault(r["cloud"], []).append(
            {"kind": r["kind"], "ids": ids, "live": False, "at_ms": r["at_ms"], "reason": reason}
        )
    for cloud, corrections in by_cloud.items():
        acc = access[cloud]
        receiver.post_corrections(acc.target, cloud, acc.app_id, corrections)


def _room_typed(ids: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    """``ids`` with a TRTC room's id type spelled out (``str_room``) from the typed ref the plan
    ended, as the receiver keys items (``callbacks.inventory.item_key``): ``{"room_id": "1234",
    "str_room": false}`` is the numeric room, which the id's JSON type alone would name the string
    room "1234" (a live string room then marked ended, the numeric room left uncorrected).
    Without a typed ref (ZEGO, a result without refs) ``ids`` are posted as they are."""
    typed = dict(ids)
    if "room_id" in typed and ref.get("id_type") in (ID_INT, ID_STR):
        typed["str_room"] = ref["id_type"] == ID_STR
    return typed


# -- re-confirmation: a plan must not outlive what it was made from -----------------------------


def _ms(value: Any) -> int | None:
    """An inventory time (ISO text, or epoch ms) as epoch ms."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    import pendulum

    try:
        return round(pendulum.parse(str(value)).timestamp() * 1000)  # type: ignore[union-attr]
    except Exception:
        return None


def reconfirm(
    plan: dict[str, Any], inventory: dict[str, Any], access: dict[str, Access], *, log: Any = None
) -> list[dict[str, Any]]:
    """Check every target against a fresh read of the receiver before anything is ended.

    A target is stale when it belongs to another application than the connection's, or when the
    resource it names (or the room it lives in) is live again in a later session than the inventory
    saw: same ref, later start (a room id reused after the inventory was made). Stale targets are
    taken out of ``plan["targets"]`` and returned as ``skipped_stale`` results; they are never
    ended. A ref the fresh read does not list keeps its target: ending a room that is gone costs an
    "already gone", and a lost callback must not spare a live one.
    """
    discovered_ms = _ms(inventory.get("discovered_at"))
    seen: dict[ResourceRef, int | None] = {}
    for cloud, data in (inventory.get("clouds") or {}).items():
        app = app_of(inventory, cloud)
        for kind, items in data.items():
            if isinstance(items, list):
                for item in items:
                    if isinstance(item, dict) and isinstance(item.get("ids"), dict):
                        seen[ref_of(cloud, app or "-", kind, item["ids"])] = _ms(item.get("started_at"))
    fresh: dict[ResourceRef, int | None] = {}
    for cloud in sorted({t["cloud"] for t in plan["targets"]} & set(access)):
        acc = access[cloud]
        for item in receiver.fetch_live(acc.target, cloud, acc.app_id)["items"]:
            if item.get("live"):
                fresh[ref_of(cloud, acc.app_id, item["kind"], item["ids"])] = item.get("started_ms")

    def changed(ref: ResourceRef) -> str | None:
        now_started = fresh.get(ref)
        if now_started is None:
            return None
        before = seen.get(ref)
        baseline = before if before is not None else discovered_ms
        if baseline is not None and now_started > baseline:
            return (
                f"{label(ref)} started again at {iso_ms(now_started)}, "
                f"after the inventory's {iso_ms(baseline)}: a later session"
            )
        return None

    keep: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for t in plan["targets"]:
        refs = [ResourceRef.from_dict(r) for r in t["refs"]]
        mine = access[t["cloud"]].app_id if t["cloud"] in access else None
        reason = next(
            (
                f"{label(r)} belongs to app {r.app_id}, not this connection's {mine}"
                for r in refs
                if r.app_id != mine
            ),
            None,
        )
        if reason is None and t["kind"] not in ("recordings", "mixes"):  # task ids are never reused
            rooms = {r.room_ref for r in refs if r.room}
            reason = next((why for r in [*refs, *sorted(rooms)] if (why := changed(r))), None)
        if reason is None:
            keep.append(t)
            continue
        skipped.append({**t, "status": "skipped_stale", "reason": reason})
        if log is not None:
            log.warning("skipped (stale): %s %s: %s", t["action"], t["label"], reason)
    plan["targets"] = keep
    plan["total_calls"] = len(keep)
    return skipped


def iso_ms(ms: int) -> str:
    import pendulum

    return pendulum.from_timestamp(ms / 1000, tz="UTC").isoformat()


# -- verification: the whole scope, not only what was acted on -----------------------------------


def scope_of_inventory(inventory: dict[str, Any]) -> set[ResourceRef]:
    """What an explicit inventory puts in scope: its rooms (and so everything now live in them), its
    Live streams, its recordings and mixes."""
    scope: set[ResourceRef] = set()
    for cloud, data in (inventory.get("clouds") or {}).items():
        app = app_of(inventory, cloud) or "-"
        for kind, items in data.items():
            if not isinstance(items, list):
                continue
            for item in items:
                ids = item.get("ids") if isinstance(item, dict) else None
                if not isinstance(ids, dict):
                    continue
                room = room_ref_of(cloud, app, ids)
                if room is not None:
                    scope.add(room)
                if kind in ("rooms", "recordings", "mixes") or cloud == "live":
                    scope.add(ref_of(cloud, app, kind, ids))
    return scope


def _verify_selector(scope: set[ResourceRef]) -> Selector:
    """A selector that finds at least the scope's rooms and Live streams (filtered by ref after).

    As before the refs: room selectors leave mixes out (ZEGO mixes are asked with GetMixTaskInfo;
    Live mix sessions have no list API), and an inventory without rooms or streams is looked at whole.
    """
    names: set[int | str] = set()
    for ref in scope:
        if ref.kind == "rooms":
            numeric = ref.id_type == "int" and ref.id.lstrip("-").isdigit()
            names.add(int(ref.id) if numeric else ref.id)
        elif ref.cloud == "live" and ref.kind == "streams":
            names.add(ref.id.rsplit("/", 1)[-1])
    if not names:
        return Selector(allow_all=True)
    return Selector(room_ids=frozenset(names), allow_all=True)


def _in_scope(cloud: str, app: str, kind: str, ids: dict[str, Any], scope: set[ResourceRef]) -> bool:
    room = room_ref_of(cloud, app, ids)
    return (room is not None and room in scope) or ref_of(cloud, app, kind, ids) in scope


def verify(
    plan: dict[str, Any],
    access: dict[str, Access],
    *,
    timeout: float,
    interval: float,
    selector: Selector | None = None,
    inventory: dict[str, Any] | None = None,
    now: Any = None,
    skipped: list[dict[str, Any]] | None = None,
    run: BulkRun | None = None,
    log: Any = None,
    scope: set[ResourceRef] | None = None,
) -> tuple[list[dict[str, Any]], int, list[dict[str, Any]]]:
    """Discover (reconciled) the WHOLE scope until nothing in it is live, ``timeout`` passes or
    ``run`` is stopped; not only the targets the plan ended, so a room opened during the run is seen.

    The scope is the ``selector`` (measured at ``now``, the first discovery's time, so rooms do not
    age into it) or, for an explicit ``inventory``, its rooms with everything now live in them, its
    Live streams, recordings and mixes. Refs of ``skipped`` (stale) targets, and what lives in them,
    are a later session the run never touched: reported there, not as survivors. ZEGO mixes are
    checked with GetMixTaskInfo, as no callback or list names their room.
    An explicit ``scope`` (refs; a room's ref covers everything in it) replaces the inventory's: the
    caps operator ends a recording alone and its room, live by design, is no survivor.
    Returns (survivors, passes, corrections seen).
    """
    spared: set[ResourceRef] = {ResourceRef.from_dict(r) for t in skipped or [] for r in t["refs"]}
    if scope is not None:
        scope = set(scope)
    elif inventory is not None:
        scope = scope_of_inventory(inventory)
    if scope is not None:
        scope -= spared
    find = selector if scope is None else _verify_selector(scope)
    zego_mixes = [t for t in plan["targets"] if t["action"] == "StopMix"]
    asked = {ResourceRef.from_dict(t["refs"][0]) for t in zego_mixes}
    deadline = time.monotonic() + timeout
    passes = 0
    corrections: list[dict[str, Any]] = []
    while True:
        passes += 1
        survivors: list[dict[str, Any]] = []
        if find is not None and (scope is None or scope):
            found = discover(access, find, reconcile=True, now=now, count=False)
            corrections += found["corrections"]
            for cloud, data in found["clouds"].items():
                app = str(data.get("app_id") or "")
                for kind, items in data.items():
                    if not isinstance(items, list):
                        continue
                    for item in items:
                        if scope is not None and not _in_scope(cloud, app, kind, item["ids"], scope):
                            continue
                        if _in_scope(cloud, app, kind, item["ids"], spared):
                            continue
                        if ref_of(cloud, app, kind, item["ids"]) in asked:
                            continue  # asked with GetMixTaskInfo below
                        survivors.append({"cloud": cloud, "kind": kind, **item})
        for mix in zego_mixes:
            try:
                access["zego"].hooks["rtc"].get_mix_task_info(mix["ids"]["task_id"])
            except RtcNotFoundError:
                continue
            survivors.append(
                {
                    "cloud": "zego",
                    "kind": "mixes",
                    "ids": mix["ids"],
                    "ref": mix["refs"][0],
                    "source": "list_api",
                }
            )
        if not survivors or time.monotonic() + interval > deadline:
            if log is not None:
                log.info("verify pass %d: %d survivor(s)", passes, len(survivors))
            return _counted(survivors), passes, corrections
        if log is not None:
            log.info(
                "verify pass %d: %d still live, checking again in %.0fs", passes, len(survivors), interval
            )
        if run is not None:
            if run.wait(interval):
                return _counted(survivors), passes, corrections
        else:
            time.sleep(interval)


def _counted(survivors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rtc.survivors`` per cloud and kind: what verification still found live at its end."""
    counts: dict[tuple[str, str], int] = {}
    for s in survivors:
        key = (str(s.get("cloud")), str(s.get("kind")))
        counts[key] = counts.get(key, 0) + 1
    for (cloud, kind), n in counts.items():
        metrics.incr(metrics.SURVIVORS, n, cloud=cloud, action=kind)
    return survivors
