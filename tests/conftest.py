"""Test-wide setup: an isolated AIRFLOW_HOME (no ~/airflow, no metadata DB for unit tests) and
connections given as AIRFLOW_CONN_* JSON, exactly as users can."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

_HOME = tempfile.mkdtemp(prefix="rtc-airflow-home-")
os.environ.setdefault("AIRFLOW_HOME", _HOME)
if os.environ.get("PYTEST_XDIST_WORKER"):  # pytest-xdist: a home (and metadata DB) per worker
    os.environ["AIRFLOW_HOME"] = os.path.join(os.environ["AIRFLOW_HOME"], os.environ["PYTEST_XDIST_WORKER"])
    os.makedirs(os.environ["AIRFLOW_HOME"], exist_ok=True)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
# dag.test() only runs DAGs that live in the configured dags folder: point it at the examples.
EXAMPLE_DAGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "example_dags")


def _airflow_minor() -> tuple[int, int]:
    from importlib.metadata import version

    major, minor = version("apache-airflow").split(".")[:2]
    return int(major), int(minor)


#: Airflow 3.0's dag.test() does not activate the DAG's assets (in a deployment the dag processor
#: does), so a task with asset outlets fails there with AirflowInactiveAssetInInletOrOutletException;
#: the compatibility stage (make compat) runs these example-DAG tests on 3.0 as expected failures
XFAIL_INACTIVE_ASSETS_ON_3_0 = pytest.mark.xfail(
    _airflow_minor() < (3, 1),
    reason="Airflow 3.0 dag.test() leaves assets inactive (the dag processor activates them)",
    strict=True,
)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = EXAMPLE_DAGS

from tests.support.credentials import SECRET_ID, SECRET_KEY, ZEGO_APP_ID, ZEGO_SECRET  # noqa: E402

pytest_plugins = ["tests.support.fixtures"]


def conn_env(conn_id: str, conn: dict[str, Any]) -> tuple[str, str]:
    return f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn)


@pytest.fixture
def set_connection(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Install a connection the way users do without a DB: an AIRFLOW_CONN_<ID> JSON variable."""

    def _set(conn_id: str, conn: dict[str, Any]) -> None:
        key, value = conn_env(conn_id, conn)
        monkeypatch.setenv(key, value)

    return _set


@pytest.fixture
def fast_retries() -> dict[str, Any]:
    """Connection extras that keep retry back-off short in tests."""
    return {"retry_delay": 0.01, "retry_max_delay": 0.05, "retry_total_timeout": 10, "timeout": [2, 2]}


@pytest.fixture
def tencent_conn(
    httpserver: Any, set_connection: Callable[..., None], fast_retries: dict[str, Any]
) -> Iterator[str]:
    """``tencentcloud_default`` pointing at a pytest-httpserver on 127.0.0.1."""
    set_connection(
        "tencentcloud_default",
        {
            "conn_type": "tencentcloud",
            "login": SECRET_ID,
            "password": SECRET_KEY,
            "extra": {
                "endpoint": httpserver.url_for("").rstrip("/"),
                "region": "ap-guangzhou",
                "sdk_app_id": 1400000001,
                "pacing": False,
                **fast_retries,
            },
        },
    )
    yield "tencentcloud_default"


@pytest.fixture
def zego_conn(
    httpserver: Any, set_connection: Callable[..., None], fast_retries: dict[str, Any]
) -> Iterator[str]:
    """``zegocloud_default`` pointing at a pytest-httpserver on 127.0.0.1."""
    set_connection(
        "zegocloud_default",
        {
            "conn_type": "zegocloud",
            "login": str(ZEGO_APP_ID),
            "password": ZEGO_SECRET,
            "extra": {"endpoint": httpserver.url_for("").rstrip("/"), "pacing": False, **fast_retries},
        },
    )
    yield "zegocloud_default"


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """pytest-httpserver on 127.0.0.1 (not 'localhost'), any free port."""
    return ("127.0.0.1", 0)


@pytest.fixture(scope="session")
def airflow_db() -> str:
    """A migrated SQLite metadata DB in the test AIRFLOW_HOME, for dag.test() runs (once per session)."""
    marker = os.path.join(os.environ["AIRFLOW_HOME"], ".migrated")
    if not os.path.exists(marker):
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            env=dict(os.environ),
            check=True,
            capture_output=True,
        )
        open(marker, "w").close()
    return os.environ["AIRFLOW_HOME"]


def load_example_dag(dag_id: str, filename: str) -> Any:
    """The DAG object from the example dags folder (dag.test() requires it to live there)."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.2 (the compatibility stage runs these tests on 3.0 and 3.1)
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

    bag = DagBag(dag_folder=os.path.join(EXAMPLE_DAGS, filename))
    assert not bag.import_errors, bag.import_errors
    return bag.dags[dag_id]


#: The longest tests (measured with --durations, December 2026), longest first. Under
#: pytest-xdist they run first, so that `--dist load --maxschedchunk 2` (make test) hands them out one
#: or two at a time while the short tests fill the other workers; in collection order they sat in one
#: consecutive chunk and one worker ran every docs page in a row (287 s against 141 s for the others).
LONGEST_FIRST = (
    # the slow set (make test-all's second part)
    "tests/e2e/test_end_of_event_cleanup.py::test_cleanup_dag_run_twice_is_idempotent",
    "tests/discovery/test_example_dags_e2e.py::test_sweep_idle_rooms_ends_idle_and_old_rooms_only",
    "tests/e2e/test_end_of_event_cleanup.py::test_cleanup_dag_rides_through_throttling_and_lost_answers",
    "tests/triggers/test_upload_watcher.py::test_a_burst_far_larger_than_a_page_is_emitted_once_each_across",
    "tests/discovery/test_example_dags_e2e.py::test_end_event_by_discovery_dry_run_then_for_real",
    "tests/e2e/test_end_of_event_cleanup.py::",
    "tests/approval/test_hitl_dag.py::",
    "tests/budgets/test_budgets_sandbox.py::",
    # the fast set
    "tests/docs/test_snippets.py::test_page_snippets_run[README.md]",
    "tests/docs/test_snippets.py::test_page_snippets_run[docs/quickstart.md]",
    "tests/docs/test_snippets.py::test_page_snippets_run[docs/how-to/discovery.md]",
    "tests/sandbox/test_docs_walkthrough.py::test_walkthrough_ends_the_event_despite_the_lost_callbacks",
    "tests/triggers/test_upload_watcher.py::test_a_burst_sharing_one_instant_is_read_page_by_page",
    "tests/unit/test_hooks_tencent.py::test_hooks_need_no_metadata_db",
    "tests/docs/test_snippets.py::test_page_snippets_run",
    "tests/probe/test_cli.py::",
    "tests/cleanup/test_schedule_sandbox.py::",
    "tests/lake/test_upload_trigger.py::",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return  # one process: keep pytest's order (fixtures set up once per module)

    def rank(item: pytest.Item) -> int:
        return next(
            (n for n, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)),
            len(LONGEST_FIRST),
        )

    items.sort(key=rank)  # stable: the rest keep their order
