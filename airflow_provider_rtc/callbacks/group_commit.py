"""Group commit for the receiver's SQLite file: one synced commit for every writer waiting at once.

Measured (benchmarks/receiver_load.py, docs/callback-store.md): with one transaction per write and
``synchronous=FULL``, every callback cost 1-3 synced commits of 5-30 ms each on a shared disk, one
after the other under the file's write lock, so the receiver stalled near 60 callbacks/s, and the
threads queued in SQLite's busy handler (which sleeps up to 100 ms per try) until some answered 503.

Here the writers of one process take turns on a lock instead, and each runs inside a ``SAVEPOINT``
of a transaction that stays open while others are queued: the last writer of a group commits
(one ``COMMIT``, one sync) for all of them. ``write()`` still returns only after *its* data is
committed and synced (a writer waits for its group's commit; if that commit fails every writer of
the group gets the error, so nothing is acknowledged that was not stored). A writer that raises
rolls back only its savepoint. Other processes on the file wait in SQLite's busy handler as before.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from typing import Any

#: the most writers one commit covers (bounds how long the first of them waits)
MAX_GROUP = 256


class _Group:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn: Any = conn
        self.members = 0
        self.error: BaseException | None = None
        self.done = threading.Event()


class GroupCommit:
    """Group-committed writes to one SQLite file (one instance per file and process: :meth:`shared`).

    It keeps one connection open while it lives: closing a file's last connection checkpoints the
    WAL into the database and syncs it (measured: ~6 ms), which a connection per write paid each
    time. Held through :meth:`shared` by the stores of that file, and closed when they are gone.
    """

    _shared: weakref.WeakValueDictionary[tuple[str, str], GroupCommit] = weakref.WeakValueDictionary()
    _shared_lock = threading.Lock()

    def __init__(self, path: str, *, busy_timeout: float = 10.0, synchronous: str = "FULL") -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"SQLite synchronous must be FULL or NORMAL, got {synchronous!r}")
        self.synchronous = synchronous
        self._turn = threading.Lock()
        self._count = threading.Lock()
        self._waiting = 0
        self._group: _Group | None = None
        self._conn: list[sqlite3.Connection] = []  # 0 or 1; a list so the finalizer can close it
        self._pid = os.getpid()
        self._finalizer = weakref.finalize(self, _close_all, self._conn)
        #: how many commits and writes so far (for the benchmark's report)
        self.commits = 0
        self.writes = 0

    @classmethod
    def shared(cls, path: str, *, busy_timeout: float = 10.0, synchronous: str = "FULL") -> GroupCommit:
        key = (os.path.realpath(path), synchronous)
        with cls._shared_lock:
            found = cls._shared.get(key)
            if found is None:
                found = cls._shared[key] = cls(path, busy_timeout=busy_timeout, synchronous=synchronous)
            return found

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
        )
        # FULL (the default): each commit synced, it survives the machine dying too (store.SqliteFile)
        db.execute(f"PRAGMA synchronous={self.synchronous}")
        return db

    def _connection(self) -> sqlite3.Connection:
        if self._pid != os.getpid():  # a forked worker: never use the parent's SQLite connection
            self._conn.clear()
            self._pid = os.getpid()
        if not self._conn:
            self._conn.append(self._connect())
        return self._conn[0]

    def _drop_connection(self) -> None:
        """After an error the connection may be in any state: the next group opens a fresh one."""
        _close_all(self._conn)

    def close(self) -> None:
        with self._turn:
            self._drop_connection()

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One writer's part of a group transaction; returns once that transaction is committed."""
        with self._count:
            self._waiting += 1
        self._turn.acquire()
        with self._count:
            self._waiting -= 1
        try:
            group = self._begin()
        except BaseException:
            self._turn.release()
            raise
        failed: BaseException | None = None
        try:
            group.conn.execute("SAVEPOINT rtc_write")
            try:
                yield group.conn
                group.conn.execute("RELEASE rtc_write")
                group.members += 1
            except BaseException as err:
                failed = err
                try:
                    group.conn.execute("ROLLBACK TO rtc_write")
                    group.conn.execute("RELEASE rtc_write")
                except sqlite3.Error as rollback_error:  # the transaction is gone: fail the group
                    group.error = rollback_error
        finally:
            self._maybe_commit(group)
            self._turn.release()
        if failed is not None:
            raise failed
        group.done.wait()
        if group.error is not None:
            raise sqlite3.OperationalError(
                f"the callback store's commit failed ({type(group.error).__name__})"
            ) from group.error

    def _begin(self) -> _Group:
        if self._group is None:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) and "busy" not in str(err):
                    self._drop_connection()
                raise
            except BaseException:
                self._drop_connection()
                raise
            self._group = _Group(conn)
        return self._group

    def _maybe_commit(self, group: _Group) -> None:
        """Commit (with the turn held) unless another writer is queued to join, or on error."""
        with self._count:
            others = self._waiting
        if others and group.members < MAX_GROUP and group.error is None:
            return
        try:
            if group.error is None:
                group.conn.execute("COMMIT")
                self.commits += 1
                self.writes += group.members
            else:
                group.conn.execute("ROLLBACK")
        except sqlite3.Error as err:
            group.error = group.error or err
            with contextlib.suppress(sqlite3.Error):
                group.conn.execute("ROLLBACK")
            self._drop_connection()
        finally:
            self._group = None
            group.done.set()

    def stats(self) -> dict[str, Any]:
        return {"commits": self.commits, "writes": self.writes}


def _close_all(conns: list[sqlite3.Connection]) -> None:
    while conns:
        with contextlib.suppress(sqlite3.Error):
            conns.pop().close()
