"""The ``[rtc_callbacks]`` options: declared once here, for ``get_provider_info()["config"]`` and the plugin.

Declared, they show in ``airflow config list``, ``airflow config get-value rtc_callbacks <key>`` works,
and the key options, marked sensitive, are masked there and accept Airflow's ``_cmd`` / ``_secret``
variants (Airflow allows those only for options declared sensitive). No Airflow import: cheap.
"""

from __future__ import annotations

from typing import Any

SECTION = "rtc_callbacks"

#: receiver environment variable -> ``[rtc_callbacks]`` option (the option wins when set)
ENV_OPTIONS = {
    "RTC_CALLBACK_DB": "db_path",
    "RTC_TRTC_CALLBACK_KEY": "trtc_callback_key",
    "RTC_TRTC_CALLBACK_KEYS": "trtc_callback_keys",
    "RTC_ZEGO_CALLBACK_SECRET": "zego_callback_secret",
    "RTC_ZEGO_CALLBACK_SECRETS": "zego_callback_secrets",
    "RTC_LIVE_CALLBACK_KEY": "live_callback_key",
    "RTC_LIVE_CALLBACK_KEYS": "live_callback_keys",
    "RTC_CALLBACK_READ_MAX_SKEW": "read_max_skew",
    "RTC_ZEGO_CALLBACK_MAX_AGE": "zego_callback_max_age",
    "RTC_CALLBACK_RETENTION_DAYS": "retention_days",
    "RTC_INVENTORY_RETENTION_DAYS": "inventory_retention_days",
    "RTC_TRTC_CALLBACK_SDK_APP_IDS": "trtc_callback_sdk_app_ids",
    "RTC_CALLBACK_MAX_BODY_BYTES": "max_body_bytes",
    "RTC_CALLBACK_STORE_SCHEMA": "store_schema",
    "RTC_CALLBACK_STORE_POOL_SIZE": "store_pool_size",
    "RTC_CALLBACK_STORE_TIMEOUT": "store_timeout",
    "RTC_CALLBACK_SQLITE_SYNCHRONOUS": "sqlite_synchronous",
}
#: the Airflow connection of a shared PostgreSQL store (its URL becomes ``RTC_CALLBACK_STORE_URL``)
STORE_CONN_OPTION = "store_conn_id"
#: the options holding callback keys: any one set makes ``enabled = auto`` mount the receiver
KEY_OPTIONS = (
    "trtc_callback_key",
    "trtc_callback_keys",
    "zego_callback_secret",
    "zego_callback_secrets",
    "live_callback_key",
    "live_callback_keys",
)
ENABLED_VALUES = {
    "auto": None,
    "true": True,
    "yes": True,
    "on": True,
    "1": True,
    "false": False,
    "no": False,
    "off": False,
    "0": False,
}


def parse_enabled(value: str | None) -> bool | None:
    """``[rtc_callbacks] enabled``: True, False, or None for ``auto`` (mount when a key is configured)."""
    text = (value or "auto").strip().lower()
    if text not in ENABLED_VALUES:
        raise ValueError(f"[{SECTION}] enabled must be true, false or auto, got {value!r}")
    return ENABLED_VALUES[text]


def _option(description: str, type_: str, default: str | None, example: str | None, **more: Any) -> dict:
    return {
        "description": description,
        "version_added": "0.2.0",
        "type": type_,
        "example": example,
        "default": default,
        **more,
    }


def _key(description: str, example: str) -> dict:
    return _option(description, "string", None, example, sensitive=True)


