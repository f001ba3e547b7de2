"""bulk_qps_fraction(_zego): rooms or streams ended by a bulk operator while the sandbox enforces
the documented QPS; the achieved rate over that QPS, and how many throttles reached the user."""

from __future__ import annotations

import time
from typing import Any

from benchmarks.sandbox_proc import sandbox, seed, totals, use_connections


def _run_op(op: Any) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    summary = op.execute({})
    return time.perf_counter() - started, summary


def trtc(rooms: int = 600) -> dict[str, float]:
    from airflow_provider_rtc.operators.trtc import BulkDismissRoomsOperator

    with sandbox(rate_limits=True) as info:
        use_connections(info)
        room_ids = seed(info, {"trtc": {"rooms": rooms, "users_per_room": 1}})["trtc"]["rooms"]
        before = totals(info)
        elapsed, summary = _run_op(BulkDismissRoomsOperator(task_id="bench", room_ids=room_ids))
        after = totals(info)
    throttled = after["throttled"] - before["throttled"]
    return {
        "bulk_qps_fraction": rooms / elapsed / 20.0,
        "bulk_rate_per_s": rooms / elapsed,
        "bulk_throttles_seen_by_sandbox": throttled,
        "bulk_failed_targets": summary["counts"].get("failed", 0),
    }


def zego(streams: int = 300) -> dict[str, float]:
    from airflow_provider_rtc.operators.zego import BulkDeleteStreamsOperator

    with sandbox(rate_limits=True) as info:
        use_connections(info)
        rooms = max(1, streams // 10)
        seeded = seed(
            info, {"zego": {"rooms": rooms, "users_per_room": 1, "streams_per_room": streams // rooms}}
        )
        targets = seeded["zego"]["streams"]
        before = totals(info)
        elapsed, summary = _run_op(BulkDeleteStreamsOperator(task_id="bench", streams=targets))
        after = totals(info)
    return {
        "bulk_qps_fraction_zego": len(targets) / elapsed / 10.0,
        "bulk_rate_per_s_zego": len(targets) / elapsed,
        "bulk_throttles_seen_by_sandbox_zego": after["throttled"] - before["throttled"],
        "bulk_failed_targets_zego": summary["counts"].get("failed", 0),
    }
