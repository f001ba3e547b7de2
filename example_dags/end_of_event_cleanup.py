"""End a live event on Tencent Cloud TRTC, Tencent Cloud Live and ZEGOCLOUD.

Trigger it when the event is over, with the event's inventory as the run's conf (or params):
mixes are stopped first so viewers stop getting a stale mixed picture, then recordings (so they
end cleanly before their rooms vanish), then streams and users, and last the rooms themselves.
Every stage after the first runs whatever happened before it (``all_done``): an event must end
even when one recording refused to stop. The last task checks that every target got an answer and
fails the run otherwise, so a failure is never hidden by the stages that ran after it. Every
cleanup is idempotent, so a retry or a re-run is safe, and "already gone" counts as done.

Each target is one mapped task instance, so the Airflow UI shows exactly which room failed and
why. For hundreds of rooms at the cloud's documented rate, use the bulk operators instead.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_rtc.operators.live import CancelCommonMixStreamOperator, DropLiveStreamOperator
from airflow_provider_rtc.operators.trtc import DeleteCloudRecordingOperator, DismissRoomOperator
from airflow_provider_rtc.operators.zego import (
    CloseRoomOperator,
    DeleteStreamOperator,
    KickoutUserOperator,
    StopMixOperator,
    StopRecordOperator,
)

with DAG(
    dag_id="end_of_event_cleanup",
    description="Stop mixes and recordings, delete streams, kick users and dismiss rooms at event end",
    schedule=None,
    catchup=False,
    max_active_tasks=16,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=15)},
    tags=["rtc", "trtc", "live", "zegocloud", "cleanup"],
    params={
        "trtc_rooms": Param([], type="array", description="numeric TRTC room ids to dismiss"),
        "trtc_recordings": Param([], type="array", description="TRTC cloud-recording TaskIds to stop"),
        "live_mix_sessions": Param([], type="array", description="Live MixStreamSessionIds to cancel"),
        "live_streams": Param(
            [], type="array", description="pushed Live streams: {stream_name, domain_name, app_name}"
        ),
        "zego_mixes": Param([], type="array", description="ZEGO mix tasks: {mix_task_id, user_id}"),
        "zego_recordings": Param([], type="array", description="ZEGO cloud-recording TaskIds to stop"),
        "zego_streams": Param([], type="array", description="ZEGO streams: {room_id, user_id, stream_id}"),
        "zego_kicks": Param([], type="array", description="ZEGO users to kick: {room_id, user_ids (<= 5)}"),
        "zego_rooms": Param([], type="array", description="ZEGO room ids to close"),
    },
) as dag:

    @task
    def event_targets(kind: str, params: dict[str, Any]) -> list[Any]:
        """One kind of target from the run conf, shaped for its mapped operator."""
        items = list(params[kind])
        if kind == "live_streams":
            return [
                {
                    "stream_name": s["stream_name"],
                    "domain_name": s["domain_name"],
                    "app_name": s.get("app_name", "live"),
                }
                for s in items
            ]
        if kind == "zego_mixes":
            return [{"mix_task_id": m["mix_task_id"], "user_id": m.get("user_id")} for m in items]
        if kind == "zego_streams":
            return [
                {"room_id": s["room_id"], "user_id": s["user_id"], "stream_id": s["stream_id"]} for s in items
            ]
        if kind == "zego_kicks":  # KickoutUser takes at most 5 users per call
            return [
                {"room_id": k["room_id"], "user_ids": list(k["user_ids"])[i : i + 5]}
                for k in items
                for i in range(0, len(k["user_ids"]), 5)
            ]
        return items

    kinds = [
        "trtc_rooms",
        "trtc_recordings",
        "live_mix_sessions",
        "live_streams",
        "zego_mixes",
        "zego_recordings",
        "zego_streams",
        "zego_kicks",
        "zego_rooms",
    ]
    inventory = {kind: event_targets.override(task_id=f"list_{kind}")(kind) for kind in kinds}

    # 1. Mixes: viewers must stop receiving the old mixed output first.
    cancel_live_mixes = CancelCommonMixStreamOperator.partial(task_id="cancel_live_mix").expand(
        mix_stream_session_id=inventory["live_mix_sessions"]
    )
    stop_zego_mixes = StopMixOperator.partial(task_id="stop_zego_mix").expand_kwargs(inventory["zego_mixes"])

    # 2. Recordings: stop them while their rooms still exist; files upload afterwards.
    stop_trtc_recordings = DeleteCloudRecordingOperator.partial(
        task_id="stop_trtc_recording", trigger_rule="all_done"
    ).expand(recording_task_id=inventory["trtc_recordings"])
    stop_zego_recordings = StopRecordOperator.partial(
        task_id="stop_zego_recording", trigger_rule="all_done"
    ).expand(recording_task_id=inventory["zego_recordings"])

    # 3. Streams and users.
    drop_live_streams = DropLiveStreamOperator.partial(
        task_id="drop_live_stream", trigger_rule="all_done"
    ).expand_kwargs(inventory["live_streams"])
    delete_zego_streams = DeleteStreamOperator.partial(
        task_id="delete_zego_stream", trigger_rule="all_done"
    ).expand_kwargs(inventory["zego_streams"])
    kick_zego_users = KickoutUserOperator.partial(
        task_id="kick_zego_users", trigger_rule="all_done"
    ).expand_kwargs(inventory["zego_kicks"])

    # 4. Rooms.
    dismiss_trtc_rooms = DismissRoomOperator.partial(
        task_id="dismiss_trtc_room", trigger_rule="all_done"
    ).expand(room_id=inventory["trtc_rooms"])
    close_zego_rooms = CloseRoomOperator.partial(task_id="close_zego_room", trigger_rule="all_done").expand(
        room_id=inventory["zego_rooms"]
    )

    @task(trigger_rule="all_done")
    def summarize(**context: Any) -> dict[str, dict[str, int]]:
        """Count what each step did; fail the run if any target got no answer (its task failed)."""
        steps = {
            "cancel_live_mix": "live_mix_sessions",
            "stop_zego_mix": "zego_mixes",
            "stop_trtc_recording": "trtc_recordings",
            "stop_zego_recording": "zego_recordings",
            "drop_live_stream": "live_streams",
            "delete_zego_stream": "zego_streams",
            "kick_zego_users": "zego_kicks",
            "dismiss_trtc_room": "trtc_rooms",
            "close_zego_room": "zego_rooms",
        }
        summary: dict[str, dict[str, int]] = {}
        missing: list[str] = []
        for step, key in steps.items():
            results = context["ti"].xcom_pull(task_ids=step) or []
            if isinstance(results, dict):
                results = [results]
            counts: dict[str, int] = {}
            for result in results:
                status = result.get("status", "unknown") if isinstance(result, dict) else "unknown"
                counts[status] = counts.get(status, 0) + 1
            summary[step] = counts
            expected = len(context["ti"].xcom_pull(task_ids=f"list_{key}") or [])
            if sum(counts.values()) < expected:
                missing.append(f"{step}: {expected - sum(counts.values())} of {expected} failed")
        print("End-of-event summary:", summary)
        if missing:
            raise RuntimeError("event not fully ended: " + "; ".join(missing))
        return summary

    mixes = [cancel_live_mixes, stop_zego_mixes]
    recordings = [stop_trtc_recordings, stop_zego_recordings]
    streams_and_users = [drop_live_streams, delete_zego_streams, kick_zego_users]
    rooms = [dismiss_trtc_rooms, close_zego_rooms]

    for mix in mixes:
        mix >> recordings
    for rec in recordings:
        rec >> streams_and_users
    for step in streams_and_users:
        step >> rooms
    rooms >> summarize()
