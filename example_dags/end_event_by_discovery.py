"""End an event nobody holds the inventory of: discover what is live, plan, end it, verify.

Trigger with a room id list or a room id prefix (and ``dry_run`` to only see the plan). The first
task finds every room, user, stream, mix and recording of the selected rooms from the callback
receiver's inventory, reconciled with the clouds' list APIs (lost callbacks are corrected). The
second logs the plan as a table - stages, calls per stage, the time the rate limits imply - without
a destructive call. The third approves it: by itself when it ends at most ``approval_threshold``
resources, else by a person through Airflow's human-in-the-loop approval (Airflow >= 3.1; the
Required Actions page or the hitlDetails REST endpoint), showing the plan table; "Reject" skips the
end. The last, unless it is a dry run, ends exactly the approved plan (re-confirmed, never
discovered again) at the documented rates and discovers again until nothing in scope is live; it
fails, naming the survivors, if anything is. Its return value is the report.

Needs the callback receiver (standalone or the Airflow plugin) subscribed to the clouds' room,
media, stream and push callbacks, and the connections' ``callback_receiver_url`` extras.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_rtc.operators.approval import DEFAULT_THRESHOLD, PlanApprovalOperator
from airflow_provider_rtc.operators.event import DiscoverLiveResourcesOperator, EndEventOperator

with DAG(
    dag_id="end_event_by_discovery",
    description="Discover what an event left live, plan, end it at the rate limits, verify nothing is left",
    schedule=None,
    catchup=False,
    max_active_runs=1,
    tags=["rtc", "trtc", "live", "zegocloud", "cleanup", "discovery"],
    params={
        "room_ids": Param(
            [],
            type="array",
            items={"type": ["integer", "string"]},
            description="rooms (or Live stream names) to end; TRTC: 1234 is the numeric room, "
            '"1234" the string room',
        ),
        "room_id_prefix": Param("", type="string", description="or: every room whose id starts with this"),
        "clouds": Param(["trtc", "live", "zego"], type="array", description="trtc, live and/or zego"),
        "dry_run": Param(False, type="boolean", description="only log and return the plan"),
        "verify_timeout": Param(300, type="integer", minimum=0, description="seconds to verify"),
        "approval_threshold": Param(
            DEFAULT_THRESHOLD,
            type="integer",
            minimum=0,
            description="resources the plan may end without a person's approval (above: ask)",
        ),
    },
) as dag:

    @task
    def build_selector(params: dict[str, Any]) -> dict[str, Any]:
        """Only what was given: an empty selector is refused by the operators, never widened."""
        selector: dict[str, Any] = {}
        if params.get("room_ids"):
            selector["room_ids"] = list(params["room_ids"])
        if params.get("room_id_prefix"):
            selector["room_id_prefix"] = params["room_id_prefix"]
        return selector

    discover = DiscoverLiveResourcesOperator(
        task_id="discover",
        selector=build_selector(),
        clouds="{{ params.clouds | join(',') }}",
    )
    plan = EndEventOperator(
        task_id="plan",
        inventory=discover.output,
        clouds="{{ params.clouds | join(',') }}",
        dry_run=True,
    )
    approve_plan = PlanApprovalOperator(
        task_id="approve_plan",
        plan=plan.output,
        threshold="{{ params.approval_threshold }}",
        dry_run="{{ params.dry_run }}",  # a dry run ends nothing: no person is asked
    )
    EndEventOperator(
        task_id="end_event",
        inventory=approve_plan.output,  # exactly the approved plan's inventory
        clouds="{{ params.clouds | join(',') }}",
        dry_run="{{ params.dry_run }}",
        verify_timeout=300,
    )
