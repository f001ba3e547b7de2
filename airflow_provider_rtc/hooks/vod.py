"""Tencent Cloud VOD (``vod`` 2018-07-17): the media TRTC recordings upload to.

Used to resolve a recording's VOD FileId to the URL of its bytes (DescribeMediaInfos), to list
recordings by age (SearchMedia) and to delete expired ones (DeleteMedia). Same ``tencentcloud``
connection as TRTC; VOD ignores the region.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from airflow_provider_rtc import catalog
from airflow_provider_rtc import validation as v
from airflow_provider_rtc.hooks.tencentcloud import TencentCloudHook

MAX_FILE_IDS = 20
#: SearchMedia pages: Offset + Limit may not exceed 5000 (narrow the time window beyond that)
SEARCH_PAGE = 100
SEARCH_WINDOW = 5000
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


class VodHook(TencentCloudHook):
    """One method per VOD API, named after it, plus :meth:`iter_media` (SearchMedia's pages)."""

    service = "vod"
    version = "2018-07-17"

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
    ) -> dict[str, Any]:
        """One page of media created in ``[create_after, create_before)`` (ISO 8601 UTC), by time."""
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
    ) -> Iterator[dict[str, Any]]:
        """Every media created in the window, oldest first, page by page (SearchMedia)."""
        offset = 0
        while True:
            page = self.search_media(
                create_after=create_after,
                create_before=create_before,
                offset=offset,
                limit=min(SEARCH_PAGE, SEARCH_WINDOW - offset),
                sub_app_id=sub_app_id,
            )
            items = page.get("MediaInfoSet") or []
            yield from items
            offset += len(items)
            if not items or offset >= int(page.get("TotalCount") or 0):
                return
            if offset >= SEARCH_WINDOW:
                raise v.RtcValidationError(
                    "create_before",
                    f"a window with at most {SEARCH_WINDOW} media (SearchMedia's limit); narrow it",
                    page.get("TotalCount"),
                )

    @staticmethod
    def _sub_app(params: dict[str, Any], sub_app_id: int | None) -> None:
        if sub_app_id is not None:
            params["SubAppId"] = v.positive_int(sub_app_id, "sub_app_id")
