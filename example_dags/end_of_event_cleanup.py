"""End a live event on Tencent Cloud TRTC, Tencent Cloud Live and ZEGOCLOUD.

Trigger it when the event is over, with the event's inventory as the run's conf (or params):
mixes are stopped first so viewers stop getting a stale mixed picture, then recordings (so they
end cleanly before their rooms vanish), then streams and users, and last the rooms themselves.
Every stage after the first runs whatever happened before it (``all_done``): an event must end
even when one recording refused to stop. The last task checks that every target got an answer and
fails the run otherwise, counting from the task instances' states, so a failure is never hidden
by the stages that ran after it. The conf is validated in one task before any cloud call: a bad
item fails the run at once, named (``zego_streams[1]: missing 'stream_id'``). Every
cleanup is idempotent, so a retry or a re-run is safe, and "already gone" counts as done.

Each target is one mapped task instance, so the Airflow UI shows exactly which room failed and
why. A large event cannot afford one task per target (each costs seconds of scheduling and a
worker process), so a kind with more targets than ``bulk_threshold`` (default 20) - TRTC rooms,
ZEGO rooms, streams and kicks, Live mixes - ends in ONE bulk task per kind instead, paced at the
documented rate by the shared limiter, with per-target results in its XCom. Set
``bulk_threshold`` to 0 to end every such kind in bulk, or very high to map every target.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_rtc.event import ITEM_SCHEMAS, KINDS
from airflow_provider_rtc.operators.live import (
    BulkCancelCommonMixStreamsOperator,
    CancelCommonMixStreamOperator,
    DropLiveStreamOperator,
)
from airflow_provider_rtc.operators.trtc import (
    BulkDismissRoomsOperator,
    DeleteCloudRecordingOperator,
    DismissRoomOperator,
)
from airflow_provider_rtc.operators.zego import (
    BulkCloseRoomsOperator,
    BulkDeleteStreamsOperator,
    BulkKickoutUsersOperator,
    CloseRoomOperator,
    DeleteStreamOperator,
    KickoutUserOperator,
    StopMixOperator,
    StopRecordOperator,
)

#: each cleanup step and the kind of target it ends
STEPS = {
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

#: the steps that switch to one bulk task (``bulk_<step>``) above ``bulk_threshold`` targets:
#: step -> (kind, bulk operator, its list argument)
BULK_STEPS: dict[str, tuple[str, type, str]] = {
    "cancel_live_mix": ("live_mix_sessions", BulkCancelCommonMixStreamsOperator, "mix_stream_session_ids"),
    "delete_zego_stream": ("zego_streams", BulkDeleteStreamsOperator, "streams"),
    "kick_zego_users": ("zego_kicks", BulkKickoutUsersOperator, "kicks"),
    "dismiss_trtc_room": ("trtc_rooms", BulkDismissRoomsOperator, "room_ids"),
    "close_zego_room": ("zego_rooms", BulkCloseRoomsOperator, "room_ids"),
}
BULK_KINDS = tuple(kind for kind, _, _ in BULK_STEPS.values())  # ordered: the same DAG on every parse
BULK_THRESHOLD = 20


def _objects(description: str, kind: str) -> Param:
    """An array of objects: the trigger form shows it as a JSON editor (a list of strings otherwise)."""
    return Param([], type="array", items=ITEM_SCHEMAS[kind], description=description)


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
        "live_streams": _objects(
            'pushed Live streams: [{"stream_name": "...", "domain_name": "...", "app_name": "live"}]',
            "live_streams",
        ),
        "zego_mixes": _objects('ZEGO mix tasks: [{"mix_task_id": "...", "user_id": "..."}]', "zego_mixes"),
        "zego_recordings": Param([], type="array", description="ZEGO cloud-recording TaskIds to stop"),
        "zego_streams": _objects(
            'ZEGO streams: [{"room_id": "...", "user_id": "...", "stream_id": "..."}]', "zego_streams"
        ),
        "zego_kicks": _objects('ZEGO users to kick: [{"room_id": "...", "user_ids": ["..."]}]', "zego_kicks"),
        "zego_rooms": Param([], type="array", description="ZEGO room ids to close"),
        "bulk_threshold": Param(
            BULK_THRESHOLD,
            type="integer",
            minimum=0,
            description="a kind with more targets than this (rooms, streams, kicks, Live mixes) ends in one "
            "bulk task instead of one task per target",
        ),
    },
) as dag:

    @task(retries=0)  # a bad conf does not get better on retry
    def validate_event(params: dict[str, Any], ti: Any = None) -> dict[str, list[Any]]:
        """Check every target before the first cloud call; the error names the bad item.

        The reason is also kept as this task's XCom ``invalid``, for the REST API and the final check.
        """
        from airflow_provider_rtc.event import event_targets
        from airflow_provider_rtc.exceptions import RtcValidationError

        try:
            return event_targets(params)
        except RtcValidationError as err:
            ti.xcom_push(key="invalid", value=str(err))
            raise

    def _in_bulk(kind: str, targets: dict[str, list[Any]], params: dict[str, Any]) -> bool:
        threshold = params.get("bulk_threshold")
        threshold = BULK_THRESHOLD if threshold is None else int(threshold)
        return kind in BULK_KINDS and len(targets[kind]) > threshold

    @task
    def event_targets(kind: str, targets: dict[str, list[Any]], params: dict[str, Any]) -> list[Any]:
        """One kind of target, shaped for its mapped operator (none when the kind goes in bulk)."""
        return [] if _in_bulk(kind, targets, params) else targets[kind]

    @task
    def bulk_targets(kind: str, targets: dict[str, list[Any]], params: dict[str, Any]) -> list[Any]:
        """One kind of target for its bulk task (none when the kind is small enough to map)."""
        return targets[kind] if _in_bulk(kind, targets, params) else []

    validated = validate_event()
    inventory = {kind: event_targets.override(task_id=f"list_{kind}")(kind, validated) for kind in KINDS}
    bulk_inventory = {
        kind: bulk_targets.override(task_id=f"list_bulk_{kind}")(kind, validated) for kind in BULK_KINDS
    }
    bulk = {
        step: operator(
            task_id=f"bulk_{step}",
            trigger_rule="all_success" if step == "cancel_live_mix" else "all_done",
            **{argument: bulk_inventory[kind]},
        )
        for step, (kind, operator, argument) in BULK_STEPS.items()
    }

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

    @task(trigger_rule="all_done", retries=0)
    def check_event_ended(ti: Any = None) -> dict[str, dict[str, int]]:
        """Fail the run unless every target got an answer: counted from the task instances' states.

        XComs alone would hide a stage that never ran (a failed list task expects 0 targets), so
        every task instance of this run is read: any failed or upstream_failed task, and any step
        with fewer successful instances than targets (skipped, removed...), fails the run. The
        problems are kept as this task's XCom ``problems``.
        """
        states: dict[str, str | None] = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id]).get(
            ti.run_id, {}
        )
        problems = [
            f"{key}: {state}"
            for key, state in sorted(states.items())
            if state in ("failed", "upstream_failed") and key != ti.task_id
        ]
        invalid = ti.xcom_pull(task_ids="validate_event", key="invalid")
        if invalid:
            problems.insert(0, f"validate_event: {invalid}")
        summary: dict[str, dict[str, int]] = {}
        for step, kind in STEPS.items():
            expected = len(ti.xcom_pull(task_ids=f"list_{kind}") or [])
            if states.get(f"list_{kind}") != "success":
                problems.append(f"{step}: its targets were never listed ({states.get(f'list_{kind}')})")
            results = ti.xcom_pull(task_ids=step) or []
            results = [results] if isinstance(results, dict) else results
            counts: dict[str, int] = {}
            for result in results:
                status = result.get("status", "unknown") if isinstance(result, dict) else "unknown"
                counts[status] = counts.get(status, 0) + 1
            summary[step] = counts
            done = sum(1 for i in range(expected) if states.get(f"{step}_{i}") == "success")
            if done < expected:
                left = sorted({str(states.get(f"{step}_{i}")) for i in range(expected)} - {"success"})
                problems.append(f"{step}: {expected - done} of {expected} not done ({', '.join(left)})")
            if step in BULK_STEPS:  # the bulk task: one instance for all of the kind's targets
                bulk_kind, bulk_id = BULK_STEPS[step][0], f"bulk_{step}"
                in_bulk = len(ti.xcom_pull(task_ids=f"list_bulk_{bulk_kind}") or [])
                if states.get(f"list_bulk_{bulk_kind}") != "success":
                    problems.append(f"{bulk_id}: its targets were never listed")
                elif in_bulk and states.get(bulk_id) != "success":
                    problems.append(f"{bulk_id}: {in_bulk} target(s) not done ({states.get(bulk_id)})")
                bulk_counts = (ti.xcom_pull(task_ids=bulk_id) or {}).get("counts") or {}
                for status, count in bulk_counts.items():
                    counts[status] = counts.get(status, 0) + int(count)
        print("End-of-event summary:", summary)
        if problems:
            ti.xcom_push(key="problems", value=problems)
            raise RuntimeError("event not fully ended: " + "; ".join(problems))
        return summary

    mixes = [cancel_live_mixes, stop_zego_mixes, bulk["cancel_live_mix"]]
    recordings = [stop_trtc_recordings, stop_zego_recordings]
    streams_and_users = [
        drop_live_streams,
        delete_zego_streams,
        kick_zego_users,
        bulk["delete_zego_stream"],
        bulk["kick_zego_users"],
    ]
    rooms = [dismiss_trtc_rooms, close_zego_rooms, bulk["dismiss_trtc_room"], bulk["close_zego_room"]]

    for mix in mixes:
        mix >> recordings
    for rec in recordings:
        rec >> streams_and_users
    for step in streams_and_users:
        step >> rooms
    rooms >> check_event_ended()
