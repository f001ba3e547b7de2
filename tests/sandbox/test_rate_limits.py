"""Documented per-action, per-app QPS: the throttle code appears above the rate and never below it."""

from __future__ import annotations

import time

import pytest
import requests

from airflow_provider_rtc.sandbox.ratelimit import DEFAULT_QPS, RateLimiter

from .conftest import TencentCaller, ZegoCaller, code_of


def _limits_on(sb):
    """Switching limits on (again) also refills every bucket."""
    assert requests.put(sb.url + "/_sandbox/limits", json={"enabled": True}, timeout=5).json()["enabled"]


@pytest.fixture
def limited(sb):
    _limits_on(sb)
    return sb


def test_documented_table():
    assert DEFAULT_QPS["DismissRoom"] == DEFAULT_QPS["DescribeCloudRecording"] == 20
    assert DEFAULT_QPS["CreateCommonMixStream"] == 200 and DEFAULT_QPS["DescribeLiveStreamState"] == 300
    assert DEFAULT_QPS["CloseRoom"] == 1 and DEFAULT_QPS["DescribeRecordStatus"] == 10
    assert DEFAULT_QPS["StartRecord"] == 50 and DEFAULT_QPS["StartMix"] == 100


def test_trtc_20_per_second(limited):
    tencent = TencentCaller(limited)
    params = {"SdkAppId": 1400000001, "RoomId": 123}
    below = [code_of(tencent("DismissRoom", params)) for _ in range(20)]
    assert set(below) == {"FailedOperation.RoomNotExist"}
    _limits_on(limited)
    above = [code_of(tencent("DismissRoom", params)) for _ in range(40)]
    assert above.count("RequestLimitExceeded") >= 10
    assert above[:20] == ["FailedOperation.RoomNotExist"] * 20
    # per app: another SdkAppId has its own bucket
    assert (
        code_of(tencent("DismissRoom", {**params, "SdkAppId": 1400000002})) == "FailedOperation.RoomNotExist"
    )
    # per action: another action too
    assert code_of(tencent("RemoveUser", {**params, "UserIds": ["a"]})) == "FailedOperation.RoomNotExist"
    stats = limited.backend.stats.snapshot()["actions"]["DismissRoom"]
    assert stats["throttled"] == above.count("RequestLimitExceeded")
    assert stats["errors"]["RequestLimitExceeded"] == stats["throttled"]


def test_throttling_comes_after_signature_checks(limited):
    good, bad = TencentCaller(limited), TencentCaller(limited, secret_key="wrong")
    params = {"SdkAppId": 1400000001, "RoomId": 123}
    for _ in range(25):
        good("DismissRoom", params)
    assert code_of(good("DismissRoom", params)) == "RequestLimitExceeded"
    assert code_of(bad("DismissRoom", params)) == "AuthFailure.SignatureFailure"
    zego_bad = ZegoCaller(limited, secret="f" * 32)
    zego = ZegoCaller(limited)
    zego("CloseRoom", {"RoomId": "r"})
    assert zego("CloseRoom", {"RoomId": "r"})["Code"] == 206
    assert zego_bad("CloseRoom", {"RoomId": "r"})["Code"] == 100000005


def test_zego_family_codes(limited):
    zego = ZegoCaller(limited)
    assert zego("CloseRoom", {"RoomId": "r"})["Code"] == 5024
    assert zego("CloseRoom", {"RoomId": "r"})["Code"] == 206
    record = [zego("DescribeRecordStatus", {"TaskId": "t"})["Code"] for _ in range(14)]
    assert record[:10] == [300001000] * 10 and 300000003 in record[10:]
    requests.put(limited.url + "/_sandbox/limits", json={"qps": {"StopMix": 2, "StartMix": 2}}, timeout=5)
    stop = [zego("StopMix", {"TaskId": "t", "UserId": "u"})["Code"] for _ in range(4)]
    assert stop[:2] == [110209001, 110209001] and 110200191 in stop[2:]
    start = [zego("StartMix", {"TaskId": "t", "UserId": "u"})["Code"] for _ in range(4)]
    assert start[:2] == [110200002, 110200002] and 110200190 in start[2:]


def test_limits_switch_off_and_override(limited):
    tencent = TencentCaller(limited)
    params = {"SdkAppId": 1400000001, "RoomId": 123}
    out = requests.put(limited.url + "/_sandbox/limits", json={"qps": {"DismissRoom": 2}}, timeout=5).json()
    assert out["qps"]["DismissRoom"] == 2 and out["overrides"] == {"DismissRoom": 2}
    codes = [code_of(tencent("DismissRoom", params)) for _ in range(4)]
    assert codes[:2] == ["FailedOperation.RoomNotExist"] * 2 and "RequestLimitExceeded" in codes[2:]
    requests.put(limited.url + "/_sandbox/limits", json={"enabled": False}, timeout=5)
    assert {code_of(tencent("DismissRoom", params)) for _ in range(30)} == {"FailedOperation.RoomNotExist"}


def test_token_bucket_refills_at_the_rate():
    limiter = RateLimiter(overrides={"X": 5})
    assert all(limiter.admit("X", "app") for _ in range(5))
    assert not limiter.admit("X", "app")
    assert limiter.admit("X", "other-app")
    time.sleep(0.25)
    assert limiter.admit("X", "app")  # ~1.25 tokens back
    assert limiter.admit("Unlisted", "app")
    slow = RateLimiter(overrides={"Y": 0.5})
    assert slow.admit("Y", "a") and not slow.admit("Y", "a")
