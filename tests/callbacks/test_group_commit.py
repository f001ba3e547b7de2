"""Group commit: concurrent writers share commits, each returns only after its data is committed,
a failing writer loses only its own changes, and a failed commit fails every writer of the group."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_rtc.callbacks.group_commit import GroupCommit


def _file(tmp_path: Path) -> str:
    path = str(tmp_path / "g.sqlite3")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
    db.close()
    return path


def _rows(path: str) -> set[int]:
    db = sqlite3.connect(path)
    try:
        return {r[0] for r in db.execute("SELECT n FROM t")}
    finally:
        db.close()


def test_concurrent_writers_share_commits_and_every_write_is_committed_on_return(tmp_path: Path) -> None:
    path = _file(tmp_path)
    gc = GroupCommit(path)
    seen_after_return: list[bool] = []
    gate = threading.Barrier(40)

    def writer(n: int) -> None:
        gate.wait()
        with gc.write() as db:
            db.execute("INSERT INTO t VALUES (?)", (n,))
        seen_after_return.append(n in _rows(path))  # another connection sees it: committed

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert _rows(path) == set(range(40))
    assert seen_after_return == [True] * 40
    assert gc.writes == 40 and gc.commits < 40  # grouped: fewer synced commits than writes


def test_a_failing_writer_rolls_back_only_its_own_changes(tmp_path: Path) -> None:
    path = _file(tmp_path)
    gc = GroupCommit(path)
    with gc.write() as db:
        db.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(RuntimeError), gc.write() as db:
        db.execute("INSERT INTO t VALUES (2)")
        raise RuntimeError("boom")
    with gc.write() as db:
        db.execute("INSERT INTO t VALUES (3)")
    assert _rows(path) == {1, 3}


class _FailingCommit:
    """A connection whose COMMIT fails (a full disk, an I/O error)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT":
            raise sqlite3.OperationalError("disk I/O error")
        return self.db.execute(sql, *args)

    def close(self) -> None:
        self.db.close()


def test_a_failed_commit_fails_every_writer_of_its_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path)
    gc = GroupCommit(path)
    real = gc._connect
    monkeypatch.setattr(gc, "_connect", lambda: _FailingCommit(real()))
    with pytest.raises(sqlite3.OperationalError), gc.write() as db:
        db.execute("INSERT INTO t VALUES (7)")
    assert _rows(path) == set()  # nothing stored, and the writer was told so
    monkeypatch.setattr(gc, "_connect", real)
    with gc.write() as db:  # the failed connection was dropped: the next write works
        db.execute("INSERT INTO t VALUES (8)")
    assert _rows(path) == {8}


def test_one_instance_per_file_while_it_is_used(tmp_path: Path) -> None:
    path = _file(tmp_path)
    held = GroupCommit.shared(path)
    assert GroupCommit.shared(str(tmp_path / "." / "g.sqlite3")) is held
    with held.write() as db:
        db.execute("INSERT INTO t VALUES (1)")
    conn = held._conn[0]
    del held
    import gc as garbage

    garbage.collect()
    with pytest.raises(sqlite3.ProgrammingError):  # closed with its last user
        conn.execute("SELECT 1")
