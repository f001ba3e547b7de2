"""The store's contract, on SQLite and on PostgreSQL alike (``store_location`` runs each test on both):
idempotent slots, the newest event wins, ordered reads by (time, id), pruning, nonce replay
rejection, lifecycle updates by event time, and the same answers with concurrent writers (several
threads of one process on SQLite; several pools, standing for several hosts, on PostgreSQL)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from airflow_provider_rtc.callbacks.inventory import Update, trtc_updates, zego_updates
from airflow_provider_rtc.callbacks.lifecycle_store import LifecycleStore
from airflow_provider_rtc.callbacks.store import CallbackStore
from airflow_provider_rtc.callbacks.store_pg import PostgresDatabase, PostgresSettings
from tests.recordings.conftest import mp4_310, trtc_event

APP = "1400000001"
MS = 1_700_000_000_000


_HOSTS: list[PostgresDatabase] = []


def _host(location: Any) -> Any:
    """Another process's view of the store: its own SQLite connections, or its own PostgreSQL pool."""
    if isinstance(location, PostgresSettings):
        _HOSTS.append(PostgresDatabase(location))
        return _HOSTS[-1]
    return location


@pytest.fixture(autouse=True)
def _close_hosts() -> Any:
    yield
    while _HOSTS:
        _HOSTS.pop().close()


def _run_all(target: Any, count: int) -> list[Any]:
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            results[n] = target(n)
        except BaseException as err:  # reported below, not lost in the thread
            errors.append(err)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


# -- callback events ---------------------------------------------------------------------------------


def test_store_is_idempotent_and_keeps_the_newest_state_of_each_slot(store_location: Any) -> None:
    store = CallbackStore(store_location)
    stuck = trtc_event("t", 305, {"Status": 1}, at_ms=1_000)
    restored = trtc_event("t", 305, {"Status": 2}, at_ms=2_000)

    def put(body: dict[str, Any], status: int) -> str:
        return store.put(
            cloud="trtc",
            app_id=APP,
            task_id="t",
            event_type=305,
            file_key="",
            status=status,
            event_ms=body["EventInfo"]["EventMsTs"],
            body=body,
        )

    assert put(stuck, 1) == "new"
    assert put(stuck, 1) == "duplicate"  # TRTC re-delivery
    assert put(restored, 2) == "updated"
    assert put(stuck, 1) == "stale"  # a late retry of the older event never wins
    (row,) = store.events("trtc", APP, "t")
    assert row.status == 2 and row.deliveries == 4 and row.body == restored
    assert row.event_type == 305 and row.event_ms == 2_000 and row.first_received_at <= row.received_at


def test_store_is_shared_across_threads_and_connections(store_location: Any) -> None:
    def writer(n: int) -> None:
        store = CallbackStore(_host(store_location))
        for i in range(20):
            body = mp4_310("t", f"f{n}_{i}.mp4")
            store.put(
                cloud="trtc",
                app_id=APP,
                task_id="t",
                event_type=310,
                file_key=f"f{n}_{i}.mp4",
                status=0,
                event_ms=i,
                body=body,
            )

    _run_all(writer, 4)
    assert len(CallbackStore(store_location).events("trtc", APP, "t")) == 80


def test_concurrent_deliveries_of_one_slot_collapse_and_the_newest_wins(store_location: Any) -> None:
    """Retries of one slot arriving at several hosts at once: one row, every delivery counted, one
    ``new``, and the newest event stored whatever the commit order."""

    def deliver(n: int) -> str:
        store = CallbackStore(_host(store_location))
        ms = 1_000 + (n % 4)  # four versions of the event, each delivered several times
        return store.put(
            cloud="trtc",
            app_id=APP,
            task_id="slot",
            event_type=311,
            file_key="",
            status=ms,
            event_ms=ms,
            body={"v": ms},
        )

    outcomes = _run_all(deliver, 16)
    assert outcomes.count("new") == 1
    (row,) = CallbackStore(store_location).events("trtc", APP, "slot")
    assert (row.event_ms, row.status, row.body, row.deliveries) == (1_003, 1_003, {"v": 1_003}, 16)


def test_events_of_a_task_are_read_oldest_first(store_location: Any) -> None:
    store = CallbackStore(store_location)
    for etype, key, ms in ((311, "", 3_000), (310, "b.mp4", 2_000), (310, "a.mp4", 2_000), (301, "", 1_000)):
        store.put(
            cloud="trtc",
            app_id=APP,
            task_id="t",
            event_type=etype,
            file_key=key,
            status=0,
            event_ms=ms,
            body={},
        )
    order = [(e.event_ms, e.event_type, e.file_key) for e in store.events("trtc", APP, "t")]
    assert order == [(1_000, 301, ""), (2_000, 310, "a.mp4"), (2_000, 310, "b.mp4"), (3_000, 311, "")]


