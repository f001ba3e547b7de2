"""tc3_sign_ratio: our signer against the official SDK's signing path, from params to headers."""

from __future__ import annotations

import time
from statistics import median
from typing import Any

SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"


def _params(n: int) -> list[dict[str, Any]]:
    return [{"SdkAppId": 1400000001, "RoomId": 1000 + i} for i in range(n)]


def ours(requests: list[dict[str, Any]]) -> float:
    from airflow_provider_rtc.protocol import tencent

    endpoint = tencent.TencentEndpoint.for_service("trtc")
    creds = tencent.TencentCredentials(SECRET_ID, SECRET_KEY)
    started = time.perf_counter()
    for params in requests:
        tencent.build_call(
            endpoint,
            creds,
            action="DismissRoom",
            version="2019-07-22",
            params=params,
            region="ap-guangzhou",
            user_agent="bench",
        )
    return time.perf_counter() - started


def official(requests: list[dict[str, Any]]) -> float:
    from tencentcloud.common import credential
    from tencentcloud.common.http.request import RequestInternal
    from tencentcloud.trtc.v20190722 import trtc_client

    client = trtc_client.TrtcClient(credential.Credential(SECRET_ID, SECRET_KEY), "ap-guangzhou")
    started = time.perf_counter()
    for params in requests:
        req = RequestInternal(client._get_endpoint(), "POST", "/")
        client._build_req_with_tc3_signature("DismissRoom", params, req)
    return time.perf_counter() - started


def run(n: int = 20_000, repeats: int = 5) -> dict[str, float]:
    requests = _params(n)
    ours(requests[:200])
    official(requests[:200])
    ours_times, official_times = [], []
    for _ in range(repeats):  # interleaved, so drift affects both sides alike
        ours_times.append(ours(requests))
        official_times.append(official(requests))
    return {
        "tc3_sign_ratio": median(ours_times) / median(official_times),
        "tc3_sign_us_ours": median(ours_times) / n * 1e6,
        "tc3_sign_us_official": median(official_times) / n * 1e6,
    }
