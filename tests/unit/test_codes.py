"""The classification tables: which vendor code means throttled, transient, gone, auth or bad input."""

from __future__ import annotations

import pickle

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_rtc.catalog import Api
from airflow_provider_rtc.exceptions import (
    RtcApiError,
    RtcAuthError,
    RtcError,
    RtcInvalidInputError,
    RtcNotFoundError,
    RtcThrottledError,
    RtcTransientError,
    RtcValidationError,
)
from airflow_provider_rtc.protocol import tencent, zego
from airflow_provider_rtc.protocol.codes import Kind, classify_tencent, classify_zego
from airflow_provider_rtc.protocol.http import HttpReply
from airflow_provider_rtc.retry import RetryPolicy, should_retry

# --- Tencent ------------------------------------------------------------------------------------

TENCENT_NOT_FOUND = [
    ("DismissRoom", "FailedOperation.RoomNotExist"),
    ("DismissRoomByStrRoomId", "FailedOperation.RoomNotExist"),
    ("RemoveUser", "FailedOperation.RoomNotExist"),
    ("RemoveUserByStrRoomId", "FailedOperation.RoomNotExist"),
    ("DeleteCloudRecording", "ResourceNotFound"),
    ("DeleteCloudRecording", "FailedOperation.TaskNotExist"),
    ("DescribeCloudRecording", "ResourceNotFound"),
    ("StopPublishCdnStream", "FailedOperation.TaskNotExist"),
    ("StopStreamIngest", "FailedOperation.TaskNotExist"),
    ("CancelCommonMixStream", "FailedOperation.CancelSessionNotExist"),
    ("CancelCommonMixStream", "InvalidParameter.CancelSessionNotExist"),
    # VOD DeleteMedia: the Go SDK lists plain ResourceNotFound (vendor-review-2 finding 5)
    ("DeleteMedia", "ResourceNotFound"),
    ("DeleteMedia", "ResourceNotFound.FileNotExist"),
]


@pytest.mark.parametrize("action", ["DescribeCloudRecording", "DeleteCloudRecording"])
def test_trtc_recording_plain_failed_operation_is_not_taken_as_ended(action: str) -> None:
    """UNCONFIRMED which code an ended task answers (catalog/trtc.py): plain FailedOperation fails
    loudly rather than report a possibly running recording as ended; CRInternalError is retried."""
    assert classify_tencent(action, "FailedOperation") is Kind.FAILED
    assert classify_tencent(action, "InternalError.CRInternalError") is Kind.TRANSIENT


@pytest.mark.parametrize(("action", "code"), TENCENT_NOT_FOUND)
def test_tencent_not_found_per_action(action: str, code: str) -> None:
    assert classify_tencent(action, code) is Kind.NOT_FOUND


@pytest.mark.parametrize(
    ("action", "code"),
    [
        # a not-found code of one API means nothing special for another
        ("CreateCloudRecording", "ResourceNotFound"),
        ("CreateCommonMixStream", "FailedOperation.CancelSessionNotExist"),
        ("DropLiveStream", "FailedOperation.RoomNotExist"),
    ],
)
def test_tencent_not_found_is_per_api(action: str, code: str) -> None:
    assert classify_tencent(action, code) is not Kind.NOT_FOUND


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("RequestLimitExceeded", Kind.THROTTLED),
        ("RequestLimitExceeded.UinLimitExceeded", Kind.THROTTLED),
        ("RequestLimitExceeded.GlobalRegionUinLimitExceeded", Kind.THROTTLED),
        ("InternalError", Kind.TRANSIENT),
        ("InternalError.GetRoomCacheIpError", Kind.TRANSIENT),
        ("ServiceUnavailable", Kind.TRANSIENT),
        ("AuthFailure.SignatureFailure", Kind.AUTH),
        ("AuthFailure.SignatureExpire", Kind.AUTH),
        ("AuthFailure.SecretIdNotFound", Kind.AUTH),
        ("UnauthorizedOperation.SdkAppId", Kind.AUTH),
        ("IpNotInWhitelist", Kind.AUTH),
        ("ResourceNotFound.StopService", Kind.AUTH),
        ("ResourceNotFound.ForbidService", Kind.AUTH),
        ("ResourceNotFound.FreezeService", Kind.AUTH),
        ("ResourceNotFound.UserDisableService", Kind.AUTH),
        ("InvalidParameter.RoomId", Kind.INVALID_INPUT),
        ("InvalidParameterValue.RoomId", Kind.INVALID_INPUT),
        ("MissingParameter.SdkAppId", Kind.INVALID_INPUT),
        ("UnknownParameter", Kind.INVALID_INPUT),
        ("UnsupportedRegion", Kind.INVALID_INPUT),
        ("InvalidAction", Kind.INVALID_INPUT),
        ("FailedOperation", Kind.FAILED),
        ("LimitExceeded", Kind.FAILED),
        ("", Kind.FAILED),
        # prefix matching is by dotted segment, not by string prefix
        ("RequestLimitExceededX", Kind.FAILED),
        ("AuthFailureX", Kind.FAILED),
    ],
)
def test_tencent_generic_codes(code: str, kind: Kind) -> None:
    assert classify_tencent("DismissRoom", code) is kind


