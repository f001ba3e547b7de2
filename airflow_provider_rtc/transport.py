"""Sending signed calls: requests (sync) and httpx (async), one retry loop each around one policy.

``build`` is called for every attempt so each one carries a fresh timestamp, nonce and signature.
Network failures become ``RtcTransientError`` whose text names the host but never the URL: ZEGO URLs
carry the AppId and signature in the query.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from airflow_provider_rtc import __version__, departure, metrics
from airflow_provider_rtc.errors import RtcError, RtcStoppedError, RtcThrottledError, RtcTransientError
from airflow_provider_rtc.protocol.http import HttpCall, HttpReply
from airflow_provider_rtc.redaction import redact_client_logs
from airflow_provider_rtc.retry import RetryClock, RetryPolicy, current_clock

if TYPE_CHECKING:
    import httpx
    import requests

    from airflow_provider_rtc.ratelimit import Limiter

USER_AGENT = f"airflow-provider-rtc/{__version__}"
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 15.0

T = TypeVar("T")
log = logging.getLogger(__name__)


def _network_error(exc: BaseException, call: HttpCall, cloud: str, action: str, executed: bool) -> RtcError:
    host = urlsplit(call.url).netloc
    what = "no response in time" if "Timeout" in type(exc).__name__ else "connection failed"
    if not executed:
        what = "could not connect"
    error = RtcTransientError(
        f"{what} ({type(exc).__name__}) talking to {host}",
        cloud=cloud,
        action=action,
        maybe_executed=executed,
    )
    error.response_lost = executed
    return error


def new_session(pool_size: int = 32) -> requests.Session:
    import requests

    from airflow_provider_rtc.departure_http import DepartingAdapter

    redact_client_logs()
    session = requests.Session()
    # its connections take a paced call's slot once open, right before the request is written
    adapter = DepartingAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def _send_settings(session: requests.Session, url: str) -> dict[str, Any]:
    """Proxies, TLS verification and certs from the environment, resolved once per host.

    ``Session.request`` re-reads every proxy variable of the environment on each call, which
    costs more than signing; the environment of a task does not change while it runs.
    """
    cache: dict[str, dict[str, Any]] = session.__dict__.setdefault("_rtc_send_settings", {})
    netloc = urlsplit(url).netloc
    if netloc not in cache:
        cache[netloc] = dict(session.merge_environment_settings(url, {}, None, None, None))
    return cache[netloc]


def send_sync(
    session: requests.Session, call: HttpCall, *, timeout: tuple[float, float], cloud: str, action: str
) -> HttpReply:
    import requests

    from airflow_provider_rtc.departure_http import departs_on_connection

    # The error is raised after the ``except`` block, never inside it: an exception raised there
    # keeps the client's exception on ``__context__`` (even with ``from None``), and that one holds
    # the full URL - for ZEGO a replayable signature.
    failure: RtcError | None = None
    gate = departure.current.get()
    if gate is not None and not departs_on_connection(session, call.url):
        gate.take()  # a session of the caller's: the slot before sending
    sent = time.monotonic()
    try:
        prepared = requests.PreparedRequest()
        prepared.prepare(method=call.method, url=call.url, headers=call.headers, data=call.body)
        resp = session.send(
            prepared, timeout=timeout, allow_redirects=False, **_send_settings(session, call.url)
        )
    except requests.exceptions.ConnectTimeout as exc:
        failure = _network_error(exc, call, cloud, action, executed=False)
    except requests.exceptions.Timeout as exc:
        failure = _network_error(exc, call, cloud, action, executed=True)
    except requests.exceptions.ConnectionError as exc:
        refused = "NewConnectionError" in repr(exc.args) or "NameResolutionError" in repr(exc.args)
        failure = _network_error(exc, call, cloud, action, executed=not refused)
    except requests.exceptions.RequestException as exc:
        failure = _network_error(exc, call, cloud, action, executed=True)
    _measured(cloud, action, sent)
    if failure is not None:
        raise failure
    return HttpReply(resp.status_code, resp.headers.get("Content-Type", ""), resp.content)


def _measured(cloud: str, action: str, sent: float) -> None:
    """One attempt sent (answered or not): ``rtc.calls`` and ``rtc.call_ms`` (from the send, so a
    pacing wait before it is not counted as the cloud's time)."""
    tags = metrics.call_tags(cloud, action)
    metrics.incr(metrics.CALLS, **tags)
    metrics.timing(metrics.CALL_MS, (time.monotonic() - sent) * 1000.0, **tags)


async def send_async(client: httpx.AsyncClient, call: HttpCall, *, cloud: str, action: str) -> HttpReply:
    import httpx

    redact_client_logs()  # the client may be the caller's own
    failure: RtcError | None = None  # raised outside the except block: see send_sync
    extensions: dict[str, Any] | None = None
    gate = departure.current.get()
    lane: AbstractAsyncContextManager[None] = nullcontext()
    if gate is not None:
        if departure.traced_by_httpcore(client, call.url):
            extensions = {"trace": gate.trace}  # the slot after connect and TLS, before the headers
            lane = gate.lane()
        else:
            await gate.atake()
    sent = time.monotonic()
    try:
        async with lane:
            resp = await client.request(
                call.method, call.url, headers=call.headers, content=call.body, extensions=extensions
            )
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        failure = _network_error(exc, call, cloud, action, executed=False)
    except httpx.TransportError as exc:
        failure = _network_error(exc, call, cloud, action, executed=True)
    _measured(cloud, action, sent)
    if failure is not None:
        raise failure
    return HttpReply(resp.status_code, resp.headers.get("Content-Type", ""), resp.content)


def new_async_client(timeout: tuple[float, float], max_connections: int = 100) -> httpx.AsyncClient:
    import httpx

    redact_client_logs()
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout[1], connect=timeout[0]),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


