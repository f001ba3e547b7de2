"""The receiver's callback checks as an operator and a watcher see them: each refusal's status, body
and warning, which TRTC callbacks are stored, the inventory they feed, and the fields a ZEGO callback
is stored with (the "appid:taskid" split, ``seq:`` file keys, upload_status, event_ms).

Written for the mutants run 8 of `make mutate` left alive in ``callbacks/app.py``'s ``trtc_callback``
and ``_store_zego``: the receiver tests proved a good callback is stored and a forged one refused,
not what the refusal says, nor which fields a stored ZEGO event carries. HTTP through Starlette's
TestClient (which raises on any server-side exception: a 500 fails the test), the receiver on a
fixed clock.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_rtc.callbacks.config import ReceiverConfig
from airflow_provider_rtc.callbacks.http import Malformed
from airflow_provider_rtc.callbacks.lifecycle_store import LifecycleStore
from airflow_provider_rtc.callbacks.store import CallbackStore
from airflow_provider_rtc.signing.callbacks import trtc_callback_sign, zego_callback_signature
from tests.recordings.conftest import trtc_event
from tests.support.receiver import (
    APP,
    KEY,
    NOW,
    SECRET,
    ZEGO_APP,
    TestClient,
    receiver_client,
    receiver_config,
    zego_callback,
)

NOW_MS = int(NOW * 1000)
LOGGER = "airflow_provider_rtc.callbacks.app"
ACK = {"code": 0}


def post_trtc(
    client: TestClient,
    event: dict[str, Any],
    *,
    app: str | None = APP,
    key: str = KEY,
    sign: str | None = None,
) -> httpx.Response:
    raw = json.dumps(event).encode()
    headers = {"Sign": sign or trtc_callback_sign(raw, key)}
    if app is not None:
        headers["SdkAppId"] = app
    return client.post("/trtc/callback", content=raw, headers=headers)


def zego(nonce: str, **fields: Any) -> dict[str, Any]:
    """A signed ZEGO callback at the receiver's time; a field given as None is left out."""
    return {k: v for k, v in zego_callback(nonce, NOW, **fields).items() if v is not None}


def logged(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    """The receiver's lines at ``level``, its start-up notes (create_app's key warnings) left out."""
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == level]
    return [line for line in lines if not line.startswith("RTC callback receiver")]


def stored_tasks(cfg: ReceiverConfig, cloud: str, app_id: str) -> list[str]:
    return [t["task_id"] for t in CallbackStore(cfg.db_path).changed_tasks(cloud, app_id, 0)]


def test_a_refusal_carries_its_reason_as_its_message() -> None:
    err = Malformed(413, "callback body too large")
    assert (str(err), err.status, err.message) == ("callback body too large", 413, "callback body too large")


# -- TRTC: refusals ----------------------------------------------------------------------------------


