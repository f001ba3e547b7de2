"""The default (``host``) limiter spaces single calls on the wire, seen from a local server.

The spacing tests elsewhere force the ``process`` backend on a fake clock, and bulk runs book their
slots through another path, so a host limiter that booked a slot but never waited for it on the
single-call path passed every test (three CloseRoom calls in 0.09 s at ZEGO's 1/s). These tests use
the default backend and real time, and assert only lower bounds that a loaded machine cannot break:
the server cannot see the calls closer together than the slots they were sent in allow on the
whole, measured from before the first call (load only delays arrivals, it never advances one).
They observe calls at the server, not the limiter's internals, so they hold however slots are booked.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from airflow_provider_rtc import ratelimit
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.hooks.zego import ZegoRtcHook
from tests.support.wire import serve, tc_ok, tencent_conn_json, zego_conn_json, zego_ok

#: the client paces at 97% of the documented rate (``pacing.HEADROOM``); allow it to book at 100%
FULL_RATE = 1.0


def stamped(answer: dict[str, Any], arrivals: list[float]) -> Any:
    def respond() -> dict[str, Any]:
        arrivals.append(time.monotonic())
        return answer

    return respond


def test_the_default_backend_is_host() -> None:
    assert ratelimit.DEFAULT_BACKEND == "host"


def test_single_close_room_calls_are_spaced_at_one_per_second(httpserver, set_connection) -> None:
    url = httpserver.url_for("").rstrip("/")
    # pacing on, no rate_limit_backend: the default backend
    set_connection("zegocloud_default", zego_conn_json(url, pacing=True))
    arrivals: list[float] = []
    serve(httpserver, *(stamped(zego_ok(), arrivals) for _ in range(3)))
    hook = ZegoRtcHook()
    started = time.monotonic()
    for room in ("a", "b", "c"):
        hook.close_room(room)
    assert len(arrivals) == 3
    # three calls at 1/s: the third cannot arrive before two full intervals after the first was asked
    assert arrivals[2] - started >= 2 * FULL_RATE, [round(a - started, 3) for a in arrivals]
    assert arrivals[1] - started >= 1 * FULL_RATE


@pytest.mark.parametrize("calls", [3])
def test_single_async_calls_are_spaced_too(httpserver, set_connection, calls: int) -> None:
    url = httpserver.url_for("").rstrip("/")
    conn = tencent_conn_json(url, pacing=True, qps={"DescribeCloudRecording": 2})
    set_connection("tencentcloud_default", conn)
    arrivals: list[float] = []
    serve(httpserver, *(stamped(tc_ok(Status="InProgress"), arrivals) for _ in range(calls)))

    async def run() -> None:
        hook = TrtcHook()
        for _ in range(calls):
            await hook.adescribe_cloud_recording("task-1")

    started = time.monotonic()
    asyncio.run(run())
    assert len(arrivals) == calls
    assert arrivals[-1] - started >= (calls - 1) * 0.5, [round(a - started, 3) for a in arrivals]
