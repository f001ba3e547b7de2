"""The sandbox trusts nothing: every wrong-signer variant and protocol slip is refused with Tencent's code."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import requests

from airflow_provider_rtc.signing import tc3

from .conftest import DOC_SECRET_ID, DOC_SECRET_KEY, TencentCaller, code_of

#: 2019-02-25 16:44:25 UTC = 2019-02-26 00:44:25 at UTC+8: the local date is wrong here.
NEAR_MIDNIGHT = 1551113065


def _post(sb, headers, body, params=None):
    resp = requests.post(sb.url + "/", headers=headers, data=body, params=params, timeout=5)
    assert resp.status_code == 200
    return resp.json()["Response"]


def _auth_with_date(secret_key, service, ts, date, canonical, signed_headers="content-type;host"):
    """A TC3 signer that takes the credential-scope date from the caller (e.g. a local date)."""
    scope = f"{date}/{service}/tc3_request"
    key = tc3.derive_signing_key(secret_key, date, service)
    to_sign = f"TC3-HMAC-SHA256\n{ts}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={DOC_SECRET_ID}/{scope}, SignedHeaders={signed_headers}, Signature={sig}"
    )


def test_published_vector_is_accepted_and_any_change_refused(sb):
    """tencent-cloud-api.md §1.5: the SDK-produced TRTC vector passes the sandbox's verifier."""
    sb.backend.clock.set_now(NEAR_MIDNIGHT + 2)
    body = b'{"SdkAppId": 1400000001, "TaskId": "task-abc"}'
    headers = {
        "Authorization": "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/trtc/"
        "tc3_request, SignedHeaders=content-type;host, "
        "Signature=577de536887a88ecdda6296d48832bc3bbe906518c37c7245e5aefb41cecbfe1",
        "Content-Type": "application/json",
        "Host": "trtc.tencentcloudapi.com",
        "X-TC-Action": "DescribeCloudRecording",
        "X-TC-Version": "2019-07-22",
        "X-TC-Timestamp": str(NEAR_MIDNIGHT),
        "X-TC-Region": "ap-guangzhou",
    }
    assert code_of(_post(sb, headers, body)) == "ResourceNotFound"
    assert code_of(_post(sb, headers, body.replace(b"abc", b"abd"))) == "AuthFailure.SignatureFailure"
    assert code_of(_post(sb, {**headers, "Host": "trtc.intl.tencentcloudapi.com"}, body)) == (
        "AuthFailure.SignatureFailure"
    )


def test_local_date_near_midnight_is_refused(sb):
    sb.backend.clock.set_now(NEAR_MIDNIGHT + 1)
    caller = TencentCaller(sb, DOC_SECRET_ID, DOC_SECRET_KEY)
    body = json.dumps({"SdkAppId": 1400000001, "TaskId": "t"}).encode()
    headers = {"content-type": "application/json", "host": caller.host}
    canonical, _ = tc3.canonical_request(method="POST", headers=headers, payload=body)
    local_date = time.strftime("%Y-%m-%d", time.gmtime(NEAR_MIDNIGHT + 8 * 3600))
    assert local_date == "2019-02-26"
    common = {
        "Content-Type": "application/json",
        "X-TC-Action": "DescribeCloudRecording",
        "X-TC-Version": "2019-07-22",
        "X-TC-Timestamp": str(NEAR_MIDNIGHT),
        "X-TC-Region": "ap-guangzhou",
    }
    wrong = _auth_with_date(DOC_SECRET_KEY, "trtc", NEAR_MIDNIGHT, local_date, canonical)
    assert code_of(_post(sb, {**common, "Authorization": wrong}, body)) == "AuthFailure.SignatureFailure"
    right = _auth_with_date(DOC_SECRET_KEY, "trtc", NEAR_MIDNIGHT, "2019-02-25", canonical)
    assert code_of(_post(sb, {**common, "Authorization": right}, body)) == "ResourceNotFound"
    # the UTC date in the scope but a key derived from the local date: still refused
    forged = right.rsplit("Signature=", 1)[0] + "Signature=" + wrong.rsplit("Signature=", 1)[1]
    assert code_of(_post(sb, {**common, "Authorization": forged}, body)) == "AuthFailure.SignatureFailure"


def test_charset_added_after_signing_is_refused(tencent):
    url, headers, body = tencent.signed("DescribeCloudRecording", {"SdkAppId": 1400000001, "TaskId": "t"})
    headers["Content-Type"] = "application/json; charset=utf-8"
    resp = requests.post(url, headers=headers, data=body, timeout=5).json()["Response"]
    assert code_of(resp) == "AuthFailure.SignatureFailure"