class _SharedClient:
    __slots__ = ("client", "users")

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.users = 0


#: per event loop (weakly: a finished loop takes its entries with it, and a new loop that happens
#: to get the same id() can never pick up a client bound to the old one)
_shared_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[float, float], _SharedClient]
] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def shared_async_client(timeout: tuple[float, float]) -> AsyncIterator[httpx.AsyncClient]:
    """One client (and connection pool) per event loop and timeouts, for all triggers in a triggerer.

    A client per trigger costs about 0.8 MB (its TLS context and pool); a triggerer runs hundreds.
    The client is closed when the last trigger using it finishes.
    """
    clients = _shared_clients.setdefault(asyncio.get_running_loop(), {})
    entry = clients.get(timeout)
    if entry is None or entry.client.is_closed:
        entry = clients[timeout] = _SharedClient(new_async_client(timeout))
    entry.users += 1
    try:
        yield entry.client
    finally:
        entry.users -= 1
        if entry.users == 0 and clients.get(timeout) is entry:
            del clients[timeout]
            await entry.client.aclose()


#: set by a bulk run in each worker thread: once set, no new attempt is sent (see :func:`stop_scope`)
_stop_signal: ContextVar[threading.Event | None] = ContextVar("rtc_stop_signal", default=None)


@contextmanager
def stop_scope(stop: threading.Event) -> Iterator[None]:
    """Calls made inside send no new attempt once ``stop`` is set: waits for a pacing slot or a
    retry end early with :class:`RtcStoppedError`; an attempt already on the wire finishes."""
    token = _stop_signal.set(stop)
    try:
        yield
    finally:
        _stop_signal.reset(token)


def _pace_unless_stopped(pacer: Limiter | None, clock: RetryClock) -> bool:
    """Wait for the limiter's slot, time that spends no retry budget (``clock.paced``); True (at once)
    if the caller's stop switch is or gets set."""
    return _paced_wait(pacer, clock)[1]


def _paced_wait(pacer: Limiter | None, clock: RetryClock) -> tuple[float, bool]:
    """:func:`_pace_unless_stopped`, also returning the seconds waited."""
    if pacer is None:
        return 0.0, _wait_unless_stopped(0.0)
    if _stop_signal.get() is None:
        waited = pacer.wait()
        clock.paced += waited
        return waited, False
    started = time.monotonic()
    stopped = _wait_unless_stopped(pacer.reserve())
    waited = time.monotonic() - started
    clock.paced += waited
    return waited, stopped


def _departure(pacer: Limiter, clock: RetryClock) -> departure.Departure:
    """The attempt's slot, for the HTTP layer to take once its connection is open (see
    :mod:`airflow_provider_rtc.departure`); the waits spend no retry budget, as above."""

    async def apace() -> float:
        waited = await pacer.await_slot()
        clock.paced += waited
        return waited

    # one lane per quota: an AllOf is built per call, the limiters it holds are shared
    parts = getattr(pacer, "limiters", None)
    key = tuple(map(id, parts)) if parts is not None else id(pacer)
    return departure.Departure(lambda: _paced_wait(pacer, clock), apace, key)


def _wait_unless_stopped(delay: float) -> bool:
    """Sleep ``delay`` seconds; True (at once) if the caller's stop switch is or gets set."""
    stop = _stop_signal.get()
    if stop is None:
        if delay > 0:
            current_clock().sleep(delay)
        return False
    return stop.wait(delay) if delay > 0 else stop.is_set()


