"""``RtcSandbox``: the sandbox as a context manager, the way moto's ``mock_aws`` is used.

with RtcSandbox(scenario="event.toml", with_receiver=True) as sb:
    sb.url            # http://127.0.0.1:<port>
    sb.connections    # Airflow connections, as the CLI prints them
    sb.airflow_env()  # {"AIRFLOW_CONN_TENCENTCLOUD_DEFAULT": "<json>", ...}
    sb.names          # each named resource of the scenario: cloud and id
    sb.admin.stats()  # the control API (admin.py)
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from .admin import AdminClient
from .config import SandboxConfig
from .scenario import config_of, load_scenario
from .server import SandboxServer


class RtcSandbox:
    """A sandbox on a free port of 127.0.0.1 (``port=0``), optionally seeded by a ``scenario`` (a dict or
    a .toml/.json path) and wired to the provider's callback receiver (``with_receiver``).

    ``config`` is the config document (config.py) under the scenario's own ``sandbox`` table, or a
    ready :class:`SandboxConfig` used as it is (the CLI merges its flags itself).
    """

    def __init__(
        self,
        scenario: dict[str, Any] | str | Path | None = None,
        *,
        config: dict[str, Any] | SandboxConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        with_receiver: bool = False,
        log_level: str = "warning",
    ) -> None:
        if isinstance(scenario, str | Path):
            scenario = load_scenario(scenario)
        self.scenario: dict[str, Any] = dict(scenario or {})
        if not isinstance(config, SandboxConfig):
            config = SandboxConfig.from_dict({**(config or {}), **config_of(self.scenario)})
        self.server = SandboxServer(config, host=host, port=port, log_level=log_level)
        self.with_receiver = with_receiver
        self.seeded: dict[str, Any] = {}
        self._receiver: Any = None
        self._receiver_dir: str | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> RtcSandbox:
        try:
            if self.with_receiver:
                from .receiver import ReceiverBed

                # before the server starts (and its ticker sends the seeded callbacks): none go nowhere
                self._receiver_dir = tempfile.mkdtemp(prefix="rtc-sandbox-receiver-")
                self._receiver = ReceiverBed(self.server, self._receiver_dir).start()
            self.seeded = self.server.sandbox.apply_scenario(
                {k: v for k, v in self.scenario.items() if k not in ("sandbox", "faults")}
            )
            self.server.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self.server.stop()
        if self._receiver is not None:
            self._receiver.stop()
            self._receiver = None
        if self._receiver_dir is not None:
            shutil.rmtree(self._receiver_dir, ignore_errors=True)
            self._receiver_dir = None

    def __enter__(self) -> RtcSandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- access --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def receiver_url(self) -> str | None:
        return None if self._receiver is None else str(self._receiver.url)

    @property
    def connections(self) -> dict[str, dict[str, Any]]:
        """Airflow connections (JSON form) by conn id; with the receiver, its URL and secrets included."""
        if self._receiver is not None:
            return dict(self._receiver.connections)
        return self.server.connections

    def airflow_env(self) -> dict[str, str]:
        """``AIRFLOW_CONN_<ID>`` variables holding :attr:`connections` as JSON (Airflow reads them)."""
        return {f"AIRFLOW_CONN_{cid.upper()}": json.dumps(conn) for cid, conn in self.connections.items()}

    @property
    def names(self) -> dict[str, dict[str, Any]]:
        """The scenario's named resources: ``{"stage": {"cloud": "trtc", "room_id": 2001, ...}}``."""
        return dict(self.seeded.get("names", {}))

    @property
    def admin(self) -> AdminClient:
        return AdminClient(self.url)

    @property
    def backend(self) -> Any:
        """The live in-process state (``.trtc``, ``.zego``, ``.live``, ``.callbacks``...)."""
        return self.server.backend

    def banner(self) -> dict[str, Any]:
        """What ``rtc-sandbox`` prints on its first line."""
        out = {"url": self.url, "port": self.port, "connections": self.connections}
        if self.receiver_url:
            out["callback_receiver_url"] = self.receiver_url
        if self.names:
            out["names"] = self.names
        return out

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until every callback due has been delivered (lost ones never are; late ones once due)."""
        if self._receiver is not None:
            self._receiver.settle(timeout)
            return
        deadline = time.monotonic() + timeout
        self.backend.tick()
        while self.backend.callbacks.pending():
            if time.monotonic() > deadline:
                raise TimeoutError("callbacks still pending")
            time.sleep(0.05)
