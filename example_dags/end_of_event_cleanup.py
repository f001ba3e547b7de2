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
worker process), so a kind with more targets than ``bulk_threshold`` (default 20) ends in ONE
bulk task per kind instead, paced at the documented rate by the shared limiter, with per-target
results in its XCom. Set ``bulk_threshold`` to 0 to end every kind in bulk, or very high to map
every target.

Which API ends each conf kind, and in which stage, is the ender table's
(:mod:`airflow_provider_rtc.cleanup.enders`): a destructive API added there with a ``conf`` name
gets its conf field, its mapped step and its bulk step here without an edit. Every result (mapped
or in a bulk's ``results``) is in the one shape of ``docs/cleanup-engine.md``.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_rtc.cleanup.enders import BY_CONF, STAGES
from airflow_provider_rtc.cleanup.inputs import ITEM_SCHEMAS, KINDS
from airflow_provider_rtc.operators.bulk import BulkEndOperator, EndOperator

#: each cleanup step (its task id) and the conf kind it ends: the ender table's rows with a conf name
STEPS = {row.step: conf for conf, row in BY_CONF.items() if row.step}
#: every step has a bulk form (``bulk_<step>``), used above ``bulk_threshold`` targets
BULK_STEPS = {step: (kind, BY_CONF[kind].action) for step, kind in STEPS.items()}
BULK_KINDS = tuple(STEPS.values())  # ordered: the same DAG on every parse
BULK_THRESHOLD = 20


def _objects(description: str, kind: str) -> Param:
    """An array of objects: the trigger form shows it as a JSON editor (a list of strings otherwise)."""
    return Param([], type="array", items=ITEM_SCHEMAS[kind], description=description)


#: the conf kinds with a hand-written trigger-form description below; any other row gets a generic one
_DESCRIBED = (
    "trtc_rooms",
    "trtc_recordings",
    "live_mix_sessions",
    "live_streams",
    "zego_mixes",
    "zego_recordings",
    "zego_streams",
    "zego_kicks",
    "zego_rooms",
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
        **{
            kind: Param([], type="array", description=f"targets of {row.action} ({row.product})")
            for kind, row in BY_CONF.items()
            if kind not in _DESCRIBED
        },
        "bulk_threshold": Param(
            BULK_THRESHOLD,
            type="integer",
            minimum=0,
            description="a kind with more targets than this ends in one bulk task instead of one task "
            "per target",
        ),
    },
) as dag:

    @task(retries=0)  # a bad conf does not get better on retry
    def validate_event(params: dict[str, Any], ti: Any = None) -> dict[str, list[Any]]:
        """Check every target before the first cloud call; the error names the bad item.

        The reason is also kept as this task's XCom ``invalid``, for the REST API and the final check.
        """
        from airflow_provider_rtc.cleanup.inputs import event_targets
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
    # Every step reads its API from the ender table; its stage (mixes, recordings, streams and users,
    # rooms) orders it. Every stage after the first runs whatever happened before it (all_done).
    first = STAGES[0]
    bulk = {
        step: BulkEndOperator(
            task_id=f"bulk_{step}",
            action=action,
            targets=bulk_inventory[kind],
            trigger_rule="all_success" if BY_CONF[kind].stage == first else "all_done",
        )
        for step, (kind, action) in BULK_STEPS.items()
    }
    mapped = {
        step: EndOperator.partial(
            task_id=step,
            action=BY_CONF[kind].action,
            trigger_rule="all_success" if BY_CONF[kind].stage == first else "all_done",
        ).expand(target=inventory[kind])
        for step, kind in STEPS.items()
    }

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

    by_stage = [
        [
            task
            for step, kind in STEPS.items()
            if BY_CONF[kind].stage == stage
            for task in (mapped[step], bulk[step])
        ]
        for stage in STAGES
    ]
    for before, after in pairwise(by_stage):
        for task_before in before:
            task_before >> after
    by_stage[-1] >> check_event_ended()
