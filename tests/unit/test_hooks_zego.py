"""The ``zegocloud`` connection and the ZEGO RTC / cloud-recording hooks: GET and POST shapes, extras,
test_connection and the async path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_rtc.exceptions import RtcNotFoundError, RtcValidationError
from airflow_provider_rtc.hooks.zego import ZegoCloudHook, ZegoCloudRecordHook, ZegoRtcHook
from airflow_provider_rtc.protocol import zego as zego_protocol
from tests.support.wire import (
    ZEGO_APP_ID,
    assert_zego_signed,
    serve,
    zego_business_query,
    zego_conn_json,
    zego_err,
    zego_ok,
)


def test_hook_reads_an_env_json_connection(httpserver, zego_conn) -> None:
    settings = ZegoRtcHook().settings
    assert settings.credentials.app_id == ZEGO_APP_ID
    assert settings.endpoint == httpserver.url_for("").rstrip("/")
    assert settings.credentials.is_test is None
    assert settings.pacing is False
    assert settings.base_url("rtc") == settings.base_url("cloudrecord") == settings.endpoint


def test_default_hosts_per_product(set_connection) -> None:
    set_connection("zegocloud_default", zego_conn_json(None))
    settings = ZegoCloudHook().settings
    assert settings.base_url("rtc") == "https://rtc-api.zego.im"
    assert settings.base_url("cloudrecord") == "https://cloudrecord-api.zego.im"


def test_get_puts_everything_in_the_query_with_array_brackets(httpserver, zego_conn) -> None:
    script = serve(httpserver, zego_ok({"UserCountList": []}))
    ZegoRtcHook().describe_user_num(["room-a", "room-b"])
    seen = script.seen[0]
    assert seen.method == "GET"
    assert seen.body == b""
    assert_zego_signed(seen, action="DescribeUserNum")
    assert zego_business_query(seen) == {"RoomId[]": ["room-a", "room-b"]}
    assert "IsTest" not in seen.query


def test_post_keeps_public_params_in_the_query_and_business_in_json(httpserver, zego_conn) -> None:
    script = serve(httpserver, zego_ok({"TaskId": "rec-1"}))
    result = ZegoCloudRecordHook().start_record(
        "room-1", {"RecordMode": 1, "StreamType": 3}, storage_params={"Vendor": 3}
    )
    assert result["Data"]["TaskId"] == "rec-1"
    seen = script.seen[0]
    assert seen.method == "POST"
    assert seen.headers["content-type"] == "application/json"
    assert_zego_signed(seen, action="StartRecord")
    assert zego_business_query(seen) == {}
    assert seen.json == {
        "RoomId": "room-1",
        "RecordInputParams": {"RecordMode": 1, "StreamType": 3},
        "StorageParams": {"Vendor": 3},
    }


@pytest.mark.parametrize(("value", "sent"), [(True, "true"), ("false", "false"), ("1", "true")])
def test_is_test_extra(httpserver, set_connection, value, sent) -> None:
    set_connection("zegocloud_default", zego_conn_json(httpserver.url_for("").rstrip("/"), is_test=value))
    script = serve(httpserver, zego_ok())
    ZegoRtcHook().close_room("room-1")
    assert script.seen[0].q("IsTest") == sent
    assert_zego_signed(script.seen[0], action="CloseRoom")


def test_legacy_is_test_key(httpserver, set_connection) -> None:
    set_connection(
        "zegocloud_default",
        zego_conn_json(httpserver.url_for("").rstrip("/"), extra__zegocloud__is_test=True),
    )
    script = serve(httpserver, zego_ok())
    ZegoRtcHook().close_room("room-1")
    assert script.seen[0].q("IsTest") == "true"


@pytest.mark.parametrize(
    ("conn", "param"),
    [
        (zego_conn_json(None, login="not-a-number"), "login (AppId)"),
        (zego_conn_json(None, login="4294967296"), "login (AppId)"),
        ({"conn_type": "zegocloud", "login": "1"}, "connection"),
        (zego_conn_json(None, is_test="perhaps"), "is_test"),
        (zego_conn_json(None, endpoint="rtc-api.zego.im"), "endpoint"),
    ],
)
def test_bad_connections_are_named(set_connection, conn, param) -> None:
    set_connection("bad", conn)
    with pytest.raises(RtcValidationError) as info:
        _ = ZegoRtcHook("bad").settings
    assert info.value.param == param


def test_generic_call(httpserver, zego_conn) -> None:
    script = serve(httpserver, zego_ok({"StreamList": []}))
    result = ZegoCloudHook().call("DescribeSimpleStreamList", {"RoomId": "r", "Skip": None, "Flag": True})
    assert result["Data"] == {"StreamList": []}
    assert zego_business_query(script.seen[0]) == {"RoomId": ["r"], "Flag": ["true"]}


# --- test_connection ------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [zego_ok({"UserCountList": []}), zego_err(2), zego_err(3)])
def test_test_connection_succeeds_on_a_business_answer(httpserver, zego_conn, answer) -> None:
    script = serve(httpserver, answer)
    ok, message = ZegoCloudHook().test_connection()
    assert ok is True, message
    seen = script.seen[0]
    assert seen.method == "GET"
    assert_zego_signed(seen, action="DescribeUserNum")
    assert zego_business_query(seen) == {"RoomId[]": ["airflow-connection-test"]}


@pytest.mark.parametrize("code", [100000005, 100000004, 100000010, 9])
def test_test_connection_fails_on_bad_signature(httpserver, zego_conn, code) -> None:
    script = serve(httpserver, zego_err(code), zego_ok())
    ok, message = ZegoRtcHook().test_connection()
    assert ok is False
    assert message.startswith("Authentication failed") and str(code) in message
    assert len(script.seen) == 1


# --- async path -----------------------------------------------------------------------------------


@pytest.fixture
def no_sync_connection(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []

    def sync_lookup(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the async path must not use the sync connection API")

    original = ZegoCloudHook.aget_connection

    async def async_lookup(cls: Any, conn_id: str) -> Any:
        seen.append(conn_id)
        return await original.__func__(cls, conn_id)

    monkeypatch.setattr(ZegoCloudHook, "get_connection", classmethod(sync_lookup))
    monkeypatch.setattr(ZegoCloudHook, "aget_connection", classmethod(async_lookup))
    return seen


async def test_adescribe_record_status(httpserver, zego_conn, no_sync_connection) -> None:
    data = {"Status": 3, "RecordFiles": [{"FileId": "f", "Status": 3}]}
    script = serve(httpserver, zego_ok(data))
    result = await ZegoCloudRecordHook().adescribe_record_status("rec-1")
    assert result["Data"] == data
    assert no_sync_connection == ["zegocloud_default"]
    seen = script.seen[0]
    assert seen.method == "POST"
    assert seen.headers["content-type"] == "application/json"
    assert_zego_signed(seen, action="DescribeRecordStatus")
    assert json.loads(seen.body) == {"TaskId": "rec-1"}


async def test_adescribe_record_status_throttle_then_not_found(httpserver, zego_conn) -> None:
    script = serve(httpserver, zego_err(300000003), zego_err(300001000, request_id="z-gone"))
    with pytest.raises(RtcNotFoundError) as info:
        await ZegoCloudRecordHook().adescribe_record_status("rec-1")
    assert len(script.seen) == 2
    assert (info.value.code, info.value.request_id, info.value.attempts) == (300001000, "z-gone", 2)
    assert len({s.q("SignatureNonce") for s in script.seen}) == 2


async def test_aget_mix_task_info(httpserver, zego_conn, no_sync_connection) -> None:
    script = serve(
        httpserver, zego_err(110200194), zego_ok({"TaskInfo": {"TaskId": "mix-1", "MixDuration": 5}})
    )
    result = await ZegoRtcHook().aget_mix_task_info("mix-1")
    assert result["Data"]["TaskInfo"]["MixDuration"] == 5
    assert len(script.seen) == 2
    for seen in script.seen:
        assert seen.method == "GET"
        assert_zego_signed(seen, action="GetMixTaskInfo")
        assert zego_business_query(seen) == {"TaskId": ["mix-1"]}


async def test_aget_mix_task_info_not_found(httpserver, zego_conn) -> None:
    script = serve(httpserver, zego_err(110209001))
    with pytest.raises(RtcNotFoundError):
        await ZegoRtcHook().aget_mix_task_info("mix-1")
    assert len(script.seen) == 1


async def test_async_with_a_caller_client(httpserver, zego_conn) -> None:
    import httpx

    serve(httpserver, zego_ok({"TaskInfo": {}}), zego_ok({"TaskInfo": {}}))
    async with httpx.AsyncClient() as client:
        hook = ZegoRtcHook()
        await hook.aget_mix_task_info("mix-1", client=client)
        await hook.aget_mix_task_info("mix-2", client=client)
        assert not client.is_closed


def test_query_pairs_flatten_lists_and_drop_none() -> None:
    pairs = zego_protocol.query_pairs({"UserId": ["a", "b"], "RoomId": "r", "X": None, "B": False, "N": 3})
    assert pairs == [("UserId[]", "a"), ("UserId[]", "b"), ("RoomId", "r"), ("B", "false"), ("N", "3")]
