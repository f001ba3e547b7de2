"""Where received callbacks live: one SQLite file, safe to share between processes on one host, or
a PostgreSQL database shared by every host (:mod:`.store_pg`); the same rules on both.

Each row is one *slot*: ``(cloud, app_id, task_id, event_type, file_key)``. Storing the same
callback again (the clouds retry deliveries) only bumps ``deliveries``; a newer event for the same
slot (a 305 Status 2 after the 305 Status 1 it recovers, a 311 Status 0 after a stuck 311) replaces
it, and an older re-delivery never overwrites a newer event. Readers get the latest state of every
slot of a task.

Every write is one transaction committed before the method returns, and the SQL is written once
(``?`` placeholders) for both backends (:class:`Database`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from airflow_provider_rtc.callbacks.store_errors import StoreUnavailable  # noqa: F401 (re-export)

if TYPE_CHECKING:
    from airflow_provider_rtc.callbacks.store_pg import PostgresSettings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS callback_events (
    cloud TEXT NOT NULL,
    app_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    file_key TEXT NOT NULL,
    status INTEGER,
    event_ms INTEGER NOT NULL,
    first_received_at REAL NOT NULL,
    received_at REAL NOT NULL,
    deliveries INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (cloud, app_id, task_id, event_type, file_key)
);
CREATE INDEX IF NOT EXISTS callback_events_received ON callback_events (received_at);
CREATE TABLE IF NOT EXISTS callback_nonces (
    cloud TEXT NOT NULL,
    app_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    seen_at REAL NOT NULL,
    PRIMARY KEY (cloud, app_id, nonce)
);
CREATE INDEX IF NOT EXISTS callback_nonces_seen ON callback_nonces (seen_at);
"""


@dataclass(frozen=True)
class StoredEvent:
    cloud: str
    app_id: str
    task_id: str
    event_type: int | str
    file_key: str
    status: int | None
    event_ms: int
    first_received_at: float
    received_at: float
    deliveries: int
    body: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """Every field, in declaration order (the body as stored, not copied)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _event_type(raw: str) -> int | str:
    return int(raw) if raw.lstrip("-").isdigit() else raw


class Connection(Protocol):
    """The part of a DB-API connection the stores use (``?`` placeholders on every backend)."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> Any: ...


class Database(Protocol):
    """A backend of the receiver's stores: :class:`SqliteFile` or
    :class:`~airflow_provider_rtc.callbacks.store_pg.PostgresDatabase`.

    ``write()`` is one transaction that commits before it returns (a callback is acknowledged only
    after that); ``lock(db, *key)`` serializes the writers of one key inside it (SQLite's
    ``BEGIN IMMEDIATE`` already serializes every writer; PostgreSQL takes an advisory lock).
    """

    dialect: str
    #: the column that orders rows inserted in one instant (``rowid`` / ``seq``)
    row_order: str

    def write(self) -> contextlib.AbstractContextManager[Connection]: ...

    def read(self) -> contextlib.AbstractContextManager[Connection]: ...

    def lock(self, db: Connection, *key: str) -> None: ...

    def describe(self) -> str: ...


#: ``PRAGMA synchronous`` values a SQLite store accepts (``sqlite_synchronous``)
SYNCHRONOUS = ("FULL", "NORMAL")


@dataclass(frozen=True)
class SqliteSettings:
    """A SQLite store with a ``synchronous`` other than the default ``FULL``."""

    path: str
    synchronous: str = "FULL"


class SqliteFile:
    """A SQLite file shared between processes: WAL mode, one short connection per operation.

    Durability: the receiver answers only after the commit. With ``synchronous=FULL`` (the default,
    set on every connection) each commit is written and synced to the WAL before ``COMMIT`` returns:
    it survives the process being killed at any moment and the machine losing power. ``NORMAL``
    writes the WAL at commit but syncs it only at checkpoints: a killed process still loses nothing
    committed, a power loss may lose the last commits; in exchange a commit costs no fsync (on a
    disk with 5 ms fsyncs: ~150 commits/s with FULL, ~1,500 with NORMAL, one connection per commit).
    Writes are group-committed (:mod:`.group_commit`): the writers of one process waiting at once
    share one commit (one sync with FULL), each still returning only after its own data is committed.
    """

    dialect = "sqlite"
    row_order = "rowid"

    def __init__(
        self, path: str | Path, schema: str, *, busy_timeout: float = 10.0, synchronous: str = "FULL"
    ) -> None:
        self.path = str(path)
        self.busy_timeout = busy_timeout
        self.synchronous = synchronous.strip().upper()
        if self.synchronous not in SYNCHRONOUS:
            raise ValueError(
                f"SQLite synchronous must be one of {', '.join(SYNCHRONOUS)}, got {synchronous!r}"
            )
        if self.path in ("", ":memory:"):
            raise ValueError("the callback store needs a file path (it is shared between processes)")
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as db:
            with contextlib.suppress(sqlite3.OperationalError):  # e.g. no shared memory on the FS
                db.execute("PRAGMA journal_mode=WAL")
            db.executescript(schema)
        from airflow_provider_rtc.callbacks.group_commit import GroupCommit

        self._group = GroupCommit.shared(self.path, busy_timeout=busy_timeout, synchronous=self.synchronous)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            # explicit: some builds default WAL files to NORMAL (see the class docstring)
            db.execute(f"PRAGMA synchronous={self.synchronous}")
            yield db
        finally:
            db.close()

    def write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One writer's transaction, holding the file's write lock from its start (``BEGIN IMMEDIATE``:
        a time read inside it grows in commit order), committed before it returns; writers of this
        process queued at once share the commit (one sync for all of them)."""
        return self._group.write()

    def read(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return self.connect()

    def lock(self, db: Connection, *key: str) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` holds the file's one write lock."""

    def describe(self) -> str:
        return f"SQLite file {self.path}"


