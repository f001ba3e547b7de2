"""Validly signed callbacks of a large class, for the receiver load benchmark and the kill cycles.

Each callback is a ready HTTP request (path, headers, raw body) plus, when it leaves something a
reader must find afterwards, its *proof*: the recording task the changes API must list, or the
inventory item the ``/live`` read must show. Bodies follow the clouds' shapes (the sandbox's
builders in :mod:`airflow_provider_rtc.sandbox.lifecycle` and ``backends/trtc.py``, the ZEGO payloads
of tests/conformance/data/zego); signatures are made by the same functions the receiver verifies
with (:mod:`airflow_provider_rtc.signing.callbacks`).

The mix, per 20 callbacks (a 1,000-participant class: mostly users entering and leaving):
TRTC 6 enter/leave (group 1), 1 video start (group 2), 2 recording events (group 3); ZEGO 5
room_login/logout, 1 stream_create, 2 recording status callbacks; Live 3 push/stop-push. Every
user, stream and task is new, so every callback is stored (a burst of retries would measure the
duplicate path, which is cheaper). Every other block's entering users leave again (the oldest of
them at each leave), so some users are live at the end and some are not; only the users who stay
are proofs.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_rtc.signing.callbacks import (
    live_callback_sign,
    trtc_callback_sign,
    zego_callback_signature,
)

TRTC_APP = "1400000001"
ZEGO_APP = "1234567890"
LIVE_APP = "1250000000"
#: position in each block of 20 -> what is sent there
PATTERN = (
    "trtc_enter",
    "zego_login",
    "trtc_enter",
    "live_push",
    "trtc_record",
    "zego_login",
    "trtc_leave",
    "zego_record",
    "trtc_video",
    "zego_logout",
    "live_push",
    "trtc_enter",
    "zego_stream",
    "trtc_record",
    "zego_login",
    "live_stop",
    "trtc_leave",
    "zego_record",
    "zego_login",
    "trtc_enter",
)


@dataclass(frozen=True)
class Keys:
    trtc: str = "bench-trtc-callback-key-0123456789"
    zego: str = "bench-zego-callback-secret-0123456"
    live: str = "bench-live-callback-key-012345678"

    def env(self) -> dict[str, str]:
        """The receiver's environment variables for these keys."""
        return {
            "RTC_TRTC_CALLBACK_KEY": self.trtc,
            "RTC_TRTC_CALLBACK_SDK_APP_IDS": TRTC_APP,
            "RTC_ZEGO_CALLBACK_SECRET": self.zego,
            "RTC_LIVE_CALLBACK_KEY": self.live,
        }

    def airflow_env(self) -> dict[str, str]:
        """The same keys as the api-server plugin's ``[rtc_callbacks]`` options."""
        return {
            "AIRFLOW__RTC_CALLBACKS__ENABLED": "True",
            "AIRFLOW__RTC_CALLBACKS__TRTC_CALLBACK_KEY": self.trtc,
            "AIRFLOW__RTC_CALLBACKS__TRTC_CALLBACK_SDK_APP_IDS": TRTC_APP,
            "AIRFLOW__RTC_CALLBACKS__ZEGO_CALLBACK_SECRET": self.zego,
            "AIRFLOW__RTC_CALLBACKS__LIVE_CALLBACK_KEY": self.live,
        }


@dataclass(frozen=True)
class Callback:
    kind: str
    path: str
    headers: dict[str, str]
    body: bytes
    #: ("task", cloud, app_id, task_id) or ("item", cloud, app_id, kind, ids-json); None: no proof
    proof: tuple[str, ...] | None = None


