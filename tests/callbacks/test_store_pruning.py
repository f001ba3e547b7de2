"""The receiver's store does not grow without end: inventory corrections and ended items are pruned
by age (at start-up and hourly while running), live items never; and the read time it cost."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_rtc.callbacks.app import create_app, open_store, prune_stores
from airflow_provider_rtc.callbacks.auth import sign_read
from airflow_provider_rtc.callbacks.cli import build_parser, load_config
from airflow_provider_rtc.callbacks.config import ReceiverConfig
from airflow_provider_rtc.callbacks.inventory import Update
from airflow_provider_rtc.callbacks.lifecycle_store import LifecycleStore
from airflow_provider_rtc.callbacks.store import CallbackStore
from tests.recordings.conftest import post_trtc, trtc_event
from tests.support.credentials import SDK_APP_ID, TRTC_KEY
from tests.support.postgres import receiver_config
from tests.support.servers import ThreadedServer

DAY = 86400.0
NOW = 1_800_000_000.0


def room(room_id: str, live: bool, at: float) -> Update:
    return Update("rooms", {"room_id": room_id, "str_room": True}, live, int(at * 1000), "" if live else "x")


def seeded(location: Any) -> LifecycleStore:
    """Rooms live and ended, long ago and recently; corrections long ago and recently."""
    store = LifecycleStore(location)
    store.apply("trtc", SDK_APP_ID, [room("old-live", True, NOW - 30 * DAY)], now=NOW - 30 * DAY)
    store.apply("trtc", SDK_APP_ID, [room("old-ended", True, NOW - 30 * DAY)], now=NOW - 30 * DAY)
    store.apply("trtc", SDK_APP_ID, [room("old-ended", False, NOW - 29 * DAY)], now=NOW - 29 * DAY)
    store.apply("trtc", SDK_APP_ID, [room("new-ended", True, NOW - 2 * DAY)], now=NOW - 2 * DAY)
    store.apply("trtc", SDK_APP_ID, [room("new-ended", False, NOW - DAY)], now=NOW - DAY)
    old = {"kind": "rooms", "ids": {"room_id": "c-old"}, "live": True, "at_ms": 1, "reason": "found"}
    new = {"kind": "rooms", "ids": {"room_id": "c-new"}, "live": True, "at_ms": 2, "reason": "found"}
    store.correct("trtc", SDK_APP_ID, [old], now=NOW - 8 * DAY)
    store.correct("trtc", SDK_APP_ID, [new], now=NOW - DAY)
    return store


def rooms(store: LifecycleStore) -> set[str]:
    return {i.ids["room_id"] for i in store.items("trtc", SDK_APP_ID, live_only=False)}


def test_corrections_and_ended_items_are_pruned_by_age_live_items_never(store_location: Any) -> None:
    store = seeded(store_location)
    assert rooms(store) == {"old-live", "old-ended", "new-ended", "c-old", "c-new"}
    config = receiver_config(store_location, trtc_keys={"*": TRTC_KEY})  # default: 7 days
    pruned = prune_stores(config, CallbackStore(store_location), now=NOW)
    assert pruned == {"events": 0, "ended_items": 1, "corrections": 1}
    assert rooms(store) == {"old-live", "new-ended", "c-old", "c-new"}  # live ones stay, however old
    assert [c["ids"]["room_id"] for c in store.corrections("trtc", SDK_APP_ID)] == ["c-new"]


def test_zero_keeps_everything(store_location: Any) -> None:
    store = seeded(store_location)
    config = receiver_config(store_location, trtc_keys={"*": TRTC_KEY}, inventory_retention_days=0)
    assert prune_stores(config, CallbackStore(store_location), now=NOW)["corrections"] == 0
    assert len(store.corrections("trtc", SDK_APP_ID)) == 2 and "old-ended" in rooms(store)


@pytest.fixture
def clock() -> list[float]:
    return [time.time()]


@pytest.fixture
def receiver(store_location: Any, clock: list[float]) -> Iterator[ThreadedServer]:
    config = receiver_config(store_location, trtc_keys={"*": TRTC_KEY})
    server = ThreadedServer(create_app(config, store=open_store(config), clock=lambda: clock[0]))
    yield server
    server.stop()


def test_a_running_receiver_prunes_hourly_not_only_at_start(
    receiver: ThreadedServer, clock: list[float]
) -> None:
    """A receiver living for weeks (the API server) prunes on its clock, at most once an hour."""
    inventory = receiver.app.state.receiver.inventory.store
    fix = {"kind": "rooms", "ids": {"room_id": "r"}, "live": True, "at_ms": 1, "reason": "found"}
    inventory.correct("trtc", SDK_APP_ID, [fix], now=clock[0] - 8 * DAY)
    started = trtc_event("t1", 301, room_id="r1")
    assert post_trtc(receiver.url, started).status_code == 200
    assert len(inventory.corrections("trtc", SDK_APP_ID)) == 1  # not an hour yet
    clock[0] += 3601
    assert post_trtc(receiver.url, trtc_event("t2", 301, room_id="r2")).status_code == 200
    assert inventory.corrections("trtc", SDK_APP_ID) == []


def test_retention_is_configured_like_the_events_retention(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_rtc.plugins.callbacks import receiver_config

    monkeypatch.setenv("RTC_TRTC_CALLBACK_KEY", TRTC_KEY)
    monkeypatch.setenv("RTC_CALLBACK_DB", str(tmp_path / "db.sqlite3"))
    assert ReceiverConfig.from_env().inventory_retention_days == 7.0
    monkeypatch.setenv("RTC_INVENTORY_RETENTION_DAYS", "3")
    assert ReceiverConfig.from_env().inventory_retention_days == 3.0
    args = build_parser().parse_args(["--inventory-retention-days", "1.5"])
    assert load_config(args).inventory_retention_days == 1.5
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__INVENTORY_RETENTION_DAYS", "2")
    assert receiver_config().inventory_retention_days == 2.0
    for bad in ("-1", "inf", "soon"):
        monkeypatch.setenv("RTC_INVENTORY_RETENTION_DAYS", bad)
        with pytest.raises(ValueError, match=r"RETENTION_DAYS|retention_days"):
            ReceiverConfig.from_env()


CORRECTIONS = 400_000


@pytest.mark.slow  # a benchmark in a test: 400k rows written and read
@pytest.mark.timing  # serially, on a core of its own (make test-all)
def test_read_time_with_400k_corrections_before_and_after_pruning(tmp_path: Path) -> None:
    """400,000 corrections older than the retention (the reported growth) and 100 recent ones: the
    inventory read, timed before and after the start-up pruning. Figures are printed (``-s``);
    only what is read is asserted, no timing."""
    path = tmp_path / "callbacks.sqlite3"
    store = LifecycleStore(path)
    now = time.time()
    rows: list[tuple[Any, ...]] = []
    for i in range(CORRECTIONS + 100):
        recorded = now - 8 * DAY + i * 0.001 if i < CORRECTIONS else now - 60 + i * 1e-4
        ids = json.dumps({"room_id": f"room-{i}"})
        rows.append(
            ("trtc", str(SDK_APP_ID), "rooms", ids, ids, "ended", "DescribeRoomInfo: finished", i, recorded)
        )
    with sqlite3.connect(path) as db:
        db.executemany("INSERT INTO lifecycle_corrections VALUES (?,?,?,?,?,?,?,?,?)", rows)
    config = ReceiverConfig(db_path=str(path), trtc_keys={"*": TRTC_KEY})

    def read() -> tuple[float, int]:
        app = create_app(config, store=CallbackStore(path))
        server = ThreadedServer(app)
        try:
            url_path = f"/trtc/{SDK_APP_ID}/live"
            started = time.perf_counter()
            resp = httpx.get(server.url + url_path, headers=sign_read(TRTC_KEY, url_path), timeout=120)
            took = time.perf_counter() - started
        finally:
            server.stop()
        assert resp.status_code == 200
        return took, len(resp.json()["corrections"])

    before, shown_before = read()
    started = time.perf_counter()
    open_store(config)  # what a receiver start (CLI or plugin) does
    pruning = time.perf_counter() - started
    after, shown_after = read()
    remaining = len(store.corrections("trtc", SDK_APP_ID))
    print(
        f"\ninventory read with {CORRECTIONS + 100:,} corrections: {before * 1000:.0f} ms; pruning "
        f"{CORRECTIONS:,} older than 7 days: {pruning * 1000:.0f} ms; read after: {after * 1000:.0f} ms "
        f"({remaining} corrections left)"
    )
    assert shown_before == 500 and shown_after == 100 and remaining == 100
