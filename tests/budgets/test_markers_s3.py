"""Markers on an object store (moto's S3 on 127.0.0.1): s3fs creates exclusively (``"xb"``, a
conditional PutObject ``If-None-Match: *``), so a second claim of the same threshold loses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_rtc.budgets import markers
from tests.support.services import clear_s3fs_cache, moto_s3_connection

CONN = "budget_s3"


@pytest.fixture
def bucket(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield moto_s3_connection(moto_server, monkeypatch, CONN, ("state",))
    clear_s3fs_cache()


@pytest.mark.slow  # starts moto
def test_claims_on_s3_are_exclusive_and_releasable(bucket: Any) -> None:
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    base = ObjectStoragePath("s3://state/budgets", conn_id=CONN)
    name = "tc/trtc/1/HD/2026-12/0.8.json"
    warnings: list[Any] = []

    class Log:
        def warning(self, *args: Any) -> None:
            warnings.append(args)

    assert markers.claim(base, name, {"run": 1}, Log())
    assert not markers.claim(base, name, {"run": 2}, Log())
    assert warnings == []  # the exclusive create itself refused it, not the check-then-write fallback
    body = bucket.get_object(Bucket="state", Key=f"budgets/{name}")["Body"].read()
    assert json.loads(body) == {"run": 1}
    markers.release(base, name)
    assert markers.claim(base, name, {"run": 3})
