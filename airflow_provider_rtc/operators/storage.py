"""Recordings into the data lake and out of it again: copy a manifest's files to any object store,
delete what is older than the retention period.

``CopyRecordingsOperator`` takes manifests (the sensors' XCom, a literal, or the triggering asset
events of an event-driven DAG) and copies every file to an ``ObjectStoragePath`` destination
(``file://``, ``s3://`` with an Airflow connection - COS, OSS, S3 -, ``gs://``...). It returns the
destination manifests (same shape, destination URIs) and attaches them to its outlets' asset events.

``DeleteExpiredRecordingsOperator`` deletes recordings older than N days from TRTC's VOD, from the
bucket the cloud wrote to and from the lake, with a dry run and guards (see its docstring).
"""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.lake.copy import (
    CHUNK_SIZE,
    DEFAULT_LAYOUT,
    LAYOUT_KEYS,
    CopyJob,
    CopyOutcome,
    CopySettings,
    Progress,
    check_fields,
    check_layout,
    human_bytes,
    md5_of,
    render_layout,
    render_url,
)
from airflow_provider_rtc.lake.paths import (
    check_connection,
    check_uri,
    check_uri_early,
    is_template,
    lineage_dataset,
    load_manifests,
    path_uri,
    storage_path,
)
from airflow_provider_rtc.redaction import redact_client_logs, redact_url

if TYPE_CHECKING:
    from airflow_provider_rtc.hooks.vod import VodHook

__all__ = ["CopyRecordingsOperator", "DeleteExpiredRecordingsOperator"]

SOURCE_CHOICES = ("auto", "url", "vod", "bucket")
DEFAULT_STATUSES = ("uploaded", "backup")
VOD_BATCH = 20
#: a retention period longer than this is a typo (100 years)
MAX_RETENTION_DAYS = 36_500


