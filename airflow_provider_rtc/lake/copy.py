"""Copying a recording manifest's files to object storage: plan, verified streaming copy, progress.

Kept apart from the operator so the rules are plain functions over ``ObjectStoragePath``es:

* **plan** - one :class:`CopyJob` per file: where the bytes come from (the file's URL, a VOD
  media URL resolved from its FileId, or an object in the bucket the cloud wrote to) and where they
  go (the destination joined with the rendered layout).
* **copy** - :func:`copy_file` streams the source in fixed-size chunks (constant memory whatever
  the file size) into a hidden temporary name next to the target, checks the byte count (and the
  MD5 where the source gives one), then renames it into place. A failed or short attempt deletes
  its temporary file and is retried; nothing that looks complete exists until it is complete.
* **skip** - a target that already exists with the source's size (and MD5, where both sides give
  one) is not copied again, so a re-run copies nothing.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_rtc import metrics
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.redaction import redact_query, redact_url

if TYPE_CHECKING:
    import httpx

    from airflow_provider_rtc.lake.fetch import SourceGuard

log = logging.getLogger(__name__)

DEFAULT_LAYOUT = "{cloud}/{app_id}/{room_id}/{task_id}/{name}"
LAYOUT_KEYS = ("cloud", "app_id", "room_id", "task_id", "name", "user_id", "stream_id", "format", "date")
CHUNK_SIZE = 1024 * 1024
SourceKind = Literal["url", "vod", "bucket"]
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._=@+-]")


class CopyError(Exception):
    """One file could not be copied; ``retryable`` says whether another attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool, resumable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        #: the temporary file holds a correct prefix of the source: a retry may continue it
        self.resumable = resumable
        #: bytes in the temporary file when the attempt failed
        self.written = 0


@dataclass
class CopyJob:
    """One file: its manifest entry, its source and its target."""

    manifest_index: int
    file_index: int
    entry: dict[str, Any]
    kind: SourceKind
    target: Any  # ObjectStoragePath
    url: str | None = None
    source: Any = None  # ObjectStoragePath, for kind == "bucket"
    size: int | None = None
    md5: str | None = None
    segment_of: str | None = None  # the HLS index this segment belongs to
    depth: int = 0  # 0: a manifest file; 1: a playlist's entry; 2: a child playlist's entry
    invalid: str | None = None  # why this file cannot be copied at all (reported, not raised)

    @property
    def name(self) -> str:
        return str(self.entry.get("name"))

    def describe_source(self) -> str:
        if self.kind == "bucket":
            return str(self.source)
        return redact_url(self.url or "")


@dataclass
class CopyOutcome:
    job: CopyJob
    status: Literal["copied", "skipped", "failed"]
    bytes: int = 0
    attempts: int = 0
    error: str | None = None


def check_fields(template: Any, param: str, *, allowed: tuple[str, ...] = LAYOUT_KEYS) -> str:
    """A ``str.format`` template whose placeholders are plain names among ``allowed`` (no
    attribute or index access, no conversion or format spec), checked before anything renders it."""
    import string

    rule = f"placeholders must be among {{{', '.join(allowed)}}}"
    if not isinstance(template, str) or not template.strip():
        raise RtcValidationError(param, f"a non-empty text template; {rule}", template)
    try:
        fields = [(f, c, spec) for _, f, spec, c in string.Formatter().parse(template) if f is not None]
    except ValueError as err:
        raise RtcValidationError(param, f"not a valid template ({err}); {rule}", template) from None
    for name, conversion, spec in fields:
        if name not in allowed or conversion or spec:
            raise RtcValidationError(param, f"unknown placeholder {{{name}}}; {rule}", template)
    return template


