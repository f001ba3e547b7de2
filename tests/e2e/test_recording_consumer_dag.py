"""The asset-scheduled consumer example runs through dag.test(); started by hand it has no
triggering asset events and must say so with an empty list rather than fail."""

from __future__ import annotations

import pytest

from tests.conftest import load_example_dag

# dag.test() end to end (slow, like the other example-DAG runs)
pytestmark = [pytest.mark.example_dag, pytest.mark.usefixtures("airflow_db"), pytest.mark.slow]


def test_consumer_dag_runs_without_triggering_events() -> None:
    dag = load_example_dag("recording_uploaded_consumer", "recording_postprocessing.py")
    run = dag.test()
    assert str(run.state).endswith("success")