def test_charset_signed_as_sent_is_accepted(sb):
    """The doc's own example signs ``application/json; charset=utf-8``: fine when sent verbatim."""
    caller = TencentCaller(sb)
    body = b'{"SdkAppId":1400000001,"TaskId":"t"}'
    ct = "application/json; charset=utf-8"
    ts = int(sb.backend.now())
    auth = tc3.authorization(
        secret_id=caller.secret_id,
        secret_key=caller.secret_key,
        service="trtc",
        timestamp=ts,
        method="POST",
        signed={"content-type": ct, "host": caller.host},
        payload=body,
    )
    headers = {
        "Authorization": auth,
        "Content-Type": ct,
        "X-TC-Action": "DescribeCloudRecording",
        "X-TC-Version": "2019-07-22",
        "X-TC-Timestamp": str(ts),
        "X-TC-Region": "ap-guangzhou",
    }
    assert code_of(_post(sb, headers, body)) == "ResourceNotFound"


def test_body_reserialized_after_signing_is_refused(tencent):
    params = {"SdkAppId": 1400000001, "TaskId": "t"}
    url, headers, body = tencent.signed("DescribeCloudRecording", params)
    compact = json.dumps(params, separators=(",", ":")).encode()
    assert compact != body and json.loads(compact) == json.loads(body)
    resp = requests.post(url, headers=headers, data=compact, timeout=5).json()["Response"]
    assert code_of(resp) == "AuthFailure.SignatureFailure"


def test_get_query_changed_after_signing_is_refused(sb, tencent):
    sb.seed({"trtc": {"rooms": 1, "users_per_room": 2}})
    url, headers, _ = tencent.signed(
        "RemoveUser", {"SdkAppId": 1400000001, "RoomId": 1001, "UserIds": ["user_1001_1"]}, method="GET"
    )
    tampered = url.replace("user_1001_1", "user_1001_2")
    resp = requests.get(tampered, headers=headers, timeout=5).json()["Response"]
    assert code_of(resp) == "AuthFailure.SignatureFailure"
    assert code_of(requests.get(url, headers=headers, timeout=5).json()["Response"]) is None
    assert sb.backend.trtc.room_users(1400000001, 1001) == ["user_1001_2"]


def test_signed_headers_must_cover_content_type_and_host(sb, tencent):
    _url, headers, body = tencent.signed("DescribeCloudRecording", {"SdkAppId": 1400000001, "TaskId": "t"})
    headers["Authorization"] = headers["Authorization"].replace(
        "SignedHeaders=content-type;host", "SignedHeaders=host"
    )
    assert code_of(_post(sb, headers, body)) == "AuthFailure.SignatureFailure"


def test_missing_and_garbled_authorization(sb, tencent):
    _url, headers, body = tencent.signed("DescribeCloudRecording", {"SdkAppId": 1400000001, "TaskId": "t"})
    without = {k: v for k, v in headers.items() if k != "Authorization"}
    assert code_of(_post(sb, without, body)) == "AuthFailure.InvalidAuthorization"
    garbled = {**headers, "Authorization": "TC3-HMAC-SHA256 Credential=nonsense"}
    assert code_of(_post(sb, garbled, body)) == "AuthFailure.InvalidAuthorization"
    other_algo = {
        **headers,
        "Authorization": headers["Authorization"].replace("TC3-HMAC-SHA256", "HMAC-SHA1"),
    }
    assert code_of(_post(sb, other_algo, body)) == "AuthFailure.InvalidAuthorization"


def test_skew_limit_is_300_seconds_both_ways(tencent):
    now = int(tencent.server.backend.now())
    params = {"SdkAppId": 1400000001, "TaskId": "t"}
    for ts, expected in [
        (now - 290, "ResourceNotFound"),
        (now + 290, "ResourceNotFound"),
        (now - 310, "AuthFailure.SignatureExpire"),
        (now + 310, "AuthFailure.SignatureExpire"),
    ]:
        assert code_of(tencent("DescribeCloudRecording", params, timestamp=ts)) == expected


def test_unknown_service_version_action(tencent):
    params = {"SdkAppId": 1400000001, "TaskId": "t"}
    assert (
        code_of(tencent("DescribeCloudRecording", params, service="cvm"))
        == "AuthFailure.InvalidAuthorization"
    )
    assert code_of(tencent("DescribeCloudRecording", params, version="2017-03-12")) == "NoSuchVersion"
    assert code_of(tencent("DescribeInstances", params)) == "InvalidAction"
    # a TRTC action signed for the live service is not a live action
    assert code_of(tencent("DismissRoom", params, service="live")) == "InvalidAction"


