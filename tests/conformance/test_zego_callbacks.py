"""ZEGO's own callback examples, signed per ZEGO's rule, through the real receiver app over HTTP.

The signature is computed here from ZEGO's documented rule (sha1 of the sorted concatenation of
secret, timestamp and nonce; checked against the doc's vector), not with the provider's signer, so
the receiver is judged by the vendor's rule rather than by its own understanding of it. One receiver
serves the module; its database is emptied before each example (the examples reuse nonces, which
the receiver rightly refuses to replay).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from airflow_provider_rtc.callbacks.app import create_app
from airflow_provider_rtc.callbacks.config import ReceiverConfig
from airflow_provider_rtc.callbacks.inventory import Item
from airflow_provider_rtc.callbacks.lifecycle_store import LifecycleStore
from airflow_provider_rtc.callbacks.store import CallbackStore
from tests.support.servers import ThreadedServer

from .conftest import zego_example

SECRET = "conformance-callback-secret"


def zego_signature(secret: str, timestamp: Any, nonce: Any) -> str:
    """ZEGO's callback rule (callback/receiving-callback.mdx): sort [secret, timestamp, nonce] as
    strings, concatenate, sha1, lowercase hex."""
    return hashlib.sha1("".join(sorted([secret, str(timestamp), str(nonce)])).encode()).hexdigest()


def test_the_signature_rule_matches_zegos_documented_vector() -> None:
    # ZEGO callback docs: nonce 123412, timestamp 1470820198, secret "secret"
    assert zego_signature("secret", 1470820198, 123412) == "5bd59fd62953a8059fb7eaba95720f66d19e4517"


class Receiver:
    """The real receiver app on 127.0.0.1, its clock settable, its database emptied between tests."""

    def __init__(self, tmp_path: Any) -> None:
        self.db = str(tmp_path / "receiver.sqlite3")
        self.now = 0.0
        config = ReceiverConfig(db_path=self.db, zego_secrets={"*": SECRET})
        self.server = ThreadedServer(create_app(config, clock=lambda: self.now))

    def empty(self) -> None:
        """Forget every event, item and nonce (ZEGO's examples reuse nonces: a replay otherwise)."""
        if not os.path.exists(self.db):
            return
        with contextlib.closing(sqlite3.connect(self.db)) as db, db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                db.execute(f'DELETE FROM "{table}"')

    def post(self, payload: dict[str, Any], secret: str = SECRET) -> httpx.Response:
        self.now = float(payload["timestamp"]) + 1
        signed = {**payload, "signature": zego_signature(secret, payload["timestamp"], payload["nonce"])}
        return httpx.post(f"{self.server.url}/zego/callback", json=signed, timeout=5)

    def items(self, app_id: Any) -> list[Item]:
        return LifecycleStore(self.db).items("zego", app_id, live_only=False)


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receiver]:
    started = Receiver(tmp_path_factory.mktemp("receiver"))
    yield started
    started.server.stop()


@pytest.fixture
def deliver(receiver: Receiver) -> Any:
    """Post one example, signed, to the emptied receiver whose clock is the example's own timestamp."""

    def _deliver(stem: str, **changes: str) -> tuple[Receiver, dict[str, Any]]:
        receiver.empty()
        payload = {**zego_example(stem)["payload"], **changes}
        resp = receiver.post(payload)
        assert resp.status_code == 200, resp.text
        assert resp.json() == {"code": 0}
        return receiver, payload

    return _deliver


def _item(receiver: Receiver, app_id: Any, kind: str, ids: dict[str, Any]) -> Item:
    found = [i for i in receiver.items(app_id) if i.kind == kind and i.ids == ids]
    assert len(found) == 1, [i.as_dict() for i in receiver.items(app_id)]
    return found[0]


