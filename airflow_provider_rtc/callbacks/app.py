"""The callback receiver: a Starlette ASGI app that verifies, stores and serves recording callbacks.

Routes (relative to wherever the app is mounted; one table per cloud, :func:`callback_routes`):

* ``POST /trtc/callback`` - TRTC callbacks. Verifies the ``Sign`` header (base64 HMAC-SHA256 of the
  raw body with the callback key of the ``SdkAppId`` header's application), answers 401 when it is
  missing or wrong, otherwise HTTP 200 ``{"code":0}`` as TRTC expects. The ``Sign`` does not cover
  the ``SdkAppId`` header, so a validly signed callback for an application the default key does
  not serve (``RTC_TRTC_CALLBACK_SDK_APP_IDS``, when set) is refused with 403. Cloud-recording
  events (EventGroupId 3) are stored (a re-delivery is deduplicated by the store); other groups
  are acknowledged and dropped.
* ``POST /zego/callback`` - ZEGOCLOUD callbacks (JSON or form body). Verifies ``signature`` =
  sha1 of the sorted [CallbackSecret, timestamp, nonce] (401 when missing or wrong), then - because
  that signature does not cover the body - accepts the callback only while its ``timestamp`` is
  within ``zego_max_age`` seconds of the receiver's clock (401 "stale") and only once per nonce
  (409 for a nonce reused with another body; the vendor's identical retry is a 200 duplicate). The
  nonces live in the store, so a restart or a second worker does not reopen the window.
* ``GET /trtc/{sdk_app_id}/tasks/{task_id}/events`` and ``GET /zego/{app_id}/tasks/{task_id}/events``
  - the stored events of one task, for requests signed with that application's callback key
  (:mod:`airflow_provider_rtc.callbacks.auth`); 401 for unsigned, stale or wrongly signed reads.
* ``GET /trtc/{sdk_app_id}/tasks?since=<unix seconds>&limit=<n>[&after=<task id>]`` (and
  ``/zego/...``) - the tasks whose stored events changed after ``since`` (receiver clock), in
  ``(changed_at, task_id)`` order, signed like the reads above; for event-driven watchers. With
  ``after`` it is a keyset page after the cursor ``(since, after)`` (the last row of the previous
  page), echoed back as ``"after"`` so a reader knows this receiver pages.
* ``GET /healthz`` - liveness, no data.
* Lifecycle inventory (room, user, stream, mix and recording callbacks of the three clouds, Live's
  ``POST /live/callback`` and the signed ``GET /{cloud}/{app_id}/live``): see
  :mod:`airflow_provider_rtc.callbacks.inventory_routes`.

The store is pruned at start-up and then at most hourly on a callback: events older than
``retention_days``, inventory corrections and ended items older than ``inventory_retention_days``.

Hostile input never costs more than ``max_body_bytes`` of memory (the body is counted while it
streams in, chunked or not, and refused with 413 at the limit), never reaches ``json.loads`` deeper
than :data:`~airflow_provider_rtc.callbacks.http.MAX_JSON_DEPTH`, and every malformed request is
answered 4xx, never 500 (the request kit: :mod:`~airflow_provider_rtc.callbacks.http`). Keys never
appear in responses or logs. Serve the receiver over HTTPS.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from airflow_provider_rtc.callbacks.auth import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_read
from airflow_provider_rtc.callbacks.config import ANY_APP, ReceiverConfig
from airflow_provider_rtc.callbacks.http import Malformed, error, guarded, parse_json_object, read_body
from airflow_provider_rtc.callbacks.inventory import trtc_updates, zego_updates
from airflow_provider_rtc.callbacks.inventory_routes import InventoryRoutes, inventory_routes
from airflow_provider_rtc.callbacks.lifecycle_store import LifecycleStore
from airflow_provider_rtc.callbacks.store import CallbackStore
from airflow_provider_rtc.errors import RtcValidationError
from airflow_provider_rtc.recordings import trtc as trtc_events
from airflow_provider_rtc.signing.callbacks import verify_trtc_callback, verify_zego_callback
from airflow_provider_rtc.validation import integer, lenient_int, number

log = logging.getLogger(__name__)

TRTC_RECORDING_GROUP = 3
MAX_FORM_FIELDS = 200
MAX_TASK_ID_CHARS = 1024
#: seconds between two prunings of a running receiver (each process; start-up prunes too)
PRUNE_EVERY = 3600.0
_ZEGO_SIGNATURE_FIELDS = ("signature", "nonce")


def zego_fields(body: bytes, content_type: str) -> dict[str, Any]:
    """A ZEGO callback's fields: a JSON object or a form (RTC callbacks may be either)."""
    if "json" in content_type or body.lstrip().startswith((b"{", b"[")):
        return parse_json_object(body)
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS, strict_parsing=False
        )
    except (UnicodeDecodeError, ValueError):
        raise Malformed(400, "body is neither JSON nor a form") from None
    if not pairs:
        raise Malformed(400, "body is neither JSON nor a form")
    return dict(pairs)


