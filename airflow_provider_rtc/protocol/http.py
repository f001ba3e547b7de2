"""Transport-neutral request and response shapes passed between protocol and transports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_provider_rtc.errors import (
    RtcApiError,
    RtcAuthError,
    RtcError,
    RtcInvalidInputError,
    RtcNotFoundError,
    RtcThrottledError,
    RtcTransientError,
)
from airflow_provider_rtc.protocol.codes import Kind


@dataclass(frozen=True)
class HttpCall:
    """One signed attempt. Built afresh for every attempt, so retries never replay a signature."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass(frozen=True)
class HttpReply:
    status: int
    content_type: str
    body: bytes


#: "signature expired" answers: Tencent allows 5 minutes of skew, ZEGO 10
CLOCK_SKEW_CODES = frozenset({"AuthFailure.SignatureExpire", 100000004})

_KIND_TO_ERROR: dict[Kind, type[RtcError]] = {
    Kind.THROTTLED: RtcThrottledError,
    Kind.TRANSIENT: RtcTransientError,
    Kind.NOT_FOUND: RtcNotFoundError,
    Kind.AUTH: RtcAuthError,
    Kind.INVALID_INPUT: RtcInvalidInputError,
    Kind.FAILED: RtcApiError,
}


def api_error(
    kind: Kind, message: str, *, cloud: str, action: str, code: str | int, request_id: Any, status: int
) -> RtcError:
    """The exception for a classified API error; throttled/auth/invalid answers were surely not executed."""
    if code in CLOCK_SKEW_CODES:
        # every attempt is signed afresh, so an expired signature means this machine's clock is off
        message = f"{message} (the request was signed just now: check this machine's clock, e.g. NTP)"
    return _KIND_TO_ERROR[kind](
        message,
        cloud=cloud,
        action=action,
        code=code,
        request_id=None if request_id in (None, "") else str(request_id),
        http_status=status,
        maybe_executed=kind not in (Kind.THROTTLED, Kind.AUTH, Kind.INVALID_INPUT),
    )


def unreadable(reply: HttpReply, *, cloud: str, action: str, expected: str) -> RtcError:
    """A proxy's HTML page or an empty body: transient, described without echoing the body."""
    ctype = reply.content_type.split(";")[0].strip() or "no content type"
    if 300 <= reply.status < 400:
        return RtcApiError(
            f"unexpected HTTP {reply.status} redirect: check the endpoint (scheme, host)",
            cloud=cloud,
            action=action,
            http_status=reply.status,
            maybe_executed=False,
        )
    error_cls = RtcThrottledError if reply.status == 429 else RtcTransientError
    return error_cls(
        f"unreadable response: HTTP {reply.status}, {ctype}, {len(reply.body)} bytes (not {expected})",
        cloud=cloud,
        action=action,
        http_status=reply.status,
        maybe_executed=reply.status != 429,
    )
