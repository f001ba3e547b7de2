"""A Live callback's signature (MD5(key + t)) covers no body: one (t, sign) pair, one body per stream."""

from __future__ import annotations

import time
from typing import Any

import httpx

from airflow_provider_rtc.callbacks.app import create_app
from airflow_provider_rtc.callbacks.client import ReceiverTarget
from airflow_provider_rtc.discovery.receiver import fetch_live
from airflow_provider_rtc.signing.callbacks import live_callback_sign
from tests.support.postgres import receiver_config
from tests.support.servers import ThreadedServer

KEY = "liveKey0123"
APPID = 1250000000


def _event(event_type: int, t: int, name: str = "s1") -> dict[str, Any]:
    return {
        "appid": APPID,
        "app": "push.example.com",
        "appname": "live",
        "stream_id": name,
        "event_type": event_type,
        "event_time": int(time.time()),
        "t": t,
        "sign": live_callback_sign(KEY, t),
    }


def _serve(location: Any) -> ThreadedServer:
    return ThreadedServer(create_app(receiver_config(location, live_keys={"*": KEY})))


def _live_streams(url: str) -> list[str]:
    items = fetch_live(ReceiverTarget(url=url, key=KEY), "live", APPID)["items"]
    return [i["ids"]["stream_name"] for i in items if i["live"]]


def test_a_signature_is_good_for_one_body_even_across_restarts_and_workers(store_location):
    db = store_location  # two workers (SQLite) or two hosts (PostgreSQL) sharing one store
    t = int(time.time()) + 600
    push = _event(1, t)
    first, second = _serve(db), _serve(db)  # two workers sharing one store
    try:
        assert httpx.post(f"{first.url}/live/callback", json=push).status_code == 200
        # Tencent's retry of the same notification: a duplicate, accepted, nothing changes
        assert httpx.post(f"{second.url}/live/callback", json=push).status_code == 200
        # the captured (t, sign) reused for a stop-push the cloud never sent: refused by both
        forged = {**_event(0, t), "event_time": push["event_time"] + 1}
        assert httpx.post(f"{first.url}/live/callback", json=forged).status_code == 409
        assert httpx.post(f"{second.url}/live/callback", json=forged).status_code == 409
        # Tencent signs only key + t: another stream's notification of the same second is genuine
        assert httpx.post(f"{second.url}/live/callback", json=_event(1, t, "s2")).status_code == 200
        assert _live_streams(first.url) == ["s1", "s2"]
    finally:
        first.stop()
        second.stop()
    restarted = _serve(db)
    try:
        assert httpx.post(f"{restarted.url}/live/callback", json=forged).status_code == 409
        # a new notification (its own t) is accepted as before
        assert httpx.post(f"{restarted.url}/live/callback", json=_event(0, t + 1)).status_code == 200
    finally:
        restarted.stop()
