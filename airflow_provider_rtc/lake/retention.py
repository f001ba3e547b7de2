"""What a retention run may delete: recordings older than a cutoff, and only under a configured root.

Three places hold recordings: TRTC's VOD (media listed by creation time with SearchMedia), the
bucket the cloud wrote to, and the lake copies (objects listed under a prefix, aged by their
modification time). Listing and the guard are here; deleting is the operator's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pendulum

from airflow_provider_rtc.exceptions import RtcValidationError

#: VOD's source type of TRTC cloud recordings (kept equal to ``hooks.vod.TRTC_RECORD``; imported
#: lazily there, as the hook pulls in Airflow)
TRTC_RECORD = "TrtcRecord"

if TYPE_CHECKING:
    from airflow_provider_rtc.hooks.vod import VodHook

Where = Literal["vod", "bucket", "destination"]
#: the file that makes a local folder a lake root retention may clean (see :func:`check_root`)
LAKE_MARKER = ".rtc-lake"


class RetentionGuardError(RtcValidationError):
    """A candidate is newer than the cutoff or outside its root: nothing is deleted."""


@dataclass
class Candidate:
    where: Where
    ref: str  # VOD FileId, or the object's URI
    name: str
    created: pendulum.DateTime
    size: int | None = None
    path: Any = None  # ObjectStoragePath of an object

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "ref": self.ref,
            "name": self.name,
            "created": self.created.to_iso8601_string(),
            "size": self.size,
        }


def cutoff(days: int, now: pendulum.DateTime | None = None) -> pendulum.DateTime:
    """Everything created strictly before this instant is expired."""
    return (now or pendulum.now("UTC")).in_timezone("UTC").subtract(days=days)


def vod_time(value: pendulum.DateTime) -> str:
    """VOD's ISO 8601 form: seconds, UTC, ``Z``."""
    return value.in_timezone("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def vod_candidates(
    hook: VodHook,
    before: pendulum.DateTime,
    *,
    source_types: Iterable[str] | None,
    sub_app_id: int | None = None,
    sdk_app_id: int | None = None,
) -> list[Candidate]:
    """VOD media created before ``before`` whose source type is among ``source_types`` (all if None).

    TRTC cloud recordings are ``TrtcRecord`` media carrying ``TrtcRecordInfo {SdkAppId, RoomId,
    TaskId, UserIds}``; ``Record`` is Tencent Live recording (Py SDK vod models, MediaSourceData).
    The filters go to SearchMedia (``SourceTypes``, and ``TrtcSdkAppIds`` when ``sdk_app_id`` is
    known and only TRTC recordings are asked for) and are checked again here on every media, so a
    server that ignored them still cannot make a run delete another source's or another app's media.
    """
    types = None if source_types is None else sorted(set(source_types))
    trtc_only = types == [TRTC_RECORD]
    app_ids = [sdk_app_id] if sdk_app_id is not None and trtc_only else None
    found = []
    for item in hook.iter_media(
        create_before=vod_time(before),
        sub_app_id=sub_app_id,
        source_types=types,
        trtc_sdk_app_ids=app_ids,
    ):
        basic = item.get("BasicInfo") or {}
        source = basic.get("SourceInfo") or {}
        if types is not None and source.get("SourceType") not in types:
            continue
        if app_ids is not None and (source.get("TrtcRecordInfo") or {}).get("SdkAppId") not in app_ids:
            continue
        created = pendulum.parse(str(basic.get("CreateTime")))
        assert isinstance(created, pendulum.DateTime)
        size = (item.get("MetaData") or {}).get("Size")
        found.append(
            Candidate(
                "vod",
                str(item.get("FileId")),
                str(basic.get("Name") or item.get("FileId")),
                created,
                size if isinstance(size, int) else None,
            )
        )
    return found


