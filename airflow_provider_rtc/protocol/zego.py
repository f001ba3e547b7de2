"""ZEGOCLOUD server API: signature-2.0 query parameters and the ``{Code, Message, RequestId, Data}`` envelope.

GET puts every parameter in the query, arrays as ``Key[]=a&Key[]=b``; POST keeps the public parameters
in the query and sends the business fields as a JSON body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from airflow_provider_rtc.catalog import Api
from airflow_provider_rtc.protocol.codes import classify_zego
from airflow_provider_rtc.protocol.http import HttpCall, HttpReply, api_error, unreadable
from airflow_provider_rtc.signing import zego as zego_signing
from airflow_provider_rtc.validation import lenient_int

CLOUD = "ZEGOCLOUD"
RTC_URL = "https://rtc-api.zego.im"
CLOUDRECORD_URL = "https://cloudrecord-api.zego.im"


@dataclass(frozen=True)
class ZegoCredentials:
    app_id: int
    server_secret: str = field(repr=False)
    is_test: bool | None = None


def query_pairs(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Flatten business parameters for a GET query; lists become repeated ``Key[]`` pairs."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, Sequence) and not isinstance(value, str | bytes):
            pairs.extend((f"{key}[]", _scalar(v)) for v in value)
        else:
            pairs.append((key, _scalar(value)))
    return pairs


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_call(
    base_url: str,
    credentials: ZegoCredentials,
    *,
    action: str,
    params: Mapping[str, Any],
    method: str,
    user_agent: str,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> HttpCall:
    public = zego_signing.public_params(
        credentials.app_id,
        credentials.server_secret,
        timestamp=timestamp,
        nonce=nonce,
        is_test=credentials.is_test,
    )
    pairs: list[tuple[str, str]] = [("Action", action), *public.items()]
    headers = {"User-Agent": user_agent}
    body: bytes | None = None
    if method == "GET":
        pairs.extend(query_pairs(params))
    else:
        body = json.dumps({k: v for k, v in params.items() if v is not None}, separators=(",", ":")).encode()
        headers["Content-Type"] = "application/json"
    return HttpCall(
        method=method, url=f"{base_url.rstrip('/')}/?{urlencode(pairs)}", headers=headers, body=body
    )


def parse_reply(reply: HttpReply, *, action: str, api: Api | None = None) -> dict[str, Any]:
    """Return the whole envelope of a success (``Code`` 0), raise the classified error otherwise."""
    try:
        data = json.loads(reply.body)
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict) or "Code" not in data:
        raise unreadable(reply, cloud=CLOUD, action=action, expected="a ZEGO envelope")
    code = lenient_int(data["Code"])
    if code is None:
        raise unreadable(reply, cloud=CLOUD, action=action, expected="a numeric Code")
    if code == 0:
        return data
    raise api_error(
        classify_zego(action, code, api),
        str(data.get("Message") or "no message"),
        cloud=CLOUD,
        action=action,
        code=code,
        request_id=data.get("RequestId"),
        status=reply.status,
    )
