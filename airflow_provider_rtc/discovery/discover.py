"""Discovery: the receiver's inventory per cloud, reconciled, filtered by the selector, as JSON.

The result (an operator's XCom)::

    {"discovered_at": ISO, "selector": {...}, "reconciled": true,
     "clouds": {"trtc": {"app_id": "1400000001", "rooms": [item], "users": [...], "streams": [...],
                         "mixes": [...], "recordings": [...]}, "live": {...}, "zego": {...}},
     "counts": {"trtc": {"rooms": 12, ...}}, "corrections": [{"cloud", "kind", "ids", "change",
     "reason"}], "notes": [...]}

    item = {"ids": {...}, "ref": {"cloud", "app_id", "kind", "id", "id_type", "room"},
            "started_at": ISO|null, "started_source": "cloud" | "first_seen",
            "last_activity_at": ISO, "source": "callback" | "list_api" | "both"}

``clouds[cloud]["app_id"]`` and ``discovered_at`` say which application and which moment the
inventory describes: ``EndEventOperator`` refuses an inventory of another app, or an older one than
its ``max_inventory_age``. ``ref`` is the item's typed identity (TRTC ``id_type`` ``"int"`` for the
numeric room 1234, ``"str"`` for the string room "1234").

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

from airflow_provider_rtc import metrics
from airflow_provider_rtc.callbacks.client import ReceiverTarget, resolve_target
from airflow_provider_rtc.callbacks.inventory import KINDS
from airflow_provider_rtc.discovery import receiver
from airflow_provider_rtc.discovery.reconcile import reconcile_live, reconcile_trtc, reconcile_zego
from airflow_provider_rtc.discovery.refs import ref_of, room_ref_of
from airflow_provider_rtc.discovery.selector import CLOUD, FIRST_SEEN, Selector
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.identity import ResourceRef

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


def _public(cloud: str, app_id: str, item: dict[str, Any]) -> dict[str, Any]:
    """An item as the inventory shows it; ``ref`` (typed identity) and ``started_source`` were added
    without renaming anything."""
    return {
        "ids": item["ids"],
        "ref": ref_of(cloud, app_id, item["kind"], item["ids"]).as_dict(),
        "started_at": iso(item["started_ms"]),
        "started_source": started_source(item),
        "last_activity_at": iso(item["last_activity_ms"]),
        "source": _source(item["sources"]),
    }


def started_source(item: dict[str, Any]) -> str:
    """``"cloud"`` only when the receiver says so; anything else is a first-seen time (an upper
    bound of the true start), the safe side for time conditions."""
    return CLOUD if item.get("started_source") == CLOUD else FIRST_SEEN


def select(
    cloud: str,
    items: list[dict[str, Any]],
    selector: Selector,
    now: dt.datetime,
    app_id: str = "-",
) -> dict[str, list[dict[str, Any]]]:
    """The live items in scope, grouped by kind; rooms decide for what is in them.

    Rooms are keyed by their :class:`ResourceRef`: TRTC's numeric room 1234 and string room "1234"
    are two rooms, each deciding only for its own users, streams and recordings.
    """
    grouped: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    live = [i for i in items if i["live"]]
    busy: set[ResourceRef] = set()
    for i in live:
        room = room_ref_of(cloud, app_id, i["ids"])
        if i["kind"] in ("users", "streams") and room is not None:
            busy.add(room)

    def check(name: Any, item: dict[str, Any], *, idle: bool, id_type: str = "") -> bool:
        return selector.matches(
            name,
            item["started_ms"],
            item["last_activity_ms"],
            idle=idle,
            now=now,
            cloud=cloud,
            id_type=id_type,
            started_source=started_source(item),
        )

    rooms: dict[ResourceRef, bool] = {}
    for item in live:
        if item["kind"] == "rooms":
            ref = ref_of(cloud, app_id, "rooms", item["ids"])
            rooms[ref] = check(item["ids"]["room_id"], item, idle=ref not in busy, id_type=ref.id_type)
    for item in live:
        kind = item["kind"]
        ids = item["ids"]
        room = room_ref_of(cloud, app_id, ids)
        if cloud == "live" and kind == "streams":
            ok = check(ids["stream_name"], item, idle=False)
        elif kind == "rooms":
            ok = rooms[ref_of(cloud, app_id, "rooms", ids)]
        elif kind == "mixes":
            ok = not selector.by_room and check("", item, idle=False)
        elif room is not None and room in rooms:
            ok = rooms[room]
        else:
            name = "" if room is None else ids.get("room_id")
            ok = check(name, item, idle=False, id_type="" if room is None else room.id_type)
        if ok:
            grouped[kind].append(_public(cloud, app_id, item))
    return grouped


def discover(
    access: dict[str, Access],
    selector: Selector,
    *,
    reconcile: bool = True,
    log: Any = None,
    now: dt.datetime | None = None,
    count: bool = True,
) -> dict[str, Any]:
    """Read, reconcile (and record the corrections), then select: the inventory JSON.

    ``count``: add what was found to ``rtc.discovered`` (verification passes do not: they would
    count the same rooms again).

    ``now`` (default: the current time) is the moment ``older_than``/``idle_for`` are measured
    from: verification passes the first discovery's, so the scope does not grow as rooms age.
    """
    import pendulum

    now = pendulum.instance(now) if now is not None else pendulum.now("UTC")
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
        grouped = select(cloud, items, selector, now, acc.app_id)
        result["clouds"][cloud] = {"app_id": acc.app_id, **grouped}
        result["counts"][cloud] = {k: len(v) for k, v in grouped.items()}
        if count:
            for kind, n in result["counts"][cloud].items():
                metrics.incr(metrics.DISCOVERED, n, cloud=cloud, action=kind)
    if log is not None:
        log.info("discovered: %s", result["counts"])
        for c in result["corrections"]:
            log.info(
                "reconciliation %s %s %s %s: %s", c["change"], c["cloud"], c["kind"], c["ids"], c["reason"]
            )
        for note in result["notes"]:
            log.info("note: %s", note)
    return result