@pytest.mark.parametrize("action", ["CancelCommonMixStream", "DropLiveStream", "DeleteCloudRecording"])
def test_account_suspension_is_never_not_found(action: str) -> None:
    # "ResourceNotFound.StopService": the account is stopped, not the target gone
    assert classify_tencent(action, "ResourceNotFound.StopService") is Kind.AUTH


def test_tencent_error_reply_becomes_the_classified_exception() -> None:
    body = (
        b'{"Response":{"Error":{"Code":"FailedOperation.RoomNotExist","Message":"room gone"},'
        b'"RequestId":"r-1"}}'
    )
    with pytest.raises(RtcNotFoundError) as info:
        tencent.parse_reply(HttpReply(200, "application/json", body), action="DismissRoom")
    err = info.value
    assert (err.code, err.request_id, err.action, err.http_status) == (
        "FailedOperation.RoomNotExist",
        "r-1",
        "DismissRoom",
        200,
    )
    assert "room gone" in str(err) and "r-1" in str(err)


def test_tencent_live_stop_service_is_an_auth_error() -> None:
    body = b'{"Response":{"Error":{"Code":"ResourceNotFound.StopService","Message":"x"},"RequestId":"r"}}'
    with pytest.raises(RtcAuthError) as info:
        tencent.parse_reply(HttpReply(200, "application/json", body), action="CancelCommonMixStream")
    assert isinstance(info.value, AirflowFailException)
    assert not isinstance(info.value, RtcNotFoundError)


@pytest.mark.parametrize(
    ("status", "ctype", "body", "error"),
    [
        (502, "text/html", b"<html>bad gateway</html>", RtcTransientError),
        (200, "application/json", b"", RtcTransientError),
        (200, "application/json", b"[]", RtcTransientError),
        (200, "application/json", b'{"Response": 1}', RtcTransientError),
        (429, "text/plain", b"slow down", RtcThrottledError),
        (500, "application/json", b'{"Response":{"RequestId":"x"}}', RtcTransientError),
    ],
)
def test_tencent_unreadable_replies_are_transient_and_never_echoed(status, ctype, body, error) -> None:
    with pytest.raises(error) as info:
        tencent.parse_reply(HttpReply(status, ctype, body), action="DismissRoom")
    text = str(info.value)
    assert f"HTTP {status}" in text
    if body:
        assert body.decode() not in text


# --- ZEGO ---------------------------------------------------------------------------------------

ZEGO_NOT_FOUND = [
    *[
        (action, code)
        for action in ("DeleteStream", "CloseRoom", "KickoutUser")
        for code in (104, 5024, 50001)
    ],
    ("StopMix", 110209001),
    ("GetMixTaskInfo", 110209001),
    ("StopRecord", 300001000),
    ("StopRecord", 300001001),
    ("DescribeRecordStatus", 300001000),
]


@pytest.mark.parametrize(("action", "code"), ZEGO_NOT_FOUND)
def test_zego_not_found_per_action(action: str, code: int) -> None:
    assert classify_zego(action, code) is Kind.NOT_FOUND


