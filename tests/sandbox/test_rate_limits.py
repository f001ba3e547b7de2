"""Documented per-API QPS, counted per what the catalog says: the throttle code appears above the
rate and never below it."""

from __future__ import annotations

import pytest
import requests
from rtc_sandbox.ratelimit import DEFAULT_QPS, RateLimiter

from airflow_provider_rtc import catalog
from airflow_provider_rtc.catalog import Api

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


@pytest.fixture
def frozen(limited):
    """The sandbox's clock in manual mode (its buckets refill on it): tokens are counted, not raced."""
    limited.freeze()
    _limits_on(limited)  # buckets made from here on start full at the frozen time
    return limited


def test_trtc_20_per_second(limited, frozen):
    """Exactly the documented 20 per second, per SecretId + region + action, on a frozen clock (the
    wall-clock version counted 'at least 10 of 40 throttled', which a loaded machine broke by
    refilling the bucket while the 40 calls were still being sent)."""
    tencent = TencentCaller(limited)
    params = {"SdkAppId": 1400000001, "RoomId": 123}
    below = [code_of(tencent("DismissRoom", params)) for _ in range(20)]
    assert set(below) == {"FailedOperation.RoomNotExist"}
    above = [code_of(tencent("DismissRoom", params)) for _ in range(20)]
    assert above == ["RequestLimitExceeded"] * 20  # the 21st..40th call in the same instant
    # counted per SecretId and region, not per SdkAppId: another app shares the bucket, another region not
    assert code_of(tencent("DismissRoom", {**params, "SdkAppId": 1400000002})) == "RequestLimitExceeded"
    assert code_of(tencent("DismissRoom", params, region="ap-singapore")) == "FailedOperation.RoomNotExist"
    # per action: another action too
    assert code_of(tencent("RemoveUser", {**params, "UserIds": ["a"]})) == "FailedOperation.RoomNotExist"
    # it refills at 20/s: one call's worth after 0.05 s, then the whole bucket after a second
    frozen.advance(0.049)
    assert code_of(tencent("DismissRoom", params)) == "RequestLimitExceeded"
    frozen.advance(0.002)
    assert code_of(tencent("DismissRoom", params)) == "FailedOperation.RoomNotExist"
    assert code_of(tencent("DismissRoom", params)) == "RequestLimitExceeded"
    frozen.advance(5.0)  # never more than a second's worth banked
    again = [code_of(tencent("DismissRoom", params)) for _ in range(21)]
    assert again == ["FailedOperation.RoomNotExist"] * 20 + ["RequestLimitExceeded"]
    stats = limited.backend.stats.snapshot()["actions"]["DismissRoom"]
    assert stats["throttled"] == 20 + 1 + 1 + 1 + 1  # above, the other app, the two refill probes, again
    assert stats["errors"]["RequestLimitExceeded"] == stats["throttled"]


def test_throttling_comes_after_signature_checks(frozen):
    """On a frozen clock: no bucket refills between the calls, however slow they are."""
    limited = frozen
    requests.put(
        limited.url + "/_sandbox/limits", json={"qps": {"DismissRoom": 0.5, "CloseRoom": 0.5}}, timeout=5
    )
    good, bad = TencentCaller(limited), TencentCaller(limited, secret_key="wrong")
    params = {"SdkAppId": 1400000001, "RoomId": 123}
    good("DismissRoom", params)
    assert code_of(good("DismissRoom", params)) == "RequestLimitExceeded"
    assert code_of(bad("DismissRoom", params)) == "AuthFailure.SignatureFailure"
    zego_bad = ZegoCaller(limited, secret="f" * 32)
    zego = ZegoCaller(limited)
    zego("CloseRoom", {"RoomId": "r"})
    assert zego("CloseRoom", {"RoomId": "r"})["Code"] == 206
    assert zego_bad("CloseRoom", {"RoomId": "r"})["Code"] == 100000005


def test_zego_family_codes(frozen):
    """Each family's own throttle code, on a frozen clock: every call above the rate is throttled (on
    the wall clock a loaded machine refilled the buckets between calls, so only 'at least one of the
    calls above the rate' could be asserted, and even that failed under load)."""
    zego = ZegoCaller(frozen)
    assert zego("CloseRoom", {"RoomId": "r"})["Code"] == 5024
    assert zego("CloseRoom", {"RoomId": "r"})["Code"] == 206
    record = [zego("DescribeRecordStatus", {"TaskId": "t"})["Code"] for _ in range(14)]
    assert record == [300001000] * 10 + [300000003] * 4
    requests.put(frozen.url + "/_sandbox/limits", json={"qps": {"StopMix": 2, "StartMix": 2}}, timeout=5)
    stop = [zego("StopMix", {"TaskId": "t", "UserId": "u"})["Code"] for _ in range(4)]
    assert stop == [110209001, 110209001, 110200191, 110200191]
    start = [zego("StartMix", {"TaskId": "t", "UserId": "u"})["Code"] for _ in range(4)]
    assert start == [110200002, 110200002, 110200190, 110200190]
    frozen.advance(0.51)  # StartMix refills at 2/s: one call's worth (0.5 plus float slack)
    assert zego("StartMix", {"TaskId": "t", "UserId": "u"})["Code"] == 110200002
    assert zego("StartMix", {"TaskId": "t", "UserId": "u"})["Code"] == 110200190


