"""TC3 signing paths the published vectors do not reach: a GET with its query string, the language
header, and the messages of a malformed ``Authorization`` header (the sandbox answers with them).

Written for the mutants `make mutate` left alive in ``signing/tc3.py``: every vector test signs a
POST with an empty query, so dropping the canonical query or the GET content type went unseen. The
official SDK's own signer is the judge, as in tests/unit/test_signing.py.
"""

from __future__ import annotations

import types
from urllib.parse import urlencode

import pytest
from tencentcloud.common import abstract_client, credential
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.trtc.v20190722.trtc_client import TrtcClient

from airflow_provider_rtc.signing import tc3
from tests.support.credentials import SECRET_ID, SECRET_KEY

TS = 1700000000
HOST = "trtc.tencentcloudapi.com"


def _sdk_get(params: dict, monkeypatch: pytest.MonkeyPatch, *, language: str = "zh-CN") -> RequestInternal:
    """The official SDK builds and signs a GET (time patched, nothing sent)."""
    monkeypatch.setattr(abstract_client, "time", types.SimpleNamespace(time=lambda: TS))
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=HOST, reqMethod="GET"), language=language)
    client = TrtcClient(credential.Credential(SECRET_ID, SECRET_KEY), "ap-guangzhou", profile)
    req = RequestInternal(HOST, "GET", "/")
    client._build_req_with_tc3_signature("DescribeCloudRecording", params, req)
    return req


def _ours(**kw: object) -> dict[str, str]:
    return tc3.build_headers(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        service="trtc",
        host=HOST,
        action="DescribeCloudRecording",
        version="2019-07-22",
        timestamp=TS,
        region="ap-guangzhou",
        **kw,  # type: ignore[arg-type]
    )


def test_a_get_signs_its_query_string_and_form_content_type_like_the_sdk(monkeypatch) -> None:
    params = {"SdkAppId": 1400000001, "TaskId": "task-1"}
    req = _sdk_get(params, monkeypatch)  # the SDK always sends a language (zh-CN by default)
    query = urlencode(params)
    assert req.data == query  # the SDK puts a GET's parameters in the query string
    ours = _ours(payload=b"", method="GET", canonical_query=query, language="zh-CN")
    assert ours["Content-Type"] == req.header["Content-Type"] == tc3.FORM_CONTENT_TYPE
    assert ours["Authorization"] == req.header["Authorization"]
    # the query is part of what is signed: another query, another signature
    other = _ours(payload=b"", method="GET", canonical_query=urlencode({**params, "TaskId": "task-2"}))
    assert other["Authorization"] != ours["Authorization"]


def test_the_language_header_is_sent_as_given_and_only_when_given(monkeypatch) -> None:
    req = _sdk_get({"SdkAppId": 1}, monkeypatch, language="en-US")
    ours = _ours(payload=b"", method="GET", canonical_query="SdkAppId=1", language="en-US")
    assert ours["X-TC-Language"] == req.header["X-TC-Language"] == "en-US"
    assert ours["Authorization"] == req.header["Authorization"]  # not signed: the same signature
    assert "X-TC-Language" not in _ours(payload=b"{}")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("HMAC-SHA1 Credential=a/2023-11-14/trtc/tc3_request", "unsupported algorithm 'HMAC-SHA1'"),
        ("TC3-HMAC-SHA256 Credential", "malformed Authorization header"),
        (
            "TC3-HMAC-SHA256 Credential=a/2023-11-14/trtc/v4_request, SignedHeaders=host, Signature=00",
            "malformed Authorization header: credential scope must end with tc3_request",
        ),
        ("TC3-HMAC-SHA256 Credential=a/2023-11-14/trtc/tc3_request, Signature=00", "malformed Authorization"),
    ],
    ids=["algorithm", "no-equals", "scope", "no-signed-headers"],
)
def test_a_malformed_authorization_says_what_is_wrong(header: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        tc3.parse_authorization(header)
    assert str(caught.value).startswith(message), str(caught.value)
