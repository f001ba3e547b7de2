"""What a bulk operator holds survives Airflow's copies of the operator."""

from __future__ import annotations

import copy

from airflow_provider_rtc.operators.bulk import BulkRun
from airflow_provider_rtc.operators.zego import BulkCloseRoomsOperator


def test_a_deep_copy_keeps_the_options_and_gets_its_own_stop_switch() -> None:
    # Airflow 3.0/3.1 deep-copy every operator of a DAG when a run is cleared or dag.test() runs it;
    # a threading.Event inside raised "cannot pickle '_thread.lock' object" there
    run = BulkRun(max_concurrency=7, progress_interval=3)
    run.stop("on_kill")
    clone = copy.deepcopy(run)
    assert (clone.max_concurrency, clone.progress_interval) == (7, 3.0)
    assert clone.stopped == "" and run.stopped == "on_kill"


def test_bulk_operators_can_be_deep_copied() -> None:
    op = BulkCloseRoomsOperator(task_id="close", room_ids=["a", "b"], max_concurrency=4)
    clone = copy.deepcopy(op)
    assert clone.bulk.max_concurrency == 4 and clone.bulk is not op.bulk
