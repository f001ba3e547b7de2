"""The receiver's upkeep and request kit at their edges: pruning by retention (to the second, on the
receiver's clock, hourly while it runs), ZEGO's freshness and nonce windows, what ``create_app``
warns and wires, the routes' methods, and the bounded body and JSON checks (4xx, never 500).

Written for the mutants run 8 of `make mutate` left alive in ``callbacks/app.py`` (``prune_stores``,
``maybe_prune``, ``zego_callback``, ``create_app``, ``callback_routes``, ``zego_fields``) and
``callbacks/http.py``. HTTP through Starlette's TestClient; the receiver on a clock the test moves.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from airflow_provider_rtc.callbacks import app as receiver_app
from airflow_provider_rtc.callbacks.app import CallbackReceiver, callback_routes, create_app, prune_stores
from airflow_provider_rtc.callbacks.auth import sign_read
from airflow_provider_rtc.callbacks.config import ReceiverConfig
from airflow_provider_rtc.callbacks.http import (
    MAX_JSON_DEPTH,
    Malformed,
    guarded,
    parse_json_object,
    read_body,
)
from airflow_provider_rtc.callbacks.inventory import Update
from airflow_provider_rtc.callbacks.lifecycle_store import LifecycleStore
from airflow_provider_rtc.callbacks.store import CallbackStore
from airflow_provider_rtc.signing.callbacks import trtc_callback_sign, zego_callback_signature
from tests.recordings.conftest import trtc_event
from tests.support.receiver import APP, KEY, SECRET, ZEGO_APP, TestClient, receiver_client, receiver_config

LONG_APP = "1234567890" * 4  # 40 digits: only the first 32 reach a warning
DAY = 86400.0
T0 = 100_000_000.0  # the receiver's clock (1973): far from the wall clock, so a wall-clock read shows
LOGGER = "airflow_provider_rtc.callbacks.app"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def logged(caplog: pytest.LogCaptureFixture, level: int, *, notes: bool = False) -> list[str]:
    """The receiver's lines at ``level``; create_app's start-up notes only with ``notes``."""
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == level]
    return [line for line in lines if notes or not line.startswith("RTC callback receiver")]


def put(cfg: ReceiverConfig, task_id: str, at: float) -> None:
    CallbackStore(cfg.db_path).put(
        cloud="trtc", app_id=APP, task_id=task_id, event_type=305, file_key="", status=0,
        event_ms=int(at * 1000), body={}, now=at,
    )  # fmt: skip


def tasks(cfg: ReceiverConfig) -> list[str]:
    return sorted(t["task_id"] for t in CallbackStore(cfg.db_path).changed_tasks("trtc", APP, 0))


def room(room_id: str, live: bool, at: float) -> Update:
    return Update("rooms", {"room_id": room_id, "str_room": True}, live, int(at * 1000), "" if live else "x")


def post_trtc(client: TestClient, task_id: str) -> int:
    raw = json.dumps(trtc_event(task_id, 305, {"Status": 0}, at_ms=1_000)).encode()
    headers = {"SdkAppId": APP, "Sign": trtc_callback_sign(raw, KEY)}
    return client.post("/trtc/callback", content=raw, headers=headers).status_code


# -- prune_stores ------------------------------------------------------------------------------------


def test_an_inventory_retention_of_one_day_prunes_what_ended_before_it(tmp_path: Path) -> None:
    cfg = receiver_config(tmp_path, retention_days=0, inventory_retention_days=1)
    inventory = LifecycleStore(cfg.store_location)
    inventory.apply("trtc", APP, [room("r", True, T0 - 3 * DAY)], now=T0 - 3 * DAY)
    inventory.apply("trtc", APP, [room("r", False, T0 - 2 * DAY)], now=T0 - 2 * DAY)
    pruned = prune_stores(cfg, CallbackStore(cfg.db_path), now=T0)
    assert pruned == {"events": 0, "ended_items": 1, "corrections": 0}


def test_retention_zero_keeps_everything_and_says_nothing_was_pruned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    cfg = receiver_config(tmp_path, retention_days=0, inventory_retention_days=0)
    put(cfg, "ancient", T0 - 400 * DAY)
    inventory = LifecycleStore(cfg.store_location)
    inventory.apply("trtc", APP, [room("r", True, T0 - 400 * DAY)], now=T0 - 400 * DAY)
    inventory.apply("trtc", APP, [room("r", False, T0 - 399 * DAY)], now=T0 - 399 * DAY)
    assert prune_stores(cfg, CallbackStore(cfg.db_path), now=T0) == {
        "events": 0,
        "ended_items": 0,
        "corrections": 0,
    }
    assert tasks(cfg) == ["ancient"] and len(inventory.items("trtc", APP, live_only=False)) == 1
    assert logged(caplog, logging.INFO) == []


def test_retention_is_judged_to_the_second_on_the_clock_given(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    cfg = receiver_config(tmp_path, retention_days=1, inventory_retention_days=2)
    put(cfg, "older", T0 - DAY - 0.5)
    put(cfg, "newer", T0 - DAY + 0.5)
    inventory = LifecycleStore(cfg.store_location)
    for name, ended_at in (("old-room", T0 - 2 * DAY - 0.5), ("new-room", T0 - 2 * DAY + 0.5)):
        inventory.apply("trtc", APP, [room(name, True, ended_at - 10)], now=ended_at - 10)
        inventory.apply("trtc", APP, [room(name, False, ended_at)], now=ended_at)
    for name, at in (("found-1", T0 - 2 * DAY - 0.5), ("found-2", T0 - 2 * DAY + 0.5)):
        fix = {"kind": "rooms", "ids": {"room_id": name}, "live": True, "at_ms": 1, "reason": "found"}
        inventory.correct("trtc", APP, [fix], now=at)
    # no inventory passed: the one at the config's store location is pruned
    pruned = prune_stores(cfg, CallbackStore(cfg.db_path), now=T0)
    assert pruned == {"events": 1, "ended_items": 1, "corrections": 1}
    assert tasks(cfg) == ["newer"]
    rooms = {i.ids["room_id"] for i in inventory.items("trtc", APP, live_only=False)}
    assert rooms == {"new-room", "found-1", "found-2"}  # a live item is never pruned
    assert len(inventory.corrections("trtc", APP)) == 1
    assert logged(caplog, logging.INFO) == [
        "pruned 1 stored event(s) older than 1 days, 1 ended inventory item(s) and 1 correction(s) "
        "older than 2 days"
    ]


# -- maybe_prune: hourly, on the receiver's clock ------------------------------------------------------


def test_a_running_receiver_prunes_an_hour_after_start_then_hourly(tmp_path: Path) -> None:
    cfg = receiver_config(tmp_path)  # 14 days of events
    clock = Clock(T0)
    client = receiver_client(cfg, clock)
    put(cfg, "stale-1", T0 - 15 * DAY)
    put(cfg, "recent", T0 + 3600 - 13 * DAY)  # kept on the receiver's clock (the wall clock is years on)
    clock.now = T0 + 3599.5
    assert post_trtc(client, "cb-1") == 200
    assert "stale-1" in tasks(cfg)  # not an hour yet
    clock.now = T0 + 3600
    assert post_trtc(client, "cb-2") == 200
    assert "stale-1" not in tasks(cfg) and "recent" in tasks(cfg)
    put(cfg, "stale-2", T0 - 15 * DAY)
    clock.now = T0 + 7199.5
    assert post_trtc(client, "cb-3") == 200
    assert "stale-2" in tasks(cfg)  # the next round is an hour after the last
    clock.now = T0 + 7200
    assert post_trtc(client, "cb-4") == 200
    assert "stale-2" not in tasks(cfg)


def test_a_busy_store_while_pruning_never_fails_the_callback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)

    def busy(*args: Any, **kwargs: Any) -> dict[str, int]:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(receiver_app, "prune_stores", busy)
    clock = Clock(T0 + 3600)
    client = TestClient(create_app(receiver_config(tmp_path), clock=clock, warn_without_keys=False))
    clock.now += 3600
    assert post_trtc(client, "cb") == 200
    assert "could not prune the callback store (OperationalError); trying again later" in logged(
        caplog, logging.WARNING
    )


# -- ZEGO: freshness and nonces ------------------------------------------------------------------------


def zego(nonce: str, sent: float, app: str = ZEGO_APP, **fields: Any) -> dict[str, Any]:
    ts = str(int(sent))
    return {
        "app_id": int(app), "task_id": "task", "event_type": 1, "timestamp": ts, "nonce": nonce,
        "signature": zego_callback_signature(SECRET, ts, nonce), **fields,
    }  # fmt: skip


def test_zego_freshness_is_inclusive_to_the_configured_second_either_way(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    client = receiver_client(receiver_config(tmp_path, zego_max_age=60.0), T0)
    for nonce, sent in (("a", T0 - 60), ("b", T0 + 60)):
        assert client.post("/zego/callback", json=zego(nonce, sent)).status_code == 200
    caplog.clear()
    resp = client.post("/zego/callback", json=zego("c", T0 - 61, LONG_APP))
    assert (resp.status_code, resp.json()) == (
        401,
        {"code": 401, "message": "stale callback: timestamp is more than 60 s from the receiver's clock"},
    )
    assert logged(caplog, logging.WARNING) == [
        f"rejected a stale ZEGO callback for AppId {LONG_APP[:32]!r} (timestamp {str(int(T0 - 61))!r})"
    ]


def test_zego_refusals_say_why_and_warn(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    client = receiver_client(receiver_config(tmp_path), T0)
    forged = {**zego("n", T0, LONG_APP), "signature": "0" * 40}
    resp = client.post("/zego/callback", json=forged)
    assert (resp.status_code, resp.json()) == (401, {"code": 401, "message": "missing or bad signature"})
    assert client.post("/zego/callback", json=zego("n", T0, LONG_APP)).status_code == 200
    resp = client.post("/zego/callback", json=zego("n", T0, LONG_APP, task_id="another"))
    assert (resp.status_code, resp.json()) == (
        409,
        {"code": 409, "message": "nonce already used by another callback"},
    )
    assert logged(caplog, logging.WARNING) == [
        f"rejected a ZEGO callback for AppId {LONG_APP[:32]!r}: missing or bad signature",
        f"rejected a replayed ZEGO callback for AppId {LONG_APP[:32]!r}: nonce already used",
    ]


def test_a_nonce_is_remembered_for_twice_the_window_then_forgotten(tmp_path: Path) -> None:
    """A callback signed one window ahead is still fresh one window after that: its nonce must be
    remembered for two windows, and is forgotten after them."""
    clock = Clock(T0)
    client = receiver_client(receiver_config(tmp_path, zego_max_age=60.0), clock)
    assert client.post("/zego/callback", json=zego("n", T0 + 60)).status_code == 200
    clock.now = T0 + 120
    assert client.post("/zego/callback", json=zego("n", T0 + 60, task_id="other")).status_code == 409
    clock.now = T0 + 121
    assert client.post("/zego/callback", json=zego("n", T0 + 121, task_id="later")).status_code == 200


# -- ZEGO bodies: JSON or form, bounded ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"", "application/x-www-form-urlencoded", "body is neither JSON nor a form"),
        (b"\xff\xfe=1", "application/x-www-form-urlencoded", "body is neither JSON nor a form"),
        ("&".join(f"f{i}=1" for i in range(201)).encode(), "", "body is neither JSON nor a form"),
        (b"a=1", "application/json", "body is not JSON"),
        (b" [1, 2]", "", "body is not a JSON object"),
        (b"[" * (MAX_JSON_DEPTH + 1), "", f"JSON nested deeper than {MAX_JSON_DEPTH} levels"),
    ],
    ids=["empty", "not-utf8", "201-fields", "json-type-form-body", "json-array", "too-deep"],
)
def test_zego_bodies_that_are_no_object_are_400_with_why(
    tmp_path: Path, content: bytes, content_type: str, message: str
) -> None:
    client = receiver_client(receiver_config(tmp_path), T0)
    resp = client.post("/zego/callback", content=content, headers={"content-type": content_type})
    assert (resp.status_code, resp.json()) == (400, {"code": 400, "message": message})


def test_a_form_of_200_fields_is_read(tmp_path: Path) -> None:
    client = receiver_client(receiver_config(tmp_path), T0)
    fields = {f"f{i}": "1" for i in range(193)}
    form = {k: str(v) for k, v in zego("n", T0).items()}  # 7 fields: 200 in all
    resp = client.post("/zego/callback", data={**fields, **form})
    assert resp.status_code == 200


def test_json_nested_exactly_to_the_limit_is_parsed() -> None:
    raw = b"[" * (MAX_JSON_DEPTH - 1) + b"{}" + b"]" * (MAX_JSON_DEPTH - 1)
    with pytest.raises(Malformed) as refused:
        parse_json_object(raw)
    assert refused.value.message == "body is not a JSON object"  # parsed: not refused for its depth
    deepest = b'{"a": ' + b"[" * (MAX_JSON_DEPTH - 1) + b"]" * (MAX_JSON_DEPTH - 1) + b"}"
    assert set(parse_json_object(deepest)) == {"a"}


def test_depth_is_counted_back_down_one_per_closing_bracket() -> None:
    """A closed array before a deep one gives back one level, not more."""
    deep = b"[" * (MAX_JSON_DEPTH - 1) + b"]" * (MAX_JSON_DEPTH - 1)
    with pytest.raises(Malformed) as refused:
        parse_json_object(b'{"a": [], "b": [' + deep + b"]}")  # 1 + 1 + 31 = 33 levels
    assert refused.value.message == f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
    assert set(parse_json_object(b'{"a": [], "b": ' + deep + b"}")) == {"a", "b"}  # 32 levels


# -- bodies: counted while they stream in --------------------------------------------------------------


def test_a_body_exactly_at_the_limit_is_read_one_byte_more_is_413(tmp_path: Path) -> None:
    raw = json.dumps(trtc_event("t", 305, {"Status": 0}, at_ms=1_000)).encode()
    cfg = receiver_config(tmp_path, max_body_bytes=len(raw))
    client = receiver_client(cfg, T0)
    headers = {"SdkAppId": APP, "Sign": trtc_callback_sign(raw, KEY)}
    assert client.post("/trtc/callback", content=raw, headers=headers).status_code == 200
    longer = raw + b" "
    resp = client.post(
        "/trtc/callback", content=longer, headers={**headers, "Sign": trtc_callback_sign(longer, KEY)}
    )
    assert (resp.status_code, resp.json()) == (413, {"code": 413, "message": "callback body too large"})

    def chunks() -> Any:  # no Content-Length: counted as it streams
        yield longer[:10]
        yield longer[10:]

    resp = client.post("/trtc/callback", content=chunks(), headers=headers)
    assert (resp.status_code, resp.json()) == (413, {"code": 413, "message": "callback body too large"})


@pytest.mark.parametrize("declared", ["abc", "-1", "\uff11", "1 1"])
def test_a_bad_content_length_is_400(tmp_path: Path, declared: str) -> None:
    client = receiver_client(receiver_config(tmp_path), T0)
    headers = {"content-length": declared.encode("utf-8")}
    resp = client.post("/trtc/callback", content=b"", headers=headers)  # type: ignore[arg-type]
    assert (resp.status_code, resp.json()) == (400, {"code": 400, "message": "bad Content-Length"})


def test_a_declared_length_over_the_limit_is_413_before_reading(tmp_path: Path) -> None:
    client = receiver_client(receiver_config(tmp_path, max_body_bytes=10), T0)
    resp = client.post("/trtc/callback", content=b"{}", headers={"content-length": " 11 "})
    assert (resp.status_code, resp.json()) == (413, {"code": 413, "message": "callback body too large"})


def test_a_client_gone_before_its_body_ended_is_400() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    request = Request({"type": "http", "method": "POST", "path": "/", "headers": []}, receive)
    with pytest.raises(Malformed) as refused:
        asyncio.run(read_body(request, 100))
    assert (refused.value.status, refused.value.message) == (
        400,
        "the client went away before the body was complete",
    )


def streamed(*chunks: bytes) -> Request:
    """A request whose body arrives in ``chunks`` (TestClient sends a body as one message)."""
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    return Request({"type": "http", "method": "POST", "path": "/", "headers": []}, receive)


def test_a_streamed_body_is_counted_across_its_chunks() -> None:
    assert asyncio.run(read_body(streamed(b"12345", b"67890"), 10)) == b"1234567890"
    with pytest.raises(Malformed) as refused:
        asyncio.run(read_body(streamed(b"123456", b"789012"), 10))
    assert (refused.value.status, refused.value.message) == (413, "callback body too large")


# -- guarded: 4xx or 503, never 500 --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raised", "status", "message", "level", "line"),
    [
        (Malformed(418, "teapot"), 418, "teapot", None, None),
        (sqlite3.OperationalError("locked"), 503, "callback store unavailable; retry later", logging.ERROR,
         "callback store unavailable: OperationalError"),
        (KeyError("k"), 400, "malformed request", logging.WARNING,
         "malformed callback request refused (KeyError)"),
        (RecursionError(), 400, "malformed request", logging.WARNING,
         "malformed callback request refused (RecursionError)"),
    ],
    ids=["malformed", "busy-store", "key-error", "recursion"],
)  # fmt: skip
def test_guarded_answers_4xx_or_503_and_logs_why(
    caplog: pytest.LogCaptureFixture,
    raised: Exception,
    status: int,
    message: str,
    level: int | None,
    line: str | None,
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)

    async def handler(request: Request) -> Any:
        raise raised

    client = TestClient(receiver_app.Starlette(routes=[Route("/x", guarded(handler), methods=["POST"])]))
    resp = client.post("/x")
    assert (resp.status_code, resp.json()) == (status, {"code": status, "message": message})
    assert [r.getMessage() for r in caplog.records if r.name == LOGGER] == ([line] if line else [])
    if level is not None:
        assert caplog.records[-1].levelno == level


# -- create_app and the route table --------------------------------------------------------------------


def test_create_app_warns_without_keys_unless_told_not_to(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    bare = ReceiverConfig(db_path=str(tmp_path / "x.sqlite3"))
    create_app(bare)
    assert logged(caplog, logging.WARNING, notes=True) == [
        "RTC callback receiver has no callback key: every callback and read will be rejected"
    ]
    caplog.clear()
    create_app(bare, warn_without_keys=False)
    assert logged(caplog, logging.WARNING, notes=True) == []
    create_app(receiver_config(tmp_path))  # a default TRTC key serving any SdkAppId: the config's own note
    note = receiver_config(tmp_path).warnings()[0]
    assert logged(caplog, logging.WARNING, notes=True) == [f"RTC callback receiver: {note}"]


def test_create_app_wires_the_receiver_its_clock_and_extra_routes(tmp_path: Path) -> None:
    cfg = receiver_config(tmp_path)
    store = CallbackStore(cfg.db_path)
    extra = Route("/extra", lambda request: PlainTextResponse("extra"), methods=["GET"])
    app = create_app(cfg, store=store, clock=lambda: T0, extra_routes=[extra])
    receiver = app.state.receiver
    assert isinstance(receiver, CallbackReceiver)
    assert (receiver.config, receiver.store, receiver.clock(), receiver.inventory.clock()) == (
        cfg,
        store,
        T0,
        T0,
    )
    client = TestClient(app)
    assert client.get("/extra").text == "extra"
    assert client.get("/healthz").json() == {"status": "ok"}
    live = f"/trtc/{APP}/live"  # the inventory's reads are authorized by the receiver's check
    assert client.get(live).status_code == 401
    assert client.get(live, headers=sign_read(KEY, live)).json()["items"] == []


def test_create_app_without_a_config_reads_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RTC_CALLBACK_DB", str(tmp_path / "env.sqlite3"))
    monkeypatch.setenv("RTC_TRTC_CALLBACK_KEY", KEY)
    receiver = create_app().state.receiver
    assert receiver.config.db_path == str(tmp_path / "env.sqlite3") and receiver.config.trtc_key(APP) == KEY


def test_the_route_table_takes_each_method_it_serves_and_no_other(tmp_path: Path) -> None:
    receiver = CallbackReceiver(receiver_config(tmp_path), clock=lambda: T0)
    table = callback_routes(receiver)
    assert sorted(table) == ["inventory", "reads", "trtc", "zego"]
    paths = {name: [(r.path, sorted(r.methods or [])) for r in routes] for name, routes in table.items()}  # type: ignore[attr-defined]
    assert paths["trtc"] == [("/trtc/callback", ["POST"])]
    assert paths["zego"] == [("/zego/callback", ["POST"])]
    assert paths["reads"] == [
        ("/{cloud:str}/{app_id:str}/tasks/{task_id:path}/events", ["GET", "HEAD"]),
        ("/{cloud:str}/{app_id:str}/tasks", ["GET", "HEAD"]),
        ("/healthz", ["GET", "HEAD"]),
    ]
    client = receiver_client(receiver_config(tmp_path), T0)
    assert client.get("/trtc/callback").status_code == 405
    assert client.post(f"/trtc/{APP}/tasks").status_code == 405
    path = f"/trtc/{APP}/tasks/a/b/events"  # a task id holding a slash is routed whole (":path")
    assert client.get(path, headers=sign_read(KEY, path)).json()["task_id"] == "a/b"
