"""TRTC and Live usage APIs on the wire: window rules, then the backend's deterministic numbers.

Shapes follow the vendor pages: TRTC answers ``UsageKey`` + ``UsageList[{TimeKey, TimeStampKey,
UsageValue}]`` (5-minute points for one date, daily points otherwise) and DescribeTrtcRoomUsage a CSV
text; Live answers ``DataInfoList`` of BillDataInfo / TranscodeTotalInfo. Window caps and codes are
documented in ``backends/usage.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ..backends.usage import BEIJING, MIX_KEYS, ROOM_CSV_KEYS, TRANSCODE_SPECS, TRTC_KEYS, spread
from ..errors import SandboxError
from ..routes import handles
from .tencent_params import TencentParams

if TYPE_CHECKING:
    from ..core import Sandbox
    from .tencent import TencentCall

TRTC_MAX_DATES = 31
ROOM_MAX_SECONDS = 24 * 3600
BANDWIDTH_MAX_DAYS = 31
TRANSCODE_MAX_DAYS = 90
_UTC_Z = "%Y-%m-%dT%H:%M:%SZ"


def _text(p: TencentParams, name: str, invalid: str) -> str:
    value = p.string(name, missing=f"MissingParameter.{name}", invalid=invalid)
    assert value is not None
    return value


def _date(p: TencentParams, name: str) -> dt.date:
    text = _text(p, name, "InvalidParameter")
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise SandboxError("InvalidParameter", f"`{name}` must be YYYY-MM-DD.") from None


def _beijing_time(p: TencentParams, name: str, invalid: str) -> dt.datetime:
    """``YYYY-MM-DD hh:mm[:ss]`` is Beijing time; ISO 8601 with Z/offset is taken as given."""
    text = _text(p, name, invalid)
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SandboxError(invalid, f"The value `{text}` of parameter `{name}` is invalid.") from None
    return value if value.tzinfo else value.replace(tzinfo=BEIJING)


def _record(sb: Sandbox, call: TencentCall, invalid: str) -> None:
    """Log the window as sent (before it is judged), for tests of how clients split ranges."""
    p = call.params
    sb.usage.record(call.action, _text(p, "StartTime", invalid), _text(p, "EndTime", invalid))


def _usage_apps(sb: Sandbox, p: TencentParams) -> list[int]:
    app = p.uint("SdkAppId", missing=None, invalid="InvalidParameter.SdkAppId")
    known = sb.config.sdk_app_ids
    if app is None:
        return list(known)
    if app not in known:
        raise SandboxError("InvalidParameter.SdkAppId", "`SdkAppId` is incorrect.")
    return [app]


def _trtc_usage(sb: Sandbox, call: TencentCall, series: str, keys: tuple[str, ...]) -> dict[str, Any]:
    p = call.params
    start, end = _date(p, "StartTime"), _date(p, "EndTime")
    apps = _usage_apps(sb, p)
    sb.usage.record(call.action, start.isoformat(), end.isoformat())
    if end < start:
        raise SandboxError("InvalidParameter", "`EndTime` must not be before `StartTime`.")
    if (end - start).days + 1 > TRTC_MAX_DATES:
        raise SandboxError("InvalidParameter.QueryScaleOversize", "The query period exceeds the limit.")
    now = sb.now()
    points = []
    day = start
    # live minutes: every user-second in a sandbox room counts under "Audio" (UNCONFIRMED mapping:
    # TRTC bills a user's minutes by the resolution they receive, which the sandbox does not model)
    live_key = keys.index("Audio") if series == "trtc" and "Audio" in keys else None

    spans = sb.trtc.user_spans(apps, now) if live_key is not None else []

    def live(lo: float, hi: float) -> float:
        top = min(hi, now)
        return sum(max(0.0, min(e, top) - max(s, lo)) for s, e in spans) / 60

    while day <= end:
        totals = [
            sum(sb.usage.minutes(app, day, series, key, now) for app in apps)
            if sb.config.usage_baseline
            else 0
            for key in keys
        ]
        midnight = dt.datetime(day.year, day.month, day.day, tzinfo=BEIJING)
        if start == end:  # one date: 5-minute points
            columns = [spread(total, 288) for total in totals]
            for slot in range(288):
                stamp = midnight + dt.timedelta(minutes=5 * slot)
                if stamp.timestamp() <= now:
                    values = [float(c[slot]) for c in columns]
                    if live_key is not None:
                        values[live_key] += round(live(stamp.timestamp(), stamp.timestamp() + 300), 3)
                    points.append(_point(stamp, values))
        elif day <= dt.datetime.fromtimestamp(now, BEIJING).date():
            values = [float(t) for t in totals]
            if live_key is not None:
                values[live_key] += round(live(midnight.timestamp(), midnight.timestamp() + 86400), 3)
            points.append(_point(midnight, values))
        day += dt.timedelta(days=1)
    return {"UsageKey": list(keys), "UsageList": points}


def _point(stamp: dt.datetime, values: list[float]) -> dict[str, Any]:
    return {
        "TimeKey": stamp.strftime("%Y-%m-%d %H:%M:%S"),
        "TimeStampKey": int(stamp.timestamp()),
        "UsageValue": values,
    }


@handles("trtc", "DescribeTrtcUsage")
def describe_trtc_usage(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    return _trtc_usage(sb, call, "trtc", TRTC_KEYS)


@handles("trtc", "DescribeRecordingUsage")
def describe_recording_usage(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    mix = _text(call.params, "MixType", "InvalidParameter")
    if mix not in ("single", "multi"):
        raise SandboxError("InvalidParameter", "`MixType` must be single or multi.")
    return _trtc_usage(sb, call, f"recording/{mix}", TRTC_KEYS)


@handles("trtc", "DescribeMixTranscodingUsage")
def describe_mix_transcoding_usage(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    return _trtc_usage(sb, call, "mix", MIX_KEYS)


@handles("trtc", "DescribeRelayUsage")
def describe_relay_usage(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    return _trtc_usage(sb, call, "relay", TRTC_KEYS)


@handles("trtc", "DescribeTrtcRoomUsage")
def describe_trtc_room_usage(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    p = call.params
    # DescribeTrtcRoomUsage's Go SDK list has no MissingParameter.* code: the common MissingParameter
    app = p.uint("SdkAppid", missing="MissingParameter", invalid="InvalidParameter")
    if app not in sb.config.sdk_app_ids:
        raise SandboxError("FailedOperation.SdkAppIdNotExist", "The SdkAppid does not exist.")
    start = _beijing_time(p, "StartTime", "InvalidParameter")
    end = _beijing_time(p, "EndTime", "InvalidParameter")
    _record(sb, call, "InvalidParameter")
    span = (end - start).total_seconds()
    if span <= 0 or span > ROOM_MAX_SECONDS:
        raise SandboxError("InvalidParameter", "The query period must be positive and at most 24 hours.")
    # the API sums the period: a period inside one Beijing date reports that date's rooms
    day = start.astimezone(BEIJING).date()
    scale = min(1.0, span / 86400 + 60 / 86400)
    # the header as the API page's example spells it: "RoomId,Audio,SD,hd,FullHD,2K,4K"
    # (cloud.tencent.com/document/api/647/89181), lower-case "hd" unlike DescribeTrtcUsage's "HD"
    lines = ["RoomId," + ",".join(ROOM_CSV_KEYS)]
    for room, values in sb.usage.room_seconds(app, day, sb.now()):
        lines.append(room + "," + ",".join(str(int(v * scale)) for v in values))
    return {"Data": "\n".join(lines) + "\n"}


def _live_window(p: TencentParams, max_days: int) -> tuple[dt.datetime, dt.datetime]:
    start = _beijing_time(p, "StartTime", "InvalidParameterValue")
    end = _beijing_time(p, "EndTime", "InvalidParameterValue")
    if end <= start:
        raise SandboxError("InvalidParameterValue", "`EndTime` must be after `StartTime`.")
    if end - start > dt.timedelta(days=max_days):
        raise SandboxError(
            "InvalidParameterValue", f"The gap between StartTime and EndTime cannot exceed {max_days} days."
        )
    return start, end


def _days(start: dt.datetime, end: dt.datetime) -> list[dt.date]:
    first, last = start.astimezone(BEIJING).date(), end.astimezone(BEIJING).date()
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=BEIJING)


def _utc(stamp: dt.datetime) -> str:
    return stamp.astimezone(dt.UTC).strftime(_UTC_Z)


@handles("live", "DescribeBillBandwidthAndFluxList")
def describe_bill_bandwidth_and_flux_list(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    p = call.params
    granularity = p.uint("Granularity", missing=None, invalid="InvalidParameterValue", default=5)
    if granularity not in (5, 60, 1440):
        raise SandboxError("InvalidParameterValue", "`Granularity` must be 5, 60 or 1440.")
    _record(sb, call, "InvalidParameterValue")
    start, end = _live_window(p, 1 if granularity == 5 else BANDWIDTH_MAX_DAYS)
    owner, now = call.secret_id, sb.now()
    points: list[dict[str, Any]] = []
    slots = 1440 // granularity
    for day in _days(start, end):
        peak, flux = sb.usage.bandwidth(owner, day, now)
        fluxes = spread(int(flux * 1000), slots)
        for slot in range(slots):
            stamp = _midnight(day) + dt.timedelta(minutes=granularity * slot)
            if not start <= stamp <= end or stamp.timestamp() > now:
                continue
            points.append(
                {
                    "Time": _utc(stamp),
                    "Bandwidth": peak if slots == 1 else round(peak * (0.5 + slot % 7 / 14), 3),
                    "Flux": fluxes[slot] / 1000,
                    "PeakTime": _utc(stamp + dt.timedelta(minutes=granularity // 2)),
                }
            )
    top = max(points, key=lambda d: d["Bandwidth"], default=None)
    return {
        "DataInfoList": points,
        "PeakBandwidthTime": top["PeakTime"] if top else "",
        "PeakBandwidth": top["Bandwidth"] if top else 0.0,
        "P95PeakBandwidthTime": top["PeakTime"] if top else "",
        "P95PeakBandwidth": round(top["Bandwidth"] * 0.95, 3) if top else 0.0,
        "SumFlux": round(sum(d["Flux"] for d in points), 3),
    }


@handles("live", "DescribeLiveTranscodeTotalInfo")
def describe_live_transcode_total_info(sb: Sandbox, call: TencentCall) -> dict[str, Any]:
    p = call.params
    _record(sb, call, "InvalidParameterValue")
    start, end = _live_window(p, TRANSCODE_MAX_DAYS)
    days = _days(start, end)
    # "如果是查询跨天或指定域名, 则返回1小时粒度数据" (Go SDK live client; 267/59864): 5-minute points
    # within one day, hourly across days or when PushDomains names domains
    domains = p.str_list("PushDomains", missing=None, invalid="InvalidParameterValue")
    step = 5 if len(days) == 1 and not domains else 60
    owner, now = call.secret_id, sb.now()
    points: list[dict[str, Any]] = []
    for day in days:
        for spec in TRANSCODE_SPECS:
            parts = spread(sb.usage.transcode_minutes(owner, day, spec, now), 1440 // step)
            for slot, minutes in enumerate(parts):
                stamp = _midnight(day) + dt.timedelta(minutes=step * slot)
                if start <= stamp <= end and stamp.timestamp() <= now and minutes:
                    points.append(
                        {
                            "Time": _utc(stamp),
                            "Duration": minutes,
                            "ModuleCodec": spec[0],
                            "Resolution": spec[1],
                        }
                    )
    return {"DataInfoList": points}
