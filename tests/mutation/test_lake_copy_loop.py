"""The lake copy's loop, file by file: whole or absent, nothing lost or fetched twice.

Written for `make mutate` (issue 24 item 5; lake/copy.py's ``copy_file``, ``_copy_file``,
``_copy_once``, ``_http_chunks``, ``_learn_source_size``, ``_bucket_chunks``). The copy tests of
tests/lake/ run whole operators against moto and a threaded origin; under mutmut's load those were
too slow to judge 900 mutants. Here each rule is one call of ``copy_file`` into a local lake, the
HTTP source an in-process ``httpx.MockTransport`` (no socket at all), the retry delay recorded
instead of slept: a few milliseconds a test.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_rtc.lake import copy as lake_copy
from airflow_provider_rtc.lake.copy import CopyJob, CopyOutcome, CopySettings, Progress, copy_file
from airflow_provider_rtc.lake.fetch import SourceGuard

BODY = bytes(range(256)) * 4  # 1,024 bytes, every byte value
URL = "http://origin.test/rec.mp4"


class Source(httpx.BaseTransport):
    """One file served over HTTP: a request log, Range support and faults, in process."""

    def __init__(self, body: bytes = BODY) -> None:
        self.body = body
        self.requests: list[httpx.Request] = []
        self.statuses: list[int] = []  # answers to give first, one per request
        self.cut_at: list[int] = []  # GETs to cut after so many bytes, one per request
        self.length = True  # send a Content-Length
        self.ranges = True  # honour a Range request with a 206
        self.content_range: str | None = None  # a 206's Content-Range, when not the honest one
        self.whole_206 = False  # that 206 carries the whole file
        self.short_at: list[int] = []  # GETs to end cleanly after so many bytes (no Content-Length)
        self.fail: list[BaseException] = []  # raised by the transport, one per request
        self.on_request: Callable[[httpx.Request], None] = lambda _request: None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.on_request(request)
        if self.fail:
            raise self.fail.pop(0)
        if self.statuses:
            return httpx.Response(self.statuses.pop(0), content=b"no")
        body, status, headers = self.body, 200, {}
        asked = request.headers.get("range")
        if asked and self.ranges:
            start = int(asked.removeprefix("bytes=").rstrip("-"))
            body, status = body[start:], 206
            headers["content-range"] = (
                self.content_range or f"bytes {start}-{len(self.body) - 1}/{len(self.body)}"
            )
        if asked and self.ranges and self.content_range == "":  # a 206 without the header
            del headers["content-range"]
        elif asked and self.ranges and self.whole_206:  # a 206 that carries the whole file
            body = self.body
        if self.length:
            headers["content-length"] = str(len(body))
        if request.method == "HEAD":
            return httpx.Response(status, headers=headers)
        if self.short_at:  # a chunked answer that ends early, as far as its transport says cleanly
            return httpx.Response(status, stream=_Stream(body[: self.short_at.pop(0)], None))
        cut = self.cut_at.pop(0) if self.cut_at else None
        return httpx.Response(status, headers=headers, stream=_Stream(body, cut))

    def gets(self) -> list[str | None]:
        """The Range header of each GET (``None``: the whole file)."""
        return [r.headers.get("range") for r in self.requests if r.method == "GET"]


class _Stream(httpx.SyncByteStream):
    def __init__(self, body: bytes, cut: int | None) -> None:
        self.body, self.cut = body, cut

    def __iter__(self) -> Iterator[bytes]:
        sent = self.body if self.cut is None else self.body[: self.cut]
        for i in range(0, len(sent), 100):
            yield sent[i : i + 100]
        if self.cut is not None:
            raise httpx.ReadError("connection reset")


class Run:
    """One ``copy_file`` call's world: the lake, the source, the delays slept."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lake = tmp_path / "lake"
        self.source = Source()
        self.http = httpx.Client(transport=self.source)
        self.sleeps: list[float] = []
        monkeypatch.setattr(lake_copy.time, "sleep", self.sleeps.append)
        self.counted: list[tuple[str, int]] = []
        monkeypatch.setattr(lake_copy.metrics, "incr", lambda name, n=1, **_t: self.counted.append((name, n)))
        self.progress = Progress(total_files=1, total_bytes=len(BODY), logger=logging.getLogger("t"))

    @property
    def target(self) -> Path:
        return self.lake / "rec.mp4"

    def job(self, **kw: Any) -> CopyJob:
        fields: dict[str, Any] = {"kind": "url", "url": URL, "size": len(BODY), **kw}
        return CopyJob(0, 0, {"name": "rec.mp4"}, target=self.target, **fields)

    def copy(
        self, job: CopyJob | None = None, *, attempts: int = 3, delay: float = 0.5, chunk: int = 64, **kw: Any
    ) -> CopyOutcome:
        settings = CopySettings(
            chunk_size=chunk,
            attempts=attempts,
            retry_delay=delay,
            http=self.http,
            guard=kw.pop("guard", _ANY_HOST),
        )
        job = job or self.job(**kw)
        outcome = copy_file(job, settings, self.progress)
        assert outcome.job is job  # every outcome names its file, copied, skipped or failed
        return outcome

    def files(self) -> dict[str, bytes]:
        """Every file in the lake (temporary ones too: none may be left)."""
        if not self.lake.exists():
            return {}
        return {p.name: p.read_bytes() for p in self.lake.iterdir()}


