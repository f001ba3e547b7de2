"""Tencent Cloud VOD media (``vod`` 2018-07-17): what TRTC recordings upload to, and retention.

Only what the provider uses: media are added by TRTC VOD recordings when their upload completes (or
by the admin API, with any size and creation time, for retention tests and large downloads),
described (DescribeMediaInfos), searched by creation time (SearchMedia) and deleted (DeleteMedia).

As the vendor documents it (tencentcloud-sdk-python-vod 3.1.194 ``vod/v20180717/models.py``; Go SDK
``vod/v20180717/client.go`` error lists):

* TRTC recordings carry ``SourceInfo.SourceType = "TrtcRecord"`` ("TrtcRecord: 来自TRTC 伴生录制")
  and ``SourceInfo.TrtcRecordInfo {SdkAppId, RoomId, TaskId, UserIds}``; ``Record`` is Tencent Live
  (CSS) recording ("Record: 来自录制。如直播录制、直播时移录制等"). Media added by the admin API
  carry the source type they are given (``Upload`` when none).
* SearchMedia filters server-side by ``SourceTypes``, ``TrtcSdkAppIds`` and ``TrtcRoomIds`` (Go SDK
  v1.0.482), and its ``TotalCount`` is capped: "最大值: 5000。当命中记录数超过5000时, 该字段将返回
  5000, 而非实际命中总数".
* DeleteMedia of an unknown id answers plain ``ResourceNotFound`` (the Go SDK's DeleteMedia list has
  ``RESOURCENOTFOUND`` and no ``ResourceNotFound.FileNotExist``).
* Media belong to one VOD application: ``SubAppId`` (absent = the primary application) selects it
  in every call, as it must for accounts opened since 2023-12-25.

Decisions where the reference is silent: ``MediaUrl`` points at the sandbox itself when it knows its
URL (``/_sandbox/vod/<FileId>/<name>``); DescribeMediaInfos lists unknown ids in
``NotExistFileIdSet`` rather than failing. An HLS media (``.m3u8``) reports ``MetaData.Size`` as the
playlist plus its segments ("视频为 HLS 时, 大小是 m3u8 和 ts 文件大小的总和"), larger than the
playlist's own bytes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..errors import SandboxError
from ..ids import IdFactory

MAX_DESCRIBE_IDS = 20
MAX_SEARCH_WINDOW = 5000
#: SearchMedia's TotalCount never exceeds this (the vendor's cap)
MAX_TOTAL_COUNT = 5000
#: the source type of TRTC cloud recordings in VOD
TRTC_RECORD = "TrtcRecord"
#: an HLS media's MetaData.Size adds its segments to the playlist: the sandbox counts this many bytes
HLS_SEGMENT_BYTES = 100_000
LEGACY_URL = "https://sandbox.vod2.myqcloud.com"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> float:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        # no VOD list has a time-specific code for CreateTime: the common InvalidParameterValue
        raise SandboxError(
            "InvalidParameterValue", f"`{value}` is not an ISO 8601 time (e.g. 2026-11-29T10:00:00Z)."
        ) from None


#: MediaInfo members a sandbox media never has (null), per the DescribeMediaInfos/SearchMedia examples
_ABSENT_INFOS = (
    "AdaptiveDynamicStreamingInfo",
    "AnimatedGraphicsInfo",
    "ImageSpriteInfo",
    "KeyFrameDescInfo",
    "MiniProgramReviewInfo",
    "ReviewInfo",
    "SampleSnapshotInfo",
    "SnapshotByTimeOffsetInfo",
    "SubtitleInfo",
    "TranscodeInfo",
)
#: MetaData the sandbox does not measure (its media are opaque bytes): zero, as for a file not probed
_META_DEFAULTS: dict[str, Any] = {
    "Duration": 0,
    "Bitrate": 0,
    "Height": 0,
    "Width": 0,
    "Rotate": 0,
    "VideoDuration": 0,
    "AudioDuration": 0,
    "Md5": "",
    "VideoStreamSet": [],
    "AudioStreamSet": [],
}
_AUDIO = frozenset({"m4a", "aac", "mp3", "wav", "ogg", "flac"})


def _complete(info: dict[str, Any]) -> dict[str, Any]:
    """Every MediaInfo member the API pages' examples (tccli examples.json) show, so answers have
    VOD's shape: what the sandbox does not model is VOD's value for an uncategorised upload (ClassId
    0, no tags, no cover; Vid only for legacy-bucket media) or null for infos a file does not have."""
    basic = info["BasicInfo"]
    for key, value in {
        "Description": "",
        "ClassId": 0,
        "ClassName": "",
        "ClassPath": "",
        "CoverUrl": "",
        "TagSet": [],
        "StorageRegion": "ap-guangzhou",
        "StoragePath": f"/{info['FileId']}/{basic.get('Name', '')}",
        "Category": "Audio" if basic.get("Type") in _AUDIO else "Video",
        "Vid": "",
    }.items():
        basic.setdefault(key, value)
    for key in ("LiveRecordInfo", "WebPageRecordInfo"):
        basic.setdefault("SourceInfo", {}).setdefault(key, None)
    for key, value in _META_DEFAULTS.items():
        info.setdefault("MetaData", {}).setdefault(key, list(value) if isinstance(value, list) else value)
    for key in _ABSENT_INFOS:
        info.setdefault(key, None)
    return info


@dataclass
class VodMedia:
    file_id: str
    name: str
    size: int
    created_at: float
    fmt: str
    source_context: str = ""
    source_type: str = "Upload"
    #: TrtcRecordInfo {SdkAppId, RoomId, TaskId, UserIds} of a TrtcRecord media
    trtc: dict[str, Any] | None = None
    sub_app_id: int | None = None

    @property
    def meta_size(self) -> int:
        """MetaData.Size: the file's bytes; for HLS the playlist plus its segments."""
        return self.size + (HLS_SEGMENT_BYTES if self.fmt == "m3u8" else 0)


