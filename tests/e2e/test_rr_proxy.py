"""The e2e round-robin proxy: connections alternate between backends, bytes pass unchanged, and a
backend that refuses connections (killed) is skipped for the next one, not answered for."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from e2e.proxy import RoundRobinProxy


class _Backend:
    """A socket server that answers each connection with its name and the bytes it received."""

    def __init__(self, name: bytes) -> None:
        self.name = name
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = conn.recv(65536)
                conn.sendall(self.name + b":" + data)

    def close(self) -> None:
        with contextlib.suppress(OSError):  # wakes the blocked accept() (a bare close() does not)
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def _ask(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(payload)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture
def backends() -> Iterator[list[_Backend]]:
    pair = [_Backend(b"a"), _Backend(b"b")]
    yield pair
    for backend in pair:
        backend.close()


def test_connections_alternate_and_bytes_pass_unchanged(backends: list[_Backend]) -> None:
    with RoundRobinProxy([("127.0.0.1", b.port) for b in backends]) as proxy:
        answers = [_ask(proxy.port, b"POST /x\r\n\r\n\x00\xff") for _ in range(4)]
        assert answers == [b"a:POST /x\r\n\r\n\x00\xff", b"b:POST /x\r\n\r\n\x00\xff"] * 2
        assert proxy.connections == [2, 2] and proxy.refused == [0, 0]


def test_a_refusing_backend_is_skipped(backends: list[_Backend]) -> None:
    with RoundRobinProxy([("127.0.0.1", b.port) for b in backends]) as proxy:
        backends[0].close()  # "host A" killed: its port refuses connections
        answers = [_ask(proxy.port, b"ping") for _ in range(4)]
        assert answers == [b"b:ping"] * 4
        assert proxy.connections[1] == 4 and proxy.refused[0] == 2
