"""An event conf (``end_of_event_cleanup``'s kinds, as
:func:`airflow_provider_rtc.cleanup.inputs.event_targets` shapes them) as plan targets, ended in
one task by the dependency-aware executor.

Which API ends each conf kind is the ender table's
(:data:`~airflow_provider_rtc.cleanup.enders.BY_CONF`).
Unlike the plan made from an inventory, nothing here is *covered*: every conf item gets its own
call (a kick the user listed is a host who must leave before the room closes). Recordings and mixes
are named by task id alone, so they carry no room: :mod:`~airflow_provider_rtc.cleanup.deps` makes
them end before every dependent target (room, stream) of their cloud.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from airflow_provider_rtc.cleanup.enders import BY_CONF

#: the application a conf target's identity names: one connection per cloud in the DAG
APP = "-"


def targets_of_event(event: Mapping[str, list[Any]]) -> list[dict[str, Any]]:
    """Plan-shaped targets (``cloud``, ``kind``, ``action``, ``ids``, typed ``refs``, ``after``) for
    every item, in the table's stage order."""
    from airflow_provider_rtc.cleanup.inputs import row_targets
    from airflow_provider_rtc.cleanup.plan import _target

    targets: list[dict[str, Any]] = []
    for conf_kind, row in BY_CONF.items():
        for i, item in enumerate(event.get(conf_kind) or []):
            for ids in row_targets(row, item, f"{conf_kind}[{i}]"):
                options = {k: ids.pop(k) for k in row.options if k in ids}
                target = _target(
                    row.stage, row.cloud, row.kind, row.action, ids, row.refs(APP, ids), **options
                )
                targets.append({**target, "conf": conf_kind})
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
    ``elapsed_s``, ``apis``, ``by_kind``, ``results``, ``stopped``) and the interruption, if any,
    to re-raise after reporting."""
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
    by_kind: dict[str, dict[str, int]] = {}  # per conf kind, for the DAG's final check
    for t, r in zip(targets, results, strict=True):
        counts[r["status"]] = counts.get(r["status"], 0) + 1
        kind = by_kind.setdefault(t["conf"], {})
        kind[r["status"]] = kind.get(r["status"], 0) + 1
    summary: dict[str, Any] = {
        "total": len(results),
        "counts": counts,
        "elapsed_s": round(time.monotonic() - started, 3),
        "apis": apis,
        "by_kind": by_kind,
        "results": results,
    }
    if run.stopped:
        summary["stopped"] = run.stopped
    return summary, interrupted
