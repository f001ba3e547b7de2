"""Discovery: the receiver's inventory per cloud, reconciled, filtered by the selector, as JSON.

The result (an operator's XCom)::

    {"discovered_at": ISO, "selector": {...}, "reconciled": true,
     "clouds": {"trtc": {"app_id": "1400000001", "rooms": [item], "users": [...], "streams": [...],
                         "mixes": [...], "recordings": [...]}, "live": {...}, "zego": {...}},
     "counts": {"trtc": {"rooms": 12, ...}}, "corrections": [{"cloud", "kind", "ids", "change",
     "reason"}], "notes": [...]}

    item = {"ids": {...}, "started_at": ISO|null, "last_activity_at": ISO,
            "source": "callback" | "list_api" | "both"}

Connections: the ``tencentcloud`` connection (TRTC and Live) and the ``zegocloud`` connection carry
the receiver URL (extra ``callback_receiver_url``) and the key that signs reads: TRTC's callback key
(``callback_secret``), Live's (``live_callback_secret``, with the account APPID in ``live_app_id``),
ZEGO's CallbackSecret (zegocloud extra ``callback_secret``). Names with "secret" are masked by Airflow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from airflow_provider_rtc.callbacks.client import ReceiverTarget, resolve_target
from airflow_provider_rtc.callbacks.inventory import KINDS
from airflow_provider_rtc.discovery import receiver
from airflow_provider_rtc.discovery.reconcile import reconcile_live, reconcile_trtc, reconcile_zego
from airflow_provider_rtc.discovery.selector import Selector
from airflow_provider_rtc.exceptions import RtcValidationError

CLOUDS = ("trtc", "live", "zego")


def validate_clouds(clouds: Any) -> tuple[str, ...]:
    if isinstance(clouds, str):
        clouds = [c.strip() for c in clouds.split(",") if c.strip()]
    if not isinstance(clouds, list | tuple | set | frozenset) or not clouds:
        raise RtcValidationError("clouds", "a non-empty list of " + ", ".join(CLOUDS), clouds)
    bad = [c for c in clouds if c not in CLOUDS]
    if bad:
        raise RtcValidationError("clouds", "each one of " + ", ".join(CLOUDS), bad)
    return tuple(c for c in CLOUDS if c in clouds)


def iso(ms: int | None) -> str | None:
    """ISO 8601 UTC (pendulum), or None."""
    if ms is None:
        return None
    import pendulum

    return pendulum.from_timestamp(ms / 1000, tz="UTC").isoformat()


@dataclass
class Access:
    """How to reach one cloud: its application id, the receiver, and (lazily) its hooks."""

    cloud: str
    app_id: str
    target: ReceiverTarget
    hook_factory: Any = field(repr=False)

    @cached_property
    def hooks(self) -> dict[str, Any]:
        return dict(self.hook_factory())


def build_access(
    clouds: tuple[str, ...],
    *,
    tencentcloud_conn_id: str,
    zegocloud_conn_id: str,
    callback_receiver_url: str | None = None,
    region: str | None = None,
    sdk_app_id: int | str | None = None,
    hook_params: dict[str, Any] | None = None,
) -> dict[str, Access]:
    """Resolve every requested cloud's access from its connection (one lookup per connection)."""
    from airflow.providers.common.compat.sdk import BaseHook

    params = dict(hook_params or {})
    out: dict[str, Access] = {}
    if "trtc" in clouds or "live" in clouds:
        conn = BaseHook.get_connection(tencentcloud_conn_id)
        extra = conn.extra_dejson
        if "trtc" in clouds:
            from airflow_provider_rtc.hooks.trtc import TrtcHook

            trtc = TrtcHook(
                tencentcloud_conn_id, region=region or None, sdk_app_id=sdk_app_id or None, **params
            )
            out["trtc"] = Access(
                "trtc",
                str(trtc.sdk_app_id),
                resolve_target(extra, url=callback_receiver_url),
                lambda: {"trtc": trtc},
            )
        if "live" in clouds:
            from airflow_provider_rtc.hooks.live import LiveHook

            live_app = extra.get("live_app_id")
            if not live_app:
                raise RtcValidationError(
                    "live_app_id",
                    "set the tencentcloud connection extra 'live_app_id' (the APPID Live callbacks carry)",
                )
            key = extra.get("live_callback_secret")
            if not key:
                raise RtcValidationError(
                    "live_callback_secret",
                    "set the tencentcloud connection extra 'live_callback_secret' (Live's callback key)",
                )
            out["live"] = Access(
                "live",
                str(live_app),
                resolve_target(extra, url=callback_receiver_url, key=str(key)),
                lambda: {"live": LiveHook(tencentcloud_conn_id, **params)},
            )
    if "zego" in clouds:
        from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook, ZegoRtcHook

        conn = BaseHook.get_connection(zegocloud_conn_id)
        out["zego"] = Access(
            "zego",
            str(conn.login).strip(),
            resolve_target(conn.extra_dejson, url=callback_receiver_url, conn_type="zegocloud"),
            lambda: {
                "rtc": ZegoRtcHook(zegocloud_conn_id, **params),
                "record": ZegoCloudRecordHook(zegocloud_conn_id, **params),
            },
        )
    return out


