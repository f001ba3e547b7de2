"""Documented per-API request rates, enforced with token buckets; the rates and keys are the catalog's.

A bucket holds ``QPS`` tokens (at least one) and refills at ``QPS`` per second, so a burst up to the
documented rate always passes and anything faster is throttled; at 0.1/s (ZEGO's per-room
DescribeSimpleStreamList) one call per 10 s passes. Buckets are keyed by the entry and its
``rate_key``: SecretId and region for TRTC, SecretId for Live, AppId (and room) for ZEGO. A ZEGO
request with ``IsTest=true`` meets the entry's ``test_qps`` when it has one. An entry's further
``quotas`` (ZEGO's app-wide 50/s and 200/s beside the per-room limits) are buckets of their own,
keyed by the leading part of the rate key; a call passes only when every bucket has a token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .catalog import CATALOG, Api

#: Documented limits by action name (requests per second), as the admin API shows and overrides them.
DEFAULT_QPS: dict[str, float] = {api.action: api.qps for api in CATALOG.values() if api.qps is not None}


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


class RateLimiter:
    """Token buckets keyed by (product, action, rate key); ``enabled`` and per-action overrides switch
    at runtime (an override applies to every key and to the test environment alike)."""

    def __init__(self, enabled: bool = True, overrides: dict[str, float] | None = None) -> None:
        self._lock = threading.Lock()
        self.enabled = enabled
        self.overrides: dict[str, float] = dict(overrides or {})
        self._buckets: dict[tuple[str, str, str, bool], _Bucket] = {}
        #: the buckets' clock (seconds, monotonic); tests replace it to count tokens without sleeps
        self.clock: Callable[[], float] = time.monotonic

    def rate(self, api: Api, *, test: bool = False) -> float | None:
        return self.overrides.get(api.action, api.rate(test=test))

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

    def admit(self, api: Api, key: str, *, test: bool = False) -> bool:
        """Take one token from each of ``api``'s buckets for ``key``; False: the call is over a rate."""
        if not self.enabled:
            return True
        now = self.clock()
        wanted: list[tuple[tuple[str, str, str, bool], float]] = []
        rate = self.rate(api, test=test)
        if rate is not None:
            wanted.append(((api.product, api.action, key, test and api.test_qps is not None), rate))
        parts = key.split("|")
        for quota in api.quotas:
            sub = "|".join(parts[: len(quota.per)])
            wanted.append(((api.product, f"{api.action}/{'+'.join(quota.per)}", sub, False), quota.qps))
        with self._lock:
            buckets = []
            for slot, qps in wanted:
                capacity = max(qps, 1.0)
                bucket = self._buckets.get(slot)
                if bucket is None:
                    bucket = self._buckets[slot] = _Bucket(capacity, now)
                bucket.tokens = min(capacity, bucket.tokens + (now - bucket.stamp) * qps)
                bucket.stamp = now
                buckets.append(bucket)
            if any(b.tokens < 1.0 for b in buckets):
                return False
            for bucket in buckets:
                bucket.tokens -= 1.0
            return True

    def to_dict(self) -> dict[str, object]:
        with self._lock:
            return {
                "enabled": self.enabled,
                "qps": {**DEFAULT_QPS, **self.overrides},
                "overrides": dict(self.overrides),
            }
