"""Recordings land in the data lake on their own: an event-driven DAG and a retention DAG.

``recordings_to_lake`` is scheduled on assets that an ``AssetWatcher`` feeds: the triggerer runs
``RecordingUploadedEventTrigger`` (one per cloud), which emits one asset event per recording whose
files are uploaded, with the recording's manifest. Each run copies the files of every triggering
event (``triggering_asset_events``: several recordings may arrive together) to the lake with
``CopyRecordingsOperator`` and emits the lake manifests on ``rtc_recordings_in_lake``. A manual run
can copy given manifests instead (``manifests`` param).

Destination: the ``destination`` param, else the Airflow Variable ``rtc_lake_destination``, else a
local folder ``$AIRFLOW_HOME/rtc_lake``. Any ``ObjectStoragePath`` URI works, e.g.
``s3://my-bucket/recordings`` with ``destination_conn_id`` (param, else the Variable
``rtc_lake_conn_id``) naming an ``aws`` connection whose ``endpoint_url`` is COS
(``https://cos.<region>.myqcloud.com``), OSS or S3; a remote destination without one is refused.

Recording URLs on loopback or private networks are refused (SSRF) unless the
``allow_private_sources`` param (or the Variable ``rtc_lake_allow_private_sources``) is true - the
sandbox and the demo need it, a deployment fetching from COS/VOD/ZEGO does not.

``recordings_retention`` runs daily and deletes lake copies older than ``older_than_days`` (and,
when enabled, TRTC VOD media and objects in the bucket the cloud writes to); ``dry_run`` reports
what it would delete.

Settings read at parse time (environment only, no connection or network): ``RTC_LAKE_CLOUDS``
(default ``trtc,zego``: which clouds the watchers follow), ``RTC_LAKE_POLL_SECONDS`` (30) and
``RTC_LAKE_VOD_COMMIT_GRACE_SECONDS`` (60: a TRTC VOD recording is emitted that long after its
312 VOD_STOP, in case a 311 is still being retried).
The TRTC watcher needs the connection extras ``callback_receiver_url`` and ``callback_secret``.
"""

from __future__ import annotations

import os
from typing import Any

from airflow.sdk import DAG, Asset, AssetWatcher, Param, task

from airflow_provider_rtc.operators.storage import CopyRecordingsOperator, DeleteExpiredRecordingsOperator
from airflow_provider_rtc.triggers.uploads import RecordingUploadedEventTrigger

CLOUDS = [c.strip() for c in os.environ.get("RTC_LAKE_CLOUDS", "trtc,zego").split(",") if c.strip()]
POLL_SECONDS = float(os.environ.get("RTC_LAKE_POLL_SECONDS", "30"))
#: TRTC VOD: how long a recording is held after its 312 for a late-retried 311 (TRTC retries a
#: callback for about a minute: keep the default outside tests)
VOD_COMMIT_GRACE_SECONDS = float(os.environ.get("RTC_LAKE_VOD_COMMIT_GRACE_SECONDS", "60"))
DEFAULT_LAKE = "file://" + os.path.join(
    os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow"), "rtc_lake"
)

UPLOADED = {
    cloud: Asset(
        name=f"rtc_{cloud}_recording_uploaded",
        uri=f"rtc://{cloud}/recordings/uploaded",
        watchers=[
            AssetWatcher(
                name=f"rtc_{cloud}_uploads",
                trigger=RecordingUploadedEventTrigger(
                    cloud=cloud, poll_interval=POLL_SECONDS, vod_commit_grace=VOD_COMMIT_GRACE_SECONDS
                ),
            )
        ],
    )
    for cloud in CLOUDS
}
IN_LAKE = Asset(name="rtc_recordings_in_lake", uri="rtc://recordings/lake")

schedule: Any = None
for asset in UPLOADED.values():
    schedule = asset if schedule is None else schedule | asset

