"""The sandbox's own server-side signatures (rtc_sandbox.signing) reproduce the vendors' published vectors.

The sandbox verifies requests and signs callbacks with code of its own, not the provider's: these
vectors (recomputed from the vendors' pages, sources in rtc_sandbox/signing.py) pin it to the
documentation, so the provider's signer and the sandbox can only agree by both following it.
"""

from __future__ import annotations

import json

from rtc_sandbox import signing

# Tencent "Signature v3" worked example (CVM DescribeInstances, en/intl page, variant content-type;host)
_TC3_BODY = json.dumps({"Limit": 1, "Filters": [{"Values": ["未命名"], "Name": "instance-name"}]}).encode()


def test_tc3_signature_matches_the_official_worked_example() -> None:
    assert (
        signing.tc3_signature(
            secret_key="Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            service="cvm",
            timestamp=1551113065,
            method="POST",
            headers={"content-type": "application/json; charset=utf-8", "host": "cvm.tencentcloudapi.com"},
            payload=_TC3_BODY,
        )
        == "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def test_tc3_signature_matches_the_official_sdk_on_a_trtc_call() -> None:
    """Vector produced with tencentcloud-sdk-python (time patched), signed headers as the SDK sends them."""
    assert (
        signing.tc3_signature(
            secret_key="Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            service="trtc",
            timestamp=1551113065,
            method="POST",
            headers={"Content-Type": "application/json", "Host": "trtc.tencentcloudapi.com"},
            payload=b'{"SdkAppId": 1400000001, "TaskId": "task-abc"}',
        )
        == "577de536887a88ecdda6296d48832bc3bbe906518c37c7245e5aefb41cecbfe1"
    )


def test_tc3_scope_date_is_utc() -> None:
    # 1551113065 is 2019-02-26 00:44:25 in UTC+8 but 2019-02-25 in UTC (the page's warning)
    assert signing.utc_date(1551113065) == "2019-02-25"


def test_tc3_authorization_is_parsed_and_malformed_ones_refused() -> None:
    auth = signing.parse_tc3_authorization(
        "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2019-02-25/trtc/tc3_request, "
        "SignedHeaders=content-type;host, Signature=abc"
    )
    assert (auth.secret_id, auth.date, auth.service, auth.signed_headers, auth.signature) == (
        "AKIDEXAMPLE",
        "2019-02-25",
        "trtc",
        ("content-type", "host"),
        "abc",
    )
    for bad in (
        "HMAC-SHA256 Credential=a/b/c/tc3_request, SignedHeaders=host, Signature=x",
        "TC3-HMAC-SHA256 Credential=a/b/c/other, SignedHeaders=host, Signature=x",
        "TC3-HMAC-SHA256 Credential=a/b/c/tc3_request, SignedHeaders=host",
        "TC3-HMAC-SHA256 Credential=a/b/c/tc3_request SignedHeaders=host, Signature=x",
    ):
        try:
            signing.parse_tc3_authorization(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad!r}")


def test_zego_api_signature_matches_the_documented_example() -> None:
    assert (
        signing.zego_api_signature(12345, "4fd24687296dd9f3", "9193cc662a4c0ec135ec71fb57194b38", 1615186943)
        == "43e5cfcca828314675f91b001390566a"
    )


def test_trtc_callback_sign_matches_the_documented_example() -> None:
    body = (
        b'{\n\t"EventGroupId":\t2,\n\t"EventType":\t204,\n\t"CallbackTs":\t1664209748188,\n\t"EventInfo":\t'
        b'{\n\t\t"RoomId":\t8489,\n\t\t"EventTs":\t1664209748,\n\t\t"EventMsTs":\t1664209748180,\n\t\t'
        b'"UserId":\t"user_85034614",\n\t\t"Reason":\t0\n\t}\n}'
    )
    assert signing.trtc_callback_sign(body, "123654") == "kkoFeO3Oh2ZHnjtg8tEAQhtXK16/KI05W3BQff8IvGA="


def test_zego_callback_signature_matches_the_documented_example() -> None:
    assert (
        signing.zego_callback_signature("secret", 1470820198, 123412)
        == "5bd59fd62953a8059fb7eaba95720f66d19e4517"
    )


def test_live_callback_sign_is_md5_of_key_and_expiry() -> None:
    # md5("key" + "1700000000"), computed independently of the implementation
    import hashlib

    expected = hashlib.md5(b"key1700000000").hexdigest()
    assert signing.live_callback_sign("key", 1700000000) == expected
