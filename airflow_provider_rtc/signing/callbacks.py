"""Callback signatures: how a receiver tells a real cloud callback from a forged one."""

from __future__ import annotations

import base64
import hashlib
import hmac

from airflow_provider_rtc.validation import lenient_int


def same_text(expected: str, given: str) -> bool:
    """Constant-time comparison that cannot raise: a non-ASCII or unencodable ``given`` is unequal."""
    try:
        given_bytes = given.encode("ascii")
    except (UnicodeError, AttributeError):
        return False
    return hmac.compare_digest(expected.encode("ascii"), given_bytes)


def trtc_callback_sign(body: bytes, key: str) -> str:
    """TRTC ``Sign`` header: base64 of HMAC-SHA256 over the raw body bytes (never re-serialized)."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def verify_trtc_callback(body: bytes, sign: str | None, key: str) -> bool:
    """True only when ``sign`` is present and matches; constant-time comparison."""
    if not sign or not key:
        return False
    return same_text(trtc_callback_sign(body, key), sign.strip())


def zego_callback_signature(callback_secret: str, timestamp: str | int, nonce: str | int) -> str:
    """sha1 of the lexicographically sorted [CallbackSecret, timestamp, nonce], joined."""
    parts = sorted([str(callback_secret), str(timestamp), str(nonce)])
    return hashlib.sha1("".join(parts).encode()).hexdigest()  # noqa: S324 (vendor-mandated)


def verify_zego_callback(
    callback_secret: str, timestamp: str | int | None, nonce: str | int | None, signature: str | None
) -> bool:
    if not callback_secret or timestamp in (None, "") or nonce in (None, "") or not signature:
        return False
    if not all(str(part).isascii() for part in (timestamp, nonce)):
        return False  # never signed by ZEGO; also keeps the sha1 input encodable
    expected = zego_callback_signature(callback_secret, timestamp, nonce)  # type: ignore[arg-type]
    return same_text(expected, str(signature).strip().lower())


def live_callback_sign(key: str, t: str | int) -> str:
    """Tencent Live event notification ``sign`` = MD5(key + t), lowercase hex (CSS callback docs)."""
    return hashlib.md5(f"{key}{t}".encode()).hexdigest()  # noqa: S324 (vendor-mandated)


def verify_live_callback(key: str, t: str | int | None, sign: str | None, *, now: float) -> bool:
    """Signature matches and ``t`` (the notification's expiry, unix seconds) has not passed."""
    if not key or t in (None, "") or not sign:
        return False
    expires = lenient_int(t)
    if expires is None or expires < now:
        return False
    return same_text(live_callback_sign(key, expires), str(sign).strip().lower())
