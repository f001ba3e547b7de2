"""The lifecycle inventory's store: items and corrections, applied by event time, in the receiver's
SQLite file or its PostgreSQL database (:mod:`.store_pg`), with the same SQL and rules on both.

What the items mean, how callbacks become :class:`~.inventory.Update` objects and why times are
clamped to their receipt: :mod:`airflow_provider_rtc.callbacks.inventory`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import replace
from typing import Any

from airflow_provider_rtc.callbacks.inventory import CLOUD, FIRST_SEEN, Item, Update, item_key, room_column
from airflow_provider_rtc.callbacks.store import Connection, Location, SqliteFile, open_database

log = logging.getLogger(__name__)

#: how far ahead of its receipt an event time may be and still count as the cloud's own clock
#: (5 minutes: the receiver's read and ZEGO freshness windows use the same bound; NTP-synced vendor
#: servers are seconds off, so anything further ahead is a bug or a forgery, never a real time)
FUTURE_SKEW_MS = 300_000
#: how long a Live stream ended only by a stop-push is shown to reconciliation for confirmation
UNCONFIRMED_KEEP_MS = 24 * 3600 * 1000
#: bumped when :func:`~.inventory.item_key` changes; existing files are re-keyed on open (``_migrate``;
#: a PostgreSQL store is created at this version and needs a step in :mod:`.store_pg` for the next)
KEY_VERSION = "2"

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
CREATE INDEX IF NOT EXISTS lifecycle_corrections_recorded ON lifecycle_corrections (recorded_at);
"""

#: corrections in the order they were recorded (one instant's in insertion order: rowid / seq)
_CORRECTIONS_READ = (
    "SELECT kind, ids, change, reason, at_ms FROM lifecycle_corrections WHERE cloud=? AND app_id=? "
)
_CORRECTIONS = {
    "rowid": _CORRECTIONS_READ + "ORDER BY recorded_at, rowid",
    "seq": _CORRECTIONS_READ + "ORDER BY recorded_at, seq",
}


class LifecycleStore:
    """Items and corrections in the receiver's store (SQLite: one short connection per operation;
    PostgreSQL: a pooled connection, writers of one application serialized by an advisory lock)."""

    def __init__(self, location: Location, *, busy_timeout: float = 10.0) -> None:
        self._db = open_database(location, _SCHEMA, busy_timeout=busy_timeout)
        if isinstance(self._db, SqliteFile):
            self._file = self._db
            self._migrate()

    def _migrate(self) -> None:
        """Bring a file written by an older version up to date, once, under the write lock.

        * ``started_source`` (NULL on old rows: read as ``"first_seen"``, the safe reading: nothing
          said those times were creation times) and ``end_unconfirmed`` columns are added if missing.
        * Rows are re-keyed with the typed :func:`item_key` and typed room column. Two old rows that
          now name the same item (the same room given once as 1234 and once as "1234" with its
          ``str_room`` flag) keep the one with the newest state: it describes the later moment.
          ``lifecycle_corrections`` keeps its old keys: it is a log, read by ids, never by key.
        """
        with self._file.connect() as db:
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
        with self._db.write() as db:
            for key in _lock_keys(updates):  # in one order everywhere: no deadlock
                self._db.lock(db, "lifecycle", cloud, str(app_id), *key)
            for update in updates:
                clamped = _clamped(cloud, update, int(now * 1000))
                change = self._apply_one(db, cloud, str(app_id), clamped, now)
                if change:
                    changes.append((update, change))
        return changes

    def _apply_one(self, db: Connection, cloud: str, app_id: str, u: Update, now: float) -> str | None:
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
        with self._db.read() as db:
            rows = db.execute(query + " ORDER BY kind, started_ms NULLS FIRST, item_key", params).fetchall()
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

    def live_apps(self) -> list[tuple[str, str]]:
        """``(cloud, app_id)`` of every application with a live item (the UI page lists them all)."""
        with self._db.read() as db:
            rows = db.execute(
                "SELECT DISTINCT cloud, app_id FROM lifecycle_items WHERE live=1 ORDER BY cloud, app_id"
            ).fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

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
        if not logged:
            return logged
        with self._db.write() as db:
            db.executemany(
                "INSERT INTO lifecycle_corrections (cloud, app_id, kind, item_key, ids, change, reason, "
                "at_ms, recorded_at) VALUES (?,?,?,?,?,?,?,?,?)",
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
        with self._db.write() as db:
            items = db.execute("DELETE FROM lifecycle_items WHERE live=0 AND updated_at < ?", (cutoff,))
            fixes = db.execute("DELETE FROM lifecycle_corrections WHERE recorded_at < ?", (cutoff,))
            return int(items.rowcount), int(fixes.rowcount)

    def corrections(self, cloud: str, app_id: str | int) -> list[dict[str, Any]]:
        with self._db.read() as db:
            rows = db.execute(
                _CORRECTIONS[self._db.row_order],
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
        with self._db.write() as db:
            self._db.lock(db, "live-sign", *key[:1], str(key[1]), *key[2:])
            # an expired pair can no longer pass the signature check: forgotten (on a server database
            # apart, at most every 10 s: writers deleting the same old rows would wait on each other)
            if self._db.dialect == "sqlite":
                db.execute("DELETE FROM live_signatures WHERE t < ?", (int(now) - 60,))
            row = db.execute(
                "SELECT body_sha256 FROM live_signatures WHERE app_id=? AND t=? AND sign=? AND stream=?",
                key,
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO live_signatures (app_id, t, sign, stream, body_sha256, seen_at) "
                    "VALUES (?,?,?,?,?,?)",
                    (*key, digest, now),
                )
                outcome = "new"
            else:
                outcome = "retry" if hmac.compare_digest(row[0], digest) else "replay"
        if self._db.dialect != "sqlite" and now >= self._next_expiry:
            self._next_expiry = now + 10.0
            with self._db.write() as db:
                db.execute("DELETE FROM live_signatures WHERE t < ?", (int(now) - 60,))
        return outcome

    _next_expiry = 0.0


def _lock_keys(updates: list[Update]) -> list[tuple[str, str]]:
    """What one transaction of ``updates`` must hold alone (SQLite's write lock holds everything).

    A room's items together: every user or stream event also writes its room's row, a room's end
    cascades to its users and streams, a late user event reads its room; so writers of one room go
    one after the other and rooms (and applications) run side by side. An item without a room (a
    Live stream) by its key; a mix by its key too, as ``mix_stop`` may not name the room
    ``mix_start`` did, and by its room when it has one.
    """
    keys: set[tuple[str, str]] = set()
    for u in updates:
        if u.kind == "mixes" or not u.room_id:
            keys.add((u.kind, u.key))
        if u.room_id:
            keys.add(("room", u.room_id))
    return sorted(keys)


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
