"""The one result shape: what single operators, bulk operators, ``EndEventOperator`` and the
``end_of_event_cleanup`` DAG return for each destructive call.

::

    {"cloud": "trtc" | "live" | "zego",          # the cloud code, as ResourceRef says it
     "product": "Tencent Cloud TRTC",             # for people
     "action": "DismissRoom",                     # the API called
     "kind": "rooms",                             # the resource kind (never an error's kind)
     "ids": {"room_id": 1234},                    # the identity fields the call was made with
     "ref": {...}, "refs": [{...}], "label": "trtc:1400000001 room 1234 (int)",
     "status": "done" | "already_gone" | "failed" | "not_started",
     "code": "FailedOperation.RoomNotExist" | 5018 | None,
     "request_id": "...", "RequestId": "...",     # RequestId: the same value, kept for old readers
     "maybe_executed": bool | None,               # failed: whether the last attempt may have run
     "after_lost_response": bool,                 # gone right after an attempt whose answer was lost
     "error": "...", "error_kind": "throttled",   # failed only: the message and the error's kind
     "timings": {"started_ms": 1733500000000, "elapsed_s": 0.052}}

Keys without a value are present as ``None``/``False`` so every reader sees the same keys.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from airflow_provider_rtc.cleanup.enders import Ender
from airflow_provider_rtc.discovery.refs import label as ref_label
from airflow_provider_rtc.exceptions import RtcError, RtcNotFoundError, RtcStoppedError
from airflow_provider_rtc.identity import ResourceRef

STATUSES = ("done", "already_gone", "failed", "not_started")
#: every key of a result, in order
KEYS = (
    "cloud",
    "product",
    "action",
    "kind",
    "ids",
    "ref",
    "refs",
    "label",
    "status",
    "code",
    "request_id",
    "maybe_executed",
    "after_lost_response",
    "timings",
)


def label_of(refs: list[ResourceRef]) -> str:
    """How results and the plan show the refs of one call (the first three, then a count)."""
    return ", ".join(ref_label(r) for r in refs[:3]) + (f" (+{len(refs) - 3})" if len(refs) > 3 else "")


def identity(ender: Ender, ids: dict[str, Any], refs: list[ResourceRef]) -> dict[str, Any]:
    """The part of a result known before the call: which API, on what."""
    return {
        "cloud": ender.cloud,
        "product": ender.product,
        "action": ender.action,
        "kind": ender.kind,
        "ids": ids,
        "ref": refs[0].as_dict() if refs else None,
        "refs": [r.as_dict() for r in refs],
        "label": label_of(refs),
    }


def outcome(status: str, **fields: Any) -> dict[str, Any]:
    """The part a call's answer gives; ``request_id`` is mirrored as ``RequestId``."""
    out: dict[str, Any] = {
        "status": status,
        "code": fields.pop("code", None),
        "request_id": fields.pop("request_id", None),
        "maybe_executed": fields.pop("maybe_executed", None),
        "after_lost_response": bool(fields.pop("after_lost_response", False)),
        "timings": fields.pop("timings", None),
    }
    out["RequestId"] = out["request_id"]
    out.update(fields)
    return out


def run_call(call: Callable[[], dict[str, Any]], *, ignore_not_found: bool) -> dict[str, Any]:
    """Make one call and read its answer into the outcome part of a result; a not-found is
    ``already_gone`` (or ``failed`` with ``maybe_executed: False`` when it must not be ignored),
    any other provider error ``failed``. A stop before the call is ``not_started``."""
    started_ms = int(time.time() * 1000)
    mark = time.monotonic()

    def timings() -> dict[str, Any]:
        return {"started_ms": started_ms, "elapsed_s": round(time.monotonic() - mark, 3)}

    try:
        response = call()
    except RtcStoppedError as err:
        if not err.maybe_executed:
            return outcome("not_started", timings=timings())
        return outcome(  # stopped between retries: an earlier attempt may have run
            "failed",
            error=str(err),
            error_kind=err.kind,
            maybe_executed=err.maybe_executed,
            after_lost_response=err.after_lost_response,
            timings=timings(),
        )
    except RtcNotFoundError as err:
        return outcome(
            "already_gone" if ignore_not_found else "failed",
            code=err.code,
            request_id=err.request_id,
            after_lost_response=err.after_lost_response,
            maybe_executed=None if ignore_not_found else False,
            timings=timings(),
        )
    except RtcError as err:
        return outcome(
            "failed",
            code=err.code,
            request_id=getattr(err, "request_id", None),
            error=str(err),
            error_kind=err.kind,
            maybe_executed=err.maybe_executed,
            after_lost_response=err.after_lost_response,
            timings=timings(),
        )
    except Exception as err:  # a bug must not cost the other targets their report
        return outcome(
            "failed", error=type(err).__name__, error_kind="error", maybe_executed=True, timings=timings()
        )
    return outcome("done", request_id=response.get("RequestId"), timings=timings())
