"""The receiver's store on PostgreSQL: one database shared by every api-server host.

The stores (:class:`~.store.CallbackStore`, :class:`~.lifecycle_store.LifecycleStore`) run the same
SQL here as on SQLite; this module gives them what SQLite gave for free:

* **Serialized writers per key.** SQLite's ``BEGIN IMMEDIATE`` makes every writer wait for the file;
  here each write transaction takes a transaction-scoped advisory lock on its key (one callback slot,
  one nonce, one application's inventory), so two hosts storing the same slot or the same room at
  once read-then-write one after the other, and writers of other keys do not wait.
* **A versioned schema** (``schema_version``), created and migrated by the provider at the first
  open, in one transaction under an advisory lock: two api-servers starting at once migrate once.
* **A small connection pool** per process and location (``pool_size``, default 10: the receiver's
  handlers run in Starlette's thread pool, 40 threads, and each holds a connection for one short
  transaction), with ``connect_timeout``, ``statement_timeout``, ``lock_timeout`` and
  ``idle_in_transaction_session_timeout`` on every connection: no call waits without end.

Tables live in their own schema (``store_schema``, default ``rtc_callbacks``), so the Airflow
metadata database may hold them; a dedicated database is better (its load and its backups are the
receiver's own). Text columns use the ``"C"`` collation: reads order task ids byte-wise, as SQLite
does, whatever the database's locale.

Driver: psycopg 3 (the ``postgres`` extra), imported only when a PostgreSQL store is opened. The
password of the URL never appears in a message, log or ``repr``:
:func:`~airflow_provider_rtc.redaction.redact_db_url`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from airflow_provider_rtc.callbacks.store_errors import StoreUnavailable
from airflow_provider_rtc.redaction import redact_db_url

log = logging.getLogger(__name__)

SCHEMES = ("postgresql://", "postgres://")
DEFAULT_SCHEMA = "rtc_callbacks"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
#: a pooled connection idle longer than this is checked (``SELECT 1``) before use: after a database
#: restart or a proxy's idle cut, the first callback then gets a fresh connection, not a 503 (a
#: round trip only after 5 s of quiet; under load a dead connection fails one request, answered
#: 503 so the cloud retries, and the pool then drops every idle connection of that era)
CHECK_IDLE_AFTER = 5.0
EXTRA_HINT = "pip install 'airflow-provider-rtc[postgres]'"

#: (version, what it does, statements); each step runs once, in order, in the migration transaction.
#: Append a step for every change; never edit a released one.
MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "callback events, nonces, lifecycle inventory, corrections, Live signatures",
        (
            """CREATE TABLE IF NOT EXISTS callback_events (
                cloud TEXT COLLATE "C" NOT NULL,
                app_id TEXT COLLATE "C" NOT NULL,
                task_id TEXT COLLATE "C" NOT NULL,
                event_type TEXT COLLATE "C" NOT NULL,
                file_key TEXT COLLATE "C" NOT NULL,
                status INTEGER,
                event_ms BIGINT NOT NULL,
                first_received_at DOUBLE PRECISION NOT NULL,
                received_at DOUBLE PRECISION NOT NULL,
                deliveries INTEGER NOT NULL,
                body TEXT NOT NULL,
                PRIMARY KEY (cloud, app_id, task_id, event_type, file_key)
            )""",
            "CREATE INDEX IF NOT EXISTS callback_events_received ON callback_events (received_at)",
            "CREATE INDEX IF NOT EXISTS callback_events_changes "
            "ON callback_events (cloud, app_id, received_at)",
            """CREATE TABLE IF NOT EXISTS callback_nonces (
                cloud TEXT COLLATE "C" NOT NULL,
                app_id TEXT COLLATE "C" NOT NULL,
                nonce TEXT COLLATE "C" NOT NULL,
                timestamp TEXT NOT NULL,
                body_sha256 TEXT NOT NULL,
                seen_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (cloud, app_id, nonce)
            )""",
            "CREATE INDEX IF NOT EXISTS callback_nonces_seen ON callback_nonces (seen_at)",
            """CREATE TABLE IF NOT EXISTS lifecycle_items (
                cloud TEXT COLLATE "C" NOT NULL,
                app_id TEXT COLLATE "C" NOT NULL,
                kind TEXT COLLATE "C" NOT NULL,
                item_key TEXT COLLATE "C" NOT NULL,
                room_id TEXT COLLATE "C" NOT NULL,
                ids TEXT NOT NULL,
                live INTEGER NOT NULL,
                started_ms BIGINT,
                last_activity_ms BIGINT NOT NULL,
                state_ms BIGINT NOT NULL,
                sources TEXT NOT NULL,
                ended_reason TEXT,
                updated_at DOUBLE PRECISION NOT NULL,
                started_source TEXT,
                end_unconfirmed INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (cloud, app_id, kind, item_key)
            )""",
            "CREATE INDEX IF NOT EXISTS lifecycle_items_live ON lifecycle_items (cloud, app_id, live)",
            "CREATE INDEX IF NOT EXISTS lifecycle_items_room ON lifecycle_items (cloud, app_id, room_id)",
            "CREATE TABLE IF NOT EXISTS lifecycle_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            # item keys are written by this version of item_key(): see lifecycle_store.KEY_VERSION
            "INSERT INTO lifecycle_meta VALUES ('key_version', '2') ON CONFLICT (name) DO NOTHING",
            """CREATE TABLE IF NOT EXISTS live_signatures (
                app_id TEXT COLLATE "C" NOT NULL,
                t BIGINT NOT NULL,
                sign TEXT COLLATE "C" NOT NULL,
                stream TEXT COLLATE "C" NOT NULL,
                body_sha256 TEXT NOT NULL,
                seen_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (app_id, t, sign, stream)
            )""",
            "CREATE INDEX IF NOT EXISTS live_signatures_t ON live_signatures (t)",
            """CREATE TABLE IF NOT EXISTS lifecycle_corrections (
                seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                cloud TEXT COLLATE "C" NOT NULL,
                app_id TEXT COLLATE "C" NOT NULL,
                kind TEXT COLLATE "C" NOT NULL,
                item_key TEXT COLLATE "C" NOT NULL,
                ids TEXT NOT NULL,
                change TEXT NOT NULL,
                reason TEXT NOT NULL,
                at_ms BIGINT NOT NULL,
                recorded_at DOUBLE PRECISION NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS lifecycle_corrections_recorded "
            "ON lifecycle_corrections (recorded_at)",
            "CREATE INDEX IF NOT EXISTS lifecycle_corrections_app "
            "ON lifecycle_corrections (cloud, app_id, recorded_at)",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


def is_postgres_url(location: Any) -> bool:
    return isinstance(location, str) and location.strip().lower().startswith(SCHEMES)


def connection_url(
    *,
    host: str | None,
    port: int | None,
    login: str | None,
    password: str | None,
    database: str | None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A ``postgresql://`` URL from an Airflow connection's fields. Only libpq's own parameters
    are taken from ``extra`` (``sslmode``, ``sslrootcert``...); the Postgres provider's other extras
    (``cursor``, ``iam``...) mean nothing to libpq and would fail the connection."""
    if not host:
        raise ValueError("the store connection has no host")
    userinfo = ""
    if login:
        userinfo = quote(login, safe="")
        if password:
            userinfo += ":" + quote(password, safe="")
        userinfo += "@"
    netloc = f"{userinfo}{host}" + (f":{int(port)}" if port else "")
    allowed = {
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "sslcrl",
        "target_session_attrs",
        "application_name",
        "connect_timeout",
        "keepalives",
        "keepalives_idle",
    }
    query = urlencode([(k, str(v)) for k, v in sorted((extra or {}).items()) if k in allowed])
    return urlunsplit(("postgresql", netloc, "/" + quote(database or "", safe=""), query, ""))


@dataclass(frozen=True)
class PostgresSettings:
    """Where and how to reach the PostgreSQL store. ``repr`` never shows the URL's password."""

    url: str = field(repr=False)
    schema: str = DEFAULT_SCHEMA
    pool_size: int = 10
    #: seconds for connecting, for each statement, for a lock and for a free pooled connection
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if not is_postgres_url(self.url):
            raise ValueError("the store URL must start with postgresql:// (or postgres://)")
        if not _SCHEMA_NAME.match(self.schema or ""):
            raise ValueError(
                "store schema must be a lower-case SQL name ([a-z_][a-z0-9_]*, at most 63 characters), "
                f"got {self.schema!r}"
            )
        if not (isinstance(self.pool_size, int) and 1 <= self.pool_size <= 200):
            raise ValueError(f"store pool size must be an integer from 1 to 200, got {self.pool_size!r}")
        if not (0 < self.timeout < math.inf):
            raise ValueError(f"store timeout must be a positive number of seconds, got {self.timeout!r}")

    def describe(self) -> str:
        return f"PostgreSQL {redact_db_url(self.url)} schema {self.schema}"


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ImportError(
            f"the PostgreSQL callback store needs psycopg 3, which is not installed: {EXTRA_HINT}"
        ) from None
    return psycopg


@functools.lru_cache(maxsize=512)
def _sql(text: str) -> str:
    """The stores' ``?`` placeholders as psycopg's ``%s`` (the stores' SQL has no ``%`` or ``?`` in
    a literal)."""
    return text.replace("%", "%%").replace("?", "%s")


def lock_key(*parts: str) -> int:
    """A signed 64-bit advisory-lock key for ``parts`` (a collision only serializes two writers)."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class _Conn:
    """A psycopg connection that takes the stores' ``?`` SQL."""

    __slots__ = ("raw",)

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = (), /) -> Any:
        return self.raw.execute(_sql(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> Any:
        cursor = self.raw.cursor()
        cursor.executemany(_sql(sql), list(rows))
        return cursor


class PostgresDatabase:
    """A pooled PostgreSQL backend for the stores (see the module docstring)."""

    dialect = "postgresql"
    row_order = "seq"
    _shared: ClassVar[dict[tuple[str, str], PostgresDatabase]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, settings: PostgresSettings) -> None:
        self.settings = settings
        self._psycopg = _psycopg()
        self._idle: list[tuple[Any, float]] = []
        self._idle_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(settings.pool_size)
        self._pid = os.getpid()
        self.migrate()

    @classmethod
    def shared(cls, location: PostgresSettings | str) -> PostgresDatabase:
        """One backend (one pool, one migration) per process and (URL, schema)."""
        settings = location if isinstance(location, PostgresSettings) else PostgresSettings(location)
        key = (settings.url, settings.schema)
        with cls._shared_lock:
            db = cls._shared.get(key)
            if db is None:
                db = cls._shared[key] = cls(settings)
            return db

    @classmethod
    def close_shared(cls) -> None:
        with cls._shared_lock:
            for db in cls._shared.values():
                db.close()
            cls._shared.clear()

    def describe(self) -> str:
        return self.settings.describe()

    def __repr__(self) -> str:
        return f"PostgresDatabase({self.describe()})"

    # -- connections ---------------------------------------------------------------------------
    def _connect(self) -> Any:
        timeout_ms = int(self.settings.timeout * 1000)
        options = (
            f"-c search_path={self.settings.schema} -c statement_timeout={timeout_ms} "
            f"-c lock_timeout={timeout_ms} -c idle_in_transaction_session_timeout={timeout_ms * 6}"
        )
        return self._psycopg.connect(
            self.settings.url,
            autocommit=True,
            connect_timeout=max(2, math.ceil(self.settings.timeout)),
            options=options,
            application_name="rtc-callback-receiver",
        )

    def _take(self) -> Any:
        if os.getpid() != self._pid:  # a forked worker never shares its parent's sockets
            with self._idle_lock:
                self._idle, self._pid = [], os.getpid()
        while True:
            with self._idle_lock:
                conn, since = self._idle.pop() if self._idle else (None, 0.0)
            if conn is None:
                return self._connect()
            if conn.closed:
                continue
            if time.monotonic() - since > CHECK_IDLE_AFTER:
                try:
                    conn.execute("SELECT 1")
                except self._psycopg.Error:
                    conn.close()
                    continue
            return conn

    def _give_back(self, conn: Any) -> None:
        idle = self._psycopg.pq.TransactionStatus.IDLE
        if conn.broken:  # the server went away: its other connections are as dead as this one
            with self._idle_lock:
                stale, self._idle = self._idle, []
            for other, _ in stale:
                other.close()
        if conn.closed or conn.broken or conn.info.transaction_status != idle or os.getpid() != self._pid:
            conn.close()
            return
        with self._idle_lock:
            self._idle.append((conn, time.monotonic()))

    @contextmanager
    def _checkout(self) -> Iterator[Any]:
        if not self._slots.acquire(timeout=self.settings.timeout):
            raise StoreUnavailable(
                f"all {self.settings.pool_size} connections of the callback store are busy "
                f"({self.settings.timeout:g} s); raise store_pool_size"
            )
        conn = None
        try:
            conn = self._take()
            yield conn
        except self._psycopg.Error as err:
            raise self._unavailable(err) from None
        finally:
            if conn is not None:
                self._give_back(conn)
            self._slots.release()

    def _unavailable(self, err: Exception) -> StoreUnavailable:
        text = str(err).strip().splitlines()[0] if str(err).strip() else ""
        password = urlsplit(self.settings.url).password
        if password:
            text = text.replace(password, "***")
        return StoreUnavailable(f"PostgreSQL callback store: {type(err).__name__}: {text}"[:500])

    @contextmanager
    def write(self) -> Iterator[_Conn]:
        """One transaction, committed before the block's caller goes on (``synchronous_commit`` is
        the server's: keep it ``on`` so a commit survives the database server crashing too)."""
        with self._checkout() as conn, conn.transaction():
            yield _Conn(conn)

    @contextmanager
    def read(self) -> Iterator[_Conn]:
        with self._checkout() as conn:
            yield _Conn(conn)

    def lock(self, db: Any, *key: str) -> None:
        """Serialize the writers of ``key`` until this transaction ends (commit or rollback)."""
        db.execute("SELECT pg_advisory_xact_lock(?)", (lock_key(self.settings.schema, *key),))

    def close(self) -> None:
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            conn.close()

    # -- schema --------------------------------------------------------------------------------
    def migrate(self) -> int:
        """Create the schema and apply every step newer than ``schema_version``; returns the version.

        One transaction under an advisory lock: api-servers starting together wait for the first,
        then find nothing to do. A database migrated by a newer provider is refused, not written.
        """
        schema = self.settings.schema
        with self.write() as db:
            self.lock(db, "migrate")
            db.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "description TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
            )
            current = db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
            if current > SCHEMA_VERSION:
                raise StoreUnavailable(
                    f"the callback store schema {schema} is at version {current}, newer than this "
                    f"provider's {SCHEMA_VERSION}: upgrade airflow-provider-rtc"
                )
            for version, description, statements in MIGRATIONS:
                if version <= current:
                    continue
                for statement in statements:
                    db.execute(statement)
                db.execute(
                    "INSERT INTO schema_version (version, description, applied_at) VALUES (?,?,?)",
                    (version, description, time.time()),
                )
                log.info("callback store %s: schema migrated to version %d", self.describe(), version)
        return SCHEMA_VERSION
