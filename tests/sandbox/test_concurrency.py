"""The demo hammers the sandbox from many workers at once: state and stats must stay exact."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from rtc_sandbox.backends.trtc import TrtcBackend
from rtc_sandbox.ids import IdFactory

from .conftest import TencentCaller, ZegoCaller, code_of


def test_parallel_cleanup_over_http(sb):
    ids = sb.seed({"trtc": {"rooms": 24, "users_per_room": 2}, "zego": {"rooms": 12, "users_per_room": 2}})
    tencent, zego = TencentCaller(sb), ZegoCaller(sb)

    def dismiss(room):
        return code_of(tencent("DismissRoom", {"SdkAppId": 1400000001, "RoomId": room}))

    def close(room):
        return zego("CloseRoom", {"RoomId": room})["Code"]

    rooms = ids["trtc"]["rooms"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        # every room twice: exactly one success and one RoomNotExist each
        trtc_codes = list(pool.map(dismiss, rooms + rooms))
        zego_codes = list(pool.map(close, ids["zego"]["rooms"] * 2))
    assert trtc_codes.count(None) == 24 and trtc_codes.count("FailedOperation.RoomNotExist") == 24
    assert zego_codes.count(0) == 12 and zego_codes.count(5018) == 12  # 5018: already destroyed
    state = sb.state()
    assert state["trtc"]["counts"]["rooms"] == 0 and state["zego"]["counts"]["rooms"] == 0
    stats = sb.backend.stats.snapshot()["actions"]
    assert stats["DismissRoom"]["calls"] == 48 and stats["DismissRoom"]["ok"] == 24
    assert stats["CloseRoom"]["calls"] == 24


def test_parallel_recordings_on_the_backend():
    backend = TrtcBackend([1], IdFactory(3), max_recordings=1000)

    def work(i):
        room = str(100 + i)
        backend.add_users(1, int(room), ["a"], 0.0)
        task = backend.create_recording(1, room, 1, "rec", 0.0, record_mode=2, storage="cos")
        backend.describe_recording(1, task, 0.1)
        backend.delete_recording(1, task, 0.2)
        return task

    with ThreadPoolExecutor(max_workers=8) as pool:
        tasks = list(pool.map(work, range(200)))
    assert len(set(tasks)) == 200
    events = backend.advance(5.0)
    assert sorted({e.event_type for e in events}) == [301, 302, 305]
    assert len(events) == 600
