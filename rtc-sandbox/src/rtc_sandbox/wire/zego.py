"""ZEGOCLOUD server APIs on the wire: signature 2.0, ``?Action=`` routing, parameters, envelopes.

rtc-api and cloudrecord-api share the sandbox's one base URL (their action names do not collide).
Every answer is HTTP 200 with ``{"Code", "Message", "RequestId", "Data"}`` (``Data`` null when an
API returns none). Gateway checks, in order: Action present (100000006) -> AppId well-formed
(100000001) and known (100000010) -> Timestamp present (100000002) and an integer (100000003) ->
SignatureNonce (100000008) -> Signature (100000009) -> SignatureVersion present (100000013) and
"2.0" (100000014) -> |Timestamp - now| <= 600 s (100000004) -> signature (100000005) -> Action
supported (100000007). Then rate limit, faults, parameters and rules.

Decisions where the reference is silent:

* The signature is recomputed over the decimal AppId and Timestamp as parsed, and compared with
  the lowercase hex the docs prescribe (an uppercase Signature is wrong).
* Arrays must use the documented ``Key[]=a&Key[]=b`` form (raw or %5B%5D-encoded brackets); a bare
  ``Key=a`` for an array parameter counts as missing.
* GET actions refuse POST and vice versa, answering the family's input-error code (2, 110200002,
  300000004): the docs define each action's method and ZEGO documents no method-error code.
* Family codes: throttling 206 (room), 110200190/110200191/110200194 (StartMix/StopMix/other
  mixing: the documented start/stop/general overload codes, the entry's ``throttle_code``),
  300000003 (recording); internal errors 1, 110200001, 300010000.
* Routing (action, GET/POST, family) and limits come from the catalog (``routes.handles``). Limits
  are counted per AppId and API, per room too for DescribeSimpleStreamList (1 call per 10 s), and a
  request with ``IsTest=true`` meets the test environment's lower limits (the entry's ``test_qps``).
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from .. import signing
from ..catalog import Api
from ..errors import SandboxError
from ..ids import zego_request_id
from ..middleware import BAD_GATEWAY_HTML, mark_drop
from ..routes import handles, route

if TYPE_CHECKING:
    from ..core import Sandbox

MAX_SKEW_SECONDS = 600
UINT32_MAX = 2**32 - 1


@dataclass(frozen=True)
class Family:
    input_error: int
    internal: int
    throttle: int
    message: str


ROOM = Family(2, 1, 206, "success")
MIX = Family(110200002, 110200001, 110200194, "success")
RECORD = Family(300000004, 300010000, 300000003, "succeed")
FAMILIES = {"room": ROOM, "mix": MIX, "record": RECORD}


class ZegoParams:
    """Business parameters of one call: the query for GET, the JSON body for POST."""

    def __init__(
        self, data: dict[str, Any], family: Family, *, query_lists: dict[str, list[str]] | None = None
    ) -> None:
        self.data = data
        self.family = family
        self.query_lists = query_lists

    def _fail(self, message: str) -> SandboxError:
        return SandboxError(self.family.input_error, message)

    def string(self, name: str, *, required: bool = True, max_bytes: int | None = None) -> str | None:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                raise self._fail(f"{name} is required")
            return None
        if not isinstance(value, str):
            raise self._fail(f"{name} must be a string")
        if max_bytes is not None and len(value.encode()) > max_bytes:
            raise SandboxError(3 if self.family is ROOM else self.family.input_error, f"{name} is too long")
        return value

    def integer(self, name: str, *, required: bool = False, default: int | None = None) -> int | None:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                raise self._fail(f"{name} is required")
            return default
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise self._fail(f"{name} must be an integer")

    def str_list(self, name: str) -> list[str]:
        if self.query_lists is not None:
            values = self.query_lists.get(name)
        else:
            raw = self.data.get(name)
            values = raw if isinstance(raw, list) and all(isinstance(v, str) for v in raw) else None
        if not values or any(v == "" for v in values):
            raise self._fail(f"{name}[] is required")
        return values

    def obj(self, name: str, *, required: bool = True) -> dict[str, Any]:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self._fail(f"{name} is required")
            return {}
        if not isinstance(value, dict):
            raise self._fail(f"{name} must be an object")
        return value

    def obj_list(self, name: str) -> list[dict[str, Any]]:
        value = self.data.get(name)
        if not isinstance(value, list) or not value:
            raise self._fail(f"{name} is required and must be a non-empty array")
        if not all(isinstance(v, dict) for v in value):
            raise self._fail(f"{name} entries must be objects")
        return value


Handler = Callable[["Sandbox", int, ZegoParams], Any]


# -- handlers ------------------------------------------------------------------------------------


def _s(p: ZegoParams, name: str) -> str:
    value = p.string(name)
    assert value is not None
    return value


@handles("rtc", "DeleteStream")
def delete_stream(sb: Sandbox, app: int, p: ZegoParams) -> None:
    sb.zego.delete_stream(app, _s(p, "RoomId"), _s(p, "UserId"), _s(p, "StreamId"), sb.now())


@handles("rtc", "CloseRoom")
def close_room(sb: Sandbox, app: int, p: ZegoParams) -> None:
    room = _s(p, "RoomId")
    p.string("CustomReason", required=False, max_bytes=256)
    flag = (p.string("RoomCloseCallback", required=False) or "false").lower() == "true"
    sb.zego.close_room(app, room, sb.now(), room_close_callback=flag)


@handles("rtc", "KickoutUser")
def kickout_user(sb: Sandbox, app: int, p: ZegoParams) -> None:
    room = _s(p, "RoomId")
    users = p.str_list("UserId")
    p.string("CustomReason", required=False, max_bytes=256)
    sb.zego.kickout(app, room, users, sb.now())


@handles("rtc", "DescribeUserNum")
def describe_user_num(sb: Sandbox, app: int, p: ZegoParams) -> dict[str, Any]:
    return {"UserCountList": sb.zego.user_num(app, p.str_list("RoomId"))}


@handles("rtc", "DescribeUsers")
def describe_users(sb: Sandbox, app: int, p: ZegoParams) -> dict[str, Any]:
    return {"UserStatusList": sb.zego.describe_users(app, _s(p, "RoomId"), p.str_list("UserId"))}


@handles("rtc", "DescribeSimpleStreamList")
def describe_simple_stream_list(sb: Sandbox, app: int, p: ZegoParams) -> dict[str, Any]:
    return {"StreamList": sb.zego.stream_list(app, _s(p, "RoomId"))}


@handles("rtc", "DescribeRoomList")
def describe_room_list(sb: Sandbox, app: int, p: ZegoParams) -> dict[str, Any]:
    return sb.zego.room_list(
        app, p.integer("PageIndex", default=1) or 1, p.integer("PageSize", default=100) or 100
    )


@handles("rtc", "DescribeUserList")
def describe_user_list(sb: Sandbox, app: int, p: ZegoParams) -> dict[str, Any]:
    return sb.zego.user_list(
        app,
        _s(p, "RoomId"),
        p.integer("Mode", default=0) or 0,
        p.integer("Limit", default=200) or 0,
        p.string("Marker", required=False) or "",
    )


@handles("rtc", "GetMixTaskInfo")
def get_mix_task_info(sb: Sandbox, app: int, p: ZegoParams) -> dict[str, Any]:
    return sb.zego.mix_info(app, _s(p, "TaskId"), sb.now())


@handles("rtc", "StartMix")
def start_mix(sb: Sandbox, app: int, p: ZegoParams) -> dict[str, Any]:
    return sb.zego.start_mix(
        app,
        _s(p, "TaskId"),
        _s(p, "UserId"),
        p.obj_list("MixInput"),
        p.obj_list("MixOutput"),
        sb.now(),
        room_id=p.string("RoomId", required=False) or "",
        sequence=p.integer("Sequence", default=0) or 0,
    )


@handles("rtc", "StopMix")
def stop_mix(sb: Sandbox, app: int, p: ZegoParams) -> None:
    sb.zego.stop_mix(app, _s(p, "TaskId"), p.string("UserId", required=False), sb.now())


@handles("cloudrecord", "StartRecord")
def start_record(sb: Sandbox, app: int, p: ZegoParams) -> dict[str, Any]:
    task_id = sb.zego.start_record(
        app,
        _s(p, "RoomId"),
        p.obj("RecordInputParams"),
        p.obj("RecordOutputParams", required=False),
        p.obj("StorageParams"),
        sb.now(),
    )
    return {"TaskId": task_id}


@handles("cloudrecord", "StopRecord")
def stop_record(sb: Sandbox, app: int, p: ZegoParams) -> None:
    sb.zego.stop_record(app, _s(p, "TaskId"), sb.now())


@handles("cloudrecord", "DescribeRecordStatus")
def describe_record_status(sb: Sandbox, app: int, p: ZegoParams) -> dict[str, Any]:
    return sb.zego.record_status(app, _s(p, "TaskId"), sb.now())


@handles("cloudrecord", "DescribeTasks")
def describe_tasks(sb: Sandbox, app: int, p: ZegoParams) -> dict[str, Any]:
    status = p.integer("Status", required=True)
    start = p.integer("StartTime", required=True)
    end = p.integer("EndTime", required=True)
    assert status is not None and start is not None and end is not None
    return sb.zego.describe_tasks(
        app,
        status,
        start,
        end,
        sb.now(),
        room_id=p.string("RoomId", required=False),
        page_offset=p.integer("PageOffset", default=1) or 1,
        page_size=p.integer("PageSize", default=50) or 50,
    )


# -- verification --------------------------------------------------------------------------------


def split_query(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Scalars (first value wins) and ``Key[]`` arrays; brackets may arrive raw or %5B%5D-encoded."""
    scalars: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    raw = request.scope.get("query_string", b"").decode("latin-1")
    for key, value in parse_qsl(raw, keep_blank_values=True, encoding="utf-8"):
        if key.endswith("[]"):
            lists.setdefault(key[:-2], []).append(value)
        else:
            scalars.setdefault(key, value)
    return scalars, lists