def test_limits_switch_off_and_override(frozen):
    limited = frozen  # no refill between the calls above the overridden rate
    tencent = TencentCaller(limited)
    params = {"SdkAppId": 1400000001, "RoomId": 123}
    out = requests.put(limited.url + "/_sandbox/limits", json={"qps": {"DismissRoom": 2}}, timeout=5).json()
    assert out["qps"]["DismissRoom"] == 2 and out["overrides"] == {"DismissRoom": 2}
    codes = [code_of(tencent("DismissRoom", params)) for _ in range(4)]
    assert codes == ["FailedOperation.RoomNotExist"] * 2 + ["RequestLimitExceeded"] * 2
    requests.put(limited.url + "/_sandbox/limits", json={"enabled": False}, timeout=5)
    assert {code_of(tencent("DismissRoom", params)) for _ in range(30)} == {"FailedOperation.RoomNotExist"}


def test_token_bucket_refills_at_the_rate():
    x, y, unlisted = (Api(cloud="zego", product="rtc", action=a) for a in ("X", "Y", "Unlisted"))
    now = [100.0]  # the buckets' clock, moved by the test (no sleep)
    limiter = RateLimiter(overrides={"X": 5})
    limiter.clock = lambda: now[0]
    assert all(limiter.admit(x, "app") for _ in range(5))
    assert not limiter.admit(x, "app")
    assert limiter.admit(x, "other-app")
    now[0] += 0.19
    assert not limiter.admit(x, "app")  # 0.95 of a token back
    now[0] += 0.06
    assert limiter.admit(x, "app")  # 1.25 tokens back
    assert not limiter.admit(x, "app")
    assert limiter.admit(unlisted, "app")
    slow = RateLimiter(overrides={"Y": 0.5})
    slow.clock = lambda: now[0]
    assert slow.admit(y, "a") and not slow.admit(y, "a")
    now[0] += 1.9
    assert not slow.admit(y, "a")
    now[0] += 0.2
    assert slow.admit(y, "a")


def test_rates_come_from_the_catalog_including_the_test_environment():
    limiter = RateLimiter()
    assert limiter.rate(catalog.DELETE_STREAM) == 10 and limiter.rate(catalog.DELETE_STREAM, test=True) == 1
    assert limiter.rate(catalog.CLOSE_ROOM, test=True) == 1  # no separate test limit documented
    assert limiter.rate(catalog.DESCRIBE_SIMPLE_STREAM_LIST) == 0.1
    assert {api.action: api.qps for api in catalog.CATALOG.values() if api.qps} == DEFAULT_QPS


def test_zego_stream_list_is_limited_per_room(limited):
    zego = ZegoCaller(limited)
    first = zego("DescribeSimpleStreamList", {"RoomId": "room-a"})["Code"]
    assert first != 206
    assert zego("DescribeSimpleStreamList", {"RoomId": "room-a"})["Code"] == 206  # 1 call per 10 s
    assert zego("DescribeSimpleStreamList", {"RoomId": "room-b"})["Code"] == first  # its own room


def test_zego_test_environment_limits(limited):
    zego = ZegoCaller(limited)
    params = {"RoomId": "r", "UserId": "u", "StreamId": "s"}
    production = [zego("DeleteStream", params)["Code"] for _ in range(3)]
    assert 206 not in production
    test_env = [zego("DeleteStream", params, override={"IsTest": "true"})["Code"] for _ in range(3)]
    assert test_env[0] != 206 and test_env[1:] == [206, 206]  # 1 call/s in the test environment


@pytest.mark.parametrize(
    ("api", "app_qps"), [(catalog.DESCRIBE_SIMPLE_STREAM_LIST, 50), (catalog.DESCRIBE_USER_LIST, 200)]
)
def test_zego_list_apis_have_an_app_wide_limit_beside_the_per_room_one(api, app_qps, monkeypatch):
    """Per room 1/10 s (1/s), and per AppId 50/s (200/s) for all rooms together (ZEGO docs_all
    describe-simple-streamlist.yaml, describe-user-list.yaml)."""
    import types

    from rtc_sandbox import ratelimit

    # a stopped clock: no refill while counting
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(monotonic=lambda: 1000.0))
    limiter = RateLimiter()
    assert all(limiter.admit(api, f"111|room-{i}") for i in range(app_qps))
    assert not limiter.admit(api, "111|one-more-room")  # the AppId's quota is spent
    assert limiter.admit(api, "222|room-0")  # another AppId has its own
    assert not limiter.admit(api, "222|room-0")  # and the room its own