class CopyRecordingsOperator(BaseOperator):
    """Copy every file of one or more recording manifests to ``destination``; idempotent.

    :param manifest: a manifest dict, a list of them, their JSON, or an upstream ``XComArg``;
        ``None`` (default) takes the manifests of the triggering asset events (``extra["manifest"]``
        or ``extra["manifests"]``), for DAGs scheduled on a recording asset.
    :param destination: where the lake is: a URI (``file:///data/lake``, ``s3://bucket/prefix``...)
        or a local path.
    :param layout: the path of each file under ``destination``; placeholders ``{cloud}``,
        ``{app_id}``, ``{room_id}``, ``{task_id}``, ``{name}``, ``{user_id}``, ``{stream_id}``,
        ``{format}``, ``{date}`` (UTC day the file began). Must contain ``{name}``.
    :param destination_conn_id: Airflow connection of the destination store (e.g. an ``aws``
        connection whose ``endpoint_url`` points at COS). Required for every remote destination
        (``s3://``, ``gs://``...): without it fsspec would use the environment's default credentials
        and endpoint (AWS), so the copy is refused before any transfer.
    :param source: ``auto`` (default: the bucket when ``source_bucket`` is set, else the file's URL,
        else its VOD FileId), or force ``url``, ``vod`` or ``bucket``.
    :param source_bucket: the bucket/prefix the cloud wrote to, e.g. ``s3://rec/{task_id}/`` (the
        same placeholders as ``layout``, without ``{name}``); files are ``<source_bucket>/<name>``.
    :param source_conn_id: Airflow connection for ``source_bucket`` (required when it is remote).
    :param allow_private_sources: fetch file URLs (and their redirects and HLS segments) whose host
        resolves to a loopback, private, link-local or cloud metadata address. Off by default: such
        URLs are refused (SSRF); turn it on for a source on your own network, e.g. the sandbox.
    :param source_url_template: a download URL for files whose manifest entry has none (TRTC COS
        recordings, e.g. ``https://<bucket>.cos.<region>.myqcloud.com/{task_id}/{name}`` or a CDN
        domain in front of it); the placeholders of ``layout``.
    :param tencentcloud_conn_id: connection used to resolve VOD FileIds (DescribeMediaInfos).
    :param statuses: which file statuses to copy (``uploaded`` and ``backup`` by default; a
        ``backup`` file is in the vendor's backup storage and expires, so copying it is urgent).
    :param max_concurrency: files copied at the same time.
    HLS: the ``.ts`` segments of every ``.m3u8`` index (which the manifest does not list) are
    copied next to the copied index, so the lake copy plays; the index's destination entry then
    carries ``segments: [{"name", "url", "size"}]`` (see :mod:`airflow_provider_rtc.lake.hls`).

    :param attempts: tries per file (a short or failed download is retried from the start),
        ``attempt_delay`` seconds apart, doubling.
    """

    template_fields = (
        "manifest",
        "destination",
        "layout",
        "destination_conn_id",
        "source_bucket",
        "source_conn_id",
        "source_url_template",
        "tencentcloud_conn_id",
        "allow_private_sources",
    )
    template_fields_renderers = {"manifest": "json"}
    ui_color = "#e6f4ea"

    def __init__(
        self,
        *,
        destination: str,
        manifest: Any = None,
        layout: str = DEFAULT_LAYOUT,
        destination_conn_id: str | None = None,
        source: str = "auto",
        source_bucket: str | None = None,
        source_conn_id: str | None = None,
        source_url_template: str | None = None,
        tencentcloud_conn_id: str = "tencentcloud_default",
        vod_sub_app_id: int | None = None,
        statuses: tuple[str, ...] | list[str] = DEFAULT_STATUSES,
        max_concurrency: int = 4,
        chunk_size: int = CHUNK_SIZE,
        attempts: int = 3,
        attempt_delay: float = 1.0,
        http_timeout: tuple[float, float] = (10.0, 60.0),
        progress_interval: float = 10.0,
        allow_private_sources: bool | str = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from airflow_provider_rtc import validation as v

        if not isinstance(allow_private_sources, bool) and not is_template(allow_private_sources):
            raise RtcValidationError(
                "allow_private_sources",
                "True or False (or a template rendering to true/false)",
                allow_private_sources,
            )
        if source not in SOURCE_CHOICES:
            raise RtcValidationError("source", f"one of {SOURCE_CHOICES}", source)
        max_concurrency = _whole(max_concurrency, "max_concurrency", 1, 64)
        attempts = _whole(attempts, "attempts", 1, 20)
        chunk_size = _whole(chunk_size, "chunk_size", 4096, 256 * 1024 * 1024)
        attempt_delay = v.number(attempt_delay, "attempt_delay", minimum=0, maximum=3600) or 0.0
        progress_interval = (
            v.number(progress_interval, "progress_interval", minimum=0, exclusive_minimum=True, maximum=86400)
            or 10.0
        )
        http_timeout = _timeout_pair(http_timeout)
        statuses = v.string_list(statuses, "statuses", max_items=3)
        unknown = set(statuses) - {"uploaded", "backup", "failed"}
        if unknown:
            raise RtcValidationError("statuses", "among 'uploaded', 'backup', 'failed'", sorted(unknown))
        vod_sub_app_id = v.integer(vod_sub_app_id, "vod_sub_app_id", minimum=1, optional=True)
        # checked when the DAG is parsed, and again once templates are rendered (execute)
        if not is_template(layout):
            check_layout(layout)
        if source_url_template not in (None, "") and not is_template(source_url_template):
            check_fields(source_url_template, "source_url_template")
        if source_bucket not in (None, "") and not is_template(source_bucket):
            _check_source_bucket(source_bucket)
        check_uri_early(destination, "destination")
        if not is_template(destination_conn_id):
            check_connection(destination, destination_conn_id, "destination", "destination_conn_id")
        if source_bucket and source != "url" and source != "vod" and not is_template(source_conn_id):
            check_connection(source_bucket, source_conn_id, "source_bucket", "source_conn_id")
        for name, conn in (
            ("destination_conn_id", destination_conn_id),
            ("source_conn_id", source_conn_id),
            ("tencentcloud_conn_id", tencentcloud_conn_id),
        ):
            if conn not in (None, "") and not is_template(conn):
                v.conn_id(conn, name)
        self.manifest = manifest
        self.destination = destination
        self.layout = layout
        self.destination_conn_id = destination_conn_id
        self.source = source
        self.source_bucket = source_bucket
        self.source_conn_id = source_conn_id
        self.source_url_template = source_url_template
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.vod_sub_app_id = vod_sub_app_id
        self.statuses = tuple(statuses)
        self.max_concurrency = max_concurrency
        self.chunk_size = chunk_size
        self.attempts = attempts
        self.attempt_delay = attempt_delay
        self.http_timeout = http_timeout
        self.progress_interval = progress_interval
        self.allow_private_sources: Any = allow_private_sources
        self._guard: Any = None
        self._lineage: tuple[list[str], list[str]] = ([], [])
        self._hls_warnings: dict[int, list[str]] = {}

    # -- execute ---------------------------------------------------------------------------------

    def execute(self, context: Any) -> dict[str, Any] | list[dict[str, Any]]:
        manifests, single = load_manifests(self.manifest, context)
        check_layout(self.layout)
        if self.source == "bucket" and not self.source_bucket:
            raise RtcValidationError("source_bucket", "required when source='bucket'")
        if self.source_bucket:
            _check_source_bucket(self.source_bucket)
        if self.source_url_template:
            check_fields(self.source_url_template, "source_url_template")
        from airflow_provider_rtc.hooks.settings import as_bool
        from airflow_provider_rtc.lake.fetch import SourceGuard
        from airflow_provider_rtc.lake.retention import mark_lake_root

        allow_private = bool(as_bool(self.allow_private_sources, "allow_private_sources"))
        self._guard = SourceGuard(allow_private=allow_private)
        check_connection(self.destination, self.destination_conn_id, "destination", "destination_conn_id")
        if self._uses_bucket():
            check_connection(self.source_bucket, self.source_conn_id, "source_bucket", "source_conn_id")
        root = storage_path(
            self.destination,
            self.destination_conn_id or None,
            param="destination",
            conn_param="destination_conn_id",
        )
        jobs = self._plan(manifests, root)
        mark_lake_root(root)
        self._resolve_vod(jobs)
        outcomes = self._copy(jobs)
        results = self._destination_manifests(manifests, outcomes)
        failed = [o for o in outcomes if o.status == "failed"]
        copied = [o for o in outcomes if o.status == "copied"]
        skipped = [o for o in outcomes if o.status == "skipped"]
        n_segments = sum(1 for o in outcomes if o.job.segment_of is not None)
        self.log.info(
            "copy summary: %d file(s) copied (%s), %d already there, %d failed, destination %s%s",
            len(copied),
            human_bytes(sum(o.bytes for o in copied)),
            len(skipped),
            len(failed),
            path_uri(root),
            f" (of these files, {n_segments} are HLS segments)" if n_segments else "",
        )
        if failed:
            detail = "; ".join(f"{o.job.name}: {o.error}" for o in failed[:5])
            raise AirflowException(
                f"{len(failed)} of {len(outcomes)} file(s) could not be copied ({detail}); "
                "files already copied are kept and a re-run copies only the rest"
            )
        self._lineage = (
            [o.job.describe_source() for o in outcomes],
            [path_uri(o.job.target) for o in outcomes],
        )
        self._emit(context, results, single)
        return results[0] if single else results

    def _plan(self, manifests: list[dict[str, Any]], root: Any) -> list[CopyJob]:
        jobs: list[CopyJob] = []
        seen: dict[str, str] = {}
        for m_index, manifest in enumerate(manifests):
            bucket = self._bucket_root(manifest)
            for f_index, entry in enumerate(manifest.get("files") or []):
                if entry.get("status") not in self.statuses:
                    continue
                rel = render_layout(self.layout, manifest, entry)
                where = f"{manifest.get('task_id')}/{entry.get('name')}"
                if rel in seen and seen[rel] != where:
                    raise RtcValidationError(
                        "layout", f"{seen[rel]} and {where} would both be written to {rel}", self.layout
                    )
                seen[rel] = where
                jobs.append(self._job(m_index, f_index, manifest, entry, root / rel, bucket))
        return jobs

    def _uses_bucket(self) -> bool:
        return bool(self.source_bucket) and self.source not in ("url", "vod")

    def _bucket_root(self, manifest: dict[str, Any]) -> Any:
        """The task's folder in the bucket the cloud wrote to, rendered by the layout's rules."""
        if not self._uses_bucket():
            return None
        import os

        scheme, sep, rest = str(self.source_bucket).partition("://")
        if not sep:  # a local path
            scheme, rest = "file", os.path.abspath(scheme)
        prefix = render_layout(rest + "/{name}", manifest, {"name": "x"})[: -len("/x")]
        local = scheme.lower() in ("file", "local")
        uri = f"{scheme}://{'/' if local else ''}{prefix}"  # a local root keeps its leading slash
        return storage_path(
            uri, self.source_conn_id or None, param="source_bucket", conn_param="source_conn_id"
        )

    def _job(
        self,
        m_index: int,
        f_index: int,
        manifest: dict[str, Any],
        entry: dict[str, Any],
        target: Any,
        bucket: Any,
    ) -> CopyJob:
        size = entry.get("size") if isinstance(entry.get("size"), int) else None
        job = CopyJob(m_index, f_index, entry, "url", target, size=size)
        name = str(entry.get("name") or "")
        if bucket is not None:
            # contained exactly like the destination: the name is one path segment under the task's
            # prefix ('../other/x.mp4' and '/etc/hostname' cannot leave it)
            job.kind, job.source = "bucket", bucket / render_layout("{name}", manifest, entry)
            try:
                info = job.source.stat()
            except FileNotFoundError:
                raise AirflowException(f"{name} is not in the source bucket ({job.source})") from None
            stored = info.get("size") if isinstance(info, dict) else None
            job.size = int(stored) if stored is not None else job.size
            job.md5 = md5_of(info.get("ETag") if isinstance(info, dict) else None)
        elif entry.get("url") and self.source in ("auto", "url"):
            job.url = self._checked_url(entry["url"], "manifest")
        elif self.source_url_template and self.source in ("auto", "url"):
            job.url = self._checked_url(
                render_url(self.source_url_template, manifest, entry), "source_url_template"
            )
        elif entry.get("file_id") and self.source in ("auto", "vod"):
            job.kind = "vod"
        else:
            raise RtcValidationError(
                "source",
                f"file {name} of task {manifest.get('task_id')} has no URL, no VOD FileId "
                "and no source_bucket is set",
                self.source,
            )
        return job

    def _checked_url(self, url: Any, param: str) -> str:
        """An http(s) URL whose host is not private (unless allowed), before anything is fetched;
        a host that does not resolve now is left to the copy (DNS may recover: it retries)."""
        from airflow_provider_rtc.lake.fetch import SourceGuard, SourceNotResolved, SourceRefused

        text = _http_url(url, param)
        guard = self._guard or SourceGuard()
        try:
            guard.address(text)
        except SourceRefused as err:
            raise RtcValidationError(param, f"a URL this worker may fetch: {err}", redact_url(text)) from None
        except SourceNotResolved:
            pass
        return text

    def _resolve_vod(self, jobs: list[CopyJob]) -> None:
        """VOD FileId -> MediaUrl (and size) with DescribeMediaInfos, 20 ids per call."""
        pending = [j for j in jobs if j.kind == "vod"]
        if not pending:
            return
        hook = self._vod_hook()
        for start in range(0, len(pending), VOD_BATCH):
            batch = pending[start : start + VOD_BATCH]
            reply = hook.describe_media_infos(
                [str(j.entry["file_id"]) for j in batch],
                filters=["basicInfo", "metaData"],
                sub_app_id=self.vod_sub_app_id,
            )
            infos = {str(i.get("FileId")): i for i in reply.get("MediaInfoSet") or []}
            for job in batch:
                info = infos.get(str(job.entry["file_id"]))
                basic = (info or {}).get("BasicInfo") or {}
                url = basic.get("MediaUrl")
                if not url:
                    raise AirflowException(
                        f"VOD media {job.entry['file_id']} ({job.name}) does not exist (or has no URL)"
                    )
                job.url = str(url)
                size = ((info or {}).get("MetaData") or {}).get("Size")
                # HLS: "大小是 m3u8 和 ts 文件大小的总和" (vod MediaMetaData), not the playlist's bytes
                hls = "m3u8" in (str(basic.get("Type")).lower(), job.url.split("?")[0][-4:].lower())
                if job.size is None and isinstance(size, int) and size > 0 and not hls:
                    job.size = size

    def _vod_hook(self) -> VodHook:
        from airflow_provider_rtc.hooks.vod import VodHook

        return VodHook(self.tencentcloud_conn_id)

    def _copy(self, jobs: list[CopyJob]) -> list[CopyOutcome]:
        import httpx

        from airflow_provider_rtc.lake.copy import copy_file
        from airflow_provider_rtc.lake.fetch import SourceGuard
        from airflow_provider_rtc.lake.hls import MAX_DEPTH

        redact_client_logs()  # httpx logs every request URL at INFO: presigned ones are redacted
        progress = Progress(
            total_files=len(jobs),
            total_bytes=sum(j.size or 0 for j in jobs),
            interval=self.progress_interval,
            logger=self.log,
        )
        connect, read = self.http_timeout
        timeout = httpx.Timeout(read, connect=connect)
        limits = httpx.Limits(max_connections=self.max_concurrency)
        self._hls_warnings = {}
        guard = self._guard or SourceGuard()
        # redirects are followed by the guard, which checks every target before connecting
        with httpx.Client(timeout=timeout, limits=limits, follow_redirects=False) as http:
            settings = CopySettings(self.chunk_size, self.attempts, self.attempt_delay, http, guard)
            with ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="rtc-copy") as pool:
                outcomes = list(pool.map(lambda job: copy_file(job, settings, progress), jobs))
                claimed = {str(j.target): j.describe_source() for j in jobs}
                batch = outcomes
                for _ in range(MAX_DEPTH):  # a master playlist's variants, then their segments
                    segments, clashes = self._hls_segments(batch, progress, claimed)
                    batch = [*pool.map(lambda job: copy_file(job, settings, progress), segments), *clashes]
                    outcomes += batch
                    if not segments:
                        break
                self._deeper_playlists(batch)
        for outcome in outcomes:
            if outcome.status == "failed":
                self.log.error(
                    "%s: not copied after %d attempt(s): %s",
                    outcome.job.name,
                    outcome.attempts,
                    outcome.error,
                )
        return outcomes

    def _hls_segments(
        self, outcomes: list[CopyOutcome], progress: Progress, claimed: dict[str, str]
    ) -> tuple[list[CopyJob], list[CopyOutcome]]:
        """The entries of every HLS playlist now in the lake, read from its copied text, and the
        entries refused because another file with another source already has their path.

        Playlists are never rewritten, so two playlists in one folder naming the same segment from
        different sources cannot both play: the second one's segment fails loudly (a layout with
        ``{task_id}`` gives every recording its own folder). The same source is copied once."""
        from airflow_provider_rtc.lake.hls import is_index, segment_jobs

        found: list[CopyJob] = []
        clashes: list[CopyOutcome] = []
        indexes = [o for o in outcomes if o.status != "failed" and is_index(o.job.entry)]
        for outcome in indexes:
            jobs, warnings = segment_jobs(outcome)
            self._hls_warnings.setdefault(outcome.job.manifest_index, []).extend(warnings)
            for job in jobs:
                if job.invalid is not None:
                    found.append(job)
                    continue
                key, source = str(job.target), job.describe_source()
                owner = claimed.get(key)
                if owner is None:
                    claimed[key] = source
                    found.append(job)
                    continue
                if owner == source:  # two playlists sharing one segment: copied once
                    continue
                clashes.append(
                    CopyOutcome(
                        job,
                        "failed",
                        error=f"segment of {job.segment_of}: {path_uri(job.target)} is already the copy "
                        f"of {owner}, not of {source}; playlists are not rewritten, so give each "
                        "recording its own folder (a layout with {task_id})",
                    )
                )
        if found or clashes:
            progress.add_files(len(found) + len(clashes))
            progress.done_files += len(clashes)
            self.log.info("HLS: %d segment(s) in %d playlist(s) to copy", len(found), len(indexes))
        return found, clashes

    def _deeper_playlists(self, outcomes: list[CopyOutcome]) -> None:
        """Playlists nested deeper than :data:`~airflow_provider_rtc.lake.hls.MAX_DEPTH`
        are copied but not followed: the manifest says so."""
        from airflow_provider_rtc.lake.hls import MAX_DEPTH, is_index

        for o in outcomes:
            if o.status != "failed" and o.job.depth >= MAX_DEPTH and is_index(o.job.entry):
                self._hls_warnings.setdefault(o.job.manifest_index, []).append(
                    f"{o.job.name}: a playlist nested deeper than {MAX_DEPTH} levels; its entries "
                    "were not copied"
                )

    def _destination_manifests(
        self, manifests: list[dict[str, Any]], outcomes: list[CopyOutcome]
    ) -> list[dict[str, Any]]:
        results = copy.deepcopy(manifests)
        done = {(o.job.manifest_index, o.job.file_index): o for o in outcomes if o.job.segment_of is None}
        segments: dict[tuple[int, int], list[dict[str, Any]]] = {}
        for o in outcomes:
            if o.job.segment_of is not None:
                segments.setdefault((o.job.manifest_index, o.job.file_index), []).append(
                    {
                        "name": o.job.name,
                        "url": path_uri(o.job.target) if o.status != "failed" else None,
                        "size": o.bytes if o.status != "failed" else None,
                    }
                )
        for m_index, manifest in enumerate(results):
            if self._hls_warnings.get(m_index):
                manifest.setdefault("warnings", []).extend(self._hls_warnings[m_index])
            for f_index, entry in enumerate(manifest.get("files") or []):
                outcome = done.get((m_index, f_index))
                if outcome is not None and outcome.status != "failed":
                    entry["url"] = path_uri(outcome.job.target)
                    entry["size"] = outcome.bytes
                    if (m_index, f_index) in segments:  # an HLS index: its segments, in order
                        entry["segments"] = segments[(m_index, f_index)]
                else:
                    entry["url"] = None
                    manifest.setdefault("warnings", []).append(
                        f"{entry.get('name')} was not copied (status {entry.get('status')})"
                    )
        return results

    def _emit(self, context: Any, results: list[dict[str, Any]], single: bool) -> None:
        outlets = list(getattr(self, "outlets", None) or [])
        if not outlets or not context or "outlet_events" not in context:
            return
        from airflow.providers.common.compat.sdk import AssetAlias

        extra = {"manifest": results[0]} if single else {"manifests": results}
        for outlet in outlets:
            if isinstance(outlet, AssetAlias):
                self.log.warning(
                    "outlet %r is an AssetAlias: the manifest goes to Asset outlets only", outlet
                )
                continue
            context["outlet_events"][outlet].extra = extra

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The recordings' sources as inputs and their lake copies as outputs (OpenLineage)."""
        from airflow.providers.common.compat.openlineage.facet import Dataset
        from airflow.providers.openlineage.extractors import OperatorLineage

        inputs, outputs = self._lineage
        return OperatorLineage(
            inputs=[Dataset(*lineage_dataset(uri)) for uri in inputs],
            outputs=[Dataset(*lineage_dataset(uri)) for uri in outputs],
        )


