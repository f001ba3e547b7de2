"""Every example DAG parses with no import error, and parsing looks up no connection and makes
no network call: DAG files are parsed every few seconds by every scheduler."""

from __future__ import annotations

import socket
from pathlib import Path
from unittest import mock

import pytest

from tests.conftest import EXAMPLE_DAGS

pytestmark = pytest.mark.example_dag

EXAMPLES = sorted(Path(EXAMPLE_DAGS).glob("*.py"))


def test_there_are_example_dags() -> None:
    names = {p.name for p in EXAMPLES}
    assert {
        "end_of_event_cleanup.py",
        "end_event_by_discovery.py",
        "sweep_idle_rooms.py",
        "recordings_to_lake.py",
    } <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_dag_imports_without_connections_or_network(path: Path) -> None:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.2
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    from airflow.providers.common.compat.sdk import BaseHook

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("a DAG file opened a network connection at parse time")

    with (
        mock.patch.object(BaseHook, "get_connection", side_effect=AssertionError("parse")) as conn,
        mock.patch.object(socket.socket, "connect", side_effect=no_network),
    ):
        bag = DagBag(dag_folder=str(path))
    assert not bag.import_errors, bag.import_errors
    assert bag.dags, f"{path.name} defines no DAG"
    assert conn.call_count == 0
