"""`event_end_ratio`: how close a real deployment ends a large 3-cloud event to the clouds' speed limit.

On the real-deployment harness (Postgres, LocalExecutor, separate scheduler, workers, triggerer) the
sandbox is seeded, through its admin API, with an event of 300 TRTC rooms (10 recording), 10 Live
mixes and 30 ZEGO rooms with 60 streams; ``end_of_event_cleanup`` is triggered with its inventory
and the wall time runs until the sandbox says nothing is left alive. The lower bound is what the
documented rate limits (the catalog's qps, the sandbox enforces the same) and the stage order allow:
each stage (mixes -> recordings -> streams and users -> rooms) takes at least its slowest API's
``targets / qps``, stages one after the other; APIs of one stage have separate limits and overlap.

Measured twice on one deployment: the DAG's recommended shape (one bulk task per large kind, the
shipped default above ``bulk_threshold`` targets) and every target mapped (``bulk_threshold`` huge:
the DAG as shipped before the switch). Needs the postgresql binaries, like `make e2e`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DAG_ID = "end_of_event_cleanup"
#: the event ended: >= 300 TRTC rooms, 30 ZEGO rooms with 60 streams, 10 Live mixes, 10 recordings
EVENT: dict[str, dict[str, Any]] = {
    "trtc": {"rooms": 300, "users_per_room": 1, "recordings": 10, "recording_storage": "cos"},
    "live": {"mix_sessions": 10, "streams": 0},
    "zego": {"rooms": 30, "users_per_room": 2, "streams_per_room": 2, "mixes": 0, "recordings": 0},
}
MAPPED_ALL = 1_000_000  # bulk_threshold that maps every target (the DAG's shape before the switch)


def stages() -> list[dict[str, Any]]:
    """The DAG's stage order; per stage, each conf kind and the catalog entry of its call."""
    from airflow_provider_rtc.catalog import live, trtc, zego

    return [
        {"live_mix_sessions": live.CANCEL_COMMON_MIX_STREAM, "zego_mixes": zego.STOP_MIX},
        {"trtc_recordings": trtc.DELETE_CLOUD_RECORDING, "zego_recordings": zego.STOP_RECORD},
        {
            "live_streams": live.DROP_LIVE_STREAM,
            "zego_streams": zego.DELETE_STREAM,
            "zego_kicks": zego.KICKOUT_USER,
        },
        {"trtc_rooms": trtc.DISMISS_ROOM, "zego_rooms": zego.CLOSE_ROOM},
    ]


def lower_bound(conf: dict[str, list[Any]]) -> tuple[float, list[str]]:
    """Seconds the documented limits allow at best, and one line per stage saying why."""
    total, lines = 0.0, []
    for stage in stages():
        times = {kind: len(conf.get(kind) or []) / float(api.qps) for kind, api in stage.items()}
        slowest = max(times, key=lambda k: times[k])
        total += times[slowest]
        lines.append(
            " + ".join(f"{kind} {len(conf.get(kind) or [])}/{api.qps:g}/s" for kind, api in stage.items())
            + f" -> {times[slowest]:.2f}s"
        )
    return total, lines


def end_event(dep: Any, bulk_threshold: int, timeout: float) -> dict[str, Any]:
    """Seed the event, trigger the DAG, time until nothing is left alive in the sandbox."""
    from rtc_sandbox.inventory import cleanup_conf, leftovers

    dep.sandbox_call("POST", "/reset", {"seed": EVENT})
    conf: dict[str, Any] = cleanup_conf(dep.sandbox_call("GET", "/state"))
    bound, why = lower_bound(conf)
    alive = sum(leftovers(dep.sandbox_call("GET", "/state")).values())
    started = time.monotonic()
    run_id = dep.api.trigger(DAG_ID, {**conf, "bulk_threshold": bulk_threshold})
    ended: float | None = None
    while time.monotonic() - started < timeout:
        if not sum(leftovers(dep.sandbox_call("GET", "/state")).values()):
            ended = time.monotonic() - started
            break
        time.sleep(0.25)
    final = dep.api.wait_run(DAG_ID, run_id, timeout=max(60.0, timeout - (time.monotonic() - started)))
    tis = dep.api.task_instances(DAG_ID, run_id)
    totals = dep.sandbox_call("GET", "/stats")["totals"]
    return {
        "seconds": ended,
        "timed_out_after": None if ended is not None else timeout,
        "lower_bound": bound,
        "why": why,
        "alive_at_start": alive,
        "run": final,
        "task_instances": len(tis),
        "tis_multi_try": sum(1 for ti in tis if int(ti.get("try_number") or 0) > 1),
        "calls": totals["calls"],
        "throttled": totals["throttled"],
    }


def run(timeout: float = 900.0, mapped: bool = True) -> dict[str, float]:
    """Both shapes on one deployment; the metrics of `make bench`."""
    from e2e.harness import Deployment
    from e2e.scenarios import setup_connections

    out: dict[str, float] = {}
    with Deployment(verbose=False) as dep:
        dep.wait_dags([DAG_ID])
        setup_connections(dep)
        shapes = [("", 0)] + ([("_mapped", MAPPED_ALL)] if mapped else [])
        for suffix, threshold in shapes:
            res = end_event(dep, threshold, timeout)
            name = "bulk per stage" if not suffix else "every target mapped"
            print(f"  event end, {name}: lower bound {res['lower_bound']:.1f}s = " + " ; ".join(res["why"]))
            print(
                f"  event end, {name}: {res['alive_at_start']} alive -> 0 in "
                + (
                    f"{res['seconds']:.1f}s"
                    if res["seconds"] is not None
                    else f"> {timeout:.0f}s (timed out)"
                )
                + f"; run {res['run']}, {res['task_instances']} task instances, "
                f"{res['tis_multi_try']} needed >1 try, {res['calls']} calls, {res['throttled']} throttled",
                flush=True,
            )
            seconds = res["seconds"] if res["seconds"] is not None else timeout
            out[f"event_end_ratio{suffix}"] = round(seconds / res["lower_bound"], 3)
            out[f"event_end_seconds{suffix}"] = round(seconds, 1)
            out[f"event_end_throttled{suffix}"] = res["throttled"]
            out[f"event_end_tis_multi_try{suffix}"] = res["tis_multi_try"]
            out["event_end_lower_bound_seconds"] = round(res["lower_bound"], 2)
    return out


def main(argv: list[str]) -> int:
    """``python benchmarks/event_end.py [--no-mapped] [--merge]``: this benchmark alone; ``--merge``
    writes its metrics into benchmarks/results.json (the rest of the file is kept)."""
    import json

    out = run(mapped="--no-mapped" not in argv)
    print(json.dumps(out, indent=1))
    if "--merge" in argv:
        from benchmarks.run import TARGETS

        path = ROOT / "benchmarks" / "results.json"
        results = json.loads(path.read_text())
        for key, value in out.items():
            results["metrics" if key in TARGETS else "details"][key] = float(value)
        path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
