"""Tencent Cloud VOD (``vod`` 2018-07-17): where TRTC recordings stored in VOD live.

Sources: the VOD API pages (cloud.tencent.com/document/api/266). DeleteMedia: 100 calls/s
(cloud.tencent.com/document/product/266/78313, see shared reference ``vendor-review.md``);
DescribeMediaInfos and SearchMedia: 100 calls/s each, UNCONFIRMED (not in the shared references;
the VOD pages' usual default). VOD ignores the region;
limits are counted per API and per sub-account (SecretId). ``ResourceNotFound.FileNotExist``
("the file does not exist", in every official SDK's VOD error list) means the media is gone.
"""

from __future__ import annotations

from airflow_provider_rtc.catalog import Api, register

VERSION = "2018-07-17"
_FILE_GONE = frozenset({"ResourceNotFound.FileNotExist"})


def _vod(action: str, qps: float, **kw: object) -> Api:
    return register(
        Api(
            cloud="tencent",
            product="vod",
            action=action,
            version=VERSION,
            method="POST",
            qps=qps,
            per=("secret_id",),
            **kw,  # type: ignore[arg-type]
        )
    )


DESCRIBE_MEDIA_INFOS = _vod("DescribeMediaInfos", 100.0)
SEARCH_MEDIA = _vod("SearchMedia", 100.0)
DELETE_MEDIA = _vod("DeleteMedia", 100.0, gone=_FILE_GONE, destructive=True)
