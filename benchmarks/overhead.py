"""call_overhead_ratio: a hook call (validate, pace, sign, send, classify) against a bare
``requests.Session.post`` of equivalent signed bytes to the same sandbox, interleaved."""

from __future__ import annotations

import time
from statistics import median
from typing import Any

import requests

from benchmarks.sandbox_proc import sandbox, seed, use_connections


def run(calls: int = 2000) -> dict[str, float]:
    from airflow_provider_rtc.hooks.trtc import TrtcHook
    from airflow_provider_rtc.protocol import tencent

    with sandbox(rate_limits=False) as info:
        use_connections(info, pacing=False)
        rooms = seed(info, {"trtc": {"rooms": 2 * calls + 20, "users_per_room": 0}})["trtc"]["rooms"]
        hook = TrtcHook()
        settings = hook.settings
        endpoint = tencent.TencentEndpoint.for_service("trtc", endpoint=settings.endpoint)
        session = requests.Session()
        warm = rooms[: 2 * 10]
        hook_rooms, bare_rooms = rooms[20::2], rooms[21::2]
        for room in warm[:10]:
            hook.dismiss_room(room)
        # bare side: the same bytes, signed beforehand (untimed), sent with a plain session
        prepared: list[Any] = []
        for room in [*warm[10:], *bare_rooms]:
            call = tencent.build_call(
                endpoint,
                settings.credentials,
                action="DismissRoom",
                version="2019-07-22",
                params={"SdkAppId": settings.sdk_app_id, "RoomId": room},
                region=settings.region,
                user_agent="bench",
            )
            prepared.append(call)
        for call in prepared[:10]:
            session.post(call.url, data=call.body, headers=call.headers, timeout=10).raise_for_status()
        hook_times, bare_times = [], []
        for room, call in zip(hook_rooms[:calls], prepared[10 : 10 + calls], strict=True):
            t0 = time.perf_counter()
            hook.dismiss_room(room)
            t1 = time.perf_counter()
            resp = session.post(call.url, data=call.body, headers=call.headers, timeout=10)
            t2 = time.perf_counter()
            assert "Error" not in resp.json()["Response"], resp.text
            hook_times.append(t1 - t0)
            bare_times.append(t2 - t1)
    return {
        "call_overhead_ratio": median(hook_times) / median(bare_times),
        "call_us_hook": median(hook_times) * 1e6,
        "call_us_bare": median(bare_times) * 1e6,
    }
