"""Signatures against the vendors' published vectors and the official Tencent SDK signer."""

from __future__ import annotations

import hashlib
import json
import re
import time
import types

import pytest
from tencentcloud.common import abstract_client, credential
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.live.v20180801.live_client import LiveClient
from tencentcloud.trtc.v20190722.trtc_client import TrtcClient

from airflow_provider_rtc.protocol import tencent as tencent_protocol
from airflow_provider_rtc.protocol import zego as zego_protocol
from airflow_provider_rtc.signing import callbacks, tc3
from airflow_provider_rtc.signing import zego as zego_signing
from tests.support.credentials import SECRET_ID, SECRET_KEY

TS = 1551113065  # 2019-02-25 16:44:25 UTC, 2019-02-26 00:44:25 at UTC+8

CVM_BODY = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
CVM_CT = "application/json; charset=utf-8"
CVM_HOST = "cvm.tencentcloudapi.com"


# --- TC3-HMAC-SHA256: published vectors -------------------------------------------------------


def test_cvm_body_bytes_are_the_published_ones() -> None:
    assert hashlib.sha256(CVM_BODY).hexdigest() == (
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    )


def test_tc3_variant_a_published_vector() -> None:
    canonical, signed = tc3.canonical_request(
        method="POST", headers={"content-type": CVM_CT, "host": CVM_HOST}, payload=CVM_BODY
    )
    assert signed == "content-type;host"
    assert hashlib.sha256(canonical.encode()).hexdigest() == (
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    )
    assert tc3.signature(SECRET_KEY, "cvm", TS, canonical) == (
        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )
    auth = tc3.authorization(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        service="cvm",
        timestamp=TS,
        method="POST",
        signed={"Content-Type": CVM_CT, "Host": CVM_HOST},
        payload=CVM_BODY,
    )
    assert auth == (
        f"TC3-HMAC-SHA256 Credential={SECRET_ID}/2019-02-25/cvm/tc3_request, "
        "SignedHeaders=content-type;host, "
        "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def test_tc3_variant_b_signs_x_tc_action_lowercased() -> None:
    headers = {"content-type": CVM_CT, "host": CVM_HOST, "x-tc-action": "DescribeInstances"}
    canonical, signed = tc3.canonical_request(method="POST", headers=headers, payload=CVM_BODY)
    assert signed == "content-type;host;x-tc-action"
    assert "x-tc-action:describeinstances\n" in canonical
    assert hashlib.sha256(canonical.encode()).hexdigest() == (
        "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"
    )
    assert tc3.derive_signing_key("*" * 32, "2019-02-25", "cvm").hex() == (
        "b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af"
    )
    assert tc3.signature("*" * 32, "cvm", TS, canonical) == (
        "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"
    )


def test_tc3_trtc_vector() -> None:
    headers = tc3.build_headers(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        service="trtc",
        host="trtc.tencentcloudapi.com",
        action="DescribeCloudRecording",
        version="2019-07-22",
        payload=b'{"SdkAppId": 1400000001, "TaskId": "task-abc"}',
        timestamp=TS,
        region="ap-guangzhou",
    )
    assert headers["Authorization"] == (
        f"TC3-HMAC-SHA256 Credential={SECRET_ID}/2019-02-25/trtc/tc3_request, "
        "SignedHeaders=content-type;host, "
        "Signature=577de536887a88ecdda6296d48832bc3bbe906518c37c7245e5aefb41cecbfe1"
    )
    assert headers["Content-Type"] == "application/json"
    assert headers["Host"] == "trtc.tencentcloudapi.com"
    assert headers["X-TC-Timestamp"] == str(TS)
    assert headers["X-TC-Action"] == "DescribeCloudRecording"
    assert headers["X-TC-Version"] == "2019-07-22"
    assert headers["X-TC-Region"] == "ap-guangzhou"


@pytest.fixture
def utc_plus_8(monkeypatch: pytest.MonkeyPatch):
    """Run with the process in China Standard Time, where 1551113065 is already 2019-02-26."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    tc3.utc_date.cache_clear()
    yield
    monkeypatch.undo()
    time.tzset()
    tc3.utc_date.cache_clear()


def test_credential_date_is_utc_even_in_utc_plus_8(utc_plus_8: None) -> None:
    assert time.strftime("%Y-%m-%d", time.localtime(TS)) == "2019-02-26"  # the trap
    assert tc3.utc_date(TS) == "2019-02-25"
    headers = tc3.build_headers(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        service="trtc",
        host="trtc.tencentcloudapi.com",
        action="DescribeCloudRecording",
        version="2019-07-22",
        payload=b'{"SdkAppId": 1400000001, "TaskId": "task-abc"}',
        timestamp=TS,
    )
    assert "/2019-02-25/trtc/tc3_request" in headers["Authorization"]
    assert headers["Authorization"].endswith(
        "577de536887a88ecdda6296d48832bc3bbe906518c37c7245e5aefb41cecbfe1"
    )


def test_parse_authorization_roundtrip_and_rejects_garbage() -> None:
    auth = tc3.authorization(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        service="trtc",
        timestamp=TS,
        method="POST",
        signed={"content-type": "application/json", "host": "h"},
        payload=b"{}",
    )
    parsed = tc3.parse_authorization(auth)
    assert (parsed.secret_id, parsed.date, parsed.service) == (SECRET_ID, "2019-02-25", "trtc")
    assert parsed.signed_headers == ("content-type", "host")
    assert re.fullmatch(r"[0-9a-f]{64}", parsed.signature)
    for bad in ("", "HMAC x", "TC3-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=x, Signature=y"):
        with pytest.raises(ValueError):
            tc3.parse_authorization(bad)


# --- TC3: byte-for-byte against the official SDK signer ---------------------------------------


def _sdk_request(client_cls, action: str, params: dict, monkeypatch, *, ts: int, host: str, dumps=None):
    """Let the official SDK build and sign a request (time patched, nothing sent)."""
    monkeypatch.setattr(abstract_client, "time", types.SimpleNamespace(time=lambda: ts))
    if dumps is not None:
        monkeypatch.setattr(abstract_client, "json", types.SimpleNamespace(dumps=dumps))
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=host))
    client = client_cls(credential.Credential(SECRET_ID, SECRET_KEY), "ap-guangzhou", profile)
    req = RequestInternal(host, "POST", "/")
    client._build_req_with_tc3_signature(action, params, req)
    return req


@pytest.mark.parametrize(
    ("client_cls", "service", "version", "action", "params"),
    [
        (TrtcClient, "trtc", "2019-07-22", "DescribeCloudRecording", {"SdkAppId": 1400000001, "TaskId": "t"}),
        (TrtcClient, "trtc", "2019-07-22", "DismissRoom", {"SdkAppId": 1400000001, "RoomId": 4294967295}),
        (
            TrtcClient,
            "trtc",
            "2019-07-22",
            "RemoveUserByStrRoomId",
            {"SdkAppId": 1400000001, "RoomId": "房间 #1", "UserIds": ["ü1", "u2"]},
        ),
        (LiveClient, "live", "2018-08-01", "CancelCommonMixStream", {"MixStreamSessionId": "mix_1"}),
    ],
)
@pytest.mark.parametrize("ts", [TS, 1700000000, 1767225599])
def test_authorization_header_equals_official_sdk(
    monkeypatch, client_cls, service, version, action, params, ts
) -> None:
    host = f"{service}.tencentcloudapi.com"
    # 1. the SDK's own body (json.dumps defaults): our signer over the same bytes gives the same header
    req = _sdk_request(client_cls, action, params, monkeypatch, ts=ts, host=host)
    ours = tc3.build_headers(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        service=service,
        host=host,
        action=action,
        version=version,
        payload=req.data.encode("utf-8"),
        timestamp=ts,
        region="ap-guangzhou",
    )
    assert ours["Authorization"] == req.header["Authorization"]
    for name in ("Content-Type", "Host", "X-TC-Action", "X-TC-Version", "X-TC-Timestamp", "X-TC-Region"):
        assert ours[name] == req.header[name], name

    # 2. our wire body (compact, UTF-8): the SDK signing those exact bytes agrees with the call we send
    endpoint = tencent_protocol.TencentEndpoint.for_service(service)
    call = tencent_protocol.build_call(
        endpoint,
        tencent_protocol.TencentCredentials(SECRET_ID, SECRET_KEY),
        action=action,
        version=version,
        params=params,
        region="ap-guangzhou",
        user_agent="test",
        timestamp=ts,
    )
    req2 = _sdk_request(
        client_cls,
        action,
        params,
        monkeypatch,
        ts=ts,
        host=host,
        dumps=lambda p: tencent_protocol.encode_body(p).decode("utf-8"),
    )
    assert req2.data.encode("utf-8") == call.body
    assert call.headers["Authorization"] == req2.header["Authorization"]
    assert call.url == f"https://{host}/"


def test_sdk_comparison_with_sts_token(monkeypatch) -> None:
    monkeypatch.setattr(abstract_client, "time", types.SimpleNamespace(time=lambda: TS))
    profile = ClientProfile(httpProfile=HttpProfile(endpoint="trtc.tencentcloudapi.com"))
    cred = credential.Credential(SECRET_ID, SECRET_KEY, "sts-token-value")
    client = TrtcClient(cred, "ap-guangzhou", profile)
    req = RequestInternal("trtc.tencentcloudapi.com", "POST", "/")
    client._build_req_with_tc3_signature("DismissRoom", {"SdkAppId": 1, "RoomId": 2}, req)
    ours = tc3.build_headers(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        service="trtc",
        host="trtc.tencentcloudapi.com",
        action="DismissRoom",
        version="2019-07-22",
        payload=req.data.encode(),
        timestamp=TS,
        region="ap-guangzhou",
        token="sts-token-value",
    )
    assert ours["Authorization"] == req.header["Authorization"]
    assert ours["X-TC-Token"] == req.header["X-TC-Token"] == "sts-token-value"


def test_intl_host_is_signed_with_the_plain_service_name() -> None:
    endpoint = tencent_protocol.TencentEndpoint.for_service("trtc", intl=True)
    assert endpoint.host == "trtc.intl.tencentcloudapi.com"
    assert endpoint.url == "https://trtc.intl.tencentcloudapi.com/"
    call = tencent_protocol.build_call(
        endpoint,
        tencent_protocol.TencentCredentials(SECRET_ID, SECRET_KEY),
        action="DismissRoom",
        version="2019-07-22",
        params={"SdkAppId": 1, "RoomId": 2},
        region="ap-singapore",
        user_agent="t",
        timestamp=TS,
    )
    assert call.headers["Host"] == "trtc.intl.tencentcloudapi.com"
    assert "/2019-02-25/trtc/tc3_request" in call.headers["Authorization"]


def test_each_build_signs_afresh_with_the_current_time(monkeypatch) -> None:
    clock = iter([TS, TS + 61])
    monkeypatch.setattr(
        tc3,
        "time",
        types.SimpleNamespace(time=lambda: next(clock), gmtime=time.gmtime, strftime=time.strftime),
    )
    kwargs = dict(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        service="trtc",
        host="h",
        action="DismissRoom",
        version="2019-07-22",
        payload=b"{}",
    )
    first, second = tc3.build_headers(**kwargs), tc3.build_headers(**kwargs)
    assert (first["X-TC-Timestamp"], second["X-TC-Timestamp"]) == (str(TS), str(TS + 61))
    assert first["Authorization"] != second["Authorization"]


# --- ZEGO signature 2.0 -----------------------------------------------------------------------


def test_zego_published_vector() -> None:
    assert zego_signing.signature(
        12345, "4fd24687296dd9f3", "9193cc662a4c0ec135ec71fb57194b38", 1615186943
    ) == ("43e5cfcca828314675f91b001390566a")
    assert zego_signing.signature(
        "12345", "4fd24687296dd9f3", "9193cc662a4c0ec135ec71fb57194b38", 1615186943
    ) == ("43e5cfcca828314675f91b001390566a")


def test_zego_public_params_with_vector_values() -> None:
    params = zego_signing.public_params(
        12345, "9193cc662a4c0ec135ec71fb57194b38", timestamp=1615186943, nonce="4fd24687296dd9f3"
    )
    assert params == {
        "AppId": "12345",
        "SignatureNonce": "4fd24687296dd9f3",
        "Timestamp": "1615186943",
        "Signature": "43e5cfcca828314675f91b001390566a",
        "SignatureVersion": "2.0",
    }
    assert zego_signing.public_params(1, "s", is_test=True)["IsTest"] == "true"
    assert zego_signing.public_params(1, "s", is_test=False)["IsTest"] == "false"


def test_zego_nonce_is_16_hex_and_fresh_per_call() -> None:
    nonces = [zego_signing.new_nonce() for _ in range(200)]
    assert all(re.fullmatch(r"[0-9a-f]{16}", n) for n in nonces)
    assert len(set(nonces)) == len(nonces)
    params = [zego_signing.public_params(12345, "secret", timestamp=1615186943) for _ in range(20)]
    assert len({p["SignatureNonce"] for p in params}) == 20
    assert len({p["Signature"] for p in params}) == 20
    for p in params:
        expected = hashlib.md5(f"12345{p['SignatureNonce']}secret1615186943".encode()).hexdigest()
        assert p["Signature"] == expected


def test_zego_build_call_signs_each_call_with_a_new_nonce() -> None:
    creds = zego_protocol.ZegoCredentials(app_id=12345, server_secret="9193cc662a4c0ec135ec71fb57194b38")
    calls = [
        zego_protocol.build_call(
            "https://rtc-api.zego.im",
            creds,
            action="CloseRoom",
            params={"RoomId": "r"},
            method="GET",
            user_agent="t",
        )
        for _ in range(3)
    ]
    assert len({c.url for c in calls}) == 3
    fixed = zego_protocol.build_call(
        "https://rtc-api.zego.im",
        creds,
        action="CloseRoom",
        params={"RoomId": "r"},
        method="GET",
        user_agent="t",
        timestamp=1615186943,
        nonce="4fd24687296dd9f3",
    )
    assert fixed.url == (
        "https://rtc-api.zego.im/?Action=CloseRoom&AppId=12345&SignatureNonce=4fd24687296dd9f3"
        "&Timestamp=1615186943&Signature=43e5cfcca828314675f91b001390566a&SignatureVersion=2.0&RoomId=r"
    )
    assert fixed.body is None


# --- callbacks --------------------------------------------------------------------------------

TRTC_CALLBACK_BODY = (
    b'{\n\t"EventGroupId":\t2,\n\t"EventType":\t204,\n\t"CallbackTs":\t1664209748188,\n\t'
    b'"EventInfo":\t{\n\t\t"RoomId":\t8489,\n\t\t"EventTs":\t1664209748,\n\t\t'
    b'"EventMsTs":\t1664209748180,\n\t\t"UserId":\t"user_85034614",\n\t\t"Reason":\t0\n\t}\n}'
)
TRTC_CALLBACK_SIGN = "kkoFeO3Oh2ZHnjtg8tEAQhtXK16/KI05W3BQff8IvGA="


def test_trtc_callback_published_vector() -> None:
    assert json.loads(TRTC_CALLBACK_BODY)["EventInfo"]["UserId"] == "user_85034614"  # the exact text
    assert callbacks.trtc_callback_sign(TRTC_CALLBACK_BODY, "123654") == TRTC_CALLBACK_SIGN
    assert callbacks.verify_trtc_callback(TRTC_CALLBACK_BODY, TRTC_CALLBACK_SIGN, "123654")
    assert callbacks.verify_trtc_callback(TRTC_CALLBACK_BODY, f" {TRTC_CALLBACK_SIGN}\n", "123654")


@pytest.mark.parametrize(
    ("body", "sign", "key"),
    [
        (TRTC_CALLBACK_BODY, None, "123654"),
        (TRTC_CALLBACK_BODY, "", "123654"),
        (TRTC_CALLBACK_BODY, "kkoFeO3Oh2ZHnjtg8tEAQhtXK16/KI05W3BQff8IvGB=", "123654"),
        (TRTC_CALLBACK_BODY, TRTC_CALLBACK_SIGN, "123655"),
        (TRTC_CALLBACK_BODY, TRTC_CALLBACK_SIGN, ""),
        # re-serialized JSON is not the signed body
        (json.dumps(json.loads(TRTC_CALLBACK_BODY)).encode(), TRTC_CALLBACK_SIGN, "123654"),
        (TRTC_CALLBACK_BODY + b" ", TRTC_CALLBACK_SIGN, "123654"),
    ],
)
def test_trtc_callback_rejects_missing_or_bad_signatures(body, sign, key) -> None:
    assert callbacks.verify_trtc_callback(body, sign, key) is False


def test_zego_callback_published_vector() -> None:
    expected = "5bd59fd62953a8059fb7eaba95720f66d19e4517"
    assert callbacks.zego_callback_signature("secret", 1470820198, 123412) == expected
    assert callbacks.zego_callback_signature("secret", "1470820198", "123412") == expected
    assert hashlib.sha1(b"1234121470820198secret").hexdigest() == expected
    assert callbacks.verify_zego_callback("secret", "1470820198", "123412", expected)
    assert callbacks.verify_zego_callback("secret", 1470820198, 123412, expected.upper())


@pytest.mark.parametrize(
    ("secret", "ts", "nonce", "sig"),
    [
        ("secret", "1470820198", "123412", None),
        ("secret", "1470820198", "123412", ""),
        ("secret", "1470820198", "123412", "5bd59fd62953a8059fb7eaba95720f66d19e4518"),
        ("secret", "1470820199", "123412", "5bd59fd62953a8059fb7eaba95720f66d19e4517"),
        ("secret", None, "123412", "5bd59fd62953a8059fb7eaba95720f66d19e4517"),
        ("secret", "1470820198", "", "5bd59fd62953a8059fb7eaba95720f66d19e4517"),
        ("", "1470820198", "123412", "5bd59fd62953a8059fb7eaba95720f66d19e4517"),
        ("Secret", "1470820198", "123412", "5bd59fd62953a8059fb7eaba95720f66d19e4517"),
    ],
)
def test_zego_callback_rejects_missing_or_bad_signatures(secret, ts, nonce, sig) -> None:
    assert callbacks.verify_zego_callback(secret, ts, nonce, sig) is False
