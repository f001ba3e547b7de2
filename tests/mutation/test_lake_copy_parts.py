"""The small rules of the lake copy that make a file whole or absent, and what its log says.

Written for `make mutate` (issue 24 item 5; lake/copy.py): the S3 copy tests (tests/lake/test_copy.py,
left out of the mutation selection because moto answered slowly under its load) reach these only
through whole copies. Here: the temporary name and the commit, the length a download must know, the
ETag that is an MD5, the size of a target, the URL for logs, the path-safe layout, the progress line.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_rtc import redaction
from airflow_provider_rtc.errors import RtcValidationError
from airflow_provider_rtc.lake import copy as lake_copy
from airflow_provider_rtc.lake.copy import CopyError, Progress


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


class Logger:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, fmt: str, *args: Any) -> None:
        self.lines.append(fmt % args)


def test_a_copy_error_starts_with_nothing_written() -> None:
    err = CopyError("short", retryable=True)
    assert (str(err), err.retryable, err.resumable, err.written) == ("short", True, False, 0)
    assert CopyError("x", retryable=False, resumable=True).resumable is True


def test_the_temporary_file_is_a_hidden_partial_sibling(tmp_path: Path) -> None:
    target = tmp_path / "room" / "a.mp4"
    first, second = lake_copy.temporary_name(target), lake_copy.temporary_name(target)
    assert first.parent == target.parent and first != second
    assert first.name.startswith(".a.mp4.") and first.name.endswith(".partial")
    assert len(first.name) == len(".a.mp4.") + 8 + len(".partial")


def test_the_commit_renames_into_place(tmp_path: Path) -> None:
    tmp, target = tmp_path / ".a.partial", tmp_path / "a.mp4"
    tmp.write_bytes(b"abc")
    lake_copy._commit(tmp, target, 3)
    assert target.read_bytes() == b"abc" and not tmp.exists()


def test_a_failed_rename_is_retryable_and_keeps_the_byte_count(tmp_path: Path) -> None:
    with pytest.raises(CopyError) as caught:
        lake_copy._commit(tmp_path / "missing.partial", tmp_path / "a.mp4", 42)
    err = caught.value
    assert str(err) == "renaming into place failed: FileNotFoundError"
    assert (err.retryable, err.written, err.__cause__) == (True, 42, None)
    assert err.__suppress_context__


def test_a_download_of_unknown_length_is_not_copied() -> None:
    lake_copy._require_length(0, "no Content-Length")  # a known length, even 0, is enough
    with pytest.raises(CopyError) as caught:
        lake_copy._require_length(None, "no Content-Length")
    assert str(caught.value) == (
        "no Content-Length: a download cut short could not be told from a complete one, so it is not copied"
    )
    assert caught.value.retryable is False


@pytest.mark.parametrize(
    ("etag", "md5"),
    [
        ('"D41D8CD98F00B204E9800998ECF8427E"', "d41d8cd98f00b204e9800998ecf8427e"),
        ("d41d8cd98f00b204e9800998ecf8427e", "d41d8cd98f00b204e9800998ecf8427e"),
        ('"d41d8cd98f00b204e9800998ecf8427e-2"', None),  # multipart: not the object's MD5
        ("d41d8cd98f00b204e9800998ecf8427", None),
        ("Xd41d8cd98f00b204e9800998ecf8427eX", None),  # only quotes are stripped
        (None, None),
        ("", None),
    ],
)
def test_an_etag_is_an_md5_only_for_a_single_part_upload(etag: Any, md5: str | None) -> None:
    assert lake_copy.md5_of(etag) == md5


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@cdn.example.com/a/b.mp4?sign=abc&t=1", "https://cdn.example.com/a/b.mp4"),
        ("https://cdn.example.com/a@b/c.mp4?x=1", "https://cdn.example.com/a@b/c.mp4"),
        ("https://u@h.example.com", "https://h.example.com"),
        ("no-scheme@host/path?q", "no-scheme@host/path"),
        ("", ""),
    ],
)
def test_a_url_for_logs_has_no_query_and_no_userinfo(url: str, shown: str) -> None:
    assert redaction.redact_url(url) == shown


def test_a_jobs_source_is_described_without_its_signature() -> None:
    job = lake_copy.CopyJob(0, 0, {"name": 7}, "url", Path("t"), url="https://u:p@h/x.mp4?sig=1")
    assert (job.name, job.describe_source()) == ("7", "https://h/x.mp4")
    bucket = lake_copy.CopyJob(0, 0, {}, "bucket", Path("t"), source="s3://b/k")
    assert (bucket.name, bucket.describe_source()) == ("None", "s3://b/k")
    assert lake_copy.CopyJob(0, 0, {}, "url", Path("t")).describe_source() == ""


@pytest.mark.parametrize(
    ("entry", "path"),
    [
        ({"name": "a b/c.mp4", "user_id": None}, "_/a_b_c.mp4"),
        ({"name": "..", "user_id": "."}, "_./_.."),
        ({"name": "x.mp4", "user_id": ""}, "_/x.mp4"),
        ({"name": "ok-1_=@+.mp4", "user_id": "u"}, "u/ok-1_=@+.mp4"),
    ],
)
def test_every_layout_part_is_path_safe(entry: dict[str, Any], path: str) -> None:
    assert lake_copy.render_layout("{user_id}/{name}", {}, entry) == path


def test_a_local_targets_size_and_md5(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    assert lake_copy.target_state(target, want_md5=True) == (None, None)
    target.write_bytes(b"x" * (lake_copy.CHUNK_SIZE + 5))
    digest = hashlib.md5(target.read_bytes(), usedforsecurity=False).hexdigest()
    assert lake_copy.target_state(target, want_md5=True) == (lake_copy.CHUNK_SIZE + 5, digest)
    assert lake_copy.target_state(target, want_md5=False) == (lake_copy.CHUNK_SIZE + 5, None)


class Remote:
    """An object store path: ``stat()`` answers a dict, as fsspec's ``info`` does."""

    protocol = "s3"

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info

    def stat(self) -> dict[str, Any]:
        return self.info

    def open(self, mode: str) -> Any:
        raise AssertionError("a remote target is never read back")


