"""A callback receiver started for one scenario: an empty store, so callbacks stored by earlier
scenarios (the sandbox reuses ids after a reset) cannot leak into what this scenario reads."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from typing import Any

from .harness import BIN, Deployment, Proc, free_port, http_json, wait_for


@dataclass
class ScenarioReceiver:
    """``rtc-callback-receiver`` with the deployment's TRTC key and, for discovery, ZEGO/Live keys."""

    dep: Deployment
    name: str
    zego_secret: str = field(default_factory=lambda: secrets.token_hex(12))
    live_key: str = field(default_factory=lambda: secrets.token_hex(12))

    def __post_init__(self) -> None:
        self.url = ""
        self.proc: Proc | None = None

    def start(self) -> ScenarioReceiver:
        port = free_port()
        env = {
            **os.environ,
            "RTC_TRTC_CALLBACK_KEY": self.dep.callback_key,
            "RTC_ZEGO_CALLBACK_SECRET": self.zego_secret,
            "RTC_LIVE_CALLBACK_KEY": self.live_key,
        }
        argv = [str(BIN / "rtc-callback-receiver"), "--port", str(port), "--log-level", "warning"]
        argv += ["--db", str(self.dep.home.parent / f"{self.name}-{port}.sqlite3")]
        self.proc = self.dep.processes.start(self.name, argv, env)
        self.url = f"http://127.0.0.1:{port}"
        wait_for(self.name, lambda: http_json("GET", f"{self.url}/healthz", timeout=5), 60)
        return self

    def stop(self) -> None:
        """Stop it and forget it, so the deployment's liveness check does not count it as a crash."""
        if self.proc is not None:
            self.proc.stop()
            self.dep.processes.procs.remove(self.proc)
            self.proc = None

    def __enter__(self) -> ScenarioReceiver:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
