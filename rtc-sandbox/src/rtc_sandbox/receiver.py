"""The provider's callback receiver next to a sandbox: what discovery reads (``--with-receiver``,
``RtcSandbox(with_receiver=True)``, tests and the demo).

``with ReceiverBed(sandbox_server, tmp_dir) as bed:`` starts the receiver (on a free 127.0.0.1 port,
served like the sandbox itself by ``server.UvicornThread``), points the sandbox's TRTC, ZEGO and Live
callbacks at it with matching keys, and offers ``bed.connections`` (the sandbox's connections plus
the receiver extras discovery needs). One path: the CLI's ``--with-receiver`` goes through
``RtcSandbox`` to this class, as the tests and the demo do. The receiver is the provider's
(``airflow_provider_rtc.callbacks``), imported only here and only when started: the sandbox itself
never needs the provider or Airflow.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import UvicornThread

TRTC_KEY = "sandboxTrtcCallbackKey01"
ZEGO_SECRET = "sandboxZegoCallbackSecret"  # noqa: S105 (sandbox-only value)
LIVE_KEY = "sandboxLiveCallbackKey01"


class ReceiverUnavailable(RuntimeError):
    """airflow-provider-rtc (which holds the receiver) is not installed."""


class ReceiverBed:
    def __init__(self, server: Any, directory: str | Path) -> None:
        self.server = server
        self.db_path = str(Path(directory) / "rtc_callbacks.sqlite3")
        self._runner: UvicornThread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ReceiverBed:
        try:
            from airflow_provider_rtc.callbacks.app import create_app
            from airflow_provider_rtc.callbacks.config import ReceiverConfig
        except ImportError as err:
            raise ReceiverUnavailable(
                "the callback receiver is the provider's: install airflow-provider-rtc beside rtc-sandbox "
                f"(pip install airflow-provider-rtc) to use --with-receiver ({err})"
            ) from err
        from .server import UvicornThread

        config = ReceiverConfig(
            db_path=self.db_path,
            trtc_keys={"*": TRTC_KEY},
            zego_secrets={"*": ZEGO_SECRET},
            live_keys={"*": LIVE_KEY},
        )
        runner = UvicornThread(create_app(config), name="rtc-receiver", log_level="warning")
        try:
            self.port = runner.start()
        except RuntimeError as err:
            raise RuntimeError("the callback receiver did not start") from err
        self._runner = runner
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
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.stop()

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
