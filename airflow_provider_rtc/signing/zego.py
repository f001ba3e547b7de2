"""ZEGOCLOUD server API signature 2.0: ``md5(AppId + SignatureNonce + ServerSecret + Timestamp)``.

The signature covers no business parameter, so a fresh nonce and timestamp per attempt is
what keeps a replayed request from being accepted.
"""

from __future__ import annotations

import hashlib
import secrets
import time

SIGNATURE_VERSION = "2.0"


def signature(app_id: int | str, nonce: str, server_secret: str, timestamp: int) -> str:
    """Lowercase 32-hex md5 of the four values joined with no separator."""
    return hashlib.md5(f"{app_id}{nonce}{server_secret}{timestamp}".encode()).hexdigest()  # noqa: S324 (vendor-mandated)


def new_nonce() -> str:
    """16 hex characters: the hex of 8 random bytes, as every official sample does."""
    return secrets.token_hex(8)


def public_params(
    app_id: int | str,
    server_secret: str,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
    is_test: bool | None = None,
) -> dict[str, str]:
    """The common query parameters of one call, signed with a fresh nonce and timestamp."""
    ts = int(time.time()) if timestamp is None else timestamp
    nonce = nonce or new_nonce()
    params = {
        "AppId": str(app_id),
        "SignatureNonce": nonce,
        "Timestamp": str(ts),
        "Signature": signature(app_id, nonce, server_secret, ts),
        "SignatureVersion": SIGNATURE_VERSION,
    }
    if is_test is not None:
        params["IsTest"] = "true" if is_test else "false"
    return params