def render_layout(layout: str, manifest: dict[str, Any], entry: dict[str, Any]) -> str:
    """The relative path of one file under the destination; every part is made path-safe."""
    check_fields(layout, "layout")
    safe = {k: _segment(v) for k, v in _layout_values(manifest, entry).items()}
    rendered = layout.format(**safe)
    parts = [p for p in rendered.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        raise RtcValidationError("layout", "must render to a relative path without '.' or '..'", rendered)
    return "/".join(parts)


def _layout_values(manifest: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    begin = entry.get("begin_ms")
    return {
        "cloud": manifest.get("cloud"),
        "app_id": manifest.get("app_id"),
        "room_id": manifest.get("room_id"),
        "task_id": manifest.get("task_id"),
        "name": entry.get("name"),
        "user_id": entry.get("user_id"),
        "stream_id": entry.get("stream_id"),
        "format": entry.get("format"),
        "date": time.strftime("%Y-%m-%d", time.gmtime(begin / 1000)) if isinstance(begin, int) else None,
    }


def render_url(template: str, manifest: dict[str, Any], entry: dict[str, Any]) -> str:
    """A download URL from ``template`` (the layout's placeholders, values URL-quoted)."""
    from urllib.parse import quote

    check_fields(template, "source_url_template")
    values = {key: quote(str(value), safe="") for key, value in _layout_values(manifest, entry).items()}
    return template.format(**values)


def check_layout(layout: str) -> str:
    """Validate a layout before any copy: known placeholders and ``{name}`` (else files collide)."""
    check_fields(layout, "layout")
    if "{name}" not in layout:
        raise RtcValidationError("layout", "must contain {name} so that every file has its own path", layout)
    render_layout(layout, {}, {"name": "x"})
    return layout


def _segment(value: Any) -> str:
    if value is None or value == "":
        return "_"
    text = _UNSAFE.sub("_", str(value))
    return "_" + text if text in (".", "..") else text


def md5_of(etag: Any) -> str | None:
    """An S3-style ETag is the MD5 of the object only for single-part uploads (no ``-N`` suffix)."""
    text = str(etag or "").strip('"').lower()
    return text if _MD5.match(text) else None


# -- progress ------------------------------------------------------------------------------------


@dataclass
class Progress:
    """Files and bytes done, rate and ETA; logs a line at most every ``interval`` seconds."""

    total_files: int
    total_bytes: int
    interval: float = 10.0
    logger: Any = log
    clock: Callable[[], float] = time.monotonic
    done_files: int = 0
    skipped_files: int = 0
    done_bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _started: float = 0.0
    _last: float = 0.0

    def __post_init__(self) -> None:
        self._started = self._last = self.clock()

    def add_bytes(self, n: int) -> None:
        with self._lock:
            self.done_bytes += n
            due = self.clock() - self._last >= self.interval
        if due:
            self.report()

    def file_done(self, *, skipped_bytes: int | None = None) -> None:
        """One file finished; a skipped file's bytes leave the total (they are not transferred)."""
        with self._lock:
            self.done_files += 1
            if skipped_bytes is not None:
                self.skipped_files += 1
                self.total_bytes = max(self.total_bytes - skipped_bytes, 0)
            due = self.done_files == self.total_files or self.clock() - self._last >= self.interval
        if due:  # at most one line per interval, and the last file's
            self.report()

    def add_files(self, n: int, n_bytes: int = 0) -> None:
        """More files found while copying (the segments of an HLS index)."""
        with self._lock:
            self.total_files += n
            self.total_bytes += n_bytes

    def line(self) -> str:
        with self._lock:
            elapsed = max(self.clock() - self._started, 1e-6)
            rate = self.done_bytes / elapsed
            left = max(self.total_bytes - self.done_bytes, 0)
            eta = f"{left / rate:.0f} s" if rate > 0 and self.total_bytes else "unknown"
            return (
                f"files {self.done_files}/{self.total_files} ({self.skipped_files} already there), "
                f"bytes {human_bytes(self.done_bytes)}/{human_bytes(self.total_bytes)}, "
                f"rate {human_bytes(rate)}/s, ETA {eta}"
            )

    def report(self) -> None:
        with self._lock:
            self._last = self.clock()
        self.logger.info("copy progress: %s", self.line())


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


# -- sources -------------------------------------------------------------------------------------


@dataclass
class _Download:
    chunks: Iterator[bytes]
    length: int | None  # Content-Length of this answer
    start: int  # first byte this answer carries (0, or the offset a 206 confirmed)
    close: Callable[[], None]


def _http_chunks(
    client: httpx.Client, url: str, chunk_size: int, *, offset: int = 0, guard: SourceGuard | None = None
) -> _Download:
    """Open a streaming GET (from ``offset`` with a Range request); the answer says where it starts.
    Every host (the URL's and each redirect's) is checked and pinned by ``guard`` (see ``fetch``)."""
    import httpx

    from airflow_provider_rtc.lake.fetch import SourceGuard, SourceNotResolved, SourceRefused

    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        response = (guard or SourceGuard()).send(client, "GET", url, headers, stream=True)
    except SourceRefused as err:
        raise CopyError(f"source refused: {err}", retryable=False) from None
    except SourceNotResolved as err:
        raise CopyError(f"download failed: {err}", retryable=True) from None
    except httpx.TransportError as err:
        raise CopyError(f"download failed: {type(err).__name__}", retryable=True) from None
    status = response.status_code
    if status >= 400:
        response.close()
        retryable = status >= 500 or status in (408, 429)
        raise CopyError(f"download answered HTTP {status}", retryable=retryable)
    start = 0
    if status == 206:
        match = re.match(r"bytes (\d+)-", response.headers.get("content-range", ""))
        start = int(match.group(1)) if match else -1
        if start != offset:  # not the range asked for: start over
            response.close()
            raise CopyError("the server answered another range than asked", retryable=True)
    length = response.headers.get("content-length")

    def chunks() -> Iterator[bytes]:
        try:
            yield from response.iter_bytes(chunk_size)
        except httpx.TransportError as err:  # cut short, reset, read timeout...
            raise CopyError(
                f"download interrupted: {type(err).__name__}", retryable=True, resumable=True
            ) from None

    size = int(length) if length and length.isdigit() else None
    return _Download(chunks(), size, start, response.close)


def _learn_source_size(job: CopyJob, settings: CopySettings) -> None:
    """The size (and MD5) of a source the manifest gave none for: a bucket object's stat or an
    HTTP HEAD; left unknown when the source does not say (the file is then copied again)."""
    import httpx

    if job.kind == "bucket":
        try:
            info = job.source.stat()
        except OSError:
            return
        job.size = _info_size(info)
        job.md5 = md5_of(_info_get(info, "ETag") or _info_get(info, "etag"))
        return
    if not job.url or settings.http is None:
        return
    from airflow_provider_rtc.lake.fetch import SourceNotResolved, SourceRefused

    try:
        response = settings.guard.send(settings.http, "HEAD", job.url)
        response.close()
    except (httpx.HTTPError, SourceRefused, SourceNotResolved):
        return
    length = response.headers.get("content-length", "")
    if response.status_code == 200 and length.isdigit():
        job.size = int(length)


def _bucket_chunks(source: Any, chunk_size: int) -> Iterator[bytes]:
    try:
        with source.open("rb") as handle:
            while True:
                data = handle.read(chunk_size)
                if not data:
                    return
                yield data
    except FileNotFoundError:
        raise CopyError(f"source object not found: {source}", retryable=False) from None
    except OSError as err:
        raise CopyError(f"reading the source failed: {type(err).__name__}", retryable=True) from None


# -- targets -------------------------------------------------------------------------------------


def target_state(target: Any, *, want_md5: bool) -> tuple[int | None, str | None]:
    """(size, md5) of an existing target, ``(None, None)`` when absent."""
    try:
        info = target.stat()
    except FileNotFoundError:
        return None, None
    size = _info_size(info)
    md5 = md5_of(_info_get(info, "ETag") or _info_get(info, "etag"))
    if md5 is None and want_md5 and is_local(target):
        md5 = _local_md5(target)
    return size, md5


def _info_get(info: Any, key: str) -> Any:
    if isinstance(info, dict):
        return info.get(key)
    return getattr(info, key, None)


def _info_size(info: Any) -> int | None:
    size = _info_get(info, "size")
    if size is None:
        size = _info_get(info, "st_size")
    return None if size is None else int(size)


def _local_md5(target: Any) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with target.open("rb") as handle:
        while block := handle.read(CHUNK_SIZE):
            digest.update(block)
    return digest.hexdigest()


def is_local(path: Any) -> bool:
    protocol = getattr(path, "protocol", "") or ""
    return protocol in ("file", "local", "")


def _remove_quietly(path: Any) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as err:
        log.warning("could not remove the temporary file %s: %s", path, type(err).__name__)


def temporary_name(target: Any) -> Any:
    """A hidden sibling of ``target`` that no reader takes for the finished file."""
    return target.parent / f".{target.name}.{secrets.token_hex(4)}.partial"


# -- one file ------------------------------------------------------------------------------------


def _default_guard() -> SourceGuard:
    from airflow_provider_rtc.lake.fetch import SourceGuard

    return SourceGuard()


@dataclass
class CopySettings:
    chunk_size: int = CHUNK_SIZE
    attempts: int = 3
    retry_delay: float = 1.0
    http: Any = None  # httpx.Client, shared by the workers (thread-safe), follow_redirects=False
    guard: SourceGuard = field(default_factory=lambda: _default_guard())


def copy_file(job: CopyJob, settings: CopySettings, progress: Progress) -> CopyOutcome:
    """Copy one file with skip, verify, retry; never raises for one file's fault (the outcome says
    what happened: a bad name or path fails that file, not the run).

    A download cut short into a local destination is continued with a Range request (the bytes
    already there are a verified prefix); anything else starts over in a fresh temporary file.
    """
    if job.invalid is not None:
        progress.file_done()
        return CopyOutcome(job, "failed", error=job.invalid)
    try:
        return _copy_file(job, settings, progress)
    except (ValueError, TypeError, OSError) as err:  # e.g. a NUL in a path: this file only
        progress.file_done()
        return CopyOutcome(job, "failed", error=f"{type(err).__name__}: {redact_query(str(err))}")


def _copy_file(job: CopyJob, settings: CopySettings, progress: Progress) -> CopyOutcome:
    size, md5 = target_state(job.target, want_md5=job.md5 is not None)
    if size is not None and job.size is None:  # a size to compare with: ask the source
        _learn_source_size(job, settings)
        if job.md5 is not None and md5 is None:
            size, md5 = target_state(job.target, want_md5=True)
    if size is not None and job.size is not None and size == job.size and (job.md5 in (None, md5)):
        progress.file_done(skipped_bytes=size)
        return CopyOutcome(job, "skipped", bytes=size)
    last_error = "no attempt made"
    tmp = temporary_name(job.target)
    resume_from = 0
    for attempt in range(1, settings.attempts + 1):
        try:
            written = _copy_once(job, tmp, settings, progress, offset=resume_from)
            _commit(tmp, job.target, written)
        except CopyError as err:
            last_error = str(err)
            final = not err.retryable or attempt == settings.attempts
            if err.resumable and not final and job.kind != "bucket" and job.md5 is None and is_local(tmp):
                resume_from = err.written
            else:
                progress.add_bytes(-err.written)
                _remove_quietly(tmp)
                tmp, resume_from = temporary_name(job.target), 0
            if final:
                break
            delay = settings.retry_delay * 2 ** (attempt - 1)
            log.warning(
                "%s: attempt %d/%d failed (%s); %s in %.1f s",
                job.name,
                attempt,
                settings.attempts,
                err,
                f"resuming at byte {resume_from}" if resume_from else "retrying",
                delay,
            )
            try:
                time.sleep(delay)
            except BaseException:  # stopped while it waits (a killed task): the kept prefix is litter
                _remove_quietly(tmp)
                raise
            continue
        except BaseException:
            _remove_quietly(tmp)
            raise
        progress.file_done()
        metrics.incr(metrics.COPY_BYTES, written)  # bytes written to the lake (skipped files: none)
        return CopyOutcome(job, "copied", bytes=written, attempts=attempt)
    progress.file_done()
    return CopyOutcome(job, "failed", attempts=attempt, error=last_error)


def _copy_once(job: CopyJob, tmp: Any, settings: CopySettings, progress: Progress, *, offset: int = 0) -> int:
    """Stream the source into ``tmp`` (appending from ``offset`` when the server honours a range);
    returns the bytes in ``tmp``; raises :class:`CopyError` unless every byte arrived."""
    close: Callable[[], None] = lambda: None  # noqa: E731
    expected = job.size
    if job.kind == "bucket":
        if expected is None:  # an HLS segment: the object store says how long it is
            _learn_source_size(job, settings)
            expected = job.size
        _require_length(expected, "the source object's size is unknown")
        chunks: Iterator[bytes] = _bucket_chunks(job.source, settings.chunk_size)
        offset = 0
    else:
        assert job.url is not None
        try:
            download = _http_chunks(
                settings.http, job.url, settings.chunk_size, offset=offset, guard=settings.guard
            )
        except CopyError as err:
            raise _with_written(err, offset) from None
        chunks, close = download.chunks, download.close
        if download.start != offset:  # a 200 to a Range request: the whole file again
            progress.add_bytes(-offset)
            offset = 0
        total = None if download.length is None else download.start + download.length
        if expected is None:
            expected = job.size = total  # kept for a resumed attempt, whose 206 may say less
        if expected is None:
            close()
            _require_length(expected, "the server sent no Content-Length and the manifest no size")
        elif total is not None and total != expected:
            close()
            raise _with_written(
                CopyError(f"the source has {total} bytes, the manifest says {expected}", retryable=False),
                offset,
            )
    digest = hashlib.md5(usedforsecurity=False) if job.md5 else None
    written = offset
    try:
        tmp.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("ab" if offset else "wb") as out:
            for data in chunks:
                out.write(data)
                written += len(data)
                progress.add_bytes(len(data))
                if digest is not None:
                    digest.update(data)
    except CopyError as err:
        raise _with_written(err, written) from None
    except OSError as err:
        raise _with_written(
            CopyError(f"writing {tmp} failed: {type(err).__name__}", retryable=True), written
        ) from None
    finally:
        close()
    if expected is not None and written != expected:
        raise _with_written(
            CopyError(
                f"short copy: {written} of {expected} bytes", retryable=True, resumable=written < expected
            ),
            written,
        )
    stored = _info_size(tmp.stat())
    if stored is not None and stored != written:
        raise _with_written(
            CopyError(f"the destination holds {stored} of {written} bytes", retryable=True), written
        )
    if digest is not None and digest.hexdigest() != job.md5:
        raise _with_written(CopyError("MD5 differs from the source's", retryable=True), written)
    return written


def _require_length(expected: int | None, why: str) -> None:
    """Without a known length a download cut short (a close-delimited body) looks complete:
    such a file is failed rather than committed."""
    if expected is None:
        raise CopyError(
            f"{why}: a download cut short could not be told from a complete one, so it is not copied",
            retryable=False,
        )


def _with_written(err: CopyError, written: int) -> CopyError:
    err.written = written
    return err


def _commit(tmp: Any, target: Any, written: int) -> None:
    """Give the verified temporary file its final name (a rename locally, copy + delete on S3)."""
    try:
        tmp.rename(target)
    except OSError as err:
        raise _with_written(
            CopyError(f"renaming into place failed: {type(err).__name__}", retryable=True), written
        ) from None
