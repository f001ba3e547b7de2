"""The lifecycle inventory: what is live per cloud and application, kept from lifecycle callbacks.

Every callback becomes :class:`Update` objects on *items* (``rooms``, ``users``, ``streams``,
``mixes``, ``recordings``), keyed per cloud and application. An item stores whether it is live, when
it started, when anything last happened to it (``last_activity``) and the time of the event that set
its state. Events are applied by their own timestamps, not by arrival: a late "user entered" older
than the "room dismissed" already applied cannot revive the room, and a re-delivery changes nothing.
A user or stream event also says its room is live (a lost "room created" does not hide the room);
a room that ends takes its users and streams with it.

Reconciliation (:mod:`airflow_provider_rtc.discovery.reconcile`, on a worker) confirms or corrects
items with the clouds' list APIs and posts its corrections back here (:meth:`LifecycleStore.correct`),
so a lost "room dismissed" does not keep a room alive in the store, and every correction is kept in
``lifecycle_corrections`` with its reason.

Event mapping (trtc.io/document/39558, ZEGO callback pages, CSS 267/38081):

* TRTC 101/102 room created/dismissed, 103/104 user entered/left, 201/202 video stream started/
  stopped (a publisher is in the room, so 201 also says the user is; 203-206 audio/aux: activity),
  301 recording started, 302 recording stopped (its
  later upload events are activity only).
* ZEGO ``room_create``/``room_close``, ``room_login``/``room_logout``, ``stream_create``/
  ``stream_close``, ``mix_start``/``mix_stop`` (``task_id`` is ``"appid:taskid"``), and cloud-recording
  ``event_type`` 2/5/7 (ended); ZEGO sends no "recording started" callback (DescribeTasks finds them).
* Live ``event_type`` 1 push / 0 stop-push, one stream per domain/app/stream name.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_rtc.callbacks.store import SqliteFile
from airflow_provider_rtc.validation import lenient_int

KINDS = ("rooms", "users", "streams", "mixes", "recordings")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS lifecycle_items (
    cloud TEXT NOT NULL,
    app_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    item_key TEXT NOT NULL,
    room_id TEXT NOT NULL,
    ids TEXT NOT NULL,
    live INTEGER NOT NULL,
    started_ms INTEGER,
    last_activity_ms INTEGER NOT NULL,
    state_ms INTEGER NOT NULL,
    sources TEXT NOT NULL,
    ended_reason TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (cloud, app_id, kind, item_key)
);
CREATE INDEX IF NOT EXISTS lifecycle_items_live ON lifecycle_items (cloud, app_id, live);
CREATE TABLE IF NOT EXISTS lifecycle_corrections (
    cloud TEXT NOT NULL,
    app_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    item_key TEXT NOT NULL,
    ids TEXT NOT NULL,
    change TEXT NOT NULL,
    reason TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    recorded_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS lifecycle_corrections_recorded ON lifecycle_corrections (recorded_at);
"""


@dataclass(frozen=True)
class Update:
    """One fact about one item: live (True), ended (False) or just activity (None), as of ``at_ms``."""

    kind: str
    ids: dict[str, Any]
    live: bool | None
    at_ms: int
    reason: str = ""
    source: str = "callback"
    #: when the item really started, if the source says (a list API's create time); else ``at_ms``
    started_ms: int | None = None

    @property
    def room_id(self) -> str:
        return "" if self.ids.get("room_id") is None else str(self.ids["room_id"])

    @property
    def key(self) -> str:
        return item_key(self.kind, self.ids)


def item_key(kind: str, ids: dict[str, Any]) -> str:
    """A stable key from the ids that identify an item of ``kind``."""
    return json.dumps({k: ids[k] for k in sorted(ids) if k != "str_room"}, separators=(",", ":"))


@dataclass
class Item:
    cloud: str
    app_id: str
    kind: str
    ids: dict[str, Any]
    live: bool
    started_ms: int | None
    last_activity_ms: int
    state_ms: int
    sources: list[str] = field(default_factory=list)
    ended_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "cloud": self.cloud,
            "app_id": self.app_id,
            "kind": self.kind,
            "ids": self.ids,
            "live": self.live,
            "started_ms": self.started_ms,
            "last_activity_ms": self.last_activity_ms,
            "state_ms": self.state_ms,
            "sources": self.sources,
            "ended_reason": self.ended_reason,
        }


