"""Client-side pacing on a fake clock: evenly spaced calls at each API's documented QPS."""

from __future__ import annotations

import threading

import pytest

from airflow_provider_rtc import catalog, pacing
from airflow_provider_rtc.catalog import Api
from airflow_provider_rtc.hooks.live import LiveHook
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.hooks.zego import ZegoRtcHook
from airflow_provider_rtc.pacing import Pacer, pacer_for
from tests.support.clock import ManualClock
from tests.support.wire import serve, tc_ok, tencent_conn_json, zego_conn_json, zego_err, zego_ok


@pytest.fixture
def clock(manual_clock: ManualClock) -> ManualClock:
    """The pacers' clock (tests/support), started at 500 s: waits are recorded, not slept."""
    manual_clock.now = 500.0
    return manual_clock


@pytest.fixture(autouse=True)
def process_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the spacing arithmetic, on a fake clock: the in-process backend's."""
    monkeypatch.setenv("AIRFLOW__RTC__RATE_LIMIT_BACKEND", "process")


@pytest.fixture(autouse=True)
def no_headroom(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exact arithmetic below; the default headroom has its own test."""
    monkeypatch.setattr(pacing, "HEADROOM", 0.0)


def test_default_headroom_keeps_calls_just_under_the_documented_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "HEADROOM", 0.03)
    assert Pacer(1).interval == pytest.approx(1.03)  # ZEGO CloseRoom: 30 ms of jitter tolerance
    assert 1 / Pacer(20).interval == pytest.approx(20 / 1.03)  # TRTC: 97% of 20/s
    assert Pacer(20).qps == 20


def test_reservations_are_evenly_spaced(clock) -> None:
    pacer = Pacer(4)
    assert [pacer.reserve() for _ in range(4)] == [0.0, 0.25, 0.5, 0.75]


def test_wait_spaces_calls_by_the_interval(clock) -> None:
    pacer = Pacer(10)
    calls_at: list[float] = []
    for _ in range(5):
        pacer.wait()
        calls_at.append(clock.now)
    assert clock.sleeps == [0.1, 0.1, 0.1, 0.1]
    assert [round(t - 500.0, 9) for t in calls_at] == [0.0, 0.1, 0.2, 0.3, 0.4]


def test_no_burst_after_idle(clock) -> None:
    pacer = Pacer(2)
    pacer.wait()
    clock.now += 60  # idle for a minute: no credit is saved up
    pacer.wait()
    pacer.wait()
    assert clock.sleeps == [0.5]


def test_slow_callers_are_not_delayed(clock) -> None:
    pacer = Pacer(10)
    for _ in range(3):
        pacer.wait()
        clock.now += 0.2
    assert clock.sleeps == []


def test_threads_get_distinct_slots(clock) -> None:
    pacer = Pacer(20)
    delays: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        delay = pacer.reserve()
        with lock:
            delays.append(round(delay, 9))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(delays) == [round(i * 0.05, 9) for i in range(8)]


async def test_async_slots(clock) -> None:
    pacer = Pacer(5)
    for _ in range(3):
        await pacer.await_slot()
    assert clock.sleeps == [0.2, 0.2]


def test_invalid_qps() -> None:
    for bad in (0, -1):
        with pytest.raises(ValueError):
            Pacer(bad)


@pytest.mark.parametrize(
    ("product", "action", "qps"),
    [
        ("trtc", "DismissRoom", 20),
        ("trtc", "DeleteCloudRecording", 20),
        ("rtc", "DeleteStream", 10),
        ("rtc", "CloseRoom", 1),
        ("rtc", "KickoutUser", 50),
        ("rtc", "StopMix", 100),
        ("rtc", "DescribeSimpleStreamList", 0.1),
        ("cloudrecord", "StopRecord", 50),
        ("cloudrecord", "DescribeRecordStatus", 10),
        ("live", "CancelCommonMixStream", 100),
        ("live", "CreateCommonMixStream", 200),
        ("live", "DropLiveStream", 100),
    ],
)
def test_documented_defaults(product, action, qps) -> None:
    pacer = pacer_for(product, "acct", action, None)
    assert pacer is not None
    assert pacer.interval == pytest.approx(1 / qps)


def test_pacers_are_shared_per_key_and_follow_overrides() -> None:
    a = pacer_for("rtc", "111", "CloseRoom", None)
    assert pacer_for("rtc", "111", "CloseRoom", None) is a
    assert pacer_for("rtc", "222", "CloseRoom", None) is not a
    assert pacer_for("rtc", "111", "DeleteStream", None) is not a
    faster = pacer_for("rtc", "111", "CloseRoom", 4)
    assert faster is not None and faster.interval == pytest.approx(0.25)
    assert pacer_for("rtc", "111", "NoSuchAction", None) is None
    assert pacer_for("rtc", "111", "NoSuchAction", 3).interval == pytest.approx(1 / 3)


def pacer_of(hook, api: Api, params: dict | None = None, **kw) -> Pacer | None:
    """The pacer a hook's call of ``api`` with ``params`` draws on (the hook derives the quota key)."""
    scope = hook._request(hook.settings, api, params or {}, **kw)["scope"]
    return hook._pacer(hook.settings, api, scope)


def test_tencent_quota_is_per_secret_id_and_region_not_sdk_app_id(set_connection) -> None:
    base = tencent_conn_json(None, pacing=True)
    set_connection("app_a", {**base, "extra": {**base["extra"], "sdk_app_id": 1400000001}})
    set_connection("app_b", {**base, "extra": {**base["extra"], "sdk_app_id": 1400000002}})
    set_connection("key_b", {**base, "login": "AKIDother"})
    a, b, other_key = TrtcHook("app_a"), TrtcHook("app_b"), TrtcHook("key_b")
    shared = pacer_of(a, catalog.DISMISS_ROOM)
    assert shared is not None and shared is pacer_of(b, catalog.DISMISS_ROOM)
    assert pacer_of(a, catalog.DISMISS_ROOM, region="ap-singapore") is not shared
    assert pacer_of(other_key, catalog.DISMISS_ROOM) is not shared
    assert pacer_of(a, catalog.REMOVE_USER) is not shared
    # Live has no region: one quota per SecretId and API, whatever region the connection names
    live_a, live_b = LiveHook("app_a"), LiveHook("app_b", region="ap-singapore")
    live = pacer_of(live_a, catalog.CANCEL_COMMON_MIX_STREAM)
    assert live is not None and live is pacer_of(live_b, catalog.CANCEL_COMMON_MIX_STREAM)
    assert live.interval == pytest.approx(1 / 100)


def test_zego_quota_per_room_and_test_environment(set_connection) -> None:
    set_connection("z", zego_conn_json(None, pacing=True))
    set_connection("ztest", zego_conn_json(None, pacing=True, is_test=True))
    hook, test_hook = ZegoRtcHook("z"), ZegoRtcHook("ztest")
    both = pacer_of(hook, catalog.DESCRIBE_SIMPLE_STREAM_LIST, {"RoomId": "r1"})
    assert isinstance(both, pacing.AllOf)  # per room and per AppId
    one, app_wide = both.limiters
    assert one.interval == pytest.approx(10.0) and app_wide.interval == pytest.approx(1 / 50)
    again = pacer_of(hook, catalog.DESCRIBE_SIMPLE_STREAM_LIST, {"RoomId": "r1"})
    assert again.limiters == [one, app_wide]
    other_room = pacer_of(hook, catalog.DESCRIBE_SIMPLE_STREAM_LIST, {"RoomId": "r2"})
    assert other_room.limiters[0] is not one and other_room.limiters[1] is app_wide
    # CloseRoom is counted per AppId, not per room
    close = pacer_of(hook, catalog.CLOSE_ROOM, {"RoomId": "r1"})
    assert close is pacer_of(hook, catalog.CLOSE_ROOM, {"RoomId": "r2"})
    assert pacer_of(hook, catalog.DELETE_STREAM).interval == pytest.approx(1 / 10)
    assert pacer_of(test_hook, catalog.DELETE_STREAM).interval == pytest.approx(1.0)
    assert pacer_of(test_hook, catalog.CLOSE_ROOM).interval == pytest.approx(1.0)  # no test limit


@pytest.mark.parametrize(
    ("api", "app_qps"), [(catalog.DESCRIBE_SIMPLE_STREAM_LIST, 50), (catalog.DESCRIBE_USER_LIST, 200)]
)
def test_zego_app_wide_quota_paces_calls_across_rooms(set_connection, clock, api, app_qps) -> None:
    """ "同一个 AppID 下所有房间: 50 次/秒" (DescribeSimpleStreamList), "200 次/秒" (DescribeUserList):
    one call in each of many rooms still spends the AppId's quota."""
    set_connection("z", zego_conn_json(None, pacing=True))
    hook = ZegoRtcHook("z")
    waits = [pacer_of(hook, api, {"RoomId": f"room-{i}"}).reserve() for i in range(app_qps + 10)]
    assert waits[0] == 0 and waits[-1] == pytest.approx((app_qps + 9) / app_qps)


def test_actions_outside_the_catalog_are_unpaced_unless_configured(set_connection) -> None:
    set_connection("t", tencent_conn_json(None, pacing=True, qps={"DescribeRoomInfo": 4}))
    hook = TrtcHook("t")
    unknown = hook._api("DescribeStreamIngest", None, None, None)
    assert unknown.qps is None and unknown.per == ("secret_id", "region")
    assert pacer_of(hook, unknown) is None
    configured = hook._api("DescribeRoomInfo", None, None, None)
    assert pacer_of(hook, configured).interval == pytest.approx(0.25)


def test_hook_pacing_defaults_on_and_uses_documented_qps(set_connection) -> None:
    conn = tencent_conn_json(None)
    del conn["extra"]["pacing"]
    set_connection("tencentcloud_default", conn)
    hook = TrtcHook()
    assert hook.settings.pacing is True
    pacer = pacer_of(hook, catalog.DISMISS_ROOM)
    assert pacer is not None and pacer.interval == pytest.approx(1 / 20)
    assert pacer_of(hook, catalog.CANCEL_COMMON_MIX_STREAM).interval == pytest.approx(1 / 100)


def test_connection_qps_override_and_pacing_false(set_connection) -> None:
    set_connection("paced", tencent_conn_json(None, pacing=True, qps={"DismissRoom": 2.5}))
    hook = TrtcHook("paced")
    assert pacer_of(hook, catalog.DISMISS_ROOM).interval == pytest.approx(0.4)
    assert pacer_of(hook, catalog.REMOVE_USER).interval == pytest.approx(1 / 20)
    set_connection("unpaced", tencent_conn_json(None, pacing="false"))
    hook = TrtcHook("unpaced")
    assert pacer_of(hook, catalog.DISMISS_ROOM) is None
    set_connection("zego_paced", zego_conn_json(None, pacing=True, qps={"CloseRoom": 0.5}))
    zhook = ZegoRtcHook("zego_paced")
    assert pacer_of(zhook, catalog.CLOSE_ROOM).interval == pytest.approx(2.0)
    assert ZegoRtcHook("zego_paced", pacing=False).settings.pacing is False


def test_paced_calls_on_the_wire(httpserver, set_connection, clock) -> None:
    url = httpserver.url_for("").rstrip("/")
    set_connection("tencentcloud_default", tencent_conn_json(url, pacing=True, qps={"DismissRoom": 5}))
    script = serve(httpserver, tc_ok(), tc_ok(), tc_ok())
    hook = TrtcHook()
    for room in (1, 2, 3):
        hook.dismiss_room(room)
    assert len(script.seen) == 3
    assert clock.sleeps == [0.2, 0.2]


def test_close_room_is_paced_at_one_per_second_including_retries(httpserver, set_connection, clock) -> None:
    url = httpserver.url_for("").rstrip("/")
    set_connection("zegocloud_default", zego_conn_json(url, pacing=True))
    script = serve(httpserver, zego_ok(), zego_err(206), zego_ok())
    hook = ZegoRtcHook()
    hook.close_room("a")
    hook.close_room("b")  # throttled once, then retried: two more slots
    assert len(script.seen) == 3
    # slot of "b", then the retry: its throttle back-off passes on the same clock, and the pacer
    # waits only the rest of the 1 s interval
    first, backoff, rest = clock.sleeps
    assert first == 1.0 and 0 < backoff < 1.0 and backoff + rest == pytest.approx(1.0)


def test_pacers_are_shared_between_hooks(httpserver, set_connection, clock) -> None:
    url = httpserver.url_for("").rstrip("/")
    set_connection("zegocloud_default", zego_conn_json(url, pacing=True))
    serve(httpserver, zego_ok(), zego_ok())
    ZegoRtcHook().delete_stream("r", "u", "s1")
    ZegoRtcHook().delete_stream("r", "u", "s2")
    assert clock.sleeps == [0.1]
