"""The provider's callback receiver next to a sandbox: what discovery reads, for tests and the demo.

``with ReceiverBed(sandbox_server, tmp_dir) as bed:`` starts the receiver (uvicorn on a thread, a
free port on 127.0.0.1), points the sandbox's TRTC, ZEGO and Live callbacks at it with matching keys,
and offers ``bed.connections`` (the sandbox's connections plus the receiver extras discovery needs).
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

TRTC_KEY = "sandboxTrtcCallbackKey01"
ZEGO_SECRET = "sandboxZegoCallbackSecret"  # noqa: S105 (sandbox-only value)
LIVE_KEY = "sandboxLiveCallbackKey01"


class ReceiverBed:
    def __init__(self, server: Any, directory: str | Path) -> None:
        self.server = server
        self.db_path = str(Path(directory) / "rtc_callbacks.sqlite3")
        self._uvicorn: Any = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ReceiverBed:
        import uvicorn

        from airflow_provider_rtc.callbacks.app import create_app
        from airflow_provider_rtc.callbacks.config import ReceiverConfig

        config = ReceiverConfig(
            db_path=self.db_path,
            trtc_keys={"*": TRTC_KEY},
            zego_secrets={"*": ZEGO_SECRET},
            live_keys={"*": LIVE_KEY},
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._uvicorn = uvicorn.Server(
            uvicorn.Config(create_app(config), lifespan="off", log_level="warning", access_log=False)
        )
        self._thread = threading.Thread(
            target=self._uvicorn.run, kwargs={"sockets": [sock]}, name="rtc-receiver", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._uvicorn.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the callback receiver did not start")
            time.sleep(0.01)
        self.server.backend.callbacks.configure(
            url=f"{self.url}/trtc/callback",
            room_url=f"{self.url}/trtc/callback",
            key=TRTC_KEY,
            zego_url=f"{self.url}/zego/callback",
            zego_secret=ZEGO_SECRET,
            live_url=f"{self.url}/live/callback",
            live_key=LIVE_KEY,
        )
        return self

    def stop(self) -> None:
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._uvicorn = self._thread = None

    def __enter__(self) -> ReceiverBed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def connections(self) -> dict[str, dict[str, Any]]:
        conns = self.server.connections
        tencent, zego = dict(conns["tencentcloud_default"]), dict(conns["zegocloud_default"])
        tencent["extra"] = {
            **tencent["extra"],
            "callback_receiver_url": self.url,
            "callback_secret": TRTC_KEY,
            "live_app_id": str(self.server.backend.live.app_id),
            "live_callback_secret": LIVE_KEY,
        }
        zego["extra"] = {**zego["extra"], "callback_receiver_url": self.url, "callback_secret": ZEGO_SECRET}
        return {"tencentcloud_default": tencent, "zegocloud_default": zego}

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until the sandbox has no callback left to deliver (lost ones are never due)."""
        deadline = time.monotonic() + timeout
        self.server.backend.tick()  # hand over what the backends generated since the last tick
        while self.server.backend.callbacks.pending() or self._in_flight():
            if time.monotonic() > deadline:
                raise TimeoutError("callbacks still pending")
            time.sleep(0.05)

    def _in_flight(self) -> bool:
        log = self.server.backend.callbacks.log()
        return any(e["url"] and e["fate"] != "lost" and not e["delivered"] and not e["gave_up"] for e in log)
