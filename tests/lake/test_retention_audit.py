"""DeleteExpiredRecordingsOperator in the audit trail: one line per delete (VOD DeleteMedia through the
sandbox, objects in moto and on local disk), ``planned`` in a dry run, ``already_gone`` for what
vanished after the listing, ``failed`` with code and request id; a failed delete stops the run with
an error saying where it stood; the DAG's audit asset names the file."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pendulum
import pytest
from airflow.providers.common.compat.sdk import DAG, AirflowException
from rtc_sandbox.config import DEFAULT_SDK_APP_ID as APP
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc import audit
from airflow_provider_rtc.audit.line import KEYS
from airflow_provider_rtc.lake import retention
from airflow_provider_rtc.operators.storage import DeleteExpiredRecordingsOperator
from tests.audit.support import TI, context, destructive_calls, file_of, lines_of

from .conftest import S3_CONN, set_faults, vod_media
from .test_retention import DAY, aged_file

CONN = "tencentcloud_default"


def _op(tmp_path: Path, **kw: Any) -> DeleteExpiredRecordingsOperator:
    return DeleteExpiredRecordingsOperator(
        task_id="retention", older_than_days=30, audit_path=str(tmp_path / "audit"), **kw
    )


def _lake(tmp_path: Path, *names: str) -> tuple[Path, list[Path]]:
    lake = tmp_path / "lake"
    (lake / "trtc").mkdir(parents=True)
    (lake / retention.LAKE_MARKER).touch()
    return lake, [aged_file(lake / "trtc" / name, 40) for name in names]


def _old_media(sandbox: SandboxServer, n: int) -> list[str]:
    now = time.time()
    return [
        vod_media(sandbox, f"old{i}.mp4", 10, created_at=now - (31 + i) * DAY, trtc_app=APP)["file_id"]
        for i in range(n)
    ]


def _vanish_after_listing(monkeypatch: pytest.MonkeyPatch, name: str, gone: Any) -> None:
    """Someone else deletes a candidate between the listing and its delete."""
    original = getattr(retention, name)

    def listed_then_gone(*args: Any, **kwargs: Any) -> Any:
        found = original(*args, **kwargs)
        gone()
        return found

    monkeypatch.setattr(retention, name, listed_then_gone)


def _secrets() -> list[str]:
    """Every password and secret extra of the connections the test environment defines."""
    found: list[Any] = []
    for key, value in os.environ.items():
        if key.startswith("AIRFLOW_CONN_") and value.startswith("{"):
            conn = json.loads(value)
            found.append(conn.get("password"))
            found += [v for k, v in (conn.get("extra") or {}).items() if "secret" in k.lower()]
    return [s for s in found if isinstance(s, str) and len(s) >= 6]


def test_a_run_writes_one_line_per_delete_with_its_typed_identity(sandbox, tmp_path, monkeypatch):
    media = _old_media(sandbox, 3)
    lake, files = _lake(tmp_path, "a.mp4", "b.mp4")
    _vanish_after_listing(monkeypatch, "vod_candidates", lambda: sandbox.backend.vod.delete(media[2]))
    _vanish_after_listing(monkeypatch, "object_candidates", files[1].unlink)
    ti = TI(task_id="retention")
    report = _op(tmp_path, vod=True, destination=str(lake)).execute(context(ti))
    lines = lines_of(file_of(tmp_path / "audit", ti))

    assert report["counts"] == {"vod": 3, "bucket": 0, "destination": 2} and report["already_gone"] == 2
    assert destructive_calls(sandbox) == {"DeleteMedia": 3}  # one line per call, no more, no less
    assert all(tuple(line) == KEYS for line in lines)
    assert [(x["action"], x["ref"]["id"], x["status"]) for x in lines] == [
        ("DeleteMedia", media[2], "already_gone"),  # oldest first (SearchMedia's order)
        ("DeleteMedia", media[1], "done"),
        ("DeleteMedia", media[0], "done"),
        ("DeleteObject", f"file://{files[0]}", "done"),
        ("DeleteObject", f"file://{files[1]}", "already_gone"),
    ]
    assert {(x["origin"], x["dry_run"], x["try_number"]) for x in lines} == {("retention", False, 1)}
    vod, obj = lines[2], lines[3]
    assert vod["ref"] == {
        "cloud": "vod",
        "app_id": "default",
        "kind": "media",
        "id": media[0],
        "id_type": "",
        "room": "",
    }
    assert (vod["cloud"], vod["product"], vod["app_id"], vod["conn_id"]) == (
        "vod",
        "Tencent Cloud VOD",
        "default",
        CONN,
    )
    assert vod["request_id"] and vod["maybe_executed"] is True  # the cloud's RequestId of that call
    assert lines[0]["code"] == "ResourceNotFound" and lines[0]["maybe_executed"] is False
    assert obj["ref"] == {
        "cloud": "lake", "app_id": f"file://{lake}", "kind": "objects", "id": f"file://{files[0]}",
        "id_type": "", "room": "",
    }  # fmt: skip
    assert (obj["cloud"], obj["product"], obj["conn_id"]) == ("lake", "Recordings lake", None)
    text = file_of(tmp_path / "audit", ti).read_text()
    assert _secrets() and not [s for s in _secrets() if s in text]


def test_bucket_objects_name_their_connection_and_prefix(s3, tmp_path, monkeypatch):
    s3.put_object(Bucket="rec-source", Key="recordings/t1/a.mp4", Body=b"a" * 5)
    later = pendulum.now("UTC").add(days=40)  # moto stamps objects "now": run 40 days later
    monkeypatch.setattr(pendulum, "now", lambda tz=None: later)
    ti = TI(task_id="retention")
    _op(tmp_path, bucket="s3://rec-source/recordings", bucket_conn_id=S3_CONN).execute(context(ti))
    [line] = lines_of(file_of(tmp_path / "audit", ti))
    assert (line["action"], line["status"], line["conn_id"], line["product"]) == (
        "DeleteObject", "done", S3_CONN, "Recording bucket",
    )  # fmt: skip
    assert line["ref"]["app_id"] == "s3://rec-source/recordings"
    assert line["ref"]["id"] == "s3://rec-source/recordings/t1/a.mp4"
    assert "Contents" not in s3.list_objects_v2(Bucket="rec-source")


def test_a_dry_run_writes_planned_lines_and_deletes_nothing(sandbox, tmp_path):
    [file_id] = _old_media(sandbox, 1)
    lake, [kept] = _lake(tmp_path, "a.mp4")
    ti = TI(task_id="retention")
    _op(tmp_path, vod=True, destination=f"file://{lake}", dry_run=True).execute(context(ti))
    lines = lines_of(file_of(tmp_path / "audit", ti))
    assert [(x["action"], x["ref"]["id"]) for x in lines] == [
        ("DeleteMedia", file_id), ("DeleteObject", f"file://{kept}"),
    ]  # fmt: skip
    assert {(x["status"], x["dry_run"], x["code"], x["request_id"], x["maybe_executed"]) for x in lines} == {
        ("planned", True, None, None, False)
    }
    assert {x["origin"] for x in lines} == {"retention"}
    assert kept.exists() and sandbox.backend.vod.get(file_id) is not None and destructive_calls(sandbox) == {}


def test_a_failed_delete_stops_the_run_saying_where_it_stood(sandbox, tmp_path, monkeypatch):
    media = _old_media(sandbox, 2)
    lake, files = _lake(tmp_path, "a.mp4", "b.mp4", "c.mp4")

    def replaced_by_a_folder() -> None:  # b.mp4 became a folder after the listing: it cannot be unlinked
        files[1].unlink()
        files[1].mkdir()
        (files[1] / "x").touch()

    _vanish_after_listing(monkeypatch, "object_candidates", replaced_by_a_folder)
    ti = TI(task_id="retention")
    with pytest.raises(AirflowException) as raised:
        _op(tmp_path, vod=True, destination=str(lake)).execute(context(ti))
    message = str(raised.value)
    assert "retention stopped at its first failed delete" in message
    assert f"DeleteObject of lake:file://{lake} object file://{files[1]} failed: " in message
    assert "[ValueError]: Cannot delete directory" in message  # the code, and what the store said
    assert "3 of 5 recording(s) were deleted before it (0 of them already gone); 1 not attempted" in message
    lines = lines_of(file_of(tmp_path / "audit", ti))  # written, although the task failed
    assert [x["status"] for x in lines] == ["done", "done", "done", "failed"]
    failed = lines[-1]
    assert failed["ref"]["id"] == f"file://{files[1]}" and failed["code"] == "ValueError"
    assert failed["maybe_executed"] is False  # a local error: nothing was deleted
    assert files[2].exists() and not files[0].exists()  # stopped: c.mp4 was not attempted
    assert {sandbox.backend.vod.get(m) for m in media} == {None}


def test_a_failed_vod_delete_has_its_code_and_request_id_and_no_error_text(sandbox, tmp_path):
    [file_id] = _old_media(sandbox, 1)
    set_faults(sandbox, [{"action": "DeleteMedia", "kind": "internal", "count": 50}])
    ti = TI(task_id="retention")
    with pytest.raises(AirflowException) as raised:
        _op(tmp_path, vod=True).execute(context(ti))
    [line] = lines_of(file_of(tmp_path / "audit", ti))
    assert (line["status"], line["code"], line["ref"]["id"]) == ("failed", "InternalError", file_id)
    assert line["request_id"] and line["maybe_executed"] is True  # a 5xx-like answer may have run
    message = str(raised.value)
    assert f"DeleteMedia of vod:default media {file_id} failed: " in message
    assert "[InternalError]" in message and f"RequestId {line['request_id']}" in message
    assert "0 of 1 recording(s) were deleted before it" in message
    assert not [s for s in _secrets() if s in message]
    assert sandbox.backend.vod.get(file_id) is not None


class _Events:
    def __init__(self) -> None:
        self.by_uri: dict[str, Any] = {}

    def __getitem__(self, asset: Any) -> Any:
        return self.by_uri.setdefault(asset.uri, type("Event", (), {"extra": {}})())


def test_the_dags_audit_asset_is_declared_and_its_event_names_the_file(tmp_path):
    lake, _ = _lake(tmp_path, "a.mp4", "b.mp4")
    with DAG("event_dag", schedule=None):
        op = _op(tmp_path, destination=str(lake))
    assert [o.uri for o in op.outlets] == ["rtc-audit://event_dag/"]
    ti, events = TI(task_id="retention"), _Events()
    op.execute(context(ti, outlet_events=events))
    extra = events.by_uri["rtc-audit://event_dag/"].extra
    assert extra == {"path": f"file://{file_of(tmp_path / 'audit', ti)}", "lines": 2, "counts": {"done": 2}}


def test_the_readers_and_the_ui_page_take_the_lines(tmp_path):
    from airflow_provider_rtc.plugins.ui_render import _ref_cell

    lake, [old] = _lake(tmp_path, "a.mp4")
    _op(tmp_path, destination=str(lake)).execute(context(TI(task_id="retention")))
    [line] = audit.read_lines(str(tmp_path / "audit"), dag_id="event_dag")
    assert line["origin"] == "retention" and line["origin"] in audit.ORIGINS
    label, raw = _ref_cell(line["ref"])
    assert label == f"lake:file://{lake} object file://{old}" and label != raw  # read as a ResourceRef


def test_a_refused_object_store_delete_reads_as_its_code_and_request_id():
    """s3fs turns S3's refusal into a PermissionError caused by botocore's ClientError: the line
    takes S3's code and request id from it; a 4xx answer means nothing was deleted."""
    from botocore.exceptions import ClientError
    from s3fs.errors import translate_boto_error

    from airflow_provider_rtc.cleanup import expired

    class Refused:  # the candidate's ObjectStoragePath, on a bucket that denies the delete
        protocol = "s3"

        def unlink(self) -> None:
            answer = {"Code": "AccessDenied", "Message": "Access Denied"}
            meta = {"RequestId": "R1", "HTTPStatusCode": 403}
            raise translate_boto_error(
                ClientError({"Error": answer, "ResponseMetadata": meta}, "DeleteObjects")
            )

    when = pendulum.now("UTC").subtract(days=40)
    candidate = retention.Candidate("bucket", "s3://rec/t1/a.mp4", "a.mp4", when, path=Refused())
    result, err = expired.delete_one(candidate, expired.Places(), hook=None)
    assert (result["status"], result["code"], result["request_id"]) == ("failed", "AccessDenied", "R1")
    assert result["maybe_executed"] is False and isinstance(err, Exception)