def test_a_bad_sign_is_401_and_the_warning_names_the_sdkappid_cut_to_32_characters(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    client = receiver_client(receiver_config(tmp_path))
    long_app = "14000000019" * 4  # 44 digits: only the first 32 reach the log
    resp = post_trtc(client, trtc_event("t", 305, {"Status": 0}), app=long_app, sign="bm90LWl0")
    assert (resp.status_code, resp.json()) == (401, {"code": 401, "message": "missing or bad Sign"})
    resp = post_trtc(client, trtc_event("t", 305, {"Status": 0}), app=None, sign="bm90LWl0")
    assert resp.status_code == 401
    assert logged(caplog, logging.WARNING) == [
        f"rejected a TRTC callback for SdkAppId {long_app[:32]!r}: missing or bad Sign",
        "rejected a TRTC callback for SdkAppId '': missing or bad Sign",
    ]


@pytest.mark.parametrize("signing_key", ["", "XXXX", KEY])
def test_without_a_trtc_key_no_sign_opens_the_receiver(tmp_path: Path, signing_key: str) -> None:
    client = receiver_client(receiver_config(tmp_path, trtc_keys={}))
    resp = post_trtc(client, trtc_event("t", 305, {"Status": 0}), key=signing_key)
    assert resp.status_code == 401


def test_a_signed_callback_of_an_unlisted_sdkappid_is_403_with_what_to_do(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    cfg = receiver_config(tmp_path, trtc_sdk_app_ids=frozenset({APP}))
    other = "1400000002" * 4  # 40 digits, not listed for the default key
    resp = post_trtc(receiver_client(cfg), trtc_event("t", 305, {"Status": 0}), app=other)
    assert (resp.status_code, resp.json()) == (
        403,
        {
            "code": 403,
            "message": "callbacks for this SdkAppId are not accepted here: give it its own key or list it "
            "in RTC_TRTC_CALLBACK_SDK_APP_IDS",
        },
    )
    assert logged(caplog, logging.WARNING) == [
        f"refused a TRTC callback for SdkAppId {other[:32]!r}: not configured"
    ]
    assert stored_tasks(cfg, "trtc", other) == []


@pytest.mark.parametrize("app", ["abc", None], ids=["letters", "absent"])
def test_a_signed_callback_without_a_numeric_sdkappid_is_400_and_not_stored(
    tmp_path: Path, app: str | None
) -> None:
    cfg = receiver_config(tmp_path)
    resp = post_trtc(receiver_client(cfg), trtc_event("t", 305, {"Status": 0}), app=app)
    assert (resp.status_code, resp.json()) == (400, {"code": 400, "message": "missing SdkAppId header"})
    assert stored_tasks(cfg, "trtc", app or "") == []


# -- TRTC: what is stored --------------------------------------------------------------------------


def test_room_callbacks_feed_the_inventory_of_their_sdkappid(tmp_path: Path) -> None:
    cfg = receiver_config(tmp_path)
    created = {"EventGroupId": 1, "EventType": 101, "EventInfo": {"RoomId": 7, "EventMsTs": NOW_MS - 1000}}
    resp = post_trtc(receiver_client(cfg), created)
    assert (resp.status_code, resp.json()) == (200, ACK)
    (room,) = LifecycleStore(cfg.store_location).items("trtc", APP, now=NOW)
    assert (room.cloud, room.app_id, room.kind, room.ids["room_id"], room.live) == (
        "trtc",
        APP,
        "rooms",
        7,
        True,
    )
    assert stored_tasks(cfg, "trtc", APP) == []  # a room event is no recording event


def test_only_recording_events_with_a_task_are_stored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    cfg = receiver_config(tmp_path)
    client = receiver_client(cfg)
    no_task = trtc_event("gone", 305, {"Status": 0})
    del no_task["EventInfo"]["TaskId"]
    audio = {"EventGroupId": 2, "EventType": 201, "EventInfo": {"RoomId": 7, "TaskId": "media-task"}}
    as_text = {**trtc_event("text-group", 305, {"Status": 0}), "EventGroupId": "3"}
    for event in (no_task, audio, as_text):
        resp = post_trtc(client, event)
        assert (resp.status_code, resp.json()) == (200, ACK)
    assert stored_tasks(cfg, "trtc", APP) == ["text-group"]  # TRTC may send the group as text
    debug = logged(caplog, logging.DEBUG)
    assert "acknowledged TRTC callback group 3 type 305 (not stored)" in debug
    assert "acknowledged TRTC callback group 2 type 201 (not stored)" in debug


# -- ZEGO: what is stored --------------------------------------------------------------------------


def test_zego_mix_task_ids_lose_only_their_own_app_prefix(tmp_path: Path) -> None:
    cfg = receiver_config(tmp_path)
    client = receiver_client(cfg)
    for nonce, task in (("a", f"{ZEGO_APP}:mix:1"), ("b", "999:mix_2"), ("c", ZEGO_APP)):
        resp = client.post("/zego/callback", json=zego(nonce, task_id=task))
        assert (resp.status_code, resp.json()) == (200, ACK)
    # "appid:taskid" (mix callbacks) -> the task id after the first colon, colons and all; another
    # application's prefix stays, and a task id that is the app id itself is kept whole
    assert sorted(stored_tasks(cfg, "zego", ZEGO_APP)) == sorted(["mix:1", "999:mix_2", ZEGO_APP])


@pytest.mark.parametrize(
    "fields",
    [{"task_id": None}, {"task_id": ""}, {"event_type": None}, {"event_type": ""}],
    ids=["no-task", "empty-task", "no-event", "empty-event"],
)
def test_zego_callbacks_without_a_task_or_an_event_are_acknowledged_not_stored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, fields: dict[str, Any]
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    cfg = receiver_config(tmp_path)
    resp = receiver_client(cfg).post("/zego/callback", json=zego("n", **fields))
    assert (resp.status_code, resp.json()) == (200, ACK)
    assert stored_tasks(cfg, "zego", ZEGO_APP) == []
    etype = fields.get("event_type", 1)
    assert logged(caplog, logging.DEBUG)[-1] == f"acknowledged ZEGO callback {etype!r} (no task, not stored)"


def test_a_stored_zego_event_keeps_the_signed_time_the_sequence_and_the_upload_status(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    cfg = receiver_config(tmp_path)
    client = receiver_client(cfg)
    sent = [
        zego("a", task_id="seq0", sequence=0, detail={"upload_status": "2"}),
        zego("b", task_id="no-seq", sequence=None),
        zego("c", task_id="empty-seq", sequence=""),
        zego("d", task_id="text-detail", detail="uploaded"),  # a form field is text, not an object
        zego("e", task_id="empty-detail", detail={}),
    ]
    for body in sent:
        resp = client.post("/zego/callback", json=body)
        assert (resp.status_code, resp.json()) == (200, ACK)
    store = CallbackStore(cfg.db_path)
    got = {}
    for task in ("seq0", "no-seq", "empty-seq", "text-detail", "empty-detail"):
        (event,) = store.events("zego", ZEGO_APP, task)
        got[task] = (event.file_key, event.status, event.event_ms, event.event_type)
        assert "signature" not in event.body and "nonce" not in event.body
        assert event.body["timestamp"] == str(int(NOW))
    ms = int(NOW) * 1000  # the signed timestamp (seconds) in ms
    assert got == {
        "seq0": ("seq:0", 2, ms, 1),
        "no-seq": ("", 1, ms, 1),
        "empty-seq": ("", 1, ms, 1),
        "text-detail": ("seq:0", None, ms, 1),
        "empty-detail": ("seq:0", None, ms, 1),
    }
    assert logged(caplog, logging.DEBUG)[0] == "ZEGO 1 for task seq0: new"


def test_a_recording_event_without_an_event_type_is_400(tmp_path: Path) -> None:
    cfg = receiver_config(tmp_path)
    event = trtc_event("t", 305, {"Status": 0})
    del event["EventType"]
    resp = post_trtc(receiver_client(cfg), event)
    assert (resp.status_code, resp.json()) == (400, {"code": 400, "message": "EventType missing"})
    assert stored_tasks(cfg, "trtc", APP) == []


def test_a_stored_trtc_event_keeps_its_time_and_status_and_says_so_at_debug(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    cfg = receiver_config(tmp_path)
    client = receiver_client(cfg)
    at_ms = NOW_MS - 1234
    for etype in (305, 399):  # 399: no TRTC event of that number is known
        resp = post_trtc(client, trtc_event("t", etype, {"Status": 2}, at_ms=at_ms))
        assert (resp.status_code, resp.json()) == (200, ACK)
    events = {
        e.event_type: (e.event_ms, e.status) for e in CallbackStore(cfg.db_path).events("trtc", APP, "t")
    }
    assert events == {305: (at_ms, 2), 399: (at_ms, 2)}
    assert logged(caplog, logging.DEBUG) == [
        "TRTC 305 UPLOAD_STOP for task t (status 2): new",
        "TRTC 399 event for task t (status 2): new",
    ]


# -- ZEGO: whose callback, whose secret ----------------------------------------------------------------


@pytest.mark.parametrize("signing_secret", ["", "XXXX", SECRET])
def test_without_a_zego_secret_no_signature_opens_the_receiver(tmp_path: Path, signing_secret: str) -> None:
    client = receiver_client(receiver_config(tmp_path, zego_secrets={}))
    body = {**zego("n"), "signature": zego_callback_signature(signing_secret, str(int(NOW)), "n")}
    assert client.post("/zego/callback", json=body).status_code == 401


def test_an_app_with_its_own_secret_is_checked_with_that_secret(tmp_path: Path) -> None:
    cfg = receiver_config(tmp_path, zego_secrets={"*": SECRET, ZEGO_APP: "its-own-secret"})
    client = receiver_client(cfg)
    assert client.post("/zego/callback", json=zego("a")).status_code == 401  # the default's signature
    own = {**zego("b"), "signature": zego_callback_signature("its-own-secret", str(int(NOW)), "b")}
    assert client.post("/zego/callback", json=own).status_code == 200


def test_a_signed_zego_callback_without_an_app_id_is_acknowledged_and_not_stored(tmp_path: Path) -> None:
    cfg = receiver_config(tmp_path)
    resp = receiver_client(cfg).post("/zego/callback", json=zego("n", app_id=None))
    assert (resp.status_code, resp.json()) == (200, ACK)
    CallbackStore(cfg.db_path)
    with sqlite3.connect(cfg.db_path) as db:
        assert db.execute("SELECT COUNT(*) FROM callback_events").fetchone() == (0,)


def test_nonces_are_each_apps_own_and_are_the_stores(tmp_path: Path) -> None:
    """Two applications may use one nonce; the receiver's nonce row is the one any worker on the
    same store reads (the same timestamp and body again: a retry; another body: a replay)."""
    cfg = receiver_config(tmp_path)
    client = receiver_client(cfg)
    assert client.post("/zego/callback", json=zego("n")).status_code == 200
    assert client.post("/zego/callback", json=zego("n", app_id=987654321)).status_code == 200
    raw = json.dumps(zego("m")).encode()
    assert client.post("/zego/callback", content=raw).status_code == 200
    store = CallbackStore(cfg.db_path)
    claim = {"cloud": "zego", "app_id": ZEGO_APP, "nonce": "m", "keep_seconds": 600.0, "now": NOW}
    assert store.claim_nonce(timestamp=str(int(NOW)), body=raw, **claim) == "retry"
    assert store.claim_nonce(timestamp=str(int(NOW)), body=b"{}", **claim) == "replay"


def test_a_form_keeps_blank_fields_and_a_trailing_ampersand(tmp_path: Path) -> None:
    cfg = receiver_config(tmp_path)
    form = {k: str(v) for k, v in zego("n", detail=None, message="").items()}
    raw = "&".join(f"{k}={v}" for k, v in form.items()) + "&"
    headers = {"content-type": "application/x-www-form-urlencoded"}
    resp = receiver_client(cfg).post("/zego/callback", content=raw.encode(), headers=headers)
    assert (resp.status_code, resp.json()) == (200, ACK)
    (event,) = CallbackStore(cfg.db_path).events("zego", ZEGO_APP, "X3CgNeE4I1qAAABN")
    assert event.body["message"] == "" and event.file_key == "seq:0"
