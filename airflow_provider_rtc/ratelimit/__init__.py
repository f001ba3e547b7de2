"""Client-side rate limits shared as widely as the deployment needs: one process, one machine, or
every worker that can reach one Redis.

Airflow runs every task instance in its own process (LocalExecutor, Celery, Kubernetes) and pools
bound concurrency, not rate, so a limiter inside one process lets N workers send N times the
documented QPS. All three backends hand out the same thing: evenly spaced slots at 97% of the
documented rate (``pacing.HEADROOM``), reserved atomically (``reserve()`` returns how long to wait
for the slot it claimed) and waited for outside any lock.

- ``process``: a lock and a float (``pacing.Pacer``); nothing shared with other processes.
- ``host`` (default): a row per key in a SQLite file (``BEGIN IMMEDIATE``), shared by every process on
  the machine with no server to run; the kernel drops a killed holder's lock.
- ``redis``: one Lua script per reservation on a Redis server, shared by every machine.

``limiter_for(key, qps, settings)`` is the only entry point the hooks use; the settings are read from
a connection's extras and the ``[rtc]`` options by ``hooks.settings.rate_limit_settings`` (the floor
above), so this package imports nothing of the hooks nor of Airflow.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Backend = Literal["process", "host", "redis"]
BACKENDS: tuple[Backend, ...] = ("process", "host", "redis")
DEFAULT_BACKEND: Backend = "host"
#: provider config section (``[rtc]`` in airflow.cfg, ``AIRFLOW__RTC__*`` in the environment)
CONFIG_SECTION = "rtc"
#: the URL's extra, and the password's: Airflow masks extras by name only (a key containing
#: "password", "secret", ...), so a password inside ``rate_limit_redis_url`` is served in clear by
#: the connection API and shown in the form; ``rate_limit_redis_password`` is masked everywhere
REDIS_URL = "rate_limit_redis_url"
REDIS_PASSWORD = "rate_limit_redis_password"  # noqa: S105 (the extra's name)

log = logging.getLogger(__name__)


class Limiter(Protocol):
    """Evenly spaced slots; ``wait``/``await_slot`` claim the next one and return the seconds waited."""

    def reserve(self) -> float: ...

    def wait(self) -> float: ...

    async def await_slot(self) -> float: ...


@dataclass(frozen=True)
class RateLimitSettings:
    """Which backend shares the limit, and where its state lives (the Redis URL may hold a password)."""

    backend: Backend = DEFAULT_BACKEND
    directory: str | None = None
    redis_url: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        from airflow_provider_rtc.errors import RtcValidationError

        if self.backend not in BACKENDS:
            raise RtcValidationError("rate_limit_backend", f"must be one of {BACKENDS}", self.backend)
        if self.backend == "redis" and not self.redis_url:
            raise RtcValidationError(
                REDIS_URL, "is required with rate_limit_backend = redis (connection extra or [rtc] option)"
            )
        if self.redis_url is not None:
            check_redis_url(self.redis_url)


def check_redis_url(url: str) -> None:
    """A URL the redis client can use, refused before any call, naming the extra, never echoing it
    (it may hold a password)."""
    from airflow_provider_rtc.errors import RtcValidationError

    rule = "must be redis://[user@]host[:port][/db], rediss://... or unix:///path/to/socket"
    try:
        parts = urllib.parse.urlsplit(url)  # ValueError: a malformed [IPv6] host
        port = parts.port  # ValueError: not a number, or out of range
    except ValueError:
        raise RtcValidationError(REDIS_URL, rule + " (a host, and a port number in 0-65535)") from None
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise RtcValidationError(REDIS_URL, rule)
    if parts.scheme == "unix" and not parts.path:
        raise RtcValidationError(REDIS_URL, rule + " (no socket path)")
    if parts.scheme != "unix":
        db = parts.path.strip("/")
        if not parts.hostname or port == 0 or (db and not db.isdigit()):
            raise RtcValidationError(REDIS_URL, rule + " (a host, and a database number if any)")
    try:
        from redis.connection import parse_url
    except ImportError:  # the limiter says which extra to install when it is built
        return
    try:
        parse_url(url)  # its own checks of the query options (socket_timeout=..., ...)
    except (ValueError, TypeError) as exc:
        reason = str(exc).split(" as ")[0]  # "Port could not be cast ... as 'x'": drop the value
        raise RtcValidationError(REDIS_URL, f"{rule} ({reason})") from None


def has_password(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return bool(parts.password) or "password" in urllib.parse.parse_qs(parts.query)


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` set (percent-encoded; a unix socket takes it as a query option)."""
    from airflow_provider_rtc.errors import RtcValidationError

    if has_password(url):
        raise RtcValidationError(
            REDIS_PASSWORD, f"is set, and {REDIS_URL} holds a password too: keep only {REDIS_PASSWORD}"
        )
    parts = urllib.parse.urlsplit(url)
    secret = urllib.parse.quote(password, safe="")
    if parts.scheme == "unix":
        return f"{url}{'&' if parts.query else '?'}password={secret}"
    # the user name comes percent-encoded (the redis client decodes it): decoded first, so that
    # "a%2Fb" stays "a/b" instead of becoming "a%252Fb" (which logs in as "a%2Fb")
    user = urllib.parse.quote(urllib.parse.unquote(parts.username or ""), safe="")
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:{secret}@{host}"))


def limiter_key(product: str, account: str, action: str) -> tuple[str, str, str]:
    """One documented quota: ``account`` is ``Api.rate_key`` (SecretId + region for TRTC, SecretId for
    Live, AppId, plus the room for per-room ZEGO APIs). The one place the key is derived."""
    return (product, account, action)


def key_digest(key: tuple[str, ...]) -> str:
    """A fixed-size name for ``key`` in shared state: the key holds the SecretId or AppId, which do not
    belong in a file or a Redis key name that other tools list."""
    return hashlib.sha256("\x1f".join(key).encode()).hexdigest()[:40]


_limiters: dict[tuple[Any, ...], Limiter] = {}
_lock = threading.Lock()


def limiter_for(key: tuple[str, str, str], qps: float, settings: RateLimitSettings | None = None) -> Limiter:
    """The shared limiter for ``key`` at ``qps`` on the backend ``settings`` chooses (one per process)."""
    settings = settings or RateLimitSettings()
    if settings.backend == "process":  # today's in-process pacer, and its registry
        from airflow_provider_rtc.pacing import pacer_for

        product, account, action = key
        pacer = pacer_for(product, account, action, qps)
        assert pacer is not None  # qps is positive
        return pacer
    cache_key = (settings.backend, settings.directory, settings.redis_url, key, qps)
    limiter = _limiters.get(cache_key)
    if limiter is None:
        with _lock:
            limiter = _limiters.get(cache_key)
            if limiter is None:
                limiter = _limiters[cache_key] = _build(key, qps, settings)
    return limiter


def _build(key: tuple[str, ...], qps: float, settings: RateLimitSettings) -> Limiter:
    from airflow_provider_rtc.ratelimit.host import HostLimiter, default_directory

    host = HostLimiter(settings.directory or default_directory(), key_digest(key), qps)
    if settings.backend == "host":
        return host
    from airflow_provider_rtc.ratelimit.redis_backend import RedisLimiter

    assert settings.redis_url is not None
    return RedisLimiter(settings.redis_url, key_digest(key), qps, fallback=host)
