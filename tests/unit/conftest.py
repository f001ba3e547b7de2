"""Fixtures of the unit suite (the shared ones live in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.wire import RawServer, Step


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawServer]]:
    """Start raw-socket servers with a per-connection plan (see ``RawServer``); all closed afterwards."""
    servers: list[RawServer] = []

    def start(*plan: Step) -> RawServer:
        server = RawServer(list(plan))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
