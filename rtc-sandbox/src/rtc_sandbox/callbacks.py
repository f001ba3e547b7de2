"""Delivery of callbacks, signed and retried the way TRTC does it (lifecycle callbacks of ZEGO and
Live too, signed their way; see :mod:`.lifecycle`).

Each callback is serialized once; ``Sign`` is base64(HMAC-SHA256(key, those exact bytes)) and every
retry resends the same bytes. Retries follow trtc.io/54914: a 5 s timeout, one immediate retry,
then one every 10 s until the message is a minute old (all three configurable). Every generated
callback is logged, delivered or not; with no URL configured it is logged and not sent. The ``Sign``
header is sent only when a key is configured (the console key is optional). Deliveries run in
parallel, so a receiver may see them out of order (as with TRTC); the log keeps generation order.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from . import lifecycle
from .backends.trtc import CallbackEvent
from .clock import Clock
from .config import CallbackSettings
from .signing import (
    live_callback_sign,
    trtc_callback_sign,
    zego_callback_signature,
)

#: a Live notification's signature expires 10 minutes after it is sent (CSS callback docs)
LIVE_SIGN_TTL = 600


@dataclass
class _Delivery:
    id: int
    event_type: int | str
    task_id: str
    sdk_app_id: int
    url: str | None
    headers: dict[str, str]
    body: bytes
    created: float
    created_at: float
    timeout: float
    retry_interval: float
    max_age: float
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = False
    gave_up: bool = False
    cloud: str = "trtc"
    kind: str = "recording"
    fate: str = "sent"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event_type": self.event_type,
            "task_id": self.task_id,
            "sdk_app_id": self.sdk_app_id,
            "url": self.url,
            "headers": dict(self.headers),
            "body": json.loads(self.body),
            "raw_body": self.body.decode(),
            "created_at": self.created_at,
            "attempts": list(self.attempts),
            "delivered": self.delivered,
            "gave_up": self.gave_up,
            "cloud": self.cloud,
            "kind": self.kind,
            "fate": self.fate,
        }


class CallbackDispatcher:
    """Signs, logs and delivers callbacks on a small worker pool; ``run_due`` is driven by a ticker."""

    def __init__(self, settings: CallbackSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._log: list[_Delivery] = []
        self._due: list[tuple[float, int, _Delivery]] = []
        self._seq = itertools.count(1)
        self._nonces = itertools.count(100_001)
        self._pool: ThreadPoolExecutor | None = None
        # one client for every delivery: ``httpx.post`` builds a client (and its TLS context) per
        # call, about 40 ms of CPU each, which capped delivery near 22 callbacks/s on two cores
        self._client: httpx.Client | None = None

    def configure(self, **changes: Any) -> None:
        allowed = {
            "url",
            "key",
            "room_url",
            "zego_url",
            "zego_secret",
            "live_url",
            "live_key",
            "live_app_id",
            "timeout",
            "retry_interval",
            "max_age",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"unknown callback settings: {sorted(unknown)}")
        with self._lock:
            for name, value in changes.items():
                if name in ("timeout", "retry_interval", "max_age"):
                    value = float(value)
                elif name in ("key", "zego_secret", "live_key"):
                    value = str(value or "")
                elif name == "live_app_id":
                    value = int(value)
                setattr(self.settings, name, value)

    def settings_dict(self) -> dict[str, Any]:
        s = self.settings
        return {
            "url": s.url,
            "key": s.key,
            "room_url": s.room_url,
            "zego_url": s.zego_url,
            "zego_secret": s.zego_secret,
            "live_url": s.live_url,
            "live_key": s.live_key,
            "live_app_id": s.live_app_id,
            "timeout": s.timeout,
            "retry_interval": s.retry_interval,
            "max_age": s.max_age,
        }

    def emit(self, event: CallbackEvent) -> None:
        body = json.dumps(event.body(self.clock.ms()), ensure_ascii=False, separators=(",", ":")).encode()
        with self._lock:
            s = self.settings
            headers = {"Content-Type": "application/json", "SdkAppId": str(event.sdk_app_id)}
            if s.key:
                headers["Sign"] = trtc_callback_sign(body, s.key)
            delivery = _Delivery(
                id=next(self._seq),
                event_type=event.event_type,
                task_id=event.task_id,
                sdk_app_id=event.sdk_app_id,
                url=s.url,
                headers=headers,
                body=body,
                created=self.clock.monotonic(),
                created_at=self.clock.time(),
                timeout=s.timeout,
                retry_interval=s.retry_interval,
                max_age=s.max_age,
            )
            self._log.append(delivery)
            if delivery.url:
                heapq.heappush(self._due, (delivery.created, delivery.id, delivery))

    def emit_lifecycle(self, event: lifecycle.LifecycleEvent, fate: str = "sent", delay: float = 0.0) -> None:
        """Sign and queue one lifecycle callback; a "lost" one is logged and never sent, a "late" one
        is first sent ``delay`` seconds from now (the cloud's retries then follow as usual). With no
        URL configured for its cloud, nothing is logged: no receiver subscribed to these events."""
        with self._lock:
            s = self.settings
            url = {"trtc": s.room_url, "zego": s.zego_url, "live": s.live_url}[event.cloud]
            if not url:
                return
            headers = {"Content-Type": "application/json"}
            if event.cloud == "trtc":
                body_dict = lifecycle.trtc_body(event, self.clock.ms())
                body = _dumps(body_dict)
                headers["SdkAppId"] = str(event.app_id)
                if s.key:
                    headers["Sign"] = trtc_callback_sign(body, s.key)
            elif event.cloud == "zego":
                timestamp = int(self.clock.time())
                nonce = str(next(self._nonces))
                signature = zego_callback_signature(s.zego_secret, timestamp, nonce) if s.zego_secret else ""
                body = _dumps(lifecycle.zego_body(event, nonce, timestamp, signature))
            else:
                t = int(self.clock.time()) + LIVE_SIGN_TTL
                sign = live_callback_sign(s.live_key, t) if s.live_key else ""
                body = _dumps(lifecycle.live_body(event, t, sign))
            created = self.clock.monotonic() + (delay if fate == "late" else 0.0)
            delivery = _Delivery(
                id=next(self._seq),
                event_type=event.name,
                task_id=str(event.fields.get("task_id", event.fields.get("TaskId", ""))),
                sdk_app_id=event.app_id,
                url=url,
                headers=headers,
                body=body,
                created=created,
                created_at=self.clock.time(),
                timeout=s.timeout,
                retry_interval=s.retry_interval,
                max_age=s.max_age,
                cloud=event.cloud,
                kind=event.kind,
                fate=fate,
            )
            self._log.append(delivery)
            if fate == "lost":
                delivery.gave_up = True
            elif delivery.url:
                heapq.heappush(self._due, (delivery.created, delivery.id, delivery))

    def run_due(self) -> None:
        """Hand every attempt that is due to the worker pool."""
        now = self.clock.monotonic()
        with self._lock:
            ready = []
            while self._due and self._due[0][0] <= now:
                ready.append(heapq.heappop(self._due)[2])
            if ready and self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rtc-sandbox-callback")
                self._client = httpx.Client(trust_env=False)
            pool, client = self._pool, self._client
        # One task's callbacks that are due together go out one after the other, in the order they
        # were made (TRTC documents "311 per file, then 312": trtc.io 54914); different tasks go out
        # side by side. A failed attempt is retried on its own later, so it can then arrive after its
        # successors, as the cloud's retries can.
        batches: dict[tuple[str, str], list[_Delivery]] = {}
        for delivery in ready:
            key = (delivery.cloud, delivery.task_id) if delivery.task_id else ("", str(delivery.id))
            batches.setdefault(key, []).append(delivery)
        for batch in batches.values():
            assert pool is not None
            assert client is not None
            pool.submit(self._attempt_in_order, client, batch)

    def _attempt_in_order(self, client: httpx.Client, batch: list[_Delivery]) -> None:
        for delivery in batch:
            self._attempt(client, delivery)

    def _attempt(self, client: httpx.Client, delivery: _Delivery) -> None:
        started = time.monotonic()
        record: dict[str, Any] = {"at": self.clock.time()}
        ok = False
        try:
            assert delivery.url is not None
            resp = client.post(
                delivery.url,
                content=delivery.body,
                headers=delivery.headers,
                timeout=delivery.timeout,
            )
            record["status"] = resp.status_code
            ok = resp.status_code == 200
        except httpx.HTTPError as err:
            record["error"] = f"{type(err).__name__}: {err}"
        except RuntimeError as err:
            # ``close()`` (the sandbox stopping) closed the client under a delivery already handed to
            # the pool: a failed attempt like any other (retried if the sandbox starts again), not
            # an exception lost in the pool's future with the delivery left unrecorded
            if not client.is_closed:
                raise
            record["error"] = f"the sandbox stopped: {err}"
        record["elapsed"] = round(time.monotonic() - started, 3)
        with self._lock:
            delivery.attempts.append(record)
            if ok:
                delivery.delivered = True
                return
            # TRTC retries the first failure at once, then on a retry_interval cadence from creation
            tries = len(delivery.attempts)
            due = (
                self.clock.monotonic()
                if tries == 1
                else delivery.created + (tries - 1) * delivery.retry_interval
            )
            if due - delivery.created > delivery.max_age:
                delivery.gave_up = True
                return
            heapq.heappush(self._due, (due, delivery.id, delivery))

    def log(self) -> list[dict[str, Any]]:
        with self._lock:
            return [d.to_dict() for d in self._log]

    def pending(self) -> int:
        with self._lock:
            return len(self._due)

    def clear(self) -> None:
        with self._lock:
            self._log.clear()
            self._due.clear()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            client, self._client = self._client, None
            self._due.clear()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        if client is not None:
            client.close()


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
