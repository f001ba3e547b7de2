"""Hourly: TRTC month-to-date minutes against a budget; warn at 80% and 100%, once each per month.

Usage is the Beijing-time month to date (Tencent bills per Beijing day) from DescribeTrtcUsage, whose
data lags by 5 minutes to 3 hours (vendor: 5-180 min): hourly is as often as it is worth checking. The
notifier here only logs (works offline); use any Airflow notifier (Slack, SMTP, ...) instead. Each
threshold fires once per month across runs (markers under ``$AIRFLOW_HOME/rtc/budgets``). With
``end_idle_rooms_at_full`` the run at or past 100% also ends ZEGO rooms idle for ``idle_minutes``
(ZEGO only: TRTC has no free API listing a room's users, so it cannot tell idle from busy).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_rtc.notifications import LogNotifier
from airflow_provider_rtc.operators.budgets import UsageBudgetOperator

with DAG(
    dag_id="usage_budget",
    description="Month-to-date TRTC minutes against a budget, notified at 80% and 100%",
    schedule=timedelta(hours=1),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # the markers are claimed atomically anyway; one run at a time is enough
    render_template_as_native_obj=True,  # the params below reach the operator as numbers and bools
    tags=["rtc", "trtc", "usage", "budget"],
    params={
        "audio_minutes": Param(200_000, type="number", exclusiveMinimum=0, description="Audio minutes"),
        "hd_minutes": Param(100_000, type="number", exclusiveMinimum=0, description="HD video minutes"),
        "end_idle_rooms_at_full": Param(False, type="boolean", description="end idle ZEGO rooms at 100%"),
        "idle_minutes": Param(30, type="number", minimum=0, description="idle for this long"),
    },
) as dag:
    UsageBudgetOperator(
        task_id="check_budget",
        budgets=[
            {"cloud": "trtc", "metric": "Audio", "budget": "{{ params.audio_minutes }}", "unit": "minutes"},
            {"cloud": "trtc", "metric": "HD", "budget": "{{ params.hd_minutes }}", "unit": "minutes"},
        ],
        thresholds=[0.8, 1.0],
        notifier=LogNotifier(
            "RTC budget: {{ budget_alert.label }} at {{ budget_alert.percent }}% "
            "({{ budget_alert.usage }} of {{ budget_alert.budget }} {{ budget_alert.unit }}, "
            "{{ budget_alert.month }}, Beijing time)"
        ),
        end_idle_rooms_at_full="{{ params.end_idle_rooms_at_full }}",
        idle_for="{{ params.idle_minutes * 60 }}",
    )