@dataclass
class Mix:
    """An endless, deterministic sequence of distinct callbacks (``run`` keeps ids unique across runs
    that share one store). ZEGO timestamps and Live expiries are taken when each is built, so build
    a run's callbacks just before sending them (ZEGO's window is 300 s)."""

    keys: Keys = field(default_factory=Keys)
    run: str = "r0"
    rooms: int = 10
    _n: int = 0
    _leaving: deque[str] = field(default_factory=deque)

    def take(self, count: int) -> list[Callback]:
        return [next(self) for _ in range(count)]

    def __iter__(self) -> Iterator[Callback]:
        return self

    def __next__(self) -> Callback:
        i = self._n
        self._n += 1
        kind = PATTERN[i % len(PATTERN)]
        now = time.time()
        room = f"{self.run}-room-{i % self.rooms}"
        if kind.startswith("trtc"):
            return self._trtc(kind, i, room, now)
        if kind.startswith("zego"):
            return self._zego(kind, i, room, now)
        return self._live(kind, i, now)

    # -- TRTC: Sign header = base64 HMAC-SHA256 of the raw body (trtc.io/document/39558) ----------
    def _trtc(self, kind: str, i: int, room: str, now: float) -> Callback:
        ms = int(now * 1000)
        info: dict[str, Any] = {"RoomId": room, "EventTs": int(now), "EventMsTs": ms}
        proof: tuple[str, ...] | None = None
        if kind == "trtc_enter":
            user = f"{self.run}-u{i}"
            info.update(UserId=user, Role=21, TerminalType=2, UserType=3, Reason=1)
            group, etype = 1, 103
            if (i // len(PATTERN)) % 2:  # every other block's entering users leave later
                self._leaving.append(user)
            else:
                proof = ("item", "trtc", TRTC_APP, "users", json.dumps([room, user]))
        elif kind == "trtc_leave":
            user = self._leaving.popleft() if self._leaving else f"{self.run}-gone{i}"
            info.update(UserId=user, Role=21, TerminalType=2, UserType=3, Reason=1)
            group, etype = 1, 104
        elif kind == "trtc_video":
            info.update(UserId=f"{self.run}-u{i}")
            group, etype = 2, 201
        else:
            task = f"{self.run}-trtc-task-{i}"
            payload = {"Status": 0, "FileList": [f"{task}.mp4"], "FileMessage": []}
            info.update(UserId=f"recorder_{i}", TaskId=task, Payload=payload)
            group, etype = 3, 311
            proof = ("task", "trtc", TRTC_APP, task)
        body = _json({"EventGroupId": group, "EventType": etype, "CallbackTs": ms, "EventInfo": info})
        headers = {
            "Content-Type": "application/json",
            "SdkAppId": TRTC_APP,
            "Sign": trtc_callback_sign(body, self.keys.trtc),
        }
        return Callback(kind, "/trtc/callback", headers, body, proof)

    # -- ZEGO: signature = sha1(sorted([secret, timestamp, nonce])) in the body ---------------------
    def _zego(self, kind: str, i: int, room: str, now: float) -> Callback:
        timestamp, nonce = str(int(now)), f"{self.run}n{i}"
        signature = zego_callback_signature(self.keys.zego, timestamp, nonce)
        proof: tuple[str, ...] | None = None
        body: dict[str, Any]
        if kind == "zego_record":  # cloud-recording status callback (typed fields)
            task = f"{self.run}-zego-task-{i}"
            body = {
                "app_id": int(ZEGO_APP),
                "event_type": 1,
                "task_id": task,
                "room_id": room,
                "sequence": 1,
                "message": "",
                "detail": {"upload_status": 1, "file_info": [{"file_id": f"{task}.mp4", "status": 3}]},
            }
            proof = ("task", "zego", ZEGO_APP, task)
        else:  # RTC callbacks: every field a string
            user = f"{self.run}-z{i}"
            body = {"appid": ZEGO_APP, "room_id": room, "room_seq": str(i)}
            if kind == "zego_stream":
                body.update(
                    event="stream_create",
                    user_id=user,
                    stream_id=f"s-{user}",
                    create_time_ms=str(int(now * 1000)),
                )
            else:
                login = kind == "zego_login"
                body.update(
                    event="room_login" if login else "room_logout",
                    user_account=user,
                    user_role="2",
                    session_id=str(i),
                    **(
                        {"login_time": str(int(now * 1000))}
                        if login
                        else {"logout_time": str(int(now * 1000))}
                    ),
                )
                if login:
                    proof = ("item", "zego", ZEGO_APP, "users", json.dumps([room, user]))
        body.update(timestamp=timestamp, nonce=nonce, signature=signature)
        raw = _json(body)
        return Callback(kind, "/zego/callback", {"Content-Type": "application/json"}, raw, proof)

    # -- Live: sign = MD5(key + t), t the expiry (CSS 267/38081) ---------------------------------
    def _live(self, kind: str, i: int, now: float) -> Callback:
        t = int(now) + 600
        stream = f"{self.run}-live-{i}"
        body = {
            "appid": int(LIVE_APP),
            "app": "push.example.com",
            "appname": "live",
            "stream_id": stream,
            "channel_id": stream,
            "event_type": 1 if kind == "live_push" else 0,
            "event_time": int(now),
            "t": t,
            "sign": live_callback_sign(self.keys.live, t),
            "errcode": 0,
            "errmsg": "ok",
        }
        proof = None
        if kind == "live_push":
            proof = ("item", "live", LIVE_APP, "streams", stream)
        return Callback(kind, "/live/callback", {"Content-Type": "application/json"}, _json(body), proof)


def _json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()