class VodBackend:
    """Media by FileId; thread-safe."""

    def __init__(self, ids: IdFactory) -> None:
        self._lock = threading.Lock()
        self.ids = ids
        self.media_base: str | None = None
        self._media: dict[str, VodMedia] = {}

    def reset(self) -> None:
        with self._lock:
            self._media.clear()

    def url(self, file_id: str, name: str) -> str:
        if self.media_base:
            return f"{self.media_base}/_sandbox/vod/{file_id}/{name}"
        return f"{LEGACY_URL}/{file_id}/{name}"

    def add(
        self,
        name: str,
        size: int,
        created_at: float,
        *,
        file_id: str | None = None,
        source_context: str = "",
        source_type: str = "Upload",
        trtc: dict[str, Any] | None = None,
        sub_app_id: int | None = None,
    ) -> VodMedia:
        if size < 0:
            raise ValueError("size must be >= 0")
        fmt = name.rsplit(".", 1)[-1].lower() if "." in name else "mp4"
        with self._lock:
            media = VodMedia(
                file_id or self.ids.digits(19),
                name,
                int(size),
                created_at,
                fmt,
                source_context,
                source_type,
                trtc,
                sub_app_id,
            )
            self._media[media.file_id] = media
            return media

    def get(self, file_id: str) -> VodMedia | None:
        with self._lock:
            return self._media.get(file_id)

    def _app(self, sub_app_id: int | None) -> dict[str, VodMedia]:
        """The media of one VOD application (caller holds the lock)."""
        return {k: m for k, m in self._media.items() if m.sub_app_id == sub_app_id}

    def _info(self, m: VodMedia, filters: list[str] | None = None) -> dict[str, Any]:
        """One MediaInfo; ``filters`` names the info blocks to fill ("basicInfo", "metaData", ...: the
        member name with a lower-case first letter), the others are null ("if not filled, all": Py SDK
        vod models, DescribeMediaInfosRequest/SearchMediaRequest.Filters)."""
        info = _complete(self._own_info(m))
        if filters:
            wanted = set(filters)
            for name in info:
                if name != "FileId" and name[:1].lower() + name[1:] not in wanted:
                    info[name] = None
        return info

    def _own_info(self, m: VodMedia) -> dict[str, Any]:
        # TrtcRecordInfo is always a member, null unless the media came from a TRTC recording
        # (Py SDK vod models MediaSourceData: "this field may return null"; valid for SourceType TrtcRecord)
        source: dict[str, Any] = {
            "SourceType": m.source_type,
            "SourceContext": m.source_context,
            "TrtcRecordInfo": None if m.trtc is None else dict(m.trtc),
        }
        return {
            "FileId": m.file_id,
            "BasicInfo": {
                "Name": m.name,
                "CreateTime": iso(m.created_at),
                "UpdateTime": iso(m.created_at),
                "ExpireTime": "9999-12-31T23:59:59Z",
                "MediaUrl": self.url(m.file_id, m.name),
                "Type": m.fmt,
                "StorageClass": "STANDARD",
                "Status": "Normal",
                "SourceInfo": source,
            },
            "MetaData": {"Size": m.meta_size, "Container": m.fmt},
        }

    def describe(
        self, file_ids: list[str], sub_app_id: int | None = None, filters: list[str] | None = None
    ) -> dict[str, Any]:
        if not file_ids or len(file_ids) > MAX_DESCRIBE_IDS:
            raise SandboxError("InvalidParameterValue.FileIds", "FileIds takes 1 to 20 ids.")
        with self._lock:
            media = self._app(sub_app_id)
            found = [media[f] for f in file_ids if f in media]
            missing = [f for f in file_ids if f not in media]
            return {"MediaInfoSet": [self._info(m, filters) for m in found], "NotExistFileIdSet": missing}

    def search(
        self,
        *,
        after: float | None,
        before: float | None,
        offset: int,
        limit: int,
        descending: bool,
        source_types: list[str] | None = None,
        trtc_sdk_app_ids: list[int] | None = None,
        trtc_room_ids: list[str] | None = None,
        sub_app_id: int | None = None,
        filters: list[str] | None = None,
    ) -> dict[str, Any]:
        if offset < 0 or not 0 < limit <= MAX_SEARCH_WINDOW or offset + limit > MAX_SEARCH_WINDOW:
            raise SandboxError("InvalidParameterValue.Limit", "Offset + Limit must not exceed 5000.")

        def wanted(m: VodMedia) -> bool:
            if after is not None and m.created_at < after:
                return False
            if before is not None and m.created_at >= before:
                return False
            if source_types and m.source_type not in source_types:
                return False
            trtc = m.trtc or {}
            if trtc_sdk_app_ids and trtc.get("SdkAppId") not in trtc_sdk_app_ids:
                return False
            return not trtc_room_ids or str(trtc.get("RoomId")) in trtc_room_ids

        with self._lock:
            matched = [m for m in self._app(sub_app_id).values() if wanted(m)]
            matched.sort(key=lambda m: (m.created_at, m.file_id), reverse=descending)
            page = matched[offset : offset + limit]
            return {
                "TotalCount": min(len(matched), MAX_TOTAL_COUNT),
                "MediaInfoSet": [self._info(m, filters) for m in page],
            }

    def delete(self, file_id: str, sub_app_id: int | None = None) -> None:
        with self._lock:
            found = self._media.get(file_id)
            if found is None or found.sub_app_id != sub_app_id:
                raise SandboxError("ResourceNotFound", f"The file {file_id} does not exist.")
            del self._media[file_id]