with DAG(
    dag_id="recordings_to_lake",
    description="Copy every uploaded recording to the data lake, as it is uploaded",
    schedule=schedule,
    catchup=False,
    max_active_runs=4,
    render_template_as_native_obj=True,
    user_defined_macros={"default_lake": DEFAULT_LAKE},
    tags=["rtc", "recording", "lake"],
    params={
        "destination": Param("", type="string", description="Lake URI; empty: Variable, then local"),
        "destination_conn_id": Param("", type="string", description="Connection of the lake store"),
        "source_url_template": Param("", type="string", description="URL of files without one (COS)"),
        "manifests": Param([], type="array", description="Manual runs: manifests to copy"),
        "allow_private_sources": Param(
            False, type="boolean", description="Fetch URLs on loopback/private hosts (the sandbox)"
        ),
    },
) as dag:

    @task(inlets=list(UPLOADED.values()))
    def uploaded_manifests(**context: Any) -> list[dict[str, Any]]:
        """Manual runs: the given manifests. Asset-triggered runs: every triggering event's, plus
        events stored after the first one while this run was being created. Airflow (3.3.2 and
        before apache/airflow#70972) puts those in no run and queues none for them, so a burst of
        uploads would leave recordings uncopied until the next upload. A recording seen again by
        a later run costs a size check: the copy skips complete files."""
        from airflow_provider_rtc.lake.paths import load_manifests

        if context["params"].get("manifests"):
            return load_manifests(context["params"]["manifests"], context)[0]
        triggering = context.get("triggering_asset_events") or {}
        events: dict[str, list[Any]] = {f"t{i}": list(evs) for i, evs in enumerate(triggering.values())}
        stamps = [e.timestamp for evs in events.values() for e in evs]
        if stamps:
            since = min(stamps).isoformat()
            for asset in UPLOADED.values():
                events[asset.name] = list(context["inlet_events"][asset].after(since).limit(500))
        return load_manifests(None, {"triggering_asset_events": events})[0]

    copy = CopyRecordingsOperator(
        task_id="copy_to_lake",
        manifest=uploaded_manifests(),
        destination="{{ params.destination or var.value.get('rtc_lake_destination', default_lake) }}",
        destination_conn_id="{{ params.destination_conn_id or var.value.get('rtc_lake_conn_id', '') }}",
        source_url_template="{{ params.source_url_template or None }}",
        allow_private_sources=(
            "{{ params.allow_private_sources or var.value.get('rtc_lake_allow_private_sources', 'false') }}"
        ),
        outlets=[IN_LAKE],
    )

    @task
    def summarize(copied: Any, **context: Any) -> dict[str, Any]:
        """Count what is in the lake for this run (printed for people and the demo)."""
        import json

        manifests = [copied] if isinstance(copied, dict) else list(copied or [])
        files = [f for m in manifests for f in m["files"] if f.get("url")]
        destination = context["task"].render_template(
            "{{ params.destination or var.value.get('rtc_lake_destination', default_lake) }}", context
        )
        summary = {
            "recordings": len(manifests),
            "files": len(files),
            "bytes": sum(f.get("size") or 0 for f in files),
            "destination": destination,
        }
        print("Lake summary:", json.dumps(summary, sort_keys=True))
        return summary

    summarize(copy.output)


with DAG(
    dag_id="recordings_retention",
    description="Delete recordings older than the retention period",
    schedule="@daily",
    catchup=False,
    render_template_as_native_obj=True,
    user_defined_macros={"default_lake": DEFAULT_LAKE},
    tags=["rtc", "recording", "lake", "retention"],
    params={
        "older_than_days": Param(90, type="integer", minimum=1, description="Retention period"),
        "destination": Param("", type="string", description="Lake URI; empty: Variable, then local"),
        "destination_conn_id": Param("", type="string"),
        "dry_run": Param(False, type="boolean", description="Only report what would be deleted"),
    },
) as retention_dag:
    DeleteExpiredRecordingsOperator(
        task_id="delete_expired_recordings",
        older_than_days="{{ params.older_than_days }}",
        destination="{{ params.destination or var.value.get('rtc_lake_destination', default_lake) }}",
        destination_conn_id="{{ params.destination_conn_id or var.value.get('rtc_lake_conn_id', '') }}",
        dry_run="{{ params.dry_run }}",
    )
