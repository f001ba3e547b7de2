"""`event_end_ratio`: how close a real deployment ends a large 3-cloud event to the clouds' speed limit.

On the real-deployment harness (Postgres, LocalExecutor, separate scheduler, workers, triggerer) the
sandbox is seeded, through its admin API, with an event of 300 TRTC rooms (10 recording), 10 Live
mixes and 30 ZEGO rooms with 60 streams; the wall time runs from the trigger until the sandbox says
nothing is left alive. The bound is the per-API one (issue 20): every API has its own documented
limit (the catalog's qps, which the sandbox enforces too), so an event can end no faster than its
slowest API's ``targets / qps`` (30 ZEGO rooms at 1 CloseRoom/s: 30 s); dependencies (a room after
its streams) only add the first room's wait. The stage-by-stage bound (each stage's slowest API,
stages one after the other) is printed beside it for comparison with earlier figures.

Shapes, on one deployment (docs/development/benchmarks.md says why these):

* ``event_end_ratio``: the recommended shape (docs/end-an-event.md: EndEventOperator, dry run
  first; the real run ends the reviewed inventory), i.e. ``EndEventOperator`` with an explicit
  inventory (built from the sandbox's state, as a discovery would give it), a receiver subscribed
  to the sandbox's callbacks. It runs first: its first run is the deployment's first event end,
  ``event_end_ratio_cold``; the median of the warm runs after it is ``event_end_ratio``, what the
  target applies to (a deployment ends an event long after it started);
* ``event_end_ratio_dag``: the example DAG ``end_of_event_cleanup`` as shipped (above
  ``bulk_threshold`` the event ends in its one dependency-aware task), first run reported beside;
* ``event_end_ratio_mapped`` (reported): every target mapped (``bulk_threshold`` huge).

Needs the postgresql binaries, like `make e2e`. Alone: ``python benchmarks/event_end.py
[--no-mapped] [--no-dag] [--warm-runs N] [--merge]``.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DAG_ID = "end_of_event_cleanup"
OPERATOR_DAG_ID = "bench_end_event_inventory"
HERE = Path(__file__).resolve().parent
#: the event ended: >= 300 TRTC rooms, 30 ZEGO rooms with 60 streams, 10 Live mixes, 10 recordings
EVENT: dict[str, dict[str, Any]] = {
    "trtc": {"rooms": 300, "users_per_room": 1, "recordings": 10, "recording_storage": "cos"},
    "live": {"mix_sessions": 10, "streams": 0},
    "zego": {"rooms": 30, "users_per_room": 2, "streams_per_room": 2, "mixes": 0, "recordings": 0},
}
#: timed runs after the first, per shape; their median is the shape's ratio
WARM_RUNS = 2
#: the docs' recommendation (docs/end-an-event.md): EndEventOperator, dry run first; the real run
#: ends the reviewed inventory (``inventory=dry.output``), which is what is timed
RECOMMENDED = "recommended: EndEventOperator, reviewed inventory"
MAPPED_ALL = 1_000_000  # bulk_threshold that maps every target (the DAG's shape before the switch)


def stages() -> list[dict[str, Any]]:
    """The old stage order; per stage, each conf kind and the catalog entry of its call."""
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


def stage_bound(conf: dict[str, list[Any]]) -> float:
    """The old, looser bound: each stage's slowest API, stages one after the other."""
    return sum(max(len(conf.get(k) or []) / float(api.qps) for k, api in stage.items()) for stage in stages())


def lower_bound(conf: dict[str, list[Any]]) -> tuple[float, list[str]]:
    """The per-API bound: the slowest API's targets / its documented rate; and why, per API."""
    apis = {kind: api for stage in stages() for kind, api in stage.items()}
    times = {kind: len(conf.get(kind) or []) / float(api.qps) for kind, api in apis.items()}
    slowest = max(times, key=lambda k: times[k])
    why = [
        f"{apis[k].action} {len(conf.get(k) or [])}/{apis[k].qps:g}/s = {times[k]:.2f}s"
        for k in sorted(times, key=lambda k: -times[k])
        if conf.get(k)
    ]
    return times[slowest], why


