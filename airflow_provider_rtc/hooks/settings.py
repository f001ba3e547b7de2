"""Reading connection extras into typed settings, with errors that name the field and the rule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.retry import RetryPolicy
from airflow_provider_rtc.transport import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT


def extra_value(extra: Mapping[str, Any], conn_type: str, name: str) -> Any:
    """Plain key first (Airflow >= 3.2 forms), then the legacy ``extra__<type>__<name>`` key."""
    value = extra.get(name)
    if value in (None, ""):
        value = extra.get(f"extra__{conn_type}__{name}")
    return None if value == "" else value


def as_bool(value: Any, name: str) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise RtcValidationError(name, "must be true or false", value)


def as_positive_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise RtcValidationError(name, "must be a positive integer", value)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise RtcValidationError(name, "must be a positive integer", value) from None
    if number <= 0:
        raise RtcValidationError(name, "must be a positive integer", value)
    return number


def as_float(value: Any, name: str, *, minimum: float = 0.0) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RtcValidationError(name, "must be a number", value) from None
    if number < minimum:
        raise RtcValidationError(name, f"must be >= {minimum}", value)
    return number


def endpoint_url(value: Any, name: str = "endpoint") -> str | None:
    if value is None:
        return None
    text = str(value).strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
        raise RtcValidationError(
            name, "must be a base URL with scheme and host only, such as http://127.0.0.1:8990", value
        )
    return text


def timeouts(extra: Mapping[str, Any], conn_type: str, override: Any = None) -> tuple[float, float]:
    """(connect, read) seconds: ``timeout`` (number or pair), ``connect_timeout``, ``read_timeout``."""
    raw = override if override is not None else extra_value(extra, conn_type, "timeout")
    connect, read = DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
    if isinstance(raw, list | tuple):
        if len(raw) != 2:
            raise RtcValidationError("timeout", "must be one number or [connect, read]", raw)
        connect = as_float(raw[0], "timeout", minimum=0.001) or connect
        read = as_float(raw[1], "timeout", minimum=0.001) or read
    elif raw is not None:
        connect = read = as_float(raw, "timeout", minimum=0.001) or read
    connect = (
        as_float(extra_value(extra, conn_type, "connect_timeout"), "connect_timeout", minimum=0.001)
        or connect
    )
    read = as_float(extra_value(extra, conn_type, "read_timeout"), "read_timeout", minimum=0.001) or read
    return connect, read


def retry_policy(
    extra: Mapping[str, Any],
    conn_type: str,
    *,
    retry_limit: int | None = None,
    retry_delay: float | None = None,
    retry_max_delay: float | None = None,
    retry_total_timeout: float | None = None,
    throttle_budget: float | None = None,
) -> RetryPolicy:
    """Hook arguments win over connection extras, which win over the defaults."""
    default = RetryPolicy()

    def pick(arg: Any, key: str, fallback: float) -> float:
        if arg is not None:
            return float(arg)
        value = as_float(extra_value(extra, conn_type, key), key)
        return fallback if value is None else value

    attempts = retry_limit
    if attempts is None:
        attempts = as_positive_int(extra_value(extra, conn_type, "retry_limit"), "retry_limit")
    return RetryPolicy(
        max_attempts=int(attempts) if attempts is not None else default.max_attempts,
        initial_delay=pick(retry_delay, "retry_delay", default.initial_delay),
        max_delay=pick(retry_max_delay, "retry_max_delay", default.max_delay),
        total_timeout=pick(retry_total_timeout, "retry_total_timeout", default.total_timeout),
        throttle_budget=pick(throttle_budget, "throttle_budget", default.throttle_budget),
    )


def qps_overrides(
    extra: Mapping[str, Any], conn_type: str, override: Mapping[str, Any] | None
) -> dict[str, float]:
    raw = override if override is not None else extra_value(extra, conn_type, "qps")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise RtcValidationError("qps", "must map API action names to calls per second", raw)
    result: dict[str, float] = {}
    for action, value in raw.items():
        rate = as_float(value, f"qps.{action}", minimum=0.0)
        if not rate:
            raise RtcValidationError(f"qps.{action}", "must be a positive number", value)
        result[str(action)] = rate
    return result
