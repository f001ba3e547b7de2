"""ZEGOCLOUD cleanup operators on the wire: GET query or POST JSON, signature 2.0, "already gone"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_rtc.cleanup.result import KEYS
from airflow_provider_rtc.exceptions import RtcNotFoundError
from airflow_provider_rtc.operators.zego import (
    CloseRoomOperator,
    DeleteStreamOperator,
    KickoutUserOperator,
    StopMixOperator,
    StopRecordOperator,
)
from tests.support.wire import (
    Seen,
    assert_zego_signed,
    serve,
    zego_business_query,
    zego_conn_json,
    zego_err,
    zego_ok,
)


def _matches(result: dict[str, Any], expected: dict[str, Any]) -> None:
    """The one result shape (cleanup/result.py): every key present, the expected ones as given."""
    assert set(KEYS) <= set(result)
    assert {k: result.get(k) for k in expected} == expected


def _assert_get(seen: Seen, action: str, query: dict[str, list[str]]) -> None:
    assert seen.method == "GET"
    assert seen.body == b""
    assert_zego_signed(seen, action=action)
    assert zego_business_query(seen) == query


def _assert_post(seen: Seen, action: str, body: dict[str, Any]) -> None:
    assert seen.method == "POST"
    assert seen.headers["content-type"] == "application/json"
    assert_zego_signed(seen, action=action)
    assert zego_business_query(seen) == {}
    assert seen.json == body


def test_stop_mix_posts_json(httpserver, zego_conn) -> None:
    script = serve(httpserver, zego_ok(request_id="z-stop-mix"))
    result = StopMixOperator(task_id="t", mix_task_id="mix-42", user_id="starter-1", sequence="7").execute({})
    _assert_post(script.seen[0], "StopMix", {"TaskId": "mix-42", "UserId": "starter-1", "Sequence": 7})
    _matches(
        result,
        {
            "cloud": "zego",
            "product": "ZEGOCLOUD",
            "action": "StopMix",
            "mix_task_id": "mix-42",
            "status": "done",
            "RequestId": "z-stop-mix",
        },
    )


def test_stop_mix_without_owner(httpserver, zego_conn) -> None:
    script = serve(httpserver, zego_ok())
    StopMixOperator(task_id="t", mix_task_id="mix-42").execute({})
    _assert_post(script.seen[0], "StopMix", {"TaskId": "mix-42"})


def test_delete_stream_gets_query(httpserver, zego_conn) -> None:
    script = serve(httpserver, zego_ok(request_id="z-del"))
    result = DeleteStreamOperator(
        task_id="t",
        room_id="room#1",
        user_id="Server-Administrator",
        stream_id="stream_1-a",
        user_name="Admin Ü",
    ).execute({})
    _assert_get(
        script.seen[0],
        "DeleteStream",
        {
            "RoomId": ["room#1"],
            "UserId": ["Server-Administrator"],
            "UserName": ["Admin Ü"],
            "StreamId": ["stream_1-a"],
        },
    )
    _matches(
        result,
        {
            "cloud": "zego",
            "product": "ZEGOCLOUD",
            "action": "DeleteStream",
            "room_id": "room#1",
            "stream_id": "stream_1-a",
            "status": "done",
            "RequestId": "z-del",
        },
    )


def test_close_room_gets_query_with_encoded_reason(httpserver, zego_conn) -> None:
    script = serve(httpserver, zego_ok(request_id="z-close"))
    result = CloseRoomOperator(task_id="t", room_id="room-9", custom_reason="event over & done").execute({})
    _assert_get(script.seen[0], "CloseRoom", {"RoomId": ["room-9"], "CustomReason": ["event over & done"]})
    assert "event+over+%26+done" in script.seen[0].query_string
    assert result["status"] == "done" and result["RequestId"] == "z-close" and result["room_id"] == "room-9"


def test_close_room_without_reason(httpserver, zego_conn) -> None:
    script = serve(httpserver, zego_ok())
    CloseRoomOperator(task_id="t", room_id="room-9").execute({})
    _assert_get(script.seen[0], "CloseRoom", {"RoomId": ["room-9"]})


def test_kickout_user_sends_an_array(httpserver, zego_conn) -> None:
    script = serve(httpserver, zego_ok(request_id="z-kick"))
    result = KickoutUserOperator(
        task_id="t", room_id="room-9", user_ids=["u1", "u2", "u3"], custom_reason="bye"
    ).execute({})
    _assert_get(
        script.seen[0],
        "KickoutUser",
        {"RoomId": ["room-9"], "UserId[]": ["u1", "u2", "u3"], "CustomReason": ["bye"]},
    )
    assert "UserId%5B%5D=u1&UserId%5B%5D=u2&UserId%5B%5D=u3" in script.seen[0].query_string
    assert result["user_ids"] == ["u1", "u2", "u3"]


def test_kickout_user_from_a_rendered_json_list(httpserver, zego_conn) -> None:
    script = serve(httpserver, zego_ok())
    op = KickoutUserOperator(task_id="t", room_id="{{ params.room }}", user_ids="{{ params.users | tojson }}")
    op.render_template_fields({"params": {"room": "r1", "users": ["a", "b"]}})
    op.execute({})
    assert zego_business_query(script.seen[0])["UserId[]"] == ["a", "b"]


def test_stop_record_posts_to_cloudrecord(httpserver, zego_conn) -> None:
    script = serve(httpserver, zego_ok(request_id="z-rec"))
    result = StopRecordOperator(task_id="t", recording_task_id="X3CgNeE4I1qAAABN").execute({})
    _assert_post(script.seen[0], "StopRecord", {"TaskId": "X3CgNeE4I1qAAABN"})
    _matches(
        result,
        {
            "cloud": "zego",
            "product": "ZEGOCLOUD",
            "action": "StopRecord",
            "recording_task_id": "X3CgNeE4I1qAAABN",
            "status": "done",
            "RequestId": "z-rec",
        },
    )


@pytest.mark.parametrize(
    ("cls", "business"),
    [
        (StopMixOperator, {"mix_task_id", "user_id", "sequence"}),
        (DeleteStreamOperator, {"room_id", "user_id", "stream_id", "user_name"}),
        (CloseRoomOperator, {"room_id", "custom_reason"}),
        (KickoutUserOperator, {"room_id", "user_ids", "custom_reason"}),
        (StopRecordOperator, {"recording_task_id"}),
    ],
)
def test_template_fields(cls, business) -> None:
    fields = set(cls.template_fields)
    assert business | {"zegocloud_conn_id"} <= fields
    assert not {"password", "server_secret"} & fields  # hook_params is templated: no secret in it


# --- not found is success (by default) ---------------------------------------------------------------

MAKERS: dict[str, Callable[..., Any]] = {
    "DeleteStream": lambda **kw: DeleteStreamOperator(
        task_id="t", room_id="r", user_id="u", stream_id="s", **kw
    ),
    "CloseRoom": lambda **kw: CloseRoomOperator(task_id="t", room_id="r", **kw),
    "KickoutUser": lambda **kw: KickoutUserOperator(task_id="t", room_id="r", user_ids=["u"], **kw),
    "StopMix": lambda **kw: StopMixOperator(task_id="t", mix_task_id="m", **kw),
    "StopRecord": lambda **kw: StopRecordOperator(task_id="t", recording_task_id="rec", **kw),
}

NOT_FOUND = [
    *[
        (action, code)
        for action in ("DeleteStream", "CloseRoom", "KickoutUser")
        for code in (104, 5024, 50001)
    ],
    ("StopMix", 110209001),
    ("StopRecord", 300001000),
    ("StopRecord", 300001001),
]


@pytest.mark.parametrize(("action", "code"), NOT_FOUND)
def test_not_found_is_already_gone_by_default(httpserver, zego_conn, action, code) -> None:
    script = serve(httpserver, zego_err(code, request_id="z-gone"))
    result = MAKERS[action]().execute({})
    assert len(script.seen) == 1
    assert_zego_signed(script.seen[0], action=action)
    assert (result["status"], result["code"], result["RequestId"]) == ("already_gone", code, "z-gone")
    assert result["after_lost_response"] is False


@pytest.mark.parametrize(("action", "code"), NOT_FOUND)
def test_not_found_raises_when_not_ignored(httpserver, zego_conn, action, code) -> None:
    script = serve(httpserver, zego_err(code))
    with pytest.raises(RtcNotFoundError) as info:
        MAKERS[action](ignore_not_found=False).execute({})
    assert info.value.code == code
    assert len(script.seen) == 1


@pytest.mark.parametrize(
    ("action", "code"), [("StopMix", 104), ("CloseRoom", 110209001), ("StopRecord", 50001)]
)
def test_another_apis_not_found_code_is_not_already_gone(httpserver, zego_conn, action, code) -> None:
    serve(httpserver, zego_err(code))
    with pytest.raises(Exception) as info:
        MAKERS[action]().execute({})
    assert not isinstance(info.value, RtcNotFoundError)


def test_lost_response_then_room_gone(raw_server, set_connection) -> None:
    server = raw_server("drop", zego_err(50001, request_id="z-second"))
    set_connection("zegocloud_default", zego_conn_json(server.url))
    result = CloseRoomOperator(task_id="t", room_id="room-9").execute({})
    assert (result["status"], result["after_lost_response"], result["RequestId"]) == (
        "already_gone",
        True,
        "z-second",
    )
    assert len(server.requests) == 2
    nonces = set()
    for request in server.requests:
        seen = Seen.from_raw(request)
        _assert_get(seen, "CloseRoom", {"RoomId": ["room-9"]})
        nonces.add(seen.q("SignatureNonce"))
    assert len(nonces) == 2