def test_changed_tasks_are_read_by_time_then_id_in_keyset_pages(store_location: Any) -> None:
    """Ordered by (changed_at, task_id), ids byte-wise (as SQLite compares them), whatever the
    database's locale; paging by the last row's cursor reads each task once."""
    store = CallbackStore(store_location)
    ids = ["b", "B", "a", "_x", "é", "a-1", "A"]
    for i, task in enumerate(ids):
        at = 100.0 if i < 5 else 200.0  # five tasks share one instant
        store.put(
            cloud="zego",
            app_id="9",
            task_id=task,
            event_type=1,
            file_key="",
            status=None,
            event_ms=1,
            body={},
            now=at,
        )
    store.put(
        cloud="zego", app_id="8", task_id="other", event_type=1, file_key="", status=None, event_ms=1, body={}
    )
    expected = [(100.0, t) for t in sorted(ids[:5])] + [(200.0, t) for t in sorted(ids[5:])]
    rows = store.changed_tasks("zego", "9", 0, limit=100)
    assert [(r["changed_at"], r["task_id"]) for r in rows] == expected
    paged: list[tuple[float, str]] = []
    since, after = 0.0, None
    while True:
        page = store.changed_tasks("zego", "9", since, limit=2, after_id=after)
        if not page:
            break
        paged += [(r["changed_at"], r["task_id"]) for r in page]
        since, after = page[-1]["changed_at"], page[-1]["task_id"]
    assert paged == expected
    assert store.changed_tasks("zego", "9", 100.0, limit=100) == [
        {"task_id": t, "changed_at": 200.0} for t in sorted(ids[5:])
    ]


def test_store_prunes_old_slots(store_location: Any) -> None:
    store = CallbackStore(store_location)
    for task, at in (("old", 1_000.0), ("new", 9_000.0)):
        store.put(
            cloud="trtc",
            app_id=APP,
            task_id=task,
            event_type=301,
            file_key="",
            status=0,
            event_ms=1,
            body={},
            now=at,
        )
    assert store.prune(1_000, now=9_500.0) == 1
    assert store.events("trtc", APP, "old") == [] and len(store.events("trtc", APP, "new")) == 1


def test_sqlite_store_needs_a_file() -> None:
    with pytest.raises(ValueError, match="file path"):
        CallbackStore(":memory:")


# -- nonces ------------------------------------------------------------------------------------------


def test_store_nonce_memory_is_keyed_by_body_hash(store_location: Any) -> None:
    store = CallbackStore(store_location)
    claim = {"cloud": "zego", "app_id": "1", "nonce": "n", "timestamp": "5", "keep_seconds": 600}
    assert store.claim_nonce(body=b"a", now=100, **claim) == "new"
    assert store.claim_nonce(body=b"a", now=101, **claim) == "retry"
    assert store.claim_nonce(body=b"b", now=102, **claim) == "replay"
    assert store.claim_nonce(body=b"b", now=800, **claim) == "new"  # forgotten after keep_seconds
    assert store.claim_nonce(body=b"a", now=801, **claim) == "replay"


def test_one_nonce_claimed_at_once_by_many_hosts_is_new_once(store_location: Any) -> None:
    def claim(n: int) -> str:
        store = CallbackStore(_host(store_location))
        body = b"same" if n % 2 == 0 else b"other"
        return store.claim_nonce(
            cloud="zego", app_id="1", nonce="race", timestamp="5", body=body, keep_seconds=600, now=100.0
        )

    outcomes = _run_all(claim, 12)
    assert outcomes.count("new") == 1
    winner = b"same" if outcomes[::2].count("new") else b"other"
    # every other claim with the winner's body is its retry, every other body a replay
    for n, outcome in enumerate(outcomes):
        if outcome != "new":
            same = (b"same" if n % 2 == 0 else b"other") == winner
            assert outcome == ("retry" if same else "replay")


# -- lifecycle inventory -----------------------------------------------------------------------------


def _trtc(etype: int, room: Any = 1001, user: str = "u1", at: int = MS) -> dict[str, Any]:
    return {
        "EventGroupId": 1 if etype < 200 else 2,
        "EventType": etype,
        "EventInfo": {"RoomId": room, "UserId": user, "EventMsTs": at},
    }


def test_events_apply_by_their_time_not_their_arrival(store_location: Any) -> None:
    store = LifecycleStore(store_location)
    store.apply("trtc", 1, trtc_updates(_trtc(103, at=MS)))  # the 101 was lost: 103 still shows the room
    assert {i.kind for i in store.items("trtc", 1)} == {"rooms", "users"}
    store.apply("trtc", 1, trtc_updates(_trtc(102, at=MS + 5000)))
    assert store.items("trtc", 1) == []  # the room ended and took its user with it
    store.apply("trtc", 1, trtc_updates(_trtc(103, user="late", at=MS + 1000)))  # a late 103
    assert store.items("trtc", 1) == []
    store.apply("trtc", 1, trtc_updates(_trtc(103, user="again", at=MS + 9000)))  # a new session
    assert {(i.kind, i.started_ms) for i in store.items("trtc", 1)} == {
        ("rooms", MS + 9000),
        ("users", MS + 9000),
    }