def authenticate(query: dict[str, str], sb: Sandbox) -> tuple[int, str]:
    action = query.get("Action")
    if not action:
        raise SandboxError(100000006, "Action is empty")
    raw_app = query.get("AppId", "")
    if not raw_app.isdigit() or int(raw_app) > UINT32_MAX:
        raise SandboxError(100000001, "AppId format error")
    app_id = int(raw_app)
    secret = sb.zego_secret(app_id)
    if secret is None:
        raise SandboxError(100000010, "failed to get ServerSecret, check AppId")
    raw_ts = query.get("Timestamp")
    if not raw_ts:
        raise SandboxError(100000002, "Timestamp is empty")
    if not raw_ts.lstrip("-").isdigit():
        raise SandboxError(100000003, "Timestamp format error")
    timestamp = int(raw_ts)
    nonce = query.get("SignatureNonce")
    if not nonce:
        raise SandboxError(100000008, "SignatureNonce is empty")
    sig = query.get("Signature")
    if not sig:
        raise SandboxError(100000009, "Signature is empty")
    version = query.get("SignatureVersion")
    if not version:
        raise SandboxError(100000013, "SignatureVersion is empty")
    if version != signing.ZEGO_SIGNATURE_VERSION:
        raise SandboxError(100000014, "unsupported SignatureVersion, only 2.0")
    if abs(timestamp - sb.now()) > MAX_SKEW_SECONDS:
        raise SandboxError(100000004, "signature expired, regenerate the signature")
    expected = signing.zego_api_signature(app_id, nonce, secret, timestamp)
    if not hmac.compare_digest(expected, sig):
        raise SandboxError(100000005, "signature error")
    return app_id, action


