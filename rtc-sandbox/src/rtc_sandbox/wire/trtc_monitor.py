"""TRTC monitoring data on the wire: DescribeRoomInfo and DescribeUserInfo (the opt-in reconciliation).

Shapes and rules from the Python SDK models and the API tables (shared reference trtc-api-tables.md):
``StartTime``/``EndTime`` unix seconds, at most 24 h apart for rooms and 4 h for users, within 14
days (``InvalidParameter.QueryScaleOversize`` / ``InvalidParameter.StartTsOversize``), ``PageNumber``
from 0, ``PageSize`` 1-100 (``InvalidParameter.PageSizeOversize``). ``CommId`` is
``SdkAppId_RoomId_CreateTime``. Decisions where the docs are silent: a room is listed when it was
created in the window; a user still in the room is listed by DescribeUserInfo whatever the window
(``LeaveTs`` is "now" for a user who has not left); the data has no delay in the sandbox.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import catalog
from ..errors import SandboxError
from ..routes import handles

if TYPE_CHECKING:
    from ..core import Sandbox
    from .tencent import TencentCall
    from .tencent_params import TencentParams


#: parameter -> its codes' suffix: both actions document ``MissingParameter.StartTs``/``EndTs`` and
#: ``InvalidParameter.StartTs``/``EndTs``, not ``...StartTime`` (tencentcloud-sdk-go trtc/v20190722
#: client.go, DescribeRoomInfo/DescribeUserInfo error lists, commit 144f6c8d39e4, 2026-08-21)
_CODE_NAME = {"StartTime": "StartTs", "EndTime": "EndTs"}


def _uint(
    p: TencentParams, name: str, *, required: bool = True, default: int = 0, invalid: str | None = None
) -> int:
    code = _CODE_NAME.get(name, name)
    value = p.uint(
        name,
        missing=f"MissingParameter.{code}" if required else None,
        invalid=invalid or f"InvalidParameter.{code}",
        low=0,
    )
    return default if value is None else int(value)


def _window(
    sb: Sandbox, p: TencentParams, max_seconds: int, bad_end: str = "InvalidParameter.EndTs"
) -> tuple[int, int]:
    """``bad_end``: DescribeUserInfo documents no ``InvalidParameter.EndTs``, only ``InvalidParameter``."""
    start, end = _uint(p, "StartTime"), _uint(p, "EndTime", invalid=bad_end)
    if end <= start:
        raise SandboxError(bad_end, "EndTime must be after StartTime.")
    if end - start > max_seconds:
        raise SandboxError("InvalidParameter.QueryScaleOversize", "The query period exceeds the limit.")
    if start < sb.now() - catalog.MONITOR_HISTORY_S:
        raise SandboxError("InvalidParameter.StartTsOversize", "The start time for query exceeded the limit.")
    return start, end


def _page(p: TencentParams) -> tuple[int, int]:
    number = _uint(p, "PageNumber", required=False, default=0)
    size = _uint(p, "PageSize", required=False, default=10)
    if size > 100:
        raise SandboxError("InvalidParameter.PageSizeOversize", "The value of PageSize exceeds 100.")
    if size < 1:
        raise SandboxError("InvalidParameter.PageSize", "PageSize must be 1 to 100.")
    return number, size


def _app(p: TencentParams) -> int:
    return _uint(p, "SdkAppId")


@handles("trtc", "DescribeRoomInfo")
def describe_room_info(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    p = call.params
    app = _app(p)
    start, end = _window(sb, p, catalog.ROOM_INFO_MAX_S)
    number, size = _page(p)
    only = p.string("RoomId", missing=None, invalid="InvalidParameter.RoomId")
    rooms = [
        {
            "CommId": f"{app}_{room}_{int(created)}",
            "RoomString": str(room),
            "CreateTime": int(created),
            "DestroyTime": 0,
            "IsFinished": False,
            "UserId": next(iter(users), ""),
        }
        for room, created, users in sorted(sb.trtc.monitored_rooms(app), key=lambda r: (r[1], str(r[0])))
        if start <= int(created) <= end and (only is None or str(room) == only)
    ]
    return {"Total": len(rooms), "RoomList": rooms[number * size : (number + 1) * size]}


@handles("trtc", "DescribeUserInfo")
def describe_user_info(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    p = call.params
    app = _app(p)
    comm = p.string("CommId", missing="MissingParameter.CommIdOrSdkAppId", invalid="InvalidParameter")
    _window(sb, p, catalog.USER_INFO_MAX_S, bad_end="InvalidParameter")
    number, size = _page(p)
    now = int(sb.now())
    users: list[dict[str, Any]] = []
    for room, created, members in sb.trtc.monitored_rooms(app):
        if comm == f"{app}_{room}_{int(created)}":
            users = [
                {
                    "RoomStr": str(room),
                    "UserId": uid,
                    "JoinTs": int(joined),
                    "LeaveTs": now,  # "用户没有退房则返回当前时间": still in the room
                    "DeviceType": "Web",
                    "SdkVersion": "sandbox",
                    "ClientIp": "127.0.0.1",
                    "Finished": False,
                }
                for uid, joined in sorted(members.items(), key=lambda m: (m[1], m[0]))
            ]
            break
    return {"Total": len(users), "UserList": users[number * size : (number + 1) * size]}
