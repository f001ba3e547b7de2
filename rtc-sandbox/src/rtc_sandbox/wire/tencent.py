"""Tencent Cloud API 3.0 on the wire: TC3-HMAC-SHA256 verification, routing, parameters, envelopes.

The signature is recomputed from the request exactly as received: its method, the headers named
in ``SignedHeaders`` with their received values (``content-type`` and ``host`` must be among them),
the raw query for GET (``""`` for POST) and the sha256 of the exact POST body bytes (of ``""`` for
GET, or of ``UNSIGNED-PAYLOAD`` when ``X-TC-Content-SHA256`` says so, an official SDK option).
Nothing is normalised first, so a client that re-serialises its body or adds a charset after
signing fails.

Order of checks (auth strictly before anything that reads business parameters, which the provider's
connection test relies on): Authorization present and well-formed -> SecretId known -> timestamp
within 300 s -> credential-scope date equals the UTC date of the timestamp -> signature -> token ->
service -> version -> action -> region -> body -> rate limit -> faults -> parameters and rules.

Decisions where the reference is silent:

* A missing or malformed ``Authorization`` answers ``AuthFailure.InvalidAuthorization`` (Tencent's
  own message for a bad credential scope reads "does not conform to tencentcloud standards"); an
  unknown service in the scope answers the same, as Tencent does for "`Service` in Credential not
  valid". A scope date that is not the UTC date of the timestamp answers ``SignatureFailure``.
* ``X-TC-Token``: a key configured with a token needs exactly that token; a key without one refuses
  any token. Both answer ``AuthFailure.TokenFailure``.
* Missing ``X-TC-Timestamp``/``X-TC-Version``/``X-TC-Action``/``X-TC-Region`` answer ``MissingParameter``
  ("The request is missing a required parameter `Version`.", Tencent's wording).
* Routing, versions, regions and limits come from the catalog (``routes.handles``). An API with
  ``regions`` needs ``X-TC-Region``: a real region outside the entry's list answers
  ``UnsupportedRegion`` (e.g. StopStreamIngest outside ap-bangkok/jakarta/mumbai/singapore), an
  unknown string ``InvalidParameterValue``. Live ignores the region ("not required for this API").
  The rate limit is counted per API, region and SecretId (the entry's ``per``), not per SdkAppId.
* POST must be ``application/json`` (charset allowed) and GET ``application/x-www-form-urlencoded``;
  anything else (e.g. the v1-signature form POST or multipart) answers ``InvalidParameter``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from .. import signing
from ..backends.trtc import UINT32_MAX
from ..backends.vod import parse_iso as parse_vod_time
from ..catalog import Api
from ..errors import SandboxError
from ..ids import tencent_request_id
from ..middleware import BAD_GATEWAY_HTML, mark_drop
from ..routes import handles, route, services
from . import (
    tencent_usage,  # noqa: F401 (registers the usage APIs' handlers)
    trtc_monitor,  # noqa: F401 (registers DescribeRoomInfo and DescribeUserInfo)
)
from .tencent_params import TencentParams, unflatten

if TYPE_CHECKING:
    from ..core import Sandbox

MAX_SKEW_SECONDS = 300
MAX_GET_BYTES = 32 * 1024
MAX_POST_BYTES = 10 * 1024 * 1024

#: Tencent Cloud regions that exist (so others are "invalid", these merely "unsupported")
KNOWN_REGIONS = frozenset(
    {
        "ap-bangkok",
        "ap-beijing",
        "ap-beijing-fsi",
        "ap-chengdu",
        "ap-chongqing",
        "ap-guangzhou",
        "ap-hongkong",
        "ap-jakarta",
        "ap-mumbai",
        "ap-nanjing",
        "ap-seoul",
        "ap-shanghai",
        "ap-shanghai-fsi",
        "ap-shenzhen-fsi",
        "ap-singapore",
        "ap-taipei",
        "ap-tokyo",
        "eu-frankfurt",
        "eu-moscow",
        "na-ashburn",
        "na-siliconvalley",
        "na-toronto",
        "sa-saopaulo",
    }
)


@dataclass(frozen=True)
class TencentCall:
    secret_id: str
    service: str
    action: str
    region: str | None
    params: TencentParams


Handler = Callable[["Sandbox", TencentCall], dict[str, Any]]


# -- handlers: TRTC ------------------------------------------------------------------------------


def _sdk_app_id(p: TencentParams, invalid: str = "InvalidParameter.SdkAppId") -> int:
    value = p.uint("SdkAppId", missing="MissingParameter.SdkAppId", invalid=invalid)
    assert value is not None
    return value


def _num_room(p: TencentParams) -> int:
    value = p.uint(
        "RoomId", missing="MissingParameter.RoomId", invalid="InvalidParameter.RoomId", low=1, high=UINT32_MAX
    )
    assert value is not None
    return value


def _str_room(p: TencentParams) -> str:
    value = p.string("RoomId", missing="MissingParameter.RoomId", invalid="InvalidParameter.RoomId")
    assert value is not None
    if len(value.encode()) > 64:
        raise SandboxError("InvalidParameter.RoomId", "RoomId must be at most 64 bytes.")
    return value


def _user_ids(p: TencentParams) -> list[str]:
    value = p.str_list("UserIds", missing="MissingParameter.UserIds", invalid="InvalidParameter.UserIds")
    assert value is not None
    if any(not v for v in value):
        raise SandboxError("InvalidParameter.UserIds", "UserIds must not contain empty strings.")
    return value


@handles("trtc", "DismissRoom")
def dismiss_room(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    app, room = _sdk_app_id(call.params), _num_room(call.params)
    sb.trtc.dismiss_room(app, room, sb.now())
    return {}


@handles("trtc", "DismissRoomByStrRoomId")
def dismiss_room_by_str(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    app, room = _sdk_app_id(call.params), _str_room(call.params)
    sb.trtc.dismiss_room(app, room, sb.now())
    return {}


@handles("trtc", "RemoveUser")
def remove_user(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    app, room, users = _sdk_app_id(call.params), _num_room(call.params), _user_ids(call.params)
    sb.trtc.remove_users(app, room, users, sb.now())
    return {}


@handles("trtc", "RemoveUserByStrRoomId")
def remove_user_by_str(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    app, room, users = _sdk_app_id(call.params), _str_room(call.params), _user_ids(call.params)
    sb.trtc.remove_users(app, room, users, sb.now())
    return {}


def _required_str(p: TencentParams, name: str) -> str:
    value = p.string(name, missing=f"MissingParameter.{name}", invalid="InvalidParameter.OutOfRange")
    assert value is not None
    return value


def _opt_uint(p: TencentParams, name: str, default: int) -> int:
    value = p.uint(name, missing=None, invalid="InvalidParameter.OutOfRange", default=default)
    assert value is not None
    return value


@handles("trtc", "CreateCloudRecording")
def create_cloud_recording(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    p = call.params
    app = _sdk_app_id(p)
    room_id = _required_str(p, "RoomId")
    user_id = _required_str(p, "UserId")
    _required_str(p, "UserSig")
    record = p.obj(
        "RecordParams", missing="MissingParameter.RecordParams", invalid="InvalidParameter.OutOfRange"
    )
    assert record is not None
    mode = record.uint(
        "RecordMode", missing="MissingParameter.RecordMode", invalid="InvalidParameter.OutOfRange"
    )
    assert mode is not None
    storage = p.obj(
        "StorageParams", missing="MissingParameter.StorageParams", invalid="InvalidParameter.OutOfRange"
    )
    assert storage is not None
    cloud = storage.obj("CloudStorage", missing=None, invalid="InvalidParameter.OutOfRange")
    vod = storage.obj("CloudVod", missing=None, invalid="InvalidParameter.OutOfRange")
    prefix: list[str] = []
    vod_media_type = 0
    vod_sub_app_id: int | None = None
    if cloud is not None:
        vendor = cloud.uint(
            "Vendor", missing="MissingParameter.Vendor", invalid="InvalidParameter.OutOfRange"
        )
        if vendor not in (0, 1):
            raise SandboxError("InvalidParameter.OutOfRange", "Vendor must be 0 (COS) or 1 (AWS).")
        for name in ("Region", "Bucket", "AccessKey", "SecretKey"):
            _required_str(cloud, name)
        prefix = cloud.str_list("FileNamePrefix", missing=None, invalid="InvalidParameter.OutOfRange") or []
        for part in prefix:
            if not part or any(not (c.isascii() and (c.isalnum() or c in "_-")) for c in part):
                raise SandboxError(
                    "InvalidParameter.OutOfRange", "FileNamePrefix allows a-z A-Z 0-9 _ - only."
                )
        kind = "cos"
    elif vod is not None:
        tvod = vod.obj("TencentVod", missing=None, invalid="InvalidParameter.OutOfRange")
        if tvod is not None:
            vod_media_type = _opt_uint(tvod, "MediaType", 0)
            vod_sub_app_id = tvod.uint("SubAppId", missing=None, invalid="InvalidParameter.OutOfRange")
            record_id = tvod.string("UserDefineRecordId", missing=None, invalid="InvalidParameter.OutOfRange")
            if record_id is not None and (
                len(record_id.encode()) > 64
                or any(not (c.isascii() and (c.isalnum() or c in "_-")) for c in record_id)
            ):
                raise SandboxError(
                    "InvalidParameter.OutOfRange", "UserDefineRecordId: <= 64 bytes of [a-zA-Z0-9_-]."
                )
        kind = "vod"
    else:
        raise SandboxError(
            "MissingParameter.CloudStorage", "The request is missing a required parameter `CloudStorage`."
        )
    task_id = sb.trtc.create_recording(
        app,
        room_id,
        _opt_uint(p, "RoomIdType", 1),
        user_id,
        sb.now(),
        record_mode=mode,
        storage=kind,
        stream_type=_opt_uint(record, "StreamType", 0),
        output_format=_opt_uint(record, "OutputFormat", 0),
        av_merge=_opt_uint(record, "AvMerge", 0),
        max_idle_time=_opt_uint(record, "MaxIdleTime", 30),
        media_id=_opt_uint(record, "MediaId", 0),
        prefix=prefix,
        vod_media_type=vod_media_type,
        vod_sub_app_id=vod_sub_app_id or None,
        resource_expired_hour=_opt_uint(p, "ResourceExpiredHour", 72),
    )
    return {"TaskId": task_id}


def _task_id(p: TencentParams) -> str:
    value = p.string("TaskId", missing="MissingParameter.TaskId", invalid="InvalidParameter.OutOfRange")
    assert value is not None
    return value


@handles("trtc", "DescribeCloudRecording")
def describe_cloud_recording(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    p = call.params
    app, task_id = _sdk_app_id(p), _task_id(p)
    result = sb.trtc.describe_recording(app, task_id, sb.now())
    recorder_key = p.string("RecorderKey", missing=None, invalid="InvalidParameter.OutOfRange")
    if recorder_key is not None:
        result["RecorderKey"] = recorder_key
    return result


@handles("trtc", "DeleteCloudRecording")
def delete_cloud_recording(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    p = call.params
    app, task_id = _sdk_app_id(p), _task_id(p)
    return {"TaskId": sb.trtc.delete_recording(app, task_id, sb.now())}


@handles("trtc", "StopPublishCdnStream")
def stop_publish_cdn_stream(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    p = call.params
    app, task_id = _sdk_app_id(p, invalid="InvalidParameter"), _task_id(p)
    sb.trtc.stop_relay(app, "cdn", task_id)
    return {"TaskId": task_id}


@handles("trtc", "StopStreamIngest")
def stop_stream_ingest(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    p = call.params
    app = _sdk_app_id(p)
    task_id = p.string("TaskId", missing="MissingParameter.TaskId", invalid="InvalidParameter.TaskId")
    assert task_id is not None
    sb.trtc.stop_relay(app, "ingest", task_id)
    return {}


@handles("trtc", "StopAITranscription")
def stop_ai_transcription(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    """TaskId alone (tencentcloud-sdk-go StopAITranscriptionRequestParams); tasks are seeded
    (``ai_tasks``)."""
    task_id = call.params.string("TaskId", missing="MissingParameter", invalid="InvalidParameter.TaskId")
    assert task_id is not None
    sb.trtc.stop_relay(None, "ai", task_id)
    return {}


# -- handlers: Live ------------------------------------------------------------------------------


def _live_str(p: TencentParams, name: str) -> str:
    value = p.string(name, missing="MissingParameter", invalid="InvalidParameter")
    assert value is not None
    return value


def _plain(p: TencentParams, ints: tuple[str, ...], floats: tuple[str, ...] = ()) -> dict[str, Any]:
    """A nested object with its documented numeric fields typed (GET sends them as strings)."""
    out = {k: v for k, v in p.data.items() if k not in ints and k not in floats}
    for name in ints:
        value = p.uint(name, missing=None, invalid="InvalidParameter", low=-(2**63), high=2**63 - 1)
        if value is not None:
            out[name] = value
    for name in floats:
        number = p.number(name, invalid="InvalidParameter")
        if number is not None:
            out[name] = number
    return out


@handles("live", "CreateCommonMixStream")
def create_common_mix_stream(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    p = call.params
    session = _live_str(p, "MixStreamSessionId")
    inputs = p.obj_list("InputStreamList", missing="MissingParameter", invalid="InvalidParameter")
    output = p.obj("OutputParams", missing="MissingParameter", invalid="InvalidParameter")
    assert inputs is not None and output is not None
    template = p.uint("MixStreamTemplateId", missing=None, invalid="InvalidParameter", default=0)
    typed_inputs = []
    for item in inputs:
        typed = dict(item.data)
        layout = item.obj("LayoutParams", missing=None, invalid="InvalidParameter.InvalidLayerParam")
        if layout is not None:
            typed["LayoutParams"] = _plain(
                layout,
                ("ImageLayer", "InputType", "WatermarkId"),
                ("ImageHeight", "ImageWidth", "LocationX", "LocationY"),
            )
        typed_inputs.append(typed)
    typed_output = _plain(
        output,
        (
            "OutputStreamType",
            "OutputStreamBitRate",
            "OutputStreamGop",
            "OutputStreamFrameRate",
            "OutputAudioBitRate",
            "OutputAudioSampleRate",
            "OutputAudioChannels",
        ),
    )
    sb.live.create_mix(session, typed_inputs, typed_output, sb.now(), template_id=template or 0)
    return {}


@handles("live", "CancelCommonMixStream")
def cancel_common_mix_stream(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    sb.live.cancel_mix(_live_str(call.params, "MixStreamSessionId"))
    return {}


@handles("live", "DropLiveStream")
def drop_live_stream(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    p = call.params
    sb.live.drop_stream(
        _live_str(p, "DomainName"), _live_str(p, "AppName"), _live_str(p, "StreamName"), sb.now()
    )
    return {}


@handles("live", "DescribeLiveStreamState")
def describe_live_stream_state(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    p = call.params
    state = sb.live.stream_state(
        _live_str(p, "DomainName"), _live_str(p, "AppName"), _live_str(p, "StreamName")
    )
    return {"StreamState": state}


@handles("live", "DescribeLiveStreamOnlineList")
def describe_live_stream_online_list(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    p = call.params
    page = p.uint("PageNum", missing=None, invalid="InvalidParameter", low=1, high=UINT32_MAX, default=1)
    # mainland: "取值: 10~300000" (Py SDK live models, 2025-12); the sandbox plays the mainland site
    size = p.uint("PageSize", missing=None, invalid="InvalidParameter", low=10, high=300_000, default=10)
    assert page is not None and size is not None
    names = [
        p.string(n, missing=None, invalid="InvalidParameter") for n in ("DomainName", "AppName", "StreamName")
    ]
    streams = sb.live.online_streams(*names)
    shown = streams[(page - 1) * size : page * size]
    return {
        "TotalNum": len(streams),
        "TotalPage": -(-len(streams) // size),
        "PageNum": page,
        "PageSize": size,
        "OnlineInfo": [
            {
                "StreamName": s.name,
                "AppName": s.app,
                "DomainName": s.domain,
                "PublishTimeList": [
                    {"PublishTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s.pushed_at))}
                ],
                # 0 = pushed without delay (the API page's example; the SDK's StreamOnlineInfo)
                "PushToDelay": 0,
            }
            for s in shown
        ],
    }


# -- handlers: VOD -------------------------------------------------------------------------------


def _sub_app(p: TencentParams) -> int | None:
    """The VOD application a call addresses (absent: the primary one)."""
    return p.uint("SubAppId", missing=None, invalid="InvalidParameterValue.SubAppId")


@handles("vod", "DescribeMediaInfos")
def describe_media_infos(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    ids = call.params.str_list("FileIds", missing="MissingParameter", invalid="InvalidParameterValue.FileIds")
    assert ids is not None
    return sb.vod.describe(ids, _sub_app(call.params), _info_filters(call.params))


def _info_filters(p: TencentParams) -> list[str] | None:
    """``Filters``: the MediaInfo blocks to fill (DescribeMediaInfos and SearchMedia alike)."""
    return p.str_list("Filters", missing=None, invalid="InvalidParameterValue")


@handles("vod", "SearchMedia")
def search_media(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    p = call.params
    # no VOD list documents InvalidParameterValue.CreateTime: bad windows answer the common code
    window = p.obj("CreateTime", missing=None, invalid="InvalidParameterValue")
    after = before = None
    if window is not None:
        raw_after = window.string("After", missing=None, invalid="InvalidParameterValue")
        raw_before = window.string("Before", missing=None, invalid="InvalidParameterValue")
        after = None if raw_after is None else parse_vod_time(raw_after)
        before = None if raw_before is None else parse_vod_time(raw_before)
    sort = p.obj("Sort", missing=None, invalid="InvalidParameterValue.Sort")
    order = "Desc"
    if sort is not None:
        order = sort.string("Order", missing=None, invalid="InvalidParameterValue.Sort", default="Desc") or ""
        if order not in ("Asc", "Desc"):
            raise SandboxError("InvalidParameterValue.Sort", "Sort.Order must be Asc or Desc.")
    return sb.vod.search(
        after=after,
        before=before,
        offset=_opt_uint(p, "Offset", 0),
        limit=_opt_uint(p, "Limit", 10),
        descending=order == "Desc",
        source_types=p.str_list("SourceTypes", missing=None, invalid="InvalidParameterValue.SourceTypes"),
        trtc_sdk_app_ids=p.uint_list("TrtcSdkAppIds", invalid="InvalidParameterValue"),
        trtc_room_ids=p.str_list("TrtcRoomIds", missing=None, invalid="InvalidParameterValue"),
        sub_app_id=_sub_app(p),
        filters=_info_filters(p),
    )


@handles("vod", "DeleteMedia")
def delete_media(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    file_id = call.params.string("FileId", missing="MissingParameter", invalid="InvalidParameterValue.FileId")
    assert file_id is not None
    sb.vod.delete(file_id, _sub_app(call.params))
    return {}


# -- verification --------------------------------------------------------------------------------


def _missing(name: str) -> SandboxError:
    return SandboxError("MissingParameter", f"The request is missing a required parameter `{name}`.")


def _single_header(request: Request, name: str) -> str | None:
    values = request.headers.getlist(name)
    if len(values) > 1:
        raise SandboxError(
            "AuthFailure.SignatureFailure", f"The signed header `{name}` is sent more than once."
        )
    return values[0] if values else None


def authenticate(request: Request, body: bytes, sb: Sandbox) -> tuple[str, str]:
    """Verify TC3-HMAC-SHA256 against the request as received; return (SecretId, service)."""
    header = request.headers.get("authorization")
    if not header:
        raise SandboxError(
            "AuthFailure.InvalidAuthorization", "The request `Authorization` header is missing."
        )
    try:
        auth = signing.parse_tc3_authorization(header)
    except ValueError:
        raise SandboxError(
            "AuthFailure.InvalidAuthorization",
            "The request `Authorization` header does not conform to tencentcloud standards.",
        ) from None
    key = sb.tencent_key(auth.secret_id)
    if key is None:
        raise SandboxError(
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found, please ensure that your SecretId is correct.",
        )
    raw_ts = request.headers.get("x-tc-timestamp")
    if raw_ts is None:
        raise _missing("Timestamp")
    if not raw_ts.isdigit():
        raise SandboxError(
            "InvalidParameterValue", f"The value `{raw_ts}` of parameter `Timestamp` is invalid."
        )
    timestamp = int(raw_ts)
    if abs(timestamp - sb.now()) > MAX_SKEW_SECONDS:
        raise SandboxError(
            "AuthFailure.SignatureExpire",
            "Signature expired. Timestamp and server time cannot differ by more than five minutes.",
        )
    if auth.date != signing.utc_date(timestamp):
        raise SandboxError(
            "AuthFailure.SignatureFailure",
            "The credential scope date must be the UTC date of X-TC-Timestamp.",
        )
    signed = [h.lower() for h in auth.signed_headers]
    if "content-type" not in signed or "host" not in signed:
        raise SandboxError(
            "AuthFailure.SignatureFailure", "SignedHeaders must include content-type and host."
        )
    values: dict[str, str] = {}
    for name in signed:
        value = _single_header(request, name)
        if value is None:
            raise SandboxError(
                "AuthFailure.SignatureFailure", f"The signed header `{name}` is not in the request."
            )
        values[name] = value
    unsigned = request.headers.get("x-tc-content-sha256") == "UNSIGNED-PAYLOAD"
    # GET signs the hash of "" (its parameters are in the signed query); POST the exact body bytes
    payload = b"UNSIGNED-PAYLOAD" if unsigned else (b"" if request.method == "GET" else body)
    query = request.scope.get("query_string", b"").decode("latin-1") if request.method == "GET" else ""
    expected = signing.tc3_signature(
        secret_key=key.secret_key,
        service=auth.service,
        timestamp=timestamp,
        method=request.method,
        headers=values,
        payload=payload,
        query=query,
    )
    if not hmac.compare_digest(expected, auth.signature.lower()) or auth.signature != auth.signature.lower():
        raise SandboxError(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
        )
    token = request.headers.get("x-tc-token")
    if (key.token or None) != (token or None):
        raise SandboxError("AuthFailure.TokenFailure", "Token verification failed.")
    if auth.service not in services("tencent"):
        raise SandboxError(
            "AuthFailure.InvalidAuthorization",
            "The request `Authorization` header does not conform to tencentcloud standards: "
            "`Service` in Credential not valid.",
        )
    return auth.secret_id, auth.service


def resolve(request: Request, service: str) -> tuple[Api, Handler, str | None]:
    """The catalog entry and handler the request names, its version and region checked against it."""
    version = request.headers.get("x-tc-version")
    if not version:
        raise _missing("Version")
    if version != services("tencent")[service]:
        raise SandboxError("NoSuchVersion", f"The API version `{version}` does not exist.")
    action = request.headers.get("x-tc-action")
    if not action:
        raise _missing("Action")
    found = route("tencent", action, service)
    if found is None:
        raise SandboxError("InvalidAction", f"The action `{action}` does not exist.")
    api, handler = found
    region = request.headers.get("x-tc-region") or None
    if api.regions is not None:
        if region is None:
            raise _missing("Region")
        if region not in KNOWN_REGIONS:
            raise SandboxError(
                "InvalidParameterValue", f"The value `{region}` of parameter `Region` is invalid."
            )
        if region not in api.regions:
            raise SandboxError(
                "UnsupportedRegion", f"The action `{action}` does not support region `{region}`."
            )
    return api, handler, region


def parse_params(request: Request, body: bytes) -> TencentParams:
    media_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if request.method == "GET":
        if media_type != signing.FORM_CONTENT_TYPE:
            raise SandboxError("InvalidParameter", "GET requests must use application/x-www-form-urlencoded.")
        query = request.scope.get("query_string", b"")
        if len(query) > MAX_GET_BYTES:
            raise SandboxError("RequestSizeLimitExceeded", "A GET request may not exceed 32 KB.")
        pairs = parse_qsl(query.decode("utf-8", "replace"), keep_blank_values=True)
        return TencentParams(unflatten(pairs), from_query=True)
    if media_type != signing.JSON_CONTENT_TYPE:
        raise SandboxError(
            "InvalidParameter",
            "Signature v3 POST requests must use application/json "
            "(form POSTs need signature v1, which the sandbox does not emulate).",
        )
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        raise SandboxError("InvalidParameter", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise SandboxError("InvalidParameter", "The request body must be a JSON object.")
    return TencentParams(data, from_query=False)


# -- rendering -----------------------------------------------------------------------------------


def ok_envelope(result: dict[str, Any], request_id: str) -> JSONResponse:
    return JSONResponse({"Response": {**result, "RequestId": request_id}})


def error_envelope(code: str, message: str, request_id: str) -> JSONResponse:
    return JSONResponse({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}})


async def handle(request: Request, sb: Sandbox) -> Response:
    request_id = tencent_request_id()
    action = request.headers.get("x-tc-action") or "<none>"
    sb.stats.call(action)
    try:
        body = await request.body()
        if len(body) > MAX_POST_BYTES:
            raise SandboxError("RequestSizeLimitExceeded", "A POST request may not exceed 10 MB.")
        secret_id, service = authenticate(request, body, sb)
        api, handler, region = resolve(request, service)
        action = api.action
        params = parse_params(request, body)
    except SandboxError as err:
        sb.stats.error(action, err.code)
        return error_envelope(str(err.code), err.message, request_id)
    verdict = sb.guard.admit(api, api.rate_key(secret_id=secret_id, region=region))
    if verdict.throttled:
        qps = sb.limiter.rate(api)
        message = (
            f"Your current request times exceeds the frequency limit `{qps:g}` for a second. "
            "Please reduce the frequency of calls."
            if qps
            else "Request rate limit exceeded."
        )
        sb.stats.error(action, "RequestLimitExceeded")
        return error_envelope("RequestLimitExceeded", message, request_id)
    if verdict.kind == "internal":
        sb.stats.error(action, "InternalError")
        return error_envelope("InternalError", "Internal error.", request_id)
    if verdict.kind == "http5xx":
        sb.stats.error(action, "HTTP 502")
        return HTMLResponse(BAD_GATEWAY_HTML, status_code=502)
    if verdict.kind == "latency":
        await asyncio.sleep(verdict.latency)
    call = TencentCall(secret_id, service, action, region, params)
    try:
        result = handler(sb, call)
    except SandboxError as err:
        sb.stats.error(action, err.code)
        response = error_envelope(str(err.code), err.message, request_id)
    else:
        sb.stats.ok(action)
        response = ok_envelope(result, request_id)
    if verdict.kind == "drop":
        sb.stats.dropped(action)
        mark_drop(request.scope)
    return response