def object_candidates(root: Any, before: pendulum.DateTime, where: Where) -> list[Candidate]:
    """Objects under ``root`` last modified before ``before`` (a missing root holds nothing)."""
    from airflow_provider_rtc.lake.paths import path_uri

    fs = root.fs
    try:
        listing = fs.find(root.path, detail=True)
    except FileNotFoundError:
        return []
    found = []
    for key, info in sorted(listing.items()):
        if info.get("type") == "directory" or key.rsplit("/", 1)[-1] == LAKE_MARKER:
            continue
        modified = object_time(info)
        if modified is None or modified >= before:
            continue
        path = type(root)(f"{root.protocol}://{key}", conn_id=getattr(root, "conn_id", None))
        found.append(
            Candidate(where, path_uri(path), key.rsplit("/", 1)[-1], modified, info.get("size"), path)
        )
    return found


def object_time(info: dict[str, Any]) -> pendulum.DateTime | None:
    """Modification time from an fsspec info dict (local ``mtime``, S3 ``LastModified``)."""
    value = info.get("LastModified") or info.get("mtime") or info.get("last_modified")
    if value is None:
        return None
    if isinstance(value, int | float):
        return pendulum.from_timestamp(float(value), tz="UTC")
    if hasattr(value, "tzinfo"):
        return pendulum.instance(value).in_timezone("UTC")
    parsed = pendulum.parse(str(value))
    return parsed if isinstance(parsed, pendulum.DateTime) else None


def _is_local(root: Any) -> bool:
    return (getattr(root, "protocol", "file") or "file") in ("file", "local")


def check_root(root: Any, param: str) -> None:
    """Refuse a root that is a whole bucket or the file system root: a prefix is required.

    A local root must also be a folder dedicated to recordings: it (or a folder above it) holds
    the :data:`LAKE_MARKER` file, which ``CopyRecordingsOperator`` writes into a local lake root it
    creates. A broad folder (``/tmp``, ``.``, a home) holds other programs' files, which a cutoff
    on modification time alone would delete.
    """
    parts = [p for p in str(root.path).split("/") if p]
    local = _is_local(root)
    if len(parts) < (1 if local else 2):
        raise RtcValidationError(param, "a prefix inside a bucket or folder, not its root", str(root.path))
    if local and not _marked(root):
        folder = "/" + "/".join(parts)
        raise RtcValidationError(
            param,
            f"a folder dedicated to recordings: {folder} (nor a folder above it) holds no "
            f"{LAKE_MARKER} file. CopyRecordingsOperator writes one into a local lake it creates; "
            f"for an existing lake, create it yourself (touch {folder}/{LAKE_MARKER})",
            folder,
        )


def _marked(root: Any) -> bool:
    from pathlib import Path

    folder = Path("/" + str(root.path).strip("/"))
    return any((p / LAKE_MARKER).is_file() for p in (folder, *folder.parents) if p != Path("/"))


def mark_lake_root(root: Any) -> bool:
    """Write :data:`LAKE_MARKER` into a local lake root this copy creates (missing or empty), so
    that retention may clean it later; a folder that already holds other files is left unmarked
    (it may be someone else's). Returns whether the marker is there now."""
    from pathlib import Path

    if not _is_local(root):
        return False
    folder = Path("/" + str(root.path).strip("/"))
    marker = folder / LAKE_MARKER
    if marker.is_file():
        return True
    try:
        if folder.exists() and any(folder.iterdir()):
            return False
        folder.mkdir(parents=True, exist_ok=True)
        marker.write_text("A recordings lake written by airflow-provider-rtc; retention may clean it.\n")
    except OSError:
        return False
    return True


def guard(candidate: Candidate, before: pendulum.DateTime, root: Any | None) -> None:
    """The last check before a delete: older than the cutoff, and under the configured root."""
    if candidate.created >= before:
        raise RetentionGuardError(
            "older_than_days",
            f"refusing to delete {candidate.ref}: created {candidate.created}, "
            f"not before the cutoff {before}",
        )
    if root is not None and candidate.path is not None:
        prefix = str(root.path).rstrip("/") + "/"
        if not str(candidate.path.path).startswith(prefix) or ".." in str(candidate.path.path).split("/"):
            raise RetentionGuardError(
                candidate.where, f"refusing to delete {candidate.ref}: outside the configured prefix {prefix}"
            )
