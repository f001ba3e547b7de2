"""Client-side pacing at each API's documented QPS, so bulk work reaches the limit without tripping it.

One limiter per (cloud, app/credential, action) in the process, shared by every hook, thread and
event loop. Calls are spaced evenly (no burst): the clouds count per second, and a burst followed
by a steady rate is what makes network jitter land a call in an already-full second. The spacing
keeps a small headroom (``HEADROOM``) for the same reason: at ZEGO's 1 CloseRoom call/s, a call
sent exactly 1.000 s after the previous one can arrive 0.999 s after it.
"""

from __future__ import annotations

import asyncio
import threading
import time

#: Documented per-app QPS for the actions the provider calls (vendor API pages).
DOCUMENTED_QPS: dict[tuple[str, str], float] = {
    **{
        ("trtc", a): 20.0
        for a in (
            "DismissRoom",
            "DismissRoomByStrRoomId",
            "RemoveUser",
            "RemoveUserByStrRoomId",
            "CreateCloudRecording",
            "DescribeCloudRecording",
            "ModifyCloudRecording",
            "DeleteCloudRecording",
            "StartPublishCdnStream",
            "UpdatePublishCdnStream",
            "StopPublishCdnStream",
            "StartStreamIngest",
            "StopStreamIngest",
            "DescribeStreamIngest",
            "DescribeRoomInfo",
        )
    },
    ("trtc", "DescribeTrtcUsage"): 5.0,
    ("trtc", "DescribeRecordingUsage"): 5.0,
    ("live", "CreateCommonMixStream"): 200.0,
    ("live", "CancelCommonMixStream"): 100.0,
    ("live", "DropLiveStream"): 100.0,
    ("live", "DescribeLiveStreamState"): 300.0,
    ("zego", "DeleteStream"): 10.0,
    ("zego", "CloseRoom"): 1.0,
    ("zego", "KickoutUser"): 50.0,
    ("zego", "DescribeUserNum"): 10.0,
    ("zego", "DescribeUsers"): 10.0,
    ("zego", "DescribeSimpleStreamList"): 50.0,
    ("zego", "AddStream"): 10.0,
    ("zego", "SendCustomCommand"): 100.0,
    ("zego", "ForbidRTCStream"): 20.0,
    ("zego", "ResumeRTCStream"): 20.0,
    ("zego", "StartMix"): 100.0,
    ("zego", "StopMix"): 100.0,
    ("zego", "GetMixTaskInfo"): 100.0,
    ("zego", "StartRecord"): 50.0,
    ("zego", "StopRecord"): 50.0,
    ("zego", "DescribeRecordStatus"): 10.0,
    ("zego", "DescribeTasks"): 10.0,
}


#: calls are spaced at documented QPS / (1 + HEADROOM), i.e. 97% of the documented rate
HEADROOM = 0.03


class Pacer:
    """Evenly spaced slots at ``qps``; reserving a slot is O(1) under a lock, waiting happens outside it."""

    __slots__ = ("_lock", "_next", "interval", "qps")

    def __init__(self, qps: float) -> None:
        if qps <= 0:
            raise ValueError("qps must be positive")
        self.qps = qps
        self.interval = (1.0 + HEADROOM) / qps
        self._next = 0.0
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Claim the next slot; return how long to wait for it."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
            return slot - now

    def wait(self) -> None:
        delay = self.reserve()
        if delay > 0:
            time.sleep(delay)

    async def await_slot(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)


_pacers: dict[tuple[str, str, str], Pacer] = {}
_registry_lock = threading.Lock()


def pacer_for(product: str, account: str, action: str, qps: float | None) -> Pacer | None:
    """The shared pacer for this key, or None when the action has no known or configured limit."""
    rate = qps if qps is not None else DOCUMENTED_QPS.get((product, action))
    if not rate:
        return None
    key = (product, account, action)
    pacer = _pacers.get(key)
    if pacer is None or pacer.qps != rate:
        with _registry_lock:
            pacer = _pacers.get(key)
            if pacer is None or pacer.qps != rate:
                pacer = _pacers[key] = Pacer(rate)
    return pacer
