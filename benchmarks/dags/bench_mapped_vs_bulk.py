"""Two ways to end the same rooms, timed by benchmarks/mapped.py: one mapped task per room, or
one bulk task for all of them."""

from __future__ import annotations

from airflow.sdk import DAG, Param, task

from airflow_provider_rtc.operators.trtc import BulkDismissRoomsOperator, DismissRoomOperator

with DAG(
    dag_id="bench_mapped_dismiss",
    schedule=None,
    params={"rooms": Param([], type="array")},
    max_active_tasks=64,
) as mapped_dag:

    @task
    def rooms(params: dict) -> list[int]:
        return list(params["rooms"])

    DismissRoomOperator.partial(task_id="dismiss").expand(room_id=rooms())

with DAG(
    dag_id="bench_bulk_dismiss",
    schedule=None,
    params={"rooms": Param([], type="array")},
    render_template_as_native_obj=True,
) as bulk_dag:
    BulkDismissRoomsOperator(task_id="dismiss_all", room_ids="{{ params.rooms }}")
