"""The recording post-processing example DAG end to end: dag.test() (triggers run inline) against the
in-process sandbox emulating both clouds, with TRTC's recording callbacks delivered to the provider's
receiver. Uploads that finish late are waited for (and never reported before they finish), a failed
upload fails its task and the run, and every uploaded recording emits an asset event carrying its
manifest."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.callbacks.store import CallbackStore
from tests.conftest import XFAIL_INACTIVE_ASSETS_ON_3_0, load_example_dag

from .conftest import ReceiverServer, admin, fast_retry_extra, wired_sandbox_config

# an example DAG run end to end (dag.test) against a sandbox: e2e-like, seconds to minutes
pytestmark = [pytest.mark.example_dag, pytest.mark.usefixtures("airflow_db"), pytest.mark.slow]

SEED = {
    "trtc": {"rooms": 2, "users_per_room": 2, "recordings": 2, "recording_storage": "cos"},
    "zego": {"rooms": 2, "users_per_room": 1, "streams_per_room": 1, "recordings": 2},
}


@pytest.fixture
def sandbox_config(receiver: ReceiverServer) -> dict[str, Any]:
    """The shared sandbox fixture's configuration here: callbacks to this test's receiver."""
    return wired_sandbox_config(
        receiver,
        random_seed=5,
        retry_interval=0.5,
        max_age=10,
        upload_delay=0.5,
        recording_exit_seconds=0.2,
        zego_record_init_seconds=0.1,
        callback_late_seconds=1.5,
    )


@pytest.fixture
def sandbox_conn_extra() -> dict[str, Any]:
    return fast_retry_extra(0.05, 0.2)


@pytest.fixture(autouse=True)
def _fast_recording_waits(monkeypatch: Any) -> None:
    monkeypatch.setenv("RTC_RECORDING_POLL_SECONDS", "0.25")
    monkeypatch.setenv("RTC_RECORDING_WAIT_SECONDS", "60")


def seed(server: SandboxServer) -> dict[str, list[str]]:
    ids = server.seed(SEED)
    return {
        "trtc_recordings": [r["task_id"] for r in ids["trtc"]["recordings"]],
        "zego_recordings": [r["task_id"] for r in ids["zego"]["recordings"]],
    }


def run_dag(conf: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    dag = load_example_dag("recording_postprocessing", "recording_postprocessing.py")
    run = dag.test(run_conf=conf)
    run_folder = re.sub(r"[^A-Za-z0-9_.-]", "_", run.run_id)  # as the DAG names it
    summary = Path(os.environ["AIRFLOW_HOME"]) / "rtc_recordings" / run_folder / "summary.json"
    return run, json.loads(summary.read_text())


def task_instances(run: Any) -> dict[tuple[str, int], Any]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter_by(dag_id=run.dag_id, run_id=run.run_id).all()
        return {(ti.task_id, ti.map_index): (str(ti.state), ti.end_date) for ti in tis}


def asset_event_extras(run: Any) -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        events = session.query(AssetEvent).filter_by(source_dag_id=run.dag_id, source_run_id=run.run_id).all()
        return [dict(e.extra) for e in events]


@XFAIL_INACTIVE_ASSETS_ON_3_0
def test_late_uploads_are_waited_for_and_summarized(sandbox: SandboxServer, receiver: ReceiverServer) -> None:
    conf = seed(sandbox)
    late_trtc = conf["trtc_recordings"][0]
    admin(sandbox, f"/recordings/trtc/{late_trtc}", {"callback_fault": "late"})
    run, summary = run_dag(conf)

    assert str(run.state).endswith("success"), task_instances(run)
    manifests = json.loads(Path(summary["manifest_path"]).read_text())
    by_task = {m["task_id"]: m for m in manifests}
    assert set(by_task) == set(conf["trtc_recordings"]) | set(conf["zego_recordings"])
    assert all(m["status"] == "uploaded" for m in manifests)
    for task_id in conf["trtc_recordings"]:
        assert by_task[task_id]["cloud"] == "trtc" and by_task[task_id]["storage"] == "cos"
        assert any(f["name"].endswith(".m3u8") for f in by_task[task_id]["files"])
    for task_id in conf["zego_recordings"]:
        files = by_task[task_id]["files"]
        assert files and all(f["status"] == "uploaded" and f["size"] > 0 for f in files)

    # per-room totals: every recording counted once, ZEGO sizes and durations added up
    rooms = summary["rooms"]
    assert sum(r["recordings"] for r in rooms.values()) == 4 and summary["not_uploaded"] == []
    zego_rooms = {k: v for k, v in rooms.items() if k.startswith("zego:")}
    assert len(zego_rooms) == 2 and all(
        r["size_bytes"] > 0 and r["duration_ms"] > 0 for r in zego_rooms.values()
    )

    # the late recording's task finished only after its completion callback reached the receiver
    store = CallbackStore(receiver.app.state.receiver.store.path)
    (upload_stop,) = [e for e in store.events("trtc", "1400000001", late_trtc) if e.event_type == 305]
    states = task_instances(run)
    index = conf["trtc_recordings"].index(late_trtc)
    state, ended = states[("stop_and_wait_trtc", index)]
    assert state.endswith("success") and ended.timestamp() >= upload_stop.first_received_at

    # one asset event per recording, each carrying its manifest
    extras = asset_event_extras(run)
    assert sorted(e["manifest"]["task_id"] for e in extras) == sorted(by_task)


@XFAIL_INACTIVE_ASSETS_ON_3_0
def test_a_failed_upload_fails_its_task_and_the_run_after_the_summary(sandbox: SandboxServer) -> None:
    conf = seed(sandbox)
    failing_zego = conf["zego_recordings"][1]
    failing_trtc = conf["trtc_recordings"][1]
    admin(sandbox, f"/recordings/zego/{failing_zego}", {"file_status": 5})
    admin(sandbox, f"/recordings/trtc/{failing_trtc}", {"callback_fault": "failed"})
    run, summary = run_dag(conf)

    assert str(run.state).endswith("failed")
    states = task_instances(run)
    assert states[("stop_and_wait_zego", 1)][0].endswith("failed")
    assert states[("stop_and_wait_trtc", 1)][0].endswith("failed")
    assert states[("stop_and_wait_zego", 0)][0].endswith("success")
    assert states[("stop_and_wait_trtc", 0)][0].endswith("success")
    assert states[("summarize_uploads", -1)][0].endswith("failed")
    assert sorted(summary["not_uploaded"]) == sorted(
        [f"stop_and_wait_trtc: {failing_trtc}", f"stop_and_wait_zego: {failing_zego}"]
    )
    manifests = json.loads(Path(summary["manifest_path"]).read_text())
    assert sorted(m["task_id"] for m in manifests) == sorted(
        [conf["trtc_recordings"][0], conf["zego_recordings"][0]]
    )
    assert len(asset_event_extras(run)) == 2  # only the uploaded recordings announced themselves


def test_nothing_to_do_is_a_successful_empty_summary(sandbox: SandboxServer) -> None:
    run, summary = run_dag({"trtc_recordings": [], "zego_recordings": []})
    assert str(run.state).endswith("success")
    assert summary["recordings"] == 0 and summary["rooms"] == {}
