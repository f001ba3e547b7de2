"""Receiver settings: where the store lives and the callback keys, never taken from a command line.

Keys come from environment variables (or a JSON file, or the Airflow config for the plugin):

* ``RTC_CALLBACK_DB``: the SQLite file (default ``./rtc_callbacks.sqlite3``), unless:
* ``RTC_CALLBACK_STORE_URL``: ``postgresql://user:password@host:port/database``: the store is that
  PostgreSQL database, shared by every receiver host (docs/callback-store.md). With
  ``RTC_CALLBACK_STORE_SCHEMA`` (default ``rtc_callbacks``: its tables' schema),
  ``RTC_CALLBACK_STORE_POOL_SIZE`` (connections per process, default 10) and
  ``RTC_CALLBACK_STORE_TIMEOUT`` (seconds to connect, per statement and lock, default 10).
* ``RTC_CALLBACK_SQLITE_SYNCHRONOUS``: ``FULL`` (default: an acknowledged callback survives a power
  loss) or ``NORMAL`` (it survives the receiver being killed, not the machine; no fsync per commit).
* ``RTC_TRTC_CALLBACK_KEY``: the TRTC callback key used for every SDKAppID without its own key.
* ``RTC_TRTC_CALLBACK_KEYS``: JSON object ``{"<SDKAppID>": "<key>"}``.
* ``RTC_ZEGO_CALLBACK_SECRET``: the ZEGO CallbackSecret used for every AppId without its own.
* ``RTC_ZEGO_CALLBACK_SECRETS``: JSON object ``{"<AppId>": "<CallbackSecret>"}``.
* ``RTC_LIVE_CALLBACK_KEY`` / ``RTC_LIVE_CALLBACK_KEYS``: the Tencent Live callback key (default /
  per account APPID), which verifies push callbacks and signs reads of Live's inventory.
* ``RTC_CALLBACK_READ_MAX_SKEW``: seconds a signed read may be away from the clock (default 300).
* ``RTC_TRTC_CALLBACK_SDK_APP_IDS``: the SDKAppIDs (JSON list or comma-separated) the default TRTC
  key verifies callbacks and reads for. TRTC's ``Sign`` covers the body, not the ``SdkAppId``
  header, so with one key for every application a callback of one app replays as another's. When
  set, a callback for an SDKAppID that has neither its own key nor a place in this list is refused
  with 403. Unset, the default key serves any SDKAppID as before, and the receiver warns at start.
* ``RTC_CALLBACK_RETENTION_DAYS``: events older than this are pruned at start-up and then hourly
  (default 14; 0 keeps them).
* ``RTC_INVENTORY_RETENTION_DAYS``: the lifecycle inventory's corrections and ended items older than
  this are pruned at start-up and then hourly (default 7; 0 keeps them). Live items are never
  pruned. A week keeps the reconciliation history for a look a few days later, while nothing
  depends on an ended item for longer than the clouds retry a callback (minutes): unpruned, 400,000
  corrections made each inventory read take seconds.
* ``RTC_ZEGO_CALLBACK_MAX_AGE``: seconds a ZEGO callback's signed ``timestamp`` may be away from the
  receiver's clock (default 300); its nonce is remembered for twice that, so a captured callback
  cannot be replayed (ZEGO's signature covers the timestamp and nonce, not the body).
* ``RTC_CALLBACK_MAX_BODY_BYTES``: the largest callback body accepted (default 1 MiB), counted while
  the body streams in, chunked or not.

A key that is empty or has surrounding whitespace is refused at start: it is a copy-paste mistake
that would otherwise reject (or, when blank, weaken) every signature check.

A JSON keys file (``--keys-file``) holds ``{"trtc": {"*": key, "<SDKAppID>": key}, "zego": {...},
"live": {...}}`` and optionally ``"trtc_sdk_app_ids": ["<SDKAppID>", ...]`` (as
``RTC_TRTC_CALLBACK_SDK_APP_IDS``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from airflow_provider_rtc.callbacks.store import SYNCHRONOUS, SqliteSettings
from airflow_provider_rtc.callbacks.store_pg import DEFAULT_SCHEMA, PostgresSettings

DEFAULT_DB = "rtc_callbacks.sqlite3"
ANY_APP = "*"


def check_key(value: Any, name: str) -> str:
    """A callback key as configured: a non-empty string without surrounding whitespace."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name}: a callback key must be a non-empty string")
    if value != value.strip():
        raise ValueError(f"{name}: the callback key has leading or trailing whitespace; remove it")
    return value