#: where a store lives: a SQLite file path, a ``postgresql://`` URL, PostgreSQL settings or a backend
Location: TypeAlias = "str | Path | Database | PostgresSettings | SqliteSettings"


def open_database(location: Location, schema: str, *, busy_timeout: float = 10.0) -> Database:
    """The backend for ``location``: a :class:`Database` as given, a ``postgresql://`` URL or
    :class:`~.store_pg.PostgresSettings` (one shared pool per process), else a SQLite file path
    (created with ``schema``)."""
    if isinstance(location, SqliteFile) or hasattr(location, "dialect"):
        return location  # type: ignore[return-value]
    from airflow_provider_rtc.callbacks import store_pg

    if isinstance(location, store_pg.PostgresSettings) or store_pg.is_postgres_url(location):
        return store_pg.PostgresDatabase.shared(location)  # type: ignore[arg-type]
    if isinstance(location, SqliteSettings):
        return SqliteFile(location.path, schema, busy_timeout=busy_timeout, synchronous=location.synchronous)
    return SqliteFile(location, schema, busy_timeout=busy_timeout)  # type: ignore[arg-type]


class CallbackStore:
    """Idempotent event store: a SQLite file (WAL mode; one short connection per operation) or a
    PostgreSQL database shared by every api-server host (:mod:`.store_pg`), with the same rules."""

    def __init__(self, location: Location, *, busy_timeout: float = 10.0) -> None:
        self._db = open_database(location, _SCHEMA, busy_timeout=busy_timeout)
        self.path = str(getattr(self._db, "path", ""))
        self.busy_timeout = busy_timeout

    @property
    def database(self) -> Database:
        return self._db

    def put(
        self,
        *,
        cloud: str,
        app_id: str | int,
        task_id: str,
        event_type: int | str,
        file_key: str,
        status: int | None,
        event_ms: int,
        body: dict[str, Any],
        now: float | None = None,
    ) -> str:
        """Store one callback; returns ``"new"``, ``"duplicate"``, ``"updated"`` or ``"stale"``.

        Committed before it returns: the receiver acknowledges a callback only after this.
        ``received_at`` is read once the slot's lock is held (SQLite: the file's write lock, so it
        grows in commit order on one machine's clock): a watcher reading by ``(received_at,
        task_id)`` re-reads a window behind its cursor for clock steps and for commits of other
        slots still in flight on another host (PostgreSQL).
        """
        key = (cloud, str(app_id), task_id, str(event_type), file_key)
        text = json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        with self._db.write() as db:
            self._db.lock(db, "event", *key)
            now = time.time() if now is None else now
            row = db.execute(
                "SELECT event_ms, body FROM callback_events WHERE cloud=? AND app_id=? AND task_id=? "
                "AND event_type=? AND file_key=?",
                key,
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO callback_events (cloud, app_id, task_id, event_type, file_key, status, "
                    "event_ms, first_received_at, received_at, deliveries, body) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (*key, status, int(event_ms), now, now, 1, text),
                )
                return "new"
            if int(event_ms) > int(row[0]) or (int(event_ms) == int(row[0]) and text == row[1]):
                replacing = text != row[1]
                db.execute(
                    "UPDATE callback_events SET status=?, event_ms=?, received_at=?, "
                    "deliveries=deliveries+1, body=? WHERE cloud=? AND app_id=? AND task_id=? "
                    "AND event_type=? AND file_key=?",
                    (status, int(event_ms), now, text, *key),
                )
                return "updated" if replacing else "duplicate"
            db.execute(
                "UPDATE callback_events SET deliveries=deliveries+1 WHERE cloud=? AND app_id=? "
                "AND task_id=? AND event_type=? AND file_key=?",
                key,
            )
            return "stale"

    def events(self, cloud: str, app_id: str | int, task_id: str) -> list[StoredEvent]:
        """Every slot of one task, oldest event first."""
        with self._db.read() as db:
            rows = db.execute(
                "SELECT cloud, app_id, task_id, event_type, file_key, status, event_ms, first_received_at, "
                "received_at, deliveries, body FROM callback_events WHERE cloud=? AND app_id=? AND task_id=? "
                "ORDER BY event_ms, event_type, file_key",
                (cloud, str(app_id), task_id),
            ).fetchall()
        return [
            StoredEvent(
                cloud=r[0],
                app_id=r[1],
                task_id=r[2],
                event_type=_event_type(r[3]),
                file_key=r[4],
                status=r[5],
                event_ms=r[6],
                first_received_at=r[7],
                received_at=r[8],
                deliveries=r[9],
                body=json.loads(r[10]),
            )
            for r in rows
        ]

    def changed_tasks(
        self,
        cloud: str,
        app_id: str | int,
        since: float,
        *,
        limit: int = 500,
        after_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Tasks of one application with a slot stored or updated after ``since`` (receiver clock),
        in ``(changed_at, task_id)`` order: what an event-driven watcher re-evaluates.

        With ``after_id`` the read is a keyset page: the tasks whose ``(changed_at, task_id)`` come
        after ``(since, after_id)``. A reader passes the last row of a page as the next cursor, so any
        number of tasks changed within one instant or one window are read page by page, each once
        (a ``since`` alone re-reads the same first ``limit`` tasks when more than ``limit`` share
        the window: the watcher stalled on it).
        """
        # a task whose latest change is at or after ``since`` has a row there: the WHERE uses the
        # received_at index; the HAVING keeps the exact condition on each task's latest change
        # (``task_id > NULL`` is never true: without ``after_id`` the read is ``changed > since``)
        with self._db.read() as db:
            rows = db.execute(
                "SELECT task_id, MAX(received_at) AS changed FROM callback_events WHERE cloud=? AND app_id=? "
                "AND received_at >= ? GROUP BY task_id HAVING MAX(received_at) > ? "
                "OR (MAX(received_at) = ? AND task_id > ?) ORDER BY changed, task_id LIMIT ?",
                (cloud, str(app_id), float(since), float(since), float(since), after_id, int(limit)),
            ).fetchall()
        return [{"task_id": r[0], "changed_at": r[1]} for r in rows]

    def prune(self, older_than_seconds: float, *, now: float | None = None) -> int:
        """Delete slots last touched more than ``older_than_seconds`` ago; returns how many."""
        cutoff = (time.time() if now is None else now) - older_than_seconds
        with self._db.write() as db:
            cursor = db.execute("DELETE FROM callback_events WHERE received_at < ?", (cutoff,))
            return int(cursor.rowcount)

    def claim_nonce(
        self,
        *,
        cloud: str,
        app_id: str | int,
        nonce: str,
        timestamp: str,
        body: bytes,
        keep_seconds: float,
        now: float | None = None,
    ) -> str:
        """Remember a signed nonce; ``"new"``, ``"retry"`` (same timestamp and body) or ``"replay"``.

        Nonces seen more than ``keep_seconds`` ago count as forgotten (their timestamps can no longer
        pass the freshness window) and are deleted, so the table stays small.
        """
        now = time.time() if now is None else now
        digest = hashlib.sha256(body).hexdigest()
        key = (cloud, str(app_id), nonce)
        cutoff = now - keep_seconds
        with self._db.write() as db:
            self._db.lock(db, "nonce", *key)
            if self._db.dialect == "sqlite":  # PostgreSQL: pruned apart, see _expire_nonces
                db.execute("DELETE FROM callback_nonces WHERE seen_at < ?", (cutoff,))
            row = db.execute(
                "SELECT timestamp, body_sha256, seen_at FROM callback_nonces "
                "WHERE cloud=? AND app_id=? AND nonce=?",
                key,
            ).fetchone()
            if row is not None and row[2] >= cutoff:
                return "retry" if (row[0], row[1]) == (timestamp, digest) else "replay"
            if row is None:
                db.execute(
                    "INSERT INTO callback_nonces (cloud, app_id, nonce, timestamp, body_sha256, seen_at) "
                    "VALUES (?,?,?,?,?,?)",
                    (*key, timestamp, digest, now),
                )
            else:
                db.execute(
                    "UPDATE callback_nonces SET timestamp=?, body_sha256=?, seen_at=? "
                    "WHERE cloud=? AND app_id=? AND nonce=?",
                    (timestamp, digest, now, *key),
                )
        if self._db.dialect != "sqlite":
            self._expire_nonces(cutoff, now)
        return "new"

    _next_expiry = 0.0

    def _expire_nonces(self, cutoff: float, now: float) -> None:
        """Delete forgotten nonces at most every 10 s per process, in their own statement: under a
        burst, every claim deleting the same old rows in its transaction would wait on the others'
        row locks (and could deadlock) on a server database."""
        if now < self._next_expiry:
            return
        self._next_expiry = now + 10.0
        with self._db.write() as db:
            db.execute("DELETE FROM callback_nonces WHERE seen_at < ?", (cutoff,))
