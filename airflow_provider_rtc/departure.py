"""Taking a call's pacing slot when its request leaves, with its connection already open.

The clouds count calls where they arrive, per second. A slot taken before the connection is opened
sends the first call of a fresh worker (DNS, TCP and TLS still to do: 40-140 ms to the real APIs)
that much later than its slot, while the calls after it leave on time over the kept-alive
connection: six calls then arrive within one second at a 5/s limit (issue 20, item 4). So the retry
loop hands each attempt a :class:`Departure`, and the HTTP layer takes it at the last moment before
the request bytes are written:

- sync (requests): :class:`DepartingAdapter`'s urllib3 connections open the socket (and TLS) first,
  then take the slot, then write; a connection found dropped after a long wait is reopened and a
  fresh slot taken, so that call too leaves with its connection open.
- async (httpx): httpcore's ``trace`` request extension, awaited at ``send_request_headers.started``
  (after connect and TLS, before the first byte; httpx docs, "Request Extensions: trace").
- any other session, adapter or transport (a caller's own, a test double, a SOCKS proxy): the slot
  is taken before sending, as before, so no call ever goes unpaced.

Every limiter backend (process, host, redis) is behind the same ``reserve``/``wait``/``await_slot``.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

#: coroutines of one event loop that may hold a connection while waiting for one quota's slot. The
#: others queue before taking a connection: a triggerer runs hundreds of polls through one client of
#: 100 connections, and with a queue of slots ahead every one of them would hold a connection (and
#: the rest time out waiting for the pool). Four keep the rate when a waiter must open a connection.
LANES = 4
_REQUEST_HEADERS = ".send_request_headers.started"  # http11.* and http2.* (httpcore trace events)


class StoppedAtDeparture(Exception):
    """The caller's stop switch was set while the attempt waited for its slot: nothing was sent."""


class Departure:
    """One attempt's pacing slot, taken once by whichever layer sends the request.

    ``pace`` waits for the slot and returns (seconds waited, stopped); ``apace`` awaits it and
    returns the seconds waited."""

    __slots__ = ("_apace", "_lane", "_pace", "lane_key", "taken")

    def __init__(
        self,
        pace: Callable[[], tuple[float, bool]],
        apace: Callable[[], Awaitable[float]],
        lane_key: Hashable = None,
    ) -> None:
        self._pace = pace
        self._apace = apace
        self.lane_key = lane_key  # which quota's lane an async send queues in (see LANES)
        self._lane: asyncio.Semaphore | None = None
        self.taken = False

    def take(self) -> float:
        """Wait for the slot (once); raise :class:`StoppedAtDeparture` if stopped meanwhile."""
        if self.taken:
            return 0.0
        self.taken = True
        waited, stopped = self._pace()
        if stopped:
            raise StoppedAtDeparture
        return waited

    async def atake(self) -> float:
        if self.taken:
            return 0.0
        self.taken = True
        try:
            return await self._apace()
        finally:
            self._leave_lane()

    @asynccontextmanager
    async def lane(self) -> AsyncIterator[None]:
        """Queue (without a connection) until this quota has a free lane; the lane is left when the
        slot is taken, or when the send ends without reaching it (a connect error)."""
        lanes = _lanes.setdefault(asyncio.get_running_loop(), {})
        lane = lanes.get(self.lane_key)
        if lane is None:
            lane = lanes[self.lane_key] = asyncio.Semaphore(LANES)
        await lane.acquire()
        self._lane = lane
        try:
            yield
        finally:
            self._leave_lane()

    def _leave_lane(self) -> None:
        lane, self._lane = self._lane, None
        if lane is not None:
            lane.release()

    async def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpcore's trace hook: the slot is taken right before the request headers are written."""
        if event.endswith(_REQUEST_HEADERS):
            await self.atake()


#: per event loop (weakly, like transport's shared clients), per quota
_lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)

#: the departure of the attempt being sent in this thread / task (set by the retry loop)
current: ContextVar[Departure | None] = ContextVar("rtc_departure", default=None)


def traced_by_httpcore(client: Any, url: str) -> bool:
    """Whether httpx sends ``url`` through httpcore, which awaits the ``trace`` extension (a caller's
    own transport or a test double does not: the slot is then taken before sending)."""
    import httpx

    try:
        transport = client._transport_for_url(httpx.URL(url))
    except Exception:  # a private httpx method: if it changes, pace before sending
        return False
    return isinstance(transport, httpx.AsyncHTTPTransport)
