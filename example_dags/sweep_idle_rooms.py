"""Every 15 minutes, end rooms nobody uses any more: idle for N minutes, or older than M hours.

"Idle" means no user and no stream in the room for that long (from the callback inventory,
reconciled with the clouds' list APIs); "older" caps what a forgotten room can cost. Each rule is
its own task, run one after the other, so an idle sweep that fails does not stop the age cap. With
``dry_run`` the tasks only log the plan. Rooms can be limited to an id prefix (e.g. your test rooms).

The idle sweep covers ZEGO only: TRTC has no free API that lists a room's users, so a TRTC room
whose users' enter callbacks were lost would look idle while people talk in it, and the operators
refuse ``idle_for`` for TRTC. TRTC rooms are capped by age.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_rtc.operators.event import EndEventOperator

with DAG(
    dag_id="sweep_idle_rooms",
    description="End rooms idle for N minutes or older than M hours, every 15 minutes",
    schedule=timedelta(minutes=15),
    catchup=False,
    max_active_runs=1,
    tags=["rtc", "trtc", "zegocloud", "cleanup", "discovery"],
    params={
        # 0 still narrows: only rooms with nobody in them right now
        "idle_minutes": Param(10, type="number", minimum=0, description="end rooms idle this long"),
        # > 0: "older than 0 hours" is every room (the operator refuses it without allow_all)
        "older_than_hours": Param(
            12, type="number", exclusiveMinimum=0, description="end rooms older than this (> 0)"
        ),
        "room_id_prefix": Param("", type="string", description="only rooms whose id starts with this"),
        "clouds": Param(["trtc", "zego"], type="array", description="age cap: trtc and/or zego"),
        "idle_clouds": Param(
            ["zego"], type="array", description="idle sweep: zego (TRTC cannot tell idle from busy)"
        ),
        "dry_run": Param(False, type="boolean", description="only log the plans"),
    },
) as dag:

    @task
    def selectors(params: dict[str, Any]) -> dict[str, dict[str, Any]]:
        scope = {"room_id_prefix": params["room_id_prefix"]} if params.get("room_id_prefix") else {}
        return {
            "idle": {**scope, "idle_for": float(params["idle_minutes"]) * 60},
            "old": {**scope, "older_than": float(params["older_than_hours"]) * 3600},
        }

    chosen = selectors()
    end_idle = EndEventOperator(
        task_id="end_idle_rooms",
        selector=chosen["idle"],
        clouds="{{ params.idle_clouds | join(',') }}",
        dry_run="{{ params.dry_run }}",
        verify_timeout=120,
    )
    end_old = EndEventOperator(
        task_id="end_old_rooms",
        selector=chosen["old"],
        clouds="{{ params.clouds | join(',') }}",
        dry_run="{{ params.dry_run }}",
        verify_timeout=120,
        trigger_rule="all_done",  # the age cap runs even when the idle sweep failed
    )
    end_idle >> end_old
