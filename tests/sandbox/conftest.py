"""The shared sandbox in fast timings, reset before every test, plus signed-request helpers.

The helpers sign with the provider's pure signing functions; fidelity against the *official*
signer is proven separately with the Tencent SDK (test_tencent_sdk.py) and the ZEGO vector.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from rtc_sandbox import SandboxServer
from rtc_sandbox.config import (
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    DEFAULT_ZEGO_APP_ID,
    DEFAULT_ZEGO_SECRET,
)

from airflow_provider_rtc.signing import tc3
from airflow_provider_rtc.signing import zego as zego_signing
from tests.support.credentials import (
    DOC_ZEGO_APP_ID,
    DOC_ZEGO_SECRET,
    TOKEN,
    TOKEN_SECRET_ID,
    TOKEN_SECRET_KEY,
)
from tests.support.credentials import SECRET_ID as DOC_SECRET_ID
from tests.support.credentials import SECRET_KEY as DOC_SECRET_KEY

FAST_CONFIG: dict[str, Any] = {
    "random_seed": 42,
    "tencent": {
        "extra_keys": [
            {"secret_id": DOC_SECRET_ID, "secret_key": DOC_SECRET_KEY},
            {"secret_id": TOKEN_SECRET_ID, "secret_key": TOKEN_SECRET_KEY, "token": TOKEN},
        ],
        "extra_sdk_app_ids": [1400000002],
    },
    "zego": {"extra_apps": [{"app_id": DOC_ZEGO_APP_ID, "server_secret": DOC_ZEGO_SECRET}]},
    "timing": {
        "upload_delay": 0.3,
        "recording_exit_seconds": 0.3,
        "zego_record_init_seconds": 0.15,
        "callback_late_seconds": 0.6,
        "tick_seconds": 0.02,
    },
    "callbacks": {"timeout": 1.0, "retry_interval": 0.2, "max_age": 1.0},
    # rule tests call faster than e.g. CloseRoom's 1/s; test_rate_limits switches limits on
    "limits": {"enabled": False},
}

ZEGO_GET_ACTIONS = {
    "DeleteStream",
    "CloseRoom",
    "KickoutUser",
    "DescribeUserNum",
    "DescribeUsers",
    "DescribeSimpleStreamList",
    "DescribeRoomList",
    "DescribeUserList",
    "GetMixTaskInfo",
}


@pytest.fixture
def sandbox_config() -> dict[str, Any]:
    return FAST_CONFIG


@pytest.fixture
def sb(sandbox: SandboxServer) -> SandboxServer:
    """The shared sandbox (tests/support) in this suite's configuration, emptied and back to its
    start-up settings."""
    return sandbox


def flatten(params: Any, prefix: str = "") -> list[tuple[str, str]]:
    """The SDK's GET flattening: ``UserIds.0=a``, ``A.B=1``."""
    if isinstance(params, dict):
        out: list[tuple[str, str]] = []
        for k, v in params.items():
            out += flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(params, list):
        out = []
        for i, v in enumerate(params):
            out += flatten(v, f"{prefix}.{i}")
        return out
    return [(prefix, str(params))]


