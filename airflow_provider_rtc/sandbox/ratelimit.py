"""Documented per-action, per-app request rates, enforced with token buckets.

A bucket holds ``QPS`` tokens and refills at ``QPS`` per second, so a burst up to the documented
rate always passes and anything faster is throttled. Keys are (action, app): SdkAppId for TRTC,
the SecretId for Live (which has no SdkAppId), the AppId for ZEGO.
"""

from __future__ import annotations

import threading
import time

#: Documented limits (requests per second). TRTC: every room/recording API 20/s.
DEFAULT_QPS: dict[str, float] = {
    **dict.fromkeys(
        (
            "DismissRoom",
            "DismissRoomByStrRoomId",
            "RemoveUser",
            "RemoveUserByStrRoomId",
            "CreateCloudRecording",
            "DescribeCloudRecording",
            "DeleteCloudRecording",
        ),
        20.0,
    ),
    "CreateCommonMixStream": 200.0,
    "CancelCommonMixStream": 100.0,
    "DropLiveStream": 100.0,
    "DescribeLiveStreamState": 300.0,
    "DeleteStream": 10.0,
    "CloseRoom": 1.0,
    "KickoutUser": 50.0,
    "DescribeUserNum": 10.0,
    "DescribeUsers": 10.0,
    "DescribeSimpleStreamList": 50.0,
    "StartMix": 100.0,
    "StopMix": 100.0,
    "GetMixTaskInfo": 100.0,
    "StartRecord": 50.0,
    "StopRecord": 50.0,
    "DescribeRecordStatus": 10.0,
    "DescribeTasks": 10.0,
}


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


class RateLimiter:
    """Token buckets keyed by (action, app); ``enabled`` and per-action overrides switch at runtime."""

    def __init__(self, enabled: bool = True, overrides: dict[str, float] | None = None) -> None:
        self._lock = threading.Lock()
        self.enabled = enabled
        self.overrides: dict[str, float] = dict(overrides or {})
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def qps(self, action: str) -> float | None:
        return self.overrides.get(action, DEFAULT_QPS.get(action))

    def configure(self, *, enabled: bool | None = None, qps: dict[str, float] | None = None) -> None:
        with self._lock:
            if enabled is not None:
                self.enabled = enabled
            if qps is not None:
                for value in qps.values():
                    if float(value) <= 0:
                        raise ValueError("qps overrides must be > 0")
                self.overrides = {k: float(v) for k, v in qps.items()}
            self._buckets.clear()

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

    def admit(self, action: str, app: str) -> bool:
        """Take one token; False means the call is over the documented rate."""
        if not self.enabled:
            return True
        rate = self.qps(action)
        if rate is None:
            return True
        capacity = max(rate, 1.0)
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get((action, app))
            if bucket is None:
                bucket = self._buckets[(action, app)] = _Bucket(capacity, now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.stamp) * rate)
            bucket.stamp = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return True
            return False

    def to_dict(self) -> dict[str, object]:
        with self._lock:
            return {
                "enabled": self.enabled,
                "qps": {**DEFAULT_QPS, **self.overrides},
                "overrides": dict(self.overrides),
            }