def _rate_key(api: Api, app_id: int, params: ZegoParams) -> str:
    room = params.data.get("RoomId")
    return api.rate_key(app_id=app_id, room=room if isinstance(room, str) else None)


# -- rendering -----------------------------------------------------------------------------------


def envelope(code: int, message: str, request_id: str, data: Any = None) -> JSONResponse:
    return JSONResponse({"Code": code, "Message": message, "RequestId": request_id, "Data": data})


async def handle(request: Request, sb: Sandbox) -> Response:
    request_id = zego_request_id()
    query, lists = split_query(request)
    action = query.get("Action") or "<none>"
    sb.stats.call(action)
    try:
        app_id, action = authenticate(query, sb)
        found = route("zego", action)
        if found is None:
            raise SandboxError(100000007, f"unsupported Action {action}")
    except SandboxError as err:
        sb.stats.error(action, err.code)
        return envelope(int(err.code), err.message, request_id)
    api, handler = found
    family = FAMILIES[api.family]
    try:
        if request.method != api.method:
            raise SandboxError(family.input_error, f"{action} must be called with {api.method}")
        if api.method == "GET":
            params = ZegoParams(dict(query), family, query_lists=lists)
        else:
            body = await request.body()
            try:
                data = json.loads(body) if body else {}
            except ValueError:
                raise SandboxError(family.input_error, "the request body is not valid JSON") from None
            if not isinstance(data, dict):
                raise SandboxError(family.input_error, "the request body must be a JSON object")
            params = ZegoParams(data, family)
    except SandboxError as err:
        sb.stats.error(action, err.code)
        return envelope(int(err.code), err.message, request_id)
    verdict = sb.guard.admit(api, _rate_key(api, app_id, params), test=query.get("IsTest") == "true")
    if verdict.throttled:
        code = api.throttle_code or family.throttle
        sb.stats.error(action, code)
        return envelope(code, "requests per second exceed the API rate limit, retry later", request_id)
    if verdict.kind == "internal":
        sb.stats.error(action, family.internal)
        return envelope(family.internal, "internal error, please retry", request_id)
    if verdict.kind == "http5xx":
        sb.stats.error(action, "HTTP 502")
        return HTMLResponse(BAD_GATEWAY_HTML, status_code=502)
    if verdict.kind == "latency":
        await asyncio.sleep(verdict.latency)
    try:
        data = handler(sb, app_id, params)
    except SandboxError as err:
        sb.stats.error(action, err.code)
        response = envelope(int(err.code), err.message, request_id)
    else:
        sb.stats.ok(action)
        response = envelope(0, family.message, request_id, data)
    if verdict.kind == "drop":
        sb.stats.dropped(action)
        mark_drop(request.scope)
    return response
