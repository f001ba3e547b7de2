"""The end-of-event example DAG, run through dag.test() against a sandbox on 127.0.0.1: the
sandbox must show the event fully ended, also when the cloud throttles and loses answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from rtc_sandbox.inventory import cleanup_conf, leftovers
from rtc_sandbox.server import SandboxServer

from tests.conftest import load_example_dag

# an example DAG run end to end (dag.test) against a sandbox: e2e-like, seconds to minutes
pytestmark = [pytest.mark.usefixtures("airflow_db"), pytest.mark.slow]


@pytest.fixture
def sandbox(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    config: dict[str, Any] = {"seed_event": True, "random_seed": 11, **getattr(request, "param", {})}
    with SandboxServer(config=config) as server:
        for conn_id, conn in server.connections.items():
            extra = {**conn["extra"], "retry_delay": 0.05, "retry_max_delay": 0.2}
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({**conn, "extra": extra}))
        yield server


def _state(server: SandboxServer) -> dict[str, Any]:
    return requests.get(f"{server.url}/_sandbox/state", timeout=5).json()


def _run(server: SandboxServer) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    conf = cleanup_conf(_state(server))
    dag = load_example_dag("end_of_event_cleanup", "end_of_event_cleanup.py")
    run = dag.test(run_conf=conf)
    return run, conf, _state(server)


def test_cleanup_dag_ends_the_whole_event(sandbox: SandboxServer) -> None:
    run, conf, after = _run(sandbox)
    assert str(run.state).endswith("success")
    assert (
        len(conf["trtc_rooms"]) == 12 and len(conf["zego_rooms"]) == 6 and len(conf["live_mix_sessions"]) == 3
    )
    assert leftovers(after) == dict.fromkeys(leftovers(after), 0), leftovers(after)


#: every kind of target the DAG ends, a few of each: 25 task instances instead of the standard
#: event's 64 (dag.test() runs them one after the other: 130-180 s per older minor, issue 24)
SMALL_EVENT = {
    "trtc": {"rooms": 2, "users_per_room": 1, "str_rooms": 0, "recordings": 1, "recording_storage": "cos"},
    "live": {"mix_sessions": 1, "streams": 1},
    "zego": {"rooms": 2, "users_per_room": 2, "streams_per_room": 1, "mixes": 1, "recordings": 1},
}


@pytest.mark.example_dag  # the compatibility stage runs this one on every Airflow minor
@pytest.mark.parametrize("sandbox", [{"seed_event": False}], indirect=True)
def test_cleanup_dag_ends_an_event_with_every_kind_of_target(sandbox: SandboxServer) -> None:
    """The whole DAG, every mapped step with at least one target, on every Airflow minor; the
    standard event's size is the test above's (current minor only)."""
    sandbox.seed(SMALL_EVENT)
    run, conf, after = _run(sandbox)
    assert str(run.state).endswith("success")
    sizes = {kind: len(targets) for kind, targets in conf.items()}
    assert all(sizes.values()), sizes  # no step without a target: each mapped operator ran
    assert leftovers(after) == dict.fromkeys(leftovers(after), 0), leftovers(after)
    mapped = [
        (ti.task_id, ti.map_index, str(ti.state)) for ti in run.get_task_instances() if ti.map_index >= 0
    ]
    assert len(mapped) == sum(sizes.values()), mapped  # one task instance per target
    assert all(state.endswith("success") for _, _, state in mapped), mapped


FAULTS = {
    "faults": {
        "rules": [
            {"action": "DismissRoom", "kind": "drop", "probability": 0.3},
            {"action": "DismissRoom", "kind": "throttle", "probability": 0.2},
            {"action": "CancelCommonMixStream", "kind": "http5xx", "probability": 0.5},
            {"action": "DeleteStream", "kind": "internal", "probability": 0.3},
            {"action": "StopMix", "kind": "throttle", "probability": 0.5},
        ]
    }
}


@pytest.mark.parametrize("sandbox", [FAULTS], indirect=True)
def test_cleanup_dag_rides_through_throttling_and_lost_answers(sandbox: SandboxServer) -> None:
    run, _, after = _run(sandbox)
    assert str(run.state).endswith("success")
    assert not any(leftovers(after).values()), leftovers(after)
    totals = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()["totals"]
    assert sum(totals["faults"].values()) > 0  # the faults really happened and were ridden through


def test_cleanup_dag_run_twice_is_idempotent(sandbox: SandboxServer) -> None:
    """A re-run over targets that are already gone succeeds and reports them as already gone."""
    conf = cleanup_conf(_state(sandbox))
    dag = load_example_dag("end_of_event_cleanup", "end_of_event_cleanup.py")
    assert str(dag.test(run_conf=conf).state).endswith("success")
    second = dag.test(run_conf=conf)
    assert str(second.state).endswith("success")
    assert not any(leftovers(_state(sandbox)).values())


def test_a_malformed_item_fails_the_run_before_any_cloud_call_and_is_named(sandbox: SandboxServer) -> None:
    conf = cleanup_conf(_state(sandbox))
    conf["zego_streams"][1] = {k: v for k, v in conf["zego_streams"][1].items() if k != "stream_id"}
    dag = load_example_dag("end_of_event_cleanup", "end_of_event_cleanup.py")
    run = dag.test(run_conf=conf)
    assert str(run.state).endswith("failed")
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances() if ti.map_index < 0}
    assert states["validate_event"].endswith("failed")
    assert states["check_event_ended"].endswith("failed")
    problems = run.get_task_instance("check_event_ended").xcom_pull(
        task_ids="check_event_ended", key="problems"
    )
    assert "zego_streams[1]" in problems[0] and "stream_id" in problems[0], problems
    totals = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()["totals"]
    assert totals["calls"] == 0  # nothing was touched: the event is intact
    assert all(leftovers(_state(sandbox)).values())


def test_a_large_event_ends_in_one_dependency_aware_task(sandbox: SandboxServer) -> None:
    """Above ``bulk_threshold`` targets in a kind, the whole event ends in ``end_in_bulk``: no mapped
    task, every target counted in the final summary under its step."""
    conf = {**cleanup_conf(_state(sandbox)), "bulk_threshold": 5}
    dag = load_example_dag("end_of_event_cleanup", "end_of_event_cleanup.py")
    run = dag.test(run_conf=conf)
    assert str(run.state).endswith("success")
    assert not any(leftovers(_state(sandbox)).values()), leftovers(_state(sandbox))
    tis = run.get_task_instances()
    states = {ti.task_id: str(ti.state) for ti in tis if ti.map_index < 0}
    assert states["end_in_bulk"].endswith("success")
    mapped = [ti for ti in tis if ti.map_index >= 0 and str(ti.state).endswith("success")]
    assert not mapped, mapped
    summary = run.get_task_instance("check_event_ended").xcom_pull(task_ids="check_event_ended")
    for step, kind in (
        ("dismiss_trtc_room", "trtc_rooms"),
        ("kick_zego_users", "zego_kicks"),
        ("cancel_live_mix", "live_mix_sessions"),
        ("stop_trtc_recording", "trtc_recordings"),
    ):
        assert sum(summary[step].values()) == len(conf[kind]), (step, summary)
    bulk = run.get_task_instance("end_in_bulk").xcom_pull(task_ids="end_in_bulk")
    assert bulk["total"] == sum(len(conf[k]) for k in conf if k != "bulk_threshold")
