"""Tencent Cloud Live cleanup operators on the wire."""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_rtc.exceptions import RtcAuthError, RtcNotFoundError
from airflow_provider_rtc.operators.live import CancelCommonMixStreamOperator, DropLiveStreamOperator
from tests.support.wire import assert_tencent_call, serve, tc_err, tc_ok, tencent_conn_json

V = "2018-08-01"


def test_cancel_common_mix_stream_on_the_wire(httpserver, tencent_conn) -> None:
    script = serve(httpserver, tc_ok("rid-live-1"))
    result = CancelCommonMixStreamOperator(task_id="t", mix_stream_session_id="event_42_mix").execute({})
    assert len(script.seen) == 1
    assert_tencent_call(
        script.seen[0],
        action="CancelCommonMixStream",
        version=V,
        service="live",
        body={"MixStreamSessionId": "event_42_mix"},
    )
    assert {k: result[k] for k in ("cloud", "product", "action", "mix_stream_session_id", "status")} == {
        "cloud": "live",
        "product": "Tencent Cloud Live",
        "action": "CancelCommonMixStream",
        "mix_stream_session_id": "event_42_mix",
        "status": "done",
    }
    assert result["request_id"] == result["RequestId"] == "rid-live-1"
    assert result["ref"]["kind"] == "mixes" and result["ids"] == {"session_id": "event_42_mix"}


def test_drop_live_stream_on_the_wire(httpserver, tencent_conn) -> None:
    script = serve(httpserver, tc_ok("rid-live-2"))
    result = DropLiveStreamOperator(
        task_id="t", stream_name="stream_42", domain_name="push.example.com", app_name="app2"
    ).execute({})
    assert_tencent_call(
        script.seen[0],
        action="DropLiveStream",
        version=V,
        service="live",
        body={"StreamName": "stream_42", "DomainName": "push.example.com", "AppName": "app2"},
    )
    assert result["status"] == "done" and result["RequestId"] == "rid-live-2"
    assert (result["stream_name"], result["domain_name"], result["app_name"]) == (
        "stream_42",
        "push.example.com",
        "app2",
    )


def test_drop_live_stream_default_app_name(httpserver, tencent_conn) -> None:
    script = serve(httpserver, tc_ok())
    DropLiveStreamOperator(task_id="t", stream_name="s", domain_name="d.example.com").execute({})
    assert script.seen[0].json["AppName"] == "live"


def test_live_needs_no_region_or_sdk_app_id(httpserver, set_connection) -> None:
    conn = tencent_conn_json(httpserver.url_for("").rstrip("/"))
    del conn["extra"]["region"], conn["extra"]["sdk_app_id"]
    set_connection("tencentcloud_default", conn)
    script = serve(httpserver, tc_ok())
    CancelCommonMixStreamOperator(task_id="t", mix_stream_session_id="m1").execute({})
    assert_tencent_call(
        script.seen[0],
        action="CancelCommonMixStream",
        version=V,
        service="live",
        region=None,
        body={"MixStreamSessionId": "m1"},
    )


def test_operator_region_override(httpserver, tencent_conn) -> None:
    script = serve(httpserver, tc_ok())
    CancelCommonMixStreamOperator(task_id="t", mix_stream_session_id="m1", region="ap-shanghai").execute({})
    assert script.seen[0].headers["x-tc-region"] == "ap-shanghai"


@pytest.mark.parametrize(
    ("cls", "business"),
    [
        (CancelCommonMixStreamOperator, {"mix_stream_session_id"}),
        (DropLiveStreamOperator, {"stream_name", "domain_name", "app_name"}),
    ],
)
def test_template_fields(cls, business) -> None:
    assert business | {"tencentcloud_conn_id", "region", "sdk_app_id"} <= set(cls.template_fields)


@pytest.mark.parametrize(
    "code", ["FailedOperation.CancelSessionNotExist", "InvalidParameter.CancelSessionNotExist"]
)
def test_cancel_unknown_session_is_already_gone(httpserver, tencent_conn, code) -> None:
    script = serve(httpserver, tc_err(code, request_id="rid-gone"))
    result = CancelCommonMixStreamOperator(task_id="t", mix_stream_session_id="m1").execute({})
    assert len(script.seen) == 1
    assert (result["status"], result["code"], result["RequestId"]) == ("already_gone", code, "rid-gone")


@pytest.mark.parametrize(
    "code", ["FailedOperation.CancelSessionNotExist", "InvalidParameter.CancelSessionNotExist"]
)
def test_cancel_unknown_session_raises_when_not_ignored(httpserver, tencent_conn, code) -> None:
    serve(httpserver, tc_err(code))
    with pytest.raises(RtcNotFoundError):
        CancelCommonMixStreamOperator(
            task_id="t", mix_stream_session_id="m1", ignore_not_found=False
        ).execute({})


@pytest.mark.parametrize(
    "cls_kwargs",
    [
        (CancelCommonMixStreamOperator, {"mix_stream_session_id": "m1"}),
        (DropLiveStreamOperator, {"stream_name": "s", "domain_name": "d.example.com"}),
    ],
)
def test_suspended_account_is_an_auth_error_not_already_gone(httpserver, tencent_conn, cls_kwargs) -> None:
    cls, kwargs = cls_kwargs
    script = serve(httpserver, tc_err("ResourceNotFound.StopService"), tc_ok())
    with pytest.raises(RtcAuthError) as info:
        cls(task_id="t", **kwargs).execute({})
    assert isinstance(info.value, AirflowFailException)
    assert info.value.code == "ResourceNotFound.StopService"
    assert len(script.seen) == 1
