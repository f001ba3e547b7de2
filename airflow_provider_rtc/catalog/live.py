"""Tencent Cloud Live / CSS (``live`` 2018-08-01).

Sources: the Live API pages (cloud.tencent.com/document/api/267). Live ignores the region; its limits
are counted per API and per sub-account (SecretId).
"""

from __future__ import annotations

from airflow_provider_rtc.catalog import Api, register

VERSION = "2018-08-01"


def _live(action: str, qps: float, **kw: object) -> Api:
    return register(
        Api(
            cloud="tencent",
            product="live",
            action=action,
            version=VERSION,
            method="POST",
            qps=qps,
            per=("secret_id",),
            **kw,  # type: ignore[arg-type]
        )
    )


CREATE_COMMON_MIX_STREAM = _live("CreateCommonMixStream", 200.0)
CANCEL_COMMON_MIX_STREAM = _live(
    "CancelCommonMixStream",
    100.0,
    gone=frozenset({"FailedOperation.CancelSessionNotExist", "InvalidParameter.CancelSessionNotExist"}),
    # "failed to call the third-party/internal service" (Go SDK error list): a passing fault
    transient=frozenset({"FailedOperation.CallOtherSvrError", "FailedOperation.Failed"}),
    destructive=True,
)
DROP_LIVE_STREAM = _live("DropLiveStream", 100.0, destructive=True)
DESCRIBE_LIVE_STREAM_STATE = _live("DescribeLiveStreamState", 300.0)
# "at most 100 requests per second" (intl.cloud.tencent.com/document/product/267/30798); pages of
# PageSize 10-100 (default 10) from PageNum 1; lists at most 20,000 streams and is "not to be relied
# on" for critical logic: discovery pairs it with push callbacks.
DESCRIBE_LIVE_STREAM_ONLINE_LIST = _live("DescribeLiveStreamOnlineList", 100.0)