_ANY_HOST = SourceGuard(allow_private=True)


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    world = Run(tmp_path, monkeypatch)
    yield world
    world.http.close()


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _summary(outcome: CopyOutcome) -> tuple[str, int, int, str | None]:
    return outcome.status, outcome.bytes, outcome.attempts, outcome.error


# -- a file copied whole, once -----------------------------------------------------------------


def test_a_file_is_copied_whole_under_its_name_with_no_temporary_file_left(run: Run) -> None:
    outcome = run.copy()
    assert _summary(outcome) == ("copied", len(BODY), 1, None)
    assert outcome.job.target == run.target
    assert run.files() == {"rec.mp4": BODY}
    assert run.source.gets() == [None] and run.sleeps == []
    assert (run.progress.done_files, run.progress.skipped_files, run.progress.done_bytes) == (1, 0, len(BODY))
    assert run.counted == [("rtc.copy_bytes", len(BODY))]  # bytes written to the lake


def test_a_file_is_copied_into_folders_the_lake_does_not_have_yet(run: Run) -> None:
    job = run.job()
    job.target = run.lake / "app" / "room" / "rec.mp4"
    assert _summary(run.copy(job)) == ("copied", len(BODY), 1, None)
    assert job.target.read_bytes() == BODY and sorted(p.name for p in job.target.parent.iterdir()) == [
        "rec.mp4"
    ]


def test_a_body_longer_than_the_manifest_is_never_committed(run: Run) -> None:
    """No Content-Length (a chunked answer) and more bytes than the manifest: not a prefix, so
    every attempt starts over, and the file fails."""
    run.source.length = False
    outcome = run.copy(size=len(BODY) - 100)
    assert _summary(outcome) == ("failed", 0, 3, f"short copy: {len(BODY)} of {len(BODY) - 100} bytes")
    assert run.source.gets() == [None, None, None] and run.files() == {}


def test_a_destination_that_holds_fewer_bytes_than_written_is_not_committed(run: Run) -> None:
    job = run.job()
    job.target = _Shrinking(run.target)
    outcome = run.copy(job, attempts=2)
    assert _summary(outcome) == (
        "failed",
        0,
        2,
        f"the destination holds {len(BODY) - 1} of {len(BODY)} bytes",
    )
    assert run.files() == {} and run.counted == []


def test_an_md5_that_matches_is_copied(run: Run) -> None:
    assert _summary(run.copy(md5=_md5(BODY))) == ("copied", len(BODY), 1, None)
    assert run.files() == {"rec.mp4": BODY}


def test_a_copy_whose_md5_differs_is_retried_then_failed_with_nothing_left(run: Run) -> None:
    outcome = run.copy(md5=_md5(b"another file"))
    assert _summary(outcome) == ("failed", 0, 3, "MD5 differs from the source's")
    assert run.files() == {} and run.source.gets() == [None, None, None]
    assert run.progress.done_bytes == 0 and run.progress.done_files == 1


