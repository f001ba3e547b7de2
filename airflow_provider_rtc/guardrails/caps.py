"""Classify a discovered inventory against a caps policy: end, warn, unproven or within.

Rules (``now`` is the discovery's moment):

* ``max_duration``: an item whose **cloud** start time (``started_source: "cloud"``) is at least
  ``max_duration`` ago is ended; within ``warn_before`` of it, warned. A ``first_seen`` time is the
  moment the receiver first saw the item, an upper bound of its true start: it proves "older than",
  never "younger than". Decision (issue 23: "times come only from the cloud"): such an item is never
  ended for ``max_duration``; past the cap on its first-seen time it is reported ``unproven`` and
  warned about, so a person (or a run once the cloud's time arrives) decides. An item with no start
  at all is ``unproven`` too, as soon as its kind has a ``max_duration``.
* ``idle_timeout`` (rooms): a room with no live user and no live stream in the inventory whose last
  activity is at least ``idle_timeout`` ago is ended. Only on clouds where the inventory can tell
  idle (:func:`idle_clouds`): TRTC has no free API listing a room's users, so a room whose enter
  callbacks were lost would look idle (the reasoning of ``check_idle_for`` and ``sweep_idle_rooms``).
* A room ended ends what is in it (its users, streams and recordings join the end); a recording,
  mix or stream past its own cap ends alone, its room stays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from airflow_provider_rtc.discovery.reconcile import check_idle_for
from airflow_provider_rtc.discovery.refs import label, ref_of, room_ref_of
from airflow_provider_rtc.discovery.selector import CLOUD, FIRST_SEEN, Selector, parse_time
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.guardrails.policy import Caps, Policy
from airflow_provider_rtc.identity import ResourceRef

MAX_DURATION, IDLE_TIMEOUT = "max_duration", "idle_timeout"


def utcnow() -> dt.datetime:
    """The moment caps are measured from; tests replace it (a controlled clock, not a sleep)."""
    return dt.datetime.now(dt.UTC)


def policy_kind(cloud: str, kind: str) -> str | None:
    """The policy kind an inventory item falls under (module docstring of ``policy``), or None."""
    if kind in ("rooms", "recordings", "mixes"):
        return kind
    if kind == "streams" and cloud in ("live", "zego"):
        return "streams"
    return None  # users, TRTC streams: ended with their room


def idle_clouds(clouds: Iterable[str], *, trtc_monitoring: bool) -> dict[str, str | None]:
    """Per cloud: None when the inventory can tell an idle room, else why not (``check_idle_for``)."""
    out: dict[str, str | None] = {}
    for cloud in clouds:
        if cloud == "live":
            out[cloud] = "Live has no rooms (a pushing stream is never idle)"
            continue
        try:
            check_idle_for(Selector(idle_for=1.0, allow_all=True), (cloud,), trtc_monitoring=trtc_monitoring)
        except RtcValidationError as exc:
            out[cloud] = str(exc)
        else:
            out[cloud] = None
    return out


def _name(cloud: str, kind: str, ids: dict[str, Any]) -> str:
    """The room id a prefix is matched against (a Live stream's name; "" for a room-less mix)."""
    if cloud == "live" and kind == "streams":
        return str(ids.get("stream_name") or "")
    return "" if ids.get("room_id") is None else str(ids["room_id"])


def _seconds_since(now: dt.datetime, text: Any) -> float | None:
    if text in (None, ""):
        return None
    return round((now - parse_time(text, "started_at")).total_seconds(), 3)


def classify(
    inventory: dict[str, Any],
    policy: Policy,
    now: dt.datetime,
    *,
    idle_ok: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    """``{"warned", "ended", "unproven", "within", "to_end"}``: report items (the caps report's
    shape) and ``to_end``, the inventory of what to end (rooms with everything in them)."""
    warned: list[dict[str, Any]] = []
    ended: list[dict[str, Any]] = []
    unproven: list[dict[str, Any]] = []
    within = 0
    end_refs: set[ResourceRef] = set()
    clouds = inventory.get("clouds") or {}
    for cloud, data in clouds.items():
        app = str(data.get("app_id") or "-")
        busy = {room_ref_of(cloud, app, i["ids"]) for k in ("users", "streams") for i in data.get(k) or []}
        for kind in ("rooms", "recordings", "mixes", "streams"):
            for item in data.get(kind) or []:
                pk = policy_kind(cloud, kind)
                kp = policy.kinds.get(pk) if pk else None
                if kp is None:
                    continue
                caps, _prefix = kp.for_room(_name(cloud, kind, item["ids"]))
                ref = ref_of(cloud, app, kind, item["ids"])
                verdict = _verdict(cloud, kind, item, ref, caps, policy.warn_before, now, busy, idle_ok)
                if verdict is None:
                    within += 1
                    continue
                bucket, entry = verdict
                {"warned": warned, "ended": ended, "unproven": unproven}[bucket].append(entry)
                if bucket == "ended":
                    end_refs.add(ref)
    return {
        "warned": warned,
        "ended": ended,
        "unproven": unproven,
        "within": within,
        "to_end": _to_end(inventory, end_refs),
    }


def _verdict(
    cloud: str,
    kind: str,
    item: dict[str, Any],
    ref: ResourceRef,
    caps: Caps,
    warn_before: float,
    now: dt.datetime,
    busy: set[ResourceRef | None],
    idle_ok: dict[str, str | None] | None,
) -> tuple[str, dict[str, Any]] | None:
    source = CLOUD if item.get("started_source") == CLOUD else FIRST_SEEN
    age = _seconds_since(now, item.get("started_at"))

    def entry(rule: str, cap: float, idle_s: float | None = None) -> dict[str, Any]:
        return {
            "ref": ref.as_dict(),
            "label": label(ref),
            "kind": kind,
            "rule": rule,
            "age_s": age,
            "idle_s": idle_s,
            "cap_s": cap,
            "started_at": item.get("started_at"),
            "started_source": source,
        }

    idle_known = (idle_ok or {}).get(cloud, "no") is None  # None: this cloud can tell idle
    if kind == "rooms" and caps.idle_timeout is not None and idle_known and ref not in busy:
        idle = _seconds_since(now, item.get("last_activity_at"))
        if idle is not None and idle >= caps.idle_timeout:
            return "ended", entry(IDLE_TIMEOUT, caps.idle_timeout, idle)
    cap = caps.max_duration
    if cap is None:
        return None
    if age is None:
        return "unproven", entry(MAX_DURATION, cap)
    if age >= cap:
        return (
            ("ended", entry(MAX_DURATION, cap)) if source == CLOUD else ("unproven", entry(MAX_DURATION, cap))
        )
    if warn_before and age >= cap - warn_before:
        return "warned", entry(MAX_DURATION, cap)
    return None


def _to_end(inventory: dict[str, Any], refs: set[ResourceRef]) -> dict[str, Any]:
    """The inventory of what to end: each ended item, and for an ended room what lives in it."""
    out: dict[str, Any] = {
        "discovered_at": inventory.get("discovered_at"),
        "selector": inventory.get("selector"),
        "clouds": {},
    }
    for cloud, data in (inventory.get("clouds") or {}).items():
        app = str(data.get("app_id") or "-")
        section: dict[str, Any] = {"app_id": data.get("app_id")}
        for kind, items in data.items():
            if not isinstance(items, list):
                continue
            section[kind] = [
                i
                for i in items
                if ref_of(cloud, app, kind, i["ids"]) in refs or room_ref_of(cloud, app, i["ids"]) in refs
            ]
        out["clouds"][cloud] = section
    return out


def scope(to_end: dict[str, Any]) -> set[ResourceRef]:
    """What verification watches: each ended item's ref (an ended room: everything in it); never
    the room of a recording ended alone, which stays live by design."""
    out: set[ResourceRef] = set()
    for cloud, data in (to_end.get("clouds") or {}).items():
        app = str(data.get("app_id") or "-")
        for kind, items in data.items():
            if isinstance(items, list):
                out.update(ref_of(cloud, app, kind, i["ids"]) for i in items)
    return out


def count(to_end: dict[str, Any]) -> int:
    return sum(
        len(v) for d in (to_end.get("clouds") or {}).values() for v in d.values() if isinstance(v, list)
    )