#: stem -> (kind, ids, live, state_ms), what ZEGO's example must do to the inventory
EXPECT: dict[str, tuple[str, dict[str, str], bool, int]] = {
    "cb_room_create": ("rooms", {"room_id": "rid_1242649"}, True, 1499676978027),
    "cb_room_close": ("rooms", {"room_id": "rid_1242649"}, False, 1499676989909),
    "cb_room_login": ("users", {"room_id": "rid_1242649", "user_id": "888120154"}, True, 1499676978027),
    "cb_room_logout": ("users", {"room_id": "rid_1242649", "user_id": "888120154"}, False, 1663740627986),
    "cb_stream_create": (
        "streams",
        {"room_id": "room1", "user_id": "user1", "stream_id": "stream_id"},
        True,
        1687981272742,
    ),
    "cb_stream_close": (
        "streams",
        {"room_id": "room1", "user_id": "user1", "stream_id": "stream_id"},
        False,
        1666986067248,
    ),
    "cb_mix_start": ("mixes", {"task_id": "1111", "room_id": "2222"}, True, 1689834748000),
    "cb_mix_stop": ("mixes", {"task_id": "1111", "room_id": "2222"}, False, 1689835223000),
}
#: ZEGO's room_logout and stream_close examples date their event AFTER the callback's own ``timestamp``
#: (logout_time 1663740627986 vs timestamp 1499676978; destroy_timemillis 1666986067248 vs
#: 1666786067): inconsistent within the doc. The receiver rightly stores no time later than the
#: receipt (callbacks/inventory.py, "Times you can trust"), so as printed the example's event time
#: cannot be seen; these are delivered with the send time moved to just after their event.
SENT_AFTER_EVENT = {"cb_room_logout": "1663740628", "cb_stream_close": "1666986068"}


@pytest.mark.parametrize("stem", list(EXPECT))
def test_zego_lifecycle_example_updates_the_inventory(deliver: Any, stem: str) -> None:
    resent = {"timestamp": SENT_AFTER_EVENT[stem]} if stem in SENT_AFTER_EVENT else {}
    receiver, payload = deliver(stem, **resent)
    kind, ids, live, state_ms = EXPECT[stem]
    item = _item(receiver, payload["appid"], kind, ids)
    assert item.live is live
    assert item.state_ms == state_ms


@pytest.mark.parametrize("stem", sorted(SENT_AFTER_EVENT))
def test_example_dated_after_its_callback_is_stored_at_its_receipt(deliver: Any, stem: str) -> None:
    """ZEGO's example as printed: its event time is later than the callback's send time, so it is
    clamped to the receipt (the receiver's clock is the example's timestamp + 1 s)."""
    receiver, payload = deliver(stem)
    kind, ids, live, _ = EXPECT[stem]
    item = _item(receiver, payload["appid"], kind, ids)
    assert (item.live, item.state_ms) == (live, (int(payload["timestamp"]) + 1) * 1000)


def test_mix_start_timestamp_is_the_callbacks_own(deliver: Any) -> None:
    """mix_start/mix_stop carry no event time of their own: the callback's ``timestamp`` (seconds)."""
    receiver, payload = deliver("cb_mix_start")
    assert payload["timestamp"] == "1689834748"
    mix = _item(receiver, "111111", "mixes", {"task_id": "1111", "room_id": "2222"})
    assert mix.started_ms == 1689834748000


def test_mix_callback_ties_the_mix_to_its_room(deliver: Any) -> None:
    receiver, _ = deliver("cb_mix_start")
    (mix,) = [i for i in receiver.items("111111") if i.kind == "mixes"]
    assert "2222" in json.dumps(mix.as_dict())


def test_login_and_stream_examples_also_say_their_room_is_live(deliver: Any) -> None:
    for stem, app, room, at in (
        ("cb_room_login", "1", "rid_1242649", 1499676978027),
        ("cb_stream_create", "1", "room1", 1687981272742),
    ):
        receiver, _ = deliver(stem)
        room_item = _item(receiver, app, "rooms", {"room_id": room})
        assert (room_item.live, room_item.state_ms) == (True, at)


def test_recording_status_example_is_stored_for_its_task(deliver: Any) -> None:
    receiver, _ = deliver("cb_recording_status")
    (event,) = CallbackStore(receiver.db).events("zego", "1234567890", "YZ4joOE4IwmFAAAT")
    assert event.event_type == 1
    assert event.status == 1  # detail.upload_status
    assert event.file_key == "seq:1"
    assert event.body["detail"]["file_info"][0]["file_size"] == 25349026
    assert "signature" not in event.body and "nonce" not in event.body


@pytest.mark.parametrize("stem", [*sorted(EXPECT), "cb_recording_status"])
def test_zego_example_signed_with_another_secret_is_refused(receiver: Receiver, stem: str) -> None:
    receiver.empty()
    payload = zego_example(stem)["payload"]
    assert receiver.post(payload, secret="not-the-secret").status_code == 401
    assert receiver.items(payload.get("appid", payload.get("app_id"))) == []
