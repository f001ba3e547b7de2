"""Lifecycle callbacks of all three clouds: what a room, user, stream, mix or push did, as the cloud
would notify it, plus the seeded "lost" and "late" faults that make reconciliation necessary.

Backends only record :class:`LifecycleEvent` objects (under their own lock); the ticker drains them,
decides each one's fate from the seeded RNG (in generation order, so a seed replays the same losses)
and hands the body to the dispatcher, which signs it the way the cloud does:

* TRTC room (EventGroupId 1: 101 created, 102 dismissed, 103 entered, 104 left) and media events
  (2: 201/202 video started/stopped, 203/204 audio) - ``Sign`` header, base64 HMAC-SHA256 of the body
  (trtc.io/document/39558).
* ZEGO ``room_create``/``room_close``/``room_login``/``room_logout``/``stream_create``/``stream_close``/
  ``mix_start``/``mix_stop`` and the cloud-recording status callback - ``signature`` =
  sha1(sorted([CallbackSecret, timestamp, nonce])) in the body; RTC callback fields are strings.
* Tencent Live push (``event_type`` 1) and stop-push (0) - ``sign`` = MD5(key + t), ``t`` the
  notification's expiry (10 minutes after sending) (CSS 267/38081).

Decisions where the docs are silent: TRTC 104 ``Reason`` is 1 for a normal exit, 3 for RemoveUser and
4 for DismissRoom; a ZEGO room whose last user leaves emits ``room_close`` (close_reason 1) while
CloseRoom emits it only with ``RoomCloseCallback=true`` (documented); recording callbacks are not
subject to "lost"/"late" unless ``kinds`` says so (they have their own faults, see faults.py).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

#: event families the lifecycle faults apply to by default: room, user, stream and Live push events
DEFAULT_FAULT_KINDS = ("room", "user", "stream", "push")
ALL_KINDS = ("room", "user", "stream", "mix", "recording", "push")


@dataclass
class LifecycleEvent:
    """One notification: ``cloud`` trtc/zego/live, ``kind`` (room/user/stream/mix/recording/push),
    ``name`` (the cloud's event id) and the cloud-specific ``fields`` of its body."""

    cloud: str
    app_id: int
    kind: str
    name: int | str
    at: float
    fields: dict[str, Any] = field(default_factory=dict)


class LifecycleOutbox:
    """Thread-safe list of generated events, drained by the ticker."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[LifecycleEvent] = []

    def add(self, cloud: str, app_id: int, kind: str, name: int | str, at: float, **fields: Any) -> None:
        with self._lock:
            self._events.append(LifecycleEvent(cloud, int(app_id), kind, name, at, fields))

    def drain(self) -> list[LifecycleEvent]:
        with self._lock:
            out, self._events = self._events, []
            return out

    def clear(self) -> None:
        self.drain()


@dataclass
class LifecycleFaults:
    """``lost``/``late`` probabilities per event (seeded), the delay of a late one, and which kinds."""

    lost: float = 0.0
    late: float = 0.0
    late_seconds: float = 5.0
    kinds: tuple[str, ...] = DEFAULT_FAULT_KINDS

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LifecycleFaults:
        unknown = set(data) - {"lost", "late", "late_seconds", "kinds"}
        if unknown:
            raise ValueError(f"unknown lifecycle fault keys: {sorted(unknown)}")
        out = cls(
            lost=float(data.get("lost", 0.0)),
            late=float(data.get("late", 0.0)),
            late_seconds=float(data.get("late_seconds", 5.0)),
            kinds=tuple(data.get("kinds", DEFAULT_FAULT_KINDS)),
        )
        if not (0.0 <= out.lost <= 1.0 and 0.0 <= out.late <= 1.0 and out.lost + out.late <= 1.0):
            raise ValueError("lifecycle lost and late must be probabilities whose sum is at most 1")
        if out.late_seconds < 0:
            raise ValueError("lifecycle late_seconds must be >= 0")
        bad = set(out.kinds) - set(ALL_KINDS)
        if bad:
            raise ValueError(f"lifecycle kinds must be among {ALL_KINDS}, not {sorted(bad)}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "lost": self.lost,
            "late": self.late,
            "late_seconds": self.late_seconds,
            "kinds": list(self.kinds),
        }


class FateDrawer:
    """Decides "sent", "lost" or "late" for each event from its own seeded RNG (one draw per event
    of a faulted kind), so request faults and callback faults never shift each other's sequences."""

    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        self.faults = LifecycleFaults()
        self._rng = random.Random(f"lifecycle:{seed}")

    def configure(self, faults: LifecycleFaults, seed: int) -> None:
        with self._lock:
            self.faults = faults
            self._rng = random.Random(f"lifecycle:{seed}")

    def fate(self, event: LifecycleEvent) -> tuple[str, float]:
        with self._lock:
            f = self.faults
            if event.kind not in f.kinds or (f.lost == 0.0 and f.late == 0.0):
                return "sent", 0.0
            draw = self._rng.random()
            if draw < f.lost:
                return "lost", 0.0
            if draw < f.lost + f.late:
                return "late", f.late_seconds
            return "sent", 0.0


# -- bodies, as each cloud shapes them ------------------------------------------------------------


def trtc_body(event: LifecycleEvent, callback_ms: int) -> dict[str, Any]:
    group = 1 if int(event.name) < 200 else 2
    info = {
        "RoomId": event.fields["room_id"],
        "EventTs": int(event.at),
        "EventMsTs": int(event.at * 1000),
    }
    info.update({k: v for k, v in event.fields.items() if k != "room_id"})
    return {"EventGroupId": group, "EventType": int(event.name), "CallbackTs": callback_ms, "EventInfo": info}


def zego_body(event: LifecycleEvent, nonce: str, timestamp: int, signature: str) -> dict[str, Any]:
    if event.kind == "recording":  # cloud-recording status callback v2: typed fields
        return {
            "app_id": event.app_id,
            "event_type": int(event.name),
            "nonce": nonce,
            "timestamp": str(timestamp),
            "signature": signature,
            **event.fields,
        }
    body = {k: str(v) for k, v in event.fields.items()}  # RTC callbacks send (almost) every field as a string
    body.update(
        appid=str(event.app_id),
        event=str(event.name),
        nonce=nonce,
        timestamp=str(timestamp),
        signature=signature,
    )
    return body


def live_body(event: LifecycleEvent, t: int, sign: str) -> dict[str, Any]:
    return {
        "appid": event.app_id,
        "event_type": int(event.name),
        "event_time": int(event.at),
        "t": t,
        "sign": sign,
        "errcode": 0,
        "errmsg": "ok",
        **event.fields,
    }
