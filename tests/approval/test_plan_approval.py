"""PlanApprovalOperator: approves small plans itself, asks a person (HITL) above the threshold,
skips downstream on reject, fails above the threshold where Airflow has no HITL (3.0), and names
the parameter of bad input before anything is asked."""

from __future__ import annotations

import importlib
import logging
import sys
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.operators import approval

from .reports import caps_report, end_event_report

HITL = "airflow.providers.standard.operators.hitl"
needs_hitl = pytest.mark.skipif(not approval.HAS_HITL, reason="HITL needs Airflow >= 3.1")


def _op(**kwargs: Any) -> approval.PlanApprovalOperator:
    return approval.PlanApprovalOperator(task_id="approve_plan", **kwargs)


def _ask(op: approval.PlanApprovalOperator) -> dict[str, Any]:
    """Run execute past the threshold; the HITL detail it writes (the request a person sees)."""
    with (
        mock.patch(f"{HITL}.upsert_hitl_detail") as upsert,
        mock.patch(f"{HITL}.HITLTrigger"),
        pytest.raises(BaseException) as parked,  # TaskAwaitingInput (3.3) or TaskDeferred
    ):
        op.execute({"task_instance": SimpleNamespace(id=uuid.uuid4())})
    assert type(parked.value).__name__ in ("TaskAwaitingInput", "TaskDeferred"), parked.value
    upsert.assert_called_once()
    return dict(upsert.call_args.kwargs)


def _logged(capsys: Any, caplog: Any) -> str:
    """What the task logged (structlog writes to stdout in these tests; logging to caplog)."""
    out = capsys.readouterr()
    return out.out + out.err + caplog.text


def test_at_or_under_threshold_approves_without_a_person(capsys, caplog):
    report = end_event_report(3, users=2)  # 5 resources
    with mock.patch.object(approval._Base, "execute") as ask, caplog.at_level(logging.INFO):
        out = _op(plan=report, threshold=5).execute({})
    ask.assert_not_called()
    assert out["approval"] == {"approved": True, "by": "threshold", "targets": 5, "threshold": 5}
    assert out["inventory"] == report["inventory"] and out["dry_run"] is True  # EndEventOperator takes it
    assert "at or under the threshold of 5" in _logged(capsys, caplog)


def test_a_dry_run_downstream_is_approved_without_asking():
    with mock.patch.object(approval._Base, "execute") as ask:
        out = _op(plan=end_event_report(80), threshold=1, dry_run="true").execute({})
    ask.assert_not_called()
    assert out["approval"]["by"] == "dry_run"


@needs_hitl
def test_over_threshold_asks_a_person_with_the_plan_table():
    detail = _ask(_op(plan=end_event_report(60, users=3), threshold="50", labels=5))
    body = detail["body"]
    assert detail["options"] == ["Approve", "Reject"] and detail["defaults"] == ["Reject"]
    assert "| trtc | rooms | DismissRoom | 60 | 60 |" in body
    assert "| trtc | users | RemoveUser | 1 | 3 |" in body
    assert "**63** resource(s) in 61 destructive call(s), above the approval threshold of 50" in body
    assert "about 12 s" in body  # the plan's estimate at the rate limits
    assert "First 5 of 61 target(s)" in body and "`trtc:1400000001 room 4 (int)`" in body
    assert "room 5 (int)" not in body and "and 56 more" in body


@needs_hitl
def test_a_caps_report_is_counted_by_its_ended_items():
    detail = _ask(_op(plan=caps_report(3), threshold=2))
    assert "| zego | rooms | end (max_duration) | 3 | 3 |" in detail["body"]
    assert "not in this report" in detail["body"]
    out = _op(plan=caps_report(2), threshold=2).execute({})
    assert out["approval"]["approved"] and out["ended"] == caps_report(2)["ended"]


@needs_hitl
def test_a_caps_report_with_its_dry_run_plan_shows_the_destructive_calls():
    """EnforceCapsOperator's dry run carries its end plan (``result``): the person sees the calls
    (DismissRoom...) and the time at the rate limits, not only "end (max_duration)" per item."""
    report = {**caps_report(3), "result": end_event_report(3, seconds=4.0)}
    detail = _ask(_op(plan=report, threshold=2))
    assert "| trtc | rooms | DismissRoom | 3 | 3 |" in detail["body"]
    assert "end (max_duration)" not in detail["body"]
    assert "about 4 s" in detail["body"]
    assert "2026-12-07T03:00:00+00:00" in detail["body"]  # the caps check's time


@needs_hitl
def test_the_default_timeout_is_for_people_and_inside_the_plans_freshness():
    op = _op(plan=end_event_report(1))
    assert op.response_timeout == timedelta(minutes=45) and op.execution_timeout is None
    assert op.response_timeout < timedelta(seconds=3600)  # EndEventOperator's max_inventory_age


