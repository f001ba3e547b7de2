"""What a bulk result says about each target when the network or the cloud misbehaves.

``maybe_executed`` on a failed target says whether its last attempt may have run;
``after_lost_response`` is set only when an earlier attempt was sent and its answer lost.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.operators.trtc import BulkDismissRoomsOperator
from tests.support.sandbox import seed


def _faults(server: SandboxServer, *rules: dict[str, Any]) -> None:
    requests.put(f"{server.url}/_sandbox/faults", json={"rules": list(rules)}, timeout=5).raise_for_status()


def _run(room_ids: list[Any], **hook_params: Any) -> dict[str, Any]:
    op = BulkDismissRoomsOperator(
        task_id="bulk", room_ids=room_ids, hook_params={"retry_delay": 0.01, **hook_params}
    )
    pushed: dict[str, Any] = {}

    class Ti:
        def xcom_push(self, key: str, value: Any) -> None:
            pushed[key] = value

    try:
        summary = op.execute({"ti": Ti()})
        assert "bulk_results" not in pushed  # a success returns the summary instead
    except Exception:  # a failed target fails the task, after the push
        summary = pushed["bulk_results"]
    return {r["room_id"]: r for r in summary["results"]}


def test_lost_answer_then_not_found_means_the_first_attempt_did_it(sandbox: SandboxServer) -> None:
    room = seed(sandbox, {"trtc": {"rooms": 1}})["trtc"]["rooms"][0]
    _faults(sandbox, {"action": "DismissRoom", "kind": "drop", "probability": 1.0, "count": 1})
    result = _run([room])[room]
    assert result["status"] == "already_gone"
    assert result["after_lost_response"] is True


@pytest.mark.parametrize("kind", ["internal", "http5xx", "throttle"])
def test_answered_error_then_not_found_is_plain_already_gone(sandbox: SandboxServer, kind: str) -> None:
    """An answered error is a known outcome: a room that never existed is not credited to it."""
    _faults(sandbox, {"action": "DismissRoom", "kind": kind, "probability": 1.0, "count": 1})
    result = _run([424242])[424242]
    assert result["status"] == "already_gone"
    assert result["after_lost_response"] is False


def test_throttled_to_the_end_failed_and_surely_not_executed(sandbox: SandboxServer) -> None:
    room = seed(sandbox, {"trtc": {"rooms": 1}})["trtc"]["rooms"][0]
    _faults(sandbox, {"action": "DismissRoom", "kind": "throttle", "probability": 1.0})
    # throttles are retried until the throttle budget (not retry_limit) is spent
    result = _run([room], throttle_budget=0.5)[room]
    assert result["status"] == "failed"
    assert result["maybe_executed"] is False and result["after_lost_response"] is False


def test_dropped_to_the_end_failed_and_maybe_executed(sandbox: SandboxServer) -> None:
    room = seed(sandbox, {"trtc": {"rooms": 1}})["trtc"]["rooms"][0]
    _faults(sandbox, {"action": "DismissRoom", "kind": "drop", "probability": 1.0})
    result = _run([room], retry_limit=2)[room]
    assert result["status"] == "failed"
    assert result["maybe_executed"] is True and result["after_lost_response"] is True


def test_single_dropped_attempt_is_maybe_executed_without_an_earlier_loss(sandbox: SandboxServer) -> None:
    room = seed(sandbox, {"trtc": {"rooms": 1}})["trtc"]["rooms"][0]
    _faults(sandbox, {"action": "DismissRoom", "kind": "drop", "probability": 1.0})
    result = _run([room], retry_limit=1)[room]
    assert result["status"] == "failed"
    assert result["maybe_executed"] is True and result["after_lost_response"] is False


def test_duplicates_are_sent_once_and_reported(sandbox: SandboxServer) -> None:
    rooms = seed(sandbox, {"trtc": {"rooms": 2}})["trtc"]["rooms"]
    op = BulkDismissRoomsOperator(task_id="bulk", room_ids=[rooms[0], str(rooms[0]), rooms[1], rooms[0]])
    summary = op.execute({})
    assert summary["counts"] == {"done": 2}
    assert summary["duplicates_removed"] == [rooms[0], rooms[0]]
    stats = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()
    assert stats["actions"]["DismissRoom"]["calls"] == 2