def _whole(value: Any, param: str, low: int, high: int) -> int:
    from airflow_provider_rtc import validation as v

    result = v.integer(value, param, minimum=low, maximum=high)
    assert result is not None
    return result


def _timeout_pair(value: Any) -> tuple[float, float]:
    """``http_timeout``: (connect, read) seconds, or one number for both; finite and > 0."""
    from airflow_provider_rtc import validation as v

    pair = list(value) if isinstance(value, list | tuple) else [value, value]
    if len(pair) != 2:
        raise RtcValidationError("http_timeout", "(connect, read) seconds or one number", value)
    checked = [
        v.number(t, "http_timeout", minimum=0, exclusive_minimum=True, maximum=3600) or 0.0 for t in pair
    ]
    return checked[0], checked[1]


def _check_source_bucket(uri: str) -> None:
    """A bucket prefix (the layout's placeholders except ``{name}``: files are ``<prefix>/<name>``)."""
    check_uri(uri, "source_bucket")
    check_fields(uri, "source_bucket", allowed=tuple(k for k in LAYOUT_KEYS if k != "name"))


def _http_url(url: Any, param: str) -> str:
    """Recording files are downloaded over HTTP(S) only (never ``file://`` or another scheme)."""
    from urllib.parse import urlsplit

    from airflow_provider_rtc import validation as v

    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or v.has_control_char(text):
        raise RtcValidationError(param, "file URLs must be http(s)://host/path", redact_url(text))
    return text


