"""trigger_rss_mb_per_1000 and trigger_poll_qps: many ZEGO recording-wait triggers in one event
loop (as in a triggerer) against the sandbox. Added resident memory per 1,000 triggers, and the
aggregate DescribeRecordStatus rate, which must stay under the API's 10 calls/s per app."""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

import psutil

from benchmarks.sandbox_proc import sandbox, seed, totals, use_connections

DESCRIBE_QPS = 10.0


async def _run_triggers(task_ids: list[str], seconds: float, poll_interval: float) -> dict[str, float]:
    from airflow_provider_rtc.triggers.zego import ZegoRecordingUploadedTrigger

    proc = psutil.Process()
    # warm-up: imports, connection parsing and one client, so the baseline holds the fixed costs
    warm = ZegoRecordingUploadedTrigger(
        recording_task_id=task_ids[0], end_time=time.time() + 0.5, poll_interval=0.2
    )
    await anext(warm.run())
    gc.collect()
    baseline = proc.memory_info().rss
    triggers = [
        ZegoRecordingUploadedTrigger(
            recording_task_id=task_id, end_time=time.time() + seconds + 60, poll_interval=poll_interval
        )
        for task_id in task_ids
    ]
    tasks = [asyncio.create_task(anext(t.run())) for t in triggers]
    peak = baseline
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        await asyncio.sleep(0.5)
        peak = max(peak, proc.memory_info().rss)
    done_early = sum(t.done() for t in tasks)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"added_rss": peak - baseline, "done_early": done_early, "elapsed": time.monotonic() - started}


def run(triggers: int = 1000, seconds: float = 30.0, poll_interval: float = 5.0) -> dict[str, Any]:
    if triggers < 100:
        seconds = min(seconds, 3.0)
    with sandbox(rate_limits=True) as info:
        use_connections(info, retry_delay=0.2)
        seeded = seed(  # one recording per room, as the sandbox seeds them
            info,
            {"zego": {"rooms": triggers, "users_per_room": 1, "streams_per_room": 1, "recordings": triggers}},
        )
        task_ids = [r["task_id"] for r in seeded["zego"]["recordings"]]
        before = totals(info)
        t0 = time.monotonic()
        measured = asyncio.run(_run_triggers(task_ids, seconds, poll_interval))
        wall = time.monotonic() - t0
        after = totals(info)
    polls = after["calls"] - before["calls"]
    return {
        "trigger_rss_mb_per_1000": measured["added_rss"] / 2**20 * 1000 / len(task_ids),
        "trigger_poll_qps": polls / wall,
        "trigger_poll_qps_limit": DESCRIBE_QPS,
        "trigger_throttled": after["throttled"] - before["throttled"],
        "trigger_count": len(task_ids),
        "trigger_finished_early": measured["done_early"],
    }
