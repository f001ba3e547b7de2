"""Every 5 minutes, cap how long rooms, recordings, mixes and streams run (issue 23).

``plan_caps`` discovers what is live and classifies it against the policy (a dry run: nothing is
ended): items within ``warn_before`` of their cap are warned about through the notifier (here one
that logs; any Airflow ``BaseNotifier`` works: SMTP, Slack...), items past it are planned.
``approve_plan`` lets a plan of at most ``approval_threshold`` targets through and asks a person
(Airflow's human-in-the-loop approval, Airflow >= 3.1; on 3.0 a larger plan fails the run) for a
larger one, showing the plan table; a rejection skips the enforce task. ``enforce_caps`` ends
exactly the approved plan (re-confirmed: rooms reused since are skipped, nothing is added) and
verifies it is gone. Times come only from the cloud: an item whose
start the receiver only saw first is never ended for ``max_duration`` (it is reported
``unproven``). ``idle_timeout`` applies where the inventory can tell idle (ZEGO; TRTC with the paid
``trtc_monitoring``).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Param

from airflow_provider_rtc.notifications import LogNotifier
from airflow_provider_rtc.operators.approval import PlanApprovalOperator
from airflow_provider_rtc.operators.guardrails import EnforceCapsOperator

DEFAULT_POLICY = {
    "rooms": {"max_duration": "4h", "idle_timeout": "15m", "prefixes": {"vip-": {"max_duration": "8h"}}},
    "recordings": {"max_duration": "3h"},
    "mixes": {"max_duration": "4h"},
    "streams": {"max_duration": "4h"},
}

with DAG(
    dag_id="enforce_caps",
    description="Warn about and end live rooms, recordings, mixes and streams past their caps",
    schedule=timedelta(minutes=5),
    catchup=False,
    max_active_runs=1,
    tags=["rtc", "trtc", "live", "zegocloud", "guardrails"],
    render_template_as_native_obj=True,  # the policy and the plan reach the operator as dicts
    params={
        "policy": Param(DEFAULT_POLICY, type="object", description="caps per kind (docs: guardrails)"),
        "warn_before": Param("10m", type="string", description="warn this long before a cap"),
        "clouds": Param(["trtc", "live", "zego"], type="array", description="trtc, live and/or zego"),
        "room_id_prefix": Param("", type="string", description="only rooms whose id starts with this"),
        "dry_run": Param(False, type="boolean", description="plan and warn only; end nothing"),
        "approval_threshold": Param(
            50, type="integer", minimum=0, description="a plan with more targets waits for a person"
        ),
    },
) as dag:
    plan_caps = EnforceCapsOperator(
        task_id="plan_caps",
        policy="{{ params.policy }}",
        warn_before="{{ params.warn_before }}",
        clouds="{{ params.clouds }}",
        room_id_prefix="{{ params.room_id_prefix }}",
        dry_run=True,
        notifier=LogNotifier(),
    )
    approve_plan = PlanApprovalOperator(
        task_id="approve_plan",
        plan=plan_caps.output,
        threshold="{{ params.approval_threshold }}",
        dry_run="{{ params.dry_run }}",  # a dry run ends nothing: no person is asked
    )
    enforce_caps = EnforceCapsOperator(
        task_id="enforce_caps",
        policy="{{ params.policy }}",
        warn_before="{{ params.warn_before }}",
        clouds="{{ params.clouds }}",
        dry_run="{{ params.dry_run }}",
        plan=approve_plan.output,  # exactly the approved plan
        verify_timeout=120,
    )
    plan_caps >> approve_plan >> enforce_caps
