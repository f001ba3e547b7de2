"""ZEGO signature 2.0 and gateway codes, checked with plain ``requests``."""

from __future__ import annotations

import requests
from rtc_sandbox.config import DEFAULT_ZEGO_APP_ID

from .conftest import DOC_ZEGO_APP_ID, ZegoCaller

DOC_TS = 1615186943
DOC_NONCE = "4fd24687296dd9f3"
DOC_SIGNATURE = "43e5cfcca828314675f91b001390566a"


def test_published_vector_is_accepted(sb):
    sb.backend.clock.set_now(DOC_TS + 5)
    query = {
        "Action": "DescribeUserNum",
        "AppId": DOC_ZEGO_APP_ID,
        "SignatureNonce": DOC_NONCE,
        "Timestamp": DOC_TS,
        "Signature": DOC_SIGNATURE,
        "SignatureVersion": "2.0",
        "RoomId[]": "room_x",
    }
    out = requests.get(sb.url + "/", params=query, timeout=5).json()
    assert out["Code"] == 0, out
    assert out["Data"] == {"UserCountList": [{"RoomId": "room_x", "UserCount": 0, "AdminUserCount": 0}]}
    tampered = requests.get(sb.url + "/", params={**query, "Signature": DOC_SIGNATURE[:-1] + "b"}, timeout=5)
    assert tampered.json()["Code"] == 100000005
    upper = requests.get(sb.url + "/", params={**query, "Signature": DOC_SIGNATURE.upper()}, timeout=5)
    assert upper.json()["Code"] == 100000005


def test_gateway_codes(sb, zego):
    params = {"RoomId": ["room_1"]}
    now = int(sb.backend.now())
    cases = [
        ({"drop": ("Timestamp",)}, 100000002),
        ({"override": {"Timestamp": "yesterday"}}, 100000003),
        ({"timestamp": now - 601}, 100000004),
        ({"timestamp": now + 601}, 100000004),
        ({"override": {"Signature": "0" * 32}}, 100000005),
        ({"drop": ("SignatureNonce",)}, 100000008),
        ({"drop": ("Signature",)}, 100000009),
        ({"drop": ("SignatureVersion",)}, 100000013),
        ({"override": {"SignatureVersion": "1.0"}}, 100000014),
        ({"override": {"AppId": "12ab"}}, 100000001),
        ({"drop": ("AppId",)}, 100000001),
    ]
    for kwargs, code in cases:
        assert zego("DescribeUserNum", params, **kwargs)["Code"] == code, kwargs
    assert zego("DescribeUserNum", params, timestamp=now - 590)["Code"] == 0
    assert zego(None, params, method="GET")["Code"] == 100000006
    assert zego("DescribeRoomMagic", params, method="GET")["Code"] == 100000007
    assert ZegoCaller(sb, app_id=999)("DescribeUserNum", params)["Code"] == 100000010
    assert ZegoCaller(sb, secret="f" * 32)("DescribeUserNum", params)["Code"] == 100000005


def test_signature_checked_before_action_support_and_params(sb):
    wrong = ZegoCaller(sb, secret="f" * 32)
    assert wrong("NoSuchAction", {}, method="GET")["Code"] == 100000005
    assert wrong("KickoutUser", {}, method="GET")["Code"] == 100000005


def test_array_brackets_raw_or_encoded(sb, zego):
    sb.seed({"zego": {"rooms": 2, "users_per_room": 2}})
    pairs = zego.query("DescribeUserNum", {"RoomId": ["room_1", "room_2"]})
    encoded = requests.get(sb.url + "/", params=pairs, timeout=5)
    assert "%5B%5D" in encoded.url
    raw_query = "&".join(f"{k}={v}" for k, v in pairs)
    assert "RoomId[]=room_1" in raw_query
    raw = requests.get(sb.url + "/?" + raw_query, timeout=5)
    for resp in (encoded, raw):
        counts = [r["UserCount"] for r in resp.json()["Data"]["UserCountList"]]
        assert counts == [2, 2]
    bare = zego.query("DescribeUserNum", {"RoomId": "room_1"})
    assert requests.get(sb.url + "/", params=bare, timeout=5).json()["Code"] == 2


def test_method_must_match_action(zego):
    assert zego("DescribeUserNum", {"RoomId": ["r"]}, method="POST")["Code"] == 2
    assert zego("StartMix", {"TaskId": "t"}, method="GET")["Code"] == 110200002
    assert zego("DescribeRecordStatus", {"TaskId": "t"}, method="GET")["Code"] == 300000004


def test_envelope_and_bad_bodies(sb, zego):
    out = zego("CloseRoom", {"RoomId": "nope"})
    assert out["Data"] is None and out["RequestId"].isdigit()
    pairs = zego.query("StopRecord")
    bad = requests.post(sb.url + "/", params=pairs, data=b"{not json", timeout=5).json()
    assert bad["Code"] == 300000004
    assert zego("StopMix", body=["not", "an", "object"])["Code"] == 110200002
    assert (
        zego("DescribeRecordStatus", {"TaskId": "X3CgNeE4I1qAAABN"})["Message"]
        == "recording task does not exist"
    )


def test_default_app_id_matches_connection(sb):
    assert sb.connections["zegocloud_default"]["login"] == str(DEFAULT_ZEGO_APP_ID)
