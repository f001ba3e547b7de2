"""DeleteExpiredRecordingsOperator: only what is older than the cutoff, only under the prefix,
nothing in a dry run; TRTC VOD media through the sandbox, objects in moto and on local disk."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pendulum
import pytest
from rtc_sandbox.config import DEFAULT_SDK_APP_ID as APP
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.operators.storage import DeleteExpiredRecordingsOperator
from airflow_provider_rtc.recordings import retention

from .conftest import S3_CONN, vod_media

DAY = 86400.0


def retention_op(**kw: Any) -> DeleteExpiredRecordingsOperator:
    return DeleteExpiredRecordingsOperator(task_id="retention", older_than_days=30, **kw)


def aged_file(path: Path, days: float, size: int = 10) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    stamp = time.time() - days * DAY
    os.utime(path, (stamp, stamp))
    return path


def vod_ids(sandbox: SandboxServer) -> set[str]:
    return {m["FileId"] for m in sandbox.backend.vod.search(
        after=None, before=None, offset=0, limit=100, descending=False
    )["MediaInfoSet"]}  # fmt: skip


def test_vod_media_older_than_the_cutoff_are_deleted(sandbox: SandboxServer) -> None:
    now = time.time()
    old = [
        vod_media(sandbox, f"old{i}.mp4", 100, created_at=now - (31 + i) * DAY, trtc_app=APP)["file_id"]
        for i in range(3)
    ]
    recent = vod_media(sandbox, "recent.mp4", 100, created_at=now - 29 * DAY, trtc_app=APP)["file_id"]
    dry = retention_op(vod=True, dry_run=True).execute({})
    assert dry["dry_run"] is True and sorted(d["ref"] for d in dry["deleted"]) == sorted(old)
    assert vod_ids(sandbox) == {*old, recent}  # nothing deleted in the dry run
    report = retention_op(vod=True).execute({})
    assert report["counts"] == {"vod": 3, "bucket": 0, "destination": 0} and report["bytes"] == 300
    assert vod_ids(sandbox) == {recent}
    assert retention_op(vod=True).execute({})["deleted"] == []  # a second run finds nothing


def test_vod_media_from_other_sources_are_kept(sandbox: SandboxServer) -> None:
    old = vod_media(sandbox, "trtc.mp4", 1, created_at=time.time() - 90 * DAY, trtc_app=APP)["file_id"]
    report = retention_op(vod=True, vod_source_types=["Upload"]).execute({})
    assert report["deleted"] == [] and vod_ids(sandbox) == {old}


def test_lake_copies_older_than_the_cutoff_are_deleted(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    old = aged_file(lake / "trtc/1400000001/room/task1/a.mp4", 40)
    new = aged_file(lake / "trtc/1400000001/room/task2/b.mp4", 1)
    outside = aged_file(tmp_path / "elsewhere/c.mp4", 400)
    marker = aged_file(lake / retention.LAKE_MARKER, 400)  # a dedicated lake; the marker stays
    dry = retention_op(destination=str(lake), dry_run=True).execute({})
    assert [d["ref"] for d in dry["deleted"]] == [f"file://{old}"] and old.exists()
    report = retention_op(destination=f"file://{lake}").execute({})
    assert report["counts"]["destination"] == 1
    assert not old.exists() and new.exists() and outside.exists() and marker.exists()


def test_source_bucket_objects_older_than_the_cutoff_are_deleted(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3.put_object(Bucket="rec-source", Key="recordings/t1/a.mp4", Body=b"a" * 5)
    s3.put_object(Bucket="rec-source", Key="other/keep.mp4", Body=b"k")
    # moto stamps objects "now": run the retention 40 days later so they are 40 days old
    later = pendulum.now("UTC").add(days=40)
    monkeypatch.setattr(pendulum, "now", lambda tz=None: later)
    bucket = {"bucket": "s3://rec-source/recordings", "bucket_conn_id": S3_CONN}
    dry = retention_op(dry_run=True, **bucket).execute({})
    assert [d["name"] for d in dry["deleted"]] == ["a.mp4"]
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="rec-source")["Contents"]}
    assert keys == {"recordings/t1/a.mp4", "other/keep.mp4"}
    report = retention_op(**bucket).execute({})
    assert report["counts"]["bucket"] == 1
    assert {o["Key"] for o in s3.list_objects_v2(Bucket="rec-source")["Contents"]} == {"other/keep.mp4"}


def test_guards(tmp_path: Path) -> None:
    cutoff = pendulum.now("UTC").subtract(days=30)
    young = retention.Candidate("vod", "1", "a", cutoff.add(seconds=1))
    with pytest.raises(retention.RetentionGuardError, match="not before the cutoff"):
        retention.guard(young, cutoff, None)

    class P:
        def __init__(self, path: str) -> None:
            self.path = path
            self.protocol = "file"

    escaped = retention.Candidate("destination", "x", "x", cutoff.subtract(days=1), path=P("/data/lake2/x"))
    with pytest.raises(retention.RetentionGuardError, match="outside the configured prefix"):
        retention.guard(escaped, cutoff, P("/data/lake"))
    with pytest.raises(RtcValidationError, match="not its root"):
        retention_op(destination="/").execute({})
    with pytest.raises(RtcValidationError, match="older_than_days"):
        DeleteExpiredRecordingsOperator(task_id="r", older_than_days=0, destination=str(tmp_path)).execute({})
    with pytest.raises(RtcValidationError, match="nothing to clean"):
        DeleteExpiredRecordingsOperator(task_id="r", older_than_days=3)
    aged_file(tmp_path / "l/a", 40)
    aged_file(tmp_path / "l/b", 40)
    (tmp_path / "l" / retention.LAKE_MARKER).touch()
    with pytest.raises(RtcValidationError, match="max_deletes"):
        retention_op(destination=str(tmp_path / "l"), max_deletes=1).execute({})
    assert (tmp_path / "l/a").exists() and (tmp_path / "l/b").exists()
