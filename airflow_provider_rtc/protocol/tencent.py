"""Tencent Cloud API 3.0: signed POST JSON calls and the ``{"Response": ...}`` envelope."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_rtc.catalog import Api
from airflow_provider_rtc.protocol.codes import classify_tencent
from airflow_provider_rtc.protocol.http import HttpCall, HttpReply, api_error, unreadable
from airflow_provider_rtc.signing import tc3

CLOUD = "Tencent Cloud"


@dataclass(frozen=True)
class TencentEndpoint:
    """Where one service is reached and which host is signed (the one actually sent)."""

    service: str
    url: str
    host: str

    @classmethod
    def for_service(cls, service: str, *, endpoint: str | None = None, intl: bool = False) -> TencentEndpoint:
        if endpoint:
            base = endpoint.rstrip("/")
        else:
            domain = "intl.tencentcloudapi.com" if intl else "tencentcloudapi.com"
            base = f"https://{service}.{domain}"
        return cls(service=service, url=base + "/", host=urlsplit(base).netloc)


@dataclass(frozen=True)
class TencentCredentials:
    secret_id: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)


def encode_body(params: dict[str, Any]) -> bytes:
    return json.dumps(params, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def build_call(
    endpoint: TencentEndpoint,
    credentials: TencentCredentials,
    *,
    action: str,
    version: str,
    params: dict[str, Any],
    region: str | None,
    user_agent: str,
    timestamp: int | None = None,
    language: str | None = None,
) -> HttpCall:
    body = encode_body(params)
    headers = tc3.build_headers(
        secret_id=credentials.secret_id,
        secret_key=credentials.secret_key,
        service=endpoint.service,
        host=endpoint.host,
        action=action,
        version=version,
        payload=body,
        timestamp=timestamp,
        region=region,
        token=credentials.token,
        language=language,
    )
    headers["User-Agent"] = user_agent
    return HttpCall(method="POST", url=endpoint.url, headers=headers, body=body)


def _decode(reply: HttpReply) -> dict[str, Any] | None:
    try:
        data = json.loads(reply.body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(data, dict) and isinstance(data.get("Response"), dict):
        return data["Response"]
    return None


def parse_reply(reply: HttpReply, *, action: str, api: Api | None = None) -> dict[str, Any]:
    """Return the ``Response`` object of a success, raise the classified error otherwise."""
    response = _decode(reply)
    if response is None:
        raise unreadable(reply, cloud=CLOUD, action=action, expected="an API 3.0 envelope")
    error = response.get("Error")
    if isinstance(error, dict):
        code = str(error.get("Code") or "")
        raise api_error(
            classify_tencent(action, code, api),
            str(error.get("Message") or "no message"),
            cloud=CLOUD,
            action=action,
            code=code,
            request_id=response.get("RequestId"),
            status=reply.status,
        )
    if reply.status >= 400:
        raise unreadable(reply, cloud=CLOUD, action=action, expected="an API 3.0 envelope")
    return response