class _Attempts:
    """Per-call bookkeeping of what earlier attempts may have done, and the two steps the sync and
    async retry loops share: an attempt's departure slot and the verdict on a failed attempt."""

    __slots__ = ("clock", "idempotent", "lost", "maybe_executed", "number")

    def __init__(self, clock: RetryClock, idempotent: bool) -> None:
        self.clock = clock
        self.idempotent = idempotent
        self.number = 0
        self.maybe_executed = False  # some attempt may have run on the server
        self.lost = False  # some attempt was sent and its answer never came

    @contextmanager
    def departing(self, pacer: Limiter | None) -> Iterator[None]:
        """With a ``pacer``, the attempt's slot travels to the HTTP layer (:func:`_departure`),
        which takes it once the connection is open; without one, nothing to hand over."""
        if pacer is None:
            yield
            return
        token = departure.current.set(_departure(pacer, self.clock))
        try:
            yield
        finally:
            departure.current.reset(token)

    def failed(self, error: RtcError) -> float | None:
        """Record a failed attempt on ``error``; the wait before the next one (None: give up)."""
        error.attempts = self.number
        # Only a really unknown outcome counts: a not-found after an attempt whose answer was
        # lost most likely means that attempt did the work; an answered error did not.
        error.after_lost_response = self.lost
        self.maybe_executed = self.maybe_executed or error.maybe_executed
        self.lost = self.lost or error.response_lost
        return _next_delay(self.clock, error, self.idempotent)

    def stopped(self) -> RtcStoppedError:
        error = RtcStoppedError(
            "stopped before this attempt was sent"
            if self.number <= 1
            else f"stopped before attempt {self.number} was sent",
            maybe_executed=self.maybe_executed,
        )
        error.attempts = max(self.number - 1, 0)
        error.after_lost_response = self.lost
        return error


def _next_delay(clock: RetryClock, error: RtcError, idempotent: bool) -> float | None:
    """The wait before the next attempt (None: give up); counts ``rtc.throttles`` and
    ``rtc.retries`` here, where the sync and async loops meet."""
    tags = metrics.call_tags(getattr(error, "cloud", None), getattr(error, "action", None))
    if isinstance(error, RtcThrottledError):
        metrics.incr(metrics.THROTTLES, **tags)
    delay = clock.next_delay(error, idempotent=idempotent)
    if delay is None:
        return None
    metrics.incr(metrics.RETRIES, **tags)
    if isinstance(error, RtcThrottledError):  # expected under load, not a fault
        budget = clock.policy.throttle_budget
        log.info("%s; retrying in %.2fs (throttle budget %.0fs)", error.describe(), delay, budget)
    else:
        log.warning(
            "%s; retrying in %.2fs (attempt %d of %d)",
            error.describe(),
            delay,
            clock.faults + 1,
            clock.policy.max_attempts,
        )
    return delay


def run_with_retry(
    attempt_once: Callable[[], T],
    *,
    policy: RetryPolicy,
    idempotent: bool,
    pacer: Limiter | None = None,
    at_departure: bool = False,
) -> T:
    """``attempt_once`` until it succeeds or the policy gives up, each attempt paced by ``pacer``.

    ``at_departure``: ``attempt_once`` sends through :func:`send_sync`, which takes the slot once
    the connection is open (the clouds count arrivals); otherwise the slot is waited for here."""
    clock = RetryClock(policy)
    attempts = _Attempts(clock, idempotent)
    departing = pacer if at_departure else None
    while True:
        attempts.number += 1
        if _wait_unless_stopped(0.0) if departing is not None else _pace_unless_stopped(pacer, clock):
            raise attempts.stopped()
        try:
            with attempts.departing(departing):
                return attempt_once()
        except departure.StoppedAtDeparture:
            # raised by the pacing wait, before anything was written: it holds no URL
            raise attempts.stopped() from None
        except RtcError as error:
            delay = attempts.failed(error)
            if delay is None:
                raise
        if _wait_unless_stopped(delay):
            attempts.number += 1
            raise attempts.stopped()


async def arun_with_retry(
    attempt_once: Callable[[], Any],
    *,
    policy: RetryPolicy,
    idempotent: bool,
    pacer: Limiter | None = None,
    at_departure: bool = False,
) -> Any:
    """:func:`run_with_retry` for coroutines; ``at_departure``: ``attempt_once`` sends through
    :func:`send_async`, which takes the slot after connect and TLS, before the request headers."""
    clock = RetryClock(policy)
    attempts = _Attempts(clock, idempotent)
    departing = pacer if at_departure else None
    while True:
        attempts.number += 1
        if pacer is not None and departing is None:
            clock.paced += await pacer.await_slot()
        try:
            with attempts.departing(departing):
                return await attempt_once()
        except RtcError as error:
            delay = attempts.failed(error)
            if delay is None:
                raise
        await current_clock().asleep(delay)
