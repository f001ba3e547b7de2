"""Reading a task's stored callbacks from the receiver: signed GETs, sync (poke) and async (triggers).

Where the receiver is and which secret signs the read come from the sensor's arguments or from the
connection extras ``callback_receiver_url`` (the receiver's URL, with the path prefix it is mounted
at, e.g. ``http://airflow:8080/rtc-callbacks``) and ``callback_secret`` (a name Airflow masks in its
API and UI; the older ``callback_key`` is still read, with a DeprecationWarning). The secret is
registered with Airflow's masker, never logged, never put in a trigger's kwargs (triggers re-read it
from the connection with the async API) and never in an error text.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from airflow_provider_rtc.callbacks.auth import sign_read
from airflow_provider_rtc.exceptions import (
    RtcApiError,
    RtcAuthError,
    RtcError,
    RtcTransientError,
    RtcValidationError,
)
from airflow_provider_rtc.hooks.settings import extra_value
from airflow_provider_rtc.validation import receiver_url, secret_key

if TYPE_CHECKING:
    import httpx

CLOUD = "RTC callback receiver"
ACTION = "ReadCallbacks"
URL_EXTRA = "callback_receiver_url"
SECRET_EXTRA = "callback_secret"  # noqa: S105 - the extra's name, not a secret
DEPRECATED_KEY_EXTRA = "callback_key"
DEFAULT_TIMEOUT = (5.0, 15.0)


@dataclass(frozen=True)
class ReceiverTarget:
    """Where to read callbacks and the key that signs reads (hidden from ``repr``)."""

    url: str
    key: str = field(repr=False)

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    def events_path(self, cloud: str, app_id: int | str, task_id: str) -> str:
        base = urlsplit(self.url).path.rstrip("/")
        return f"{base}/{cloud}/{quote(str(app_id), safe='')}/tasks/{quote(task_id, safe='')}/events"

    def events_url(self, cloud: str, app_id: int | str, task_id: str) -> tuple[str, str]:
        parts = urlsplit(self.url)
        path = self.events_path(cloud, app_id, task_id)
        return f"{parts.scheme}://{parts.netloc}{path}", path


def _mask(secret: str) -> None:
    try:
        from airflow.providers.common.compat.sdk import mask_secret

        mask_secret(secret)
    except Exception:  # noqa: S110 - masking is best effort outside a task
        pass


async def _amask(secret: str) -> None:
    """Async masking for the triggerer: never a blocking send to the supervisor in the event loop."""
    try:
        from airflow.sdk.log import amask_secret

        await amask_secret(secret)
    except Exception:  # noqa: S110 - older Airflow or outside a task: the key is simply not logged
        pass


def resolve_target(
    extra: dict[str, Any] | None,
    *,
    url: str | None = None,
    key: str | None = None,
    conn_type: str = "tencentcloud",
    mask: bool = True,
) -> ReceiverTarget:
    """Arguments win over connection extras; a missing URL or secret is a configuration error."""
    extra = extra or {}
    raw_url = url or extra_value(extra, conn_type, URL_EXTRA)
    raw_key = key or connection_secret(extra, conn_type)
    if not raw_url:
        # says which connection lacks it: a ZEGO-only discovery once got TRTC's recording advice
        raise RtcValidationError(URL_EXTRA, _no_receiver_message(conn_type))
    if not raw_key:
        raise RtcValidationError(
            SECRET_EXTRA,
            "reading stored callbacks is signed with the callback key: set the connection extra "
            "'callback_secret' (or pass callback_key= in a non-deferrable task)",
        )
    key_text = secret_key(raw_key, SECRET_EXTRA)  # a whitespace-only key would sign with nothing
    if mask:
        _mask(key_text)
    return ReceiverTarget(url=receiver_url(raw_url, URL_EXTRA), key=key_text)


#: why each connection type needs the receiver (what reaches the provider only through callbacks)
_RECEIVER_NEEDED = {
    "tencentcloud": "TRTC reports upload completion only through recording callbacks, and the event "
    "inventory of TRTC rooms and Live streams is built from TRTC and Live callbacks",
    "zegocloud": "the event inventory of ZEGOCLOUD rooms, streams, mixes and recordings is built from "
    "ZEGOCLOUD callbacks",
}


def _no_receiver_message(conn_type: str) -> str:
    why = _RECEIVER_NEEDED.get(conn_type, "this step reads callbacks stored by the receiver")
    return (
        f"{why}: run the provider's callback receiver and pass callback_receiver_url= or set the "
        f"{conn_type} connection extra 'callback_receiver_url'"
    )


def connection_secret(extra: dict[str, Any], conn_type: str) -> Any:
    """``callback_secret``, else the deprecated ``callback_key`` (with a DeprecationWarning)."""
    value = extra_value(extra, conn_type, SECRET_EXTRA)
    if value in (None, ""):
        value = extra_value(extra, conn_type, DEPRECATED_KEY_EXTRA)
        if value not in (None, ""):
            warnings.warn(
                f"the {conn_type} connection extra 'callback_key' is deprecated: rename it to "
                "'callback_secret', a name Airflow masks in its API and UI",
                DeprecationWarning,
                stacklevel=3,
            )
    return value


def target_for_connection(
    conn_id: str, *, url: str | None = None, key: str | None = None, conn_type: str = "tencentcloud"
) -> ReceiverTarget:
    """Sync: for ``poke()`` and operators on a worker."""
    extra: dict[str, Any] = {}
    if not (url and key):
        from airflow.providers.common.compat.sdk import BaseHook

        extra = BaseHook.get_connection(conn_id).extra_dejson
    return resolve_target(extra, url=url, key=key, conn_type=conn_type)


async def atarget_for_connection(
    conn_id: str, *, url: str | None = None, conn_type: str = "tencentcloud"
) -> ReceiverTarget:
    """Async, for triggers: the secret is always read from the connection, never passed in."""
    from airflow.providers.common.compat.connection import get_async_connection, get_async_extra_dejson

    conn = await get_async_connection(conn_id)
    extra = await get_async_extra_dejson(conn)
    target = resolve_target(extra, url=url, mask=False, conn_type=conn_type)
    await _amask(target.key)
    return target


def receiver_answer(
    status: int, content: bytes, host: str, *, action: str = ACTION, what: str = "read", hint: str = ""
) -> dict[str, Any]:
    """The JSON object of a receiver's answer, or the error its status means: 401/403 auth (the key or
    the clock), 429/5xx transient, anything else not 200 + object unexpected (``hint``: what to check).
    The one mapping for every signed request to the receiver (events, changed tasks, inventory)."""
    reason = ""
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        reason = data["message"][:200]
    if status in (401, 403):
        raise RtcAuthError(
            f"the receiver at {host} rejected the signed {what} ({reason or status}); check that "
            "callback_secret is the key the receiver uses for this application and that clocks agree",
            cloud=CLOUD,
            action=action,
            http_status=status,
        )
    if status == 429 or status >= 500:
        raise RtcTransientError(
            f"the receiver at {host} answered HTTP {status}", cloud=CLOUD, action=action, http_status=status
        )
    if status != 200 or not isinstance(data, dict):
        raise RtcApiError(
            f"unexpected answer from the receiver at {host} (HTTP {status}{': ' + reason if reason else ''})"
            f"{hint}",
            cloud=CLOUD,
            action=action,
            http_status=status,
        )
    return data


_PREFIX_HINT = (
    "; is callback_receiver_url the receiver's URL, with the path prefix it is mounted at "
    "(e.g. /rtc-callbacks for the Airflow plugin)?"
)


def _parse(status: int, content: bytes, host: str) -> list[dict[str, Any]]:
    data = receiver_answer(status, content, host, hint=_PREFIX_HINT)
    if not isinstance(data.get("events"), list):
        raise RtcApiError(
            f"unexpected answer from the receiver at {host} (no events){_PREFIX_HINT}",
            cloud=CLOUD,
            action=ACTION,
        )
    return [e for e in data["events"] if isinstance(e, dict)]


def _network_error(exc: BaseException, host: str) -> RtcError:
    return RtcTransientError(
        f"could not read callbacks from {host} ({type(exc).__name__})", cloud=CLOUD, action=ACTION
    )


def fetch_events(
    target: ReceiverTarget,
    cloud: str,
    app_id: int | str,
    task_id: str,
    *,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
) -> list[dict[str, Any]]:
    """Sync read of one task's stored events (one attempt; callers poll again on transient errors)."""
    import httpx

    url, path = target.events_url(cloud, app_id, task_id)
    try:
        with httpx.Client(
            timeout=httpx.Timeout(timeout[1], connect=timeout[0]), follow_redirects=False
        ) as http:
            resp = http.get(url, headers=sign_read(target.key, path))
    except httpx.HTTPError as exc:
        raise _network_error(exc, target.host) from None
    return _parse(resp.status_code, resp.content, target.host)


