"""Edge cases found in review: templated lists, endpoint shape, redirects, probe answers that prove
nothing, per-account Live pacing, secrets in validation errors, numeric RequestIds."""

from __future__ import annotations

import pytest

from airflow_provider_rtc import validation as v
from airflow_provider_rtc.exceptions import RtcApiError, RtcValidationError
from airflow_provider_rtc.hooks.settings import endpoint_url
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.hooks.zego import ZegoRtcHook
from airflow_provider_rtc.protocol import tencent, zego
from airflow_provider_rtc.protocol.http import HttpReply


@pytest.mark.parametrize("rendered", ["['u1', 'u2']", '["u1", "u2"]', "('u1', 'u2')"])
def test_lists_rendered_by_a_template_are_accepted(rendered: str) -> None:
    assert v.string_list(rendered, "user_ids", max_items=10) == ["u1", "u2"]


def test_a_rendered_non_list_is_rejected_by_name() -> None:
    with pytest.raises(RtcValidationError) as err:
        v.string_list("[oops", "user_ids", max_items=10)
    assert err.value.param == "user_ids"


@pytest.mark.parametrize("bad", ["http://127.0.0.1:8990/api", "ftp://host", "127.0.0.1:8990", "http://h?x=1"])
def test_endpoint_must_be_scheme_and_host_only(bad: str) -> None:
    with pytest.raises(RtcValidationError) as err:
        endpoint_url(bad)
    assert err.value.param == "endpoint"


def test_endpoint_trailing_slash_is_fine() -> None:
    assert endpoint_url("https://trtc.tencentcloudapi.com/") == "https://trtc.tencentcloudapi.com"


@pytest.mark.parametrize("parse", [tencent.parse_reply, zego.parse_reply])
def test_a_redirect_is_a_configuration_error_not_a_transient_one(parse) -> None:
    reply = HttpReply(301, "text/html", b"<html>Moved</html>")
    with pytest.raises(RtcApiError) as err:
        parse(reply, action="DismissRoom")
    assert "redirect" in str(err.value) and err.value.maybe_executed is False


def test_numeric_zego_request_id_is_kept() -> None:
    reply = HttpReply(200, "application/json", b'{"Code": 104, "Message": "no room", "RequestId": 123456789}')
    with pytest.raises(Exception) as err:
        zego.parse_reply(reply, action="CloseRoom")
    assert err.value.request_id == "123456789"  # type: ignore[attr-defined]


def test_user_sig_is_never_echoed_in_a_validation_error() -> None:
    with pytest.raises(RtcValidationError) as err:
        v.secret_text("x" * 5000, "user_sig", max_bytes=4096)
    assert "xxxx" not in str(err.value)


def test_test_connection_does_not_claim_success_on_throttling(httpserver, tencent_conn, zego_conn) -> None:
    httpserver.expect_request("/", method="POST").respond_with_json(
        {"Response": {"Error": {"Code": "RequestLimitExceeded", "Message": "slow"}, "RequestId": "r"}}
    )
    httpserver.expect_request("/", method="GET").respond_with_json(
        {"Code": 206, "Message": "qps", "RequestId": "r"}
    )
    ok, message = TrtcHook(retry_limit=2).test_connection()
    assert not ok and "Could not verify" in message
    ok, message = ZegoRtcHook(retry_limit=2).test_connection()
    assert not ok and "Could not verify" in message


@pytest.mark.parametrize(
    ("parse", "body"),
    [
        (
            tencent.parse_reply,
            b'{"Response": {"Error": {"Code": "AuthFailure.SignatureExpire", "Message": "x"}}}',
        ),
        (zego.parse_reply, b'{"Code": 100000004, "Message": "expired", "RequestId": "r"}'),
    ],
)
def test_an_expired_signature_points_at_the_clock(parse, body: bytes) -> None:
    from airflow_provider_rtc.exceptions import RtcAuthError

    with pytest.raises(RtcAuthError) as err:
        parse(HttpReply(200, "application/json", body), action="DismissRoom")
    assert "clock" in str(err.value)


def test_shared_async_client_is_per_loop_and_closed_after_the_last_user() -> None:
    import asyncio

    from airflow_provider_rtc import transport

    async def use_twice() -> tuple[object, object, bool]:
        async with (
            transport.shared_async_client((1.0, 2.0)) as first,
            transport.shared_async_client((1.0, 2.0)) as second,
        ):
            pass
        return first, second, first.is_closed

    first, second, closed = asyncio.run(use_twice())
    assert first is second and closed
    again, _, _ = asyncio.run(use_twice())  # a new loop never reuses a client bound to the old one
    assert again is not first
