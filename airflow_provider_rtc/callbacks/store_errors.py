"""The store's one error, below both backends (``store`` opens ``store_pg`` lazily; each raises it)."""

from __future__ import annotations

import sqlite3


class StoreUnavailable(sqlite3.OperationalError):
    """The store failed or cannot be reached (any backend); the message holds no secret.

    A subclass of :class:`sqlite3.OperationalError`, so every handler that answers a busy SQLite
    store with 503 (the clouds retry) does the same for PostgreSQL without knowing its driver.
    """
