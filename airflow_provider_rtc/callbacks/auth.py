"""How a reader proves it may read stored callbacks: an HMAC of the request, with the callback key.

The reader sends two headers::

    X-RTC-Timestamp: <unix seconds>
    X-RTC-Signature: base64(HMAC-SHA256(key, "GET\\n" + path_with_query + "\\n" + timestamp))

``key`` is the callback key of the cloud and application whose events are read (the TRTC callback
key, the ZEGO CallbackSecret), so whoever may receive an application's callbacks may read them and
nobody else. The receiver rejects a missing or wrong signature, and a timestamp more than
``max_skew`` seconds away from its clock (a replayed or stale request), with 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable

from airflow_provider_rtc.signing.callbacks import same_text
from airflow_provider_rtc.validation import lenient_int

TIMESTAMP_HEADER = "X-RTC-Timestamp"
SIGNATURE_HEADER = "X-RTC-Signature"
DEFAULT_MAX_SKEW = 300.0

#: the clock signature ages are judged by when a call passes no ``now`` (unix seconds)
_clock: Callable[[], float] = time.time


def use_clock(clock: Callable[[], float] | None) -> Callable[[], float]:
    """Judge signature ages (signing and verifying) by ``clock`` (None: the wall clock again);
    return the previous one. Tests move it to reach a window's edge without waiting."""
    global _clock
    previous, _clock = _clock, (clock if clock is not None else time.time)
    return previous


def read_signature(key: str, method: str, path_with_query: str, timestamp: str | int) -> str:
    message = f"{method.upper()}\n{path_with_query}\n{timestamp}".encode()
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


def sign_read(
    key: str, path_with_query: str, *, method: str = "GET", now: float | None = None
) -> dict[str, str]:
    """The headers a reader adds to a request for ``path_with_query``."""
    timestamp = str(int(_clock() if now is None else now))
    return {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: read_signature(key, method, path_with_query, timestamp),
    }


def verify_read(
    key: str | None,
    method: str,
    path_with_query: str,
    timestamp: str | None,
    signature: str | None,
    *,
    max_skew: float = DEFAULT_MAX_SKEW,
    now: float | None = None,
) -> str | None:
    """``None`` when the request is authentic and fresh, otherwise the reason it is not (no secret)."""
    if not key:
        return "no callback key is configured for this application"
    if not timestamp or not signature:
        return "unsigned request: X-RTC-Timestamp and X-RTC-Signature are required"
    sent = lenient_int(timestamp)  # ASCII digits only
    if sent is None:
        return "X-RTC-Timestamp must be unix seconds"
    current = _clock() if now is None else now
    if abs(current - sent) > max_skew:
        return f"stale request: X-RTC-Timestamp is more than {int(max_skew)} s from the receiver's clock"
    expected = read_signature(key, method, path_with_query, timestamp)
    if not same_text(expected, signature.strip()):
        return "bad signature"
    return None
