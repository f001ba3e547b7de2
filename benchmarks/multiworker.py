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
    if env["AIRFLOW__RTC__RATE_LIMIT_BACKEND"] == "redis":
        import redis  # noqa: F401  (a one-off import cost, like Airflow's, is not the limiter's rate)
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


def _collect(queue: Any, procs: list[Any], timeout: float) -> list[Any]:
    """One item per process; a worker that died without sending one fails the run at once."""
    import queue as queue_module

    items: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(items) < len(procs):
        try:
            items.append(queue.get(timeout=1.0))
        except queue_module.Empty:
            dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"worker processes failed (exit codes {dead})") from None
    return items


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
        _collect(ready, procs, 300.0)
        started = time.monotonic()
        start.set()
        outs = _collect(results, procs, timeout)
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

    per: dict[str, dict[str, float]] = {}
    with redis_server() as redis_url, tempfile.TemporaryDirectory(prefix="rtc-bench-rate-") as rate_dir:
        for backend in ("host", "redis", "process"):
            with sandbox(rate_limits=True) as info:
                room_ids = seed(info, {"trtc": {"rooms": rooms, "users_per_room": 1}})["trtc"]["rooms"]
                before = totals(info)
                got = run_workers(
                    conn_env=_conn_env(info),
                    room_ids=room_ids,
                    workers=workers,
                    backend=backend,
                    rate_dir=os.path.join(rate_dir, backend),
                    redis_url=redis_url,
                )
                after = totals(info)
            per[backend] = {
                **got,
                "calls": after["calls"] - before["calls"],
                "throttled": after["throttled"] - before["throttled"],
            }
    out: dict[str, float] = {}
    for backend, got in per.items():
        out[f"multiworker_qps_fraction_{backend}"] = got["done"] / got["wall_s"] / TRTC_QPS
        out[f"multiworker_throttle_ratio_{backend}"] = got["throttled"] / max(got["calls"], 1)
        out[f"multiworker_failed_targets_{backend}"] = got["failed"]
        out[f"multiworker_calls_{backend}"] = got["calls"]
        out[f"multiworker_wall_s_{backend}"] = got["wall_s"]
    # the names: host is the default backend; throttles and failures over both shared runs
    shared = (per["host"], per["redis"])
    out["multiworker_qps_fraction"] = out.pop("multiworker_qps_fraction_host")
    out["multiworker_throttle_ratio"] = sum(g["throttled"] for g in shared) / max(
        sum(g["calls"] for g in shared), 1
    )
    out["multiworker_failed_targets"] = sum(g["failed"] for g in shared)
    return out


def _conn_env(info: dict[str, Any]) -> dict[str, str]:
    import json

    return {
        f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn) for conn_id, conn in info["connections"].items()
    }