def _key_map(default: str | None, mapping: Any, name: str) -> dict[str, str]:
    keys: dict[str, str] = {}
    if mapping not in (None, ""):
        if isinstance(mapping, str):
            try:
                mapping = json.loads(mapping)
            except ValueError:
                raise ValueError(f"{name} must be a JSON object mapping app ids to keys") from None
        if not isinstance(mapping, Mapping):
            raise ValueError(f"{name} must be a JSON object mapping app ids to keys")
        for app, key in mapping.items():
            app_text = str(app).strip()
            if not app_text:
                raise ValueError(f"{name}: an empty app id is not allowed")
            keys[app_text] = check_key(key, f"{name}[{app_text}]")
    if default is not None:
        keys[ANY_APP] = check_key(default, name.rstrip("S"))
    return keys


def app_id_list(value: Any, name: str) -> frozenset[str] | None:
    """SDKAppIDs from a JSON list, a comma-separated text or a list; ``None`` when not given."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                raise ValueError(f"{name} must be a JSON list or comma-separated SDKAppIDs") from None
        else:
            value = [part for part in text.split(",") if part.strip()]
    if not isinstance(value, list | tuple | set | frozenset):
        raise ValueError(f"{name} must be a list of SDKAppIDs")
    apps = {str(app).strip() for app in value}
    if not apps or not all(app.isascii() and app.isdigit() for app in apps):
        raise ValueError(f"{name} must list SDKAppIDs (digits), got {sorted(apps)!r}")
    return frozenset(apps)


def _lookup(keys: Mapping[str, str], app_id: str | int | None) -> str | None:
    if app_id not in (None, ""):
        key = keys.get(str(app_id).strip())
        if key:
            return key
    return keys.get(ANY_APP)


@dataclass(frozen=True)
class ReceiverConfig:
    """What the receiver app needs. ``repr`` never shows a key."""

    db_path: str = DEFAULT_DB
    trtc_keys: dict[str, str] = field(default_factory=dict, repr=False)
    zego_secrets: dict[str, str] = field(default_factory=dict, repr=False)
    live_keys: dict[str, str] = field(default_factory=dict, repr=False)
    read_max_skew: float = 300.0
    retention_days: float = 14.0
    max_body_bytes: int = 1_048_576
    zego_max_age: float = 300.0
    #: the SDKAppIDs the default TRTC key (``*``) serves; ``None``: any (with a start-up warning)
    trtc_sdk_app_ids: frozenset[str] | None = None
    inventory_retention_days: float = 7.0
    #: ``postgresql://`` URL of a shared store (it may hold a password: never shown); ``None``: SQLite
    store_url: str | None = field(default=None, repr=False)
    store_schema: str = DEFAULT_SCHEMA
    store_pool_size: int = 10
    store_timeout: float = 10.0
    #: the SQLite file's ``PRAGMA synchronous``: ``FULL`` or ``NORMAL`` (:class:`~.store.SqliteFile`)
    sqlite_synchronous: str = "FULL"

    def __post_init__(self) -> None:
        object.__setattr__(self, "sqlite_synchronous", (self.sqlite_synchronous or "FULL").strip().upper())
        if self.sqlite_synchronous not in SYNCHRONOUS:
            raise ValueError(
                f"sqlite_synchronous must be one of {', '.join(SYNCHRONOUS)}, got {self.sqlite_synchronous!r}"
            )
        if self.store_url is not None:
            self.postgres_settings()  # refuses a bad URL, schema, pool size or timeout at start
        for cloud, keys in (("trtc", self.trtc_keys), ("zego", self.zego_secrets), ("live", self.live_keys)):
            for app, key in keys.items():
                check_key(key, f"{cloud} key for {app}")
        for name in ("read_max_skew", "zego_max_age", "max_body_bytes"):
            value = getattr(self, name)
            if not value > 0 or value == float("inf"):
                raise ValueError(f"{name} must be a positive finite number, got {value!r}")
        for name in ("retention_days", "inventory_retention_days"):
            value = getattr(self, name)
            if not value >= 0 or value == float("inf"):
                raise ValueError(f"{name} must be a finite number of days >= 0 (0 keeps all), got {value!r}")
        if self.trtc_sdk_app_ids is not None:
            object.__setattr__(self, "trtc_sdk_app_ids", app_id_list(list(self.trtc_sdk_app_ids), "trtc"))

    def postgres_settings(self) -> PostgresSettings | None:
        if not self.store_url:
            return None
        return PostgresSettings(
            self.store_url,
            schema=self.store_schema,
            pool_size=self.store_pool_size,
            timeout=self.store_timeout,
        )

    @property
    def store_location(self) -> str | PostgresSettings | SqliteSettings:
        """What the stores open: the PostgreSQL settings when a store URL is set, else the file."""
        postgres = self.postgres_settings()
        if postgres:
            return postgres
        if self.sqlite_synchronous != "FULL":
            return SqliteSettings(self.db_path, self.sqlite_synchronous)
        return self.db_path

    def describe_store(self) -> str:
        """Where callbacks are stored, for logs (never a password)."""
        settings = self.postgres_settings()
        return settings.describe() if settings else f"SQLite file {self.db_path}"

    def trtc_key(self, sdk_app_id: str | int | None) -> str | None:
        """The key for this SDKAppID, else the default key (``*``) if it serves this SDKAppID (see
        :meth:`trtc_app_refused`), else ``None``."""
        if self.trtc_app_refused(sdk_app_id):
            return None
        return _lookup(self.trtc_keys, sdk_app_id)

    def trtc_app_refused(self, sdk_app_id: str | int | None) -> bool:
        """True when only the default key could verify this SDKAppID and it is not among the
        SDKAppIDs configured for that key (TRTC's ``Sign`` does not cover the ``SdkAppId`` header)."""
        app = "" if sdk_app_id is None else str(sdk_app_id).strip()
        if app and self.trtc_keys.get(app):
            return False
        return self.trtc_sdk_app_ids is not None and app not in self.trtc_sdk_app_ids

    def warnings(self) -> list[str]:
        """What the receiver should say at start about keys TRTC's signature cannot tell apart."""
        notes: list[str] = []
        if self.trtc_keys.get(ANY_APP) and self.trtc_sdk_app_ids is None:
            notes.append(
                "the default TRTC callback key accepts callbacks for any SdkAppId, and TRTC's Sign does "
                "not cover the SdkAppId header: a callback of one application can be replayed as "
                "another's. List the applications it serves in RTC_TRTC_CALLBACK_SDK_APP_IDS "
                "([rtc_callbacks] trtc_callback_sdk_app_ids)"
            )
        shared: dict[str, list[str]] = {}
        for app, key in self.trtc_keys.items():
            if app != ANY_APP:
                shared.setdefault(key, []).append(app)
        for apps in shared.values():
            if len(apps) > 1:
                notes.append(
                    f"TRTC SdkAppIds {', '.join(sorted(apps))} share one callback key: TRTC's Sign does "
                    "not cover the SdkAppId header, so their callbacks can be replayed as each other's; "
                    "give each application its own key"
                )
        return notes

    def zego_secret(self, app_id: str | int | None) -> str | None:
        """The CallbackSecret for this AppId, else the default (``*``), else ``None``."""
        return _lookup(self.zego_secrets, app_id)

    def live_key(self, app_id: str | int | None) -> str | None:
        """The Live callback key for this account APPID, else the default (``*``), else ``None``."""
        return _lookup(self.live_keys, app_id)

    def key_for(self, cloud: str, app_id: str | int | None) -> str | None:
        """The key of ``cloud`` (trtc, zego or live) for ``app_id``."""
        lookup = {"trtc": self.trtc_key, "zego": self.zego_secret, "live": self.live_key}.get(cloud)
        return lookup(app_id) if lookup else None

    @property
    def has_keys(self) -> bool:
        return bool(self.trtc_keys or self.zego_secrets or self.live_keys)

    @classmethod
    def from_mapping(cls, env: Mapping[str, str], *, db_path: str | None = None) -> ReceiverConfig:
        return cls(
            db_path=db_path or env.get("RTC_CALLBACK_DB") or DEFAULT_DB,
            trtc_keys=_key_map(
                env.get("RTC_TRTC_CALLBACK_KEY"), env.get("RTC_TRTC_CALLBACK_KEYS"), "RTC_TRTC_CALLBACK_KEYS"
            ),
            zego_secrets=_key_map(
                env.get("RTC_ZEGO_CALLBACK_SECRET"),
                env.get("RTC_ZEGO_CALLBACK_SECRETS"),
                "RTC_ZEGO_CALLBACK_SECRETS",
            ),
            live_keys=_key_map(
                env.get("RTC_LIVE_CALLBACK_KEY"), env.get("RTC_LIVE_CALLBACK_KEYS"), "RTC_LIVE_CALLBACK_KEYS"
            ),
            read_max_skew=float(env.get("RTC_CALLBACK_READ_MAX_SKEW") or 300.0),
            retention_days=_days(env, "RTC_CALLBACK_RETENTION_DAYS", 14.0),
            inventory_retention_days=_days(env, "RTC_INVENTORY_RETENTION_DAYS", 7.0),
            trtc_sdk_app_ids=app_id_list(
                env.get("RTC_TRTC_CALLBACK_SDK_APP_IDS"), "RTC_TRTC_CALLBACK_SDK_APP_IDS"
            ),
            max_body_bytes=int(env.get("RTC_CALLBACK_MAX_BODY_BYTES") or 1_048_576),
            zego_max_age=float(env.get("RTC_ZEGO_CALLBACK_MAX_AGE") or 300.0),
            store_url=(env.get("RTC_CALLBACK_STORE_URL") or "").strip() or None,
            store_schema=(env.get("RTC_CALLBACK_STORE_SCHEMA") or "").strip() or DEFAULT_SCHEMA,
            store_pool_size=_int(env, "RTC_CALLBACK_STORE_POOL_SIZE", 10),
            store_timeout=float(env.get("RTC_CALLBACK_STORE_TIMEOUT") or 10.0),
            sqlite_synchronous=(env.get("RTC_CALLBACK_SQLITE_SYNCHRONOUS") or "FULL"),
        )

    @classmethod
    def from_env(cls, *, db_path: str | None = None) -> ReceiverConfig:
        return cls.from_mapping(os.environ, db_path=db_path)

    def with_keys_file(self, path: str | Path) -> ReceiverConfig:
        data = json.loads(Path(path).read_text())
        if not isinstance(data, dict) or set(data) - {"trtc", "zego", "live", "trtc_sdk_app_ids"}:
            raise ValueError(
                "the keys file must be a JSON object with 'trtc', 'zego' and/or 'live' maps "
                "(and optionally a 'trtc_sdk_app_ids' list)"
            )
        trtc = {**self.trtc_keys, **_key_map(None, data.get("trtc"), "trtc")}
        zego = {**self.zego_secrets, **_key_map(None, data.get("zego"), "zego")}
        live = {**self.live_keys, **_key_map(None, data.get("live"), "live")}
        apps = app_id_list(data.get("trtc_sdk_app_ids"), "trtc_sdk_app_ids")
        return replace(
            self,
            trtc_keys=trtc,
            zego_secrets=zego,
            live_keys=live,
            trtc_sdk_app_ids=self.trtc_sdk_app_ids if apps is None else apps,
        )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise ValueError(f"{name} must be a whole number, got {raw!r}")
    return int(raw)


def _days(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of days, got {raw!r}") from None
