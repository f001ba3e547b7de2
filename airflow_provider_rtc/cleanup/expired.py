"""The retention run's deletes (``DeleteExpiredRecordingsOperator``) in the one result shape
(:mod:`.result`), each written to the task's audit trail as its answer is read.

:mod:`airflow_provider_rtc.lake.retention` lists and guards the candidates; here each becomes a typed
identity and one call. Neither place is a TRTC/Live/ZEGO resource, so their identity is decided here:

* a VOD media is ``ResourceRef("vod", <SubAppId>, "media", <FileId>)``: DeleteMedia names exactly a
  FileId within a VOD application (``SubAppId``; ``"default"`` when none is sent: the account's
  default application). The catalog (``catalog/vod.py`` DELETE_MEDIA) names no kind; ``media``, not
  ``recordings``, because a recording ref is keyed by its TRTC TaskId, another id space. A
  ``TrtcRecord`` media's SdkAppId/RoomId say which TRTC app recorded it, not where it lives, so they
  are not part of the identity. Its lines say cloud ``vod`` and the operator's ``tencentcloud_conn_id``.
* a bucket or lake object is ``ResourceRef("lake", <prefix URI>, "objects", <object URI>)``: the
  URI as ``path_uri`` gives it (``s3://bucket/key``, ``file:///path``), without user info or query
  (:func:`~airflow_provider_rtc.redaction.redact_url`; credentials live in the connection, which a
  line names only by id). The configured prefix stands for the application: it is what the run was
  told to clean, and it tells the cloud's bucket from the lake. The action is ``DeleteObject`` (S3's
  name for it; a local unlink is the same act), the product ``Recording bucket``/``Recordings lake``.

A run stops at its first failed delete (any error but not-found): the usual causes (credentials,
permissions, a throttled or failing service) would fail every delete after it too, and a retention
run has no deadline that makes pressing on worth it. The error says how many were deleted before it
and which one failed; a re-run lists again and deletes what is left (already gone counts as deleted).
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_rtc import audit
from airflow_provider_rtc.cleanup.result import label_of, outcome, run_call
from airflow_provider_rtc.exceptions import RtcApiError, RtcNotFoundError
from airflow_provider_rtc.identity import ResourceRef
from airflow_provider_rtc.lake.retention import Candidate
from airflow_provider_rtc.redaction import redact_query, redact_url

#: the audit lines' ``origin``
ORIGIN = "retention"
DELETE_MEDIA, DELETE_OBJECT = "DeleteMedia", "DeleteObject"
#: a VOD call without ``SubAppId`` acts in the account's default application
DEFAULT_VOD_APP = "default"
PRODUCTS = {"vod": "Tencent Cloud VOD", "bucket": "Recording bucket", "destination": "Recordings lake"}


@dataclass(frozen=True)
class Places:
    """Where a run deletes: the VOD application (and connection), the object roots and theirs."""

    vod_app: str = DEFAULT_VOD_APP
    vod_sub_app_id: int | None = None
    vod_conn_id: str | None = None
    roots: dict[str, Any] = field(default_factory=dict)
    conn_ids: dict[str, str | None] = field(default_factory=dict)


def ref_of(candidate: Candidate, places: Places) -> ResourceRef:
    if candidate.where == "vod":
        return ResourceRef("vod", places.vod_app, "media", candidate.ref)
    from airflow_provider_rtc.lake.paths import path_uri

    root = places.roots.get(candidate.where)
    app = redact_url(path_uri(root)) if root is not None else candidate.where
    return ResourceRef("lake", app, "objects", redact_url(candidate.ref))


def identity_of(candidate: Candidate, places: Places) -> dict[str, Any]:
    """The part of a result known before the call (:func:`.result.identity`'s keys), plus the
    connection of that place (``conn_id``, which the audit line prefers to the task's per cloud)."""
    ref = ref_of(candidate, places)
    vod = candidate.where == "vod"
    return {
        "cloud": ref.cloud,
        "product": PRODUCTS[candidate.where],
        "action": DELETE_MEDIA if vod else DELETE_OBJECT,
        "kind": ref.kind,
        "ids": {"file_id": ref.id, "sub_app_id": places.vod_sub_app_id} if vod else {"uri": ref.id},
        "ref": ref.as_dict(),
        "refs": [ref.as_dict()],
        "label": label_of([ref]),
        "conn_id": places.vod_conn_id if vod else places.conn_ids.get(candidate.where),
    }


def planned(candidates: list[Candidate], places: Places) -> list[dict[str, Any]]:
    """A dry run's targets (no call: ``not_started``), for ``planned`` lines."""
    return [{**identity_of(c, places), **outcome("not_started")} for c in candidates]


def _store_error(err: BaseException, local: bool) -> tuple[str, str | None, bool]:
    """(code, request id, may have run) of a failed object delete: S3's error code and request id
    when the store answered (s3fs keeps botocore's ``ClientError`` as the cause), else the errno
    name (``EISDIR``) or the exception's class. A local error or a 4xx answer means not deleted."""
    cause = err.__cause__ or err.__context__
    response = getattr(cause, "response", None)
    if isinstance(response, dict):
        meta = response.get("ResponseMetadata") or {}
        status = meta.get("HTTPStatusCode")
        code = (response.get("Error") or {}).get("Code") or type(cause).__name__
        refused = isinstance(status, int) and status < 500
        return str(code), meta.get("RequestId"), not refused
    number = getattr(err, "errno", None)
    code = errno.errorcode.get(number, "") if isinstance(number, int) else ""
    return code or type(err).__name__, None, not local


def _unlink(path: Any) -> Callable[[], dict[str, Any]]:
    local = (getattr(path, "protocol", "file") or "file") in ("file", "local")

    def call() -> dict[str, Any]:
        try:
            path.unlink()  # UPath: FileNotFoundError when it is not there
        except FileNotFoundError:
            raise RtcNotFoundError(
                "the object is gone", cloud="lake", action=DELETE_OBJECT, maybe_executed=False
            ) from None
        except Exception as err:
            code, request_id, maybe = _store_error(err, local)
            raise RtcApiError(
                redact_query(str(err) or type(err).__name__)[:300],
                cloud="lake",
                action=DELETE_OBJECT,
                code=code,
                request_id=request_id,
                maybe_executed=maybe,
            ) from err
        return {"RequestId": None}

    return call


def delete_one(
    candidate: Candidate, places: Places, hook: Any
) -> tuple[dict[str, Any], BaseException | None]:
    """One delete, read into a result; and the error it raised (None when it did not fail)."""
    caught: list[BaseException] = []
    if candidate.where == "vod":

        def act() -> dict[str, Any]:
            return hook.delete_media(candidate.ref, sub_app_id=places.vod_sub_app_id)  # type: ignore[no-any-return]

    else:
        act = _unlink(candidate.path)

    def call() -> dict[str, Any]:
        try:
            return act()
        except Exception as err:
            caught.append(err)
            raise

    result = {**identity_of(candidate, places), **run_call(call, ignore_not_found=True)}
    return result, caught[-1] if caught and result["status"] in ("failed", "not_started") else None


def delete_all(candidates: list[Candidate], places: Places, hook: Any, *, log: Any) -> list[dict[str, Any]]:
    """Delete ``candidates`` in order, one audit line per call as its answer is read (on a local
    trail on disk before the next call); stop at the first that fails (see the module docstring)."""
    results: list[dict[str, Any]] = []
    for candidate in candidates:
        log.info("deleting %s %s (created %s)", candidate.where, redact_url(candidate.ref), candidate.created)
        result, err = delete_one(candidate, places, hook)
        audit.record([result], origin=ORIGIN)
        if result["status"] in ("done", "already_gone"):
            if result["status"] == "already_gone":
                log.info("%s was already gone", result["label"])
            results.append(result)
            continue
        message = stopped_message(results, result, len(candidates))
        fatal = isinstance(err, AirflowFailException)
        raise (AirflowFailException if fatal else AirflowException)(message) from err
    return results


def stopped_message(results: list[dict[str, Any]], failed: dict[str, Any], total: int) -> str:
    """Where a run stood when a delete failed: deleted before it, which one, what is left."""
    gone = sum(1 for r in results if r["status"] == "already_gone")
    left = total - len(results) - 1
    if failed["status"] == "not_started":
        what = f"stopped before deleting {failed['label']}"
    else:
        error = redact_query(str(failed.get("error") or ""))
        code, request = failed.get("code"), failed.get("request_id")
        ids = ", ".join(  # each unless the error's text already says it (the provider's errors do)
            f"{name} {value}"
            for name, value in (("code", code), ("request id", request))
            if value not in (None, "") and str(value) not in error
        )
        what = f"{failed['action']} of {failed['label']} failed" + (f" ({ids})" if ids else "")
        what += f": {error}" if error else ""
    return (
        f"retention stopped at its first failed delete: {what}. {len(results)} of {total} "
        f"recording(s) were deleted before it ({gone} of them already gone); {left} not attempted. "
        "The audit trail has a line per call made; a re-run deletes what is left"
    )
