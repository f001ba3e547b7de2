"""Tencent Cloud VOD (``vod`` 2018-07-17): where TRTC recordings stored in VOD live.

Sources: the VOD API pages (cloud.tencent.com/document/api/266), tencentcloud-sdk-python-vod 3.1.194
and the Go SDK's per-method error lists (``vod/v20180717/client.go``, 2026-08). VOD ignores the
region; limits are counted per API and per sub-account (SecretId).

* DeleteMedia: 100 calls/s (cloud.tencent.com/document/product/266/78313). "Gone" is plain
  ``ResourceNotFound``: the Go SDK lists ``FAILEDOPERATION, FAILEDOPERATION_INVALIDVODUSER,
  INTERNALERROR, RESOURCENOTFOUND = "ResourceNotFound", UNAUTHORIZEDOPERATION`` before
  ``DeleteMedia`` (same in the intl SDK); ``ResourceNotFound.FileNotExist`` is listed only for other
  APIs (ModifyMediaInfo, RestoreMedia...) and stays tolerated.
* DescribeMediaInfos: 100 calls/s ("默认接口请求频率限制:100次/秒", 266/31763, 2026-01-16).
* SearchMedia: 20 calls/s, UNCONFIRMED. The stored copies of its page (266/31813, 266/34179) stop
  before the rate line; 100/s was "the VOD pages' usual default", a wrong premise (InspectMediaQuality,
  ForbidMediaDistribution, DescribeFileAttributes, DescribeMediaPlayStatDetails are 20/s). 20/s is
  the safe side: retention lists pages of 100, so it costs little; a faster real limit is unused.
"""

from __future__ import annotations

from airflow_provider_rtc.catalog import Api, tencent_api

VERSION = "2018-07-17"
_FILE_GONE = frozenset({"ResourceNotFound", "ResourceNotFound.FileNotExist"})


def _vod(action: str, qps: float, **kw: object) -> Api:
    return tencent_api("vod", VERSION, action, qps, ("secret_id",), **kw)


DESCRIBE_MEDIA_INFOS = _vod("DescribeMediaInfos", 100.0)
SEARCH_MEDIA = _vod("SearchMedia", 20.0)
DELETE_MEDIA = _vod("DeleteMedia", 100.0, gone=_FILE_GONE, destructive=True)