def _event(option: str) -> dict[str, Any]:
    return {
        "chosen_options": [option],
        "params_input": {},
        "responded_at": datetime.now(UTC),
        "responded_by_user": {"id": "admin", "name": "admin"},
    }


def _in_dag() -> tuple[approval.PlanApprovalOperator, Any]:
    from airflow.providers.common.compat.sdk import DAG
    from airflow.providers.standard.operators.empty import EmptyOperator

    with DAG("approval_unit", schedule=None):
        op = _op(plan=end_event_report(60), threshold=50)
        end = EmptyOperator(task_id="end_event")
        op >> end
    return op, end


@needs_hitl
def test_reject_says_so_then_skips_downstream(capsys, caplog):
    """On Airflow 3 skip() raises DownstreamTasksSkipped: the log line must come before it."""
    from airflow.sdk.exceptions import DownstreamTasksSkipped

    op, _ = _in_dag()
    with (
        mock.patch.object(op, "skip", side_effect=DownstreamTasksSkipped(tasks=["end_event"])) as skip,
        caplog.at_level(logging.INFO),
        pytest.raises(DownstreamTasksSkipped),
    ):
        op.execute_complete({"task": op, "ti": mock.sentinel.ti}, _event("Reject"))
    assert [t.task_id for t in skip.call_args.kwargs["tasks"]] == ["end_event"]
    assert "rejected by admin: nothing is ended; the downstream tasks are skipped" in _logged(capsys, caplog)


@needs_hitl
def test_reject_without_downstream_hands_over_no_inventory():
    op = _op(plan=end_event_report(60), threshold=50)
    out = op.execute_complete({"task": op, "ti": mock.sentinel.ti}, _event("Reject"))
    assert out == {
        "approval": {
            "approved": False,
            "by": "person",
            "targets": 60,
            "threshold": 50,
            "responded_by": {"id": "admin", "name": "admin"},
        }
    }


@needs_hitl
def test_approve_hands_over_the_approved_plan():
    op, _ = _in_dag()
    with mock.patch.object(op, "skip") as skip:
        out = op.execute_complete({"task": op, "ti": mock.sentinel.ti}, _event("Approve"))
    skip.assert_not_called()
    assert out["approval"]["approved"] and out["approval"]["by"] == "person"
    assert out["plan"] == end_event_report(60)["plan"] and out["inventory"]


@pytest.fixture
def without_hitl(monkeypatch):
    """The module as imported on Airflow 3.0: the HITL module raises on import."""
    monkeypatch.setitem(sys.modules, HITL, None)  # import -> ImportError
    yield importlib.reload(approval)
    monkeypatch.undo()
    importlib.reload(approval)


def test_without_hitl_approves_under_the_threshold(without_hitl):
    assert without_hitl.HAS_HITL is False
    out = without_hitl.PlanApprovalOperator(task_id="a", plan=end_event_report(2), threshold=2).execute({})
    assert out["approval"]["by"] == "threshold"


def test_without_hitl_fails_over_the_threshold_with_one_clear_reason(without_hitl):
    from airflow.providers.common.compat.sdk import AirflowFailException

    op = without_hitl.PlanApprovalOperator(task_id="a", plan=end_event_report(3), threshold=2)
    with pytest.raises(AirflowFailException, match=r"no human-in-the-loop approval .*not ending anything"):
        op.execute({})


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"threshold": -1}, "threshold"),
        ({"threshold": "-1"}, "threshold"),  # rendered from a template: checked in execute
        ({"threshold": "many"}, "threshold"),
        ({"threshold": True}, "threshold"),
        ({"plan": ["not", "a", "report"]}, "plan"),
        ({"plan": {"clouds": {}}}, "plan"),  # an inventory is not a plan
        ({"plan": "a plan"}, "plan"),
        ({"plan": {**end_event_report(1), "dry_run": False}}, "plan"),  # already executed
        ({"plan": {"dry_run": True, "plan": {"targets": "x"}}}, "plan.plan.targets"),
        ({"dry_run": "yes"}, "dry_run"),
        ({"labels": 0}, "labels"),
        ({"response_timeout": 60}, "response_timeout"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, param):
    with mock.patch.object(approval._Base, "execute") as ask, pytest.raises(RtcValidationError) as err:
        _op(**{"plan": end_event_report(1), **kwargs}).execute({})
    assert err.value.param == param
    ask.assert_not_called()


def test_a_rendered_report_string_is_parsed():
    import json

    out = _op(plan=json.dumps(end_event_report(2)), threshold="2").execute({})
    assert out["approval"]["targets"] == 2
