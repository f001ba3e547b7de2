"""The enforce_caps example DAG end to end (dag.test()) against the sandbox and the receiver."""

from __future__ import annotations

import pytest

from tests.conftest import XFAIL_INACTIVE_ASSETS_ON_3_0, load_example_dag

from .conftest import destructive_calls, live_in_sandbox

pytestmark = [pytest.mark.example_dag, pytest.mark.usefixtures("airflow_db"), pytest.mark.slow]

POLICY = {"rooms": {"max_duration": "2h", "prefixes": {"vip-": {"max_duration": "8h"}}}}


def _xcom(run, task_id):
    ti = next(t for t in run.get_task_instances() if t.task_id == task_id)
    return ti.xcom_pull(task_ids=task_id)


@XFAIL_INACTIVE_ASSETS_ON_3_0  # its caps tasks declare the audit trail's asset
def test_enforce_caps_plans_then_ends_the_approved_rooms_only(bed):
    bed.server.backend.zego.room_list_enabled = True
    bed.server.seed(
        {
            "zego": {
                "rooms": [
                    {"room_id": "std-old", "users": 2, "started_ago": "3h"},
                    {"room_id": "vip-old", "users": 1, "started_ago": "3h"},
                    {"room_id": "std-near", "users": 1, "started_ago": "115m"},
                ]
            }
        }
    )
    bed.settle()
    dag = load_example_dag("enforce_caps", "enforce_caps.py")
    conf = {"policy": POLICY, "clouds": ["zego"], "warn_before": "10m", "dry_run": True}
    run = dag.test(run_conf=conf)
    assert str(run.state).endswith("success")
    assert destructive_calls(bed.server) == 0
    plan = _xcom(run, "plan_caps")
    assert [i["ref"]["id"] for i in plan["ended"]] == ["std-old"]
    assert [i["ref"]["id"] for i in plan["warned"]] == ["std-near"] and plan["dry_run"] is True
    assert _xcom(run, "enforce_caps")["result"]["dry_run"] is True  # dry_run param: the plan only

    run = dag.test(run_conf={**conf, "dry_run": False})
    assert str(run.state).endswith("success")
    report = _xcom(run, "enforce_caps")
    assert [i["ref"]["id"] for i in report["ended"]] == ["std-old"] and report["result"]["survivors"] == []
    assert live_in_sandbox(bed.server)["zego rooms"] == {"vip-old", "std-near"}
