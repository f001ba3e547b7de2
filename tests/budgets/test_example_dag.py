"""The usage_budget example DAG runs end to end (dag.test) against the sandbox: its templates render
to numbers and bools, the log notifier fires once per threshold, a second run fires nothing."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.notifications import LogNotifier
from tests.conftest import load_example_dag

pytestmark = [pytest.mark.example_dag, pytest.mark.usefixtures("airflow_db"), pytest.mark.slow]
APP = 1400000001


def _report(run: Any) -> dict[str, Any]:
    ti = next(t for t in run.get_task_instances() if t.task_id == "check_budget")
    return ti.xcom_pull(task_ids="check_budget")


def test_usage_budget_fires_once_per_threshold(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []
    real_notify = LogNotifier.notify

    def notify(self: LogNotifier, context: Any) -> None:
        sent.append(self.message)  # the rendered text (dag.test runs the task in this process)
        real_notify(self, context)

    monkeypatch.setattr(LogNotifier, "notify", notify)
    # the operator keeps its markers in the test AIRFLOW_HOME: start from none
    shutil.rmtree(os.path.join(os.environ["AIRFLOW_HOME"], "rtc", "budgets"), ignore_errors=True)
    sandbox.freeze()
    sandbox.backend.trtc.add_users(APP, 201, ["a", "b", "c"], sandbox.backend.now() - 60 * 3)  # 9 min
    dag = load_example_dag("usage_budget", "usage_budget.py")
    conf = {"audio_minutes": 10, "hd_minutes": 5}
    run = dag.test(run_conf=conf)
    assert str(run.state).endswith("success")
    report = _report(run)
    audio, hd = report["budgets"]
    assert (audio["usage"], audio["fired_now"]) == (9, [0.8]) and hd["fired_now"] == []
    alert = "RTC budget: trtc Audio at 90.0% (9.0 of 10.0 minutes, " + report["month"] + ", Beijing time)"
    assert sent == [alert]
    again = dag.test(run_conf=conf)
    assert _report(again)["fired"] == 0
    assert sent == [alert]