# -- callbacks -> updates ----------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    return lenient_int(value.strip() if isinstance(value, str) else value)


def trtc_updates(event: dict[str, Any]) -> list[Update]:
    """Updates from one TRTC callback body (groups 1, 2 and 3)."""
    info = event.get("EventInfo") if isinstance(event.get("EventInfo"), dict) else {}
    assert isinstance(info, dict)
    etype = _int(event.get("EventType"))
    room = info.get("RoomId")
    if etype is None or room in (None, ""):
        return []
    at = (
        _int(info.get("EventMsTs"))
        or (_int(info.get("EventTs")) or 0) * 1000
        or _int(event.get("CallbackTs"))
        or 0
    )
    room_ids = {"room_id": room, "str_room": isinstance(room, str)}
    user = str(info.get("UserId") or "")
    user_ids = {"room_id": room, "user_id": user}
    room_live = Update("rooms", room_ids, True, at)
    task = str(info.get("TaskId") or "")
    table: dict[int, list[Update]] = {
        101: [room_live],
        102: [Update("rooms", room_ids, False, at, "room dismissed (102)")],
        103: [room_live, Update("users", user_ids, True, at)],
        # "104 includes 202 and 204" (trtc.io/39558): leaving ends the user's stream too
        104: [
            Update("users", user_ids, False, at, "user left (104)"),
            Update("streams", user_ids, False, at, "user left (104)"),
            Update("rooms", room_ids, None, at),
        ],
        201: [room_live, Update("users", user_ids, True, at), Update("streams", user_ids, True, at)],
        202: [
            Update("streams", user_ids, False, at, "video stopped (202)"),
            Update("rooms", room_ids, None, at),
        ],
    }
    if etype in table:
        if not user and etype in (103, 104, 201, 202):  # no user to attach it to: room activity only
            return [Update("rooms", room_ids, None, at)]
        return table[etype]
    if etype in (203, 204, 205, 206):
        return [Update("rooms", room_ids, None, at), Update("users", user_ids, None, at)]
    if task and 300 < etype < 400:
        rec = {"room_id": room, "task_id": task}
        if etype == 301:
            return [room_live, Update("recordings", rec, True, at)]
        if etype == 302:
            return [Update("recordings", rec, False, at, "recording stopped (302)")]
        return [Update("recordings", rec, None, at)]
    return []


def _zego_ms(event: dict[str, Any], *names: str) -> int:
    for name in names:
        value = _int(event.get(name))
        if value:
            return value
    return (_int(event.get("timestamp")) or int(time.time())) * 1000


def zego_updates(event: dict[str, Any], app_id: str) -> list[Update]:
    """Updates from one ZEGO callback (RTC events by ``event``, recording status by ``event_type``)."""
    name = str(event.get("event") or "")
    room = str(event.get("room_id") or "")
    room_ids = {"room_id": room}
    if name in ("room_create", "room_close"):
        at = _zego_ms(event, "room_create_time", "room_close_time")
        return [
            Update(
                "rooms", room_ids, name == "room_create", at, "" if name == "room_create" else "room closed"
            )
        ]
    if name in ("room_login", "room_logout"):
        at = _zego_ms(event, "login_time", "logout_time")
        user = {"room_id": room, "user_id": str(event.get("user_account") or event.get("user_id") or "")}
        if name == "room_login":
            return [Update("rooms", room_ids, True, at), Update("users", user, True, at)]
        return [Update("users", user, False, at, "user logged out"), Update("rooms", room_ids, None, at)]
    if name in ("stream_create", "stream_close"):
        at = _zego_ms(event, "create_time_ms", "destroy_timemillis")
        stream = {
            "room_id": room,
            "user_id": str(event.get("user_id") or ""),
            "stream_id": str(event.get("stream_id")),
        }
        if name == "stream_create":
            return [Update("rooms", room_ids, True, at), Update("streams", stream, True, at)]
        reason = f"stream closed (type {event.get('type')})"
        return [Update("streams", stream, False, at, reason), Update("rooms", room_ids, None, at)]
    if name in ("mix_start", "mix_stop"):
        task = str(event.get("task_id") or "")
        if ":" in task and task.split(":", 1)[0] == app_id:
            task = task.split(":", 1)[1]
        at = _zego_ms(event)
        return [
            Update(
                "mixes",
                {"task_id": task},
                name == "mix_start",
                at,
                "" if name == "mix_start" else "mix stopped",
            )
        ]
    etype = _int(event.get("event_type"))
    task = str(event.get("task_id") or "")
    if task and etype is not None and not name:
        rec = {"room_id": room, "task_id": task}
        at = _zego_ms(event)
        if etype in (2, 5, 7):
            return [Update("recordings", rec, False, at, f"recording ended (event {etype})")]
        return [Update("recordings", rec, None, at)]
    return []


