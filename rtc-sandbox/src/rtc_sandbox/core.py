"""The sandbox as one object: configuration, clock, backends, limits, faults, stats and callbacks.

The HTTP app, the in-process server and the admin API all hold the same ``Sandbox``; a background
ticker moves time-driven state (recording start, idle exits, uploads) and delivers callbacks.
"""

from __future__ import annotations

import threading
from typing import Any

from .backends.live import LiveBackend
from .backends.trtc import TrtcBackend
from .backends.usage import UsageBackend
from .backends.vod import VodBackend
from .backends.zego import ZegoBackend
from .callbacks import CallbackDispatcher
from .clock import Clock
from .config import SandboxConfig, TencentKey
from .faults import FaultPlan
from .ids import IdFactory
from .middleware import Guard
from .ratelimit import RateLimiter
from .seed import STANDARD_EVENT, SeedCounters, apply_seed
from .stats import Stats


class Sandbox:
    """State and policy of one emulated account on each cloud; thread-safe."""

    def __init__(self, config: SandboxConfig | dict[str, Any] | None = None) -> None:
        if not isinstance(config, SandboxConfig):
            config = SandboxConfig.from_dict(config)
        self.config = config
        self._startup = config.copy()
        self.clock = Clock(config.clock_offset_seconds, mode=config.clock_mode)
        self.ids = IdFactory(config.random_seed)
        timing = config.timing
        self.trtc = TrtcBackend(
            config.sdk_app_ids,
            self.ids,
            max_recordings=config.max_trtc_recordings,
            upload_delay=timing.upload_delay,
            start_seconds=timing.recording_start_seconds,
            exit_seconds=timing.recording_exit_seconds,
            late_seconds=timing.callback_late_seconds,
        )
        self.vod = VodBackend(self.ids)
        self.trtc.vod = self.vod
        self.live = LiveBackend()
        self.usage = UsageBackend()
        self.zego = ZegoBackend(
            self.ids,
            mix_ownership=config.zego_mix_ownership,
            upload_delay=timing.upload_delay,
            init_seconds=timing.zego_record_init_seconds,
            mix_auto_stop_seconds=timing.zego_mix_auto_stop_seconds,
        )
        self.zego.room_list_enabled = config.zego_room_list_enabled
        self.live.app_id = config.callbacks.live_app_id
        self.limiter = RateLimiter(config.rate_limits, config.qps_overrides)
        self.limiter.clock = self.clock.monotonic  # buckets refill on the sandbox's clock
        self.faults = FaultPlan(config.random_seed)
        self.stats = Stats()
        self.callbacks = CallbackDispatcher(config.copy().callbacks, self.clock)
        self.guard = Guard(self.limiter, self.faults, self.stats)
        self.seed_counters = SeedCounters()
        self._base_url: str | None = None
        self._ticker: threading.Thread | None = None
        self._stopping = threading.Event()
        self.set_faults(config.faults)
        if config.seed_event:
            self.seed(STANDARD_EVENT)
        if config.seed:
            self.seed(config.seed)

    # -- credentials ---------------------------------------------------------------------------

    def tencent_key(self, secret_id: str) -> TencentKey | None:
        return next((k for k in self.config.tencent_keys if k.secret_id == secret_id), None)

    def zego_secret(self, app_id: int) -> str | None:
        return next((a.server_secret for a in self.config.zego_apps if a.app_id == app_id), None)

    def now(self) -> float:
        return self.clock.time()

    @property
    def base_url(self) -> str | None:
        """The URL the sandbox is served at, once bound; recording file URLs then point at it."""
        return self._base_url

    @base_url.setter
    def base_url(self, url: str | None) -> None:
        self._base_url = url.rstrip("/") if url else None
        self.vod.media_base = self.zego.media_base = self._base_url

    # -- policy --------------------------------------------------------------------------------

    def set_faults(self, doc: dict[str, Any], *, append: bool = False) -> None:
        self.faults.configure(doc, append=append)
        rec = self.faults.recordings
        self.trtc.default_callback_fault = rec.trtc_callback
        self.zego.default_file_fault = rec.zego_file_status
        self.zego.default_task_fault = rec.zego_task_status

    def set_timing(self, **changes: float) -> None:
        """Adjust emulated delays at runtime (used by ``PUT /_sandbox/timing``)."""
        timing = self.config.timing
        unknown = [name for name in changes if not hasattr(timing, name)]
        if unknown:
            raise ValueError(f"unknown timing keys: {unknown}")
        for name, value in changes.items():
            if float(value) < 0 or (name == "tick_seconds" and float(value) <= 0):
                raise ValueError(f"timing {name} must be >= 0 (tick_seconds > 0)")
            setattr(timing, name, float(value))
        self.trtc.upload_delay = self.zego.upload_delay = timing.upload_delay
        self.trtc.start_seconds = timing.recording_start_seconds
        self.trtc.exit_seconds = timing.recording_exit_seconds
        self.trtc.late_seconds = timing.callback_late_seconds
        self.zego.init_seconds = timing.zego_record_init_seconds
        self.zego.mix_auto_stop_seconds = timing.zego_mix_auto_stop_seconds

    # -- lifecycle -----------------------------------------------------------------------------

    def seed(self, spec: dict[str, Any]) -> dict[str, Any]:
        return apply_seed(self, spec)

    def apply_scenario(self, scenario: dict[str, Any]) -> dict[str, Any]:
        """A scenario's faults, resources and callback rules (its ``sandbox`` table is start-up config:
        see :func:`.scenario.config_of`); returns the ids created and the ``names``."""
        from .scenario import apply_scenario, check

        check(scenario)
        if scenario.get("sandbox"):
            raise ValueError("a running sandbox takes no 'sandbox' table: start one with it")
        if scenario.get("faults"):
            self.set_faults(scenario["faults"])
        return apply_scenario(self, scenario)

    def reset(self) -> None:
        """Back to an empty sandbox with the start-up settings (moto's reset semantics)."""
        self.config = cfg = self._startup.copy()
        self.set_timing()
        self.trtc.reset()
        self.live.reset()
        self.usage.reset()
        self.vod.reset()
        self.zego.reset()
        self.zego.room_list_enabled = cfg.zego_room_list_enabled
        self.live.app_id = cfg.callbacks.live_app_id
        self.stats.reset()
        self.callbacks.clear()
        self.callbacks.settings = cfg.copy().callbacks
        self.limiter.configure(enabled=cfg.rate_limits, qps=cfg.qps_overrides)
        self.ids.reseed(cfg.random_seed)
        self.faults.reset(cfg.random_seed)
        self.set_faults(cfg.faults)
        self.clock.set_mode("real")
        self.clock.set_offset(cfg.clock_offset_seconds)
        self.clock.set_mode(cfg.clock_mode)
        self.seed_counters = SeedCounters()

    def advance(self, seconds: float) -> float:
        """Move the clock ``seconds`` forward and run what became due at once (recordings, uploads,
        callbacks, refills), as moto's manual state progression; return the new ``now()``."""
        now = self.clock.advance(seconds)
        self.tick()
        return now

    def tick(self) -> None:
        """Advance time-driven state and deliver what became due; the ticker calls it."""
        for event in self.trtc.advance(self.now()):
            self.callbacks.emit(event)
        self.zego.advance(self.now())
        for backend in (self.trtc, self.zego, self.live):
            for lifecycle_event in backend.lifecycle.drain():
                fate, delay = self.faults.lifecycle.fate(lifecycle_event)
                self.callbacks.emit_lifecycle(lifecycle_event, fate, delay)
        self.callbacks.run_due()

    def start_background(self) -> None:
        if self._ticker is not None:
            return
        self._stopping.clear()
        self._ticker = threading.Thread(target=self._run_ticker, name="rtc-sandbox-ticker", daemon=True)
        self._ticker.start()

    def stop_background(self) -> None:
        self._stopping.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
            self._ticker = None
        self.callbacks.close()

    def _run_ticker(self) -> None:
        while not self._stopping.wait(self.config.timing.tick_seconds):
            self.tick()

    # -- introspection -------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        now = self.now()
        return {
            "now": now,
            "trtc": self.trtc.snapshot(now),
            "live": self.live.snapshot(),
            "zego": self.zego.snapshot(now),
        }

    def connections(self, url: str) -> dict[str, dict[str, Any]]:
        """Airflow connection dicts (JSON form) pointing at ``url``."""
        key = self.config.tencent_key
        tencent_extra: dict[str, Any] = {
            "endpoint": url,
            "region": self.config.region,
            "sdk_app_id": self.config.sdk_app_id,
        }
        if key.token:
            tencent_extra["token"] = key.token
        app = self.config.zego_app
        return {
            "tencentcloud_default": {
                "conn_type": "tencentcloud",
                "login": key.secret_id,
                "password": key.secret_key,
                "extra": tencent_extra,
            },
            "zegocloud_default": {
                "conn_type": "zegocloud",
                "login": str(app.app_id),
                "password": app.server_secret,
                "extra": {"endpoint": url},
            },
        }
