"""Daily usage and billing reports of Tencent TRTC and Live into the lake, one file per day and report.

Each run covers one Beijing calendar day (the clouds report in Beijing time, so the schedule runs
at Beijing midnight) and writes ``<destination>/<report>/<report>_<date>_<date>.csv``; re-running a
day replaces its file, and every run also re-fetches the two days before it (the clouds revise recent
days) and rewrites their files. ``catchup=True``: unpause it, or ``airflow backfill create``, and the
missing days fill in, at most four runs at a time (the usage APIs allow 5 calls/s per account).

The destination is a run param (default ``$AIRFLOW_HOME/rtc_usage``); any ObjectStoragePath URL
works, e.g. ``s3://bucket/usage`` with an ``aws_default`` connection. ZEGOCLOUD has no billing-usage
API, so it has no report here (see the README).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param
from airflow.timetables.interval import CronDataIntervalTimetable

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
    # data intervals from Beijing midnight to Beijing midnight: each run is exactly one reported day
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(2026, 11, 1, tz="Asia/Shanghai"),
    catchup=True,
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