def test_a_file_without_a_size_takes_the_content_length(run: Run) -> None:
    job = run.job(size=None)
    assert _summary(run.copy(job)) == ("copied", len(BODY), 1, None)
    assert job.size == len(BODY) and run.files() == {"rec.mp4": BODY}


def test_a_file_without_a_size_or_a_content_length_is_not_copied(run: Run) -> None:
    run.source.length = False
    outcome = run.copy(size=None)
    assert outcome.status == "failed" and outcome.attempts == 1
    assert outcome.error == (
        "the server sent no Content-Length and the manifest no size: a download cut short could not"
        " be told from a complete one, so it is not copied"
    )
    assert run.files() == {}


def test_a_body_without_a_content_length_but_of_the_manifests_size_is_copied(run: Run) -> None:
    run.source.length = False
    assert _summary(run.copy()) == ("copied", len(BODY), 1, None)
    assert run.files() == {"rec.mp4": BODY}


def test_a_source_of_another_size_than_the_manifest_fails_at_once(run: Run) -> None:
    outcome = run.copy(size=len(BODY) + 1)
    assert _summary(outcome) == (
        "failed",
        0,
        1,
        f"the source has {len(BODY)} bytes, the manifest says {len(BODY) + 1}",
    )
    assert run.files() == {} and run.sleeps == []


# -- skip: a re-run copies nothing ---------------------------------------------------------------


def test_a_target_of_the_sources_size_is_skipped_without_a_request(run: Run) -> None:
    run.lake.mkdir()
    run.target.write_bytes(BODY)
    outcome = run.copy()
    assert _summary(outcome) == ("skipped", len(BODY), 0, None)
    assert run.source.requests == [] and run.counted == []
    assert (run.progress.done_files, run.progress.skipped_files, run.progress.total_bytes) == (1, 1, 0)


def test_a_target_of_another_size_is_copied_again(run: Run) -> None:
    run.lake.mkdir()
    run.target.write_bytes(BODY[:-1])
    assert _summary(run.copy()) == ("copied", len(BODY), 1, None)
    assert run.files() == {"rec.mp4": BODY}


def test_a_target_with_the_sources_md5_is_skipped_and_with_another_copied_again(run: Run) -> None:
    run.lake.mkdir()
    run.target.write_bytes(BODY)
    assert run.copy(md5=_md5(BODY)).status == "skipped"
    stale = bytes(reversed(BODY))  # same size, other bytes
    run.target.write_bytes(stale)
    assert _summary(run.copy(md5=_md5(BODY))) == ("copied", len(BODY), 1, None)
    assert run.files() == {"rec.mp4": BODY}


def test_a_target_found_for_a_source_without_a_size_is_compared_with_a_head(run: Run) -> None:
    run.lake.mkdir()
    run.target.write_bytes(BODY)
    job = run.job(size=None)
    assert _summary(run.copy(job)) == ("skipped", len(BODY), 0, None)
    assert [r.method for r in run.source.requests] == ["HEAD"] and job.size == len(BODY)


def test_a_target_found_for_a_source_without_a_size_but_with_an_md5_is_hashed(run: Run) -> None:
    run.lake.mkdir()
    run.target.write_bytes(bytes(reversed(BODY)))
    job = run.job(size=None, md5=_md5(BODY))
    assert _summary(run.copy(job)) == ("copied", len(BODY), 1, None)
    assert [r.method for r in run.source.requests] == ["HEAD", "GET"]
    assert run.files() == {"rec.mp4": BODY}


