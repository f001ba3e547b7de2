"""The receiver's inventory routes refuse what is not signed as the clouds and readers sign it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from airflow_provider_rtc.callbacks.app import create_app
from airflow_provider_rtc.callbacks.auth import sign_read
from airflow_provider_rtc.callbacks.client import ReceiverTarget
from airflow_provider_rtc.callbacks.config import ReceiverConfig
from airflow_provider_rtc.discovery.receiver import fetch_live, post_corrections
from airflow_provider_rtc.exceptions import RtcAuthError
from airflow_provider_rtc.signing.callbacks import live_callback_sign
from tests.support.servers import ThreadedServer

LIVE_KEY = "liveKey0123"
ZEGO_SECRET = "zegoSecret0123"


@pytest.fixture
def server(tmp_path: Any) -> Iterator[ThreadedServer]:
    config = ReceiverConfig(
        db_path=str(tmp_path / "db.sqlite3"), zego_secrets={"*": ZEGO_SECRET}, live_keys={"*": LIVE_KEY}
    )
    srv = ThreadedServer(create_app(config))
    yield srv
    srv.stop()


def _push(event_type: int, name: str, *, key: str = LIVE_KEY, t: int | None = None) -> dict[str, Any]:
    t = int(time.time()) + 600 if t is None else t
    return {
        "appid": 1250000000,
        "app": "push.example.com",
        "appname": "live",
        "stream_id": name,
        "event_type": event_type,
        "event_time": int(time.time()),
        "t": t,
        "sign": live_callback_sign(key, t),
    }


def test_live_push_callbacks_feed_the_signed_inventory(server):
    url = server.url
    assert httpx.post(f"{url}/live/callback", json=_push(1, "s1")).status_code == 200
    assert httpx.post(f"{url}/live/callback", json=_push(1, "s2", key="wrong")).status_code == 401
    assert httpx.post(f"{url}/live/callback", json=_push(1, "s3", t=int(time.time()) - 5)).status_code == 401
    target = ReceiverTarget(url=url, key=LIVE_KEY)
    items = fetch_live(target, "live", 1250000000)["items"]
    assert [i["ids"]["stream_name"] for i in items] == ["s1"]
    with pytest.raises(RtcAuthError):
        fetch_live(ReceiverTarget(url=url, key="not-the-key"), "live", 1250000000)
    assert httpx.get(f"{url}/live/1250000000/live").status_code == 401  # unsigned
    assert httpx.get(f"{url}/aws/1/live", headers=sign_read(LIVE_KEY, "/aws/1/live")).status_code == 404
    ended = post_corrections(
        target,
        "live",
        1250000000,
        [
            {
                "kind": "streams",
                "ids": items[0]["ids"],
                "live": False,
                "at_ms": int(time.time() * 1000),
                "reason": "x",
            }
        ],
    )
    assert [c["change"] for c in ended] == ["ended"] and fetch_live(target, "live", 1250000000)["items"] == []


def test_corrections_must_carry_the_signed_hash_of_their_body(server):
    path = "/zego/7/live/corrections"
    body = json.dumps({"corrections": [{"kind": "rooms", "ids": {"room_id": "r"}, "live": True, "at_ms": 1}]})
    signed = f"{path}?sha256=" + "0" * 64
    resp = httpx.post(
        server.url + signed, content=body, headers=sign_read(ZEGO_SECRET, signed, method="POST")
    )
    assert resp.status_code == 401 and "sha256" in resp.json()["message"]
    assert httpx.post(server.url + path, content=b"{" * 5000).status_code in (400, 401)