_as_int = lenient_int  # the package's one integer parser, lenient for what callers send


class CallbackReceiver:
    """The handlers; :func:`callback_routes` maps them to paths. ``clock`` is the ZEGO freshness clock."""

    def __init__(
        self,
        config: ReceiverConfig,
        store: CallbackStore | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._store = store
        self.clock = clock
        self.inventory = InventoryRoutes(config, self.authorize, clock=clock)
        self._next_prune = clock() + PRUNE_EVERY  # start-up pruning is open_store's

    @property
    def store(self) -> CallbackStore:
        if self._store is None:
            self._store = CallbackStore(self.config.store_location)
        return self._store

    async def body(self, request: Request) -> bytes:
        return await read_body(request, self.config.max_body_bytes)

    # -- TRTC ----------------------------------------------------------------------------------
    async def trtc_callback(self, request: Request) -> JSONResponse:
        body = await self.body(request)
        sdk_app_id = (request.headers.get("SdkAppId") or "").strip()
        refused = self.config.trtc_app_refused(sdk_app_id)
        # an application the default key does not serve: still checked against that key, so an
        # unsigned caller learns nothing about which applications are configured (401 either way)
        key = self.config.trtc_keys.get(ANY_APP) if refused else self.config.trtc_key(sdk_app_id)
        if not verify_trtc_callback(body, request.headers.get("Sign"), key or ""):
            log.warning("rejected a TRTC callback for SdkAppId %r: missing or bad Sign", sdk_app_id[:32])
            return error(401, "missing or bad Sign")
        if refused:
            # TRTC's Sign covers the body, not the SdkAppId header: a validly signed callback of
            # another application of the same key is refused rather than stored under this one
            log.warning("refused a TRTC callback for SdkAppId %r: not configured", sdk_app_id[:32])
            return error(
                403,
                "callbacks for this SdkAppId are not accepted here: give it its own key or list it in "
                "RTC_TRTC_CALLBACK_SDK_APP_IDS",
            )
        if not (sdk_app_id.isascii() and sdk_app_id.isdigit()):
            return error(400, "missing SdkAppId header")
        event = parse_json_object(body)
        await self.inventory.record("trtc", sdk_app_id, trtc_updates(event))
        await self.maybe_prune()
        info = trtc_events.event_info(event)
        task_id = str(info.get("TaskId") or "")
        etype = trtc_events.event_type(event)
        if event.get("EventGroupId") not in (TRTC_RECORDING_GROUP, str(TRTC_RECORDING_GROUP)) or not task_id:
            log.debug(
                "acknowledged TRTC callback group %r type %r (not stored)", event.get("EventGroupId"), etype
            )
            return JSONResponse({"code": 0})
        if etype is None:
            return error(400, "EventType missing")
        outcome = await run_in_threadpool(
            self.store.put,
            cloud="trtc",
            app_id=sdk_app_id,
            task_id=task_id,
            event_type=etype,
            file_key=trtc_events.event_file_key(event),
            status=trtc_events.event_status(event),
            event_ms=trtc_events.event_time_ms(event),
            body=event,
        )
        log.debug(
            "TRTC %s %s for task %s (status %s): %s",
            etype,
            trtc_events.EVENT_NAMES.get(etype, "event"),
            task_id,
            trtc_events.event_status(event),
            outcome,
        )
        return JSONResponse({"code": 0})

    # -- ZEGO ----------------------------------------------------------------------------------
    async def zego_callback(self, request: Request) -> JSONResponse:
        body = await self.body(request)
        event = zego_fields(body, request.headers.get("content-type", ""))
        app_id = str(event.get("app_id") or event.get("appid") or "").strip()
        secret = self.config.zego_secret(app_id)
        timestamp, nonce = event.get("timestamp"), event.get("nonce")
        if not verify_zego_callback(secret or "", timestamp, nonce, event.get("signature")):
            log.warning("rejected a ZEGO callback for AppId %r: missing or bad signature", app_id[:32])
            return error(401, "missing or bad signature")
        sent = _as_int(str(timestamp).strip())
        max_age = self.config.zego_max_age
        if sent is None or abs(self.clock() - sent) > max_age:
            log.warning("rejected a stale ZEGO callback for AppId %r (timestamp %r)", app_id[:32], timestamp)
            return error(
                401, f"stale callback: timestamp is more than {int(max_age)} s from the receiver's clock"
            )
        seen = await run_in_threadpool(
            self.store.claim_nonce,
            cloud="zego",
            app_id=app_id,
            nonce=str(nonce),
            timestamp=str(timestamp).strip(),
            body=body,
            keep_seconds=2 * max_age,
            now=self.clock(),
        )
        if seen == "replay":
            log.warning("rejected a replayed ZEGO callback for AppId %r: nonce already used", app_id[:32])
            return error(409, "nonce already used by another callback")
        return await self._store_zego(event, app_id, sent)

    async def _store_zego(self, event: dict[str, Any], app_id: str, sent: int) -> JSONResponse:
        await self.inventory.record("zego", app_id, zego_updates(event, app_id))
        await self.maybe_prune()
        task_id = str(event.get("task_id") or "")
        if ":" in task_id and task_id.split(":", 1)[0] == app_id:  # mix callbacks say "appid:taskid"
            task_id = task_id.split(":", 1)[1]
        etype = event.get("event_type", event.get("event"))
        if not task_id or etype in (None, "") or not app_id:
            log.debug("acknowledged ZEGO callback %r (no task, not stored)", etype)
            return JSONResponse({"code": 0})
        stored = {k: v for k, v in event.items() if k not in _ZEGO_SIGNATURE_FIELDS}
        detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
        sequence = event.get("sequence")
        outcome = await run_in_threadpool(
            self.store.put,
            cloud="zego",
            app_id=app_id,
            task_id=task_id,
            event_type=str(etype),
            file_key="" if sequence in (None, "") else f"seq:{sequence}",
            status=_as_int(detail.get("upload_status")) if detail else None,
            event_ms=sent * 1000,
            body=stored,
        )
        log.debug("ZEGO %s for task %s: %s", etype, task_id, outcome)
        return JSONResponse({"code": 0})

    # -- pruning -------------------------------------------------------------------------------
    async def maybe_prune(self) -> None:
        """At most once per :data:`PRUNE_EVERY` seconds (and per process), on a stored callback:
        a receiver that runs for weeks keeps its store to the retention, not only at start-up."""
        now = self.clock()
        if now < self._next_prune:
            return
        self._next_prune = now + PRUNE_EVERY
        try:
            await run_in_threadpool(prune_stores, self.config, self.store, self.inventory.store, now=now)
        except sqlite3.Error as err:  # a busy store: the next round prunes; never fail a callback
            log.warning("could not prune the callback store (%s); trying again later", type(err).__name__)

    # -- reads ---------------------------------------------------------------------------------
    def _read_denied(self, request: Request, cloud: str, app_id: str, what: str) -> JSONResponse | None:
        """``None`` when the read is signed with the application's callback key, else the 401."""
        reason = self.authorize(request, self.config.key_for(cloud, app_id))
        if reason:
            log.warning("rejected a read of %s %s: %s", cloud, what, reason)
            return error(401, reason)
        return None

    async def read_events(self, request: Request) -> JSONResponse:
        cloud = request.path_params["cloud"]
        if cloud not in ("trtc", "zego"):
            return error(404, "unknown cloud: use trtc or zego")
        app_id = request.path_params["app_id"]
        task_id = request.path_params["task_id"]
        denied = self._read_denied(request, cloud, app_id, f"task {task_id[:64]!r}")
        if denied is not None:
            return denied
        events = await run_in_threadpool(self.store.events, cloud, app_id, task_id)
        return JSONResponse(
            {
                "cloud": cloud,
                "app_id": app_id,
                "task_id": task_id,
                "server_time": time.time(),
                "events": [e.as_dict() for e in events],
            }
        )

    async def read_changes(self, request: Request) -> JSONResponse:
        cloud = request.path_params["cloud"]
        if cloud not in ("trtc", "zego"):
            return error(404, "unknown cloud: use trtc or zego")
        app_id = request.path_params["app_id"]
        try:
            since = number(request.query_params.get("since", "0"), "since", minimum=0) or 0.0
            limit = integer(request.query_params.get("limit", "500"), "limit", minimum=1, maximum=5000) or 500
        except RtcValidationError as err:
            return error(400, str(err))
        after = request.query_params.get("after")
        if after is not None and len(after) > MAX_TASK_ID_CHARS:
            return error(400, f"after: a task id of at most {MAX_TASK_ID_CHARS} characters")
        denied = self._read_denied(request, cloud, app_id, "task changes")
        if denied is not None:
            return denied
        server_time = time.time()
        tasks = await run_in_threadpool(
            self.store.changed_tasks, cloud, app_id, since, limit=limit, after_id=after
        )
        answer: dict[str, Any] = {
            "cloud": cloud,
            "app_id": app_id,
            "since": since,
            "server_time": server_time,
            "tasks": tasks,
        }
        if after is not None:  # the echo tells a reader this receiver pages by (since, after)
            answer["after"] = after
        return JSONResponse(answer)

    def authorize(self, request: Request, key: str | None) -> str:
        """ "" when the request is signed with ``key`` and fresh, otherwise the reason it is not."""
        reason = "bad signature"
        for path in _signed_paths(request):
            reason = (
                verify_read(
                    key,
                    request.method,
                    path,
                    request.headers.get(TIMESTAMP_HEADER),
                    request.headers.get(SIGNATURE_HEADER),
                    max_skew=self.config.read_max_skew,
                )
                or ""
            )
            if not reason:
                break
        return reason

    async def healthz(self, request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})


