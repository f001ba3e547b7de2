"""The wire shapes and error mapping of protocol/ and errors.py, at their exact edges.

Written for `make mutate` (issue 24 item 5): the hook tests reach these through whole calls (and are
left out of the mutation selection), so the details a user or support sees are pinned here: the
exact request a call sends, which replies are unreadable, and what an error says and carries.
"""

from __future__ import annotations

import json
import pickle
from urllib.parse import parse_qsl, urlsplit

import pytest

from airflow_provider_rtc.errors import (
    RtcApiError,
    RtcAuthError,
    RtcError,
    RtcInvalidInputError,
    RtcNotFoundError,
    RtcStoppedError,
    RtcThrottledError,
    RtcTransientError,
    RtcValidationError,
)
from airflow_provider_rtc.protocol import tencent, zego
from airflow_provider_rtc.protocol.codes import Kind
from airflow_provider_rtc.protocol.http import HttpCall, HttpReply, api_error, unreadable

SKEW_HINT = " (the request was signed just now: check this machine's clock, e.g. NTP)"


# --- errors.py ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({}, "boom"),
        ({"cloud": "ZEGOCLOUD"}, "ZEGOCLOUD: boom"),
        ({"action": "StopMix"}, "StopMix: boom"),
        ({"cloud": "ZEGOCLOUD", "action": "StopMix"}, "ZEGOCLOUD StopMix: boom"),
        ({"cloud": "C", "code": 0}, "C [0]: boom"),
        ({"code": ""}, "boom"),
        ({"action": "A", "code": None}, "A: boom"),
        (
            {"cloud": "C", "action": "A", "code": "X.Y", "request_id": "r-9"},
            "C A [X.Y]: boom (RequestId r-9)",
        ),
        ({"request_id": ""}, "boom"),
    ],
)
def test_an_error_renders_where_code_and_request_id(kwargs: dict[str, object], text: str) -> None:
    err = RtcApiError("boom", **kwargs)  # type: ignore[arg-type]
    assert str(err) == text == err.describe()
    assert err.args == (text,)


def test_an_errors_fields_and_defaults() -> None:
    err = RtcError("m", cloud="c", action="a", code=7, request_id="r", http_status=503)
    assert (err.message, err.cloud, err.action, err.code, err.request_id, err.http_status) == (
        "m",
        "c",
        "a",
        7,
        "r",
        503,
    )
    assert (err.maybe_executed, err.attempts, err.response_lost, err.after_lost_response) == (
        True,
        1,
        False,
        False,
    )
    bare = RtcError("m")
    assert (bare.cloud, bare.action, bare.code, bare.request_id, bare.http_status) == (None,) * 5


def test_the_attempt_count_shows_only_after_a_retry_and_not_in_describe() -> None:
    err = RtcTransientError("reset", cloud="C")
    err.attempts = 1
    assert str(err) == "C: reset"
    err.attempts = 2
    assert str(err) == "C: reset after 2 attempts"
    err.attempts = 3
    assert str(err) == "C: reset after 3 attempts"
    assert err.describe() == "C: reset"


def test_kinds_and_fatality_per_class() -> None:
    kinds = {
        RtcError: ("error", False),
        RtcThrottledError: ("throttled", False),
        RtcTransientError: ("transient", False),
        RtcStoppedError: ("stopped", False),
        RtcNotFoundError: ("not_found", False),
        RtcApiError: ("failed", False),
        RtcAuthError: ("auth", True),
        RtcInvalidInputError: ("invalid_input", True),
        RtcValidationError: ("validation", True),
    }
    for cls, (kind, fatal) in kinds.items():
        assert (cls.kind, cls.fatal) == (kind, fatal), cls


def test_a_validation_error_names_the_parameter_and_never_ran() -> None:
    err = RtcValidationError("room_id", "must be > 0", 0)
    assert (err.param, err.rule, err.maybe_executed) == ("room_id", "must be > 0", False)
    assert str(err) == "invalid room_id: must be > 0 (got 0)"
    assert str(RtcValidationError("room_id", "is required")) == "invalid room_id: is required"
    hidden = RtcValidationError("secret_key", "must be 32 characters", "s3cr3t", show_value=False)
    assert str(hidden) == "invalid secret_key: must be 32 characters"


def test_a_pickled_error_keeps_its_text_class_and_every_field() -> None:
    err = RtcThrottledError("slow", cloud="C", action="A", code="RequestLimitExceeded", maybe_executed=False)
    err.attempts, err.response_lost = 4, True
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is type(err)
    assert clone.__dict__ == err.__dict__
    assert str(clone) == "C A [RequestLimitExceeded]: slow after 4 attempts"
    assert clone.args == ("slow",)