@pytest.mark.parametrize("answer", ["no length", "404", "refused", "transport error"])
def test_a_head_that_tells_no_size_means_the_file_is_copied_again(run: Run, answer: str) -> None:
    run.lake.mkdir()
    run.target.write_bytes(BODY)
    guard = _ANY_HOST
    if answer == "no length":
        run.source.length = False
    elif answer == "404":
        run.source.statuses = [404]
    elif answer == "refused":
        guard = SourceGuard()  # origin.test does not resolve here: refused before any request
    else:
        run.source.fail = [httpx.ConnectError("refused")]
    job = run.job(size=None)
    outcome = run.copy(job, guard=guard)
    assert job.size in (None, len(BODY))
    if answer == "refused":
        assert outcome.status == "failed" and run.source.requests == []
        return
    assert [r.method for r in run.source.requests] == ["HEAD", "GET"]
    if answer == "no length":  # nor does the GET: an unknown length is never committed
        assert outcome.status == "failed" and run.files() == {"rec.mp4": BODY}
        return
    assert outcome.status == "copied" and run.files() == {"rec.mp4": BODY}


# -- retries, resume, and what each failure leaves -------------------------------------------------


def test_a_download_cut_into_a_local_lake_resumes_with_a_range(
    run: Run, caplog: pytest.LogCaptureFixture
) -> None:
    run.source.cut_at = [320]
    with caplog.at_level(logging.WARNING, logger=lake_copy.log.name):
        outcome = run.copy()
    assert _summary(outcome) == ("copied", len(BODY), 2, None)
    assert run.source.gets() == [None, "bytes=320-"]
    assert run.files() == {"rec.mp4": BODY} and run.sleeps == [0.5]
    assert run.progress.done_bytes == len(BODY)
    assert [r.getMessage() for r in caplog.records] == [
        "rec.mp4: attempt 1/3 failed (download interrupted: ReadError); resuming at byte 320 in 0.5 s"
    ]


def test_a_body_that_ends_short_without_an_error_is_continued_from_where_it_ended(run: Run) -> None:
    """What arrived is a prefix of the source (checked against the manifest's size, not yet the
    whole): a local lake continues it with a Range request instead of fetching it all again."""
    run.source.short_at = [640]
    assert _summary(run.copy()) == ("copied", len(BODY), 2, None)
    assert run.source.gets() == [None, "bytes=640-"]
    assert run.files() == {"rec.mp4": BODY}


def test_a_download_cut_twice_resumes_from_each_cut(run: Run) -> None:
    run.source.cut_at = [320, 384]  # the second cut is 384 bytes into the 206
    outcome = run.copy()
    assert _summary(outcome) == ("copied", len(BODY), 3, None)
    assert run.source.gets() == [None, "bytes=320-", "bytes=704-"]
    assert run.files() == {"rec.mp4": BODY} and run.sleeps == [0.5, 1.0]


def test_a_cut_on_the_last_attempt_fails_and_removes_what_it_wrote(run: Run) -> None:
    run.source.cut_at = [320, 64]
    outcome = run.copy(attempts=2)
    assert _summary(outcome) == ("failed", 0, 2, "download interrupted: ReadError")
    assert run.files() == {} and run.progress.done_bytes == 0
    assert run.source.gets() == [None, "bytes=320-"]


@pytest.mark.parametrize("why", ["md5", "bucket-less remote lake"])
def test_a_cut_download_that_cannot_be_continued_starts_over(run: Run, why: str) -> None:
    """An MD5 must see every byte and a remote lake cannot append: both start over at byte 0."""
    run.source.cut_at = [320]
    if why == "md5":
        outcome = run.copy(md5=_md5(BODY))
    else:
        job = run.job()
        job.target = _Remote(run.target)
        outcome = run.copy(job)
    assert _summary(outcome) == ("copied", len(BODY), 2, None)
    assert run.source.gets() == [None, None]
    assert run.files() == {"rec.mp4": BODY} and run.progress.done_bytes == len(BODY)


def test_a_server_that_ignores_the_range_sends_the_whole_file_again(run: Run) -> None:
    run.source.cut_at = [320]
    run.source.ranges = False
    assert _summary(run.copy()) == ("copied", len(BODY), 2, None)
    assert run.source.gets() == [None, "bytes=320-"]
    assert run.files() == {"rec.mp4": BODY} and run.progress.done_bytes == len(BODY)


