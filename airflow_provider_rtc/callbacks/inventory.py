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

Times you can trust:

* Every ``started_ms`` says where it came from (``started_source``): ``"cloud"`` when a creation
  callback or a list API's create time gave it (TRTC 101/103/201/301, ZEGO ``room_create``/
  ``room_login``/``stream_create``/``mix_start``, Live push, DescribeSimpleStreamList ``CreateTime``,
  DescribeTasks ``RecordBeginTimestamp``, Live ``PublishTime``), ``"first_seen"`` when the item was
  only noticed then (a user event saying its room is live, a list API without a create time): the
  real start is at or before it, so it is an upper bound only. A later creation callback upgrades it.
* No stored time is later than the moment the store received it: an event dated after its receipt
  is applied at the receipt time (:data:`FUTURE_SKEW_MS` only decides whether a clamped start may
  still be called "cloud" and whether to warn). Clamping, not refusing, because the event itself is
  authentic for TRTC/ZEGO (a refused callback is retried 5 times, then lost) and it cannot have
  happened after we received it; so a callback dated ten years ahead can never again outrank a later
  callback or an observation made by a list API now.
* A Live stop-push proves nothing about its body (the signature is MD5(key + t)): a stream it ends
  is kept ``end_unconfirmed`` until reconciliation asks DescribeLiveStreamState; reads return it
  (``live`` false) so reconciliation can confirm it or bring the stream back.

Keys are typed (:func:`item_key`): TRTC numeric room 1234 and string room "1234" are two rooms.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import sqlite3
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from airflow_provider_rtc.callbacks.store import SqliteFile
from airflow_provider_rtc.identity import room_id_type
from airflow_provider_rtc.validation import lenient_int

log = logging.getLogger(__name__)

