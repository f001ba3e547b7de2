"""requests/urllib3 side of :mod:`airflow_provider_rtc.departure`: connections that open the socket
(and TLS) first, then take the attempt's pacing slot, then write the request."""

from __future__ import annotations

import logging
import ssl
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.wait import wait_for_read

from airflow_provider_rtc.departure import current

log = logging.getLogger(__name__)

#: after a wait this long, check the connection (a poll, microseconds) before writing: the server may
#: have closed it at its keep-alive timeout meanwhile
CHECK_AFTER = 0.1
#: a connection dropped during the wait is reopened and a new slot taken at most this many times
REOPENS = 2


def _leave_with_connection_open(conn: HTTPConnection) -> None:
    departure = current.get()
    if departure is None or departure.taken:
        return
    for reopened in range(REOPENS + 1):
        if conn.sock is None:
            conn.connect()  # TCP, proxy tunnel and TLS: the time the slot must not include
        waited = departure.take()
        if waited < CHECK_AFTER or not _dropped(conn):
            return
        # the server closed the kept-alive connection while the call waited (its keep-alive timeout):
        # reopen it and take a fresh slot, rather than let the reconnect delay this call past the slot
        # it took; after REOPENS, urllib3 reconnects in request() (late, but never on a dead socket)
        log.debug("connection dropped during a %.1fs pacing wait; reopening it", waited)
        conn.close()
        if reopened < REOPENS:
            departure.taken = False


def _dropped(conn: HTTPConnection) -> bool:
    """Whether the server closed ``conn``. Readable is not enough (urllib3's ``is_connected``): a TLS
    1.3 server sends its session tickets after the handshake, so a fresh connection is readable.
    A non-blocking read consumes such records (``SSLWantReadError``: alive); end of stream, an
    error or a stray answer means the connection cannot carry this request."""
    sock = conn.sock
    if sock is None:
        return True
    if not wait_for_read(sock, timeout=0.0):
        return False
    previous = sock.gettimeout()
    try:
        sock.settimeout(0.0)
        sock.recv(1)
    except (ssl.SSLWantReadError, BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True
    finally:
        sock.settimeout(previous)
    return True


class _DepartingHTTPConnection(HTTPConnection):
    def request(self, method: str, url: str, body: Any = None, headers: Any = None, **kwargs: Any) -> None:
        _leave_with_connection_open(self)
        super().request(method, url, body, headers, **kwargs)


class _DepartingHTTPSConnection(HTTPSConnection):
    def request(self, method: str, url: str, body: Any = None, headers: Any = None, **kwargs: Any) -> None:
        _leave_with_connection_open(self)
        super().request(method, url, body, headers, **kwargs)


class _DepartingHTTPPool(HTTPConnectionPool):
    ConnectionCls = _DepartingHTTPConnection


class _DepartingHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DepartingHTTPSConnection


_POOLS: dict[str, type[HTTPConnectionPool]] = {"http": _DepartingHTTPPool, "https": _DepartingHTTPSPool}
_DEPARTING = (_DepartingHTTPConnection, _DepartingHTTPSConnection)


class DepartingAdapter(HTTPAdapter):
    """requests' adapter whose connections take the attempt's slot after connecting, before writing."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS pools have their own connection classes
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager

    def get_connection_with_tls_context(self, *args: Any, **kwargs: Any) -> Any:
        pool = super().get_connection_with_tls_context(*args, **kwargs)
        departure = current.get()
        if departure is not None and not issubclass(getattr(pool, "ConnectionCls", object), _DEPARTING):
            departure.take()  # a pool this adapter cannot reach into: the slot before sending
        return pool


def departs_on_connection(session: Any, url: str) -> bool:
    """Whether ``session`` takes the slot at the connection for ``url`` (else the caller must).
    Here, beside the adapter, so ``departure`` (the slots) never imports this (the sockets)."""
    get_adapter = getattr(session, "get_adapter", None)
    try:
        return get_adapter is not None and isinstance(get_adapter(url), DepartingAdapter)
    except Exception:  # requests' InvalidSchema: the send fails on its own
        return False
