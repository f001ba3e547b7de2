"""An in-process sandbox: uvicorn on a background thread, for pytest fixtures and the demo.

The listening socket is bound before uvicorn starts, so ``port=0`` yields a known free port and
``start()`` returns only once connections are being accepted. The callback receiver beside it
(``receiver.ReceiverBed``) is served the same way, by the same :class:`UvicornThread`.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from .app import build_app
from .config import SandboxConfig
from .core import Sandbox
from .seed import STANDARD_EVENT


class UvicornThread:
    """An ASGI app under uvicorn on a daemon thread. The socket is bound first, so ``port=0`` gives a
    known free port; ``start`` returns once connections are accepted (or raises ``RuntimeError``)."""

    def __init__(
        self, app: Any, host: str = "127.0.0.1", port: int = 0, *, name: str, log_level: str
    ) -> None:
        self.app, self.host, self.port, self.name = app, host, port, name
        self.log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> int:
        """Serve ``app``; return the bound port."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_level=self.log_level,
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=self.name, daemon=True)
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                sock.close()
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.01)
        return self.port

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=10)


class SandboxServer:
    """``with SandboxServer() as sb: sb.url, sb.connections, sb.backend.trtc ...``"""

    def __init__(
        self,
        config: SandboxConfig | dict[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_level: str = "warning",
    ) -> None:
        self.sandbox = Sandbox(config)
        self.host = host
        self.port = port
        self.log_level = log_level
        self._runner: UvicornThread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> SandboxServer:
        if self._runner is not None:
            return self
        runner = UvicornThread(
            build_app(self.sandbox), self.host, self.port, name="rtc-sandbox", log_level=self.log_level
        )
        try:
            self.port = runner.start(timeout)
        except RuntimeError as err:
            raise RuntimeError("the sandbox server did not start") from err
        self._runner = runner
        self.sandbox.base_url = self.url
        self.sandbox.start_background()
        return self

    def stop(self) -> None:
        runner, self._runner = self._runner, None
        self.sandbox.stop_background()
        if runner is not None:
            runner.stop()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- access --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def connections(self) -> dict[str, dict[str, Any]]:
        """Airflow connection dicts: ``tencentcloud_default`` and ``zegocloud_default``."""
        return self.sandbox.connections(self.url)

    @property
    def backend(self) -> Sandbox:
        """The live sandbox state (backends ``.trtc``, ``.live``, ``.zego``, ``.stats`` ...)."""
        return self.sandbox

    def state(self) -> dict[str, Any]:
        return self.sandbox.state()

    def seed(self, spec: dict[str, Any]) -> dict[str, Any]:
        return self.sandbox.seed(spec)

    def seed_event(self) -> dict[str, Any]:
        return self.sandbox.seed(STANDARD_EVENT)

    def reset(self) -> None:
        self.sandbox.reset()

    def freeze(self) -> None:
        """Stop the sandbox's clock (manual mode): nothing time-driven happens until ``advance``."""
        self.sandbox.clock.set_mode("manual")

    def advance(self, seconds: float) -> float:
        """Move the sandbox's clock forward and run what became due; return its new time."""
        return self.sandbox.advance(seconds)

    def banner(self) -> dict[str, Any]:
        """The CLI's first stdout line: where the sandbox is and how to connect to it."""
        return {"url": self.url, "connections": self.connections}


def seed_event(target: Sandbox | SandboxServer) -> dict[str, Any]:
    """Seed the standard event (12 TRTC rooms, 3 Live mixes, 6 ZEGO rooms...) and return its ids."""
    return target.seed(STANDARD_EVENT)