# --- http.py --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "cls", "maybe_executed"),
    [
        (Kind.THROTTLED, RtcThrottledError, False),
        (Kind.TRANSIENT, RtcTransientError, True),
        (Kind.NOT_FOUND, RtcNotFoundError, True),
        (Kind.AUTH, RtcAuthError, False),
        (Kind.INVALID_INPUT, RtcInvalidInputError, False),
        (Kind.FAILED, RtcApiError, True),
    ],
)
def test_api_error_class_and_whether_the_request_may_have_run(
    kind: Kind, cls: type[RtcError], maybe_executed: bool
) -> None:
    err = api_error(kind, "msg", cloud="C", action="A", code="X", request_id=12, status=200)
    assert type(err) is cls or type(err).__mro__[1] is cls  # the Airflow flavour subclasses it
    assert isinstance(err, cls)
    assert (err.message, err.cloud, err.action, err.code, err.request_id, err.http_status) == (
        "msg",
        "C",
        "A",
        "X",
        "12",
        200,
    )
    assert err.maybe_executed is maybe_executed


@pytest.mark.parametrize("request_id", [None, ""])
def test_api_error_without_a_request_id(request_id: object) -> None:
    err = api_error(Kind.FAILED, "m", cloud="C", action="A", code=1, request_id=request_id, status=400)
    assert err.request_id is None


@pytest.mark.parametrize("code", ["AuthFailure.SignatureExpire", 100000004])
def test_an_expired_signature_points_at_the_clock(code: object) -> None:
    err = api_error(Kind.AUTH, "expired", cloud="C", action="A", code=code, request_id="r", status=200)  # type: ignore[arg-type]
    assert err.message == "expired" + SKEW_HINT


def test_other_auth_errors_do_not_blame_the_clock() -> None:
    err = api_error(
        Kind.AUTH,
        "denied",
        cloud="C",
        action="A",
        code="AuthFailure.SecretIdNotFound",
        request_id="r",
        status=200,
    )
    assert err.message == "denied"


@pytest.mark.parametrize("status", [300, 301, 302, 399])
def test_a_redirect_is_a_failed_call_that_never_ran(status: int) -> None:
    err = unreadable(HttpReply(status, "text/html", b"<a>moved</a>"), cloud="C", action="A", expected="JSON")
    assert type(err).__mro__[0] is RtcApiError or isinstance(err, RtcApiError)
    assert str(err) == f"C A: unexpected HTTP {status} redirect: check the endpoint (scheme, host)"
    assert (err.http_status, err.maybe_executed, err.cloud, err.action) == (status, False, "C", "A")


@pytest.mark.parametrize(
    ("status", "ctype", "cls", "maybe_executed", "shown"),
    [
        (200, "text/html; charset=utf-8", RtcTransientError, True, "text/html"),
        (299, "", RtcTransientError, True, "no content type"),
        (400, " ; x=1", RtcTransientError, True, "no content type"),
        (429, "text/plain", RtcThrottledError, False, "text/plain"),
        (502, "text/html", RtcTransientError, True, "text/html"),
    ],
)
def test_an_unreadable_body_is_described_without_being_echoed(
    status: int, ctype: str, cls: type[RtcError], maybe_executed: bool, shown: str
) -> None:
    err = unreadable(HttpReply(status, ctype, b"<p>secret</p>"), cloud="C", action="A", expected="JSON")
    assert isinstance(err, cls) and not isinstance(err, RtcApiError)
    assert str(err) == f"C A: unreadable response: HTTP {status}, {shown}, 13 bytes (not JSON)"
    assert (err.http_status, err.maybe_executed) == (status, maybe_executed)


# --- tencent.py -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "url", "host"),
    [
        ({}, "https://trtc.tencentcloudapi.com/", "trtc.tencentcloudapi.com"),
        ({"intl": True}, "https://trtc.intl.tencentcloudapi.com/", "trtc.intl.tencentcloudapi.com"),
        ({"endpoint": "http://127.0.0.1:8080//"}, "http://127.0.0.1:8080/", "127.0.0.1:8080"),
        ({"endpoint": "http://127.0.0.1:8080", "intl": True}, "http://127.0.0.1:8080/", "127.0.0.1:8080"),
        ({"endpoint": ""}, "https://trtc.tencentcloudapi.com/", "trtc.tencentcloudapi.com"),
        (
            {"endpoint": "http://127.0.0.1:8080/gatewayX/"},
            "http://127.0.0.1:8080/gatewayX/",
            "127.0.0.1:8080",
        ),
    ],
)
def test_the_endpoint_url_and_the_signed_host(kwargs: dict[str, object], url: str, host: str) -> None:
    endpoint = tencent.TencentEndpoint.for_service("trtc", **kwargs)  # type: ignore[arg-type]
    assert (endpoint.service, endpoint.url, endpoint.host) == ("trtc", url, host)


