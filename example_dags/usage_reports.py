"""Daily usage and billing reports of Tencent TRTC and Live into the lake, one file per day and report.

A plain cron schedule (Airflow 3 makes it a ``CronTriggerTimetable``: each run is a point in time, its
data interval empty). The operator reads such a run as the Beijing calendar day that ended before it,
so the run at 03:00 Beijing time on 2026-11-02 writes ``<destination>/<report>/<report>_2026-11-01_
2026-11-01.csv``. 03:00 rather than midnight: TRTC's usage data lags by up to 3 hours (vendor: 5-180
min). Re-running a day replaces its file, and every run also re-fetches the two days before it (the
clouds revise recent days) and rewrites their files. Unpausing runs the latest day; fill in older days
with ``airflow backfill create --dag-id usage_reports --from-date 2026-11-01 --to-date 2026-11-30``,
at most four runs at a time (the usage APIs allow 5 calls/s per account).

The destination is a run param (default ``$AIRFLOW_HOME/rtc_usage``); any ObjectStoragePath URL
works, e.g. ``s3://bucket/usage`` with an ``aws_default`` connection. ZEGOCLOUD has no billing-usage
API, so it has no report here (see the README).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_rtc.operators.usage import UsageReportOperator

DEFAULT_DESTINATION = os.path.join(os.environ.get("AIRFLOW_HOME", "."), "rtc_usage")
REPORTS = (
    "trtc_usage",
    "trtc_recording",
    "trtc_mix_transcoding",
    "trtc_relay",
    "trtc_room",
    "live_bandwidth",
    "live_transcode",
)

with DAG(
    dag_id="usage_reports",
    description="Daily TRTC and Live usage per Beijing day, one tidy file per report and day",
    # a plain cron string, read in the start date's zone (Beijing): each run writes the day before it
    schedule="0 3 * * *",
    start_date=pendulum.datetime(2026, 11, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=4,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["rtc", "trtc", "live", "usage", "billing"],
    params={
        "destination": Param(DEFAULT_DESTINATION, type="string", description="folder or object-store URL"),
    },
) as dag:
    for name in REPORTS:
        UsageReportOperator(
            task_id=name,
            report=name,
            destination="{{ params.destination }}",
            format="csv",
            lookback_days=2,
        )
