"""A trivial round-robin TCP load balancer standing in front of several api-server "hosts".

Each accepted connection goes to the next backend in turn (a client that closes its connection
after each request, as the clouds' callback senders do, is spread request by request); a backend
that refuses the connection (killed, restarting) is skipped for the next one, like a balancer's
passive health check, and counted in ``refused``. Bytes are piped both ways unchanged, so the
``Sign`` headers and bodies arrive as sent. It runs its own event loop in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence

CONNECT_TIMEOUT = 3.0


class RoundRobinProxy:
    def __init__(self, backends: Sequence[tuple[str, int]], host: str = "127.0.0.1") -> None:
        if not backends:
            raise ValueError("the proxy needs at least one backend")
        self.backends = list(backends)
        self.host = host
        self.port = 0
        #: connections handed to each backend, and connections each one refused
        self.connections = [0] * len(self.backends)
        self.refused = [0] * len(self.backends)
        self._next = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="rr-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> RoundRobinProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = future.result(10)
        return self

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._handle, self.host, 0)
        return int(self._server.sockets[0].getsockname()[1])

    def pick(self) -> list[int]:
        """The backends to try for the next connection, in order (round robin, then the others)."""
        first = self._next
        self._next = (self._next + 1) % len(self.backends)
        return [(first + k) % len(self.backends) for k in range(len(self.backends))]

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        for index in self.pick():
            host, port = self.backends[index]
            try:
                backend_r, backend_w = await asyncio.wait_for(
                    asyncio.open_connection(host, port), CONNECT_TIMEOUT
                )
            except (OSError, TimeoutError):
                self.refused[index] += 1
                continue
            self.connections[index] += 1
            await asyncio.gather(_pipe(client_r, backend_w), _pipe(backend_r, client_w))
            return
        client_w.close()  # every backend down: the sender sees the connection closed, no answer

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._server.wait_closed(), 2)

        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def __enter__(self) -> RoundRobinProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    """Copy until EOF or a reset, then close the other side (so the peer's pipe ends too)."""
    try:
        while chunk := await src.read(65536):
            dst.write(chunk)
            await dst.drain()
    except (OSError, ConnectionError):
        pass
    finally:
        with contextlib.suppress(Exception):
            dst.close()