@pytest.mark.parametrize(
    ("action", "code", "kind"),
    [
        ("DeleteStream", 206, Kind.THROTTLED),
        ("CloseRoom", 207, Kind.THROTTLED),
        ("StopMix", 110200194, Kind.THROTTLED),
        ("StopMix", 110200191, Kind.THROTTLED),
        ("StopRecord", 300000003, Kind.THROTTLED),
        ("StartRecord", 300000003, Kind.THROTTLED),
        ("DeleteStream", 1, Kind.TRANSIENT),
        ("StopMix", 110200001, Kind.TRANSIENT),
        ("StopRecord", 300010000, Kind.TRANSIENT),
        ("CloseRoom", 100000015, Kind.TRANSIENT),
        ("CloseRoom", 100000005, Kind.AUTH),
        ("StopRecord", 100000005, Kind.AUTH),
        ("StopMix", 100000004, Kind.AUTH),
        ("StopMix", 110200003, Kind.AUTH),
        ("StopRecord", 300000002, Kind.AUTH),
        ("StopMix", 110200002, Kind.INVALID_INPUT),
        ("StopMix", 110200160, Kind.INVALID_INPUT),
        ("StopRecord", 300000004, Kind.INVALID_INPUT),
        ("DeleteStream", 2, Kind.INVALID_INPUT),
        ("CloseRoom", 100000001, Kind.INVALID_INPUT),
        # the same small number means different things per family
        ("StopMix", 104, Kind.FAILED),
        ("StartRecord", 300001000, Kind.FAILED),
        ("CloseRoom", 110209001, Kind.FAILED),
    ],
)
def test_zego_codes(action: str, code: int, kind: Kind) -> None:
    assert classify_zego(action, code) is kind


def test_zego_reply_parsing() -> None:
    ok = zego.parse_reply(
        HttpReply(200, "application/json", b'{"Code":0,"Message":"success","RequestId":"z1","Data":{"a":1}}'),
        action="GetMixTaskInfo",
    )
    assert ok["Data"] == {"a": 1}
    with pytest.raises(RtcNotFoundError) as info:
        zego.parse_reply(
            HttpReply(200, "application/json", b'{"Code":"110209001","Message":"no task","RequestId":"z2"}'),
            action="StopMix",
        )
    assert (info.value.code, info.value.request_id) == (110209001, "z2")
    for bad in (b"", b"<html/>", b'{"Message":"x"}', b'{"Code":"abc"}'):
        with pytest.raises(RtcTransientError):
            zego.parse_reply(HttpReply(502, "text/html", bad), action="StopMix")


# --- exceptions and retry decisions ---------------------------------------------------------------


def test_auth_and_invalid_input_do_not_burn_airflow_retries() -> None:
    for cls in (RtcAuthError, RtcInvalidInputError, RtcValidationError):
        assert issubclass(cls, AirflowFailException)
        assert issubclass(cls, RtcError)
    for cls in (RtcThrottledError, RtcTransientError, RtcNotFoundError, RtcApiError):
        assert not issubclass(cls, AirflowFailException)
    assert issubclass(RtcValidationError, ValueError)


def test_errors_pickle_with_their_fields() -> None:
    err = RtcNotFoundError(
        "gone", cloud="c", action="DismissRoom", code="X", request_id="rid", http_status=200
    )
    err.attempts = 2
    err.after_lost_response = True
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is RtcNotFoundError
    assert (clone.code, clone.request_id, clone.attempts, clone.after_lost_response) == ("X", "rid", 2, True)
    assert str(clone) == str(err)
    verr = pickle.loads(pickle.dumps(RtcValidationError("room_id", "must be > 0", 0)))
    assert (verr.param, verr.rule) == ("room_id", "must be > 0")


@pytest.mark.parametrize(
    ("error", "idempotent", "retry"),
    [
        (RtcThrottledError("t", maybe_executed=False), False, True),
        (RtcThrottledError("t", maybe_executed=False), True, True),
        (RtcTransientError("t", maybe_executed=True), True, True),
        (RtcTransientError("t", maybe_executed=True), False, False),
        (RtcTransientError("t", maybe_executed=False), False, True),  # never reached the server
        (RtcAuthError("a", maybe_executed=False), True, False),
        (RtcInvalidInputError("i", maybe_executed=False), True, False),
        (RtcNotFoundError("n"), True, False),
        (RtcApiError("f"), True, False),
    ],
)
def test_should_retry(error: RtcError, idempotent: bool, retry: bool) -> None:
    assert should_retry(error, idempotent=idempotent) is retry


