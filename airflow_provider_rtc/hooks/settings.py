"""Reading connection extras into typed settings, with errors that name the field and the rule."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from typing import Any

from airflow_provider_rtc import ratelimit
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.ratelimit import (
    BACKENDS,
    DEFAULT_BACKEND,
    REDIS_PASSWORD,
    REDIS_URL,
    RateLimitSettings,
    check_redis_url,
    has_password,
    with_password,
)
from airflow_provider_rtc.retry import RetryPolicy
from airflow_provider_rtc.transport import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
from airflow_provider_rtc.validation import boolean, endpoint_url, integer, number

__all__ = [
    "as_bool",
    "check_hook_params",
    "endpoint_url",
    "extra_value",
    "qps_overrides",
    "rate_limit_settings",
    "retry_policy",
    "timeouts",
]

#: a timeout beyond a day is a typo (and would park a worker slot)
MAX_TIMEOUT = 86_400.0


def _seconds(value: Any, name: str) -> float | None:
    return number(value, name, minimum=0.0, maximum=MAX_TIMEOUT, exclusive_minimum=True, optional=True)


def extra_value(extra: Mapping[str, Any], conn_type: str, name: str) -> Any:
    """Plain key first (Airflow >= 3.2 forms), then the legacy ``extra__<type>__<name>`` key."""
    value = extra.get(name)
    if value in (None, ""):
        value = extra.get(f"extra__{conn_type}__{name}")
    return None if value == "" else value


as_bool = boolean


def timeouts(extra: Mapping[str, Any], conn_type: str, override: Any = None) -> tuple[float, float]:
    """(connect, read) seconds: ``timeout`` (number or pair), ``connect_timeout``, ``read_timeout``."""
    raw = override if override is not None else extra_value(extra, conn_type, "timeout")
    connect, read = DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
    if isinstance(raw, list | tuple):
        if len(raw) != 2:
            raise RtcValidationError("timeout", "must be one number or [connect, read]", raw)
        connect = _seconds(raw[0], "timeout") or connect
        read = _seconds(raw[1], "timeout") or read
    elif raw is not None:
        connect = read = _seconds(raw, "timeout") or read
    connect = _seconds(extra_value(extra, conn_type, "connect_timeout"), "connect_timeout") or connect
    read = _seconds(extra_value(extra, conn_type, "read_timeout"), "read_timeout") or read
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
        raw = arg if arg is not None else extra_value(extra, conn_type, key)
        value = number(raw, key, minimum=0.0, maximum=MAX_TIMEOUT, optional=True)
        if key == "retry_total_timeout" and value == 0:
            raise RtcValidationError(key, "must be > 0 seconds", raw)
        return fallback if value is None else value

    raw_attempts = retry_limit if retry_limit is not None else extra_value(extra, conn_type, "retry_limit")
    attempts = integer(raw_attempts, "retry_limit", minimum=1, maximum=100, optional=True)
    return RetryPolicy(
        max_attempts=attempts if attempts is not None else default.max_attempts,
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
        if not isinstance(action, str) or not action.strip():
            raise RtcValidationError("qps", "keys must be API action names", action)
        rate = number(value, f"qps.{action}", minimum=0.0, maximum=100_000.0, exclusive_minimum=True)
        assert rate is not None
        result[action] = rate
    return result


#: the hook arguments ``hook_params`` may set (see :class:`~airflow_provider_rtc.hooks.base.RtcBaseHook`)
HOOK_PARAMS = frozenset(
    {
        "timeout",
        "retry_limit",
        "retry_delay",
        "retry_max_delay",
        "retry_total_timeout",
        "throttle_budget",
        "qps",
        "pacing",
    }
)


def _templated(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def check_hook_params(value: Any) -> dict[str, Any]:
    """``hook_params``: known hook arguments with valid values, checked when the operator is built.

    ``hook_params`` is a template field: a value that is a Jinja template (``{"timeout": "{{
    params.t }}"}``) is checked once rendered, by the hook, with the same rules, when it builds its
    settings, before its first call. The dict itself and its keys must be literal."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RtcValidationError(
            "hook_params", f"must be a dict (got a {type(value).__name__}); template its values, not the dict"
        )
    unknown = [key for key in value if key not in HOOK_PARAMS]
    if unknown:
        raise RtcValidationError(
            "hook_params", f"unknown hook argument(s) {unknown}; use {sorted(HOOK_PARAMS)}", show_value=False
        )
    literal = {key: item for key, item in value.items() if not _templated(item)}
    if len(literal) < len(value):
        check_hook_params(literal)
        return dict(value)
    retry_policy(
        {},
        "",
        retry_limit=value.get("retry_limit"),
        retry_delay=value.get("retry_delay"),
        retry_max_delay=value.get("retry_max_delay"),
        retry_total_timeout=value.get("retry_total_timeout"),
        throttle_budget=value.get("throttle_budget"),
    )
    timeouts({}, "", value.get("timeout"))
    qps_overrides({}, "", value.get("qps"))
    boolean(value.get("pacing"), "pacing")
    return dict(value)


log = logging.getLogger(__name__)


def _config(option: str) -> str | None:
    from airflow.providers.common.compat.sdk import conf

    value = conf.get(ratelimit.CONFIG_SECTION, option, fallback=None)
    return str(value).strip() or None if value is not None else None


def rate_limit_settings(extra: Mapping[str, Any], conn_type: str) -> RateLimitSettings:
    """Connection extras (``rate_limit_backend``, ``rate_limit_redis_url``, ``rate_limit_redis_password``,
    ``rate_limit_dir``) win over the ``[rtc]`` config options of the same names, which win over the
    default (``host``). The password is combined into the URL here and nowhere shown."""

    def pick(name: str) -> str | None:
        value = extra_value(extra, conn_type, name)
        return str(value).strip() if value is not None else _config(name)

    backend = (pick("rate_limit_backend") or DEFAULT_BACKEND).lower()
    if backend not in BACKENDS:
        raise RtcValidationError("rate_limit_backend", f"must be one of {', '.join(BACKENDS)}", backend)
    url = password = None
    if backend == "redis":
        url = pick(REDIS_URL)
        password = pick(REDIS_PASSWORD)
        if url is not None:
            check_redis_url(url)
            if extra_value(extra, conn_type, REDIS_URL) is not None and has_password(url):
                _warn_password_in_url()
            if password:
                url = with_password(url, password)
    return RateLimitSettings(
        backend=backend,  # type: ignore[arg-type]
        directory=pick("rate_limit_dir"),
        redis_url=url,
    )


def _warn_password_in_url() -> None:
    """The old way still works, but says where the password should go (never what it is)."""
    message = (
        f"the connection extra {REDIS_URL} holds a password, which Airflow's connection API and form "
        f"serve in clear (extras are masked by name); move it to the masked extra {REDIS_PASSWORD} "
        f"and leave it out of {REDIS_URL}. A password in {REDIS_URL} is deprecated."
    )
    warnings.warn(message, DeprecationWarning, stacklevel=3)
    log.warning("%s", message)
