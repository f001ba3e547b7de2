"""The lake example DAGs end to end with dag.test(): copy recordings served by the sandbox into a
local lake, then let the retention DAG delete the copies that are older than the period."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from rtc_sandbox.server import SandboxServer

from tests.conftest import XFAIL_INACTIVE_ASSETS_ON_3_0, load_example_dag

from .conftest import trtc_vod_recording

# dag.test() end to end (slow, like the other example-DAG runs)
pytestmark = [pytest.mark.example_dag, pytest.mark.usefixtures("airflow_db"), pytest.mark.slow]


@XFAIL_INACTIVE_ASSETS_ON_3_0
def test_recordings_to_lake_copies_the_given_manifests(sandbox: SandboxServer, tmp_path: Path) -> None:
    _, one = trtc_vod_recording(sandbox, users=1)
    _, two = trtc_vod_recording(sandbox, users=1)
    dag = load_example_dag("recordings_to_lake", "recordings_to_lake.py")
    conf = {"manifests": [one, two], "destination": f"file://{tmp_path}", "allow_private_sources": True}
    run = dag.test(run_conf=conf)
    assert str(run.state).endswith("success")
    copied = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert ".rtc-lake" in copied  # the copy created this lake: retention may clean it
    copied.remove(".rtc-lake")
    expected = sorted(
        f"trtc/{m['app_id']}/{m['room_id']}/{m['task_id']}/{f['name']}"
        for m in (one, two)
        for f in m["files"]
    )
    assert copied == expected
    for m in (one, two):
        for f in m["files"]:
            path = tmp_path / "trtc" / str(m["app_id"]) / str(m["room_id"]) / m["task_id"] / f["name"]
            assert path.stat().st_size == f["size"]


@XFAIL_INACTIVE_ASSETS_ON_3_0  # its task declares the audit trail's asset
def test_retention_dag_deletes_only_expired_copies(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_rtc.audit import read_lines

    trail = tmp_path_factory.mktemp("audit")  # outside the lake: retention cleans all of tmp_path
    monkeypatch.setenv("AIRFLOW__RTC__AUDIT_PATH", str(trail))
    old = tmp_path / "trtc/1/room/task-old/a.mp4"
    new = tmp_path / "trtc/1/room/task-new/b.mp4"
    for path, days in ((old, 100), (new, 3)):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x")
        stamp = time.time() - days * 86400
        os.utime(path, (stamp, stamp))
    (tmp_path / ".rtc-lake").touch()  # a lake root (the copy operator writes it when it creates one)
    dag = load_example_dag("recordings_retention", "recordings_to_lake.py")
    dry = dag.test(run_conf={"destination": str(tmp_path), "older_than_days": 30, "dry_run": True})
    assert str(dry.state).endswith("success") and old.exists()
    # a fresh parse, as every scheduled run gets (dag.test() renders templates onto the task object)
    dag = load_example_dag("recordings_retention", "recordings_to_lake.py")
    run = dag.test(run_conf={"destination": str(tmp_path), "older_than_days": 30})
    assert str(run.state).endswith("success")
    assert not old.exists() and new.exists()
    lines = read_lines(str(trail), dag_id="recordings_retention")  # newest first: the run, the dry run
    assert [(x["status"], x["ref"]["id"], x["origin"]) for x in lines] == [
        ("done", f"file://{old}", "retention"),
        ("planned", f"file://{old}", "retention"),
    ]
