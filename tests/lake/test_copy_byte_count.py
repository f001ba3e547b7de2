"""The byte-count check after a copy, driven by sources the HTTP client cannot catch short.

The sandbox's ``short`` fault sends a Content-Length and cuts the body, which httpx itself reports
as an incomplete read, so skipping the check after the copy survived every lake test. Here the body
is complete as far as its transport says (an object store file, a chunked HTTP answer) but holds
fewer bytes than the manifest: only the count after the copy can tell, and the file must fail with
nothing committed under its final name.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from airflow.providers.common.compat.sdk import ObjectStoragePath
from werkzeug.wrappers import Response

from airflow_provider_rtc.lake.copy import CopyJob, CopySettings, Progress, copy_file
from airflow_provider_rtc.lake.fetch import SourceGuard

BODY = b"0123456789" * 60  # 600 bytes
MANIFEST_SIZE = 1000  # what the recording's manifest says the file holds


def _job(tmp_path: Path, **kw: Any) -> CopyJob:
    target = ObjectStoragePath(f"file://{tmp_path / 'lake' / 'rec.mp4'}")
    entry = {"name": "rec.mp4", "size": MANIFEST_SIZE}
    return CopyJob(0, 0, entry, target=target, size=MANIFEST_SIZE, **kw)


def _settings(http: httpx.Client | None = None) -> CopySettings:
    return CopySettings(
        chunk_size=128, attempts=2, retry_delay=0.0, http=http, guard=SourceGuard(allow_private=True)
    )


def _assert_failed_and_nothing_committed(outcome: Any, lake: Path) -> None:
    assert outcome.status == "failed", outcome
    assert outcome.error == f"short copy: {len(BODY)} of {MANIFEST_SIZE} bytes"
    assert outcome.attempts == 2  # a short copy is retried, then given up
    assert not lake.exists() or sorted(p.name for p in lake.iterdir()) == []  # no file, no temp left


def test_an_object_store_source_shorter_than_the_manifest_is_not_committed(tmp_path: Path) -> None:
    source = tmp_path / "bucket" / "rec.mp4"
    source.parent.mkdir()
    source.write_bytes(BODY)
    job = _job(tmp_path, kind="bucket", source=ObjectStoragePath(f"file://{source}"))
    outcome = copy_file(job, _settings(), Progress(1, MANIFEST_SIZE))
    _assert_failed_and_nothing_committed(outcome, tmp_path / "lake")


def test_a_chunked_http_body_shorter_than_the_manifest_is_not_committed(tmp_path: Path, httpserver) -> None:
    def chunked(_request: Any) -> Response:
        def body() -> Iterator[bytes]:
            yield from (BODY[i : i + 100] for i in range(0, len(BODY), 100))

        return Response(body(), status=200, content_type="video/mp4")  # no Content-Length: chunked

    httpserver.expect_request("/rec.mp4").respond_with_handler(chunked)
    with httpx.Client(timeout=5.0) as http:
        head = http.get(httpserver.url_for("/rec.mp4"))
        assert "content-length" not in head.headers and head.content == BODY  # the client sees no fault
        job = _job(tmp_path, kind="url", url=httpserver.url_for("/rec.mp4"))
        outcome = copy_file(job, _settings(http), Progress(1, MANIFEST_SIZE))
    _assert_failed_and_nothing_committed(outcome, tmp_path / "lake")


@pytest.mark.parametrize("kind", ["bucket", "url"])
def test_a_source_of_the_manifests_size_is_copied(tmp_path: Path, httpserver, kind: str) -> None:
    """The same paths with a body of the right size: copied (so the failures above are the count's)."""
    data = BODY + b"x" * (MANIFEST_SIZE - len(BODY))
    source = tmp_path / "bucket" / "rec.mp4"
    source.parent.mkdir()
    source.write_bytes(data)
    httpserver.expect_request("/rec.mp4").respond_with_handler(lambda _r: Response(iter([data]), 200))
    with httpx.Client(timeout=5.0) as http:
        if kind == "bucket":
            job = _job(tmp_path, kind="bucket", source=ObjectStoragePath(f"file://{source}"))
        else:
            job = _job(tmp_path, kind="url", url=httpserver.url_for("/rec.mp4"))
        outcome = copy_file(job, _settings(http), Progress(1, MANIFEST_SIZE))
    assert outcome.status == "copied" and outcome.bytes == MANIFEST_SIZE, outcome
    assert (tmp_path / "lake" / "rec.mp4").read_bytes() == data