SECTION_SPEC: dict[str, Any] = {
    "description": "airflow-provider-rtc: the callback receiver mounted in the API server at /rtc-callbacks "
    "(RtcCallbacksPlugin). Each option falls back to the receiver's RTC_* environment variable "
    "(see rtc-callback-receiver).",
    "options": {
        "enabled": _option(
            "Mount the receiver in the API server: true, false, or auto (mount only when a callback key "
            "below, or its RTC_* environment variable, is set). Unmounted, it creates no file and logs "
            "nothing.",
            "string",
            "auto",
            "true",
        ),
        "db_path": _option(
            "SQLite file of the stored callbacks and the lifecycle inventory, shared by every API-server "
            "process (default: $AIRFLOW_HOME/rtc_callbacks.sqlite3).",
            "string",
            None,
            "/var/lib/airflow/rtc_callbacks.sqlite3",
        ),
        "sqlite_synchronous": _option(
            "SQLite store only: FULL (an acknowledged callback survives a power loss: one fsync per "
            "commit) or NORMAL (it survives the API server being killed, not the machine; about ten "
            "times the commits per second on a disk with slow fsyncs).",
            "string",
            "FULL",
            "NORMAL",
        ),
        "store_conn_id": _option(
            "Airflow connection (conn type postgres) of a PostgreSQL database holding the callback "
            "store, shared by every API-server host: set it when more than one host serves "
            "/rtc-callbacks. Unset: the SQLite file db_path (one host only). The metadata database "
            "works (the tables go to their own schema, store_schema); a dedicated database is better. "
            "Needs the postgres extra: pip install 'airflow-provider-rtc[postgres]'.",
            "string",
            None,
            "rtc_callback_store",
        ),
        "store_schema": _option(
            "PostgreSQL schema of the callback store's tables (created and migrated by the provider).",
            "string",
            "rtc_callbacks",
            "rtc_callbacks",
        ),
        "store_pool_size": _option(
            "PostgreSQL connections per API-server process for the callback store.",
            "integer",
            "10",
            "20",
        ),
        "store_timeout": _option(
            "Seconds the PostgreSQL callback store may take to connect, per statement and per lock "
            "(a callback it cannot store in time is answered 503: the clouds retry).",
            "float",
            "10",
            "5",
        ),
        "trtc_callback_key": _key(
            "TRTC recording-callback key for every SDKAppID without its own key.", "your-trtc-callback-key"
        ),
        "trtc_callback_keys": _key(
            'TRTC callback keys per SDKAppID, as JSON {"<SDKAppID>": "<key>"}.',
            '{"1400000001": "key-one"}',
        ),
        "zego_callback_secret": _key(
            "ZEGOCLOUD CallbackSecret for every AppId without its own.", "your-zego-callback-secret"
        ),
        "zego_callback_secrets": _key(
            'ZEGOCLOUD CallbackSecrets per AppId, as JSON {"<AppId>": "<secret>"}.',
            '{"1234567890": "secret-one"}',
        ),
        "live_callback_key": _key(
            "Tencent Cloud Live callback key (push callbacks at /rtc-callbacks/live/callback).",
            "your-live-callback-key",
        ),
        "live_callback_keys": _key(
            'Tencent Cloud Live callback keys per account APPID, as JSON {"<APPID>": "<key>"}.',
            '{"1250000000": "key-one"}',
        ),
        "trtc_callback_sdk_app_ids": _option(
            "SDKAppIDs (JSON list or comma-separated) the default TRTC key serves; others are refused "
            "with 403, as TRTC's Sign does not cover the SdkAppId header. Unset: any, with a warning.",
            "string",
            None,
            "1400000001,1400000002",
        ),
        "read_max_skew": _option(
            "Seconds a signed read of the receiver may be away from its clock.", "float", "300", "120"
        ),
        "zego_callback_max_age": _option(
            "Seconds a ZEGO callback's signed timestamp may be away from the receiver's clock.",
            "float",
            "300",
            "120",
        ),
        "retention_days": _option(
            "Stored callbacks older than this are pruned at start and hourly (0 keeps them).",
            "float",
            "14",
            "30",
        ),
        "inventory_retention_days": _option(
            "Inventory corrections and ended items older than this are pruned at start and hourly "
            "(0 keeps them; live items never).",
            "float",
            "7",
            "3",
        ),
        "max_body_bytes": _option("Largest callback body accepted, in bytes.", "integer", "1048576", "65536"),
    },
}


def default(option: str) -> str | None:
    """The declared default of an ``[rtc_callbacks]`` option."""
    return SECTION_SPEC["options"][option]["default"]
