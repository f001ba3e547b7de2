"""Tencent Cloud TRTC (``trtc`` 2019-07-22).

Sources: the TRTC API pages (cloud.tencent.com/document/api/647), the official SDKs' per-method error
lists (see shared reference ``vendor-review.md``). Limits: 20 calls/s per API, counted per API, per
region and per sub-account (SecretId), not per SDKAppID (cloud.tencent.com/document/product/1278/109059).

Usage APIs. Sources: API pages 647/54140 (DescribeMixTranscodingUsage), 647/54138 (DescribeRelayUsage),
647/54327 and cloud.tencent.com/document/api/647/89181 (DescribeTrtcRoomUsage), shared reference
trtc-api-tables.md (DescribeTrtcUsage, DescribeRecordingUsage). Decisions where they are silent:
* "at most 31 days per query" is read as at most 31 calendar dates, StartTime..EndTime inclusive
  (the examples query 2022-01-01..2022-01-02 as "1 to 2 January"); the stricter reading is safe
  under both. Dates are Beijing dates: TimeKey "2024-11-25 10:30:20" pairs with TimeStampKey
  1732501820 = 02:30:20 UTC, i.e. TimeKey is UTC+8.
* Regions: mainland pages list ap-guangzhou only, intl pages add ap-singapore for relay and room.
* DescribeTrtcRoomUsage: one call per 15 s, at most 24 h per query (we ask D 00:00..D 23:59),
  earliest data 2023-04-01, the last 3 months (92 days kept as the history cap). Its error list is
  FailedOperation.SdkAppIdNotExist, InternalError.DBError, InvalidParameter: a too-long range
  answers plain ``InvalidParameter`` (UNCONFIRMED which one real TRTC sends).
"""

from __future__ import annotations

from airflow_provider_rtc.catalog import Api, RateKey, tencent_api

VERSION = "2019-07-22"
_PER: tuple[RateKey, ...] = ("secret_id", "region")
ROOM_REGIONS = frozenset({"ap-beijing", "ap-guangzhou", "ap-mumbai", "ap-singapore"})
RECORDING_REGIONS = ROOM_REGIONS | {"ap-shanghai"}
#: StartStreamIngest "only supports: ap-bangkok, ap-guangzhou, ap-jakarta, ap-mumbai, ap-singapore,
#: ap-tokyo" (tencentcloud.com/document/api/647/57835, updated 2025-11-13). The StopStreamIngest page
#: (647/57834, updated 2025-03-11) still lists the first four without guangzhou and tokyo. Decision:
#: StopStreamIngest takes the Start page's six. A task started in guangzhou or tokyo must be
#: stoppable there; the older page predates those regions rather than excluding them, and a region
#: where Stop really were missing answers UnsupportedRegion, which fails loudly anyway. Regions outside
#: the six stay refused by the sandbox (UnsupportedRegion), the vendor's answer for them.
INGEST_REGIONS = frozenset(
    {"ap-bangkok", "ap-guangzhou", "ap-jakarta", "ap-mumbai", "ap-singapore", "ap-tokyo"}
)
#: StartPublishCdnStream/UpdatePublishCdnStream/StopPublishCdnStream, as the international page lists them
CDN_REGIONS = frozenset({"ap-guangzhou", "ap-hongkong", "ap-singapore"})

_ROOM_GONE = frozenset({"FailedOperation.RoomNotExist"})
# ``FailedOperation.UserNotExist`` is in no official list for RemoveUser (only SetUserBlocked on the
# international site); kept because treating it as "gone" is harmless for a kick.
_USER_GONE = _ROOM_GONE | {"FailedOperation.UserNotExist"}
# The code an ended recording task answers: UNCONFIRMED (no real call made; vendor-review-2 §5.1).
# Both Go SDKs (tencentcloud-sdk-go @144f6c8 and -intl-en, 2026-08, ``trtc/v20190722/client.go``)
# list for DescribeCloudRecording, ModifyCloudRecording and DeleteCloudRecording: ``ResourceNotFound``,
# ``InternalError.CRInternalError``, and for Describe/Modify also plain ``FailedOperation``;
# ``TaskNotExist``/``TaskFinished`` for none of them. The docs say only "仅在录制任务进行时有效,
# 录制退出后查询将会返回错误" / "如果录制任务已经结束会返回错误", naming no code. Decisions:
# * ``ResourceNotFound`` means gone (the only not-found code listed; the sandbox answers it). After
#   the task's ResourceExpiredHour (default 72 h) the same code comes while the recording may still
#   run: DeleteCloudRecordingOperator reports that as ``expired_task`` when told the start time.
# * Plain ``FailedOperation`` stays FAILED (not gone, not retried). It is the generic "操作失败";
#   reading it as "ended" could report a still-running recording as stopped, which the provider
#   never does; a human looking at one failed task is the cheaper mistake. If a real account shows
#   that ended tasks answer it, add it here for Describe only, with the request id as the source.
# * ``InternalError.CRInternalError`` stays TRANSIENT (cloud-wide InternalError rule): retried.
# * ``FailedOperation.TaskNotExist``/``TaskFinished`` stay tolerated as gone: harmless if never sent.
_TASK_GONE = frozenset({"ResourceNotFound", "FailedOperation.TaskNotExist", "FailedOperation.TaskFinished"})


