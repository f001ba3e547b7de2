"""The audit trail of single and bulk operators against the sandbox: one line per destructive call
and nothing else, in the contract's format; lines written as the calls answer (a task failing midway
keeps them), a file per try, no secrets, the asset declared and its event filled."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import DAG, AirflowException

from airflow_provider_rtc import audit
from airflow_provider_rtc.audit.line import KEYS
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.operators.bulk import BulkEndOperator
from airflow_provider_rtc.operators.trtc import DismissRoomOperator
from tests.support.sandbox import seed

from .support import TI, context, destructive_calls, file_of, lines_of, per_action


def _bulk(tmp_path: Path, targets: list[Any], **kwargs: Any) -> BulkEndOperator:
    return BulkEndOperator(
        task_id="end", action="StopAITranscription", targets=targets, audit_path=str(tmp_path), **kwargs
    )


def test_a_bulk_run_writes_one_line_per_destructive_call_and_nothing_else(sandbox, tmp_path):
    tasks = seed(sandbox, {"trtc": {"ai_tasks": 3}})["trtc"]["ai_tasks"]
    ti = TI()
    summary = _bulk(tmp_path, [*tasks, "never-started"]).execute(context(ti))
    lines = lines_of(file_of(tmp_path, ti))

    assert summary["counts"] == {"done": 3, "already_gone": 1}
    assert per_action(lines) == destructive_calls(sandbox) == {"StopAITranscription": 4}
    assert all(tuple(line) == KEYS for line in lines)  # exactly the contract's keys, in order
    by_status = sorted(line["status"] for line in lines)
    assert by_status == ["already_gone", "done", "done", "done"]
    done = [line for line in lines if line["status"] == "done"]
    assert {line["ref"]["id"] for line in done} == set(tasks)
    assert all(line["request_id"] for line in done)  # the cloud's RequestId, per call
    gone = next(line for line in lines if line["status"] == "already_gone")
    assert gone["code"] == "FailedOperation.TaskNotExist" and gone["maybe_executed"] is False
    line = done[0]
    assert (line["dag_id"], line["run_id"], line["task_id"]) == (ti.dag_id, ti.run_id, "end")
    assert (line["map_index"], line["try_number"], line["origin"]) == (-1, 1, "bulk")
    assert (line["cloud"], line["conn_id"], line["dry_run"]) == ("trtc", "tencentcloud_default", False)
    assert line["app_id"] == line["ref"]["app_id"] and line["ts"].endswith("Z")


def test_a_single_operator_writes_its_call_and_a_failure_that_raises(sandbox, tmp_path):
    room = seed(sandbox, {"trtc": {"rooms": 1}})["trtc"]["rooms"][0]
    ti = TI(task_id="dismiss")
    DismissRoomOperator(task_id="dismiss", room_id=room, audit_path=str(tmp_path)).execute(context(ti))
    gone_ti = TI(task_id="dismiss_again")
    op = DismissRoomOperator(
        task_id="dismiss_again", room_id=room, ignore_not_found=False, audit_path=str(tmp_path)
    )
    with pytest.raises(AirflowException):
        op.execute(context(gone_ti))

    [done] = lines_of(file_of(tmp_path, ti))
    assert (done["action"], done["status"], done["origin"]) == ("DismissRoom", "done", "operator")
    [failed] = lines_of(file_of(tmp_path, gone_ti))  # raised, and still recorded
    assert failed["status"] == "failed" and failed["maybe_executed"] is False and failed["code"]
    assert destructive_calls(sandbox) == {"DismissRoom": 2}


def test_lines_are_on_disk_as_each_call_answers_so_a_task_failing_midway_keeps_them(
    sandbox, tmp_path, monkeypatch
):
    tasks = seed(sandbox, {"trtc": {"ai_tasks": 3}})["trtc"]["ai_tasks"]
    ti = TI()
    path = file_of(tmp_path, ti)
    seen: list[int] = []
    original = TrtcHook.stop_ai_transcription

    def counting(self: Any, task_id: str) -> Any:
        seen.append(len(lines_of(path)))  # what is on disk before this call
        if len(seen) == 3:
            raise KeyboardInterrupt  # the task dies midway (a signal, the execution_timeout alarm)
        return original(self, task_id)

    monkeypatch.setattr(TrtcHook, "stop_ai_transcription", counting)
    with pytest.raises(KeyboardInterrupt):
        _bulk(tmp_path, tasks, max_concurrency=1).execute(context(ti))
    assert seen == [0, 1, 2]  # each answered call was written before the next was made
    assert [line["status"] for line in lines_of(path)][:2] == ["done", "done"]


def test_an_object_store_base_is_written_when_a_failing_batch_ends(sandbox, monkeypatch):
    """Object stores cannot append: the whole file is written when the batch ends, failed or not
    (fsspec's in-memory store stands for S3/GCS: a protocol that is not local)."""
    import fsspec
    from airflow.sdk.io import attach

    attach("memory", fs=fsspec.filesystem("memory"))
    tasks = seed(sandbox, {"trtc": {"ai_tasks": 2}})["trtc"]["ai_tasks"]
    ti = TI()
    op = BulkEndOperator(
        task_id="end",
        action="StopAITranscription",
        targets=[*tasks, "never-started"],
        ignore_not_found=False,
        audit_path="memory://rtc-audit-failing",
    )
    with pytest.raises(AirflowException, match="1 of 3 target"):
        op.execute(context(ti))
    [line] = [x for x in audit.read_lines("memory://rtc-audit-failing") if x["status"] == "failed"]
    assert line["ref"]["id"] == "never-started"
    assert len(audit.read_lines("memory://rtc-audit-failing")) == 3


def test_a_second_try_writes_its_own_file_and_leaves_the_first(sandbox, tmp_path):
    tasks = seed(sandbox, {"trtc": {"ai_tasks": 2}})["trtc"]["ai_tasks"]
    first, second = TI(try_number=1), TI(try_number=2)
    _bulk(tmp_path, tasks[:1]).execute(context(first))
    before = file_of(tmp_path, first).read_text()
    _bulk(tmp_path, tasks[1:]).execute(context(second))
    assert file_of(tmp_path, first).read_text() == before
    [line] = lines_of(file_of(tmp_path, second))
    assert line["try_number"] == 2 and line["ref"]["id"] == tasks[1]


def test_no_secret_of_the_connections_reaches_a_line(sandbox, tmp_path):
    seed(sandbox, {"trtc": {"ai_tasks": 1}})
    ti = TI()
    with pytest.raises(AirflowException):
        _bulk(tmp_path, ["never-started"], ignore_not_found=False).execute(context(ti))
    text = file_of(tmp_path, ti).read_text()
    secrets = []
    for name, value in os.environ.items():
        if name.startswith("AIRFLOW_CONN_"):
            conn = json.loads(value)
            secrets.append(conn.get("password"))
            secrets += [v for k, v in conn.get("extra", {}).items() if "secret" in k.lower()]
    secrets = [s for s in secrets if isinstance(s, str) and len(s) >= 6]
    assert secrets and text
    assert not [s for s in secrets if s in text]


def test_audit_path_false_disables_it_with_a_log_line(sandbox, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AIRFLOW__RTC__AUDIT_PATH", str(tmp_path))
    tasks = seed(sandbox, {"trtc": {"ai_tasks": 1}})["trtc"]["ai_tasks"]
    op = BulkEndOperator(task_id="end", action="StopAITranscription", targets=tasks, audit_path=False)
    op.execute(context())
    assert not list(tmp_path.rglob("*.jsonl"))
    assert "audit trail disabled (audit_path=False)" in capsys.readouterr().out


def test_the_config_option_is_the_base_when_the_operator_names_none(sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__RTC__AUDIT_PATH", f"file://{tmp_path}/from-config")
    tasks = seed(sandbox, {"trtc": {"ai_tasks": 1}})["trtc"]["ai_tasks"]
    ti = TI()
    BulkEndOperator(task_id="end", action="StopAITranscription", targets=tasks).execute(context(ti))
    assert len(lines_of(file_of(tmp_path / "from-config", ti))) == 1


def test_the_default_base_is_under_airflow_home(monkeypatch):
    """Airflow expands ``{AIRFLOW_HOME}`` in the declared default (the home of this test session)."""
    monkeypatch.delenv("AIRFLOW__RTC__AUDIT_PATH", raising=False)
    base = str(audit.audit_base(None)).rstrip("/")
    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    assert base == f"file://{home}/rtc/audit"


def test_the_config_option_is_declared_for_airflow_config_list():
    from airflow_provider_rtc.get_provider_info import get_provider_info

    option = get_provider_info()["config"]["rtc"]["options"]["audit_path"]
    assert option["default"] == "file://{AIRFLOW_HOME}/rtc/audit" and "jsonl" in option["description"]


class _Events:
    def __init__(self) -> None:
        self.by_uri: dict[str, Any] = {}

    def __getitem__(self, asset: Any) -> Any:
        return self.by_uri.setdefault(asset.uri, type("Event", (), {"extra": {}})())


def test_destructive_operators_declare_the_dags_audit_asset_and_fill_its_event(sandbox, tmp_path):
    tasks = seed(sandbox, {"trtc": {"ai_tasks": 2}})["trtc"]["ai_tasks"]
    with DAG("event_dag", schedule=None):
        op = _bulk(tmp_path, tasks)
    assert [o.uri for o in op.outlets] == ["rtc-audit://event_dag/"]
    ti, events = TI(), _Events()
    op.execute(context(ti, outlet_events=events))
    extra = events.by_uri["rtc-audit://event_dag/"].extra
    assert extra == {"path": f"file://{file_of(tmp_path, ti)}", "lines": 2, "counts": {"done": 2}}


def test_read_lines_gives_the_newest_first_per_dag(tmp_path):
    for dag, n, minute in (("a", 3, 1), ("b", 2, 0)):
        folder = tmp_path / dag / "run"
        folder.mkdir(parents=True)
        rows = [{"ts": f"2026-12-07T03:0{minute}:0{i}.000Z", "dag_id": dag, "i": i} for i in range(n)]
        (folder / "t.-1.1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + "{torn")
    assert [x["i"] for x in audit.read_lines(str(tmp_path), dag_id="a")] == [2, 1, 0]
    newest = audit.read_lines(str(tmp_path), limit=2)
    assert [(x["dag_id"], x["i"]) for x in newest] == [("a", 2), ("a", 1)]
    assert [x["dag_id"] for x in audit.read_lines(str(tmp_path))] == ["a"] * 3 + ["b"] * 2
    assert audit.read_lines(str(tmp_path / "missing")) == []


def test_outside_a_task_nothing_is_written(sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__RTC__AUDIT_PATH", str(tmp_path))
    tasks = seed(sandbox, {"trtc": {"ai_tasks": 1}})["trtc"]["ai_tasks"]
    BulkEndOperator(task_id="end", action="StopAITranscription", targets=tasks).execute({})
    assert not list(tmp_path.rglob("*.jsonl"))


def test_a_throttled_call_retried_is_one_line(sandbox, tmp_path):
    from tests.lake.conftest import set_faults

    [task] = seed(sandbox, {"trtc": {"ai_tasks": 1}})["trtc"]["ai_tasks"]
    set_faults(sandbox, [{"action": "StopAITranscription", "kind": "throttle", "count": 2}])
    ti = TI()
    _bulk(tmp_path, [task]).execute(context(ti))
    assert [line["status"] for line in lines_of(file_of(tmp_path, ti))] == ["done"]
    assert destructive_calls(sandbox) == {"StopAITranscription": 1}  # 3 attempts, 2 refused


def test_an_operator_with_its_own_execute_is_audited_too(sandbox, tmp_path):
    """DeleteCloudRecordingOperator replaces the base's execute (to wait for the upload after it)."""
    from airflow_provider_rtc.operators.trtc import DeleteCloudRecordingOperator

    seeded = seed(sandbox, {"trtc": {"rooms": 1, "users_per_room": 1, "recordings": 1}})
    task_id = seeded["trtc"]["recordings"][0]["task_id"]
    ti = TI(task_id="stop")
    op = DeleteCloudRecordingOperator(task_id="stop", recording_task_id=task_id, audit_path=str(tmp_path))
    op.execute(context(ti))
    [line] = lines_of(file_of(tmp_path, ti))
    assert (line["action"], line["status"], line["ref"]["id"]) == ("DeleteCloudRecording", "done", task_id)


def test_an_engine_call_inside_a_task_that_opened_no_trail_is_still_recorded(tmp_path, monkeypatch):
    """A new operator calling the engine directly (no task_trail) is audited from Airflow's context."""
    import airflow.providers.common.compat.sdk as sdk

    from airflow_provider_rtc.audit import trail
    from airflow_provider_rtc.cleanup.enders import ender
    from airflow_provider_rtc.cleanup.engine import BulkTarget, run_bulk
    from airflow_provider_rtc.cleanup.result import identity

    class Task:
        tencentcloud_conn_id = "tencent_prod"
        audit_path = str(tmp_path)
        audit_origin = "caps"

    ti = TI(task_id="caps")
    monkeypatch.setattr(sdk, "get_current_context", lambda: {"ti": ti, "task": Task()})
    monkeypatch.setattr(trail, "_FOUND", {})
    row = ender("DismissRoom")
    ids = {"room_id": 1001}
    item = BulkTarget(1001, identity(row, ids, row.refs("1400000001", ids)), lambda: {"RequestId": "req-1"})
    [result] = run_bulk([item], max_concurrency=1)
    assert result["status"] == "done"
    [line] = lines_of(file_of(tmp_path, ti))
    assert (line["origin"], line["conn_id"], line["request_id"]) == ("caps", "tencent_prod", "req-1")
    assert line["ref"] == {**line["ref"], "cloud": "trtc", "app_id": "1400000001", "kind": "rooms"}
