"""The usage-reports example DAG, run through dag.test() against a sandbox on 127.0.0.1: on its plain
cron schedule (an empty data interval) one run writes one file per report for the Beijing day that
ended before it, and running the same day again changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.reports import files
from airflow_provider_rtc.reports.specs import REPORTS
from tests.conftest import load_example_dag

# an example DAG run end to end (dag.test) against a sandbox: e2e-like, seconds to minutes
pytestmark = [pytest.mark.example_dag, pytest.mark.usefixtures("airflow_db"), pytest.mark.slow]


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    with SandboxServer({"random_seed": 5}) as server:
        conn = server.connections["tencentcloud_default"]
        extra = {**conn["extra"], "retry_delay": 0.05, "retry_max_delay": 0.2}
        monkeypatch.setenv("AIRFLOW_CONN_TENCENTCLOUD_DEFAULT", json.dumps({**conn, "extra": extra}))
        yield server


def test_one_day_one_file_per_report_and_reruns_are_identical(sandbox: SandboxServer, tmp_path: Path) -> None:
    dag = load_example_dag("usage_reports", "usage_reports.py")
    assert type(dag.timetable).__name__ == "CronTriggerTimetable"  # the plain cron string's default
    logical = pendulum.today("Asia/Shanghai").subtract(days=5).add(hours=3)  # a 03:00 Beijing run
    conf = {"destination": str(tmp_path)}
    run = dag.test(logical_date=logical, run_conf=conf)
    assert str(run.state).endswith("success")
    assert run.data_interval_start == run.data_interval_end  # empty: the run is a point in time
    reported = logical.subtract(days=1).date()  # the Beijing day that ended before it
    name = f"{reported}_{reported}.csv"
    written = {p.parent.name: p for p in tmp_path.glob("*/*.csv")}
    assert set(written) == set(REPORTS)
    assert all(p.name.endswith(name) for p in written.values())
    before = {k: p.read_bytes() for k, p in written.items()}
    for report, data in before.items():
        rows = files.read_rows(data, "csv")
        assert rows and {r["date"] for r in rows} == {str(reported)}, report
        assert {r["time_zone"] for r in rows} == {"Asia/Shanghai"}
    again = dag.test(logical_date=logical, run_conf=conf)
    assert str(again.state).endswith("success")
    assert {p.parent.name: p.read_bytes() for p in tmp_path.glob("*/*.csv")} == before
    assert sorted(p.name for p in tmp_path.glob("*/.*")) == []  # no temporary files left behind
