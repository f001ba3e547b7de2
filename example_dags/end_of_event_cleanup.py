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
worker process), nor stages that wait for each other across the whole event: when a kind has more
targets than ``bulk_threshold`` (default 20), the WHOLE event ends in ONE task, ``end_in_bulk``,
on the dependency-aware executor (``airflow_provider_rtc.cleanup.schedule``): every API at its
documented rate in its own lane, each target as soon as what it depends on has ended (a ZEGO room
once its own streams and kicks are done; rooms after the recordings and mixes), so the event takes
about the time of its slowest API (30 ZEGO rooms at 1 CloseRoom/s: 30 s). Per-target results are
in its XCom. Set ``bulk_threshold`` to 0 to always end in one task, or very high to map every
target.

Which API ends each conf kind, and in which stage, is the ender table's
(:mod:`airflow_provider_rtc.cleanup.enders`): a destructive API added there with a ``conf`` name
gets its conf field, its mapped step and its place in ``end_in_bulk`` here without an edit. Every
result (mapped or in the bulk's ``results``) is in the one shape of ``docs/cleanup-engine.md``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from itertools import pairwise
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_rtc.cleanup.enders import BY_CONF, STAGES
from airflow_provider_rtc.cleanup.inputs import ITEM_SCHEMAS, KINDS
from airflow_provider_rtc.operators.bulk import EndOperator

#: each cleanup step (its task id) and the conf kind it ends: the ender table's rows with a conf name
STEPS = {row.step: conf for conf, row in BY_CONF.items() if row.step}
#: above ``bulk_threshold`` targets in any of these kinds the whole event ends in ``end_in_bulk``
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
            description="with more targets than this in a kind, the whole event ends in one "
            "dependency-aware task instead of one task per target",
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

    def _in_bulk(targets: dict[str, list[Any]], params: dict[str, Any]) -> bool:
        threshold = params.get("bulk_threshold")
        threshold = BULK_THRESHOLD if threshold is None else int(threshold)
        return any(len(targets[kind]) > threshold for kind in BULK_KINDS)

    @task
    def event_targets(kind: str, targets: dict[str, list[Any]], params: dict[str, Any]) -> list[Any]:
        """One kind of target, shaped for its mapped operator (none when the event ends in bulk)."""
        return [] if _in_bulk(targets, params) else targets[kind]

    # queued before the list tasks (whose mapped steps would give them the higher default weight):
    # in a large event this task is the critical path, they have nothing to do
    @task(execution_timeout=timedelta(hours=1), priority_weight=1000, weight_rule="absolute")
    def end_in_bulk(params: dict[str, Any], ti: Any = None) -> dict[str, Any]:
        """A large event, every kind in one task: each API at its documented rate, each target once
        what it depends on has ended; nothing to do when the event is small enough to map.

        It checks the conf itself (the same check as ``validate_event``, before any call) rather
        than wait for that task: one task start less before the first call. Fails if any target
        failed (after ending all the others), pushing the summary first (XCom ``bulk_results``);
        stopped by the timeout, it issues no new call and reports ``not_started`` for the rest.
        """
        from airflow_provider_rtc.cleanup.engine import BulkRun
        from airflow_provider_rtc.cleanup.event_conf import end_event
        from airflow_provider_rtc.cleanup.inputs import event_targets as checked_targets

        targets = checked_targets(params)  # RtcValidationError: failed at once, never retried
        if not _in_bulk(targets, params):
            return {"total": 0, "counts": {}, "by_kind": {}, "results": []}
        run = BulkRun(max_concurrency=16)
        summary, interrupted = end_event(targets, run=run, log=logging.getLogger("airflow.task"))
        print("end_in_bulk:", summary["counts"], f"in {summary['elapsed_s']}s", "per API:", summary["apis"])
        failed = [r for r in summary["results"] if r["status"] == "failed"]
        if interrupted is not None or failed or run.stopped:
            ti.xcom_push(key="bulk_results", value=summary)
        if interrupted is not None:
            raise interrupted
        if failed or run.stopped:
            raise RuntimeError(
                f"{len(failed)} of {summary['total']} target(s) failed"
                + (f", stopped ({run.stopped})" if run.stopped else "")
                + ": "
                + ", ".join(f"{r['action']} {r['label']} [{r.get('code')}]" for r in failed[:10])
            )
        return summary

    validated = validate_event()
    inventory = {kind: event_targets.override(task_id=f"list_{kind}")(kind, validated) for kind in KINDS}
    bulk = end_in_bulk()
    # Every step reads its API from the ender table; its stage (mixes, recordings, streams and users,
    # rooms) orders it. Every stage after the first runs whatever happened before it (all_done).
    first = STAGES[0]
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
            # the bulk task: one instance for the whole event, counted per conf kind
            bulk_counts = ((ti.xcom_pull(task_ids="end_in_bulk") or {}).get("by_kind") or {}).get(kind) or {}
            for status, count in bulk_counts.items():
                counts[status] = counts.get(status, 0) + int(count)
        if states.get("end_in_bulk") != "success":
            problems.append(f"end_in_bulk: {states.get('end_in_bulk')}")
        print("End-of-event summary:", summary)
        if problems:
            ti.xcom_push(key="problems", value=problems)
            raise RuntimeError("event not fully ended: " + "; ".join(problems))
        return summary

    by_stage = [
        [mapped[step] for step, kind in STEPS.items() if BY_CONF[kind].stage == stage] for stage in STAGES
    ]
    for before, after in pairwise(by_stage):
        for task_before in before:
            task_before >> after
    # the bulk task checks the conf itself and starts with validate_event: a large event has no
    # mapped target, so nothing runs in the stages; a small one leaves it with nothing to do
    checked = check_event_ended()
    by_stage[-1] >> checked
    bulk >> checked
