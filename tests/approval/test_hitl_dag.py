"""The real human-in-the-loop path: dag.test() runs PlanApprovalOperator, which writes its HITL
detail and parks in ``awaiting_input``; a second thread answers as the REST endpoint
(``PATCH /api/v2/dags/{dag}/dagRuns/{run}/taskInstances/{task}/-1/hitlDetails``) does, through
Airflow's own models; the run resumes and the downstream task runs (Approve) or is skipped (Reject)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from airflow_provider_rtc.operators import approval

pytestmark = [
    pytest.mark.usefixtures("airflow_db"),
    pytest.mark.slow,
    pytest.mark.skipif(not approval.AIRFLOW_PARKS_TASKS, reason="the awaiting_input state is Airflow >= 3.3"),
]


DAG_FILE = """
from airflow.sdk import DAG, task

from airflow_provider_rtc.operators.approval import PlanApprovalOperator
from tests.approval.reports import end_event_report

with DAG("{dag_id}", schedule=None, catchup=False) as dag:

    @task
    def plan():
        return end_event_report(60)

    gate = PlanApprovalOperator(task_id="approve_plan", plan=plan(), threshold=50)

    @task
    def end_event(approved):
        return len(approved["plan"]["targets"])

    end_event(gate.output)
"""


def _dag(dag_id: str, folder: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The DAG from a file in a dags folder of its own (dag.test() re-parses its bundle)."""
    from airflow import settings
    from airflow.dag_processing.dagbag import DagBag

    folder.mkdir()
    (folder / f"{dag_id}.py").write_text(DAG_FILE.format(dag_id=dag_id))
    monkeypatch.setattr(settings, "DAGS_FOLDER", str(folder))
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(folder))
    bag = DagBag(dag_folder=str(folder / f"{dag_id}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.dags[dag_id]


def _import_models() -> None:
    """Import Airflow's models in the main thread: two threads importing them at once deadlock on
    the import lock (dag.test() imports some lazily while the responder imports the rest)."""
    import airflow.models.hitl
    import airflow.models.trigger  # noqa: F401
    from airflow.models import import_all_models

    import_all_models()


def _answer(dag_id: str, option: str, seen: dict[str, Any], timeout: float = 120.0) -> None:
    """Wait for the request, keep what it shows, answer it as update_hitl_detail does."""
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance as TI
    from airflow.models.trigger import handle_event_submit
    from airflow.triggers.base import TriggerEvent
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with create_session() as session:
            ti = session.scalars(
                select(TI).where(
                    TI.dag_id == dag_id,
                    TI.task_id == "approve_plan",
                    TI.state == TaskInstanceState.AWAITING_INPUT,
                )
            ).first()
            detail = session.get(HITLDetail, ti.id) if ti is not None else None
            if detail is not None:
                seen.update(subject=detail.subject, body=detail.body, options=list(detail.options))
                detail.responded_by = {"id": "admin", "name": "admin"}
                detail.responded_at = datetime.now(UTC)
                detail.chosen_options = [option]
                detail.params_input = {}
                session.add(detail)
                handle_event_submit(
                    TriggerEvent(detail.as_resume_event_payload()), task_instance=ti, session=session
                )
                return
        time.sleep(0.5)
    seen["error"] = "no HITL request appeared"


@pytest.mark.parametrize("option", ["Approve", "Reject"])
def test_a_person_answers_the_request_through_the_hitl_detail(option, tmp_path, monkeypatch):
    dag_id = f"approval_hitl_{option.lower()}"
    dag = _dag(dag_id, tmp_path / "dags", monkeypatch)
    seen: dict[str, Any] = {}
    _import_models()
    responder = threading.Thread(target=_answer, args=(dag_id, option, seen), daemon=True)
    responder.start()
    run = dag.test()
    responder.join(5)
    assert "error" not in seen, seen
    assert seen["options"] == ["Approve", "Reject"]
    assert "| trtc | rooms | DismissRoom | 60 | 60 |" in seen["body"]
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert states["approve_plan"].endswith("success")
    end = next(ti for ti in run.get_task_instances() if ti.task_id == "end_event")
    if option == "Approve":
        assert states["end_event"].endswith("success") and end.xcom_pull(task_ids="end_event") == 60
    else:
        assert states["end_event"].endswith("skipped")
