"""An event conf (``end_of_event_cleanup``'s kinds, as :func:`airflow_provider_rtc.event.event_targets`
shapes them) as plan targets, ended in one task by the dependency-aware executor.

Unlike the plan made from an inventory, nothing here is *covered*: every conf item gets its own
call (a kick the user listed is a host who must leave before the room closes). Recordings and mixes
are named by task id alone, so they carry no room: :mod:`~airflow_provider_rtc.cleanup.deps` makes
them end before every room (and stream) of their cloud.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from airflow_provider_rtc.discovery.refs import ref_of

#: conf kind -> (stage, cloud, resource kind, action); the stage is the plan's label only
ACTIONS: dict[str, tuple[str, str, str, str]] = {
    "live_mix_sessions": ("mixes", "live", "mixes", "CancelCommonMixStream"),
    "zego_mixes": ("mixes", "zego", "mixes", "StopMix"),
    "trtc_recordings": ("recordings", "trtc", "recordings", "DeleteCloudRecording"),
    "zego_recordings": ("recordings", "zego", "recordings", "StopRecord"),
    "live_streams": ("streams and users", "live", "streams", "DropLiveStream"),
    "zego_streams": ("streams and users", "zego", "streams", "DeleteStream"),
    "zego_kicks": ("streams and users", "zego", "users", "KickoutUser"),
    "trtc_rooms": ("rooms", "trtc", "rooms", "DismissRoom"),
    "zego_rooms": ("rooms", "zego", "rooms", "CloseRoom"),
}
#: the application a conf target's identity names: one connection per cloud in the DAG
APP = "-"


def _ids(kind: str, item: Any) -> dict[str, Any]:
    if kind == "live_mix_sessions":
        return {"session_id": item}
    if kind in ("trtc_recordings", "zego_recordings"):
        return {"task_id": item}
    if kind == "zego_mixes":
        return {"task_id": item["mix_task_id"]}
    if kind in ("trtc_rooms", "zego_rooms"):
        return {"room_id": item}
    return dict(item)


def targets_of_event(event: Mapping[str, list[Any]]) -> list[dict[str, Any]]:
    """Plan-shaped targets (``cloud``, ``kind``, ``action``, ``ids``, typed ``refs``) for every item."""
    from airflow_provider_rtc.cleanup.plan import _target

    targets: list[dict[str, Any]] = []
    for conf_kind, (stage, cloud, kind, action) in ACTIONS.items():
        for item in event.get(conf_kind) or []:
            ids = _ids(conf_kind, item)
            extra: dict[str, Any] = {}
            if conf_kind == "zego_mixes":
                extra["user_id"] = item.get("user_id")
            if conf_kind == "zego_kicks":
                refs = [
                    ref_of(cloud, APP, kind, {"room_id": ids["room_id"], "user_id": u})
                    for u in ids["user_ids"]
                ]
            else:
                refs = [ref_of(cloud, APP, kind, ids)]
            targets.append(_target(stage, cloud, kind, action, ids, refs, **extra))
    return targets


class _Hooks:
    def __init__(self, hooks: dict[str, Any]) -> None:
        self.hooks = hooks


def default_access(
    clouds: set[str],
    tencentcloud_conn_id: str = "tencentcloud_default",
    zegocloud_conn_id: str = "zegocloud_default",
) -> dict[str, Any]:
    """The hooks the plan's calls use, for the clouds that have targets, from the two connections."""
    access: dict[str, Any] = {}
    if "trtc" in clouds:
        from airflow_provider_rtc.hooks.trtc import TrtcHook

        access["trtc"] = _Hooks({"trtc": TrtcHook(tencentcloud_conn_id)})
    if "live" in clouds:
        from airflow_provider_rtc.hooks.live import LiveHook

        access["live"] = _Hooks({"live": LiveHook(tencentcloud_conn_id)})
    if "zego" in clouds:
        from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook, ZegoRtcHook

        access["zego"] = _Hooks(
            {"rtc": ZegoRtcHook(zegocloud_conn_id), "record": ZegoCloudRecordHook(zegocloud_conn_id)}
        )
    return access


def end_event(
    event: Mapping[str, list[Any]], *, run: Any, access: dict[str, Any] | None = None, log: Any = None
) -> tuple[dict[str, Any], BaseException | None]:
    """End every item of ``event`` in one run of the executor; the summary (``total``, ``counts``,
    ``elapsed_s``, ``results``, ``stopped``) and the interruption, if any, to re-raise after reporting."""
    from airflow_provider_rtc.cleanup import plan

    targets = targets_of_event(event)
    if log is not None:
        log.info(
            "ending %d target(s); about %.1fs at the documented rate limits",
            len(targets),
            plan.estimate(targets),
        )
    started = time.monotonic()
    if not targets:
        results: list[dict[str, Any]] = []
        apis: dict[str, float] = {}
        interrupted: BaseException | None = None
    else:
        results, apis, interrupted = plan.execute(
            {"targets": targets}, access or default_access({t["cloud"] for t in targets}), run, log=log
        )
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    summary: dict[str, Any] = {
        "total": len(results),
        "counts": counts,
        "elapsed_s": round(time.monotonic() - started, 3),
        "apis": apis,
        "results": results,
    }
    if run.stopped:
        summary["stopped"] = run.stopped
    return summary, interrupted