def test_credentials_never_show_the_secret_or_token() -> None:
    text = repr(tencent.TencentCredentials("AKIDxyz", "very-secret", "sts-token"))
    assert "AKIDxyz" in text and "very-secret" not in text and "sts-token" not in text
    assert tencent.TencentCredentials("a", "b").token is None


def test_the_body_is_compact_utf8_json() -> None:
    assert tencent.encode_body({"RoomId": 1, "Name": "会议"}) == '{"RoomId":1,"Name":"会议"}'.encode()


def test_a_tencent_call_is_a_signed_post_with_the_user_agent() -> None:
    endpoint = tencent.TencentEndpoint.for_service("trtc", endpoint="http://127.0.0.1:9/")
    call = tencent.build_call(
        endpoint,
        tencent.TencentCredentials("AKID", "key", "tok"),
        action="DismissRoom",
        version="2019-07-22",
        params={"SdkAppId": 1400000001, "RoomId": 7},
        region="ap-guangzhou",
        user_agent="airflow-provider-rtc/test",
        timestamp=1700000000,
        language="en-US",
    )
    assert (call.method, call.url, call.body) == (
        "POST",
        "http://127.0.0.1:9/",
        b'{"SdkAppId":1400000001,"RoomId":7}',
    )
    h = call.headers
    assert h["User-Agent"] == "airflow-provider-rtc/test"
    assert (h["Host"], h["X-TC-Action"], h["X-TC-Version"], h["X-TC-Timestamp"]) == (
        "127.0.0.1:9",
        "DismissRoom",
        "2019-07-22",
        "1700000000",
    )
    assert (h["X-TC-Region"], h["X-TC-Token"], h["X-TC-Language"]) == ("ap-guangzhou", "tok", "en-US")
    assert h["Authorization"].startswith("TC3-HMAC-SHA256 Credential=AKID/2023-11-14/trtc/tc3_request")


def test_a_tencent_success_returns_the_response_object() -> None:
    body = b'{"Response":{"RequestId":"r-1","Total":2}}'
    assert tencent.parse_reply(HttpReply(200, "application/json", body), action="DescribeX") == {
        "RequestId": "r-1",
        "Total": 2,
    }


@pytest.mark.parametrize("body", [b"\xff\xfe", b"not json", b'{"Response":[]}', b'{"response":{}}'])
def test_a_tencent_body_that_is_no_envelope_is_unreadable(body: bytes) -> None:
    with pytest.raises(RtcTransientError) as caught:
        tencent.parse_reply(HttpReply(200, "application/json", body), action="DismissRoom")
    assert str(caught.value).endswith("(not an API 3.0 envelope)")
    assert str(caught.value).startswith("Tencent Cloud DismissRoom: unreadable response: HTTP 200")


def test_a_tencent_error_without_code_or_message() -> None:
    body = b'{"Response":{"Error":{"Code":null},"RequestId":"r"}}'
    with pytest.raises(RtcApiError) as caught:
        tencent.parse_reply(HttpReply(200, "application/json", body), action="DismissRoom")
    assert (caught.value.code, caught.value.message, caught.value.request_id) == ("", "no message", "r")
    assert str(caught.value) == "Tencent Cloud DismissRoom: no message (RequestId r)"


def test_a_tencent_error_is_classified_with_the_given_api_and_keeps_the_http_status() -> None:
    body = b'{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"slow"},"RequestId":"r"}}'
    with pytest.raises(RtcThrottledError) as caught:
        tencent.parse_reply(HttpReply(200, "application/json", body), action="DismissRoom")
    assert (caught.value.http_status, caught.value.cloud, caught.value.maybe_executed) == (
        200,
        "Tencent Cloud",
        False,
    )


@pytest.mark.parametrize(("status", "ok"), [(399, True), (400, False), (500, False)])
def test_a_tencent_envelope_without_error_under_http_4xx_is_no_success(status: int, ok: bool) -> None:
    reply = HttpReply(status, "application/json", b'{"Response":{"RequestId":"r"}}')
    if ok:
        assert tencent.parse_reply(reply, action="DismissRoom") == {"RequestId": "r"}
    else:
        with pytest.raises(RtcTransientError) as caught:
            tencent.parse_reply(reply, action="DismissRoom")
        assert str(caught.value) == (
            f"Tencent Cloud DismissRoom: unreadable response: HTTP {status}, application/json, "
            "30 bytes (not an API 3.0 envelope)"
        )


