"""A throw-away PostgreSQL server on a free 127.0.0.1 port, for the store tests and benchmarks.

``initdb`` into a temp dir and ``pg_ctl start`` (no service, nothing outside the dir), as
``e2e.harness.Postgres`` does; run as the ``postgres`` user when we are root (initdb refuses root).
The binaries: ``/usr/lib/postgresql/<N>/bin`` (Debian's layout, what ``tools/ensure_services.sh``
installs as root) or ``initdb`` on the PATH. Missing binaries or psycopg: :func:`unavailable` says
why, and the fixtures skip with that reason. Imports no Airflow.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

PG_VERSIONS = ("17", "16", "15", "14", "13")


def find_bin() -> Path | None:
    """The directory of ``initdb``/``pg_ctl``, or ``None`` (``e2e.harness.Postgres.find_bin``'s
    search, without installing: the tests never install packages)."""
    for version in PG_VERSIONS:
        path = Path(f"/usr/lib/postgresql/{version}/bin")
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    found = shutil.which("initdb")
    if found:
        path = Path(found).resolve().parent
        if (path / "pg_ctl").exists():
            return path
    return None


def unavailable() -> str | None:
    """Why no PostgreSQL test server can run here, or ``None`` when it can."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg 3 is not installed (pip install 'airflow-provider-rtc[postgres]')"
    if find_bin() is None:
        return (
            "PostgreSQL server binaries (initdb, pg_ctl) not found: `make services` installs them as "
            "root (tools/ensure_services.sh), or install the postgresql OS package"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a `postgres` user to run initdb as"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def postgres_server(*, fsync: bool = False) -> Iterator[str]:
    """A running server; yields the URL of its ``postgres`` database as user ``rtc`` (password set).

    ``fsync=False`` by default: the tests kill the receiver, never the database server, and a
    commit the server acknowledged is visible to every later reader without fsync.
    """
    reason = unavailable()
    if reason:
        raise RuntimeError(reason)
    binaries = find_bin()
    assert binaries is not None
    workdir = Path(tempfile.mkdtemp(prefix="rtc-pg-"))
    data, sock = workdir / "data", workdir / "sock"
    sock.mkdir()
    password = secrets.token_hex(12)
    (workdir / "pw").write_text(password)
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        entry = pwd.getpwnam(user)
        for path in (workdir, sock, workdir / "pw"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    log = workdir / "setup.log"

    def run(argv: list[str], timeout: float = 120) -> None:
        with open(log, "ab") as out:
            done = subprocess.run(
                argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL, user=user, timeout=timeout
            )
        if done.returncode:
            tail = log.read_text()[-2000:]
            raise RuntimeError(f"{Path(argv[0]).name} failed (exit {done.returncode}): {tail}")

    port = _free_port()
    initdb = [str(binaries / "initdb"), "-D", str(data), "-U", "rtc", "--pwfile", str(workdir / "pw")]
    run([*initdb, "-A", "scram-sha-256", "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8"])
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c max_connections=300"
    if not fsync:
        opts += " -c fsync=off -c full_page_writes=off"
    pg_ctl = [str(binaries / "pg_ctl"), "-D", str(data)]
    run([*pg_ctl, "-o", opts, "-l", str(workdir / "server.log"), "-w", "-t", "60", "start"])
    try:
        yield f"postgresql://rtc:{password}@127.0.0.1:{port}/postgres"
    finally:
        try:
            run([*pg_ctl, "-m", "immediate", "-w", "stop"], 60)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


# -- pytest fixtures (import them into a conftest.py) --------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One throw-away server for the session; skips, saying why, where none can run."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Where a store lives, once per backend: a fresh SQLite file, or a fresh schema of the session's
    PostgreSQL server (its pools closed after the test)."""
    if request.param == "sqlite":
        yield tmp_path / "store.sqlite3"
        return
    from airflow_provider_rtc.callbacks.store_pg import PostgresDatabase, PostgresSettings

    url = request.getfixturevalue("postgres_url")
    yield PostgresSettings(url, schema=f"t_{secrets.token_hex(6)}")
    PostgresDatabase.close_shared()


def receiver_config(location: Any, **fields: Any) -> Any:
    """A :class:`~airflow_provider_rtc.callbacks.config.ReceiverConfig` storing at ``location``
    (a :func:`store_location` value)."""
    from airflow_provider_rtc.callbacks.config import ReceiverConfig
    from airflow_provider_rtc.callbacks.store_pg import PostgresSettings

    if isinstance(location, PostgresSettings):
        where = {"store_url": location.url, "store_schema": location.schema}
        return ReceiverConfig(db_path="/nonexistent/never-used.sqlite3", **where, **fields)
    return ReceiverConfig(db_path=str(location), **fields)
