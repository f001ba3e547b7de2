"""Real servers the suites share: redis-server and moto's S3, each on a free loopback port.

redis-server is started by :mod:`benchmarks.redis_proc` (one implementation for the tests and the
benchmarks); moto runs in server mode on a thread."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from benchmarks.redis_proc import redis_binary, redis_server
from tests.support.servers import free_port


@contextmanager
def own_redis() -> Iterator[str]:
    """A redis-server of the caller's own (to reconfigure or kill); skips the test without one."""
    if redis_binary() is None:
        pytest.skip("redis-server is not installed and could not be installed (tools/ensure_services.sh)")
    with redis_server() as url:
        yield url


@contextmanager
def moto_s3() -> Iterator[str]:
    """moto's S3 in server mode on a free loopback port; yields its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