# --- zego.py --------------------------------------------------------------------------------------


def test_query_pairs_for_every_value_shape() -> None:
    pairs = zego.query_pairs(
        {
            "S": "x",
            "B": True,
            "F": False,
            "N": 0,
            "L": ["a", True],
            "T": ("t",),
            "Z": None,
            "E": [],
            "Y": b"y",
        }
    )
    assert pairs == [
        ("S", "x"),
        ("B", "true"),
        ("F", "false"),
        ("N", "0"),
        ("L[]", "a"),
        ("L[]", "true"),
        ("T[]", "t"),
        ("Y", "b'y'"),
    ]


def _query(call: HttpCall) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(call.url).query, keep_blank_values=True)


def test_a_zego_get_carries_everything_in_the_query() -> None:
    creds = zego.ZegoCredentials(1234, "0123456789abcdef0123456789abcdef", is_test=False)
    call = zego.build_call(
        "http://127.0.0.1:9//",
        creds,
        action="DescribeUserNum",
        params={"RoomId": ["r1", "r2"], "Skip": None},
        method="GET",
        user_agent="ua/1",
        timestamp=1700000000,
        nonce="n0nce",
    )
    assert call.method == "GET" and call.body is None
    assert call.url.startswith("http://127.0.0.1:9/?Action=DescribeUserNum&AppId=1234&")
    query = _query(call)
    assert [k for k, _ in query] == [
        "Action",
        "AppId",
        "SignatureNonce",
        "Timestamp",
        "Signature",
        "SignatureVersion",
        "IsTest",
        "RoomId[]",
        "RoomId[]",
    ]
    assert dict(query)["IsTest"] == "false" and dict(query)["SignatureNonce"] == "n0nce"
    assert call.headers == {"User-Agent": "ua/1"}


def test_a_zego_post_keeps_the_business_fields_in_a_json_body() -> None:
    creds = zego.ZegoCredentials(1234, "0123456789abcdef0123456789abcdef")
    call = zego.build_call(
        "http://127.0.0.1:9",
        creds,
        action="StartMix",
        params={"TaskId": "t", "Outputs": [{"a": 1}], "Drop": None},
        method="POST",
        user_agent="ua/1",
        timestamp=1700000000,
        nonce="n",
    )
    assert call.method == "POST"
    assert call.body == b'{"TaskId":"t","Outputs":[{"a":1}]}'
    assert json.loads(call.body or b"") == {"TaskId": "t", "Outputs": [{"a": 1}]}
    assert call.headers == {"User-Agent": "ua/1", "Content-Type": "application/json"}
    keys = [k for k, _ in _query(call)]
    assert keys == ["Action", "AppId", "SignatureNonce", "Timestamp", "Signature", "SignatureVersion"]
    assert call.url.startswith("http://127.0.0.1:9/?Action=StartMix&")


def test_zego_credentials_never_show_the_secret() -> None:
    text = repr(zego.ZegoCredentials(1234, "0123456789abcdef0123456789abcdef"))
    assert "1234" in text and "0123456789abcdef" not in text


@pytest.mark.parametrize("code", [0, "0", 0.0])
def test_a_zego_success_returns_the_whole_envelope(code: object) -> None:
    body = json.dumps({"Code": code, "Message": "success", "RequestId": "z", "Data": {"n": 1}}).encode()
    assert zego.parse_reply(HttpReply(200, "application/json", body), action="DescribeUserNum")["Data"] == {
        "n": 1
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"\xff", "a ZEGO envelope"),
        (b"[1]", "a ZEGO envelope"),
        (b'{"Message":"x"}', "a ZEGO envelope"),
        (b'{"Code":"abc"}', "a numeric Code"),
        (b'{"Code":null}', "a numeric Code"),
    ],
)
def test_an_unreadable_zego_reply_says_what_was_expected(body: bytes, expected: str) -> None:
    with pytest.raises(RtcTransientError) as caught:
        zego.parse_reply(HttpReply(200, "application/json", body), action="StopMix")
    assert str(caught.value).endswith(f"(not {expected})")
    assert str(caught.value).startswith("ZEGOCLOUD StopMix: unreadable response: HTTP 200")


