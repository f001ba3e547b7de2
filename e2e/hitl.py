"""Answer Airflow's human-in-the-loop requests over the REST API (Airflow >= 3.1).

The endpoints (airflow/api_fastapi/core_api/routes/public/hitl.py, Airflow 3.3.1):
``GET``/``PATCH /api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}/hitlDetails``;
the PATCH body is ``{"chosen_options": [...], "params_input": {...}}`` (UpdateHITLDetailPayload),
answered once (409 after), and resumes a task parked in ``awaiting_input`` (3.3) or deferred (3.1/3.2).
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
from pathlib import Path
from typing import Any

from .harness import Api, StageError

APPROVE = "Approve"
REJECT = "Reject"


def _path(dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    run = urllib.parse.quote(run_id, safe="")
    return f"/api/v2/dags/{dag_id}/dagRuns/{run}/taskInstances/{task_id}/{map_index}/hitlDetails"


#: the states of a task waiting for its answer (3.3 parks it; 3.1/3.2 defer it to a trigger)
WAITING = ("awaiting_input", "deferred")
#: seconds between seeing the task wait and answering. Airflow 3.3.1 race (seen in this scenario):
#: an answer within ~1 s of the park resumes the task (queued) before the scheduler has read the
#: parking workload's "success" executor event, which it then takes for a task that finished while
#: queued and marks FAILED ("finished with state success, but the task instance's state is
#: queued"). A person never answers that fast; a script waits this long. 5 s was not enough on
#: 2 loaded cores: a scheduler loop took 6 s, and the answer at +5.9 s still lost the race.
#: Where the scheduler's log is given, the answer goes as soon as the scheduler has handled that
#: event (:func:`parked_event_handled`), which ends the race, and ``SETTLE`` is only the ceiling.
SETTLE = 15.0
#: after the scheduler logged the parking workload's event: its session commits right after it
HANDLED_MARGIN = 1.0


def parked_event_handled(scheduler_log: Path, dag_id: str, run_id: str, task_id: str, map_index: int) -> bool:
    """Whether the scheduler has handled the executor event of the workload that parked the task:
    its ``TaskInstance Finished: dag_id=..., task_id=..., run_id=..., map_index=...`` line
    (airflow/jobs/scheduler_job_runner.py ``_process_executor_events``, Airflow 3.3.1), written
    once it read that event. Only the parking try ran before the answer, so any such line of the
    task is that event's. A wait on it, never an assertion: a log that lacks it falls back to
    :data:`SETTLE`."""
    needle = f"dag_id={dag_id}, task_id={task_id}, run_id={run_id}, map_index={map_index},"
    try:
        with open(scheduler_log, errors="replace") as fh:
            return any("TaskInstance Finished:" in line and needle in line for line in fh)
    except OSError:
        return False


def _settle(
    settle: float, scheduler_log: Path | None, dag_id: str, run_id: str, task_id: str, map_index: int
) -> None:
    deadline = time.monotonic() + settle
    while scheduler_log is not None and time.monotonic() < deadline:
        if parked_event_handled(scheduler_log, dag_id, run_id, task_id, map_index):
            time.sleep(min(HANDLED_MARGIN, max(0.0, deadline - time.monotonic())))
            return
        time.sleep(0.5)
    time.sleep(max(0.0, deadline - time.monotonic()))


def _ti_state(client: Api, dag_id: str, run_id: str, task_id: str, map_index: int) -> str | None:
    run = urllib.parse.quote(run_id, safe="")
    path = f"/api/v2/dags/{dag_id}/dagRuns/{run}/taskInstances/{task_id}"
    ti = client.get(path if map_index < 0 else f"{path}/{map_index}")
    return ti.get("state") if isinstance(ti, dict) else None


def wait_request(
    client: Api,
    dag_id: str,
    run_id: str,
    task_id: str,
    *,
    map_index: int = -1,
    timeout: float = 300.0,
    settle: float = SETTLE,
    scheduler_log: Path | None = None,
) -> dict[str, Any]:
    """The HITL detail (subject, body, options, ...) once the task waits for it, as a person sees
    it; StageError after ``timeout``, or at once if the run finished without asking.

    The detail is written a moment before the task parks; answering in that window is handled by
    Airflow, but a person only sees a waiting task, so this waits for the state too, then
    ``settle`` seconds (:data:`SETTLE`: an answer right after the park hits an Airflow race), or
    less once ``scheduler_log`` shows the scheduler handled the park (:func:`parked_event_handled`)."""
    deadline = time.monotonic() + timeout
    while True:
        if _ti_state(client, dag_id, run_id, task_id, map_index) in WAITING:
            try:
                detail = client.get(_path(dag_id, run_id, task_id, map_index))
                if detail and detail.get("options"):
                    _settle(settle, scheduler_log, dag_id, run_id, task_id, map_index)
                    return dict(detail)
            except urllib.error.HTTPError as err:
                if err.code != 404:  # 404: the task has not asked (yet)
                    raise
        state = client.run(dag_id, run_id)["state"]
        if state in ("success", "failed"):
            raise StageError(f"{dag_id} {run_id} ended {state} without asking for approval at {task_id}")
        if time.monotonic() > deadline:
            raise StageError(f"{dag_id} {run_id}: no approval request from {task_id} after {timeout:.0f}s")
        time.sleep(1.0)


def respond(
    client: Api,
    dag_id: str,
    run_id: str,
    task_id: str,
    option: str,
    *,
    map_index: int = -1,
    params_input: dict[str, Any] | None = None,
    timeout: float = 300.0,
    scheduler_log: Path | None = None,
) -> dict[str, Any]:
    """Wait for the request, then answer it with ``option``; returns ``{"request", "response"}``."""
    request = wait_request(
        client, dag_id, run_id, task_id, map_index=map_index, timeout=timeout, scheduler_log=scheduler_log
    )
    response = client.call(
        "PATCH",
        _path(dag_id, run_id, task_id, map_index),
        {"chosen_options": [option], "params_input": params_input or {}},
    )
    return {"request": request, "response": response}


def approve(client: Api, dag_id: str, run_id: str, task_id: str, **kwargs: Any) -> dict[str, Any]:
    """Approve an ApprovalOperator's (e.g. PlanApprovalOperator's) request."""
    return respond(client, dag_id, run_id, task_id, APPROVE, **kwargs)


def reject(client: Api, dag_id: str, run_id: str, task_id: str, **kwargs: Any) -> dict[str, Any]:
    """Reject it: the approval task's downstream is skipped."""
    return respond(client, dag_id, run_id, task_id, REJECT, **kwargs)
