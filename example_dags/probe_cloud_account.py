"""Probe a real account once: does it answer the way the provider's catalog assumes?

Manual trigger only. Each cataloged API is called once in a way that cannot change anything
(destructive APIs only on random ids that cannot exist; create/start APIs and DismissRoom never;
reads with a tiny window); billed APIs only when ``include_billed`` is on. The task logs the table
and returns its rows as XCom; it fails when an answer differs from the catalog (``fail_on_difference``
param off = report only). The same engine as ``rtc-provider probe`` (README, "Probe your account").
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from airflow_provider_rtc.operators.probe import ProbeCloudAccountOperator

with DAG(
    dag_id="probe_cloud_account",
    description="Check the provider's assumptions against a real account, with calls that change nothing",
    schedule=None,
    catchup=False,
    tags=["rtc", "trtc", "live", "vod", "zegocloud", "probe"],
    params={
        "tencentcloud_conn_id": Param(
            "tencentcloud_default",
            type=["null", "string"],
            description="TRTC/Live/VOD connection; empty = skip",
        ),
        "zegocloud_conn_id": Param(
            "zegocloud_default", type=["null", "string"], description="ZEGOCLOUD connection; empty = skip"
        ),
        "clouds": Param("", type="string", description="comma-separated subset of trtc,live,vod,zego"),
        "include_billed": Param(False, type="boolean", description="also call APIs that cost money"),
        "live_domain": Param("", type="string", description="a Live push domain (per-stream Live probes)"),
        "ended_trtc_task": Param(
            "", type="string", description="a TRTC recording TaskId known to have ended (optional)"
        ),
        "fail_on_difference": Param(True, type="boolean", description="fail the task when something differs"),
    },
    render_template_as_native_obj=True,
) as dag:
    ProbeCloudAccountOperator(
        task_id="probe",
        tencentcloud_conn_id="{{ params.tencentcloud_conn_id }}",
        zegocloud_conn_id="{{ params.zegocloud_conn_id }}",
        clouds="{{ params.clouds }}",
        include_billed="{{ params.include_billed }}",
        live_domain="{{ params.live_domain }}",
        ended_trtc_task="{{ params.ended_trtc_task }}",
        fail_on_difference="{{ params.fail_on_difference }}",
    )