def test_a_206_of_another_range_than_asked_starts_over(run: Run, caplog: pytest.LogCaptureFixture) -> None:
    run.source.cut_at = [320]
    run.source.content_range = "bytes 200-1023/1024"
    with caplog.at_level(logging.WARNING, logger=lake_copy.log.name):
        outcome = run.copy()
    assert _summary(outcome) == ("copied", len(BODY), 3, None)
    assert run.source.gets() == [None, "bytes=320-", None]
    assert run.files() == {"rec.mp4": BODY} and run.progress.done_bytes == len(BODY)
    assert caplog.records[1].getMessage() == (
        "rec.mp4: attempt 2/3 failed (the server answered another range than asked); retrying in 1.0 s"
    )


@pytest.mark.parametrize("content_range", ["items 300-1023", ""])
def test_a_206_without_a_readable_content_range_starts_over(run: Run, content_range: str) -> None:
    run.source.cut_at = [320]
    run.source.content_range = content_range
    assert _summary(run.copy()) == ("copied", len(BODY), 3, None)
    assert run.source.gets() == [None, "bytes=320-", None]


def test_a_206_that_says_no_range_is_never_taken_for_the_rest_of_the_file(run: Run) -> None:
    """Cut after the first byte, the copy asks for ``bytes=1-``; a 206 whose Content-Range cannot
    be read (here carrying the whole file) is no continuation, whatever byte the copy stopped at."""
    run.source.cut_at = [1]
    run.source.content_range = "bytes */1024"
    run.source.whole_206 = True
    assert _summary(run.copy(chunk=1)) == ("copied", len(BODY), 3, None)
    assert run.source.gets() == [None, "bytes=1-", None]
    assert run.files() == {"rec.mp4": BODY}


@pytest.mark.parametrize("status", [500, 503, 408, 429])
def test_a_passing_server_error_is_retried_with_doubling_delays(run: Run, status: int) -> None:
    run.source.statuses = [status, status]
    assert _summary(run.copy()) == ("copied", len(BODY), 3, None)
    assert run.sleeps == [0.5, 1.0] and run.files() == {"rec.mp4": BODY}


@pytest.mark.parametrize("status", [400, 403, 404, 410, 499])
def test_a_client_error_fails_at_once(run: Run, status: int) -> None:
    run.source.statuses = [status]
    assert _summary(run.copy()) == ("failed", 0, 1, f"download answered HTTP {status}")
    assert run.sleeps == [] and run.files() == {}


def test_a_lasting_server_error_fails_after_every_attempt(run: Run) -> None:
    run.source.statuses = [502] * 4
    assert _summary(run.copy(attempts=4, delay=0.25)) == ("failed", 0, 4, "download answered HTTP 502")
    assert run.sleeps == [0.25, 0.5, 1.0] and run.files() == {}


def test_a_connection_failure_is_retried(run: Run) -> None:
    run.source.fail = [httpx.ConnectError("refused")]
    assert _summary(run.copy()) == ("copied", len(BODY), 2, None)
    run.source.fail = [httpx.ConnectTimeout("slow")] * 2
    run.target.unlink()
    assert _summary(run.copy(attempts=2)) == ("failed", 0, 2, "download failed: ConnectTimeout")


def test_a_refused_source_fails_at_once_without_a_request(run: Run) -> None:
    outcome = run.copy(url="http://127.0.0.1/rec.mp4", guard=SourceGuard())
    assert outcome.status == "failed" and outcome.attempts == 1
    assert (outcome.error or "").startswith("source refused: ")
    assert run.source.requests == [] and run.files() == {}