def _trtc(action: str, qps: float = 20.0, **kw: object) -> Api:
    return tencent_api("trtc", VERSION, action, qps, _PER, **kw)


DISMISS_ROOM = _trtc("DismissRoom", gone=_ROOM_GONE, destructive=True, regions=ROOM_REGIONS)
DISMISS_ROOM_BY_STR_ROOM_ID = _trtc(
    "DismissRoomByStrRoomId", gone=_ROOM_GONE, destructive=True, regions=ROOM_REGIONS
)
# "UserIds: List of up to 10 users to be removed" (RemoveUser, RemoveUserByStrRoomId API pages;
# shared reference trtc-api-tables.md)
REMOVE_USER = _trtc("RemoveUser", gone=_USER_GONE, destructive=True, regions=ROOM_REGIONS, batch=10)
REMOVE_USER_BY_STR_ROOM_ID = _trtc(
    "RemoveUserByStrRoomId", gone=_USER_GONE, destructive=True, regions=ROOM_REGIONS, batch=10
)
CREATE_CLOUD_RECORDING = _trtc("CreateCloudRecording", idempotent=False, regions=RECORDING_REGIONS)
# Monitoring data, used only when a user opts in to TRTC reconciliation (``trtc_monitoring``):
# "You can use this API to query historical data or for reconciliation purposes, but we do not
# recommend you use it for crucial business logic"; paid since 2024-04-01 (a package or the monitoring
# dashboard's paid editions); 14 days of history (7 on the smaller editions); 20 calls/s.
# DescribeRoomInfo: <= 24 h per query, <= 100 rooms per page; DescribeUserInfo (by the CommId
# DescribeRoomInfo gives): <= 4 h per query, <= 100 users per page (shared reference
# trtc-api-tables.md, tencentcloud-sdk-python-trtc models DescribeRoomInfoRequest/DescribeUserInfoRequest;
# intl regions ap-beijing, ap-guangzhou, ap-mumbai, ap-singapore, na-toronto: tencent-cloud-api.md).
MONITOR_REGIONS = ROOM_REGIONS | {"na-toronto"}
MONITOR_HISTORY_S = 14 * 86400
ROOM_INFO_MAX_S = 24 * 3600
USER_INFO_MAX_S = 4 * 3600
DESCRIBE_ROOM_INFO = _trtc("DescribeRoomInfo", regions=MONITOR_REGIONS)
DESCRIBE_USER_INFO = _trtc("DescribeUserInfo", regions=MONITOR_REGIONS)
DESCRIBE_CLOUD_RECORDING = _trtc("DescribeCloudRecording", gone=_TASK_GONE, regions=RECORDING_REGIONS)
DELETE_CLOUD_RECORDING = _trtc(
    "DeleteCloudRecording", gone=_TASK_GONE, destructive=True, regions=RECORDING_REGIONS
)
STOP_PUBLISH_CDN_STREAM = _trtc(
    "StopPublishCdnStream", gone=_TASK_GONE, destructive=True, regions=CDN_REGIONS
)
STOP_STREAM_INGEST = _trtc(
    "StopStreamIngest",
    gone=frozenset({"FailedOperation.TaskFinished", "FailedOperation.TaskNotExist"}),
    destructive=True,
    regions=INGEST_REGIONS,
)
# StopAITranscription ("停止AI转录任务"): its request is ``TaskId`` alone (no SdkAppId), the TaskId
# StartAITranscription returned. Source: tencentcloud-sdk-go @144f6c8 (release v1.3.166),
# ``tencentcloud/trtc/v20190722/client.go`` lists ``FailedOperation.TaskNotExist`` and
# ``InvalidParameter.TaskId`` as its only codes; ``models.go`` StopAITranscriptionRequestParams.
# Decisions (UNCONFIRMED, no real call made):
# * ``FailedOperation.TaskNotExist`` means gone: the only not-found code listed, the same code
#   StopStreamIngest uses for an ended task, and the goal of a stop (nothing transcribing) holds.
# * ``InvalidParameter.TaskId`` stays a failure: a malformed id is the caller's bug, not an end.
# * Rate: TRTC's documented 20 calls/s per API, SecretId and region (module docstring); no page
#   gives StopAITranscription its own. Regions: none documented, so none restricted.
STOP_AI_TRANSCRIPTION = _trtc(
    "StopAITranscription", gone=frozenset({"FailedOperation.TaskNotExist"}), destructive=True
)

# -- usage (reports) -------------------------------------------------------------------------------
# (sources and decisions: the module docstring, "Usage APIs")
USAGE_REGIONS = frozenset({"ap-guangzhou", "ap-singapore"})


def _usage(action: str, qps: float = 5.0, max_range_days: int = 31, **kw: object) -> Api:
    return _trtc(action, qps, regions=USAGE_REGIONS, max_range_days=max_range_days, **kw)


DESCRIBE_TRTC_USAGE = _usage("DescribeTrtcUsage")
DESCRIBE_RECORDING_USAGE = _usage("DescribeRecordingUsage")
DESCRIBE_MIX_TRANSCODING_USAGE = _usage("DescribeMixTranscodingUsage")
DESCRIBE_RELAY_USAGE = _usage("DescribeRelayUsage")
DESCRIBE_TRTC_ROOM_USAGE = _usage("DescribeTrtcRoomUsage", qps=1 / 15, max_range_days=1, history_days=92)
