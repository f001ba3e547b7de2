"""Airflow 3 plugin: the RTC callback receiver inside the API server, at ``/rtc-callbacks``.

The TRTC console's callback URL becomes ``https://<airflow>/rtc-callbacks/trtc/callback`` (ZEGO:
``/rtc-callbacks/zego/callback``) and sensors read from ``callback_receiver_url =
https://<airflow>/rtc-callbacks``. Settings come from the ``[rtc_callbacks]`` Airflow config section
(so ``AIRFLOW__RTC_CALLBACKS__TRTC_CALLBACK_KEY``, ``..._SECRET`` and ``_cmd`` variants all work),
falling back to the receiver's own environment variables:

* ``db_path`` (default ``$AIRFLOW_HOME/rtc_callbacks.sqlite3``; every API-server process shares it)
* ``trtc_callback_key`` / ``trtc_callback_keys`` (JSON ``{"<SDKAppID>": key}``)
* ``zego_callback_secret`` / ``zego_callback_secrets`` (JSON ``{"<AppId>": secret}``)
* ``read_max_skew`` (seconds, default 300)

Importing this module is cheap: the Starlette app is built on the first request, so Airflow
processes that load plugins (workers, the DAG processor) pay nothing for it.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/rtc-callbacks"
SECTION = "rtc_callbacks"


def _conf_value(name: str) -> str | None:
    try:
        from airflow.providers.common.compat.sdk import conf

        value = conf.get(SECTION, name, fallback=None)
    except Exception:
        value = None
    return value or None


def receiver_config() -> Any:
    """The receiver settings from ``[rtc_callbacks]``, then ``RTC_*`` environment variables."""
    from airflow_provider_rtc.callbacks.config import ReceiverConfig

    env = dict(os.environ)
    mapping = {
        "RTC_CALLBACK_DB": "db_path",
        "RTC_TRTC_CALLBACK_KEY": "trtc_callback_key",
        "RTC_TRTC_CALLBACK_KEYS": "trtc_callback_keys",
        "RTC_ZEGO_CALLBACK_SECRET": "zego_callback_secret",
        "RTC_ZEGO_CALLBACK_SECRETS": "zego_callback_secrets",
        "RTC_CALLBACK_READ_MAX_SKEW": "read_max_skew",
    }
    for env_name, option in mapping.items():
        value = _conf_value(option)
        if value:
            env[env_name] = value
    if not env.get("RTC_CALLBACK_DB"):
        home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
        env["RTC_CALLBACK_DB"] = os.path.join(home, "rtc_callbacks.sqlite3")
    return ReceiverConfig.from_mapping(env)


class LazyReceiverApp:
    """An ASGI app that builds the real receiver on first use (thread-safe, once)."""

    def __init__(self) -> None:
        self._app: Any = None
        self._lock = threading.Lock()

    def _build(self) -> Any:
        with self._lock:
            if self._app is None:
                from airflow_provider_rtc.callbacks.app import create_app

                self._app = create_app(receiver_config())
        return self._app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        app = self._app or self._build()
        await app(scope, receive, send)


receiver_app = LazyReceiverApp()


class RtcCallbacksPlugin(AirflowPlugin):
    """Mounts the RTC callback receiver in the Airflow 3 API server."""

    name = "rtc_callbacks"
    fastapi_apps = [
        {"app": receiver_app, "url_prefix": URL_PREFIX, "name": "RTC callback receiver"},
    ]
