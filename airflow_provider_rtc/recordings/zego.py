"""ZEGOCLOUD: when is a cloud recording uploaded.

Recording (DescribeRecordStatus, answers for 3 days after the task *started*):

* Task ``Status``: 1 initializing, 2 recording, 3 ended, 4 ended abnormally, 5 paused.
* File ``Status``: 1 recording, 2 uploading, 3 uploaded to your storage, 4 your upload failed so
  ZEGO put it in its backup storage (kept only 3 days), 5 failed everywhere.
* **Done** when the task ended (3 or 4) and every file is final (3, 4 or 5). A task that ended with
  no ``RecordFiles`` (nobody published) is done with an empty manifest.
* A file in Status 5 fails the task at once under ``on_failed_file="fail"`` (the default), even
  while other files still upload: it can never succeed. The same for Status 4 under
  ``on_backup_file="fail"``; the default ``"warn"`` accepts it as ``backup`` with a warning to
  download it within 3 days.
* 300001000 ("task does not exist") is what ZEGO answers for an unknown TaskId *and* for a task
  that started more than 3 days ago: its upload state can no longer be read, so it is reported as a
  failure that says exactly that - never as "gone, therefore uploaded".

(Whether a stream-mixing task is gone is a wait of its own: :mod:`airflow_provider_rtc.waits.steps`.)
"""

from __future__ import annotations

from typing import Any

from airflow_provider_rtc.recordings.manifest import (
    UploadPolicy,
    WaitVerdict,
    build_manifest,
    describe_files,
    file_entry,
)
from airflow_provider_rtc.validation import lenient_int

CLOUD = "zego"
QUERY_WINDOW_DAYS = 3
BACKUP_KEEP_DAYS = 3

TASK_STATUS = {1: "initializing", 2: "recording", 3: "ended", 4: "ended abnormally", 5: "paused"}
TASK_ENDED = frozenset({3, 4})
FILE_STATUS = {
    1: "recording",
    2: "uploading",
    3: "uploaded",
    4: "in ZEGO backup storage",
    5: "failed",
}
FILE_FINAL = {3: "uploaded", 4: "backup", 5: "failed"}
TRACK_TYPE = {1: "audio", 2: "video", 3: "audio_video"}


_int = lenient_int  # the package's one integer parser, lenient for cloud data


def _utc(ms: int | None) -> str:
    if not ms:
        return "an unknown time"
    import pendulum

    return pendulum.from_timestamp(ms / 1000, tz="UTC").format("YYYY-MM-DD HH:mm [UTC]")


def record_data(envelope: dict[str, Any]) -> dict[str, Any]:
    """``Data`` of a DescribeRecordStatus envelope (or the ``Data`` object itself)."""
    data = envelope.get("Data", envelope) if isinstance(envelope, dict) else {}
    return data if isinstance(data, dict) else {}


def seen_summary(envelope: dict[str, Any]) -> dict[str, Any]:
    """What to remember between polls to explain a later 300001000 (JSON primitives only)."""
    data = record_data(envelope)
    return {
        "status": _int(data.get("Status")),
        "begin_ms": _int(data.get("RecordBeginTimestamp")),
        "room_id": data.get("RoomId"),
    }