def test_a_zego_error_carries_code_message_request_id_and_status() -> None:
    body = b'{"Code":110200003,"Message":"auth","RequestId":"z3"}'
    with pytest.raises(RtcAuthError) as caught:
        zego.parse_reply(HttpReply(200, "application/json", body), action="StopMix")
    err = caught.value
    assert (err.code, err.message, err.request_id, err.http_status, err.cloud, err.action) == (
        110200003,
        "auth",
        "z3",
        200,
        "ZEGOCLOUD",
        "StopMix",
    )
    with pytest.raises(RtcApiError) as bare:
        zego.parse_reply(HttpReply(200, "application/json", b'{"Code":999999}'), action="StopMix")
    assert (bare.value.message, bare.value.request_id) == ("no message", None)


# --- codes.py: an action the catalog does not hold ------------------------------------------------


def test_a_zego_action_outside_the_catalog_is_read_with_the_room_table() -> None:
    from airflow_provider_rtc.protocol.codes import classify_zego

    assert classify_zego("NotInTheCatalog", 206) is Kind.THROTTLED  # room table
    assert classify_zego("NotInTheCatalog", 300000003) is Kind.FAILED  # not the record table
    assert classify_zego("NotInTheCatalog", 100000005) is Kind.AUTH  # gateway codes first


def test_a_zego_cloudrecord_entry_without_a_family_is_read_with_the_record_table() -> None:
    from airflow_provider_rtc.catalog import Api
    from airflow_provider_rtc.protocol.codes import classify_zego

    record = Api(cloud="zego", product="cloudrecord", action="SomeRecordAction")
    room = Api(cloud="zego", product="rtc", action="SomeRoomAction")
    assert classify_zego("SomeRecordAction", 300000003, record) is Kind.THROTTLED
    assert classify_zego("SomeRecordAction", 206, record) is Kind.FAILED
    assert classify_zego("SomeRoomAction", 206, room) is Kind.THROTTLED


def test_a_tencent_action_outside_the_catalog_follows_the_cloud_wide_rules() -> None:
    from airflow_provider_rtc.protocol.codes import classify_tencent

    assert classify_tencent("NotInTheCatalog", "FailedOperation.RoomNotExist") is Kind.FAILED
    assert classify_tencent("NotInTheCatalog", "InternalError.Anything") is Kind.TRANSIENT
    assert classify_tencent("NotInTheCatalog", "InternalError") is Kind.TRANSIENT
    assert classify_tencent("NotInTheCatalog", "InternalErrorX") is Kind.FAILED  # a prefix only with "."


def test_a_zego_entry_whose_family_has_no_table_reads_its_codes_as_failed() -> None:
    from airflow_provider_rtc.catalog import Api
    from airflow_provider_rtc.protocol.codes import classify_zego

    odd = Api(cloud="zego", product="rtc", action="OddFamily", family="not-a-family")
    assert classify_zego("OddFamily", 206, odd) is Kind.FAILED  # no table: not a crash, not a retry
    assert classify_zego("OddFamily", 100000005, odd) is Kind.AUTH  # gateway codes still read


def test_a_zego_reply_is_classified_with_the_entry_called_not_the_action_name() -> None:
    from airflow_provider_rtc.catalog import Api

    # StopMix's own entry reads 206 with the mixing table (not a throttle there); an entry of the
    # room family for the same action name must be the one that decides
    room_family = Api(cloud="zego", product="rtc", action="StopMix", family="room")
    reply = HttpReply(200, "application/json", b'{"Code":206,"Message":"slow down"}')
    with pytest.raises(RtcThrottledError):
        zego.parse_reply(reply, action="StopMix", api=room_family)
    with pytest.raises(RtcApiError):
        zego.parse_reply(reply, action="StopMix")


def test_a_tencent_reply_is_classified_with_the_entry_called_not_the_action_name() -> None:
    from airflow_provider_rtc.catalog import Api

    gone = Api(cloud="tencent", product="trtc", action="DismissRoom", gone=frozenset({"FailedOperation.Odd"}))
    body = b'{"Response":{"Error":{"Code":"FailedOperation.Odd","Message":"x"},"RequestId":"r"}}'
    reply = HttpReply(200, "application/json", body)
    with pytest.raises(RtcNotFoundError):
        tencent.parse_reply(reply, action="DismissRoom", api=gone)
    with pytest.raises(RtcApiError):
        tencent.parse_reply(reply, action="DismissRoom")


def test_a_zego_base_url_keeps_its_path_and_loses_only_trailing_slashes() -> None:
    creds = zego.ZegoCredentials(1, "0123456789abcdef0123456789abcdef")
    call = zego.build_call(
        "http://127.0.0.1:9/gatewayX//", creds, action="A", params={}, method="GET", user_agent="u", nonce="n"
    )
    assert call.url.startswith("http://127.0.0.1:9/gatewayX/?Action=A&")
