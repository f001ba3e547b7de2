"""The server's side of the clouds' signatures: what the sandbox verifies and what it signs callbacks with.

Written from the vendors' pages, independently of the provider's client signer (``airflow_provider_rtc
.signing``): verifying a request with the very code that signed it proves nothing, two implementations
that agree prove the client follows the documentation. The sandbox imports nothing from the provider.

Sources:
* TC3-HMAC-SHA256: Tencent Cloud API 3.0 "Signature v3" (cloud.tencent.com/document/api/213/30654,
  tencentcloud.com/document/product/267/37447): canonical request, string to sign with the credential
  scope ``<UTC date>/<service>/tc3_request``, key chain ``"TC3"+SecretKey`` → date → service →
  ``tc3_request``, lowercase hex HMAC-SHA256.
* ZEGO server API signature 2.0 (zegocloud.com docs, "Call server APIs" → signing):
  ``md5(AppId + SignatureNonce + ServerSecret + Timestamp)``, lowercase hex.
* TRTC event callbacks (trtc.io / cloud.tencent.com/document/product/647/51586): header
  ``Sign = base64(HMAC-SHA256(callback key, raw body))``.
* ZEGO callbacks ("Callback signature"): ``sha1`` of ``[CallbackSecret, timestamp, nonce]`` sorted
  lexicographically and joined, lowercase hex.
* Tencent Live event notifications (cloud.tencent.com/document/product/267/32744):
  ``sign = MD5(key + t)`` where ``t`` is the notification's expiry in unix seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

TC3_ALGORITHM = "TC3-HMAC-SHA256"
JSON_CONTENT_TYPE = "application/json"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
ZEGO_SIGNATURE_VERSION = "2.0"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utc_date(timestamp: int) -> str:
    """The credential scope's date: the UTC calendar date of ``X-TC-Timestamp``."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class Tc3Authorization:
    """``TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request, SignedHeaders=.., Signature=..``."""

    secret_id: str
    date: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_tc3_authorization(header: str) -> Tc3Authorization:
    """The parts of an ``Authorization`` header; ValueError when it is not a TC3 one."""
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != TC3_ALGORITHM:
        raise ValueError("not TC3-HMAC-SHA256")
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, eq, value = item.strip().partition("=")
        if not eq or name in fields:
            raise ValueError("malformed Authorization header")
        fields[name] = value
    scope = fields.get("Credential", "").split("/")
    if len(scope) != 4 or scope[3] != "tc3_request" or not all(scope[:3]):
        raise ValueError("malformed credential scope")
    if not fields.get("SignedHeaders") or not fields.get("Signature"):
        raise ValueError("malformed Authorization header")
    return Tc3Authorization(
        secret_id=scope[0],
        date=scope[1],
        service=scope[2],
        signed_headers=tuple(fields["SignedHeaders"].split(";")),
        signature=fields["Signature"],
    )


def tc3_signature(
    *,
    secret_key: str,
    service: str,
    timestamp: int,
    method: str,
    headers: dict[str, str],
    payload: bytes,
    query: str = "",
    uri: str = "/",
) -> str:
    """The signature the server expects for a request with these signed ``headers`` (name → value as sent).

    Step 1, canonical request: method, URI, query, ``name:value\\n`` per signed header (lowercased
    name and trimmed, lowercased value, sorted by name), the signed header list, hex SHA-256 of the
    payload. Step 2, string to sign. Step 3, the derived key. Step 4, the hex HMAC.
    """
    names = sorted(headers, key=str.lower)
    canonical_headers = "".join(f"{n.lower()}:{headers[n].strip().lower()}\n" for n in names)
    signed = ";".join(n.lower() for n in names)
    canonical = "\n".join([method.upper(), uri, query, canonical_headers, signed, _sha256_hex(payload)])
    date = utc_date(timestamp)
    to_sign = "\n".join(
        [TC3_ALGORITHM, str(timestamp), f"{date}/{service}/tc3_request", _sha256_hex(canonical.encode())]
    )
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def zego_api_signature(app_id: int | str, nonce: str, server_secret: str, timestamp: int | str) -> str:
    """ZEGO server API signature 2.0 (lowercase 32-hex md5 of the four values, no separator)."""
    text = f"{app_id}{nonce}{server_secret}{timestamp}"
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 (vendor-mandated)


def trtc_callback_sign(body: bytes, key: str) -> str:
    """The ``Sign`` header of a TRTC callback over its exact body bytes."""
    return base64.b64encode(hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def zego_callback_signature(secret: str, timestamp: int | str, nonce: int | str) -> str:
    """The ``signature`` field of a ZEGO callback."""
    joined = "".join(sorted((str(secret), str(timestamp), str(nonce))))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()  # noqa: S324 (vendor-mandated)


def live_callback_sign(key: str, t: int | str) -> str:
    """The ``sign`` field of a Tencent Live event notification."""
    return hashlib.md5(f"{key}{t}".encode()).hexdigest()  # noqa: S324 (vendor-mandated)
