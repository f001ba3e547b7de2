"""Where manifests come from and how lake paths are named: manifests from XCom or asset events,
``ObjectStoragePath``s from URIs and connections, URIs for manifests and lineage."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from airflow_provider_rtc.exceptions import RtcValidationError

#: what a user installs for s3:// destinations and sources (COS, OSS, S3, MinIO...)
EXTRA_HINT = {
    "s3": "pip install 'airflow-provider-rtc[s3]' (apache-airflow-providers-amazon and s3fs)",
    "gs": "pip install apache-airflow-providers-google gcsfs",
    "gcs": "pip install apache-airflow-providers-google gcsfs",
    "abfs": "pip install apache-airflow-providers-microsoft-azure adlfs",
}


def load_manifests(value: Any, context: Any) -> tuple[list[dict[str, Any]], bool]:
    """The manifests to work on and whether a single one was given (the result then is one too).

    ``value`` is a manifest, a list of manifests, their JSON text, or ``None`` for the manifests of
    the triggering asset events (``extra["manifest"]`` or ``extra["manifests"]``, or the same keys
    in ``extra["payload"]`` for events an ``AssetWatcher``'s trigger emitted).
    """
    if value is None:
        return _from_asset_events(context), False
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise RtcValidationError("manifest", "a manifest dict, a list of them, or their JSON") from None
    if isinstance(value, dict):
        return [_check(value)], True
    if isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray):
        # a list, or the results of a mapped upstream (Airflow's lazy XCom sequence): one manifest
        # per mapped task, or a list of them from each
        items = [m for v in value for m in (v if isinstance(v, list | tuple) else [v])]
        return [_check(m) for m in items], False
    raise RtcValidationError(
        "manifest", "a manifest dict, a list of them, or their JSON", type(value).__name__
    )


def _from_asset_events(context: Any) -> list[dict[str, Any]]:
    events = (context or {}).get("triggering_asset_events") or {}
    manifests: list[dict[str, Any]] = []
    seen: set[str] = set()
    for asset_events in events.values():
        for event in asset_events:
            extra = getattr(event, "extra", None) or {}
            if isinstance(extra.get("payload"), dict):  # events from a watcher's trigger
                extra = extra["payload"]
            found = extra.get("manifests") or ([extra["manifest"]] if extra.get("manifest") else [])
            for manifest in found:
                key = json.dumps([manifest.get("cloud"), manifest.get("app_id"), manifest.get("task_id")])
                if key not in seen:  # the same recording seen through two assets is copied once
                    seen.add(key)
                    manifests.append(_check(manifest))
    if not events:
        raise RtcValidationError(
            "manifest", "give a manifest, or schedule the DAG on an asset whose events carry manifests"
        )
    return manifests


def _check(manifest: Any) -> dict[str, Any]:
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise RtcValidationError("manifest", "a recording manifest: a dict with a 'files' list")
    for entry in manifest["files"]:
        if not isinstance(entry, dict) or not entry.get("name"):
            raise RtcValidationError("manifest", "every file needs a 'name'")
        size = entry.get("size")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise RtcValidationError(
                "manifest", f"{entry['name']}: 'size' must be bytes (an integer >= 0)", size
            )
    return manifest


#: object stores a lake or a recording bucket may be on (``ObjectStoragePath``'s fsspec schemes)
STORE_SCHEMES = frozenset(
    {
        "file",
        "local",
        "s3",
        "s3a",
        "gs",
        "gcs",
        "abfs",
        "abfss",
        "az",
        "adl",
        "oss",
        "hdfs",
        "webhdfs",
        "memory",
    }
)
_URI_RULE = "a URI such as file:///data/lake or s3://bucket/prefix, or a local path"


def is_template(value: Any) -> bool:
    """A Jinja template not rendered yet (checked again once Airflow renders it)."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def check_uri(value: Any, param: str) -> str:
    """A lake or bucket URI: an object-store scheme, no user info (credentials belong in the
    connection), no query or fragment, no control characters, not a missing value rendered as text."""
    from airflow_provider_rtc import validation as v

    if not isinstance(value, str) or not value.strip():
        raise RtcValidationError(param, _URI_RULE, value if isinstance(value, str) else None)
    if value.strip().lower() in ("none", "null") or value != value.strip() or v.has_control_char(value):
        raise RtcValidationError(param, f"{_URI_RULE}; got a missing value or control characters", value)
    if "?" in value or "#" in value:
        raise RtcValidationError(param, f"{_URI_RULE}; no query or fragment", value)
    if "://" in value:
        scheme, rest = value.split("://", 1)
        if scheme.lower() not in STORE_SCHEMES:
            raise RtcValidationError(param, f"{_URI_RULE}; scheme one of {sorted(STORE_SCHEMES)}", value)
        if "@" in rest.split("/", 1)[0]:
            raise RtcValidationError(param, f"{_URI_RULE}; no user info (use a connection)")
    return value


def check_uri_early(value: Any, param: str, *, optional: bool = False) -> None:
    """:func:`check_uri` when the operator is built, unless a template will give the value."""
    if optional and value in (None, ""):
        return
    if not is_template(value) and not _is_path_object(value):
        check_uri(value, param)


def _is_path_object(value: Any) -> bool:
    return hasattr(value, "fs") and hasattr(value, "protocol")


#: schemes on this machine: every other store is remote and needs an explicit connection
LOCAL_SCHEMES = frozenset({"file", "local", "memory"})


def is_remote(uri: Any) -> bool:
    """A URI on a remote object store (``s3://``, ``gs://``...); a plain path is local."""
    return isinstance(uri, str) and "://" in uri and uri.split("://", 1)[0].lower() not in LOCAL_SCHEMES


def check_connection(uri: Any, conn_id: Any, param: str, conn_param: str) -> None:
    """A remote store without a connection is refused: fsspec would otherwise use whatever
    credentials and endpoint the environment has (``s3://lake`` going to AWS with the worker's
    instance role instead of the COS the user meant), ignoring every Airflow connection."""
    if is_remote(uri) and not is_template(uri) and conn_id in (None, ""):
        scheme = str(uri).split("://", 1)[0].lower()
        example = (
            " (an 'aws' connection whose endpoint_url is your COS, OSS, MinIO or S3 endpoint)"
            if scheme in ("s3", "s3a")
            else ""
        )
        raise RtcValidationError(
            conn_param,
            f"an Airflow connection for {param}={scheme}://...{example}; "
            "the environment's default credentials and endpoint are never used",
            None,
        )


def storage_path(uri: str, conn_id: str | None, *, param: str, conn_param: str | None = None) -> Any:
    """An ``ObjectStoragePath`` for ``uri`` (a plain path means the local file system); with
    ``conn_param``, a remote ``uri`` without ``conn_id`` is refused (:func:`check_connection`)."""
    check_uri(uri, param)
    if conn_param is not None:
        check_connection(uri, conn_id, param, conn_param)
    if "://" not in uri:
        uri = "file://" + os.path.abspath(uri)
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    scheme = uri.split("://", 1)[0].lower()
    try:
        path = ObjectStoragePath(uri, conn_id=conn_id)
        path.fs  # noqa: B018 - resolves the filesystem now, so a missing package fails here
    except (ImportError, ValueError) as err:
        hint = EXTRA_HINT.get(scheme, "install the fsspec filesystem for this scheme")
        raise RtcValidationError(param, f"no filesystem for {scheme}:// ({err}); {hint}", uri) from None
    return path


def path_uri(path: Any) -> str:
    """A URI for manifests and logs, without the connection id some paths carry in their string."""
    protocol = getattr(path, "protocol", "") or "file"
    if protocol in ("file", "local"):
        return f"file://{path.path}"
    return f"{protocol}://{path.path}"


def lineage_dataset(uri: str) -> tuple[str, str]:
    """(namespace, name) of an OpenLineage dataset: ``scheme://authority`` and the path."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return "file", uri
    if scheme in ("file", "local"):
        return "file", rest
    authority, _, name = rest.partition("/")
    return f"{scheme}://{authority}", name or "/"