async def afetch_events(
    target: ReceiverTarget,
    cloud: str,
    app_id: int | str,
    task_id: str,
    *,
    client: httpx.AsyncClient,
) -> list[dict[str, Any]]:
    """Async read of one task's stored events through a shared ``httpx.AsyncClient``."""
    import httpx

    url, path = target.events_url(cloud, app_id, task_id)
    try:
        resp = await client.get(url, headers=sign_read(target.key, path))
    except httpx.HTTPError as exc:
        raise _network_error(exc, target.host) from None
    return _parse(resp.status_code, resp.content, target.host)


@dataclass(frozen=True)
class ChangedPage:
    """One page of ``GET .../tasks``: the tasks, the receiver's time, and whether the receiver
    understood the ``after`` cursor (an older receiver ignores it and answers the first page)."""

    tasks: list[dict[str, Any]]
    server_time: float
    keyset: bool


async def afetch_changed_page(
    target: ReceiverTarget,
    cloud: str,
    app_id: int | str,
    since: float,
    *,
    client: httpx.AsyncClient,
    limit: int = 500,
    after: str | None = None,
) -> ChangedPage:
    """Tasks whose stored events changed after ``since`` (receiver clock), or - with ``after`` - the
    page after the cursor ``(since, after)``, in ``(changed_at, task_id)`` order."""
    import httpx

    parts = urlsplit(target.url)
    query = f"since={since!r}&limit={limit}"
    if after is not None:
        query += f"&after={quote(after, safe='')}"
    path = f"{parts.path.rstrip('/')}/{cloud}/{quote(str(app_id), safe='')}/tasks?{query}"
    try:
        resp = await client.get(f"{parts.scheme}://{parts.netloc}{path}", headers=sign_read(target.key, path))
    except httpx.HTTPError as exc:
        raise _network_error(exc, target.host) from None
    data = receiver_answer(resp.status_code, resp.content, target.host, hint=_PREFIX_HINT)
    if not isinstance(data.get("tasks"), list):
        raise RtcApiError(
            f"unexpected answer from the receiver at {target.host} (no tasks)", cloud=CLOUD, action=ACTION
        )
    tasks = [t for t in data["tasks"] if isinstance(t, dict) and t.get("task_id")]
    keyset = after is not None and data.get("after") == after
    return ChangedPage(tasks, float(data.get("server_time") or 0.0), keyset)