def reconcile_cloud(
    access: Access, items: list[dict[str, Any]], selector: Selector, notes: list[str]
) -> list[dict[str, Any]]:
    hooks = access.hooks
    if access.cloud == "trtc":
        return reconcile_trtc(hooks["trtc"], items, selector)
    if access.cloud == "live":
        return reconcile_live(hooks["live"], items, selector, notes)
    return reconcile_zego(hooks["rtc"], hooks["record"], items, selector, notes)


def _source(sources: list[str]) -> str:
    have = set(sources)
    if {"callback", "list_api"} <= have:
        return "both"
    return "list_api" if "list_api" in have else "callback"


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "ids": item["ids"],
        "started_at": iso(item["started_ms"]),
        "started_source": item.get("started_source") or "first_seen",  # H2: "cloud" | "first_seen"
        "last_activity_at": iso(item["last_activity_ms"]),
        "source": _source(item["sources"]),
    }


def select(
    cloud: str, items: list[dict[str, Any]], selector: Selector, now: dt.datetime
) -> dict[str, list[dict[str, Any]]]:
    """The live items in scope, grouped by kind; rooms decide for what is in them."""
    grouped: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    live = [i for i in items if i["live"]]
    busy: set[str] = {
        str(i["ids"].get("room_id"))
        for i in live
        if i["kind"] in ("users", "streams") and "room_id" in i["ids"]
    }
    rooms: dict[str, bool] = {}
    for item in live:
        if item["kind"] == "rooms":
            rid = str(item["ids"]["room_id"])
            rooms[rid] = selector.matches(
                rid, item["started_ms"], item["last_activity_ms"], idle=rid not in busy, now=now
            )
    for item in live:
        kind = item["kind"]
        ids = item["ids"]
        if cloud == "live" and kind == "streams":
            ok = selector.matches(
                ids["stream_name"], item["started_ms"], item["last_activity_ms"], idle=False, now=now
            )
        elif kind == "rooms":
            ok = rooms[str(ids["room_id"])]
        elif kind == "mixes":
            ok = not selector.by_room and selector.matches(
                "", item["started_ms"], item["last_activity_ms"], idle=False, now=now
            )
        else:
            rid = str(ids.get("room_id"))
            ok = (
                rooms[rid]
                if rid in rooms
                else selector.matches(rid, item["started_ms"], item["last_activity_ms"], idle=False, now=now)
            )
        if ok:
            grouped[kind].append(_public(item))
    return grouped


def discover(
    access: dict[str, Access],
    selector: Selector,
    *,
    reconcile: bool = True,
    log: Any = None,
) -> dict[str, Any]:
    """Read, reconcile (and record the corrections), then select: the inventory JSON."""
    import pendulum

    now = pendulum.now("UTC")
    result: dict[str, Any] = {
        "discovered_at": now.isoformat(),
        "selector": selector.to_dict(),
        "reconciled": reconcile,
        "clouds": {},
        "counts": {},
        "corrections": [],
        "notes": [],
    }
    for cloud, acc in access.items():
        items = receiver.fetch_live(acc.target, cloud, acc.app_id)["items"]
        if reconcile:
            fixes = reconcile_cloud(acc, items, selector, result["notes"])
            changed = receiver.post_corrections(acc.target, cloud, acc.app_id, fixes)
            result["corrections"] += [{"cloud": cloud, **c} for c in changed]
            items = receiver.fetch_live(acc.target, cloud, acc.app_id)["items"]
        grouped = select(cloud, items, selector, now)
        result["clouds"][cloud] = {"app_id": acc.app_id, **grouped}
        result["counts"][cloud] = {k: len(v) for k, v in grouped.items()}
    if log is not None:
        log.info("discovered: %s", result["counts"])
        for c in result["corrections"]:
            log.info(
                "reconciliation %s %s %s %s: %s", c["change"], c["cloud"], c["kind"], c["ids"], c["reason"]
            )
        for note in result["notes"]:
            log.info("note: %s", note)
    return result
