"""``[rtc] audit_format = parquet``: the trail as typed Parquet files a lake can query (issue 23 item
4, "jsonl; parquet with the extra"), still on disk as each answer is read, read back with the jsonl
files by :func:`read_lines`; a wrong format is refused before the task's first call."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_rtc import audit
from airflow_provider_rtc.audit.line import KEYS, Who
from airflow_provider_rtc.audit.store import AuditLog, audit_format, read_lines
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.operators.bulk import BulkEndOperator

from .support import TI, context
from .test_audit_trail import seed

WHO_REF = ("cloud", "app_id", "kind", "id", "id_type", "room")
WHO = Who(dag_id="caps", run_id="manual__1", task_id="enforce", try_number=1)


def _line(n: int, ts: str, code: Any = "") -> dict[str, Any]:
    ref = dict(zip(WHO_REF, ("trtc", "1400000001", "rooms", str(n), "int", ""), strict=True))
    line: dict[str, Any] = {key: None for key in KEYS}
    line.update(
        ts=ts, dag_id="caps", run_id="manual__1", task_id="enforce", map_index=-1, try_number=1,
        cloud="trtc", app_id="1400000001", ref=ref, action="DismissRoom", status="done", code=code,
        request_id=f"rid-{n}", dry_run=False, maybe_executed=True, origin="caps",
    )  # fmt: skip
    return line


def test_a_local_parquet_trail_is_on_disk_with_every_line_and_typed_columns(tmp_path):
    log = AuditLog(audit.audit_base(str(tmp_path)), WHO, "parquet")
    log.write([_line(1, "2026-12-07T03:00:01+00:00", code=4001)])  # a numeric code from one cloud
    assert log.path.name == "enforce.-1.1.parquet"
    log.write([_line(2, "2026-12-07T03:00:02+00:00")])  # no flush: a task killed now keeps both
    table = pq.read_table(str(tmp_path / "caps" / "manual__1" / "enforce.-1.1.parquet"))
    assert table.num_rows == 2
    assert table.schema.field("ref").type == pa.struct([(k, pa.string()) for k in WHO_REF])
    assert table.schema.field("dry_run").type == pa.bool_()
    assert table.schema.field("try_number").type == pa.int64()
    assert table.column("code").to_pylist() == ["4001", ""]  # one type across clouds and files
    assert table.column("request_id").to_pylist() == ["rid-1", "rid-2"]


def test_read_lines_reads_parquet_and_jsonl_files_newest_first(tmp_path):
    AuditLog(audit.audit_base(str(tmp_path)), WHO, "parquet").write([_line(1, "2026-12-07T03:00:01+00:00")])
    other = Who(dag_id="caps", run_id="manual__2", task_id="enforce", try_number=1)
    AuditLog(audit.audit_base(str(tmp_path)), other, "jsonl").write([_line(2, "2026-12-07T03:00:02+00:00")])
    got = read_lines(str(tmp_path), dag_id="caps")
    assert [line["request_id"] for line in got] == ["rid-2", "rid-1"]
    assert got[1]["ref"]["id"] == "1" and got[1]["dry_run"] is False


def test_an_object_store_parquet_trail_is_written_at_flush(tmp_path):
    import fsspec
    from airflow.sdk.io import attach

    attach("memory", fs=fsspec.filesystem("memory"))  # fsspec's in-memory store stands for S3/GCS
    base = audit.audit_base("memory://rtc-audit-parquet")
    log = AuditLog(base, WHO, "parquet")
    log.write([_line(1, "2026-12-07T03:00:01+00:00")])
    assert not log.path.exists()  # object stores cannot append: the engine flushes per batch
    log.flush()
    with log.path.open("rb") as fh:
        assert pq.read_table(fh).num_rows == 1


@pytest.mark.parametrize("value", ["xml", "json", ""])
def test_a_wrong_format_names_the_option(monkeypatch, value):
    monkeypatch.setenv("AIRFLOW__RTC__AUDIT_FORMAT", value or "  ")
    with pytest.raises(RtcValidationError, match=r"\[rtc\] audit_format"):
        audit_format()


def test_a_bulk_run_writes_parquet_when_the_option_says_so(sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__RTC__AUDIT_PATH", f"file://{tmp_path}")
    monkeypatch.setenv("AIRFLOW__RTC__AUDIT_FORMAT", "parquet")
    tasks = seed(sandbox, {"trtc": {"ai_tasks": 2}})["trtc"]["ai_tasks"]
    ti = TI()
    BulkEndOperator(task_id="end", action="StopAITranscription", targets=tasks).execute(context(ti))
    path = tmp_path / ti.dag_id / ti.run_id / f"{ti.task_id}.{ti.map_index}.{ti.try_number}.parquet"
    rows = pq.read_table(str(path)).to_pylist()
    assert sorted(r["ref"]["id"] for r in rows) == sorted(str(t) for t in tasks)
    assert {r["action"] for r in rows} == {"StopAITranscription"} and {r["origin"] for r in rows} == {"bulk"}