def test_retry_policy_bounds() -> None:
    policy = RetryPolicy(max_attempts=5, initial_delay=1, max_delay=4, total_timeout=60)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 4), (9, 4)]:
        for _ in range(50):
            assert ceiling / 2 <= policy.delay(attempt) <= ceiling
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(total_timeout=0)


# --- corrections from the review against the vendors' own sources (vendor-review.md) -----------------


@pytest.mark.parametrize(
    ("action", "code", "kind"),
    [
        # Live: "no permission" is an authorisation problem; missing config / bizid cannot heal by retrying
        ("DescribeLiveStreamState", "InternalError.NotPermmitOperat", Kind.AUTH),
        ("DropLiveStream", "InternalError.ConfigNotExist", Kind.FAILED),
        ("DropLiveStream", "InternalError.GetBizidError", Kind.FAILED),
        ("DropLiveStream", "InternalError.CallOtherSvrError", Kind.TRANSIENT),  # the rest stay transient
        # the account is not registered for Live: an account error, never "already gone"
        ("CancelCommonMixStream", "ResourceNotFound.UserNotExist", Kind.AUTH),
        ("DropLiveStream", "ResourceNotFound.UserNotExist", Kind.AUTH),
        # CancelCommonMixStream only: failures to reach another service are passing
        ("CancelCommonMixStream", "FailedOperation.CallOtherSvrError", Kind.TRANSIENT),
        ("CancelCommonMixStream", "FailedOperation.Failed", Kind.TRANSIENT),
        ("CreateCommonMixStream", "FailedOperation.CallOtherSvrError", Kind.FAILED),
        # throttles outside RequestLimitExceeded*
        ("DismissRoom", "FailedOperation.RestrictedFrequency", Kind.THROTTLED),
        ("DeleteCloudRecording", "OperationDenied.FreqOverLimit", Kind.THROTTLED),
        ("DropLiveStream", "LimitExceeded.RateLimitExceeded", Kind.THROTTLED),
        # FailedOperation.UserNotExist is in no official list for RemoveUser; kept harmless as "gone"
        ("RemoveUser", "FailedOperation.UserNotExist", Kind.NOT_FOUND),
    ],
)
def test_tencent_vendor_corrections(action: str, code: str, kind: Kind) -> None:
    assert classify_tencent(action, code) is kind


def test_cancel_mix_transient_codes_are_retried() -> None:
    body = b'{"Response": {"Error": {"Code": "FailedOperation.CallOtherSvrError", "Message": "x"}}}'
    with pytest.raises(RtcTransientError) as caught:
        tencent.parse_reply(HttpReply(200, "application/json", body), action="CancelCommonMixStream")
    assert should_retry(caught.value, idempotent=True)


MEDIA = Api(cloud="zego", product="rtc", action="ForbidRTCStream", family="media")


@pytest.mark.parametrize(
    ("action", "code", "kind", "api"),
    [
        # the current CloseRoom page: 5018 = "room already destroyed or does not exist"
        ("CloseRoom", 5018, Kind.NOT_FOUND, None),
        ("DeleteStream", 5018, Kind.TRANSIENT, None),  # other room APIs keep the older meaning
        # room code 7 is not a throttle in the current tables
        ("CloseRoom", 7, Kind.FAILED, None),
        # mixing: 110200012/110200013 say "retry"
        ("StopMix", 110200012, Kind.TRANSIENT, None),
        ("StartMix", 110200013, Kind.TRANSIENT, None),
        # media: 42002-42004 say "retry"
        *[("ForbidRTCStream", code, Kind.TRANSIENT, MEDIA) for code in (42001, 42002, 42003, 42004)],
        ("ForbidRTCStream", 42005, Kind.FAILED, MEDIA),
    ],
)
def test_zego_vendor_corrections(action: str, code: int, kind: Kind, api: Api | None) -> None:
    assert classify_zego(action, code, api) is kind