def inventory_of(state: dict[str, Any], apps: dict[str, str]) -> dict[str, Any]:
    """What a discovery of the seeded event would return, built from the sandbox's state."""
    import pendulum

    trtc, live, zego = state["trtc"], state["live"], state["zego"]
    return {
        "discovered_at": pendulum.now("UTC").isoformat(),
        "clouds": {
            "trtc": {
                "app_id": apps["trtc"],
                "rooms": [
                    {"ids": {"room_id": r["room_id"], "str_room": r["str_room"]}} for r in trtc["rooms"]
                ],
                "recordings": [
                    {"ids": {"task_id": r["task_id"], "room_id": r["room_id"]}}
                    for r in trtc["recordings"]
                    if r["status"] in ("Idle", "InProgress")
                ],
            },
            "live": {
                "app_id": apps["live"],
                "mixes": [{"ids": {"session_id": m["session_id"]}} for m in live["mix_sessions"]],
            },
            "zego": {
                "app_id": apps["zego"],
                "rooms": [{"ids": {"room_id": r["room_id"]}} for r in zego["rooms"]],
                "streams": [
                    {"ids": {"room_id": r["room_id"], "user_id": s["user_id"], "stream_id": s["stream_id"]}}
                    for r in zego["rooms"]
                    for s in r["streams"]
                ],
                "mixes": [{"ids": {"task_id": m["task_id"], "user_id": m["user_id"]}} for m in zego["mixes"]],
                "recordings": [
                    {"ids": {"task_id": r["task_id"], "room_id": r["room_id"]}}
                    for r in zego["recordings"]
                    if r["status"] in (1, 2, 5)
                ],
            },
        },
    }


