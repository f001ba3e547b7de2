"""Stop an event's cloud recordings, wait until their files are really uploaded, then post-process.

Trigger it when the event is over with the recording TaskIds as the run's conf (or params)::

    {"trtc_recordings": ["<TRTC TaskId>", ...], "zego_recordings": ["<ZEGO TaskId>", ...]}

Each recording is one mapped task that stops it and then waits, deferred to the triggerer, until
its files are uploaded (TRTC: the recording callbacks say so, see the provider's callback receiver;
ZEGO: DescribeRecordStatus says every file is final). Each task returns the recording's manifest
and emits an event on the ``rtc_recording_uploaded`` asset with the manifest as its extra, so other
DAGs can be scheduled on "recording uploaded" (see ``recording_uploaded_consumer`` below).

The last task writes every manifest as JSON under ``$AIRFLOW_HOME/rtc_recordings/<run id>/`` and
totals durations and sizes per room. A recording that failed to upload fails its own task (the
default policy) and, after the summary has been written, the run.

Settings read at parse time (environment only, no connection or network):
``RTC_RECORDING_POLL_SECONDS`` (default 30) and ``RTC_RECORDING_WAIT_SECONDS`` (default 6 h).
The TRTC connection needs the extras ``callback_receiver_url`` and ``callback_secret``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Asset, Param, task

from airflow_provider_rtc.operators.trtc import DeleteCloudRecordingOperator
from airflow_provider_rtc.operators.zego import StopRecordOperator

POLL_SECONDS = float(os.environ.get("RTC_RECORDING_POLL_SECONDS", "30"))
WAIT_SECONDS = float(os.environ.get("RTC_RECORDING_WAIT_SECONDS", str(6 * 3600)))

RECORDING_UPLOADED = Asset(name="rtc_recording_uploaded", uri="rtc://recordings/uploaded")

with DAG(
    dag_id="recording_postprocessing",
    description="Stop recordings, wait until their files are uploaded, total them per room",
    schedule=None,
    catchup=False,
    max_active_tasks=16,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=30)},
    tags=["rtc", "trtc", "zegocloud", "recording"],
    params={
        "trtc_recordings": Param([], type="array", description="TRTC cloud-recording TaskIds"),
        "zego_recordings": Param([], type="array", description="ZEGO cloud-recording TaskIds"),
    },
) as dag:

    @task
    def recording_ids(kind: str, params: dict[str, Any]) -> list[str]:
        """The TaskIds of one cloud from the run conf, de-duplicated, order kept."""
        return list(dict.fromkeys(str(task_id) for task_id in params[kind]))

    trtc_ids = recording_ids.override(task_id="list_trtc_recordings")("trtc_recordings")
    zego_ids = recording_ids.override(task_id="list_zego_recordings")("zego_recordings")

    stop_and_wait_trtc = DeleteCloudRecordingOperator.partial(
        task_id="stop_and_wait_trtc",
        wait_for_upload=True,
        deferrable=True,
        poll_interval=POLL_SECONDS,
        wait_timeout=WAIT_SECONDS,
        outlets=[RECORDING_UPLOADED],
    ).expand(recording_task_id=trtc_ids)

    stop_and_wait_zego = StopRecordOperator.partial(
        task_id="stop_and_wait_zego",
        wait_for_upload=True,
        deferrable=True,
        poll_interval=POLL_SECONDS,
        wait_timeout=WAIT_SECONDS,
        outlets=[RECORDING_UPLOADED],
    ).expand(recording_task_id=zego_ids)

    @task(trigger_rule="all_done", retries=0)  # a re-run cannot upload anything
    def summarize_uploads(**context: Any) -> dict[str, Any]:
        """Write the manifests as JSON and total files, bytes and milliseconds per room."""
        import json
        import re
        import tempfile
        from pathlib import Path

        ti = context["ti"]
        manifests: list[dict[str, Any]] = []
        missing: list[str] = []
        for step, listing in (
            ("stop_and_wait_trtc", "list_trtc_recordings"),
            ("stop_and_wait_zego", "list_zego_recordings"),
        ):
            expected = ti.xcom_pull(task_ids=listing) or []
            got = ti.xcom_pull(task_ids=step) or []
            got = [got] if isinstance(got, dict) else [m for m in got if isinstance(m, dict)]
            manifests.extend(got)
            done = {m.get("task_id") for m in got}
            missing.extend(f"{step}: {task_id}" for task_id in expected if task_id not in done)

        rooms: dict[str, dict[str, Any]] = {}
        for manifest in manifests:
            key = f"{manifest['cloud']}:{manifest.get('room_id') or '?'}"
            room = rooms.setdefault(
                key, {"recordings": 0, "files": 0, "size_bytes": 0, "duration_ms": 0, "not_uploaded": 0}
            )
            room["recordings"] += 1
            for entry in manifest["files"]:
                room["files"] += 1
                room["size_bytes"] += entry.get("size") or 0
                room["duration_ms"] += entry.get("duration_ms") or 0
                room["not_uploaded"] += entry.get("status") != "uploaded"

        base = Path(os.environ.get("AIRFLOW_HOME") or tempfile.gettempdir()) / "rtc_recordings"
        folder = base / re.sub(r"[^A-Za-z0-9_.-]", "_", str(context["run_id"]))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "manifests.json").write_text(json.dumps(manifests, indent=2, sort_keys=True))
        summary = {
            "manifest_path": str(folder / "manifests.json"),
            "recordings": len(manifests),
            "rooms": dict(sorted(rooms.items())),
            "not_uploaded": missing,
        }
        (folder / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
        print("Recording summary:", json.dumps(summary, sort_keys=True))
        if missing:
            raise RuntimeError("recordings not uploaded: " + "; ".join(missing))
        return summary

    [stop_and_wait_trtc, stop_and_wait_zego] >> summarize_uploads()


with DAG(
    dag_id="recording_uploaded_consumer",
    description="Runs whenever a recording's files are uploaded; reads the manifest from the asset event",
    schedule=[RECORDING_UPLOADED],
    catchup=False,
    tags=["rtc", "recording"],
) as consumer:

    @task
    def list_uploaded_files(**context: Any) -> list[str]:
        """The files of every recording whose upload triggered this run."""
        names: list[str] = []
        for event in context["triggering_asset_events"][RECORDING_UPLOADED]:
            manifest = (event.extra or {}).get("manifest") or {}
            prefix = f"{manifest.get('cloud')}/{manifest.get('task_id')}"
            names.extend(f"{prefix}/{entry['name']}" for entry in manifest.get("files", []))
        print("Uploaded:", names)
        return names

    list_uploaded_files()
