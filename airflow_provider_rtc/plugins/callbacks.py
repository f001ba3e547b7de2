"""Airflow 3 plugin: the RTC callback receiver inside the API server, at ``/rtc-callbacks``, and the
provider's page at ``/rtc/`` ("RTC" in the UI's nav on 3.1+; :mod:`.ui_page`), which reads the
receiver's inventory.

The TRTC console's callback URL becomes ``https://<airflow>/rtc-callbacks/trtc/callback`` (ZEGO:
``/rtc-callbacks/zego/callback``) and sensors read from ``callback_receiver_url =
https://<airflow>/rtc-callbacks``. Settings come from the ``[rtc_callbacks]`` Airflow config section
(so ``AIRFLOW__RTC_CALLBACKS__TRTC_CALLBACK_KEY``, ``..._SECRET`` and ``_cmd`` variants all work),
falling back to the receiver's own environment variables (every option is declared, with its default,
in :mod:`~airflow_provider_rtc.plugins.options`, so ``airflow config list`` shows them):

* ``enabled`` (``true``, ``false`` or ``auto``, the default: mount only when a callback key is
  configured, here or in the ``RTC_*`` variables, so an API server that never asked for the receiver
  gets no SQLite file and no warning; ``true`` with no key warns once at start)
* ``db_path`` (default ``$AIRFLOW_HOME/rtc_callbacks.sqlite3``; every API-server process of one
  host shares it)
* ``store_conn_id`` (an Airflow ``postgres`` connection: the store is that database, shared by every
  API-server host; ``store_schema``, ``store_pool_size``, ``store_timeout``; docs/callback-store.md)
* ``sqlite_synchronous`` (``FULL``, the default, or ``NORMAL``: the SQLite file's commit sync)
* ``trtc_callback_key`` / ``trtc_callback_keys`` (JSON ``{"<SDKAppID>": key}``)
* ``zego_callback_secret`` / ``zego_callback_secrets`` (JSON ``{"<AppId>": secret}``)
* ``live_callback_key`` / ``live_callback_keys`` (JSON ``{"<APPID>": key}``; Live push callbacks at
  ``/rtc-callbacks/live/callback``)
* ``read_max_skew`` (seconds, default 300)
* ``zego_callback_max_age`` (seconds a ZEGO callback's timestamp may be off, default 300)
* ``trtc_callback_sdk_app_ids`` (the SDKAppIDs the default TRTC key serves, JSON list or
  comma-separated; others are refused with 403, as TRTC's ``Sign`` does not cover ``SdkAppId``.
  Unset: any SDKAppID, with a warning at start)
* ``retention_days`` (stored events older than this are pruned at start and hourly, default 14)
* ``inventory_retention_days`` (inventory corrections and ended items older than this are pruned at
  start and hourly, default 7; live items never)
* ``max_body_bytes`` (largest callback body, default 1 MiB)

Importing this module is cheap. In the API server the receiver starts when the plugin loads (so a
missing key is a WARNING and a blank key an ERROR in the API server's log at start, and old events
are pruned as the CLI does); elsewhere it is built on the first request, so processes that load
plugins but serve nothing (workers, the DAG processor) pay nothing for it. A configuration the
receiver refuses (e.g. a key with surrounding whitespace) makes it answer 503 with the reason.
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import sys
import threading
import time
from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_rtc.plugins.options import (
    ENV_OPTIONS,
    KEY_OPTIONS,
    SECTION,
    STORE_CONN_OPTION,
    default,
    parse_enabled,
)
from airflow_provider_rtc.plugins.ui_page import (
    URL_PREFIX as UI_URL_PREFIX,
)
from airflow_provider_rtc.plugins.ui_page import (
    InventoryUnavailable,
    LazyUiApp,
    Sources,
    external_views,
)

URL_PREFIX = "/rtc-callbacks"
#: seconds before a receiver whose store could not be opened tries again
STORE_RETRY_SECONDS = 10.0
API_SERVER_MODULE = "airflow.api_fastapi.app"

log = logging.getLogger(__name__)


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
    for env_name, option in ENV_OPTIONS.items():
        value = _conf_value(option)
        # a declared default (Airflow returns it for an unset option) must not hide RTC_* variables
        if value and (value != default(option) or not env.get(env_name)):
            env[env_name] = value
    if not env.get("RTC_CALLBACK_DB"):
        home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
        env["RTC_CALLBACK_DB"] = os.path.join(home, "rtc_callbacks.sqlite3")
    conn_id = _conf_value(STORE_CONN_OPTION)
    if conn_id:
        env["RTC_CALLBACK_STORE_URL"] = store_url(conn_id.strip())
    return ReceiverConfig.from_mapping(env)


def store_url(conn_id: str) -> str:
    """The ``postgresql://`` URL of the store's Airflow connection; ``ValueError`` (no secret in it)
    when it is missing or not a PostgreSQL connection."""
    from airflow_provider_rtc.callbacks.store_pg import connection_url

    try:
        from airflow.providers.common.compat.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
    except Exception as err:  # not found, a secrets backend down: the reason, never a value
        raise ValueError(
            f"[{SECTION}] {STORE_CONN_OPTION} = {conn_id!r}: the connection could not be read "
            f"({type(err).__name__})"
        ) from None
    if (conn.conn_type or "").lower() not in ("postgres", "postgresql"):
        raise ValueError(
            f"[{SECTION}] {STORE_CONN_OPTION} = {conn_id!r} is a {conn.conn_type!r} connection; "
            "the callback store needs a postgres one"
        )
    return connection_url(
        host=conn.host,
        port=conn.port,
        login=conn.login,
        password=conn.password,
        database=conn.schema,
        extra=conn.extra_dejson,
    )


def mount_wanted() -> bool:
    """``[rtc_callbacks] enabled``; ``auto``: only when a callback key is configured (option or env)."""
    enabled = parse_enabled(_conf_value("enabled"))
    if enabled is not None:
        return enabled
    env_of = {option: env_name for env_name, option in ENV_OPTIONS.items()}
    return any(_conf_value(option) or os.environ.get(env_of[option]) for option in KEY_OPTIONS)


class LazyReceiverApp:
    """An ASGI app that builds the real receiver once (thread-safe), at start or on first use."""

    def __init__(self) -> None:
        self._app: Any = None
        self._lock = threading.Lock()

    def start(self) -> Any:
        """Build the receiver: refuse a bad configuration, warn without keys, prune old events.
        A store that could not be opened (the database down) is tried again after
        :data:`STORE_RETRY_SECONDS`, on a request: the API server need not restart."""
        with self._lock:
            if self._app is None or (
                isinstance(self._app, _Refused) and self._app.retry_at <= time.monotonic()
            ):
                self._app = self._build()
        return self._app

    @staticmethod
    def _build() -> Any:
        from airflow_provider_rtc.callbacks.app import create_app, open_store

        try:
            config = receiver_config()
        except ValueError as err:
            log.error("RTC callback receiver refused its configuration: %s; answering 503", err)
            return _Refused(str(err))
        if not config.has_keys:
            log.warning(
                "RTC callback receiver at %s has no callback key configured ([%s] trtc_callback_key / "
                "zego_callback_secret): every callback and read will be rejected",
                URL_PREFIX,
                SECTION,
            )
        try:
            store = open_store(config)
        except (ImportError, OSError, sqlite3.Error) as err:  # no driver, the database unreachable
            log.error(
                "RTC callback receiver cannot open its store (%s): %s; answering 503, retrying in %g s",
                config.describe_store(),
                err,
                STORE_RETRY_SECONDS,
            )
            return _Refused(f"callback store unavailable: {err}", retry_after=STORE_RETRY_SECONDS)
        log.info("RTC callback receiver at %s stores callbacks in %s", URL_PREFIX, config.describe_store())
        # create_app's own "no key" warning would repeat this one
        return create_app(config, store=store, warn_without_keys=False)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        app = self._app
        if app is None or (isinstance(app, _Refused) and app.retry_at <= time.monotonic()):
            app = self.start()
        await app(scope, receive, send)


class _Refused:
    """What the receiver serves when its configuration or store was refused: 503 and the reason
    (no secret); ``retry_after``: seconds until the receiver is built again (a store down)."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        self.reason = reason
        self.retry_at = math.inf if retry_after is None else time.monotonic() + retry_after

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        from starlette.responses import JSONResponse

        if scope.get("type") != "http":
            return
        body = {"code": 503, "message": f"RTC callback receiver unavailable: {self.reason}"}
        await JSONResponse(body, status_code=503)(scope, receive, send)