@pytest.mark.parametrize(
    ("info", "state"),
    [
        ({"size": 5, "ETag": '"d41d8cd98f00b204e9800998ecf8427e"'}, (5, "d41d8cd98f00b204e9800998ecf8427e")),
        ({"size": "6", "etag": "d41d8cd98f00b204e9800998ecf8427e"}, (6, "d41d8cd98f00b204e9800998ecf8427e")),
        ({"st_size": 7, "ETag": "abc-3"}, (7, None)),
        ({}, (None, None)),
    ],
)
def test_a_remote_targets_size_and_etag(info: dict[str, Any], state: tuple[Any, Any]) -> None:
    assert lake_copy.target_state(Remote(info), want_md5=True) == state


@pytest.mark.parametrize(
    ("protocol", "local"), [("file", True), ("local", True), ("", True), (None, True), ("s3", False)]
)
def test_which_paths_are_local(protocol: str | None, local: bool) -> None:
    class P:
        pass

    path = P()
    path.protocol = protocol  # type: ignore[attr-defined]
    assert lake_copy.is_local(path) is local
    assert lake_copy.is_local(Path("x")) is True


def test_removing_a_missing_temporary_file_is_quiet(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    lake_copy._remove_quietly(tmp_path / "gone.partial")
    assert caplog.records == []
    there = tmp_path / "there.partial"
    there.write_bytes(b"x")
    lake_copy._remove_quietly(there)
    assert not there.exists()


def test_a_temporary_file_that_cannot_be_removed_is_logged_by_error_type(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "a-dir.partial"
    directory.mkdir()
    with caplog.at_level("WARNING", logger=lake_copy.log.name):
        lake_copy._remove_quietly(directory)
    assert [r.getMessage() for r in caplog.records] == [
        f"could not remove the temporary file {directory}: {type(_unlink_error(directory)).__name__}"
    ]


def _unlink_error(path: Path) -> OSError:
    try:
        path.unlink()
    except OSError as err:
        return err
    raise AssertionError("unlink of a directory succeeded")


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (1024**2, "1.0 MiB"),
        (5 * 1024**3, "5.0 GiB"),
        (3 * 1024**4, "3072.0 GiB"),
        (-2048, "-2.0 KiB"),
    ],
)
def test_human_bytes(n: float, text: str) -> None:
    assert lake_copy.human_bytes(n) == text


def test_progress_logs_at_most_once_an_interval_and_for_the_last_file() -> None:
    clock, logger = Clock(), Logger()
    progress = Progress(total_files=2, total_bytes=4096, interval=10.0, logger=logger, clock=clock)
    progress.add_bytes(1024)
    assert logger.lines == []
    clock.t += 10.0  # exactly one interval: due
    progress.add_bytes(1024)
    assert logger.lines == [
        "copy progress: files 0/2 (0 already there), bytes 2.0 KiB/4.0 KiB, rate 205 B/s, ETA 10 s"
    ]
    clock.t += 1
    progress.file_done()
    assert len(logger.lines) == 1  # not the last file, not an interval
    progress.file_done(skipped_bytes=1024)
    assert logger.lines[-1] == (
        "copy progress: files 2/2 (1 already there), bytes 2.0 KiB/3.0 KiB, rate 186 B/s, ETA 6 s"
    )


def test_a_skipped_file_never_makes_the_total_negative_and_found_files_add_up() -> None:
    clock, logger = Clock(), Logger()
    progress = Progress(total_files=3, total_bytes=100, logger=logger, clock=clock)
    progress.file_done(skipped_bytes=500)
    assert (progress.done_files, progress.skipped_files, progress.total_bytes) == (1, 1, 0)
    progress.add_files(4, 2048)
    progress.add_files(1)
    assert (progress.total_files, progress.total_bytes) == (8, 2048)
    assert progress.line() == "files 1/8 (1 already there), bytes 0 B/2.0 KiB, rate 0 B/s, ETA unknown"


def test_progress_without_a_total_has_no_eta() -> None:
    clock = Clock()
    progress = Progress(total_files=1, total_bytes=0, logger=Logger(), clock=clock)
    clock.t += 2
    progress.add_bytes(100)
    assert progress.line().endswith("rate 50 B/s, ETA unknown")


def test_progress_at_time_zero_does_not_divide_by_zero() -> None:
    progress = Progress(total_files=1, total_bytes=10, logger=Logger(), clock=Clock())
    progress.done_bytes = 1
    assert progress.line() == "files 0/1 (0 already there), bytes 1 B/10 B, rate 976.6 KiB/s, ETA 0 s"


def test_a_validation_error_for_a_layout_that_escapes() -> None:
    with pytest.raises(RtcValidationError):
        lake_copy.render_layout("{room_id}/../{name}", {}, {"name": "x"})