def evaluate_record_status(
    envelope: dict[str, Any], *, app_id: int | None, task_id: str, policy: UploadPolicy
) -> WaitVerdict:
    """Decide from one DescribeRecordStatus answer: waiting, done (with manifest) or failed."""
    data = record_data(envelope)
    status = _int(data.get("Status"))
    status_text = TASK_STATUS.get(status or -1, f"unknown status {data.get('Status')!r}")
    raw_files = data.get("RecordFiles") or []
    files_in = [f for f in raw_files if isinstance(f, dict)]

    files: list[dict[str, Any]] = []
    pending: list[str] = []
    for raw in files_in:
        name = str(raw.get("FileId") or raw.get("StreamId") or "unnamed file")
        fstatus = _int(raw.get("Status"))
        final = FILE_FINAL.get(fstatus or -1)
        if final is None:
            label = FILE_STATUS.get(fstatus or -1) or f"status {raw.get('Status')!r}"
            pending.append(f"{name} ({label})")
            continue
        files.append(
            file_entry(
                name=name,
                status=final,  # type: ignore[arg-type]
                url=raw.get("FileUrl"),
                file_id=raw.get("VideoId"),
                size=raw.get("FileSize"),
                duration_ms=raw.get("Duration"),
                track_type=TRACK_TYPE.get(_int(raw.get("MediaTrackType")) or -1),
                user_id=raw.get("UserId"),
                stream_id=raw.get("StreamId"),
                format=raw.get("OutputFileFormat"),
                begin_ms=raw.get("BeginTimestamp"),
            )
        )

    failed = [f for f in files if f["status"] == "failed"]
    backup = [f for f in files if f["status"] == "backup"]
    where = f"ZEGO recording {task_id}"
    if failed and policy.on_failed_file == "fail":
        return WaitVerdict(
            "failed",
            f"{where}: {len(failed)} file(s) failed to upload to your storage and to ZEGO's backup "
            f"(file Status 5): {describe_files(failed)}. Set on_failed_file='warn' to continue with "
            "the files that did upload.",
        )
    if backup and policy.on_backup_file == "fail":
        return WaitVerdict(
            "failed",
            f"{where}: {len(backup)} file(s) could not be uploaded to your storage and are only in "
            f"ZEGO's backup storage, kept for {BACKUP_KEEP_DAYS} days (file Status 4): "
            f"{describe_files(backup)}. Download them from the URLs ZEGO reports before they expire.",
        )

    waiting: list[str] = []
    if status not in TASK_ENDED:
        hint = " (paused: resume or stop it)" if status == 5 else ""
        waiting.append(f"the task to end (now {status_text}{hint})")
    if pending:
        waiting.append(f"{len(pending)} file(s) still recording or uploading: {', '.join(pending[:5])}")
    if waiting:
        return WaitVerdict("waiting", f"{where}: waiting for " + "; ".join(waiting), waiting_for=waiting)

    warnings: list[str] = []
    end_ms = _int(data.get("RecordEndTimestamp"))
    if status == 4:
        warnings.append(
            f"{where} ended abnormally (task Status 4); its files are listed as ZEGO reported them"
        )
    if backup:
        expiry = _utc(end_ms + BACKUP_KEEP_DAYS * 86_400_000) if end_ms else f"{BACKUP_KEEP_DAYS} days"
        warnings.append(
            f"{len(backup)} file(s) are only in ZEGO's backup storage (upload to your storage failed) "
            f"and expire after {BACKUP_KEEP_DAYS} days (about {expiry}); download them: "
            f"{describe_files(backup)}"
        )
    if failed:
        warnings.append(f"{len(failed)} file(s) failed to upload anywhere: {describe_files(failed)}")
    if not files:
        warnings.append(f"{where} produced no file: nothing was published while it recorded")
    manifest = build_manifest(
        cloud=CLOUD,
        app_id=app_id,
        task_id=task_id,
        room_id=data.get("RoomId"),
        storage=None,
        files=files,
        warnings=warnings,
    )
    if not files:
        message = (
            f"{where} ended ({status_text}) with no recorded file (nothing was published): empty manifest"
        )
    else:
        message = f"{where}: {len(files)} file(s) final, manifest status {manifest['status']}"
    return WaitVerdict("done", message, manifest=manifest)


def not_queryable(
    task_id: str, last_seen: dict[str, Any] | None = None, *, now_ms: int | None = None
) -> WaitVerdict:
    """The verdict for 300001000: the task cannot be queried (unknown or older than 3 days)."""
    where = f"ZEGO recording {task_id}"
    seen = last_seen or {}
    begin_ms = _int(seen.get("begin_ms"))
    if seen.get("status") is not None:
        what = (
            f"it answered earlier (task {TASK_STATUS.get(_int(seen['status']) or -1, 'status unknown')}, "
            f"started {_utc(begin_ms)}) and is now past ZEGO's {QUERY_WINDOW_DAYS}-day query window"
        )
    else:
        what = (
            f"either the TaskId is wrong or the task started more than {QUERY_WINDOW_DAYS} days ago, "
            "beyond ZEGO's query window"
        )
    return WaitVerdict(
        "failed",
        f"{where} can no longer be queried: DescribeRecordStatus answered 300001000 (task does not "
        f"exist); {what}. Its upload state is unknown, so this is not reported as uploaded. Check "
        "your storage (or ZEGO's upload callback, event_type 1) for its files.",
    )


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def record_status_from_callback(body: dict[str, Any]) -> dict[str, Any] | None:
    """A ZEGO "files uploaded" callback (``event_type`` 1) as the DescribeRecordStatus answer it
    stands for, so the same decision applies; ``None`` for any other callback.

    The callback comes once the task has stopped, and its ``detail.file_info[]`` are snake_case
    copies of ``RecordFiles[]`` whose ``status`` is already final (3, 4 or 5).
    """
    if not isinstance(body, dict) or _int(body.get("event_type")) != 1:
        return None
    detail = body.get("detail")
    infos = detail.get("file_info") if isinstance(detail, dict) else None
    infos = infos if isinstance(infos, list) else []
    files = [{_camel(str(k)): v for k, v in info.items()} for info in infos if isinstance(info, dict)]
    return {"Data": {"RoomId": body.get("room_id"), "Status": 3, "RecordFiles": files}}
