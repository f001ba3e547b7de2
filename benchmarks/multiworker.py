"""multiworker_*: N worker processes (spawned, as executors run task instances) bulk-dismiss TRTC
rooms on one account while the sandbox enforces 20/s, once per rate-limit backend.

What the sandbox counts is the truth: its throttle answers are calls that arrived over the
documented rate. Achieved rate = rooms ended / wall time from the common start to the last worker's
end; workers import and build their operator before the start, so start-up cost is not measured.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from typing import Any

TRTC_QPS = 20.0


class _Ti:
    """Just enough of a task instance to receive the bulk operator's summary when targets fail."""

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def _worker(
    env: dict[str, str], room_ids: list[int], ready: Any, start: Any, results: Any, index: int
) -> None:
    os.environ.update(env)
    from airflow_provider_rtc.operators.trtc import BulkDismissRoomsOperator

    op = BulkDismissRoomsOperator(task_id=f"worker_{index}", room_ids=room_ids, progress_interval=3600)
    ready.put(index)
    start.wait()
    ti = _Ti()
    try:
        summary = op.execute({"ti": ti})
    except Exception:  # failed targets: the summary went to the XCom
        summary = ti.pushed.get("bulk_results", {"counts": {"failed": len(room_ids)}})
    counts = summary["counts"]
    results.put(
        {
            "index": index,
            "done": counts.get("done", 0) + counts.get("already_gone", 0),
            "failed": counts.get("failed", 0),
            "finished": time.monotonic(),
        }
    )


def run_workers(
    *,
    conn_env: dict[str, str],
    room_ids: list[int],
    workers: int,
    backend: str,
    rate_dir: str,
    redis_url: str | None = None,
    timeout: float = 900.0,
) -> dict[str, float]:
    """Split ``room_ids`` over ``workers`` spawned processes; return done, failed and wall seconds."""
    ctx = multiprocessing.get_context("spawn")
    env = {
        **conn_env,
        "AIRFLOW__RTC__RATE_LIMIT_BACKEND": backend,
        "AIRFLOW__RTC__RATE_LIMIT_DIR": rate_dir,
    }
    if redis_url:
        env["AIRFLOW__RTC__RATE_LIMIT_REDIS_URL"] = redis_url
    ready, results, start = ctx.Queue(), ctx.Queue(), ctx.Event()
    chunks = [room_ids[i::workers] for i in range(workers)]
    procs = [
        ctx.Process(target=_worker, args=(env, chunk, ready, start, results, i), daemon=True)
        for i, chunk in enumerate(chunks)
    ]
    for proc in procs:
        proc.start()
    try:
        for _ in procs:
            ready.get(timeout=300)
        started = time.monotonic()
        start.set()
        outs = [results.get(timeout=timeout) for _ in procs]
    finally:
        for proc in procs:
            proc.join(30)
            if proc.is_alive():
                proc.kill()
    return {
        "done": float(sum(o["done"] for o in outs)),
        "failed": float(sum(o["failed"] for o in outs)),
        "wall_s": max(o["finished"] for o in outs) - started,
    }


def run(rooms: int = 600, workers: int = 8) -> dict[str, float]:
    """The three backends side by side, each on a fresh sandbox enforcing TRTC's 20/s."""
    import tempfile

    from benchmarks.redis_proc import redis_server
    from benchmarks.sandbox_proc import sandbox, seed, totals

    out: dict[str, float] = {}
    with redis_server() as redis_url, tempfile.TemporaryDirectory(prefix="rtc-bench-rate-") as rate_dir:
        for backend, suffix in (("host", ""), ("redis", "_redis"), ("process", "_process")):
            with sandbox(rate_limits=True) as info:
                conn_env = _conn_env(info)
                room_ids = seed(info, {"trtc": {"rooms": rooms, "users_per_room": 1}})["trtc"]["rooms"]
                before = totals(info)
                got = run_workers(
                    conn_env=conn_env,
                    room_ids=room_ids,
                    workers=workers,
                    backend=backend,
                    rate_dir=os.path.join(rate_dir, backend),
                    redis_url=redis_url,
                )
                after = totals(info)
            calls = after["calls"] - before["calls"]
            throttled = after["throttled"] - before["throttled"]
            out[f"multiworker_qps_fraction{suffix}"] = got["done"] / got["wall_s"] / TRTC_QPS
            out[f"multiworker_throttle_ratio{suffix}"] = throttled / calls if calls else 0.0
            out[f"multiworker_failed_targets{suffix}"] = got["failed"]
            out[f"multiworker_calls{suffix}"] = float(calls)
            out[f"multiworker_wall_s{suffix}"] = got["wall_s"]
    # the redis run's throttle ratio and failures also have their own names
    return out


def _conn_env(info: dict[str, Any]) -> dict[str, str]:
    import json

    return {
        f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn) for conn_id, conn in info["connections"].items()
    }
