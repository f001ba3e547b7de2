"""Real servers the suites share: redis-server and moto's S3, each on a free loopback port.

redis-server is started by :mod:`benchmarks.redis_proc` (one implementation for the tests and the
benchmarks); moto runs in server mode on a thread."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


def moto_s3_connection(
    moto_server: str, monkeypatch: Any, conn_id: str, buckets: tuple[str, ...] = ()
) -> Any:
    """A fresh moto S3 (reset), an ``aws`` Airflow connection ``conn_id`` on it, the buckets made;
    returns a boto3 client. Call :func:`clear_s3fs_cache` when the test ends (s3fs caches
    filesystems and their listings per connection)."""
    import json

    import boto3
    import httpx

    httpx.post(f"{moto_server}/moto-api/reset", timeout=5)
    conn = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"endpoint_url": moto_server, "region_name": "us-east-1"},
    }
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    client = boto3.client(
        "s3",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for bucket in buckets:
        client.create_bucket(Bucket=bucket)
    return client


def clear_s3fs_cache() -> None:
    """s3fs caches filesystems (and their listings) per connection: start every test afresh."""
    try:
        import s3fs

        s3fs.S3FileSystem.clear_instance_cache()
    except ImportError:
        pass