class DeleteExpiredRecordingsOperator(BaseOperator):
    """Delete recordings older than ``older_than_days`` where they live; returns a report.

    Places (any combination, at least one): TRTC's VOD (``vod=True``: media created before the
    cutoff whose source type is in ``vod_source_types``, default ``["TrtcRecord"]``, VOD's label of
    TRTC cloud recordings (``Record`` is Tencent Live recording); ``None`` takes every media of the
    VOD application. With the default, ``sdk_app_id`` (else the connection's ``sdk_app_id`` extra)
    limits it to that TRTC application's recordings. Filters go to SearchMedia and are checked again
    on each media; deleted with DeleteMedia at its documented 100 calls/s. ``vod_sub_app_id`` (else
    the connection extra ``vod_sub_app_id``) is the VOD application, required for VOD accounts
    opened since 2023-12-25), the bucket the
    cloud wrote to (``bucket``: objects under that prefix modified before the cutoff) and the lake
    (``destination``: copies under that prefix, aged by modification time).

    Guards: the cutoff is at least one day back; a prefix must not be a bucket's or file system's
    root; every candidate is checked again right before its delete (older than the cutoff, under its
    prefix) and a violation stops the run; ``max_deletes`` refuses a run that would delete more.
    ``dry_run=True`` lists what would be deleted and deletes nothing. Already gone counts as deleted.

    Audit: every delete (DeleteMedia, an object's delete) writes one line to the task's audit trail
    as its answer is read, origin ``retention`` (``done``, ``already_gone``, ``failed``; a dry run
    ``planned``); ``audit_path`` as on the cleanup operators (docs/how-to/audit.md), and the DAG's
    ``rtc-audit://<dag_id>/`` outlet. A run stops at its first failed delete (any error but
    not-found): the error says how many were deleted before it, which one failed (code, request id)
    and how many were not attempted; a re-run deletes what is left. Stopping, rather than pressing
    on, because what makes one delete fail (credentials, permissions, a failing service) fails the
    next ones too (:mod:`airflow_provider_rtc.cleanup.expired`).

    The report (XCom)::

        {"cutoff": "...", "dry_run": false, "deleted": [{"where", "ref", "name", "created", "size"}],
         "counts": {"vod": 2, "bucket": 0, "destination": 5}, "bytes": 12345, "already_gone": 1}

    ``already_gone``: of those deleted, how many were gone when their delete was made (0 in a dry run).
    """

    template_fields = (
        "older_than_days",
        "bucket",
        "bucket_conn_id",
        "destination",
        "destination_conn_id",
        "tencentcloud_conn_id",
        "dry_run_only",
        "vod_sub_app_id",
        "sdk_app_id",
    )
    ui_color = "#fde8e8"
    #: the ``origin`` of this operator's audit lines
    audit_origin: str | None = "retention"

    def __init__(
        self,
        *,
        older_than_days: int | str,
        vod: bool = False,
        tencentcloud_conn_id: str = "tencentcloud_default",
        vod_sub_app_id: int | str | None = None,
        vod_source_types: tuple[str, ...] | list[str] | None = ("TrtcRecord",),
        sdk_app_id: int | str | None = None,
        bucket: str | None = None,
        bucket_conn_id: str | None = None,
        destination: str | None = None,
        destination_conn_id: str | None = None,
        dry_run: bool = False,
        max_deletes: int | None = None,
        audit_path: str | bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from airflow_provider_rtc import audit
        from airflow_provider_rtc import validation as v

        vod = v.flag(vod, "vod")  # not templated: "false" is a mistake, not False
        if not (vod or bucket or destination):
            raise RtcValidationError("vod", "nothing to clean: set vod=True, bucket= or destination=")
        max_deletes = v.integer(max_deletes, "max_deletes", minimum=0, optional=True)
        # templated values are checked here unless a template gives them, and again in execute
        if not is_template(older_than_days):
            v.positive_int(older_than_days, "older_than_days", maximum=MAX_RETENTION_DAYS)
        if not isinstance(dry_run, bool) and not is_template(dry_run):
            raise RtcValidationError(
                "dry_run", "must be True or False (or a template rendering to true/false)", dry_run
            )
        check_uri_early(bucket, "bucket", optional=True)
        check_uri_early(destination, "destination", optional=True)
        if vod_source_types is not None:
            vod_source_types = v.string_list(vod_source_types, "vod_source_types", max_items=32, max_bytes=64)
        for name, value in (("vod_sub_app_id", vod_sub_app_id), ("sdk_app_id", sdk_app_id)):
            if not is_template(value):
                v.integer(value, name, minimum=1, optional=True)
        if vod and not is_template(tencentcloud_conn_id):
            v.conn_id(tencentcloud_conn_id, "tencentcloud_conn_id")
        self.older_than_days = older_than_days
        self.vod = vod
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.vod_sub_app_id = vod_sub_app_id
        self.vod_source_types = None if vod_source_types is None else tuple(vod_source_types)
        self.sdk_app_id = sdk_app_id
        self.bucket = bucket
        self.bucket_conn_id = bucket_conn_id
        self.destination = destination
        self.destination_conn_id = destination_conn_id
        # BaseOperator.dry_run is a method: the flag lives under another name (templated)
        self.dry_run_only: Any = dry_run
        self.max_deletes = max_deletes
        #: where the audit trail goes (None: ``[rtc] audit_path``; False or "": none): docs/how-to/audit.md
        self.audit_path = audit_path
        audit.add_outlet(self)

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_rtc import audit

        with audit.task_trail(self, context):
            return self._expire()

    def _expire(self) -> dict[str, Any]:
        from airflow_provider_rtc import audit
        from airflow_provider_rtc.cleanup import expired
        from airflow_provider_rtc.hooks.settings import as_bool
        from airflow_provider_rtc.lake import retention
        from airflow_provider_rtc.validation import positive_int

        days = positive_int(self.older_than_days, "older_than_days", maximum=MAX_RETENTION_DAYS)
        dry_run = bool(as_bool(self.dry_run_only, "dry_run"))
        before = retention.cutoff(days)
        roots: dict[str, Any] = {}
        for where, uri, conn_id in (
            ("bucket", self.bucket, self.bucket_conn_id or None),
            ("destination", self.destination, self.destination_conn_id or None),
        ):
            if uri:
                roots[where] = storage_path(uri, conn_id, param=where, conn_param=f"{where}_conn_id")
                retention.check_root(roots[where], where)
        self.log.info("retention: deleting recordings created before %s (%d days)", before, days)
        candidates: list[retention.Candidate] = []
        hook = None
        sub_app: int | None = None
        if self.vod:
            from airflow_provider_rtc.hooks.vod import VodHook
            from airflow_provider_rtc.validation import integer

            self.vod_sub_app_id = integer(self.vod_sub_app_id, "vod_sub_app_id", minimum=1, optional=True)
            hook = VodHook(self.tencentcloud_conn_id)
            sub_app = hook.sub_app_id_of(self.vod_sub_app_id)
            app = integer(self.sdk_app_id, "sdk_app_id", minimum=1, optional=True)
            candidates += retention.vod_candidates(
                hook,
                before,
                source_types=self.vod_source_types,
                sub_app_id=self.vod_sub_app_id,
                sdk_app_id=app if app is not None else hook.settings.sdk_app_id,
            )
        for where, root in roots.items():
            candidates += retention.object_candidates(root, before, where)  # type: ignore[arg-type]
        for candidate in candidates:
            retention.guard(candidate, before, roots.get(candidate.where))
        if self.max_deletes is not None and len(candidates) > self.max_deletes:
            raise RtcValidationError(
                "max_deletes",
                f"{len(candidates)} recordings would be deleted, more than allowed",
                self.max_deletes,
            )
        places = expired.Places(
            vod_app=expired.DEFAULT_VOD_APP if sub_app is None else str(sub_app),
            vod_sub_app_id=sub_app,
            vod_conn_id=self.tencentcloud_conn_id if hook else None,
            roots=roots,
            conn_ids={"bucket": self.bucket_conn_id or None, "destination": self.destination_conn_id or None},
        )
        if dry_run:
            for candidate in candidates:
                self.log.info(
                    "would delete %s %s (created %s)", candidate.where, candidate.ref, candidate.created
                )
            audit.record_planned(expired.planned(candidates, places), origin=expired.ORIGIN)
            results: list[dict[str, Any]] = []
        else:
            results = expired.delete_all(candidates, places, hook, log=self.log)
        counts = {
            where: sum(1 for c in candidates if c.where == where)
            for where in ("vod", "bucket", "destination")
        }
        report: dict[str, Any] = {
            "cutoff": before.to_iso8601_string(),
            "dry_run": dry_run,
            "deleted": [c.to_dict() for c in candidates],
            "counts": counts,
            "bytes": sum(c.size or 0 for c in candidates),
            "already_gone": sum(1 for r in results if r["status"] == "already_gone"),
        }
        self.log.info(
            "retention %s: %d recording(s), %s (vod %d, bucket %d, destination %d)",
            "dry run would delete" if dry_run else "deleted",
            len(candidates),
            human_bytes(report["bytes"]),
            counts["vod"],
            counts["bucket"],
            counts["destination"],
        )
        return report