def _signed_paths(request: Request) -> list[str]:
    """The path the reader signed, percent-encoded as sent (``raw_path``) or decoded, each as received
    and without the mount prefix (a proxy may strip it)."""
    query = request.url.query
    suffix = f"?{query}" if query else ""
    root = request.scope.get("root_path") or ""
    raw = request.scope.get("raw_path")
    full_paths = [raw.decode("latin-1")] if isinstance(raw, bytes) and raw else []
    full_paths.append(request.url.path)
    paths: list[str] = []
    for full in full_paths:
        for path in (full, full[len(root) :] if root and full.startswith(root) else None):
            if path and path + suffix not in paths:
                paths.append(path + suffix)
    return paths


def callback_routes(receiver: CallbackReceiver) -> dict[str, list[BaseRoute]]:
    """The routes of each cloud; other callback kinds add their own table beside these."""
    return {
        "trtc": [Route("/trtc/callback", guarded(receiver.trtc_callback), methods=["POST"])],
        "zego": [Route("/zego/callback", guarded(receiver.zego_callback), methods=["POST"])],
        "reads": [
            Route(
                "/{cloud:str}/{app_id:str}/tasks/{task_id:path}/events",
                guarded(receiver.read_events),
                methods=["GET"],
            ),
            Route("/{cloud:str}/{app_id:str}/tasks", guarded(receiver.read_changes), methods=["GET"]),
            Route("/healthz", receiver.healthz, methods=["GET"]),
        ],
        "inventory": inventory_routes(receiver.inventory, guarded),
    }


