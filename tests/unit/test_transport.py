"""Retries at the HTTP level: what is retried, how often, re-signed how, and what never is."""

from __future__ import annotations

import itertools
import logging
import time
import types
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_rtc import retry as retry_module
from airflow_provider_rtc.exceptions import (
    RtcAuthError,
    RtcInvalidInputError,
    RtcThrottledError,
    RtcTransientError,
)
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook, ZegoRtcHook
from airflow_provider_rtc.signing import tc3
from airflow_provider_rtc.signing import zego as zego_signing
from tests.support.wire import (
    Seen,
    assert_tencent_call,
    assert_zego_signed,
    html_502,
    serve,
    tc_err,
    tc_ok,
    tencent_conn_json,
    zego_conn_json,
    zego_err,
    zego_ok,
)

DISMISS = {"SdkAppId": 1400000001, "RoomId": 1234}


def _dismiss_ok(seen: Seen) -> None:
    assert_tencent_call(seen, action="DismissRoom", version="2019-07-22", service="trtc", body=DISMISS)


def _create_recording(hook: TrtcHook) -> dict[str, Any]:
    return hook.create_cloud_recording(
        1234, "recorder_1234", "user-sig", {"RecordMode": 2}, {"CloudVod": {"TencentVod": {}}}
    )


