"""Dates and times in the clouds' reporting time zone (Tencent: Beijing time, UTC+8, no DST).

Tencent's usage APIs take and return Beijing wall-clock times; callers think in UTC or their own
zone. Everything crossing that boundary goes through here, so the conversion exists once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum

from airflow_provider_rtc.errors import RtcValidationError

#: Tencent's usage APIs report in Beijing time
TENCENT_TZ = "Asia/Shanghai"
_BEIJING = pendulum.timezone(TENCENT_TZ)


def to_utc(value: Any, param: str) -> dt.datetime:
    """An aware UTC datetime from a datetime (naive = UTC) or ISO 8601 text; dates are rejected."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            rule = "an ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z"
            raise RtcValidationError(param, rule, value) from None
    if not isinstance(value, dt.datetime):
        raise RtcValidationError(param, "a datetime or an ISO 8601 date-time", value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        value.astimezone(_BEIJING)  # both zones must hold it: the APIs read Beijing wall-clock text
        utc = value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        rule = "a date-time between years 1 and 9999 in UTC and Beijing time"
        raise RtcValidationError(param, rule, value) from None
    # a plain datetime: pendulum's arithmetic on its own subclass is not always aware
    fields = (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond)
    return dt.datetime(*fields, tzinfo=dt.UTC)


def beijing_date(value: Any, param: str) -> dt.date:
    """A Beijing calendar date from a date, an aware datetime (converted) or ``YYYY-MM-DD`` text."""
    if isinstance(value, dt.datetime):
        return to_utc(value, param).astimezone(_BEIJING).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise RtcValidationError(param, "a date (YYYY-MM-DD)", value)


def beijing_text(value: Any, param: str, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A datetime (naive = UTC) as Beijing wall-clock text, the format the Tencent APIs read."""
    if isinstance(value, str):
        return value.strip()
    return to_utc(value, param).astimezone(_BEIJING).strftime(fmt)


def day_start_utc(day: dt.date) -> dt.datetime:
    """When a Beijing calendar day begins, in UTC (16:00 UTC the day before)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=_BEIJING).astimezone(dt.UTC)


def parse_cloud_time(text: str) -> dt.datetime:
    """An answer's time in UTC: ISO 8601 with Z/offset as given, ``YYYY-MM-DD HH:MM:SS`` as Beijing."""
    text = text.strip()
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_BEIJING)
    return parsed.astimezone(dt.UTC)


def cloud_date(text: str) -> dt.date:
    """The Beijing date an answer's time point belongs to."""
    return parse_cloud_time(text).astimezone(_BEIJING).date()
