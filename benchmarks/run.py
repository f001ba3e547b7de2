"""`make bench`: every benchmark in one run, ratios measured side by side, one table, and
benchmarks/results.json. `--quick` uses tiny sizes (what `make test` checks still works)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: metric -> (target, comparison) for the table; None = reported without a target
TARGETS: dict[str, tuple[float, str] | None] = {
    "call_overhead_ratio": (1.10, "<="),
    "tc3_sign_ratio": (1.0, "<="),
    "import_ms": None,
    "import_ratio_vs_http": (1.0, "<="),
    "bulk_qps_fraction": (0.95, ">="),
    "bulk_qps_fraction_zego": (0.95, ">="),
    "mapped_vs_bulk_ratio": None,
    "trigger_rss_mb_per_1000": (150.0, "<="),
    "trigger_poll_qps": None,
    "lake_copy_peak_rss_mb": None,
    "lake_copy_peak_rss_ratio": (1.25, "<="),
    "multiworker_qps_fraction": (0.95, ">="),
    "multiworker_qps_fraction_redis": (0.95, ">="),
    "multiworker_throttle_ratio": (0.01, "<="),
    "multiworker_failed_targets": (0.0, "<="),
    "multiworker_qps_fraction_process": None,
    "multiworker_throttle_ratio_process": None,
    "multiworker_failed_targets_process": None,
    # calls in the busiest second at the server, first calls included, at 5/s (issue 20 item 4)
    "arrival_busiest_second": (5.0, "<="),
    # on a real deployment (full mode only), against the per-API bound (the slowest API's targets /
    # its documented rate). The recommended shape (docs/end-an-event.md: EndEventOperator, dry run
    # first, then the real run ends the reviewed inventory): the median of the warm runs, what the
    # target applies to (a deployment ends an event long after it started), and the deployment's
    # first event end beside it; then the example DAG, then every target mapped
    "event_end_ratio": (1.25, "<="),
    "event_end_ratio_cold": None,
    "event_end_ratio_dag": (1.25, "<="),
    "event_end_ratio_dag_first": None,
    "event_end_ratio_mapped": None,
    "event_end_seconds": None,
    "event_end_seconds_cold": None,
    "event_end_seconds_dag": None,
    "event_end_seconds_mapped": None,
    "event_end_lower_bound_seconds": None,
    "event_end_stage_bound_seconds": None,
    # the callback receiver under open-loop load (issue 21 item 3): the standalone receiver on SQLite,
    # one core; then each target and store; then acknowledged callbacks lost over SIGKILL cycles
    "receiver_callbacks_per_s": (1000.0, ">="),
    "receiver_p99_ms_at_1000_per_s": (200.0, "<="),
    "receiver_callbacks_per_s_standalone_sqlite": (1000.0, ">="),
    "receiver_callbacks_per_s_standalone_postgres": (2000.0, ">="),
    "receiver_callbacks_per_s_plugin_sqlite": None,
    "receiver_callbacks_per_s_plugin_postgres": None,
    "receiver_p99_ms_at_1000_per_s_standalone_postgres": (200.0, "<="),
    "receiver_p99_ms_at_1000_per_s_plugin_sqlite": None,
    "receiver_p99_ms_at_1000_per_s_plugin_postgres": None,
    "receiver_max_achieved_per_s_standalone_sqlite": None,
    "receiver_cpu_ms_per_callback_standalone_sqlite": None,
    "receiver_cpu_ms_per_callback_standalone_postgres": None,
    "receiver_cpu_ms_per_callback_plugin_sqlite": None,
    "receiver_cpu_ms_per_callback_plugin_postgres": None,
    "receiver_kill_cycles_lost": (0.0, "<="),
}
#: metrics that need a real deployment (Postgres, Airflow components): not measured by --quick
DEPLOYMENT_METRICS = {
    name
    for name in TARGETS
    if name.startswith("event_end_")
    or (name.startswith("receiver_") and ("plugin" in name or "postgres" in name))
}

SIZES = {
    "full": {
        "calls": 2000,
        "sign": 20_000,
        "imports": 7,
        "rooms": 600,
        "streams": 300,
        "mapped": 60,
        "triggers": 1000,
        "lake_bytes": 1024 * 1024 * 1024,
        "mw_rooms": 600,
        "mw_workers": 8,
        "deployment": 1,
        "arrivals": 16,
        "receiver": 1,
    },
    "quick": {
        "calls": 30,
        "sign": 300,
        "imports": 1,
        "rooms": 20,
        "streams": 10,
        "mapped": 3,
        "triggers": 20,
        "lake_bytes": 32 * 1024 * 1024,
        "mw_rooms": 20,
        "mw_workers": 2,
        "deployment": 0,
        "arrivals": 8,
        "receiver": 0,
    },
}


def plan(size: dict[str, int]) -> list[tuple[str, Callable[[], dict[str, Any]]]]:
    from benchmarks import (
        arrivals,
        bulk,
        event_end,
        imports,
        lake_copy,
        mapped,
        multiworker,
        overhead,
        receiver_load,
        signing,
        triggers,
    )

    steps = [
        ("call overhead", lambda: overhead.run(size["calls"])),
        ("TC3 signing", lambda: signing.run(size["sign"], repeats=3 if size["sign"] < 1000 else 5)),
        ("import time", lambda: imports.run(size["imports"])),
        ("bulk TRTC DismissRoom at 20/s", lambda: bulk.trtc(size["rooms"])),
        ("bulk ZEGO DeleteStream at 10/s", lambda: bulk.zego(size["streams"])),
        ("mapped vs bulk", lambda: mapped.run(size["mapped"])),
        ("1,000 recording-wait triggers", lambda: triggers.run(size["triggers"])),
        ("copy a recording to the lake", lambda: lake_copy.run(size["lake_bytes"])),
        (
            f"{size['mw_workers']} workers x {size['mw_rooms']} TRTC rooms per rate-limit backend",
            lambda: multiworker.run(size["mw_rooms"], size["mw_workers"]),
        ),
        ("arrivals at the server, fresh worker at 5/s", lambda: arrivals.run(size["arrivals"])),
        (
            "callback receiver under load, then SIGKILL cycles",
            lambda: receiver_load.run(quick=not size["receiver"], full=bool(size["receiver"])),
        ),
    ]
    if size["deployment"]:
        steps.append(("end a 300-room 3-cloud event on a real deployment", event_end.run))
    else:
        print("skipped in quick mode: event_end_* (needs a real deployment; `make bench` runs it)")
    return steps


def verdict(name: str, value: float) -> str:
    target = TARGETS.get(name)
    if target is None:
        return "reported"
    limit, op = target
    met = value <= limit if op == "<=" else value >= limit
    return f"{'met' if met else 'MISSED'} ({op} {limit:g})"


def table(results: dict[str, Any]) -> str:
    rows = [(name, results["metrics"][name]) for name in TARGETS if name in results["metrics"]]
    width = max(len(n) for n, _ in rows)
    lines = [f"{'metric':<{width}}  {'value':>10}  target", "-" * (width + 32)]
    for name, value in rows:
        lines.append(f"{name:<{width}}  {value:>10.3f}  {verdict(name, value)}")
    lines.append("")
    lines.append(f"machine: {results['machine']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the benchmarks run")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results.json"))
    args = parser.parse_args(argv)
    os.environ.setdefault("AIRFLOW_HOME", str(ROOT / ".bench" / "airflow"))
    size = SIZES["quick" if args.quick else "full"]
    metrics: dict[str, float] = {}
    details: dict[str, float] = {}
    started = time.time()
    for title, fn in plan(size):
        print(f"running: {title} ...", flush=True)
        t0 = time.perf_counter()
        out = fn()
        for key, value in out.items():
            (metrics if key in TARGETS else details)[key] = float(value)
        print(f"  done in {time.perf_counter() - t0:.1f}s: {json.dumps(out)}", flush=True)
    results = {
        "metrics": metrics,
        "details": details,
        "quick": args.quick,
        # said in the results too: a quick run does not start a deployment
        "skipped": sorted(DEPLOYMENT_METRICS) if args.quick else [],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "wall_s": round(time.time() - started, 1),
    }
    Path(args.output).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print()
    print(table(results))
    print(f"\nwritten: {args.output}")
    missing = [name for name in TARGETS if name not in metrics]
    if args.quick:
        missing = [name for name in missing if name not in DEPLOYMENT_METRICS]
    if missing:
        print(f"missing metrics: {missing}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
