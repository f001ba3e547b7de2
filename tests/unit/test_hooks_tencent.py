"""The ``tencentcloud`` connection and the TRTC / Live hooks: extras, overrides, test_connection, async."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from airflow_provider_rtc.exceptions import RtcNotFoundError, RtcThrottledError, RtcValidationError
from airflow_provider_rtc.hooks import base as hooks_base
from airflow_provider_rtc.hooks.live import LiveHook
from airflow_provider_rtc.hooks.tencentcloud import TencentCloudHook
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.protocol.http import HttpCall, HttpReply
from airflow_provider_rtc.protocol.tencent import TencentEndpoint
from tests.support.wire import (
    SECRET_ID,
    SECRET_KEY,
    assert_tencent_call,
    assert_zego_signed,
    serve,
    tc3_expected_authorization,
    tc_err,
    tc_ok,
    tencent_conn_json,
    zego_conn_json,
    zego_ok,
)


@pytest.fixture
def captured_calls(monkeypatch: pytest.MonkeyPatch) -> list[HttpCall]:
    """Replace the sync sender: record each signed call and answer success (for hosts we cannot reach)."""
    calls: list[HttpCall] = []

    def fake_send(session: Any, call: HttpCall, **kwargs: Any) -> HttpReply:
        calls.append(call)
        return HttpReply(200, "application/json", b'{"Response":{"RequestId":"fake"}}')

    monkeypatch.setattr(hooks_base, "send_sync", fake_send)
    return calls


# --- connection from AIRFLOW_CONN_* JSON, no metadata DB ---------------------------------------------


def test_hook_reads_an_env_json_connection_without_a_db(httpserver, tencent_conn) -> None:
    assert os.environ["AIRFLOW_CONN_TENCENTCLOUD_DEFAULT"].startswith("{")
    hook = TrtcHook()
    settings = hook.settings
    assert settings.region == "ap-guangzhou"
    assert settings.sdk_app_id == 1400000001
    assert settings.endpoint == httpserver.url_for("").rstrip("/")
    assert settings.credentials.secret_id == SECRET_ID
    assert settings.pacing is False
    assert settings.retry.max_attempts == 5 and settings.retry.initial_delay == 0.01
    assert settings.timeout == (2.0, 2.0)
    script = serve(httpserver, tc_ok())
    hook.dismiss_room(77)
    assert_tencent_call(
        script.seen[0],
        action="DismissRoom",
        version="2019-07-22",
        service="trtc",
        body={"SdkAppId": 1400000001, "RoomId": 77},
    )


_NO_DB_PROBE = """
import json
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.hooks.zego import ZegoRtcHook
print(json.dumps([TrtcHook().dismiss_room(31)["RequestId"], ZegoRtcHook().close_room("r31")["RequestId"]]))
"""


def test_hooks_need_no_metadata_db(httpserver, tmp_path) -> None:
    """In a fresh process whose metadata DB cannot even be opened, env-var connections still work."""
    url = httpserver.url_for("").rstrip("/")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_")}
    env.update(
        AIRFLOW_HOME=str(tmp_path),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{tmp_path}/missing-dir/never.db",
        AIRFLOW_CONN_TENCENTCLOUD_DEFAULT=json.dumps(tencent_conn_json(url)),
        AIRFLOW_CONN_ZEGOCLOUD_DEFAULT=json.dumps(zego_conn_json(url)),
    )
    script = serve(httpserver, tc_ok("rid-no-db"), zego_ok(request_id="z-no-db"))
    done = subprocess.run(
        [sys.executable, "-c", _NO_DB_PROBE], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == ["rid-no-db", "z-no-db"]
    assert_tencent_call(
        script.seen[0],
        action="DismissRoom",
        version="2019-07-22",
        service="trtc",
        body={"SdkAppId": 1400000001, "RoomId": 31},
    )
    assert_zego_signed(script.seen[1], action="CloseRoom")
    assert not (tmp_path / "missing-dir").exists()


def test_sdk_app_id_may_be_a_string(httpserver, set_connection) -> None:
    set_connection(
        "tencentcloud_default", tencent_conn_json(httpserver.url_for("").rstrip("/"), sdk_app_id="1400000007")
    )
    script = serve(httpserver, tc_ok())
    TrtcHook().delete_cloud_recording("task-1")
    assert script.seen[0].json == {"SdkAppId": 1400000007, "TaskId": "task-1"}


def test_legacy_prefixed_extras_are_read(captured_calls, set_connection) -> None:
    set_connection(
        "tencentcloud_default",
        {
            "conn_type": "tencentcloud",
            "login": SECRET_ID,
            "password": SECRET_KEY,
            "extra": {
                "extra__tencentcloud__region": "ap-singapore",
                "extra__tencentcloud__sdk_app_id": "1400000009",
                "extra__tencentcloud__intl": "true",
                "pacing": False,
            },
        },
    )
    hook = TrtcHook()
    assert (hook.settings.region, hook.settings.sdk_app_id, hook.settings.intl) == (
        "ap-singapore",
        1400000009,
        True,
    )
    hook.dismiss_room(5)
    (call,) = captured_calls
    assert call.headers["X-TC-Region"] == "ap-singapore"
    assert call.url == "https://trtc.intl.tencentcloudapi.com/"


def test_plain_key_wins_over_legacy_key(set_connection) -> None:
    set_connection(
        "tc",
        tencent_conn_json(None, region="ap-beijing", extra__tencentcloud__region="ap-singapore"),
    )
    assert TrtcHook("tc").settings.region == "ap-beijing"


@pytest.mark.parametrize(
    ("intl", "endpoint", "url", "host"),
    [
        (True, None, "https://trtc.intl.tencentcloudapi.com/", "trtc.intl.tencentcloudapi.com"),
        (False, None, "https://trtc.tencentcloudapi.com/", "trtc.tencentcloudapi.com"),
        (True, "http://127.0.0.1:8990/", "http://127.0.0.1:8990/", "127.0.0.1:8990"),
    ],
)
def test_intl_and_endpoint_choose_the_host(captured_calls, set_connection, intl, endpoint, url, host) -> None:
    assert TencentEndpoint.for_service("trtc", endpoint=endpoint, intl=intl).host == host
    set_connection("tencentcloud_default", tencent_conn_json(endpoint, intl=intl))
    TrtcHook().dismiss_room(1)
    (call,) = captured_calls
    assert call.url == url
    assert call.headers["Host"] == host
    assert "/trtc/tc3_request" in call.headers["Authorization"]


def test_live_intl_host(captured_calls, set_connection) -> None:
    set_connection("tencentcloud_default", tencent_conn_json(None, intl="yes"))
    LiveHook().cancel_common_mix_stream("mix_1")
    assert captured_calls[0].url == "https://live.intl.tencentcloudapi.com/"
    assert captured_calls[0].headers["Host"] == "live.intl.tencentcloudapi.com"


def test_sts_token_is_sent_as_x_tc_token(httpserver, set_connection) -> None:
    set_connection(
        "tencentcloud_default",
        tencent_conn_json(httpserver.url_for("").rstrip("/"), token="sts-session-token-1"),
    )
    script = serve(httpserver, tc_ok())
    hook = TrtcHook()
    hook.stop_stream_ingest("ingest-1")
    seen = script.seen[0]
    assert seen.headers["x-tc-token"] == "sts-session-token-1"
    assert seen.headers["authorization"] == tc3_expected_authorization(seen, service="trtc")
    assert "sts-session-token-1" not in repr(hook.settings)


def test_hook_arguments_override_the_connection(httpserver, tencent_conn) -> None:
    script = serve(httpserver, tc_ok())
    TrtcHook(region="ap-beijing", sdk_app_id="1400000002").dismiss_room(9)
    assert_tencent_call(
        script.seen[0],
        action="DismissRoom",
        version="2019-07-22",
        service="trtc",
        region="ap-beijing",
        body={"SdkAppId": 1400000002, "RoomId": 9},
    )


def test_live_sends_no_region_when_none_is_configured(httpserver, set_connection) -> None:
    conn = tencent_conn_json(httpserver.url_for("").rstrip("/"))
    del conn["extra"]["region"], conn["extra"]["sdk_app_id"]
    set_connection("tencentcloud_default", conn)
    script = serve(httpserver, tc_ok())
    LiveHook().drop_live_stream("stream1", "push.example.com")
    assert_tencent_call(
        script.seen[0],
        action="DropLiveStream",
        version="2018-08-01",
        service="live",
        region=None,
        body={"StreamName": "stream1", "DomainName": "push.example.com", "AppName": "live"},
    )


def test_generic_call_for_any_service(httpserver, tencent_conn) -> None:
    script = serve(httpserver, tc_ok(StreamState="inactive"))
    result = TencentCloudHook().call(
        "DescribeLiveStreamState",
        {"AppName": "live", "DomainName": "d", "StreamName": "s"},
        service="live",
        version="2018-08-01",
    )
    assert result["StreamState"] == "inactive"
    assert script.seen[0].headers["authorization"] == tc3_expected_authorization(
        script.seen[0], service="live"
    )
    with pytest.raises(RtcValidationError) as info:
        TencentCloudHook().call("X", {})
    assert info.value.param == "service"


@pytest.mark.parametrize(
    ("conn", "param"),
    [
        ({"conn_type": "tencentcloud", "login": SECRET_ID, "extra": {}}, "connection"),
        ({"conn_type": "tencentcloud", "password": SECRET_KEY}, "connection"),
        (tencent_conn_json(None, region="mars-1"), "region"),
        (tencent_conn_json(None, endpoint="ftp://x"), "endpoint"),
        (tencent_conn_json(None, intl="maybe"), "intl"),
        (tencent_conn_json(None, retry_limit=0), "retry_limit"),
        (tencent_conn_json(None, timeout=[1, 2, 3]), "timeout"),
        (tencent_conn_json(None, qps={"DismissRoom": 0}), "qps.DismissRoom"),
        (tencent_conn_json(None, sdk_app_id="app"), "sdk_app_id"),
    ],
)
def test_bad_connections_are_named(set_connection, conn, param) -> None:
    set_connection("bad", conn)
    with pytest.raises(RtcValidationError) as info:
        _ = TrtcHook("bad").settings
    assert info.value.param == param


# --- test_connection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        tc_ok(Status="Idle"),
        tc_err("ResourceNotFound"),
        tc_err("FailedOperation.TaskNotExist"),
        tc_err("InvalidParameter.SdkAppId"),
    ],
)
def test_test_connection_succeeds_on_a_business_answer(httpserver, tencent_conn, answer) -> None:
    script = serve(httpserver, answer)
    ok, message = TencentCloudHook().test_connection()
    assert ok is True, message
    assert "credentials accepted" in message
    assert_tencent_call(
        script.seen[0],
        action="DescribeCloudRecording",
        version="2019-07-22",
        service="trtc",
        body={"SdkAppId": 1400000001, "TaskId": "airflow-connection-test"},
    )


@pytest.mark.parametrize("code", ["AuthFailure.SignatureFailure", "AuthFailure.SecretIdNotFound"])
def test_test_connection_fails_on_auth_failure(httpserver, tencent_conn, code) -> None:
    script = serve(httpserver, tc_err(code), tc_ok())
    ok, message = TrtcHook().test_connection()
    assert ok is False
    assert message.startswith("Authentication failed") and code in message
    assert len(script.seen) == 1


def test_test_connection_without_region_or_app_uses_a_probe(httpserver, set_connection) -> None:
    conn = tencent_conn_json(httpserver.url_for("").rstrip("/"))
    del conn["extra"]["region"], conn["extra"]["sdk_app_id"]
    set_connection("tencentcloud_default", conn)
    script = serve(httpserver, tc_err("ResourceNotFound"))
    ok, message = LiveHook().test_connection()
    assert ok is True
    assert "Warning: no 'sdk_app_id' and 'region' extra" in message  # every TRTC call needs them
    seen = script.seen[0]
    assert seen.headers["x-tc-region"] == "ap-guangzhou"
    assert seen.json["SdkAppId"] == 1400000000


@pytest.mark.parametrize("missing", ["sdk_app_id", "region"])
def test_test_connection_warns_when_one_trtc_setting_is_missing(httpserver, set_connection, missing) -> None:
    conn = tencent_conn_json(httpserver.url_for("").rstrip("/"))
    del conn["extra"][missing]
    set_connection("tencentcloud_default", conn)
    serve(httpserver, tc_err("ResourceNotFound"))
    ok, message = TencentCloudHook().test_connection()
    assert ok is True
    assert f"Warning: no {missing!r} extra" in message


def test_test_connection_does_not_warn_on_a_complete_connection(httpserver, tencent_conn) -> None:
    serve(httpserver, tc_err("ResourceNotFound"))
    ok, message = TencentCloudHook().test_connection()
    assert ok is True and "Warning" not in message


def test_test_connection_reports_a_broken_connection(set_connection) -> None:
    set_connection("tencentcloud_default", tencent_conn_json(None, region="nowhere"))
    ok, message = TrtcHook().test_connection()
    assert ok is False
    assert "region" in message


# --- async path -----------------------------------------------------------------------------------


@pytest.fixture
def no_sync_connection(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail any synchronous connection lookup; record the asynchronous ones."""
    seen: list[str] = []

    def sync_lookup(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the async path must not use the sync connection API")

    original = TencentCloudHook.aget_connection

    async def async_lookup(cls: Any, conn_id: str) -> Any:
        seen.append(conn_id)
        return await original.__func__(cls, conn_id)

    monkeypatch.setattr(TencentCloudHook, "get_connection", classmethod(sync_lookup))
    monkeypatch.setattr(TencentCloudHook, "aget_connection", classmethod(async_lookup))
    return seen


async def test_adescribe_cloud_recording_signs_like_sync(
    httpserver, tencent_conn, no_sync_connection
) -> None:
    script = serve(httpserver, tc_ok(TaskId="task-9", Status="InProgress"))
    result = await TrtcHook().adescribe_cloud_recording("task-9")
    assert result["Status"] == "InProgress"
    assert no_sync_connection == ["tencentcloud_default"]
    assert_tencent_call(
        script.seen[0],
        action="DescribeCloudRecording",
        version="2019-07-22",
        service="trtc",
        body={"SdkAppId": 1400000001, "TaskId": "task-9"},
    )


async def test_adescribe_cloud_recording_retries_a_throttle(httpserver, tencent_conn) -> None:
    script = serve(httpserver, tc_err("RequestLimitExceeded"), tc_ok(Status="Idle"))
    assert (await TrtcHook().adescribe_cloud_recording("task-9"))["Status"] == "Idle"
    assert len(script.seen) == 2
    assert script.seen[0].headers["authorization"] == tc3_expected_authorization(
        script.seen[0], service="trtc"
    )


@pytest.mark.parametrize("code", ["ResourceNotFound", "FailedOperation.TaskNotExist"])
async def test_adescribe_cloud_recording_not_found(httpserver, tencent_conn, code) -> None:
    script = serve(httpserver, tc_err(code), tc_ok())
    with pytest.raises(RtcNotFoundError) as info:
        await TrtcHook().adescribe_cloud_recording("task-9")
    assert info.value.code == code
    assert len(script.seen) == 1


async def test_async_throttle_is_bounded_by_the_throttle_budget(httpserver, tencent_conn) -> None:
    script = serve(httpserver, *[tc_err("RequestLimitExceeded")] * 4)
    with pytest.raises(RtcThrottledError) as info:
        await TrtcHook(retry_limit=2, throttle_budget=0).adescribe_cloud_recording("task-9")
    assert len(script.seen) == 1
    assert info.value.attempts == 1


async def test_async_validation_happens_before_the_network(httpserver, tencent_conn) -> None:
    with pytest.raises(RtcValidationError) as info:
        await TrtcHook().adescribe_cloud_recording("  ")
    assert info.value.param == "task_id"
    assert httpserver.log == []
