"""The ``host`` backend: one limit per key shared by every process on the machine, without a server.

State is one row per key, ``next`` = the first free slot, in a SQLite file. A reservation is one
``BEGIN IMMEDIATE`` transaction (read ``next``, write ``max(now, next) + interval``), so processes
take slots one after another; nobody sleeps inside it. SQLite's lock is a POSIX advisory lock that
the kernel releases when its holder dies, and WAL mode ignores an uncommitted transaction, so a
worker killed mid-reservation wedges nobody. The clock is ``time.monotonic()``, one clock for every
process of the machine; a ``next`` far in the future (state file surviving a reboot) is ignored.

If the file cannot be used (read-only directory, disk full, a stopped process holding the lock past
``busy_timeout``) the limiter logs a warning and paces within the process, rather than failing a
cleanup.

The directory must be the deployment's own: anyone who can write in it can stall every call (book a
slot far ahead) or lift the limit (delete the file). A directory writable by group or others, or
owned by another user, is refused with an error naming ``rate_limit_dir``; a missing one is created
with mode 0700.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import stat
import tempfile
import threading
import time
from pathlib import Path

from airflow_provider_rtc import pacing

log = logging.getLogger(__name__)

FILENAME = "rtc-rate-limits.sqlite3"
#: how long a reservation waits for another process's transaction before pacing locally instead
BUSY_TIMEOUT = 10.0
#: a reservation this far ahead of now cannot be a real queue: the state predates a reboot
STALE_AHEAD = 3600.0

_SCHEMA = "CREATE TABLE IF NOT EXISTS slots (key TEXT PRIMARY KEY, next REAL NOT NULL)"
_UPSERT = "INSERT INTO slots (key, next) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET next = excluded.next"


def default_directory() -> str:
    """Under the system temp dir, one per user (every Airflow process of a deployment runs as one)."""
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return str(Path(tempfile.gettempdir()) / f"airflow-provider-rtc-{uid}")


class _Database:
    """One connection per process and file, used by one thread at a time (the lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    def connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():  # never share a connection across fork
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def reset(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()


_databases: dict[str, _Database] = {}
_databases_lock = threading.Lock()


def check_directory(directory: str) -> None:
    """Create ``directory`` (0700) if missing; refuse one that others could write in or own.

    A directory that cannot be created or read is left to the limiter's fallback (a warning, then
    pacing within the process), as before; only a usable but unsafe one is an error.
    """
    from airflow_provider_rtc.errors import RtcValidationError

    path = Path(directory).expanduser()
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.resolve().stat()  # the directory really written, past any symlink
    except OSError:
        return
    if not stat.S_ISDIR(info.st_mode):
        return
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise RtcValidationError(
            "rate_limit_dir",
            f"must be owned by the user Airflow runs as (uid {os.getuid()}), not uid {info.st_uid}: "
            "its owner can stall or lift the rate limit",
            str(path),
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise RtcValidationError(
            "rate_limit_dir",
            f"must not be writable by group or others (mode {stat.S_IMODE(info.st_mode):o}): anyone "
            "who can write there can stall or lift the rate limit; chmod 700 it or choose another",
            str(path),
        )


def _database(directory: str) -> _Database:
    path = str(Path(directory).expanduser().resolve() / FILENAME)
    with _databases_lock:
        db = _databases.get(path)
        if db is None:
            check_directory(directory)
            db = _databases[path] = _Database(Path(path))
        return db


class HostLimiter:
    """Evenly spaced slots at ``qps`` for ``key_id``, shared through ``directory`` by every local process."""

    def __init__(self, directory: str, key_id: str, qps: float) -> None:
        if qps <= 0:
            raise ValueError("qps must be positive")
        self.qps = qps
        self.interval = (1.0 + pacing.HEADROOM) / qps
        self.key_id = key_id
        self.directory = directory
        self._db = _database(directory)
        self._local = pacing.Pacer(qps)
        self._degraded_until = 0.0

    def reserve(self) -> float:
        """Claim the next machine-wide slot; return how long to wait for it."""
        return self.book()[0]

    def book(self) -> tuple[float, float]:
        """Claim the next slot; return (seconds to wait, the slot on ``time.monotonic``'s clock)."""
        if time.monotonic() < self._degraded_until:
            return self._book_locally()
        try:
            with self._db.lock:
                return self._book(self._db.connection())
        except (sqlite3.Error, OSError) as exc:
            self._db.reset()
            self._degraded_until = time.monotonic() + 60.0
            log.warning(
                "host rate limiter unusable in %s (%s: %s); pacing within this process for 60 s",
                self.directory,
                type(exc).__name__,
                exc,
            )
            return self._book_locally()

    def _book_locally(self) -> tuple[float, float]:
        wait = self._local.reserve()
        return wait, time.monotonic() + wait

    def _book(self, conn: sqlite3.Connection) -> tuple[float, float]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT next FROM slots WHERE key = ?", (self.key_id,)).fetchone()
            now = time.monotonic()  # read under the lock: waiting for it took time
            booked = row[0] if row else 0.0
            slot = booked if now < booked < now + STALE_AHEAD else now
            conn.execute(_UPSERT, (self.key_id, slot + self.interval))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return slot - now, slot

    def hold_until(self, moment: float) -> None:
        """Book nothing before ``moment`` (``time.monotonic``): the redis backend records here each
        slot it booked, so that falling back to this limiter continues after those slots instead of
        beside them (which would briefly double the rate). Best effort: a failure only logs."""
        with self._local._lock:
            self._local._next = max(self._local._next, moment)
        if time.monotonic() < self._degraded_until:
            return
        try:
            with self._db.lock:
                conn = self._db.connection()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    row = conn.execute("SELECT next FROM slots WHERE key = ?", (self.key_id,)).fetchone()
                    now = time.monotonic()
                    booked = row[0] if row and now < row[0] < now + STALE_AHEAD else 0.0
                    if moment > booked:
                        conn.execute(_UPSERT, (self.key_id, moment))
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        except (sqlite3.Error, OSError) as exc:
            self._db.reset()
            log.debug("host rate limiter: could not record a slot (%s)", type(exc).__name__)

    def pending(self) -> float:
        """Seconds until the machine-wide next free slot (0 when free now, or unknown)."""
        try:
            with self._db.lock:
                row = (
                    self._db.connection()
                    .execute("SELECT next FROM slots WHERE key = ?", (self.key_id,))
                    .fetchone()
                )
        except (sqlite3.Error, OSError):
            self._db.reset()
            return 0.0
        now = time.monotonic()
        return row[0] - now if row and now < row[0] < now + STALE_AHEAD else 0.0

    def wait(self) -> float:
        return pacing.sleep_for(self.reserve())

    async def await_slot(self) -> float:
        # the reservation may wait for another process's transaction: never on the event loop
        return await pacing.asleep_for(await asyncio.to_thread(self.reserve))
