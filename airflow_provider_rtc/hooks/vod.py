"""Tencent Cloud VOD (``vod`` 2018-07-17): the media TRTC recordings upload to.

Used to resolve a recording's VOD FileId to the URL of its bytes (DescribeMediaInfos), to list
recordings by age (SearchMedia) and to delete expired ones (DeleteMedia). Same ``tencentcloud``
connection as TRTC; VOD ignores the region.

``SubAppId``: "从2023年12月25日起开通点播的客户, 如访问点播应用中的资源(无论是默认应用还是新创建的
应用), 必须将该字段填写为应用 ID" (tencentcloud-sdk-python-vod 3.1.194, every request model). Every
method takes ``sub_app_id``; without it the hook sends the connection extra ``vod_sub_app_id``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

from airflow_provider_rtc import catalog
from airflow_provider_rtc import validation as v
from airflow_provider_rtc.hooks.settings import extra_value
from airflow_provider_rtc.hooks.tencentcloud import TencentCloudHook, TencentSettings

MAX_FILE_IDS = 20
#: SearchMedia pages: Offset + Limit may not exceed 5000
SEARCH_PAGE = 100
SEARCH_WINDOW = 5000
#: SearchMedia's TotalCount "最大值: 5000。当命中记录数超过5000时, 该字段将返回 5000, 而非实际命中总数"
#: (SearchMediaResponse, Py SDK vod models): a window that answers this many may hold more
TOTAL_COUNT_CAP = 5000
#: VOD's source type of TRTC cloud recordings ("TrtcRecord: 来自TRTC 伴生录制", MediaSourceData);
#: ``Record`` is Tencent Live (CSS) recording ("如直播录制、直播时移录制等")
TRTC_RECORD = "TrtcRecord"
#: VOD's ISO 8601 times: ``2026-01-31T16:00:00Z`` (fractions and offsets accepted)
_VOD_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")


def _file_id(value: Any, param: str) -> str:
    return v.token(value, param, max_bytes=64)


def _filters(value: Any) -> list[str]:
    return v.string_list(value, "filters", max_items=32, max_bytes=64)


def _vod_time(value: Any, param: str) -> str:
    if not isinstance(value, str) or not _VOD_TIME.fullmatch(value):
        raise v.RtcValidationError(param, "an ISO 8601 UTC time such as 2026-01-31T16:00:00Z", value)
    return value


@dataclass(frozen=True)
class VodSettings(TencentSettings):
    #: the connection extra ``vod_sub_app_id``: the VOD application calls address by default
    vod_sub_app_id: int | None = None


class VodHook(TencentCloudHook):
    """One method per VOD API, named after it, plus :meth:`iter_media` (SearchMedia's pages)."""

    service = "vod"
    version = "2018-07-17"

    def __init__(self, *args: Any, sub_app_id: int | str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sub_app_id_override = v.integer(sub_app_id, "sub_app_id", minimum=1, optional=True)

    def _make_settings(self, conn: Any, extra: Mapping[str, Any]) -> VodSettings:
        base = super()._make_settings(conn, extra)
        raw = extra_value(extra, self.conn_type, "vod_sub_app_id")
        return VodSettings(
            **{f.name: getattr(base, f.name) for f in fields(base)},
            vod_sub_app_id=v.integer(raw, "vod_sub_app_id", minimum=1, optional=True),
        )

    def describe_media_infos(
        self,
        file_ids: list[str],
        *,
        filters: list[str] | None = None,
        sub_app_id: int | None = None,
    ) -> dict[str, Any]:
        """``MediaInfoSet`` (``BasicInfo.MediaUrl``, ``MetaData.Size``...) and ``NotExistFileIdSet``."""
        ids = v.string_list(file_ids, "file_ids", max_items=MAX_FILE_IDS, item=_file_id)
        params: dict[str, Any] = {"FileIds": ids}
        if filters:
            params["Filters"] = _filters(filters)
        self._sub_app(params, sub_app_id)
        return self._call(catalog.DESCRIBE_MEDIA_INFOS, params)

    def search_media(
        self,
        *,
        create_after: str | None = None,
        create_before: str | None = None,
        offset: int = 0,
        limit: int = SEARCH_PAGE,
        order: str = "Asc",
        filters: list[str] | None = None,
        sub_app_id: int | None = None,
        source_types: list[str] | None = None,
        trtc_sdk_app_ids: list[int] | None = None,
        trtc_room_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """One page of media created in ``[create_after, create_before)`` (ISO 8601 UTC), by time.

        ``source_types`` (e.g. ``["TrtcRecord"]``), ``trtc_sdk_app_ids`` and ``trtc_room_ids`` filter
        server-side (SearchMedia's ``SourceTypes``, ``TrtcSdkAppIds``, ``TrtcRoomIds``)."""
        if order not in ("Asc", "Desc"):
            raise v.RtcValidationError("order", "'Asc' or 'Desc'", order)
        offset = v.integer(offset, "offset", minimum=0, maximum=SEARCH_WINDOW - 1) or 0
        limit = v.integer(limit, "limit", minimum=1, maximum=SEARCH_WINDOW) or SEARCH_PAGE
        if offset + limit > SEARCH_WINDOW:
            raise v.RtcValidationError("limit", f"offset + limit within {SEARCH_WINDOW}", offset + limit)
        params: dict[str, Any] = {
            "Offset": offset,
            "Limit": limit,
            "Sort": {"Field": "CreateTime", "Order": order},
        }
        window = {
            k: _vod_time(t, name)
            for k, t, name in (
                ("After", create_after, "create_after"),
                ("Before", create_before, "create_before"),
            )
            if t is not None
        }
        if window:
            params["CreateTime"] = window
        if filters:
            params["Filters"] = _filters(filters)
        if source_types:
            params["SourceTypes"] = v.string_list(source_types, "source_types", max_items=10, max_bytes=64)
        if trtc_sdk_app_ids:
            params["TrtcSdkAppIds"] = v.id_list(
                trtc_sdk_app_ids, "trtc_sdk_app_ids", item=v.positive_int, max_items=10
            ).items
        if trtc_room_ids:
            params["TrtcRoomIds"] = v.string_list(trtc_room_ids, "trtc_room_ids", max_items=10, max_bytes=64)
        self._sub_app(params, sub_app_id)
        return self._call(catalog.SEARCH_MEDIA, params)

    def delete_media(self, file_id: str, *, sub_app_id: int | None = None) -> dict[str, Any]:
        """Delete a media and all its derived files (DeleteMedia); an unknown FileId means gone."""
        params: dict[str, Any] = {"FileId": _file_id(file_id, "file_id")}
        self._sub_app(params, sub_app_id)
        return self._call(catalog.DELETE_MEDIA, params)

    def iter_media(
        self,
        *,
        create_after: str | None = None,
        create_before: str | None = None,
        sub_app_id: int | None = None,
        source_types: list[str] | None = None,
        trtc_sdk_app_ids: list[int] | None = None,
        trtc_room_ids: list[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every media created in the window, oldest first, page by page (SearchMedia).

        SearchMedia reads at most 5000 hits per query (Offset + Limit) and caps ``TotalCount`` at
        5000, so a window answering 5000 may hold more: the window is then split at the creation
        time of the last media read, and the next query starts there (``CreateTime.After`` is
        inclusive, so media of that second already yielded are skipped). More than 5000 media
        created within one second cannot be split and fail loudly.
        """
        after = create_after
        seen: set[str] = set()  # FileIds already yielded that were created at ``after``
        query: dict[str, Any] = {
            "create_before": create_before,
            "sub_app_id": sub_app_id,
            "source_types": source_types,
            "trtc_sdk_app_ids": trtc_sdk_app_ids,
            "trtc_room_ids": trtc_room_ids,
        }
        while True:
            offset = total = 0
            first = last = None
            at_last: set[str] = set()
            while offset < SEARCH_WINDOW:
                page = self.search_media(
                    create_after=after, offset=offset, limit=min(SEARCH_PAGE, SEARCH_WINDOW - offset), **query
                )
                items = page.get("MediaInfoSet") or []
                total = int(page.get("TotalCount") or 0)
                for item in items:
                    created = (item.get("BasicInfo") or {}).get("CreateTime")
                    first = created if first is None else first
                    if created != last:
                        last, at_last = created, set()
                    file_id = str(item.get("FileId"))
                    at_last.add(file_id)
                    if file_id not in seen:
                        yield item
                offset += len(items)
                if not items or offset >= total:
                    break
            if total < TOTAL_COUNT_CAP or offset < SEARCH_WINDOW:
                return  # the whole window was read
            if last is None or last == first:
                raise v.RtcValidationError(
                    "create_after",
                    f"a window SearchMedia can split: more than {SEARCH_WINDOW} media were created at "
                    f"{last}, and SearchMedia reads at most {SEARCH_WINDOW} per query",
                    after,
                )
            after = _vod_time(last, "CreateTime")
            seen = at_last

    def sub_app_id_of(self, sub_app_id: int | None = None) -> int | None:
        """The ``SubAppId`` a call sends: the argument, else the hook's, else the connection extra
        ``vod_sub_app_id``; None: the account's default VOD application (no ``SubAppId``)."""
        if sub_app_id is None:
            sub_app_id = self.sub_app_id_override
        if sub_app_id is None:
            settings = self.settings
            sub_app_id = settings.vod_sub_app_id if isinstance(settings, VodSettings) else None
        return None if sub_app_id is None else v.positive_int(sub_app_id, "sub_app_id")

    def _sub_app(self, params: dict[str, Any], sub_app_id: int | None) -> None:
        resolved = self.sub_app_id_of(sub_app_id)
        if resolved is not None:
            params["SubAppId"] = resolved
