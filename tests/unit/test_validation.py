"""Invalid input fails before any network call, naming the parameter and the rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_rtc import validation as v
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.hooks.live import LiveHook
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook, ZegoRtcHook
from airflow_provider_rtc.operators.live import CancelCommonMixStreamOperator, DropLiveStreamOperator
from airflow_provider_rtc.operators.trtc import (
    DeleteCloudRecordingOperator,
    DismissRoomOperator,
    RemoveUserOperator,
    StopPublishCdnStreamOperator,
    StopStreamIngestOperator,
)
from airflow_provider_rtc.operators.zego import (
    CloseRoomOperator,
    DeleteStreamOperator,
    KickoutUserOperator,
    StopMixOperator,
    StopRecordOperator,
)
from tests.support.wire import serve, tc_ok, tencent_conn_json, zego_ok

ELEVEN = [f"user{i}" for i in range(11)]
SIX = [f"user{i}" for i in range(6)]

TENCENT_CASES: list[tuple[str, Callable[[], Any], str, str]] = [
    ("room-0", lambda: DismissRoomOperator(task_id="t", room_id=0), "room_id", "from 1 to 4294967294"),
    ("room-minus-1", lambda: DismissRoomOperator(task_id="t", room_id=-1), "room_id", "from 1 to 4294967294"),
    (
        "room-minus-1-text",
        lambda: DismissRoomOperator(task_id="t", room_id="-1"),
        "room_id",
        "from 1 to 4294967294",
    ),
    (
        "room-2**32",
        lambda: DismissRoomOperator(task_id="t", room_id=4294967295),
        "room_id",
        "from 1 to 4294967294",
    ),
    (
        "room-2**32-text",
        lambda: DismissRoomOperator(task_id="t", room_id="4294967296"),
        "room_id",
        "from 1 to 4294967294",
    ),
    ("room-abc", lambda: DismissRoomOperator(task_id="t", room_id="abc"), "room_id", "str_room_id=True"),
    ("room-empty", lambda: DismissRoomOperator(task_id="t", room_id=""), "room_id", "empty value"),
    ("room-bool", lambda: DismissRoomOperator(task_id="t", room_id=True), "room_id", "must be an integer"),
    ("room-float", lambda: DismissRoomOperator(task_id="t", room_id=12.5), "room_id", "got a float"),
    (
        "str-room-too-long",
        lambda: DismissRoomOperator(task_id="t", room_id="r" * 65, str_room_id=True),
        "room_id",
        "1-64 bytes",
    ),
    (
        "str-room-bad-char",
        lambda: DismissRoomOperator(task_id="t", room_id="room/1", str_room_id=True),
        "room_id",
        "allowed symbols",
    ),
    (
        "remove-11-users",
        lambda: RemoveUserOperator(task_id="t", room_id=1, user_ids=ELEVEN),
        "user_ids",
        "at most 10 distinct items",
    ),
    (
        "remove-no-users",
        lambda: RemoveUserOperator(task_id="t", room_id=1, user_ids=[]),
        "user_ids",
        "at least 1 item",
    ),
    (
        "remove-duplicate-users",
        lambda: RemoveUserOperator(task_id="t", room_id=1, user_ids="a,b"),
        "user_ids",
        "a bare string is not split",
    ),
    (
        "remove-bad-json",
        lambda: RemoveUserOperator(task_id="t", room_id=1, user_ids="[a, b"),
        "user_ids",
        "does not parse",
    ),
    (
        "remove-room-0",
        lambda: RemoveUserOperator(task_id="t", room_id=0, user_ids=["a"]),
        "room_id",
        "from 1 to 4294967294",
    ),
    (
        "recording-empty",
        lambda: DeleteCloudRecordingOperator(task_id="t", recording_task_id=""),
        "recording_task_id",
        "printable ASCII characters without spaces",
    ),
    (
        "recording-spaces",
        lambda: DeleteCloudRecordingOperator(task_id="t", recording_task_id="   "),
        "recording_task_id",
        "printable ASCII characters without spaces",
    ),
    (
        "recording-inner-space",
        lambda: DeleteCloudRecordingOperator(task_id="t", recording_task_id="task 1"),
        "recording_task_id",
        "without spaces",
    ),
    (
        "relay-empty",
        lambda: StopPublishCdnStreamOperator(task_id="t", task_id_to_stop=" "),
        "task_id_to_stop",
        "printable",
    ),
    (
        "ingest-none",
        lambda: StopStreamIngestOperator(task_id="t", task_id_to_stop=None),
        "task_id_to_stop",
        "printable",
    ),
    (
        "mix-dash",
        lambda: CancelCommonMixStreamOperator(task_id="t", mix_stream_session_id="mix-1"),
        "mix_stream_session_id",
        "letters, digits and underscores",
    ),
    (
        "mix-81-bytes",
        lambda: CancelCommonMixStreamOperator(task_id="t", mix_stream_session_id="m" * 81),
        "mix_stream_session_id",
        "1-80 bytes",
    ),
    (
        "mix-empty",
        lambda: CancelCommonMixStreamOperator(task_id="t", mix_stream_session_id=""),
        "mix_stream_session_id",
        "1-80 bytes",
    ),
    (
        "drop-no-domain",
        lambda: DropLiveStreamOperator(task_id="t", stream_name="s", domain_name=""),
        "domain_name",
        "printable",
    ),
    (
        "unknown-region",
        lambda: DismissRoomOperator(task_id="t", room_id=1, region="ap-mars"),
        "region",
        "unknown Tencent Cloud region",
    ),
    (
        "unknown-region-live",
        lambda: CancelCommonMixStreamOperator(task_id="t", mix_stream_session_id="m", region="mars"),
        "region",
        "unknown Tencent Cloud region",
    ),
    (
        "bad-sdk-app-id",
        lambda: DismissRoomOperator(task_id="t", room_id=1, sdk_app_id="app-1"),
        "sdk_app_id",
        "must be an integer",
    ),
]


@pytest.mark.parametrize(
    ("make", "param", "rule"), [c[1:] for c in TENCENT_CASES], ids=[c[0] for c in TENCENT_CASES]
)
def test_tencent_operators_fail_fast(httpserver, tencent_conn, make, param, rule) -> None:
    script = serve(httpserver, tc_ok())
    with pytest.raises(RtcValidationError) as info:
        make().execute({})
    assert info.value.param == param
    assert rule in info.value.rule
    assert param in str(info.value) and rule in str(info.value)
    assert isinstance(info.value, AirflowFailException)
    assert info.value.maybe_executed is False
    assert script.seen == []
    assert httpserver.log == []


def test_mix_session_of_exactly_80_bytes_is_accepted(httpserver, tencent_conn) -> None:
    script = serve(httpserver, tc_ok())
    CancelCommonMixStreamOperator(task_id="t", mix_stream_session_id="m" * 80).execute({})
    assert len(script.seen) == 1


ZEGO_CASES: list[tuple[str, Callable[[], Any], str, str]] = [
    (
        "kick-6-users",
        lambda: KickoutUserOperator(task_id="t", room_id="r", user_ids=SIX),
        "user_ids",
        "at most 5 distinct items",
    ),
    (
        "kick-long-user",
        lambda: KickoutUserOperator(task_id="t", room_id="r", user_ids=["u" * 65]),
        "user_ids[0]",
        "1-64 bytes",
    ),
    (
        "stream-bad-char",
        lambda: DeleteStreamOperator(task_id="t", room_id="r", user_id="u", stream_id="stream/1"),
        "stream_id",
        "letters, digits, '-' and '_'",
    ),
    (
        "stream-space",
        lambda: DeleteStreamOperator(task_id="t", room_id="r", user_id="u", stream_id="stream 1"),
        "stream_id",
        "letters, digits",
    ),
    (
        "stream-empty",
        lambda: DeleteStreamOperator(task_id="t", room_id="r", user_id="u", stream_id=""),
        "stream_id",
        "1-256 bytes",
    ),
    (
        "stream-257",
        lambda: DeleteStreamOperator(task_id="t", room_id="r", user_id="u", stream_id="s" * 257),
        "stream_id",
        "1-256 bytes",
    ),
    ("room-empty", lambda: CloseRoomOperator(task_id="t", room_id=" "), "room_id", "1-128 bytes"),
    (
        "reason-too-long",
        lambda: CloseRoomOperator(task_id="t", room_id="r", custom_reason="x" * 257),
        "custom_reason",
        "at most 256 bytes",
    ),
    ("mix-task-empty", lambda: StopMixOperator(task_id="t", mix_task_id=""), "mix_task_id", "printable"),
    (
        "mix-sequence-negative",
        lambda: StopMixOperator(task_id="t", mix_task_id="m", sequence=-1),
        "sequence",
        "integer >= 0",
    ),
    (
        "record-task-space",
        lambda: StopRecordOperator(task_id="t", recording_task_id=" "),
        "recording_task_id",
        "printable",
    ),
]


@pytest.mark.parametrize(
    ("make", "param", "rule"), [c[1:] for c in ZEGO_CASES], ids=[c[0] for c in ZEGO_CASES]
)
def test_zego_operators_fail_fast(httpserver, zego_conn, make, param, rule) -> None:
    script = serve(httpserver, zego_ok())
    with pytest.raises(RtcValidationError) as info:
        make().execute({})
    assert info.value.param == param
    assert rule in info.value.rule
    assert script.seen == []
    assert httpserver.log == []


def test_missing_sdk_app_id_fails_before_the_network(httpserver, set_connection) -> None:
    conn = tencent_conn_json(httpserver.url_for("").rstrip("/"))
    del conn["extra"]["sdk_app_id"]
    set_connection("tencentcloud_default", conn)
    script = serve(httpserver, tc_ok())
    for make in (
        lambda: DismissRoomOperator(task_id="t", room_id=1),
        lambda: DeleteCloudRecordingOperator(task_id="t", recording_task_id="x"),
    ):
        with pytest.raises(RtcValidationError) as info:
            make().execute({})
        assert info.value.param == "sdk_app_id"
        assert "missing SDKAppID" in info.value.rule
    assert script.seen == []


def test_missing_region_fails_before_the_network_for_trtc(httpserver, set_connection) -> None:
    conn = tencent_conn_json(httpserver.url_for("").rstrip("/"))
    del conn["extra"]["region"]
    set_connection("tencentcloud_default", conn)
    script = serve(httpserver, tc_ok())
    with pytest.raises(RtcValidationError) as info:
        DismissRoomOperator(task_id="t", room_id=1).execute({})
    assert info.value.param == "region"
    assert "required for TRTC" in info.value.rule
    assert script.seen == []


def test_unknown_region_in_the_connection(httpserver, set_connection) -> None:
    set_connection(
        "tencentcloud_default", tencent_conn_json(httpserver.url_for("").rstrip("/"), region="cn-north")
    )
    script = serve(httpserver, tc_ok())
    with pytest.raises(RtcValidationError) as info:
        DismissRoomOperator(task_id="t", room_id=1).execute({})
    assert info.value.param == "region"
    assert script.seen == []


def test_hooks_validate_too(httpserver, tencent_conn, zego_conn) -> None:
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: TrtcHook().dismiss_room(0), "room_id"),
        (lambda: TrtcHook().remove_user(1, ELEVEN), "user_ids"),
        (lambda: TrtcHook().delete_cloud_recording(""), "task_id"),
        (lambda: TrtcHook().create_cloud_recording(1, "u", "sig", {}, {}, room_id_type=2), "room_id_type"),
        (lambda: TrtcHook().call("DismissRoom", {}, region="moon-1"), "region"),
        (lambda: LiveHook().cancel_common_mix_stream("a-b"), "mix_stream_session_id"),
        (lambda: LiveHook().create_common_mix_stream("m", [], {}), "input_stream_list"),
        (lambda: LiveHook().create_common_mix_stream("m", [{}] * 17, {}), "input_stream_list"),
        (lambda: ZegoRtcHook().kickout_user("r", SIX), "user_ids"),
        (lambda: ZegoRtcHook().delete_stream("r", "u", "bad stream"), "stream_id"),
        (lambda: ZegoRtcHook().describe_user_num([f"r{i}" for i in range(11)]), "room_ids"),
        (lambda: ZegoRtcHook().stop_mix(""), "mix_task_id"),
        (lambda: ZegoCloudRecordHook().stop_record(""), "recording_task_id"),
        (lambda: ZegoCloudRecordHook().describe_tasks(1, 1, 2), "status"),
    ]
    for call, param in cases:
        with pytest.raises(RtcValidationError) as info:
            call()
        assert info.value.param == param, (param, info.value)
    assert httpserver.log == []


# --- the rules themselves ---------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(1, 1), ("1", 1), (" 42 ", 42), (4294967294, 4294967294)])
def test_numeric_room_ids_accepted(value, expected) -> None:
    assert v.trtc_room_id(value, str_room_id=False) == expected


@pytest.mark.parametrize("value", ["room_1", "a" * 64, "Room 1 (main)", "1234", "x:y@z"])
def test_string_room_ids_accepted(value) -> None:
    assert v.trtc_room_id(value, str_room_id=True) == value


def test_string_list_forms() -> None:
    assert v.string_list(["a", "b"], "p", max_items=10) == ["a", "b"]
    assert v.string_list(("a",), "p", max_items=10) == ["a"]
    assert v.string_list('["a", "b"]', "p", max_items=10) == ["a", "b"]
    assert v.string_list("['a', 'b', 'a']", "p", max_items=10) == ["a", "b"]
    with pytest.raises(RtcValidationError, match="bare string"):
        v.string_list(" a ", "p", max_items=10)
    assert v.string_list([1, 2], "p", max_items=10) == ["1", "2"]
    with pytest.raises(RtcValidationError):
        v.string_list(5, "p", max_items=10)
    with pytest.raises(RtcValidationError):
        v.string_list(["a", " "], "p", max_items=10)


def test_regions() -> None:
    assert v.region(" ap-guangzhou ", required=True) == "ap-guangzhou"
    assert v.region(None, required=False) is None
    with pytest.raises(RtcValidationError):
        v.region(None, required=True)
    with pytest.raises(RtcValidationError):
        v.region("AP-GUANGZHOU", required=False)


def test_sdk_app_id_rule() -> None:
    assert v.sdk_app_id("1400000001") == 1400000001
    for bad in (None, "", 0, "-5", "abc", 2**32):
        with pytest.raises(RtcValidationError) as info:
            v.sdk_app_id(bad)
        assert info.value.param == "sdk_app_id"


def test_user_id_list_values_are_not_echoed_when_too_many() -> None:
    with pytest.raises(RtcValidationError) as info:
        v.string_list(ELEVEN, "user_ids", max_items=10)
    assert "user0" not in str(info.value)
    assert "(got 11)" in str(info.value)


# --- the contract's accepted forms (the refused ones are in test_bad_inputs.py) --------------------


def test_accepted_forms_of_the_contract() -> None:
    assert v.integer("16", "max_concurrency", minimum=1) == 16  # a rendered template
    assert v.number("2.5", "timeout", minimum=0) == 2.5
    assert v.trtc_room_id(4294967294, str_room_id=False) == 4294967294
    assert v.trtc_user_id("a" * 32) == "a" * 32
    assert v.optional_text("\U0001f468\u200d\U0001f469 host", "user_name", max_bytes=64)  # emoji joiner
    assert v.endpoint_url("http://[::1]:8990/") == "http://[::1]:8990"
    assert v.endpoint_url("https://trtc.tencentcloudapi.com") == "https://trtc.tencentcloudapi.com"
    assert v.header_value("zh-CN", "language") == "zh-CN"
    parsed = v.id_list("[[1, 2], [3]]", "p", item=lambda raw, name: raw)
    assert parsed.items == [[1, 2], [3]]
    assert v.id_list(["a", "b", "a"], "p", item=v.zego_id).duplicates == ["a"]
    template = "https://b.cos/{task_id}/{file_name}"
    assert v.format_template(template, "file_url_template", fields=v.TRTC_FILE_URL_FIELDS) == template
    jinja = "{{ var.value.bucket }}/{task_id}"  # rendered by Airflow first, checked again then
    assert v.format_template(jinja, "file_url_template", fields=v.TRTC_FILE_URL_FIELDS) == jinja


def test_a_bare_string_is_never_iterated() -> None:
    for text in ('"room_4"', "room_4", "room_2,room_3"):
        with pytest.raises(RtcValidationError, match="list"):
            v.id_list(text, "room_ids", item=v.zego_id)
