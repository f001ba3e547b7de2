"""The bulk engine's documented import path (the engine: :mod:`airflow_provider_rtc.cleanup.engine`)."""

from airflow_provider_rtc.cleanup.engine import (
    MAX_CONCURRENCY,
    STATUSES,
    BulkPlan,
    BulkRun,
    BulkStop,
    BulkTarget,
    not_started,
    plan_targets,
    run_bulk,
)

__all__ = [
    "MAX_CONCURRENCY",
    "STATUSES",
    "BulkPlan",
    "BulkRun",
    "BulkStop",
    "BulkTarget",
    "not_started",
    "plan_targets",
    "run_bulk",
]
