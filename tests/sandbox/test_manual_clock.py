"""The sandbox's manual clock (moto's manual state progression): frozen until advanced, through the
admin API and the Python API; lifecycle timers, callback delays and rate-limit refills follow it."""

from __future__ import annotations

import time

import pytest
import requests
from rtc_sandbox import Sandbox
from rtc_sandbox.clock import Clock

APP = 1400000001
COS = {
    "CloudStorage": {"Vendor": 0, "Region": "ap-guangzhou", "Bucket": "b", "AccessKey": "a", "SecretKey": "s"}
}


def _clock(sb, method="GET", **body):
    return requests.request(method, f"{sb.url}/_sandbox/clock", json=body or None, timeout=5)


def test_clock_stands_still_until_advanced_and_never_runs_backwards() -> None:
    clock = Clock(mode="manual")
    wall, mono = clock.time(), clock.monotonic()
    time.sleep(0.01)
    assert (clock.time(), clock.monotonic()) == (wall, mono)
    assert clock.advance(2.5) == wall + 2.5 and clock.monotonic() == mono + 2.5
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.advance(float("nan"))
    clock.set_mode("real")  # runs on from where it stood, not from the wall clock
    assert clock.time() >= wall + 2.5 and clock.monotonic() >= mono + 2.5
    assert clock.offset == pytest.approx(2.5, abs=0.5)
    with pytest.raises(ValueError, match="clock mode"):
        clock.set_mode("warp")


def test_set_now_and_offset_keep_a_manual_clock_frozen() -> None:
    clock = Clock(mode="manual")
    clock.set_now(1615186943)
    assert clock.time() == 1615186943 and clock.mode == "manual"
    clock.set_offset(-3600)
    assert clock.time() == pytest.approx(time.time() - 3600, abs=1)


def test_admin_api_freezes_advances_and_releases(sb) -> None:
    frozen = _clock(sb, "PUT", mode="manual").json()
    assert frozen["mode"] == "manual"
    time.sleep(0.02)
    assert _clock(sb).json()["now"] == frozen["now"]
    moved = requests.post(f"{sb.url}/_sandbox/clock/advance", json={"seconds": 90}, timeout=5).json()
    assert moved["now"] == frozen["now"] + 90 and moved["mode"] == "manual"
    assert _clock(sb, "PUT", now=1615186943).json()["now"] == 1615186943  # still frozen there
    for bad in ({"seconds": -1}, {"seconds": "soon"}, {}):
        assert requests.post(f"{sb.url}/_sandbox/clock/advance", json=bad, timeout=5).status_code == 400
    assert _clock(sb, "PUT", mode="sometimes").status_code == 400
    assert _clock(sb, "PUT", mode="real").json()["mode"] == "real"


def test_reset_returns_to_the_configured_clock(sb) -> None:
    sb.freeze()
    sb.advance(1000)
    sb.reset()
    state = _clock(sb).json()
    assert state["mode"] == "real" and abs(state["offset_seconds"]) < 1
    manual = Sandbox({"clock_mode": "manual"})
    assert manual.clock.mode == "manual"
    manual.reset()
    assert manual.clock.mode == "manual"
    with pytest.raises(ValueError, match="clock_mode"):
        Sandbox({"clock_mode": "later"})


def test_a_recording_uploads_only_when_the_clock_is_advanced(sb, tencent) -> None:
    """Lifecycle timers follow the clock: upload_delay (0.3 s here) passes only by ``advance``."""
    sb.freeze()
    sb.backend.trtc.add_users(APP, 4001, ["alice"], sb.backend.now())
    params = {
        "SdkAppId": APP,
        "RoomId": "4001",
        "RoomIdType": 1,
        "UserId": "recorder_4001",
        "UserSig": "sig",
        "RecordParams": {"RecordMode": 2},
        "StorageParams": COS,
    }
    task = tencent("CreateCloudRecording", params)["TaskId"]
    tencent("DeleteCloudRecording", {"SdkAppId": APP, "TaskId": task})

    def upload():
        return requests.get(f"{sb.url}/_sandbox/storage/trtc/{task}", timeout=5).json()["upload"]

    time.sleep(0.4)  # longer than upload_delay on the wall clock: nothing moves
    assert upload() != "done"
    sb.advance(0.29)
    assert upload() != "done"
    sb.advance(0.01)
    assert upload() == "done"


def test_rate_limit_buckets_refill_on_the_sandbox_clock(sb, zego) -> None:
    """ZEGO CloseRoom at 1/s: a frozen clock never refills the bucket; one advanced second does."""
    requests.put(sb.url + "/_sandbox/limits", json={"enabled": True}, timeout=5)
    sb.freeze()
    requests.put(sb.url + "/_sandbox/limits", json={"enabled": True}, timeout=5)  # buckets at frozen time
    assert zego("CloseRoom", {"RoomId": "r"})["Code"] != 206
    assert zego("CloseRoom", {"RoomId": "r"})["Code"] == 206
    sb.advance(0.9)
    assert zego("CloseRoom", {"RoomId": "r"})["Code"] == 206
    sb.advance(0.1)
    assert zego("CloseRoom", {"RoomId": "r"})["Code"] != 206
