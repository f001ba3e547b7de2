"""EndEventOperator with an explicit inventory (the run conf's ``inventory``): the second shape of
``benchmarks/event_end.py``. Not an example DAG: the benchmark copies it next to the example DAG."""

from __future__ import annotations

from airflow.sdk import DAG, Param

from airflow_provider_rtc.operators.event import EndEventOperator

with DAG(
    dag_id="bench_end_event_inventory",
    schedule=None,
    catchup=False,
    render_template_as_native_obj=True,
    params={"inventory": Param({}, type="object", description="a discovery-shaped inventory")},
    tags=["rtc", "benchmark"],
) as dag:
    EndEventOperator(
        task_id="end_event",
        inventory="{{ params.inventory }}",
        verify_timeout=120,
        verify_interval=2,
        max_concurrency=16,
    )