def _time_until_ended(dep: Any, dag_id: str, conf: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Trigger ``dag_id`` and time it until nothing is left alive in the sandbox."""
    from rtc_sandbox.inventory import leftovers

    alive = sum(leftovers(dep.sandbox_call("GET", "/state")).values())
    before = dep.sandbox_call("GET", "/stats")["totals"]  # the sandbox counts since its last reset
    started = time.monotonic()
    run_id = dep.api.trigger(dag_id, conf)
    ended: float | None = None
    while time.monotonic() - started < timeout:
        if not sum(leftovers(dep.sandbox_call("GET", "/state")).values()):
            ended = time.monotonic() - started
            break
        time.sleep(0.25)
    final = dep.api.wait_run(dag_id, run_id, timeout=max(60.0, timeout - (time.monotonic() - started)))
    tis = dep.api.task_instances(dag_id, run_id)
    totals = dep.sandbox_call("GET", "/stats")["totals"]
    return {
        "ending_task": _ending_task(tis),
        "seconds": ended,
        "timed_out_after": None if ended is not None else timeout,
        "alive_at_start": alive,
        "run": final,
        "task_instances": len(tis),
        "tis_multi_try": sum(1 for ti in tis if int(ti.get("try_number") or 0) > 1),
        "calls": totals["calls"] - before["calls"],
        "throttled": totals["throttled"] - before["throttled"],
    }


def _ending_task(tis: list[dict[str, Any]]) -> str:
    """Where the time went: the task that ends the event (the longest), when it started after the
    first task of the run and how long it ran; the rest is Airflow's scheduling."""
    import pendulum

    timed = [ti for ti in tis if ti.get("start_date") and ti.get("end_date")]
    if not timed:
        return ""
    first = min(pendulum.parse(ti["start_date"]) for ti in timed)  # type: ignore[type-var]
    longest = max(timed, key=lambda ti: float(ti.get("duration") or 0.0))
    start = (pendulum.parse(longest["start_date"]) - first).total_seconds()  # type: ignore[operator]
    return (
        f"{longest['task_id']} started {start:.1f}s after the run's first task and ran "
        f"{float(longest.get('duration') or 0.0):.1f}s"
    )


def end_event(dep: Any, bulk_threshold: int, timeout: float) -> dict[str, Any]:
    """The example DAG: seed the event, trigger it with the event's conf, time until nothing is live."""
    from rtc_sandbox.inventory import cleanup_conf

    dep.sandbox_call("POST", "/reset", {"seed": EVENT})
    conf: dict[str, Any] = cleanup_conf(dep.sandbox_call("GET", "/state"))
    bound, why = lower_bound(conf)
    res = _time_until_ended(dep, DAG_ID, {**conf, "bulk_threshold": bulk_threshold}, timeout)
    return {**res, "lower_bound": bound, "why": why, "stage_bound": stage_bound(conf)}


def end_event_operator(dep: Any, timeout: float, runs: int = 1) -> list[dict[str, Any]]:
    """EndEventOperator ending a reviewed inventory, ``runs`` times on one receiver: each run seeds the
    event again (new ids: the sandbox's counters go on), lets its lifecycle callbacks reach the
    receiver (the operator re-confirms the inventory with it, records what ended and verifies), then
    times the run."""
    from rtc_sandbox.inventory import cleanup_conf

    from e2e.discovery import settle, with_inventory_receiver

    def once() -> dict[str, Any]:
        dep.sandbox_call("POST", "/seed", EVENT)
        settle(dep, timeout=600.0)  # ~1,500 lifecycle callbacks of the seeded event, delivered first
        state = dep.sandbox_call("GET", "/state")
        tencent = dep.api.call("GET", "/api/v2/connections/tencentcloud_default")
        extra = json.loads(tencent.get("extra") or "{}")
        zego = dep.sandbox["connections"]["zegocloud_default"]
        apps = {
            "trtc": str(extra["sdk_app_id"]),
            "live": str(extra["live_app_id"]),
            "zego": str(zego["login"]),
        }
        conf = cleanup_conf(state)
        bound, why = lower_bound(conf)
        res = _time_until_ended(dep, OPERATOR_DAG_ID, {"inventory": inventory_of(state, apps)}, timeout)
        return {**res, "lower_bound": bound, "why": why, "stage_bound": stage_bound(conf)}

    def body(receiver: Any) -> list[dict[str, Any]]:
        return [_printed(f"{RECOMMENDED}, run {i + 1}", once(), timeout) for i in range(runs)]

    result: list[dict[str, Any]] = with_inventory_receiver(dep, "event-end-receiver", None, body)
    return result


def _dags_folder() -> Path:
    """The example DAG and the operator's benchmark DAG, side by side."""
    folder = Path(tempfile.mkdtemp(prefix="rtc-bench-dags-"))
    shutil.copy(ROOT / "example_dags" / "end_of_event_cleanup.py", folder)
    shutil.copy(HERE / "dags" / "bench_end_event_inventory.py", folder)
    return folder


def _printed(name: str, res: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Print a run's lines as soon as it ends (a long benchmark shows its progress); return it."""
    _line(name, res, timeout)
    return res


def _line(name: str, res: dict[str, Any], timeout: float) -> None:
    print(
        f"  event end, {name}: per-API bound {res['lower_bound']:.1f}s = "
        + " ; ".join(res["why"][:3])
        + f" (stage by stage: {res['stage_bound']:.1f}s)"
    )
    print(
        f"  event end, {name}: {res['alive_at_start']} alive -> 0 in "
        + (f"{res['seconds']:.1f}s" if res["seconds"] is not None else f"> {timeout:.0f}s (timed out)")
        + f"; run {res['run']}, {res['task_instances']} task instances, "
        f"{res['tis_multi_try']} needed >1 try, {res['calls']} calls, {res['throttled']} throttled",
        flush=True,
    )
    if res.get("ending_task"):
        print(f"  event end, {name}: {res['ending_task']}", flush=True)


def _ratio(res: dict[str, Any], timeout: float) -> tuple[float, float]:
    seconds = res["seconds"] if res["seconds"] is not None else timeout
    return seconds, seconds / res["lower_bound"]


def summarize(series: list[tuple[str, list[dict[str, Any]]]], timeout: float) -> dict[str, float]:
    """Each shape's metrics from its runs (the first run, then the warm ones): the median of the warm
    runs is the shape's ratio; the first series' first run is the deployment's first event end, the
    cold figure. A run that timed out counts as ``timeout`` seconds."""
    import statistics

    out: dict[str, float] = {}
    for suffix, results in series:
        first_s, first_ratio = _ratio(results[0], timeout)
        warm = [_ratio(res, timeout) for res in results[1:]] or [(first_s, first_ratio)]
        out[f"event_end_ratio{suffix}"] = round(statistics.median(r for _, r in warm), 3)
        out[f"event_end_seconds{suffix}"] = round(statistics.median(s for s, _ in warm), 1)
        if len(results) > 1:
            out[f"event_end_ratio{suffix}_warm_max"] = round(max(r for _, r in warm), 3)
            if suffix == series[0][0]:  # the deployment's first event end
                out[f"event_end_ratio{suffix}_cold"] = round(first_ratio, 3)
                out[f"event_end_seconds{suffix}_cold"] = round(first_s, 1)
            else:
                out[f"event_end_ratio{suffix}_first"] = round(first_ratio, 3)
                out[f"event_end_seconds{suffix}_first"] = round(first_s, 1)
        out[f"event_end_throttled{suffix}"] = sum(res["throttled"] for res in results)
        out[f"event_end_tis_multi_try{suffix}"] = sum(res["tis_multi_try"] for res in results)
        out["event_end_lower_bound_seconds"] = round(results[0]["lower_bound"], 2)
        out["event_end_stage_bound_seconds"] = round(results[0]["stage_bound"], 2)
    return out


def run(
    timeout: float = 900.0,
    mapped: bool = True,
    dag: bool = True,
    warm_runs: int = WARM_RUNS,
) -> dict[str, float]:
    """The shapes on one deployment; the metrics of `make bench`.

    The recommended shape runs first: its first run is the deployment's first event end
    (``event_end_ratio_cold``); then ``warm_runs`` more, whose median is ``event_end_ratio`` (what
    the target applies to: a deployment ends an event long after it started). The example DAG gets
    one first run and ``warm_runs`` more (median: ``event_end_ratio_dag``); the mapped shape one run.
    """
    import os

    from e2e.harness import Deployment
    from e2e.scenarios import setup_connections

    keep = bool(os.environ.get("RTC_BENCH_KEEP"))  # keep the deployment's logs (task logs) to read
    with Deployment(verbose=False, dags_folder=_dags_folder(), keep_workdir=keep) as dep:
        if keep:
            print(f"  event end: deployment kept in {dep._tmp}", flush=True)
        dep.wait_dags([DAG_ID, OPERATOR_DAG_ID])
        setup_connections(dep)
        series = [("", end_event_operator(dep, timeout, 1 + warm_runs))]
        setup_connections(dep)  # the receiver scenario put its own back; the DAG's again
        if dag:
            name = "example DAG end_of_event_cleanup"
            runs = [
                _printed(f"{name}, run {i + 1}", end_event(dep, 20, timeout), timeout)
                for i in range(1 + warm_runs)
            ]
            series.append(("_dag", runs))
        if mapped:
            res = _printed("every target mapped", end_event(dep, MAPPED_ALL, timeout), timeout)
            series.append(("_mapped", [res]))
        out = summarize(series, timeout)
    return out


def main(argv: list[str]) -> int:
    """``python benchmarks/event_end.py [--no-mapped] [--no-dag] [--warm-runs N] [--merge]``: this
    benchmark alone; ``--merge`` writes its metrics into benchmarks/results.json (the rest is kept)."""
    warm = int(argv[argv.index("--warm-runs") + 1]) if "--warm-runs" in argv else WARM_RUNS
    out = run(mapped="--no-mapped" not in argv, dag="--no-dag" not in argv, warm_runs=warm)
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