def test_a_vod_application_is_the_refs_app_and_a_parquet_trail_takes_the_lines(
    sandbox, tmp_path, monkeypatch
):
    """``vod_sub_app_id`` names the VOD application of the ref; the typed Parquet trail (one schema
    for every file) holds the new clouds and kinds like the others."""
    monkeypatch.setenv("AIRFLOW__RTC__AUDIT_FORMAT", "parquet")
    sub_app = 1500000001
    created = time.time() - 40 * DAY
    file_id = vod_media(sandbox, "old.mp4", 10, created_at=created, trtc_app=APP, sub_app_id=sub_app)[
        "file_id"
    ]
    ti = TI(task_id="retention")
    _op(tmp_path, vod=True, vod_sub_app_id=sub_app).execute(context(ti))
    [line] = audit.read_lines(str(tmp_path / "audit"))
    assert file_of(tmp_path / "audit", ti).with_suffix(".parquet").exists()
    assert (line["status"], line["cloud"], line["app_id"], line["origin"]) == (
        "done",
        "vod",
        str(sub_app),
        "retention",
    )
    assert line["ref"] == {
        "cloud": "vod",
        "app_id": str(sub_app),
        "kind": "media",
        "id": file_id,
        "id_type": "",
        "room": "",
    }
    assert sandbox.backend.vod.get(file_id) is None


