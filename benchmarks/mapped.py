"""mapped_vs_bulk_ratio: 60 rooms ended by dynamic task mapping through dag.test(), against the
bulk operator on the same number of rooms, also through dag.test(). Runs in its own AIRFLOW_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

_CHILD = """
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
out = {}
for dag_id, rooms in json.loads(sys.argv[2]).items():
    t = time.perf_counter()
    run = bag.dags[dag_id].test(run_conf={"rooms": rooms})
    out[dag_id] = [time.perf_counter() - t, str(run.state)]
print("RESULT " + json.dumps(out))
"""


def run(rooms: int = 60) -> dict[str, float]:
    from benchmarks.sandbox_proc import sandbox, seed

    home = tempfile.mkdtemp(prefix="rtc-bench-airflow-")
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=home,
        AIRFLOW__CORE__DAGS_FOLDER=str(HERE / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")]),
    )
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True
    )
    with sandbox(rate_limits=True) as info:
        for conn_id, conn in info["connections"].items():
            env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
        room_ids = seed(info, {"trtc": {"rooms": 2 * rooms, "users_per_room": 1}})["trtc"]["rooms"]
        plan = {"bench_mapped_dismiss": room_ids[:rooms], "bench_bulk_dismiss": room_ids[rooms:]}
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(HERE / "dags" / "bench_mapped_vs_bulk.py"), json.dumps(plan)],
            env=env,
            capture_output=True,
            text=True,
        )
        total = time.perf_counter() - started
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"mapped/bulk benchmark failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    result = json.loads(line[len("RESULT ") :])
    for dag_id, (_, state) in result.items():
        if not state.endswith("success"):
            raise RuntimeError(f"{dag_id} ended {state}")
    mapped_s, bulk_s = result["bench_mapped_dismiss"][0], result["bench_bulk_dismiss"][0]
    return {
        "mapped_vs_bulk_ratio": mapped_s / bulk_s,
        "mapped_s": mapped_s,
        "bulk_s": bulk_s,
        "mapped_bench_total_s": total,
    }
