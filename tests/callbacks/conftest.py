"""The store fixtures: every store test here can run on SQLite and on a real PostgreSQL."""

from tests.support.postgres import postgres_url, store_location

__all__ = ["postgres_url", "store_location"]