def test_an_unresolved_source_is_retried() -> None:
    def nowhere(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    guard = SourceGuard(resolver=nowhere)
    settings = CopySettings(attempts=2, retry_delay=0.0, http=httpx.Client(transport=Source()), guard=guard)
    job = CopyJob(0, 0, {"name": "x"}, "url", Path("/nonexistent-lake/x"), url=URL, size=1)
    outcome = copy_file(job, settings, Progress(1, 1))
    assert _summary(outcome) == ("failed", 0, 2, "download failed: origin.test does not resolve (OSError)")


def test_a_run_interrupted_in_a_request_leaves_no_temporary_file(run: Run) -> None:
    run.source.cut_at = [320]

    def stop_on_the_second_get(request: httpx.Request) -> None:
        if len(run.source.requests) == 2:
            raise KeyboardInterrupt

    run.source.on_request = stop_on_the_second_get
    with pytest.raises(KeyboardInterrupt):
        run.copy()
    assert run.source.gets() == [None, "bytes=320-"]
    assert run.files() == {}


def test_a_run_stopped_while_it_waits_to_resume_leaves_no_temporary_file(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task killed during the retry delay (Airflow raises ``AirflowTaskTerminated``, a
    ``BaseException``) must not leave the prefix it kept for the resume in the lake."""

    class Stop(BaseException):
        pass

    def stop(_delay: float) -> None:
        raise Stop

    monkeypatch.setattr(lake_copy.time, "sleep", stop)
    run.source.cut_at = [320]
    with pytest.raises(Stop):
        run.copy()
    assert run.files() == {}


# -- a file that cannot be copied fails alone ----------------------------------------------------


def test_an_invalid_file_fails_without_a_request(run: Run) -> None:
    outcome = run.copy(invalid="two playlists name this segment")
    assert _summary(outcome) == ("failed", 0, 0, "two playlists name this segment")
    assert run.source.requests == [] and run.progress.done_files == 1


def test_a_path_error_fails_that_file_with_the_signature_redacted(run: Run) -> None:
    job = run.job(url=f"{URL}?Signature=S3CR3T")
    job.target = _Broken(ValueError("bad path ?Signature=S3CR3T"))
    outcome = run.copy(job)
    assert _summary(outcome) == ("failed", 0, 0, "ValueError: bad path ?Signature=***")
    assert run.progress.done_files == 1
    job.target = _Broken(PermissionError("denied"))
    assert run.copy(job).error == "PermissionError: denied"
    job.target = _Broken(TypeError("odd"))
    assert run.copy(job).error == "TypeError: odd"


def test_a_write_failure_is_retried_then_reported_by_error_type(run: Run) -> None:
    job = run.job()
    job.target = _Unwritable(run.target)
    outcome = run.copy(job, attempts=2)
    assert outcome.status == "failed" and outcome.attempts == 2
    assert (outcome.error or "").startswith(f"writing {run.lake}/.rec.mp4.")
    assert (outcome.error or "").endswith(".partial failed: OSError") and run.files() == {}


class _Unwritable:
    """A lake that refuses every new file (a full disk, a bucket without write permission)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name

    def stat(self) -> Any:
        return self.path.stat()

    @property
    def parent(self) -> Any:
        return self

    def mkdir(self, **_kw: Any) -> None:
        pass

    def __truediv__(self, name: str) -> _Unwritable:
        return _Unwritable(self.path.parent / name)

    def open(self, mode: str) -> Any:
        raise OSError("no space left on device")

    def unlink(self) -> None:
        raise FileNotFoundError

    def __str__(self) -> str:
        return str(self.path)


# -- object-store sources ------------------------------------------------------------------------


def test_a_bucket_object_is_copied_and_its_size_learned_when_unknown(run: Run, tmp_path: Path) -> None:
    source = tmp_path / "bucket" / "rec.mp4"
    source.parent.mkdir()
    source.write_bytes(BODY)
    job = run.job(kind="bucket", url=None, source=source, size=None)
    assert _summary(run.copy(job)) == ("copied", len(BODY), 1, None)
    assert job.size == len(BODY) and run.files() == {"rec.mp4": BODY}
    assert run.copy(run.job(kind="bucket", url=None, source=source, size=None)).status == "skipped"


def test_a_missing_bucket_object_fails_at_once(run: Run, tmp_path: Path) -> None:
    job = run.job(kind="bucket", url=None, source=tmp_path / "bucket" / "gone.mp4")
    outcome = run.copy(job)
    assert _summary(outcome) == (
        "failed",
        0,
        1,
        f"source object not found: {tmp_path / 'bucket' / 'gone.mp4'}",
    )
    job = run.job(kind="bucket", url=None, source=tmp_path / "bucket" / "gone.mp4", size=None)
    assert run.copy(job).error == (
        "the source object's size is unknown: a download cut short could not be told from a complete one,"
        " so it is not copied"
    )
    assert run.files() == {}


def test_an_unreadable_bucket_object_is_retried(run: Run, tmp_path: Path) -> None:
    job = run.job(kind="bucket", url=None, source=_Unreadable())
    assert _summary(run.copy(job, attempts=2)) == (
        "failed",
        0,
        2,
        "reading the source failed: IsADirectoryError",
    )


def test_a_bucket_object_with_an_etag_is_verified(run: Run, tmp_path: Path) -> None:
    source = _Object(BODY, etag=f'"{_md5(b"other")}"')
    job = run.job(kind="bucket", url=None, source=source, size=None)
    outcome = run.copy(job, attempts=1)
    assert _summary(outcome) == ("failed", 0, 1, "MD5 differs from the source's")
    assert job.md5 == _md5(b"other")
    source = _Object(BODY, etag=_md5(BODY))
    assert _summary(run.copy(run.job(kind="bucket", url=None, source=source, size=None))) == (
        "copied",
        len(BODY),
        1,
        None,
    )


def test_a_bucket_objects_etag_decides_whether_a_target_of_its_size_is_copied_again(run: Run) -> None:
    """The manifest gave no size: the object's stat gives size and ETag, and a local target of that
    size is hashed to be compared with it."""
    run.lake.mkdir()
    run.target.write_bytes(bytes(reversed(BODY)))  # same size, other bytes
    for key in ("ETag", "etag"):
        source = _Object(BODY, etag=f'"{_md5(BODY)}"', key=key)
        job = run.job(kind="bucket", url=None, source=source, size=None)
        assert _summary(run.copy(job)) == ("copied", len(BODY), 1, None), key
        assert job.md5 == _md5(BODY) and run.files() == {"rec.mp4": BODY}
        assert run.copy(run.job(kind="bucket", url=None, source=source, size=None)).status == "skipped"
        run.target.write_bytes(bytes(reversed(BODY)))


def test_a_short_bucket_object_starts_over_and_counts_no_bytes(run: Run, tmp_path: Path) -> None:
    source = tmp_path / "bucket" / "rec.mp4"
    source.parent.mkdir()
    source.write_bytes(BODY[:500])
    outcome = run.copy(run.job(kind="bucket", url=None, source=source), attempts=2)
    assert _summary(outcome) == ("failed", 0, 2, f"short copy: 500 of {len(BODY)} bytes")
    assert run.progress.done_bytes == 0 and run.files() == {}


class _Object:
    """A bucket object whose stat carries an ETag (as fsspec's S3 info does)."""

    def __init__(self, data: bytes, etag: str, key: str = "ETag") -> None:
        self.data, self.etag, self.key = data, etag, key

    def stat(self) -> dict[str, Any]:
        return {"size": len(self.data), self.key: self.etag}

    def open(self, mode: str) -> Any:
        import io

        return io.BytesIO(self.data)


class _Unreadable:
    def stat(self) -> dict[str, Any]:
        return {"size": 3}

    def open(self, mode: str) -> Any:
        raise IsADirectoryError("a folder")


class _Broken:
    """A target whose every use raises ``error`` (a NUL in a path, a bucket refusing)."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def stat(self) -> Any:
        raise self.error


class _Shrinking:
    """A destination whose stat says one byte less than was written (a store that lost a part)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name

    def __getattr__(self, name: str) -> Any:
        return getattr(self.path, name)

    @property
    def parent(self) -> Any:
        return _Shrinking(self.path.parent)

    def __truediv__(self, name: str) -> _Shrinking:
        return _Shrinking(self.path / name)

    def stat(self) -> Any:
        info = self.path.stat()
        return {"size": info.st_size - 1}


class _Remote:
    """A local path that says it is on an object store (``protocol``), so no append is tried."""

    protocol = "s3"

    def __init__(self, path: Path) -> None:
        self.path = path

    def __getattr__(self, name: str) -> Any:
        return getattr(self.path, name)

    @property
    def parent(self) -> Any:
        return _Remote(self.path.parent)

    def __truediv__(self, name: str) -> _Remote:
        return _Remote(self.path / name)

    def rename(self, target: _Remote) -> None:
        self.path.rename(target.path)


@pytest.mark.parametrize("kind", ["url", "bucket"])
def test_a_file_is_read_and_written_in_chunks_of_the_set_size(run: Run, tmp_path: Path, kind: str) -> None:
    """Constant memory whatever the file's size: no read holds more than ``chunk_size`` bytes."""
    seen: list[int] = []
    original: Callable[[int], None] = run.progress.add_bytes
    run.progress.add_bytes = lambda n: (seen.append(n), original(n))[1]  # type: ignore[method-assign]
    source = tmp_path / "bucket" / "rec.mp4"
    source.parent.mkdir()
    source.write_bytes(BODY)
    job = run.job() if kind == "url" else run.job(kind="bucket", url=None, source=source)
    assert run.copy(job, chunk=256).status == "copied"
    assert seen == [256] * 4


def test_a_progress_callback_sees_every_byte_once(run: Run) -> None:
    seen: list[int] = []
    original: Callable[[int], None] = run.progress.add_bytes
    run.progress.add_bytes = lambda n: (seen.append(n), original(n))[1]  # type: ignore[method-assign]
    run.source.cut_at = [320]
    run.copy()
    assert sum(seen) == len(BODY) and all(n > 0 for n in seen)


def test_a_rename_that_fails_is_retried_and_leaves_no_temporary_file(run: Run) -> None:
    run.target.mkdir(parents=True)  # a folder where the file goes: no rename can replace it
    (run.target / "theirs").write_bytes(b"x")
    outcome = run.copy(attempts=2)
    assert _summary(outcome) == ("failed", 0, 2, "renaming into place failed: IsADirectoryError")
    assert [p.name for p in run.lake.iterdir()] == ["rec.mp4"] and run.progress.done_bytes == 0


def test_a_skipped_outcome_names_its_job_and_each_skip_is_counted(run: Run) -> None:
    run.lake.mkdir()
    run.target.write_bytes(BODY)
    run.progress.total_files = 3
    job = run.job()
    assert run.copy(job).job is job
    run.copy()
    assert (run.progress.done_files, run.progress.skipped_files) == (2, 2)


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, fmt: str, *args: Any) -> None:
        self.lines.append(fmt % args)


def test_a_file_done_exactly_one_interval_after_the_last_line_logs_one() -> None:
    clock, logger = _Clock(), _Lines()
    progress = Progress(total_files=3, total_bytes=0, interval=10.0, logger=logger, clock=clock)
    clock.t = 10.0
    progress.file_done()
    assert logger.lines == [
        "copy progress: files 1/3 (0 already there), bytes 0 B/0 B, rate 0 B/s, ETA unknown"
    ]


def test_the_eta_of_a_slow_copy_and_of_one_past_its_total() -> None:
    clock = _Clock()
    progress = Progress(total_files=1, total_bytes=100, logger=_Lines(), clock=clock)
    clock.t = 100.0
    progress.add_bytes(50)  # 0.5 B/s: below one byte a second, still an ETA
    assert progress.line().endswith("rate 0 B/s, ETA 100 s")
    progress.add_bytes(50)
    clock.t = 1000.0  # 0.1 B/s, every byte there: nothing left
    assert progress.line().endswith("ETA 0 s")


def test_a_local_target_is_hashed_in_chunks() -> None:
    """A target's MD5 (to decide on a skip) is read a chunk at a time: constant memory there too."""
    import io

    sizes: list[int | None] = []

    class Reads(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            sizes.append(size)
            return super().read(size)

    class Target:
        def open(self, mode: str) -> Reads:
            return Reads(b"x" * (lake_copy.CHUNK_SIZE + 1))

    assert lake_copy._local_md5(Target()) == _md5(b"x" * (lake_copy.CHUNK_SIZE + 1))
    assert sizes == [lake_copy.CHUNK_SIZE] * 3
