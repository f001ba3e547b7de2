"""Tencent Cloud API 3.0 signature TC3-HMAC-SHA256.

Follows the "Signature v3" page step by step: canonical request, string to sign with the
UTC date of the timestamp in the credential scope, a derived key, hex HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

ALGORITHM = "TC3-HMAC-SHA256"
JSON_CONTENT_TYPE = "application/json"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@lru_cache(maxsize=1024)
def utc_date(timestamp: int) -> str:
    """The credential-scope date: UTC, never local time (local dates break around midnight)."""
    return time.strftime("%Y-%m-%d", time.gmtime(timestamp))


@lru_cache(maxsize=256)
def derive_signing_key(secret_key: str, date: str, service: str) -> bytes:
    """HMAC chain "TC3"+SecretKey -> date -> service -> "tc3_request" (cached per day and service)."""
    k_date = hmac.new(("TC3" + secret_key).encode(), date.encode(), hashlib.sha256).digest()
    k_service = hmac.new(k_date, service.encode(), hashlib.sha256).digest()
    return hmac.new(k_service, b"tc3_request", hashlib.sha256).digest()


def canonical_request(
    *,
    method: str,
    headers: Mapping[str, str],
    payload: bytes,
    canonical_query: str = "",
    canonical_uri: str = "/",
) -> tuple[str, str]:
    """Return (canonical request, signed headers) for the given headers, signed as sent."""
    items = sorted((k.lower(), v.strip().lower()) for k, v in headers.items())
    canonical_headers = "".join(f"{k}:{v}\n" for k, v in items)
    signed_headers = ";".join(k for k, _ in items)
    payload_hash = hashlib.sha256(payload).hexdigest() if payload else EMPTY_SHA256
    return (
        f"{method.upper()}\n{canonical_uri}\n{canonical_query}\n"
        f"{canonical_headers}\n{signed_headers}\n{payload_hash}",
        signed_headers,
    )


def string_to_sign(timestamp: int, credential_scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{credential_scope}\n{digest}"


def signature(secret_key: str, service: str, timestamp: int, canonical: str) -> str:
    date = utc_date(timestamp)
    scope = f"{date}/{service}/tc3_request"
    key = derive_signing_key(secret_key, date, service)
    return hmac.new(key, string_to_sign(timestamp, scope, canonical).encode(), hashlib.sha256).hexdigest()


def authorization(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    timestamp: int,
    method: str,
    signed: Mapping[str, str],
    payload: bytes,
    canonical_query: str = "",
) -> str:
    """The ``Authorization`` header for a request whose ``signed`` headers are sent verbatim."""
    canonical, signed_headers = canonical_request(
        method=method, headers=signed, payload=payload, canonical_query=canonical_query
    )
    sig = signature(secret_key, service, timestamp, canonical)
    return (
        f"{ALGORITHM} Credential={secret_id}/{utc_date(timestamp)}/{service}/tc3_request, "
        f"SignedHeaders={signed_headers}, Signature={sig}"
    )


def build_headers(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    host: str,
    action: str,
    version: str,
    payload: bytes,
    timestamp: int | None = None,
    region: str | None = None,
    token: str | None = None,
    language: str | None = None,
    method: str = "POST",
    canonical_query: str = "",
) -> dict[str, str]:
    """Every header of a signed API 3.0 call; ``content-type`` and ``host`` are signed, as the SDK does."""
    ts = int(time.time()) if timestamp is None else timestamp
    content_type = JSON_CONTENT_TYPE if method.upper() == "POST" else FORM_CONTENT_TYPE
    headers = {
        "Authorization": authorization(
            secret_id=secret_id,
            secret_key=secret_key,
            service=service,
            timestamp=ts,
            method=method,
            signed={"content-type": content_type, "host": host},
            payload=payload,
            canonical_query=canonical_query,
        ),
        "Content-Type": content_type,
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Version": version,
        "X-TC-Timestamp": str(ts),
    }
    if region:
        headers["X-TC-Region"] = region
    if token:
        headers["X-TC-Token"] = token
    if language:
        headers["X-TC-Language"] = language
    return headers


@dataclass(frozen=True)
class ParsedAuthorization:
    """The parts of an ``Authorization`` header a verifier needs."""

    secret_id: str
    date: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(header: str) -> ParsedAuthorization:
    """Split ``TC3-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...``; ValueError if malformed."""
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise ValueError(f"unsupported algorithm {algorithm!r}")
    parts: dict[str, str] = {}
    for chunk in rest.split(","):
        key, sep, value = chunk.strip().partition("=")
        if not sep:
            raise ValueError("malformed Authorization header")
        parts[key] = value
    try:
        credential = parts["Credential"].split("/")
        secret_id, date, service, terminator = credential
        if terminator != "tc3_request":
            raise ValueError("credential scope must end with tc3_request")
        return ParsedAuthorization(
            secret_id=secret_id,
            date=date,
            service=service,
            signed_headers=tuple(parts["SignedHeaders"].split(";")),
            signature=parts["Signature"],
        )
    except (KeyError, ValueError) as err:
        raise ValueError(f"malformed Authorization header: {err}") from None