def live_updates(event: dict[str, Any]) -> list[Update]:
    """Updates from one Live push (``event_type`` 1) or stop-push (0) callback."""
    etype = _int(event.get("event_type"))
    name = str(event.get("stream_id") or event.get("channel_id") or "")
    if etype not in (0, 1) or not name:
        return []
    ids = {
        "stream_name": name,
        "domain_name": str(event.get("app") or ""),
        "app_name": str(event.get("appname") or "live"),
    }
    at = (_int(event.get("event_time")) or int(time.time())) * 1000
    return [Update("streams", ids, etype == 1, at, "" if etype == 1 else "push stopped")]


# -- the store ---------------------------------------------------------------------------------------


class LifecycleStore:
    """Items and corrections in the receiver's SQLite file (one short connection per operation)."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 10.0) -> None:
        self._file = SqliteFile(path, _SCHEMA, busy_timeout=busy_timeout)

    def _connect(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return self._file.connect()

    def apply(
        self, cloud: str, app_id: str | int, updates: list[Update], *, now: float | None = None
    ) -> list[tuple[Update, str]]:
        """Apply updates in one transaction; returns the ones that changed state, with the change
        (``found``: now live, ``ended``: no longer live)."""
        now = time.time() if now is None else now
        changes: list[tuple[Update, str]] = []
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                for update in updates:
                    change = self._apply_one(db, cloud, str(app_id), update, now)
                    if change:
                        changes.append((update, change))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return changes

    def _apply_one(
        self, db: sqlite3.Connection, cloud: str, app_id: str, u: Update, now: float
    ) -> str | None:
        pk = (cloud, app_id, u.kind, u.key)
        row = db.execute(
            "SELECT live, started_ms, last_activity_ms, state_ms, sources FROM lifecycle_items "
            "WHERE cloud=? AND app_id=? AND kind=? AND item_key=?",
            pk,
        ).fetchone()
        if row is None:
            if u.live is None:
                return None
            if u.live and u.kind != "rooms" and u.room_id:
                room = db.execute(
                    "SELECT live, state_ms FROM lifecycle_items WHERE cloud=? AND app_id=? AND kind='rooms' "
                    "AND room_id=?",
                    (cloud, app_id, u.room_id),
                ).fetchone()
                if room is not None and not room[0] and room[1] > u.at_ms:
                    return None  # a late event from before its room ended: nothing of it is live now
            db.execute(
                "INSERT INTO lifecycle_items VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    *pk,
                    u.room_id,
                    json.dumps(u.ids, separators=(",", ":"), sort_keys=True),
                    int(u.live),
                    (u.started_ms or u.at_ms) if u.live else None,
                    u.at_ms,
                    u.at_ms,
                    u.source if u.live else "",
                    None if u.live else (u.reason or "ended"),
                    now,
                ),
            )
            return "found" if u.live else None
        live, started, last, state_ms = bool(row[0]), row[1], row[2], row[3]
        sources = {s for s in row[4].split(",") if s}
        if u.live is None or u.at_ms < state_ms or u.live == live:
            # activity, a stale event, or the current state again: only activity and who saw it live
            if live and (u.live is None or u.live):
                last = max(last, u.at_ms)
                if u.live:
                    sources.add(u.source)
            db.execute(
                "UPDATE lifecycle_items SET last_activity_ms=?, sources=?, updated_at=? "
                "WHERE cloud=? AND app_id=? AND kind=? AND item_key=?",
                (last, ",".join(sorted(sources)), now, *pk),
            )
            return None
        db.execute(
            "UPDATE lifecycle_items SET live=?, started_ms=?, last_activity_ms=?, state_ms=?, sources=?, "
            "ended_reason=?, updated_at=? WHERE cloud=? AND app_id=? AND kind=? AND item_key=?",
            (
                int(bool(u.live)),
                (u.started_ms or u.at_ms) if u.live else started,
                max(last, u.at_ms),
                u.at_ms,
                u.source if u.live else ",".join(sorted(sources)),
                None if u.live else (u.reason or "ended"),
                now,
                *pk,
            ),
        )
        if not u.live and u.kind == "rooms":  # everyone and everything in an ended room ended with it
            db.execute(
                "UPDATE lifecycle_items SET live=0, state_ms=?, ended_reason=?, updated_at=? WHERE cloud=? "
                "AND app_id=? AND kind IN ('users', 'streams') AND room_id=? AND live=1 AND state_ms<=?",
                (u.at_ms, f"room ended: {u.reason or 'ended'}", now, cloud, app_id, u.room_id, u.at_ms),
            )
        return "found" if u.live else "ended"

    def items(self, cloud: str, app_id: str | int, *, live_only: bool = True) -> list[Item]:
        query = (
            "SELECT cloud, app_id, kind, ids, live, started_ms, last_activity_ms, state_ms, sources, "
            "ended_reason FROM lifecycle_items WHERE cloud=? AND app_id=?"
        )
        if live_only:
            query += " AND live=1"
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY kind, started_ms, item_key", (cloud, str(app_id))).fetchall()
        return [
            Item(r[0], r[1], r[2], json.loads(r[3]), bool(r[4]), r[5], r[6], r[7], r[8].split(","), r[9])
            for r in rows
        ]

    def correct(
        self, cloud: str, app_id: str | int, corrections: list[dict[str, Any]], *, now: float | None = None
    ) -> list[dict[str, Any]]:
        """Apply reconciliation results (each ``{"kind", "ids", "live", "at_ms", "reason"}``: live True
        confirms or finds, False ends), log the ones that changed the state and return them. A callback
        newer than a correction still wins, as it describes a later moment."""
        now = time.time() if now is None else now
        updates = [
            Update(
                str(c["kind"]),
                dict(c["ids"]),
                bool(c["live"]),
                int(c["at_ms"]),
                str(c.get("reason") or ""),
                source="list_api",
                started_ms=None if c.get("started_ms") is None else int(c["started_ms"]),
            )
            for c in corrections
        ]
        changes = self.apply(cloud, app_id, updates, now=now)
        logged: list[dict[str, Any]] = [
            {"kind": u.kind, "ids": u.ids, "change": change, "reason": u.reason, "at_ms": u.at_ms}
            for u, change in changes
        ]
        with self._connect() as db:
            db.executemany(
                "INSERT INTO lifecycle_corrections VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (
                        cloud,
                        str(app_id),
                        c["kind"],
                        item_key(c["kind"], c["ids"]),
                        json.dumps(c["ids"]),
                        c["change"],
                        c["reason"],
                        c["at_ms"],
                        now,
                    )
                    for c in logged
                ],
            )
        return logged

    def prune(self, older_than_seconds: float, *, now: float | None = None) -> tuple[int, int]:
        """Delete ended items last touched, and corrections recorded, more than ``older_than_seconds``
        ago (receiver clock); returns how many of each. Live items are never pruned."""
        cutoff = (time.time() if now is None else now) - older_than_seconds
        with self._connect() as db:
            items = db.execute("DELETE FROM lifecycle_items WHERE live=0 AND updated_at < ?", (cutoff,))
            fixes = db.execute("DELETE FROM lifecycle_corrections WHERE recorded_at < ?", (cutoff,))
            return items.rowcount, fixes.rowcount

    def corrections(self, cloud: str, app_id: str | int) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT kind, ids, change, reason, at_ms FROM lifecycle_corrections "
                "WHERE cloud=? AND app_id=? ORDER BY recorded_at",
                (cloud, str(app_id)),
            ).fetchall()
        return [
            {"kind": r[0], "ids": json.loads(r[1]), "change": r[2], "reason": r[3], "at_ms": r[4]}
            for r in rows
        ]