def test_a_fatal_error_stays_fatal_and_its_line_is_written(tmp_path):
    """Bad credentials fail the task at once (no retries burnt on them), with the message of where
    the run stood; the line is in the trail before the error leaves."""
    import logging

    from airflow.providers.common.compat.sdk import AirflowFailException

    from airflow_provider_rtc.cleanup import expired
    from airflow_provider_rtc.exceptions import RtcAuthError

    class Hook:  # DeleteMedia refused: the SecretId was disabled after the listing
        def delete_media(self, file_id: str, *, sub_app_id: int | None = None) -> Any:
            raise RtcAuthError("SecretId disabled", action="DeleteMedia", code="AuthFailure", request_id="R9")

    when = pendulum.now("UTC").subtract(days=40)
    candidates = [retention.Candidate("vod", f"f{i}", "a.mp4", when) for i in range(2)]
    ti = TI(task_id="retention")
    trail = audit.AuditLog(audit.audit_base(str(tmp_path)), audit.trail.who_of(object(), context(ti)))
    with audit.recording(trail), pytest.raises(AirflowFailException) as raised:
        expired.delete_all(candidates, expired.Places(), Hook(), log=logging.getLogger("test"))
    assert "DeleteMedia of vod:default media f0 failed" in str(raised.value)
    assert "0 of 2 recording(s) were deleted before it (0 of them already gone); 1 not attempted" in str(
        raised.value
    )
    [line] = lines_of(file_of(tmp_path, ti))
    assert (line["status"], line["code"], line["request_id"], line["origin"]) == (
        "failed",
        "AuthFailure",
        "R9",
        "retention",
    )
