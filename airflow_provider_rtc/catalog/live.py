"""Tencent Cloud Live / CSS (``live`` 2018-08-01).

Sources: the Live API pages (cloud.tencent.com/document/api/267). Live ignores the region; its limits
are counted per API and per sub-account (SecretId).

Usage APIs. Sources: API pages 267/36098 (DescribeBillBandwidthAndFluxList: 100/s, "cannot exceed one month"
(intl: 31 days), last three years, Granularity 5 (<= 1 day) / 60 / 1440; StartTime "YYYY-MM-DD
hh:mm:ss" means Beijing time) and 267/59864 (DescribeLiveTranscodeTotalInfo: 200/s, "three months"
per query and of history, 5-minute points within one day, hourly across days). The Go SDK lists
only FailedOperation, InvalidParameterValue and MissingParameter for these: a too-long range answers
``InvalidParameterValue`` (UNCONFIRMED). "Three months" is taken as 90 days, "three years" as 1095.
Time in answers: older SDKs document "yyyy-mm-dd HH:MM:SS" (Beijing), current ones UTC ISO 8601
("2019-01-08T10:00:00Z"); the provider reads both. DescribeLiveTranscodeDetailInfo is per stream
and per page (monitoring data, "not for billing"), so reports use the total-info API.
"""

from __future__ import annotations

from airflow_provider_rtc.catalog import Api, tencent_api

VERSION = "2018-08-01"


def _live(action: str, qps: float, **kw: object) -> Api:
    return tencent_api("live", VERSION, action, qps, ("secret_id",), **kw)


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
# "at most 100 requests per second" (intl.cloud.tencent.com/document/product/267/30798); pages from
# PageNum 1 of PageSize 10-300000 on the mainland site ("最大300000", Py SDK live models, Go SDK change
# 2025-12-08; the doc advises one page larger than the stream count, pulled about once a minute) and
# 10-100 on the international site (intl Go SDK); lists at most 20,000 streams and is "not to be
# relied on" for critical logic: discovery pairs it with push callbacks.
DESCRIBE_LIVE_STREAM_ONLINE_LIST = _live("DescribeLiveStreamOnlineList", 100.0)

# -- usage (reports) -------------------------------------------------------------------------------
# (sources and decisions: the module docstring, "Usage APIs")
DESCRIBE_BILL_BANDWIDTH_AND_FLUX_LIST = _live(
    "DescribeBillBandwidthAndFluxList", 100.0, max_range_days=31, history_days=1095
)
DESCRIBE_LIVE_TRANSCODE_TOTAL_INFO = _live(
    "DescribeLiveTranscodeTotalInfo", 200.0, max_range_days=90, history_days=90
)