@pytest.fixture
def moving_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each signature sees a later second, as a retry after a back-off would."""
    seconds = itertools.count(int(time.time()))
    fake = types.SimpleNamespace(time=lambda: next(seconds), gmtime=time.gmtime, strftime=time.strftime)
    monkeypatch.setattr(tc3, "time", fake)
    monkeypatch.setattr(zego_signing, "time", fake)


# --- throttles are retried, each attempt freshly signed -------------------------------------------


def test_tencent_throttle_then_success_resigns_each_attempt(httpserver, tencent_conn, moving_clock) -> None:
    script = serve(httpserver, tc_err("RequestLimitExceeded"), tc_ok("rid-after-throttle"))
    result = TrtcHook().dismiss_room(1234)
    assert result["RequestId"] == "rid-after-throttle"
    assert len(script.seen) == 2
    for seen in script.seen:
        _dismiss_ok(seen)
    first, second = script.seen
    assert int(second.headers["x-tc-timestamp"]) > int(first.headers["x-tc-timestamp"])
    assert first.headers["authorization"] != second.headers["authorization"]


def test_tencent_throttle_without_clock_change_still_signs_per_attempt(
    httpserver, tencent_conn, monkeypatch
) -> None:
    builds = []
    original = tc3.build_headers

    def spy(**kwargs: Any) -> dict[str, str]:
        builds.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(tc3, "build_headers", spy)
    script = serve(
        httpserver, tc_err("RequestLimitExceeded.UinLimitExceeded"), tc_err("RequestLimitExceeded"), tc_ok()
    )
    TrtcHook().dismiss_room(1234)
    assert len(script.seen) == 3
    assert len(builds) == 3


@pytest.mark.parametrize(
    ("action", "code", "call"),
    [
        ("DeleteStream", 206, lambda: ZegoRtcHook().delete_stream("room1", "admin", "stream_1")),
        ("StopMix", 110200194, lambda: ZegoRtcHook().stop_mix("mix-1")),
        ("StopRecord", 300000003, lambda: ZegoCloudRecordHook().stop_record("rec-1")),
    ],
)
def test_zego_throttle_then_success(httpserver, zego_conn, moving_clock, action, code, call) -> None:
    script = serve(httpserver, zego_err(code), zego_ok(request_id="z-after"))
    assert call()["RequestId"] == "z-after"
    assert len(script.seen) == 2
    for seen in script.seen:
        assert_zego_signed(seen, action=action)
    nonces = {s.q("SignatureNonce") for s in script.seen}
    assert len(nonces) == 2
    assert script.seen[0].q("Timestamp") != script.seen[1].q("Timestamp")


# --- unreadable answers -----------------------------------------------------------------------


def test_http_502_html_then_success_is_retried_without_echoing_the_page(
    httpserver, tencent_conn, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    script = serve(httpserver, html_502(), tc_ok())
    assert TrtcHook().dismiss_room(1234)["RequestId"] == "rid-ok-0001"
    assert len(script.seen) == 2
    warnings = [r.getMessage() for r in caplog.records if r.name == "airflow_provider_rtc.transport"]
    assert any("unreadable response: HTTP 502, text/html" in w for w in warnings), warnings
    assert "SECRET-LOOKING-PROXY-PAGE" not in caplog.text
    assert "<html>" not in caplog.text


def test_http_502_for_zego_then_success(httpserver, zego_conn) -> None:
    script = serve(httpserver, html_502(), zego_ok())
    ZegoRtcHook().close_room("room1")
    assert len(script.seen) == 2


def test_http_502_persisting_fails_with_a_clear_transient_error(httpserver, tencent_conn) -> None:
    script = serve(httpserver, *[html_502()] * 3)
    with pytest.raises(RtcTransientError) as info:
        TrtcHook(retry_limit=3).dismiss_room(1234)
    assert len(script.seen) == 3
    text = str(info.value)
    assert "unreadable response: HTTP 502, text/html" in text
    assert "after 3 attempts" in text
    assert "nginx" not in text and "<html>" not in text
    assert info.value.attempts == 3


def test_http_502_is_not_retried_for_a_creation(httpserver, tencent_conn) -> None:
    script = serve(httpserver, html_502(), tc_ok(TaskId="task-1"))
    with pytest.raises(RtcTransientError) as info:
        _create_recording(TrtcHook())
    assert len(script.seen) == 1
    assert info.value.maybe_executed is True


# --- dropped connections and read timeouts (raw sockets) --------------------------------------------


def test_dropped_connection_is_retried_for_an_idempotent_call(raw_server, set_connection) -> None:
    server = raw_server("drop", tc_ok("rid-second"))
    set_connection("tencentcloud_default", tencent_conn_json(server.url))
    assert TrtcHook().dismiss_room(1234)["RequestId"] == "rid-second"
    assert len(server.requests) == 2
    for request in server.requests:
        _dismiss_ok(Seen.from_raw(request))


def test_dropped_connection_is_retried_for_zego(raw_server, set_connection) -> None:
    server = raw_server("drop", zego_ok())
    set_connection("zegocloud_default", zego_conn_json(server.url))
    ZegoRtcHook().close_room("room1")
    assert len(server.requests) == 2
    nonces = set()
    for request in server.requests:
        seen = Seen.from_raw(request)
        assert_zego_signed(seen, action="CloseRoom")
        nonces.add(seen.q("SignatureNonce"))
    assert len(nonces) == 2


def test_dropped_connection_is_not_retried_for_a_creation(raw_server, set_connection) -> None:
    server = raw_server("drop", tc_ok(TaskId="task-1"))
    set_connection("tencentcloud_default", tencent_conn_json(server.url))
    with pytest.raises(RtcTransientError) as info:
        _create_recording(TrtcHook())
    assert len(server.requests) == 1
    assert info.value.maybe_executed is True
    assert "connection failed" in str(info.value)


def test_read_timeout_is_retried_for_an_idempotent_call(raw_server, set_connection) -> None:
    server = raw_server("hang", tc_ok("rid-second"))
    set_connection("tencentcloud_default", tencent_conn_json(server.url))
    assert TrtcHook(timeout=(1, 0.3)).dismiss_room(1234)["RequestId"] == "rid-second"
    assert len(server.requests) == 2


def test_read_timeout_is_not_retried_for_create_cloud_recording(raw_server, set_connection) -> None:
    server = raw_server("hang", tc_ok(TaskId="task-1"))
    set_connection("tencentcloud_default", tencent_conn_json(server.url))
    with pytest.raises(RtcTransientError) as info:
        _create_recording(TrtcHook(timeout=(1, 0.3)))
    assert len(server.requests) == 1
    assert info.value.maybe_executed is True
    assert "no response in time" in str(info.value)
    assert info.value.attempts == 1


def test_read_timeout_is_not_retried_for_zego_start_record(raw_server, set_connection) -> None:
    server = raw_server("hang", zego_ok({"TaskId": "rec-1"}))
    set_connection("zegocloud_default", zego_conn_json(server.url))
    with pytest.raises(RtcTransientError) as info:
        ZegoCloudRecordHook(timeout=(1, 0.3)).start_record("room1", {"RecordMode": 1})
    assert len(server.requests) == 1
    assert info.value.maybe_executed is True
    request = Seen.from_raw(server.requests[0])
    assert request.method == "POST"
    assert_zego_signed(request, action="StartRecord")


def test_throttle_is_retried_for_create_cloud_recording(httpserver, tencent_conn) -> None:
    script = serve(httpserver, tc_err("RequestLimitExceeded"), tc_ok(TaskId="task-1"))
    assert _create_recording(TrtcHook())["TaskId"] == "task-1"
    assert len(script.seen) == 2
    for seen in script.seen:
        assert seen.headers["x-tc-action"] == "CreateCloudRecording"
        assert seen.json["RoomId"] == "1234"
        assert seen.json["RoomIdType"] == 1


def test_throttle_is_retried_for_zego_start_record(httpserver, zego_conn) -> None:
    script = serve(httpserver, zego_err(300000003), zego_ok({"TaskId": "rec-1"}))
    result = ZegoCloudRecordHook().start_record("room1", {"RecordMode": 1})
    assert result["Data"] == {"TaskId": "rec-1"}
    assert len(script.seen) == 2


def test_refused_connection_is_retried_even_for_a_creation(set_connection, raw_server) -> None:
    server = raw_server()
    url = server.url
    server.close()  # nothing listens on that port any more
    set_connection("tencentcloud_default", tencent_conn_json(url, retry_limit=2))
    with pytest.raises(RtcTransientError) as info:
        _create_recording(TrtcHook())
    assert info.value.attempts == 2
    assert info.value.maybe_executed is False
    assert "could not connect" in str(info.value)


# --- bounds ---------------------------------------------------------------------------------------


def test_throttles_do_not_use_up_the_retry_limit(httpserver, set_connection) -> None:
    set_connection(
        "tencentcloud_default", tencent_conn_json(httpserver.url_for("").rstrip("/"), retry_limit=2)
    )
    script = serve(httpserver, *[tc_err("RequestLimitExceeded")] * 4, tc_ok("rid-5"))
    assert TrtcHook().dismiss_room(1234)["RequestId"] == "rid-5"
    assert len(script.seen) == 5


def test_faults_bounded_by_retry_limit_and_reraised_with_attempts(httpserver, set_connection) -> None:
    set_connection(
        "tencentcloud_default", tencent_conn_json(httpserver.url_for("").rstrip("/"), retry_limit=3)
    )
    script = serve(httpserver, tc_err("RequestLimitExceeded"), *[html_502()] * 5)
    with pytest.raises(RtcTransientError) as info:
        TrtcHook().dismiss_room(1234)
    assert len(script.seen) == 4  # the throttle did not count
    assert info.value.attempts == 4
    assert str(info.value).endswith("after 4 attempts")


def test_zego_throttles_bounded_by_the_throttle_budget(httpserver, set_connection) -> None:
    url = httpserver.url_for("").rstrip("/")
    set_connection("zegocloud_default", zego_conn_json(url, throttle_budget=0))
    script = serve(httpserver, *[zego_err(206)] * 5)
    with pytest.raises(RtcThrottledError) as info:
        ZegoRtcHook(retry_limit=5).delete_stream("room1", "admin", "s1")
    assert len(script.seen) == 1
    assert info.value.attempts == 1 and info.value.code == 206


def test_faults_bounded_by_total_time(httpserver, tencent_conn, monkeypatch, manual_clock) -> None:
    clock = manual_clock
    monkeypatch.setattr(retry_module, "random", types.SimpleNamespace(uniform=lambda a, b: b))
    script = serve(httpserver, *[tc_err("InternalError")] * 10)
    hook = TrtcHook(retry_limit=10, retry_delay=1, retry_max_delay=8, retry_total_timeout=5)
    with pytest.raises(RtcTransientError) as info:
        hook.dismiss_room(1234)
    # waits 1 s and 2 s; a third wait of 4 s would end past the 5 s budget, so it gives up
    assert clock.sleeps == [1.0, 2.0]
    assert len(script.seen) == 3
    assert info.value.attempts == 3


def test_throttles_retried_until_the_throttle_budget_with_decorrelated_jitter(
    httpserver, tencent_conn, monkeypatch, manual_clock
) -> None:
    clock = manual_clock
    monkeypatch.setattr(retry_module, "random", types.SimpleNamespace(uniform=lambda a, b: b))
    script = serve(httpserver, *[tc_err("RequestLimitExceeded")] * 10)
    hook = TrtcHook(
        retry_limit=2, retry_delay=1, retry_max_delay=8, retry_total_timeout=5, throttle_budget=20
    )
    with pytest.raises(RtcThrottledError) as info:
        hook.dismiss_room(1234)
    # next = uniform(base, 3 x previous), capped: 1, 3, 8, 8 (20 s); another 8 s would pass the budget.
    # Neither retry_limit (2) nor retry_total_timeout (5 s) stopped it: throttles are not faults.
    assert clock.sleeps == [1.0, 3.0, 8.0, 8.0]
    assert len(script.seen) == 5
    assert info.value.attempts == 5


def test_limiter_waits_spend_no_budget(manual_clock) -> None:
    clock = manual_clock
    policy = retry_module.RetryPolicy(max_attempts=3, total_timeout=5, throttle_budget=10)
    budget = retry_module.RetryClock(policy)
    throttle = RtcThrottledError(
        "slow", cloud="Tencent Cloud", action="DismissRoom", code="RequestLimitExceeded"
    )
    fault = RtcTransientError("502", cloud="Tencent Cloud", action="DismissRoom")
    clock.sleep(3600)  # an hour in the limiter's queue (ZEGO CloseRoom at 1/s behind 3,600 callers)
    budget.paced += 3600
    assert budget.next_delay(throttle, idempotent=True) is not None
    assert budget.next_delay(fault, idempotent=True) is not None
    clock.sleep(11)  # the throttle budget is spent by time that is not limiter waiting
    assert budget.next_delay(throttle, idempotent=True) is None


def test_decorrelated_jitter_stays_between_base_and_cap() -> None:
    policy = retry_module.RetryPolicy(initial_delay=0.5, max_delay=8)
    previous = 0.0
    seen = []
    for _ in range(200):
        previous = policy.throttle_delay(previous)
        seen.append(previous)
    assert all(0.5 <= d <= 8 for d in seen)
    assert len({round(d, 3) for d in seen}) > 50  # spread, so throttled workers do not return together


def test_backoff_is_exponential_and_capped(httpserver, tencent_conn, monkeypatch, manual_clock) -> None:
    clock = manual_clock
    monkeypatch.setattr(retry_module, "random", types.SimpleNamespace(uniform=lambda a, b: b))
    script = serve(httpserver, *[tc_err("InternalError")] * 5, tc_ok())
    hook = TrtcHook(retry_limit=6, retry_delay=0.5, retry_max_delay=2, retry_total_timeout=600)
    hook.dismiss_room(1234)
    assert clock.sleeps == [0.5, 1.0, 2.0, 2.0, 2.0]
    assert len(script.seen) == 6


# --- never retried ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "error"),
    [("AuthFailure.SignatureFailure", RtcAuthError), ("InvalidParameter.RoomId", RtcInvalidInputError)],
)
def test_tencent_auth_and_invalid_input_fail_after_one_request(httpserver, tencent_conn, code, error) -> None:
    script = serve(httpserver, tc_err(code), tc_ok())
    with pytest.raises(error) as info:
        TrtcHook().dismiss_room(1234)
    assert len(script.seen) == 1
    assert isinstance(info.value, AirflowFailException)
    assert info.value.attempts == 1
    assert info.value.code == code
    assert info.value.request_id == "rid-err-0001"


@pytest.mark.parametrize(
    ("code", "error", "call"),
    [
        (100000005, RtcAuthError, lambda: ZegoRtcHook().close_room("room1")),
        (100000005, RtcAuthError, lambda: ZegoCloudRecordHook().stop_record("rec-1")),
        (110200002, RtcInvalidInputError, lambda: ZegoRtcHook().stop_mix("mix-1")),
    ],
)
def test_zego_auth_and_invalid_input_fail_after_one_request(httpserver, zego_conn, code, error, call) -> None:
    script = serve(httpserver, zego_err(code), zego_ok())
    with pytest.raises(error) as info:
        call()
    assert len(script.seen) == 1
    assert isinstance(info.value, AirflowFailException)
    assert info.value.code == code


def test_internal_error_is_retried_for_an_idempotent_call(httpserver, tencent_conn) -> None:
    script = serve(httpserver, tc_err("InternalError"), tc_ok())
    TrtcHook().dismiss_room(1234)
    assert len(script.seen) == 2


def test_internal_error_is_not_retried_for_a_creation(httpserver, tencent_conn) -> None:
    script = serve(httpserver, tc_err("InternalError"), tc_ok(TaskId="t"))
    with pytest.raises(RtcTransientError) as info:
        _create_recording(TrtcHook())
    assert len(script.seen) == 1
    assert info.value.code == "InternalError"


def test_zego_transient_not_retried_for_start_record(httpserver, zego_conn) -> None:
    script = serve(httpserver, zego_err(300010000), zego_ok({"TaskId": "r"}))
    with pytest.raises(RtcTransientError):
        ZegoCloudRecordHook().start_record("room1", {"RecordMode": 1})
    assert len(script.seen) == 1


def test_business_failure_is_not_retried(httpserver, tencent_conn) -> None:
    script = serve(httpserver, tc_err("FailedOperation"), tc_ok())
    with pytest.raises(Exception) as info:
        TrtcHook().dismiss_room(1234)
    assert type(info.value).__name__ == "RtcApiError"
    assert len(script.seen) == 1


# --- the async transport classifies the same way ---------------------------------------------------


async def test_async_dropped_connection_is_retried(raw_server, set_connection) -> None:
    server = raw_server("drop", zego_ok({"Status": 2}))
    set_connection("zegocloud_default", zego_conn_json(server.url))
    result = await ZegoCloudRecordHook().adescribe_record_status("rec-1")
    assert result["Data"] == {"Status": 2}
    assert len(server.requests) == 2
    for request in server.requests:
        assert_zego_signed(Seen.from_raw(request), action="DescribeRecordStatus")


async def test_async_read_timeout_is_retried(raw_server, set_connection) -> None:
    server = raw_server("hang", tc_ok(Status="Idle"))
    set_connection("tencentcloud_default", tencent_conn_json(server.url))
    result = await TrtcHook(timeout=(1, 0.3)).adescribe_cloud_recording("task-1")
    assert result["Status"] == "Idle"
    assert len(server.requests) == 2


async def test_async_read_timeout_bounded_and_named(raw_server, set_connection) -> None:
    server = raw_server("hang", "hang")
    set_connection("zegocloud_default", zego_conn_json(server.url))
    with pytest.raises(RtcTransientError) as info:
        await ZegoRtcHook(timeout=(1, 0.2), retry_limit=2).aget_mix_task_info("mix-1")
    assert len(server.requests) == 2
    assert info.value.attempts == 2
    assert "no response in time" in str(info.value)


async def test_async_502_html_then_success(httpserver, tencent_conn) -> None:
    script = serve(httpserver, html_502(), tc_ok(Status="Idle"))
    assert (await TrtcHook().adescribe_cloud_recording("task-1"))["Status"] == "Idle"
    assert len(script.seen) == 2


async def test_async_auth_failure_is_not_retried(httpserver, zego_conn) -> None:
    script = serve(httpserver, zego_err(100000005), zego_ok())
    with pytest.raises(RtcAuthError):
        await ZegoCloudRecordHook().adescribe_record_status("rec-1")
    assert len(script.seen) == 1


async def test_async_refused_connection(set_connection, raw_server) -> None:
    server = raw_server()
    url = server.url
    server.close()
    set_connection("tencentcloud_default", tencent_conn_json(url, retry_limit=2))
    with pytest.raises(RtcTransientError) as info:
        await TrtcHook().adescribe_cloud_recording("task-1")
    assert info.value.attempts == 2
    assert info.value.maybe_executed is False
