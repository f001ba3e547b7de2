"""The callback receiver: a Starlette ASGI app that verifies, stores and serves recording callbacks.

Routes (relative to wherever the app is mounted):

* ``POST /trtc/callback`` - TRTC callbacks. Verifies the ``Sign`` header (base64 HMAC-SHA256 of the
  raw body with the callback key of the ``SdkAppId`` header's application), answers 401 when it is
  missing or wrong, otherwise HTTP 200 ``{"code":0}`` as TRTC expects. Cloud-recording events
  (EventGroupId 3) are stored; other groups are acknowledged and dropped.
* ``POST /zego/callback`` - ZEGOCLOUD callbacks (JSON or form body). Verifies ``signature`` =
  sha1 of the sorted [CallbackSecret, timestamp, nonce]; 401 when missing or wrong, otherwise 200.
  Events naming a task (``task_id``) are stored.
* ``GET /trtc/{sdk_app_id}/tasks/{task_id}/events`` and ``GET /zego/{app_id}/tasks/{task_id}/events``
  - the stored events of one task, for requests signed with that application's callback key
  (:mod:`airflow_provider_rtc.callbacks.auth`); 401 for unsigned, stale or wrongly signed reads.
* ``GET /healthz`` - liveness, no data.

Keys never appear in responses or logs. ZEGO's signature covers only the timestamp and nonce, not
the body (the vendor's design), so the receiver should only be reachable over HTTPS.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from airflow_provider_rtc.callbacks.auth import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_read
from airflow_provider_rtc.callbacks.config import ReceiverConfig
from airflow_provider_rtc.callbacks.store import CallbackStore
from airflow_provider_rtc.recordings import trtc as trtc_events
from airflow_provider_rtc.signing.callbacks import verify_trtc_callback, verify_zego_callback
from airflow_provider_rtc.validation import lenient_int

log = logging.getLogger(__name__)

TRTC_RECORDING_GROUP = 3
_ZEGO_SIGNATURE_FIELDS = ("signature", "nonce")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"code": status, "message": message}, status_code=status)


class _Receiver:
    def __init__(self, config: ReceiverConfig, store: CallbackStore | None = None) -> None:
        self.config = config
        self._store = store

    @property
    def store(self) -> CallbackStore:
        if self._store is None:
            self._store = CallbackStore(self.config.db_path)
        return self._store

    async def _body(self, request: Request) -> bytes | JSONResponse:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.config.max_body_bytes:
            return _error(413, "callback body too large")
        body = await request.body()
        if len(body) > self.config.max_body_bytes:
            return _error(413, "callback body too large")
        return body

    # -- TRTC ----------------------------------------------------------------------------------
    async def trtc_callback(self, request: Request) -> JSONResponse:
        body = await self._body(request)
        if isinstance(body, JSONResponse):
            return body
        sdk_app_id = (request.headers.get("SdkAppId") or "").strip()
        key = self.config.trtc_key(sdk_app_id)
        if not verify_trtc_callback(body, request.headers.get("Sign"), key or ""):
            log.warning("rejected a TRTC callback for SdkAppId %r: missing or bad Sign", sdk_app_id)
            return _error(401, "missing or bad Sign")
        if not sdk_app_id.isdigit():
            return _error(400, "missing SdkAppId header")
        try:
            event = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _error(400, "body is not JSON")
        if not isinstance(event, dict):
            return _error(400, "body is not a JSON object")
        info = trtc_events.event_info(event)
        task_id = str(info.get("TaskId") or "")
        etype = trtc_events.event_type(event)
        if event.get("EventGroupId") not in (TRTC_RECORDING_GROUP, str(TRTC_RECORDING_GROUP)) or not task_id:
            log.info(
                "acknowledged TRTC callback group %r type %r (not stored)", event.get("EventGroupId"), etype
            )
            return JSONResponse({"code": 0})
        if etype is None:
            return _error(400, "EventType missing")
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
        log.info(
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
        body = await self._body(request)
        if isinstance(body, JSONResponse):
            return body
        event = _zego_fields(body, request.headers.get("content-type", ""))
        if event is None:
            return _error(400, "body is neither JSON nor a form")
        app_id = str(event.get("app_id") or event.get("appid") or "").strip()
        secret = self.config.zego_secret(app_id)
        if not verify_zego_callback(
            secret or "", event.get("timestamp"), event.get("nonce"), event.get("signature")
        ):
            log.warning("rejected a ZEGO callback for AppId %r: missing or bad signature", app_id)
            return _error(401, "missing or bad signature")
        task_id = str(event.get("task_id") or "")
        if ":" in task_id and task_id.split(":", 1)[0] == app_id:  # mix callbacks say "appid:taskid"
            task_id = task_id.split(":", 1)[1]
        etype = event.get("event_type", event.get("event"))
        if not task_id or etype in (None, "") or not app_id:
            log.info("acknowledged ZEGO callback %r (no task, not stored)", etype)
            return JSONResponse({"code": 0})
        stored = {k: v for k, v in event.items() if k not in _ZEGO_SIGNATURE_FIELDS}
        detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
        status = detail.get("upload_status") if detail else None
        sent_s = lenient_int(event.get("timestamp"))
        event_ms = sent_s * 1000 if sent_s is not None else int(time.time() * 1000)
        sequence = event.get("sequence")
        outcome = await run_in_threadpool(
            self.store.put,
            cloud="zego",
            app_id=app_id,
            task_id=task_id,
            event_type=str(etype),
            file_key="" if sequence in (None, "") else f"seq:{sequence}",
            status=_as_int(status),
            event_ms=event_ms,
            body=stored,
        )
        log.info("ZEGO %s for task %s: %s", etype, task_id, outcome)
        return JSONResponse({"code": 0})

    # -- reads ---------------------------------------------------------------------------------
    async def read_events(self, request: Request) -> JSONResponse:
        cloud = request.path_params["cloud"]
        if cloud not in ("trtc", "zego"):
            return _error(404, "unknown cloud: use trtc or zego")
        app_id = request.path_params["app_id"]
        task_id = request.path_params["task_id"]
        key = self.config.trtc_key(app_id) if cloud == "trtc" else self.config.zego_secret(app_id)
        reason = "bad signature"
        for path in _signed_paths(request):
            reason = (
                verify_read(
                    key,
                    "GET",
                    path,
                    request.headers.get(TIMESTAMP_HEADER),
                    request.headers.get(SIGNATURE_HEADER),
                    max_skew=self.config.read_max_skew,
                )
                or ""
            )
            if not reason:
                break
        if reason:
            log.warning("rejected a read of %s task %s: %s", cloud, task_id, reason)
            return _error(401, reason)
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


_as_int = lenient_int  # the package's one integer parser, lenient for cloud data


def _zego_fields(body: bytes, content_type: str) -> dict[str, Any] | None:
    text = body.decode("utf-8", errors="replace")
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    pairs = parse_qsl(text, keep_blank_values=True)
    if not pairs:
        return None
    return dict(pairs)


def create_app(config: ReceiverConfig | None = None, *, store: CallbackStore | None = None) -> Starlette:
    """Build the receiver. ``config`` defaults to :meth:`ReceiverConfig.from_env`."""
    receiver = _Receiver(config or ReceiverConfig.from_env(), store)
    if not receiver.config.has_keys:
        log.warning("RTC callback receiver has no callback key: every callback and read will be rejected")
    routes = [
        Route("/trtc/callback", receiver.trtc_callback, methods=["POST"]),
        Route("/zego/callback", receiver.zego_callback, methods=["POST"]),
        Route("/{cloud:str}/{app_id:str}/tasks/{task_id:path}/events", receiver.read_events, methods=["GET"]),
        Route("/healthz", receiver.healthz, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.receiver = receiver
    return app
