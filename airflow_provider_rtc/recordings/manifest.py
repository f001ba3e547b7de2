"""The recording manifest (identical for every cloud), the upload policy and the evaluation verdict.

Manifest schema (a JSON object; every key always present)::

    {
      "cloud": "zego" | "trtc",
      "app_id": int,               # ZEGO AppId / TRTC SDKAppID
      "task_id": str,              # the recording task
      "room_id": str | null,
      "storage": "cos" | "vod" | null,   # TRTC storage mode; null for ZEGO (vendor not reported)
      "status": "uploaded" | "partial" | "empty",
      "files": [
        {
          "name": str,             # file name (ZEGO FileId, TRTC FileName / CacheFile)
          "url": str | null,       # where to download it, when the cloud says
          "file_id": str | null,   # VOD id (ZEGO VideoId, TRTC VOD FileId)
          "size": int | null,      # bytes
          "duration_ms": int | null,
          "track_type": "audio" | "video" | "audio_video" | null,
          "status": "uploaded" | "backup" | "failed",
          "user_id": str | null,
          "stream_id": str | null,
          "format": str | null,    # mp4, m3u8, flv, aac...
          "begin_ms": int | null   # recording start of the file, epoch ms
        }
      ],
      "warnings": [str]            # what a person should know (backup copies expiring, failures kept)
    }

A destination manifest (``CopyRecordingsOperator``'s result) has the same shape, with destination
URIs; an HLS index's entry there also carries ``"segments": [{"name", "url", "size"}]``.

``status`` is ``uploaded`` when every file reached the customer's storage, ``partial`` when at least
one file is in the vendor's backup storage or failed and the policy said "warn", and ``empty`` when
the task produced no file at all (nothing was published).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_provider_rtc.errors import RtcValidationError
from airflow_provider_rtc.validation import lenient_int

FileStatus = Literal["uploaded", "backup", "failed"]
ManifestStatus = Literal["uploaded", "partial", "empty"]
VerdictState = Literal["waiting", "done", "failed"]

FAILED_FILE_CHOICES = ("fail", "warn")
BACKUP_FILE_CHOICES = ("fail", "warn", "wait")

MANIFEST_KEYS = ("cloud", "app_id", "task_id", "room_id", "storage", "status", "files", "warnings")
FILE_KEYS = (
    "name",
    "url",
    "file_id",
    "size",
    "duration_ms",
    "track_type",
    "status",
    "user_id",
    "stream_id",
    "format",
    "begin_ms",
)


@dataclass(frozen=True)
class UploadPolicy:
    """What a file that did not reach the customer's storage does to the task.

    :param on_failed_file: ``"fail"`` (default) fails the task as soon as a file is known to have
        failed; ``"warn"`` logs it, keeps it in the manifest with status ``failed`` and succeeds
        with manifest status ``partial``.
    :param on_backup_file: a file that sits in the vendor's backup storage instead of yours (ZEGO
        file Status 4, kept 3 days; TRTC callback Status 1, "still on the server or backup storage").
        ``"warn"`` accepts it as ``backup`` (manifest ``partial``), ``"fail"`` fails the task,
        ``"wait"`` (TRTC only) keeps waiting for the documented recovery signal (COS: 305 Status 2;
        VOD: a later 311 Status 0 for the same file) until the timeout.
    """

    on_failed_file: str = "fail"
    on_backup_file: str = "warn"

    def __post_init__(self) -> None:
        if self.on_failed_file not in FAILED_FILE_CHOICES:
            raise RtcValidationError(
                "on_failed_file", f"must be one of {FAILED_FILE_CHOICES}", self.on_failed_file
            )
        if self.on_backup_file not in BACKUP_FILE_CHOICES:
            raise RtcValidationError(
                "on_backup_file", f"must be one of {BACKUP_FILE_CHOICES}", self.on_backup_file
            )


@dataclass
class WaitVerdict:
    """The outcome of one evaluation: keep waiting (and for what), done (with the manifest), or failed."""

    state: VerdictState
    message: str
    manifest: dict[str, Any] | None = None
    waiting_for: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.state == "done"

    @property
    def final(self) -> bool:
        return self.state != "waiting"

    def to_event(self) -> dict[str, Any]:
        """The JSON payload a trigger yields (no secret in it: manifests never carry credentials)."""
        return {
            "status": self.state,
            "message": self.message,
            "manifest": self.manifest,
            "waiting_for": list(self.waiting_for),
        }


def file_entry(
    *,
    name: str,
    status: FileStatus,
    url: str | None = None,
    file_id: str | None = None,
    size: int | None = None,
    duration_ms: int | None = None,
    track_type: str | None = None,
    user_id: str | None = None,
    stream_id: str | None = None,
    format: str | None = None,
    begin_ms: int | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "url": url or None,
        "file_id": file_id or None,
        "size": _int_or_none(size),
        "duration_ms": _int_or_none(duration_ms),
        "track_type": track_type or None,
        "status": status,
        "user_id": user_id if user_id not in (None, "") else None,
        "stream_id": stream_id or None,
        "format": format or None,
        "begin_ms": _int_or_none(begin_ms),
    }


def build_manifest(
    *,
    cloud: str,
    app_id: int | None,
    task_id: str,
    room_id: Any,
    storage: str | None,
    files: list[dict[str, Any]],
    warnings: list[str],
) -> dict[str, Any]:
    if not files:
        status: ManifestStatus = "empty"
    elif all(f["status"] == "uploaded" for f in files):
        status = "uploaded"
    else:
        status = "partial"
    return {
        "cloud": cloud,
        "app_id": app_id,
        "task_id": task_id,
        "room_id": None if room_id in (None, "") else str(room_id),
        "storage": storage,
        "status": status,
        "files": files,
        "warnings": list(warnings),
    }


def file_extension(name: str) -> str | None:
    base = name.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else None


def describe_files(files: list[dict[str, Any]], limit: int = 5) -> str:
    names = [f["name"] for f in files]
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


_int_or_none = lenient_int  # the package's one integer parser, lenient for cloud data
