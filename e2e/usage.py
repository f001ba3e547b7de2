"""The `usage_reports` scenario: the example DAG on its plain cron schedule in the real deployment.

Unpausing the DAG (created paused, `catchup=False`) makes the scheduler create the run of the latest
cron time, a scheduled run whose data interval is empty (Airflow 3's `CronTriggerTimetable`). The
scenario waits for that run and asserts on Airflow's REST state (run type, interval, task states,
each task's XCom) and on the files on disk: one per report, for the Beijing day that ended before
the run, holding rows of that day only. The DAG is paused again afterwards.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import json
from typing import Any

from .harness import Deployment, wait_for

USAGE_DAG = "usage_reports"
REPORTS = (
    "trtc_usage",
    "trtc_recording",
    "trtc_mix_transcoding",
    "trtc_relay",
    "trtc_room",
    "live_bandwidth",
    "live_transcode",
)
#: trtc_room is paced at one call per 15 s: seven reports, one day each, fit well inside this
RUN_TIMEOUT = 420.0
BEIJING = dt.timezone(dt.timedelta(hours=8))


def _check(condition: Any, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _value(raw: Any) -> Any:
    """An XCom as the REST API returns it (deserialized: a dict, or its JSON/Python text)."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return ast.literal_eval(raw)


def _stamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def usage_reports_scenario(dep: Deployment) -> dict[str, Any]:
    folder = dep.home / "rtc_usage"  # the DAG's default destination: $AIRFLOW_HOME/rtc_usage
    dep.wait_dags([USAGE_DAG])  # parsed, then unpaused: the scheduler creates the latest cron run

    def scheduled() -> dict[str, Any] | None:
        runs = dep.api.get(f"/api/v2/dags/{USAGE_DAG}/dagRuns?limit=10")["dag_runs"]
        return next((r for r in runs if r["run_type"] == "scheduled"), None)

    try:
        run = wait_for("the scheduled usage_reports run", scheduled, 180, 2)
        final = dep.api.wait_run(USAGE_DAG, run["dag_run_id"], RUN_TIMEOUT)
    finally:
        dep.api.call("PATCH", f"/api/v2/dags/{USAGE_DAG}", {"is_paused": True})
    run = dep.api.run(USAGE_DAG, run["dag_run_id"])
    tis = dep.api.task_instances(USAGE_DAG, run["dag_run_id"])
    start, end = _stamp(run["data_interval_start"]), _stamp(run["data_interval_end"])
    reported = (end.astimezone(BEIJING) - dt.timedelta(days=1)).date()
    figures: dict[str, Any] = {
        "run": final,
        "run_type": run["run_type"],
        "interval_s": (end - start).total_seconds(),
        "logical_date_bj": end.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M"),
        "reported_day": str(reported),
    }
    bad = [f"{ti['task_id']}={ti['state']}" for ti in tis if ti["state"] != "success"]
    _check(final == "success" and not bad, f"run ended {final}: {bad}")
    _check(start == end, f"not the plain cron schedule's empty interval: {start} .. {end}")
    rows_total = 0
    for report in REPORTS:
        result = _value(dep.api.xcom(USAGE_DAG, run["dag_run_id"], report))
        _check(isinstance(result, dict), f"{report}: no XCom result ({result!r})")
        _check(result["dates"] == [str(reported)] * 2, f"{report}: wrote {result['dates']}, not {reported}")
        _check(result["rows"] > 0, f"{report}: 0 rows")
        path = folder / report / f"{report}_{reported}_{reported}.csv"
        _check(path.is_file(), f"{report}: {path} was not written")
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        _check(len(rows) == result["rows"], f"{report}: {len(rows)} rows on disk, XCom says {result['rows']}")
        _check({r["date"] for r in rows} == {str(reported)}, f"{report}: rows of other days in {path}")
        rows_total += len(rows)
    figures["files"] = len(REPORTS)
    figures["rows"] = rows_total
    return figures