receiver_app = LazyReceiverApp()


class _InventoryStore:
    """The lifecycle store the page reads: the receiver's own (same file or database), opened once."""

    def __init__(self) -> None:
        self._store: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        if not mount_wanted():
            raise InventoryUnavailable(
                f"the callback receiver is not enabled ([{SECTION}] enabled / a callback key): "
                "no lifecycle inventory to show"
            )
        with self._lock:
            if self._store is None:
                from airflow_provider_rtc.callbacks.lifecycle_store import LifecycleStore

                self._store = LifecycleStore(receiver_config().store_location)
            return self._store


ui_app = LazyUiApp(lambda: Sources(store=_InventoryStore()))


def _app_entry() -> dict[str, Any]:
    return {"app": receiver_app, "url_prefix": URL_PREFIX, "name": "RTC callback receiver"}


def _ui_entry() -> dict[str, Any]:
    return {"app": ui_app, "url_prefix": UI_URL_PREFIX, "name": "RTC page"}


class RtcCallbacksPlugin(AirflowPlugin):
    """Mounts the RTC callback receiver in the Airflow 3 API server (``[rtc_callbacks] enabled``) and
    the provider's page at ``/rtc/`` (always; "RTC" in the UI's nav on Airflow >= 3.1: :mod:`.ui_page`)."""

    name = "rtc_callbacks"
    fastapi_apps = [_app_entry(), _ui_entry()]
    external_views = external_views()

    @classmethod
    def on_load(cls, *args: Any, **kwargs: Any) -> None:
        """Decide whether to mount (Airflow reads ``fastapi_apps`` after this); in the API server
        (which loads plugins to mount them), start the receiver now."""
        if not mount_wanted():
            cls.fastapi_apps = [_ui_entry()]
            log.debug("RTC callback receiver not mounted ([%s] enabled, no callback key)", SECTION)
            return
        cls.fastapi_apps = [_app_entry(), _ui_entry()]
        if API_SERVER_MODULE in sys.modules:
            receiver_app.start()