def test_corrections_are_logged_in_order_and_lose_to_newer_callbacks(store_location: Any) -> None:
    store = LifecycleStore(store_location)
    login = {"event": "room_login", "room_id": "r", "user_account": "a", "login_time": MS}
    store.apply("zego", 7, zego_updates(login, "7"))
    ended = {"kind": "rooms", "ids": {"room_id": "r"}, "live": False, "at_ms": MS + 10, "reason": "0 users"}
    found = [
        {"kind": "rooms", "ids": {"room_id": f"f{i}"}, "live": True, "at_ms": MS + 10, "reason": f"found {i}"}
        for i in range(5)
    ]
    changed = store.correct("zego", 7, [ended, *found], now=MS / 1000 + 60)
    assert [c["change"] for c in changed] == ["ended"] + ["found"] * 5
    # recorded in one instant: read back in the order they were made
    reasons = [c["reason"] for c in store.corrections("zego", 7)]
    assert reasons == ["0 users"] + [f"found {i}" for i in range(5)]
    assert {i.ids["room_id"] for i in store.items("zego", 7)} == {f"f{i}" for i in range(5)}
    relogin = {**login, "user_account": "b", "login_time": MS + 20}
    store.apply("zego", 7, zego_updates(relogin, "7"))  # a callback after the correction wins
    assert {i.kind for i in store.items("zego", 7) if i.ids["room_id"] == "r"} == {"rooms", "users"}
    # a confirmation adds the source without changing the state
    confirm = {"kind": "rooms", "ids": {"room_id": "r"}, "live": True, "at_ms": MS + 30}
    assert store.correct("zego", 7, [confirm]) == []
    (room,) = [i for i in store.items("zego", 7) if i.kind == "rooms" and i.ids["room_id"] == "r"]
    assert room.sources == ["callback", "list_api"]


def test_items_are_read_by_kind_start_and_key_ended_first(store_location: Any) -> None:
    """Items that never started (created ended: no start time) come first within their kind."""
    store = LifecycleStore(store_location)
    at = MS
    updates = [
        Update("rooms", {"room_id": "live-2", "str_room": True}, True, at + 2),
        Update("rooms", {"room_id": "ended", "str_room": True}, False, at + 1, "gone"),
        Update("rooms", {"room_id": "live-1", "str_room": True}, True, at + 1),
        Update("users", {"room_id": "live-1", "user_id": "u"}, True, at + 3),
    ]
    store.apply("trtc", 5, updates, now=at / 1000 + 10)
    order = [(i.kind, i.ids.get("room_id"), i.started_ms) for i in store.items("trtc", 5, live_only=False)]
    assert order == [
        ("rooms", "ended", None),
        ("rooms", "live-1", at + 1),
        ("rooms", "live-2", at + 2),
        ("users", "live-1", at + 3),
    ]


def test_one_room_updated_by_many_hosts_at_once_ends_once_with_its_users(store_location: Any) -> None:
    """Enter/leave callbacks of one room spread over several hosts: the inventory is what applying
    them one after another gives (one room, one user per entry, the end cascading)."""

    def enter(n: int) -> int:
        store = LifecycleStore(_host(store_location))
        return len(store.apply("trtc", 3, trtc_updates(_trtc(103, room=42, user=f"u{n}", at=MS + n))))

    changes = _run_all(enter, 10)
    assert sum(changes) == 11  # 10 users found, and the room once
    store = LifecycleStore(store_location)
    assert len([i for i in store.items("trtc", 3) if i.kind == "users"]) == 10
    store.apply("trtc", 3, trtc_updates(_trtc(102, room=42, at=MS + 100)))
    assert store.items("trtc", 3) == []


def test_a_live_signature_is_good_for_one_body(store_location: Any) -> None:
    store = LifecycleStore(store_location)
    t = 2_000_000_000
    assert store.claim_live_signature(1, t, "AB", "d/live/s", b"push", now=t - 100) == "new"
    assert store.claim_live_signature(1, t, "ab", "d/live/s", b"push", now=t - 99) == "retry"
    assert store.claim_live_signature(1, t, "ab", "d/live/s", b"stop", now=t - 98) == "replay"
    assert store.claim_live_signature(1, t, "ab", "d/live/other", b"stop", now=t - 97) == "new"


def test_rooms_updated_side_by_side_end_with_everything_in_them(store_location: Any) -> None:
    """Enters into ten rooms and each room's end, all at once from many hosts: whatever the commit
    order, every room ends with its users (events apply by their time: a late enter stays ended)."""

    def event(n: int) -> int:
        store = LifecycleStore(_host(store_location))
        room, kind = n % 10, n // 10
        if kind < 3:  # three users per room, entering before the room's end
            updates = trtc_updates(_trtc(103, room=room, user=f"u{kind}", at=MS + kind))
        else:
            updates = trtc_updates(_trtc(102, room=room, at=MS + 100))
        return len(store.apply("trtc", 4, updates))

    _run_all(event, 40)
    store = LifecycleStore(store_location)
    assert store.items("trtc", 4) == []
    ended = store.items("trtc", 4, live_only=False)
    assert len([i for i in ended if i.kind == "rooms"]) == 10
    # an enter applied after its room's end (and older than it) is never stored: order-dependent
    assert all(not i.live for i in ended) and len(ended) <= 40
