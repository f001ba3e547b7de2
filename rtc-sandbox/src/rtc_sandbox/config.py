"""Sandbox settings: credentials, timings, callback target, limits, faults and the start-up seed.

One JSON document (``--config FILE`` or ``SandboxServer(config=...)``) sets everything; unknown keys
are rejected so a typo cannot silently fall back to a default. Schema::

    {
      "random_seed": 0,
      "tencent": {"secret_id": str, "secret_key": str, "token": str|null, "sdk_app_id": int,
                  "region": str, "extra_keys": [{"secret_id", "secret_key", "token"?}],
                  "extra_sdk_app_ids": [int]},
      "zego": {"app_id": int, "server_secret": str, "extra_apps": [{"app_id", "server_secret"}],
               "mix_ownership": true, "room_list_enabled": false},
      "timing": {"upload_delay": 2, "recording_start_seconds": 0, "recording_exit_seconds": 1,
                 "zego_record_init_seconds": 0.5, "zego_mix_auto_stop_seconds": 90,
                 "callback_late_seconds": 10, "tick_seconds": 0.05},
      "callbacks": {"url": str|null, "key": str, "room_url": str|null, "zego_url": str|null,
                    "zego_secret": str, "live_url": str|null, "live_key": str, "live_app_id": int,
                    "timeout": 5, "retry_interval": 10, "max_age": 60},
      "limits": {"enabled": true, "qps": {"<Action>": float}},
      "faults": {see faults.FaultPlan},
      "max_trtc_recordings": 100,
      "clock_offset_seconds": 0,
      "clock_mode": "real" | "manual",
      "seed_event": false,
      "usage_baseline": true,
      "seed": {see seed.seed}
    }
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

DEFAULT_SECRET_ID = "AKIDSANDBOXEXAMPLE00000000000000000"  # noqa: S105 (public sandbox credential)
DEFAULT_SECRET_KEY = "sandboxSecretKeyExample0000000000"  # noqa: S105 (public sandbox credential)
DEFAULT_SDK_APP_ID = 1400000001
DEFAULT_REGION = "ap-guangzhou"
DEFAULT_ZEGO_APP_ID = 1234567890
DEFAULT_ZEGO_SECRET = "0123456789abcdef0123456789abcdef"  # noqa: S105 (public sandbox credential)


@dataclass
class TencentKey:
    secret_id: str
    secret_key: str
    token: str | None = None


@dataclass
class ZegoApp:
    app_id: int
    server_secret: str


@dataclass
class Timing:
    """Every delay the sandbox emulates; tests shrink them, the demo keeps the realistic ones."""

    upload_delay: float = 2.0
    recording_start_seconds: float = 0.0
    recording_exit_seconds: float = 1.0
    zego_record_init_seconds: float = 0.5
    zego_mix_auto_stop_seconds: float = 90.0
    callback_late_seconds: float = 10.0
    tick_seconds: float = 0.05


@dataclass
class CallbackSettings:
    """Where callbacks go and how they are retried (TRTC's 5 s timeout, 10 s, 1 min, for every cloud).

    ``url``/``key``: TRTC recording callbacks; ``room_url``: TRTC room and media events (a separate
    console setting; same key); ``zego_url``/``zego_secret``: ZEGO (the
    CallbackSecret); ``live_url``/``live_key``: Tencent Live push callbacks, whose body names the
    account ``live_app_id``.
    """

    url: str | None = None
    key: str = ""
    room_url: str | None = None
    zego_url: str | None = None
    zego_secret: str = ""
    live_url: str | None = None
    live_key: str = ""
    live_app_id: int = 1250000000
    timeout: float = 5.0
    retry_interval: float = 10.0
    max_age: float = 60.0


@dataclass
class SandboxConfig:
    tencent_keys: list[TencentKey] = field(
        default_factory=lambda: [TencentKey(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY)]
    )
    sdk_app_ids: list[int] = field(default_factory=lambda: [DEFAULT_SDK_APP_ID])
    region: str = DEFAULT_REGION
    zego_apps: list[ZegoApp] = field(
        default_factory=lambda: [ZegoApp(DEFAULT_ZEGO_APP_ID, DEFAULT_ZEGO_SECRET)]
    )
    zego_mix_ownership: bool = True
    #: DescribeRoomList must be enabled by ZEGO per AppId; off by default, as on a new account
    zego_room_list_enabled: bool = False
    random_seed: int = 0
    rate_limits: bool = True
    qps_overrides: dict[str, float] = field(default_factory=dict)
    faults: dict[str, Any] = field(default_factory=dict)
    timing: Timing = field(default_factory=Timing)
    callbacks: CallbackSettings = field(default_factory=CallbackSettings)
    max_trtc_recordings: int = 100
    clock_offset_seconds: float = 0.0
    #: "manual": time stands still until advanced (admin ``POST /_sandbox/clock/advance``)
    clock_mode: str = "real"
    seed_event: bool = False
    #: the synthetic daily usage (backends/usage.py); off: usage is only the sandbox's live minutes
    usage_baseline: bool = True
    seed: dict[str, Any] | None = None

    # -- accessors -----------------------------------------------------------------------------

    @property
    def tencent_key(self) -> TencentKey:
        return self.tencent_keys[0]

    @property
    def sdk_app_id(self) -> int:
        return self.sdk_app_ids[0]

    @property
    def zego_app(self) -> ZegoApp:
        return self.zego_apps[0]

    def copy(self) -> SandboxConfig:
        return copy.deepcopy(self)

    # -- (de)serialization ---------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> SandboxConfig:
        data = dict(data or {})
        cfg = cls()
        known = {
            "random_seed",
            "tencent",
            "zego",
            "timing",
            "callbacks",
            "limits",
            "faults",
            "max_trtc_recordings",
            "clock_offset_seconds",
            "clock_mode",
            "seed_event",
            "usage_baseline",
            "seed",
        }
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        cfg.random_seed = int(data.get("random_seed", cfg.random_seed))
        if "tencent" in data:
            t = dict(data["tencent"])
            _reject_unknown(
                "tencent",
                t,
                {
                    "secret_id",
                    "secret_key",
                    "token",
                    "sdk_app_id",
                    "region",
                    "extra_keys",
                    "extra_sdk_app_ids",
                },
            )
            main = TencentKey(
                str(t.get("secret_id", DEFAULT_SECRET_ID)),
                str(t.get("secret_key", DEFAULT_SECRET_KEY)),
                t.get("token"),
            )
            extra = [
                TencentKey(str(k["secret_id"]), str(k["secret_key"]), k.get("token"))
                for k in t.get("extra_keys", [])
            ]
            cfg.tencent_keys = [main, *extra]
            cfg.sdk_app_ids = [int(t.get("sdk_app_id", DEFAULT_SDK_APP_ID))] + [
                int(x) for x in t.get("extra_sdk_app_ids", [])
            ]
            cfg.region = str(t.get("region", DEFAULT_REGION))
        if "zego" in data:
            z = dict(data["zego"])
            _reject_unknown(
                "zego", z, {"app_id", "server_secret", "extra_apps", "mix_ownership", "room_list_enabled"}
            )
            main_app = ZegoApp(
                int(z.get("app_id", DEFAULT_ZEGO_APP_ID)), str(z.get("server_secret", DEFAULT_ZEGO_SECRET))
            )
            cfg.zego_apps = [main_app] + [
                ZegoApp(int(a["app_id"]), str(a["server_secret"])) for a in z.get("extra_apps", [])
            ]
            cfg.zego_mix_ownership = bool(z.get("mix_ownership", True))
            cfg.zego_room_list_enabled = bool(z.get("room_list_enabled", False))
        if "timing" in data:
            cfg.timing = _dataclass_from(Timing, "timing", data["timing"])
        if "callbacks" in data:
            cfg.callbacks = _dataclass_from(CallbackSettings, "callbacks", data["callbacks"])
        if "limits" in data:
            lim = dict(data["limits"])
            _reject_unknown("limits", lim, {"enabled", "qps"})
            cfg.rate_limits = bool(lim.get("enabled", True))
            cfg.qps_overrides = {str(k): float(v) for k, v in dict(lim.get("qps", {})).items()}
        if "faults" in data:
            cfg.faults = dict(data["faults"])
        cfg.max_trtc_recordings = int(data.get("max_trtc_recordings", cfg.max_trtc_recordings))
        cfg.clock_offset_seconds = float(data.get("clock_offset_seconds", 0.0))
        cfg.clock_mode = str(data.get("clock_mode", "real"))
        if cfg.clock_mode not in ("real", "manual"):
            raise ValueError(f"clock_mode must be 'real' or 'manual', got {cfg.clock_mode!r}")
        cfg.seed_event = bool(data.get("seed_event", False))
        cfg.usage_baseline = bool(data.get("usage_baseline", True))
        cfg.seed = data.get("seed")
        return cfg

    @classmethod
    def from_file(cls, path: str | Path) -> SandboxConfig:
        return cls.from_dict(json.loads(Path(path).read_text()))

    def to_dict(self) -> dict[str, Any]:
        main = self.tencent_key
        return {
            "random_seed": self.random_seed,
            "tencent": {
                "secret_id": main.secret_id,
                "secret_key": main.secret_key,
                "token": main.token,
                "sdk_app_id": self.sdk_app_id,
                "region": self.region,
                "extra_keys": [asdict(k) for k in self.tencent_keys[1:]],
                "extra_sdk_app_ids": self.sdk_app_ids[1:],
            },
            "zego": {
                "app_id": self.zego_app.app_id,
                "server_secret": self.zego_app.server_secret,
                "extra_apps": [asdict(a) for a in self.zego_apps[1:]],
                "mix_ownership": self.zego_mix_ownership,
                "room_list_enabled": self.zego_room_list_enabled,
            },
            "timing": asdict(self.timing),
            "callbacks": asdict(self.callbacks),
            "limits": {"enabled": self.rate_limits, "qps": dict(self.qps_overrides)},
            "faults": copy.deepcopy(self.faults),
            "max_trtc_recordings": self.max_trtc_recordings,
            "clock_offset_seconds": self.clock_offset_seconds,
            "clock_mode": self.clock_mode,
            "seed_event": self.seed_event,
            "usage_baseline": self.usage_baseline,
            "seed": copy.deepcopy(self.seed),
        }


def _reject_unknown(section: str, data: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"unknown keys in {section!r}: {sorted(unknown)}")


def _dataclass_from(cls: Any, section: str, data: dict[str, Any]) -> Any:
    data = dict(data)
    names = {f.name for f in fields(cls)}
    _reject_unknown(section, data, names)
    return cls(**data)