#: how far ahead of its receipt an event time may be and still count as the cloud's own clock
#: (5 minutes: the receiver's read and ZEGO freshness windows use the same bound; NTP-synced vendor
#: servers are seconds off, so anything further ahead is a bug or a forgery, never a real time)
FUTURE_SKEW_MS = 300_000
#: ``started_source`` values: a creation time the cloud gave, or only when the item was first noticed
CLOUD = "cloud"
FIRST_SEEN = "first_seen"
#: how long a Live stream ended only by a stop-push is shown to reconciliation for confirmation
UNCONFIRMED_KEEP_MS = 24 * 3600 * 1000
#: bumped when :func:`item_key` changes; existing files are re-keyed on open (``_migrate``)
KEY_VERSION = "2"

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
    started_source TEXT,
    end_unconfirmed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (cloud, app_id, kind, item_key)
);
CREATE TABLE IF NOT EXISTS lifecycle_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS live_signatures (
    app_id TEXT NOT NULL,
    t INTEGER NOT NULL,
    sign TEXT NOT NULL,
    stream TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    seen_at REAL NOT NULL,
    PRIMARY KEY (app_id, t, sign, stream)
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
    #: ``"cloud"`` when this update's start time is the item's creation time, else ``"first_seen"``
    started_source: str = FIRST_SEEN

    @property
    def room_id(self) -> str:
        return room_column(self.ids)

    @property
    def key(self) -> str:
        return item_key(self.kind, self.ids)


def _typed_room(ids: dict[str, Any]) -> tuple[str, str] | None:
    room = ids.get("room_id")
    if room is None:
        return None
    str_room = ids.get("str_room")
    return str(room), room_id_type(room, str_room=None if str_room is None else bool(str_room))


def room_column(ids: dict[str, Any]) -> str:
    """The typed room an item belongs to (``int:1234`` / ``str:1234``), "" for none: the room
    cascade and late-event checks compare it, so a numeric and a string room never touch."""
    typed = _typed_room(ids)
    return "" if typed is None or typed[0] == "" else f"{typed[1]}:{typed[0]}"


def item_key(kind: str, ids: dict[str, Any]) -> str:
    """A stable, typed key from the ids that identify an item of ``kind``.

    The room id is stored as text with its id type (:func:`~airflow_provider_rtc.identity.room_id_type`,
    ``str_room`` winning over the value's type), so TRTC numeric room 1234 and string room "1234" are
    two items, and ``{"room_id": "1234", "str_room": false}`` is the numeric room. A mix is keyed by
    its task only: ``mix_stop`` need not repeat the ``channel_id`` that named its room.
    """
    key = {k: v for k, v in ids.items() if k != "str_room"}
    if kind == "mixes":
        key = {"task_id": key.get("task_id")}
    elif "room_id" in key:
        typed = _typed_room(ids)
        assert typed is not None
        key["room_id"], key["room_id_type"] = typed
    return json.dumps(key, separators=(",", ":"), sort_keys=True)


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
    started_source: str = FIRST_SEEN
    end_unconfirmed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "cloud": self.cloud,
            "app_id": self.app_id,
            "kind": self.kind,
            "ids": self.ids,
            "live": self.live,
            "started_ms": self.started_ms,
            "started_source": self.started_source,
            "last_activity_ms": self.last_activity_ms,
            "state_ms": self.state_ms,
            "sources": self.sources,
            "ended_reason": self.ended_reason,
            "end_unconfirmed": self.end_unconfirmed,
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
    # a room said live by a user/stream/recording event was only first seen then
    room_live = Update("rooms", room_ids, True, at)
    task = str(info.get("TaskId") or "")
    table: dict[int, list[Update]] = {
        101: [Update("rooms", room_ids, True, at, started_source=CLOUD)],
        102: [Update("rooms", room_ids, False, at, "room dismissed (102)")],
        103: [room_live, Update("users", user_ids, True, at, started_source=CLOUD)],
        # "104 includes 202 and 204" (trtc.io/39558): leaving ends the user's stream too
        104: [
            Update("users", user_ids, False, at, "user left (104)"),
            Update("streams", user_ids, False, at, "user left (104)"),
            Update("rooms", room_ids, None, at),
        ],
        201: [
            room_live,
            Update("users", user_ids, True, at),
            Update("streams", user_ids, True, at, started_source=CLOUD),
        ],
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
            return [room_live, Update("recordings", rec, True, at, started_source=CLOUD)]
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


#: ZEGO ``UserRole``/``user_role`` 4 (administrator: "mainly in cloud recording and stream
#: moderation; the client SDK's user APIs filter this type out"; docs_all core_products/
#: real-time-voice-video/zh/server/callback/room/logged-in.mdx, api-reference/room/
#: describe-user-list.yaml): robots, not users to count or kick
ZEGO_ADMIN_ROLE = 4


def zego_admin(role: Any) -> bool:
    return _int(role) == ZEGO_ADMIN_ROLE


def zego_updates(event: dict[str, Any], app_id: str) -> list[Update]:
    """Updates from one ZEGO callback (RTC events by ``event``, recording status by ``event_type``).

    Each event's own time field is read first: ``stream_close`` also carries ``create_time_ms`` and
    ``room_logout`` also ``login_time`` (docs_all core_products/real-time-voice-video/zh/server/
    callback/stream/destroyed.mdx, callback/room/logged-out.mdx), which are the stream's and the
    login's start, not the moment of the close or logout.
    """
    name = str(event.get("event") or "")
    room = str(event.get("room_id") or "")
    room_ids = {"room_id": room}
    if name == "room_create":
        at = _zego_ms(event, "room_create_time")
        return [Update("rooms", room_ids, True, at, started_source=CLOUD)]
    if name == "room_close":
        return [Update("rooms", room_ids, False, _zego_ms(event, "room_close_time"), "room closed")]
    if name in ("room_login", "room_logout"):
        login = name == "room_login"
        at = _zego_ms(event, "login_time") if login else _zego_ms(event, "logout_time")
        user = {"room_id": room, "user_id": str(event.get("user_account") or event.get("user_id") or "")}
        if zego_admin(event.get("user_role")):  # a recording/moderation robot: the room, no user
            return [Update("rooms", room_ids, True if login else None, at)]
        if login:
            return [
                Update("rooms", room_ids, True, at),
                Update("users", user, True, at, started_source=CLOUD),
            ]
        return [Update("users", user, False, at, "user logged out"), Update("rooms", room_ids, None, at)]
    if name in ("stream_create", "stream_close"):
        create = name == "stream_create"
        at = _zego_ms(event, "create_time_ms") if create else _zego_ms(event, "destroy_timemillis")
        stream = {
            "room_id": room,
            "user_id": str(event.get("user_id") or ""),
            "stream_id": str(event.get("stream_id")),
        }
        if create:
            return [
                Update("rooms", room_ids, True, at),
                Update("streams", stream, True, at, started_source=CLOUD),
            ]
        reason = f"stream closed (type {event.get('type')})"
        return [Update("streams", stream, False, at, reason), Update("rooms", room_ids, None, at)]
    if name in ("mix_start", "mix_stop"):
        task = str(event.get("task_id") or "")
        if ":" in task and task.split(":", 1)[0] == app_id:
            task = task.split(":", 1)[1]
        # "channel_id: channel ID = the client's RoomID" (docs_all .../callback/stream-mixing/started.mdx,
        # stopped.mdx): the mix's room; not part of its key (item_key), so a stop without it matches
        mix: dict[str, Any] = {"task_id": task}
        if event.get("channel_id") not in (None, ""):
            mix["room_id"] = str(event["channel_id"])
        start = name == "mix_start"
        at = _zego_ms(event)
        reason = "" if start else "mix stopped"
        return [Update("mixes", mix, start, at, reason, started_source=CLOUD if start else FIRST_SEEN)]
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
    push = etype == 1
    reason = "" if push else "push stopped"
    return [Update("streams", ids, push, at, reason, started_source=CLOUD if push else FIRST_SEEN)]


# -- the store ---------------------------------------------------------------------------------------


class LifecycleStore:
    """Items and corrections in the receiver's SQLite file (one short connection per operation)."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 10.0) -> None:
        self._file = SqliteFile(path, _SCHEMA, busy_timeout=busy_timeout)
        self._migrate()

    def _connect(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return self._file.connect()

    def _migrate(self) -> None:
        """Bring a file written by an older version up to date, once, under the write lock.

        * ``started_source`` (NULL on old rows: read as ``"first_seen"``, the safe reading: nothing
          said those times were creation times) and ``end_unconfirmed`` columns are added if missing.
        * Rows are re-keyed with the typed :func:`item_key` and typed room column. Two old rows that
          now name the same item (the same room given once as 1234 and once as "1234" with its
          ``str_room`` flag) keep the one with the newest state: it describes the later moment.
          ``lifecycle_corrections`` keeps its old keys: it is a log, read by ids, never by key.
        """
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                columns = {row[1] for row in db.execute("PRAGMA table_info(lifecycle_items)")}
                if "started_source" not in columns:
                    db.execute("ALTER TABLE lifecycle_items ADD COLUMN started_source TEXT")
                if "end_unconfirmed" not in columns:
                    db.execute(
                        "ALTER TABLE lifecycle_items ADD COLUMN end_unconfirmed INTEGER NOT NULL DEFAULT 0"
                    )
                version = db.execute("SELECT value FROM lifecycle_meta WHERE name='key_version'").fetchone()
                if version is None or version[0] != KEY_VERSION:
                    rows = db.execute(
                        "SELECT rowid, kind, ids FROM lifecycle_items ORDER BY state_ms, updated_at"
                    ).fetchall()
                    for rowid, kind, ids in rows:
                        parsed = json.loads(ids)
                        db.execute(
                            "UPDATE OR REPLACE lifecycle_items SET item_key=?, room_id=? WHERE rowid=?",
                            (item_key(kind, parsed), room_column(parsed), rowid),
                        )
                    db.execute(
                        "INSERT OR REPLACE INTO lifecycle_meta VALUES ('key_version', ?)", (KEY_VERSION,)
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def apply(
        self, cloud: str, app_id: str | int, updates: list[Update], *, now: float | None = None
    ) -> list[tuple[Update, str]]:
        """Apply updates in one transaction; returns the ones that changed state, with the change
        (``found``: now live, ``ended``: no longer live). Times later than ``now`` are clamped to it."""
        now = time.time() if now is None else now
        changes: list[tuple[Update, str]] = []
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                for update in updates:
                    clamped = _clamped(cloud, update, int(now * 1000))
                    change = self._apply_one(db, cloud, str(app_id), clamped, now)
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
        now_ms = int(now * 1000)
        # a Live stop-push proves nothing about its body: it ends the stream only until confirmed
        unconfirmed = int(cloud == "live" and u.live is False and u.source == "callback")
        start = u.started_ms or u.at_ms
        row = db.execute(
            "SELECT live, started_ms, last_activity_ms, state_ms, sources, started_source, end_unconfirmed "
            "FROM lifecycle_items WHERE cloud=? AND app_id=? AND kind=? AND item_key=?",
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
                if room is not None and not room[0] and min(room[1], now_ms) > u.at_ms:
                    return None  # a late event from before its room ended: nothing of it is live now
            db.execute(
                "INSERT INTO lifecycle_items (cloud, app_id, kind, item_key, room_id, ids, live, started_ms, "
                "last_activity_ms, state_ms, sources, ended_reason, updated_at, started_source, "
                "end_unconfirmed) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    *pk,
                    u.room_id,
                    json.dumps(u.ids, separators=(",", ":"), sort_keys=True),
                    int(u.live),
                    start if u.live else None,
                    u.at_ms,
                    u.at_ms,
                    u.source if u.live else "",
                    None if u.live else (u.reason or "ended"),
                    now,
                    u.started_source if u.live else None,
                    unconfirmed,
                ),
            )
            return "found" if u.live else None
        live, started, last, state_ms = bool(row[0]), row[1], row[2], row[3]
        # a time stored in the future by an older version never outranks what happens now
        state_ms, last = min(state_ms, now_ms), min(last, now_ms)
        sources = {s for s in row[4].split(",") if s}
        started_source = row[5] or FIRST_SEEN
        if u.live is None or u.at_ms < state_ms or u.live == live:
            # activity, a stale event, or the current state again: only activity and who saw it live
            if live and (u.live is None or u.live):
                if u.source != "list_api":  # a list API confirming a live item is no activity in it
                    last = max(last, u.at_ms)
                if u.live:
                    sources.add(u.source)
                    if u.started_source == CLOUD and started_source != CLOUD:
                        # the creation time arrived after the item was first seen (a late room_create,
                        # a list API's create time): the better time replaces the upper bound
                        started, started_source = start, CLOUD
            confirmed = row[6] and u.live is False and u.at_ms >= state_ms and u.source != "callback"
            db.execute(
                "UPDATE lifecycle_items SET started_ms=?, started_source=?, last_activity_ms=?, sources=?, "
                "end_unconfirmed=?, updated_at=? WHERE cloud=? AND app_id=? AND kind=? AND item_key=?",
                (
                    started,
                    started_source if live else row[5],
                    last,
                    ",".join(sorted(sources)),
                    0 if confirmed else row[6],
                    now,
                    *pk,
                ),
            )
            return None
        db.execute(
            "UPDATE lifecycle_items SET live=?, started_ms=?, last_activity_ms=?, state_ms=?, sources=?, "
            "ended_reason=?, updated_at=?, started_source=?, end_unconfirmed=? "
            "WHERE cloud=? AND app_id=? AND kind=? AND item_key=?",
            (
                int(bool(u.live)),
                start if u.live else started,
                max(last, u.at_ms),
                u.at_ms,
                u.source if u.live else ",".join(sorted(sources)),
                None if u.live else (u.reason or "ended"),
                now,
                u.started_source if u.live else started_source,
                unconfirmed,
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

    def items(
        self, cloud: str, app_id: str | int, *, live_only: bool = True, now: float | None = None
    ) -> list[Item]:
        """Items of one application; ``live_only``: the live ones and the ends still unconfirmed
        (``live`` false, ``end_unconfirmed`` true) of the last :data:`UNCONFIRMED_KEEP_MS`, which
        reconciliation must see to confirm (older ones are left to the online list: a read must not
        grow with every stop-push a selector never covers)."""
        query = (
            "SELECT cloud, app_id, kind, ids, live, started_ms, last_activity_ms, state_ms, sources, "
            "ended_reason, started_source, end_unconfirmed FROM lifecycle_items WHERE cloud=? AND app_id=?"
        )
        params: tuple[Any, ...] = (cloud, str(app_id))
        if live_only:
            query += " AND (live=1 OR (end_unconfirmed=1 AND state_ms>=?))"
            params += (int((time.time() if now is None else now) * 1000) - UNCONFIRMED_KEEP_MS,)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY kind, started_ms, item_key", params).fetchall()
        return [
            Item(
                r[0],
                r[1],
                r[2],
                json.loads(r[3]),
                bool(r[4]),
                r[5],
                r[6],
                r[7],
                r[8].split(","),
                r[9],
                r[10] or FIRST_SEEN,
                bool(r[11]),
            )
            for r in rows
        ]

    def correct(
        self, cloud: str, app_id: str | int, corrections: list[dict[str, Any]], *, now: float | None = None
    ) -> list[dict[str, Any]]:
        """Apply reconciliation results (each ``{"kind", "ids", "live", "at_ms", "reason"}``: live True
        confirms or finds, False ends), log the ones that changed the state and return them. A callback
        newer than a correction still wins, as it describes a later moment; ``at_ms`` and ``started_ms``
        later than ``now`` are clamped like callback times (a worker's clock ahead changes nothing)."""
        now = time.time() if now is None else now
        updates = []
        for c in corrections:
            started = None if c.get("started_ms") is None else int(c["started_ms"])
            updates.append(
                Update(
                    str(c["kind"]),
                    dict(c["ids"]),
                    bool(c["live"]),
                    int(c["at_ms"]),
                    str(c.get("reason") or ""),
                    source="list_api",
                    started_ms=started,
                    started_source=CLOUD if started is not None else FIRST_SEEN,
                )
            )
        changes = self.apply(cloud, app_id, updates, now=now)
        logged: list[dict[str, Any]] = [
            {
                "kind": u.kind,
                "ids": u.ids,
                "change": change,
                "reason": u.reason,
                "at_ms": min(u.at_ms, int(now * 1000)),
            }
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

    def claim_live_signature(
        self, app_id: str | int, t: int, sign: str, stream: str, body: bytes, *, now: float | None = None
    ) -> str:
        """Remember a Live callback's (t, sign) pair with the body it came with, per ``stream``
        (domain/app/stream name): ``"new"``, ``"retry"`` (the same body again: Tencent's re-delivery)
        or ``"replay"`` (another body for that stream under a used signature).

        MD5(key + t) signs no body, so without this one captured signature could post any number of
        stop-push events for a stream until ``t``. Per stream, not per pair alone: Tencent signs only
        key + t, so every notification it sends in the same second (a busy app's pushes and stops of
        different streams) carries the same pair, and refusing all but one would lose real events.
        A pair reused for *another* stream is therefore not provable here: an end it claims counts
        only after DescribeLiveStreamState agrees (``end_unconfirmed``). Pairs are kept until their
        ``t`` has passed (then the signature check refuses them anyway), in the shared file, so
        restarts and workers agree.
        """
        now = time.time() if now is None else now
        digest = hashlib.sha256(body).hexdigest()
        key = (str(app_id), int(t), str(sign).strip().lower(), stream)
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM live_signatures WHERE t < ?", (int(now) - 60,))
                row = db.execute(
                    "SELECT body_sha256 FROM live_signatures WHERE app_id=? AND t=? AND sign=? AND stream=?",
                    key,
                ).fetchone()
                if row is None:
                    db.execute("INSERT INTO live_signatures VALUES (?,?,?,?,?,?)", (*key, digest, now))
                    outcome = "new"
                else:
                    outcome = "retry" if hmac.compare_digest(row[0], digest) else "replay"
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return outcome


def _clamped(cloud: str, u: Update, now_ms: int) -> Update:
    """``u`` with no time later than ``now_ms`` (its receipt): see the module docstring."""
    at, started = u.at_ms, u.started_ms
    if at <= now_ms and (started is None or started <= now_ms):
        return u
    source = u.started_source
    if max(at, started or 0) > now_ms + FUTURE_SKEW_MS:
        log.warning(
            "%s %s %s dated %d ms after its receipt: stored at the receipt time",
            cloud,
            u.kind,
            u.ids,
            max(at, started or 0) - now_ms,
        )
        source = FIRST_SEEN  # a time we replaced is no longer the cloud's
    return replace(
        u,
        at_ms=min(at, now_ms),
        started_ms=None if started is None else min(started, now_ms),
        started_source=source,
    )