class TencentCaller:
    """Signs API 3.0 calls with the provider's TC3 signer and sends them with ``requests``."""

    def __init__(
        self, server: SandboxServer, secret_id: str = DEFAULT_SECRET_ID, secret_key: str = DEFAULT_SECRET_KEY
    ):
        self.server = server
        self.secret_id = secret_id
        self.secret_key = secret_key

    @property
    def host(self) -> str:
        return self.server.url.split("//", 1)[1]

    def signed(
        self,
        action: str,
        params: dict[str, Any],
        *,
        service: str | None = None,
        method: str = "POST",
        region: str | None = "ap-guangzhou",
        version: str | None = None,
        timestamp: int | None = None,
        token: str | None = None,
    ) -> tuple[str, dict[str, str], bytes]:
        service = service or ("live" if action in LIVE_ACTIONS else "trtc")
        version = version or {"trtc": "2019-07-22", "live": "2018-08-01"}.get(service, "2019-07-22")
        if method == "POST":
            body, query = json.dumps(params).encode(), ""
        else:
            body, query = b"", urlencode(flatten(params))
        headers = tc3.build_headers(
            secret_id=self.secret_id,
            secret_key=self.secret_key,
            service=service,
            host=self.host,
            action=action,
            version=version,
            payload=body,
            timestamp=int(self.server.backend.now()) if timestamp is None else timestamp,
            region=None if service == "live" and region == "ap-guangzhou" else region,
            token=token,
            method=method,
            canonical_query=query,
        )
        url = self.server.url + "/" + (f"?{query}" if query else "")
        return url, headers, body

    def raw(
        self, action: str, params: dict[str, Any], *, timeout: float = 5.0, **kw: Any
    ) -> requests.Response:
        method = kw.get("method", "POST")
        url, headers, body = self.signed(action, params, **kw)
        return requests.request(method, url, headers=headers, data=body, timeout=timeout)

    def __call__(self, action: str, params: dict[str, Any], **kw: Any) -> dict[str, Any]:
        resp = self.raw(action, params, **kw)
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"] == "application/json"
        return resp.json()["Response"]


LIVE_ACTIONS = {"CreateCommonMixStream", "CancelCommonMixStream", "DropLiveStream", "DescribeLiveStreamState"}


def code_of(response: dict[str, Any]) -> str | None:
    """Tencent error code or None on success."""
    return response.get("Error", {}).get("Code")


class ZegoCaller:
    """Signs ZEGO 2.0 calls and sends them with ``requests`` (arrays as ``Key[]``)."""

    def __init__(
        self, server: SandboxServer, app_id: int = DEFAULT_ZEGO_APP_ID, secret: str = DEFAULT_ZEGO_SECRET
    ):
        self.server = server
        self.app_id = app_id
        self.secret = secret

    def query(
        self,
        action: str | None,
        params: dict[str, Any] | None = None,
        *,
        timestamp: int | None = None,
        nonce: str | None = None,
        drop: tuple[str, ...] = (),
        override: dict[str, str] | None = None,
    ) -> list[tuple[str, str]]:
        ts = int(self.server.backend.now()) if timestamp is None else timestamp
        public = zego_signing.public_params(self.app_id, self.secret, timestamp=ts, nonce=nonce)
        if action is not None:
            public = {"Action": action, **public}
        public.update(override or {})
        pairs = [(k, v) for k, v in public.items() if k not in drop]
        for key, value in (params or {}).items():
            if isinstance(value, list):
                pairs += [(f"{key}[]", str(v)) for v in value]
            else:
                pairs.append((key, str(value)))
        return pairs

    def raw(
        self,
        action: str | None,
        params: dict[str, Any] | None = None,
        *,
        method: str | None = None,
        body: Any = None,
        timeout: float = 5.0,
        **kw: Any,
    ) -> requests.Response:
        method = method or ("GET" if action in ZEGO_GET_ACTIONS else "POST")
        pairs = self.query(action, params if method == "GET" else None, **kw)
        if method == "GET":
            return requests.get(self.server.url + "/", params=pairs, timeout=timeout)
        payload = body if body is not None else (params or {})
        return requests.post(self.server.url + "/", params=pairs, json=payload, timeout=timeout)

    def __call__(self, action: str | None, params: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        resp = self.raw(action, params, **kw)
        assert resp.status_code == 200, resp.text
        data = resp.json()
        assert set(data) == {"Code", "Message", "RequestId", "Data"}
        return data


@pytest.fixture
def tencent(sb: SandboxServer) -> TencentCaller:
    return TencentCaller(sb)


@pytest.fixture
def zego(sb: SandboxServer) -> ZegoCaller:
    return ZegoCaller(sb)


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Poll until ``predicate()`` is truthy; return its value (fail the test on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(interval)


@pytest.fixture
def wait() -> Callable[..., Any]:
    return wait_for