def prune_stores(
    config: ReceiverConfig,
    store: CallbackStore,
    inventory: LifecycleStore | None = None,
    *,
    now: float | None = None,
) -> dict[str, int]:
    """Delete what is older than its retention: stored events (``retention_days``) and the
    inventory's corrections and ended items (``inventory_retention_days``); 0 keeps them."""
    pruned = {"events": 0, "ended_items": 0, "corrections": 0}
    if config.retention_days > 0:
        pruned["events"] = store.prune(config.retention_days * 86400, now=now)
    if config.inventory_retention_days > 0:
        inventory = inventory or LifecycleStore(config.store_location)
        items, corrections = inventory.prune(config.inventory_retention_days * 86400, now=now)
        pruned.update(ended_items=items, corrections=corrections)
    if any(pruned.values()):
        log.info(
            "pruned %d stored event(s) older than %s days, %d ended inventory item(s) and %d "
            "correction(s) older than %s days",
            pruned["events"],
            config.retention_days,
            pruned["ended_items"],
            pruned["corrections"],
            config.inventory_retention_days,
        )
    return pruned


def open_store(config: ReceiverConfig) -> CallbackStore:
    """The store, with what is older than the retentions pruned (CLI and plugin alike)."""
    store = CallbackStore(config.store_location)
    prune_stores(config, store)
    return store


def create_app(
    config: ReceiverConfig | None = None,
    *,
    store: CallbackStore | None = None,
    clock: Callable[[], float] = time.time,
    extra_routes: Sequence[BaseRoute] = (),
    warn_without_keys: bool = True,
) -> Starlette:
    """Build the receiver. ``config`` defaults to :meth:`ReceiverConfig.from_env`; the plugin, which
    says how to configure a key itself, passes ``warn_without_keys=False``."""
    receiver = CallbackReceiver(config or ReceiverConfig.from_env(), store, clock=clock)
    if warn_without_keys and not receiver.config.has_keys:
        log.warning("RTC callback receiver has no callback key: every callback and read will be rejected")
    for note in receiver.config.warnings():
        log.warning("RTC callback receiver: %s", note)
    routes = [route for table in callback_routes(receiver).values() for route in table]
    app = Starlette(routes=[*routes, *extra_routes])
    app.state.receiver = receiver
    return app