def test_regions(tencent):
    params = {"SdkAppId": 1400000001, "TaskId": "t"}
    missing = tencent("DescribeCloudRecording", params, region=None)
    assert code_of(missing) == "MissingParameter"
    assert "Region" in missing["Error"]["Message"]
    assert code_of(tencent("DescribeCloudRecording", params, region="ap-tokyo")) == "UnsupportedRegion"
    assert code_of(tencent("DescribeCloudRecording", params, region="mars-1")) == "InvalidParameterValue"
    assert code_of(tencent("DismissRoom", {"SdkAppId": 1400000001, "RoomId": 5}, region="ap-shanghai")) == (
        "UnsupportedRegion"
    )
    assert code_of(tencent("DescribeCloudRecording", params, region="ap-shanghai")) == "ResourceNotFound"
    # Live needs no region
    live = tencent(
        "DescribeLiveStreamState", {"AppName": "live", "DomainName": "d", "StreamName": "s"}, region=None
    )
    assert live["StreamState"] == "inactive"


def test_auth_is_checked_before_business_validation(sb):
    bad = TencentCaller(sb, secret_key="wrong-key")
    # everything about this request is wrong, but the key is what gets reported
    out = bad("DismissRoom", {"RoomId": "not-a-number"})
    assert code_of(out) == "AuthFailure.SignatureFailure"
    assert code_of(bad("DismissRoom", {}, region="nowhere")) == "AuthFailure.SignatureFailure"


def test_envelopes(tencent):
    ok = tencent("DescribeLiveStreamState", {"AppName": "live", "DomainName": "d", "StreamName": "s"})
    assert set(ok) == {"StreamState", "RequestId"}
    assert uuid.UUID(ok["RequestId"]).version == 4
    err = tencent("DismissRoom", {"SdkAppId": 1400000001, "RoomId": 77})
    assert set(err) == {"Error", "RequestId"}
    assert set(err["Error"]) == {"Code", "Message"}
    assert uuid.UUID(err["RequestId"]).version == 4


def test_content_types(sb, tencent):
    _url, headers, _body = tencent.signed("DescribeCloudRecording", {"SdkAppId": 1400000001, "TaskId": "t"})
    form = "SdkAppId=1400000001&TaskId=t"
    ts = int(sb.backend.now())
    auth = tc3.authorization(
        secret_id=tencent.secret_id,
        secret_key=tencent.secret_key,
        service="trtc",
        timestamp=ts,
        method="POST",
        signed={"content-type": "application/x-www-form-urlencoded", "host": tencent.host},
        payload=form.encode(),
    )
    headers.update({"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"})
    headers["X-TC-Timestamp"] = str(ts)
    assert code_of(_post(sb, headers, form)) == "InvalidParameter"


def test_unsigned_payload_option(sb, tencent):
    """The SDK's ``unsignedPayload`` option hashes the literal UNSIGNED-PAYLOAD instead of the body."""
    body = b'{"SdkAppId": 1400000001, "TaskId": "t"}'
    ts = int(sb.backend.now())
    canonical = (
        f"POST\n/\n\ncontent-type:application/json\nhost:{tencent.host}\n\ncontent-type;host\n"
        + hashlib.sha256(b"UNSIGNED-PAYLOAD").hexdigest()
    )
    sig = tc3.signature(tencent.secret_key, "trtc", ts, canonical)
    scope = f"{tc3.utc_date(ts)}/trtc/tc3_request"
    headers = {
        "Authorization": f"TC3-HMAC-SHA256 Credential={tencent.secret_id}/{scope}, "
        f"SignedHeaders=content-type;host, Signature={sig}",
        "Content-Type": "application/json",
        "X-TC-Content-SHA256": "UNSIGNED-PAYLOAD",
        "X-TC-Action": "DescribeCloudRecording",
        "X-TC-Version": "2019-07-22",
        "X-TC-Timestamp": str(ts),
        "X-TC-Region": "ap-guangzhou",
    }
    assert code_of(_post(sb, headers, body)) == "ResourceNotFound"
    del headers["X-TC-Content-SHA256"]
    assert code_of(_post(sb, headers, body)) == "AuthFailure.SignatureFailure"


def test_missing_common_headers(sb, tencent):
    _url, headers, body = tencent.signed("DescribeCloudRecording", {"SdkAppId": 1400000001, "TaskId": "t"})
    for header, name in [
        ("X-TC-Version", "Version"),
        ("X-TC-Action", "Action"),
        ("X-TC-Timestamp", "Timestamp"),
    ]:
        out = _post(sb, {k: v for k, v in headers.items() if k != header}, body)
        assert code_of(out) == "MissingParameter", header
        assert f"`{name}`" in out["Error"]["Message"]
