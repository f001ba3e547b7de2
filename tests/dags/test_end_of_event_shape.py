"""The shape of ``end_of_event_cleanup`` that its speed depends on (issue 20, `event_end_ratio`).

In a large event ``end_in_bulk`` does all the work; every other task only finds "nothing to map".
On a loaded 2-core worker each task start costs seconds of CPU, which the bulk's paced calls need,
so nothing else may start while it runs: it is the only root, and every task waits for it.
"""

from __future__ import annotations

import pytest

from tests.conftest import load_example_dag

pytestmark = pytest.mark.usefixtures("airflow_db")


def _dag():
    return load_example_dag("end_of_event_cleanup", "end_of_event_cleanup.py")


def test_end_in_bulk_is_the_only_task_that_starts_with_the_run() -> None:
    dag = _dag()
    roots = sorted(t.task_id for t in dag.roots)
    assert roots == ["end_in_bulk"], roots


def test_every_other_task_waits_for_end_in_bulk() -> None:
    dag = _dag()
    after_bulk = dag.get_task("end_in_bulk").get_flat_relative_ids(upstream=False)
    others = {t.task_id for t in dag.tasks} - {"end_in_bulk"}
    assert others and others <= after_bulk, sorted(others - after_bulk)


def test_the_conf_check_still_runs_when_end_in_bulk_failed() -> None:
    """A malformed conf fails end_in_bulk first; validate_event must still run to name the item."""
    assert str(_dag().get_task("validate_event").trigger_rule) in ("all_done", "TriggerRule.ALL_DONE")
