"""Each operator checks its own parameters before any hook exists, and names them.

The hooks check the same values again, so removing an operator's check used to change only how the
value was printed and every test still passed. Here a bad value must fail with the operator's
parameter name, at construction or at the start of ``execute``, before any hook is built (a hook is
where connections are read and calls are made) and before any HTTP request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.hooks.base import RtcBaseHook
from airflow_provider_rtc.operators.live import CancelCommonMixStreamOperator, DropLiveStreamOperator
from airflow_provider_rtc.operators.trtc import (
    BulkDismissRoomsOperator,
    DeleteCloudRecordingOperator,
    DismissRoomOperator,
    RemoveUserOperator,
)
from airflow_provider_rtc.operators.zego import (
    BulkCloseRoomsOperator,
    BulkKickoutUsersOperator,
    CloseRoomOperator,
    KickoutUserOperator,
    StopRecordOperator,
)
from tests.support.wire import serve, tc_ok, tencent_conn_json, zego_conn_json, zego_ok


@dataclass
class Check:
    name: str
    param: str
    build: Callable[[], Any]  # the operator, or raises at construction
    at_construction: bool = False


def op(cls: type, **kw: Any) -> Callable[[], Any]:
    return lambda: cls(task_id="t", **kw)


CHECKS = [
    # TRTC single target
    Check("dismiss-None", "room_id", op(DismissRoomOperator, room_id="None")),
    Check("dismiss-zero", "room_id", op(DismissRoomOperator, room_id=0)),
    Check("dismiss-str-slash", "room_id", op(DismissRoomOperator, room_id="room/1", str_room_id=True)),
    Check("remove-room", "room_id", op(RemoveUserOperator, room_id="None", user_ids=["a"])),
    Check("remove-user", "user_ids[0]", op(RemoveUserOperator, room_id=1, user_ids=["None"])),
    Check(
        "remove-eleven", "user_ids", op(RemoveUserOperator, room_id=1, user_ids=[f"u{i}" for i in range(11)])
    ),
    Check("rec-space", "recording_task_id", op(DeleteCloudRecordingOperator, recording_task_id="task 1")),
    # Live
    Check(
        "mix-None", "mix_stream_session_id", op(CancelCommonMixStreamOperator, mix_stream_session_id="None")
    ),
    Check(
        "drop-None", "stream_name", op(DropLiveStreamOperator, stream_name="None", domain_name="d.example")
    ),
    # ZEGO single target
    Check("close-None", "room_id", op(CloseRoomOperator, room_id="None")),
    Check("kick-user", "user_ids[0]", op(KickoutUserOperator, room_id="r", user_ids=["None"])),
    Check("kick-room", "room_id", op(KickoutUserOperator, room_id="None", user_ids=["u"])),
    Check("stop-record", "recording_task_id", op(StopRecordOperator, recording_task_id="None")),
    # bulk: the item's index in the operator's list
    Check("bulk-dismiss", "room_ids[1]", op(BulkDismissRoomsOperator, room_ids=[1, "None"])),
    Check("bulk-dismiss-zero", "room_ids[0]", op(BulkDismissRoomsOperator, room_ids=[0])),
    Check("bulk-close", "room_ids[1]", op(BulkCloseRoomsOperator, room_ids=["r1", "None"])),
    Check(
        "bulk-kick",
        "kicks[1].user_ids[0]",
        op(
            BulkKickoutUsersOperator,
            kicks=[{"room_id": "r", "user_ids": ["u"]}, {"room_id": "r", "user_ids": ["None"]}],
        ),
    ),
]


@pytest.fixture
def hooks_built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    built: list[str] = []
    original = RtcBaseHook.__init__

    def spy(self: Any, *args: Any, **kwargs: Any) -> None:
        built.append(type(self).__name__)
        original(self, *args, **kwargs)

    monkeypatch.setattr(RtcBaseHook, "__init__", spy)
    return built


@pytest.fixture
def clouds(httpserver, set_connection) -> Any:
    url = httpserver.url_for("").rstrip("/")
    set_connection("tencentcloud_default", tencent_conn_json(url))
    set_connection("zegocloud_default", zego_conn_json(url))
    serve(httpserver, *([tc_ok(), zego_ok()] * 4))
    return httpserver


def test_the_spy_sees_a_hook_being_built(hooks_built: list[str], clouds: Any) -> None:
    """The good value goes past the operator's check to the hook (so a check moved there would show)."""
    DismissRoomOperator(task_id="t", room_id=1).execute({})
    assert hooks_built == ["TrtcHook"] and len(clouds.log) == 1


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
def test_the_operator_refuses_before_any_hook_is_built(
    check: Check, hooks_built: list[str], clouds: Any
) -> None:
    with pytest.raises(RtcValidationError) as caught:
        check.build().execute({})
    assert caught.value.param == check.param, str(caught.value)
    assert f"invalid {check.param}:" in str(caught.value)
    assert hooks_built == [], f"a {hooks_built} was built before the operator's own check"
    assert len(clouds.log) == 0


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"verify_timeout": -1}, "verify_timeout"),
        ({"verify_timeout": float("nan")}, "verify_timeout"),
        ({"verify_interval": 0}, "verify_interval"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"max_concurrency": True}, "max_concurrency"),
    ],
)
def test_end_event_numbers_are_refused_at_construction(
    kwargs: dict[str, Any], param: str, hooks_built: list[str]
) -> None:
    """Checked when the DAG is parsed, not after discovery has listed every room of every cloud."""
    from airflow_provider_rtc.operators.event import EndEventOperator

    with pytest.raises(RtcValidationError) as caught:
        EndEventOperator(task_id="end", selector={"room_ids": ["r"]}, **kwargs)
    assert caught.value.param == param, str(caught.value)
    assert hooks_built == []
