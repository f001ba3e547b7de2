"""The receiver's inventory routes: Live push callbacks in, "what is live" out, corrections in.

* ``POST /live/callback`` - Tencent Live push/stop-push callbacks; ``sign`` = MD5(key + t) with the
  Live callback key, ``t`` (the notification's expiry) not yet passed; 401 otherwise. That signature
  covers no body, so a (t, sign) pair is accepted for one body per stream: the same body again
  (Tencent's retry) is a 200 duplicate that changes nothing, another body for that stream 409 (kept
  in the store's file, so a restart or a second worker agrees; the ZEGO nonce rule in :mod:`.app` is
  the same). Per stream because Tencent gives every notification of one second the same pair
  (:meth:`LifecycleStore.claim_live_signature`). A stream a stop-push ends stays ``end_unconfirmed``
  until reconciliation asks DescribeLiveStreamState.
* ``GET /{cloud}/{app_id}/live`` - the live items of one application (cloud ``trtc``, ``zego`` or
  ``live``), with ``started_ms``, ``last_activity_ms`` and the sources that saw each live, plus the
  corrections reconciliation recorded. Signed like every read (:mod:`.auth`) with that cloud's key.
* ``POST /{cloud}/{app_id}/live/corrections?sha256=<hex of the body>`` - reconciliation results;
  the signed path carries the body's hash, so the read signature covers the body too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from airflow_provider_rtc.callbacks.http import error, parse_json_object, read_body
from airflow_provider_rtc.callbacks.inventory import Update, live_updates
from airflow_provider_rtc.callbacks.lifecycle_store import LifecycleStore
from airflow_provider_rtc.signing.callbacks import verify_live_callback
from airflow_provider_rtc.validation import lenient_int

if TYPE_CHECKING:
    from airflow_provider_rtc.callbacks.config import ReceiverConfig

log = logging.getLogger(__name__)
CLOUDS = ("trtc", "zego", "live")
MAX_CORRECTIONS = 10_000

#: ``(request, key) -> reason`` ("" when the signed request is authentic and fresh)
Authorize = Callable[[Request, "str | None"], str]


class InventoryRoutes:
    def __init__(
        self, config: ReceiverConfig, authorize: Authorize, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.config = config
        self.authorize = authorize
        self.clock = clock
        self._store: LifecycleStore | None = None

    @property
    def store(self) -> LifecycleStore:
        if self._store is None:
            self._store = LifecycleStore(self.config.store_location)
        return self._store

    async def record(
        self, cloud: str, app_id: str, updates: list[Update], *, now: float | None = None
    ) -> None:
        """Apply the lifecycle updates of one verified callback (nothing when it carries none), as
        received at ``now`` (the receiver's clock): no stored time is later than that."""
        if updates:
            received = self.clock() if now is None else now
            changes = await run_in_threadpool(self.store.apply, cloud, app_id, updates, now=received)
            log.debug(
                "%s lifecycle for app %s: %d update(s), %d change(s)",
                cloud,
                app_id,
                len(updates),
                len(changes),
            )

    async def live_callback(self, request: Request) -> JSONResponse:
        body = await read_body(request, self.config.max_body_bytes)
        event = parse_json_object(body)
        app_id = str(event.get("appid") or "").strip()
        key = self.config.live_key(app_id)
        now = self.clock()
        if not verify_live_callback(key or "", event.get("t"), event.get("sign"), now=now):
            log.warning("rejected a Live callback for APPID %r: missing, bad or expired sign", app_id[:32])
            return error(401, "missing, bad or expired sign")
        t = lenient_int(event.get("t"))
        assert t is not None  # verified above
        name = event.get("stream_id") or event.get("channel_id") or ""  # as live_updates reads it
        stream = f"{event.get('app') or ''}/{event.get('appname') or ''}/{name}"
        seen = await run_in_threadpool(
            self.store.claim_live_signature, app_id, t, str(event.get("sign")), stream, body, now=now
        )
        if seen == "replay":
            log.warning("rejected a replayed Live callback for APPID %r: signature already used", app_id[:32])
            return error(409, "signature already used by another callback")
        if seen == "retry":  # applied again: idempotent, and the first delivery may have died before it
            log.info("Live callback for APPID %r delivered again: duplicate", app_id[:32])
        await self.record("live", app_id, live_updates(event), now=now)
        return JSONResponse({"code": 0})

    def _check(self, request: Request) -> tuple[str, str, JSONResponse | None]:
        cloud = request.path_params["cloud"]
        app_id = request.path_params["app_id"]
        if cloud not in CLOUDS:
            return cloud, app_id, error(404, "unknown cloud: use trtc, zego or live")
        reason = self.authorize(request, self.config.key_for(cloud, app_id))
        if reason:
            log.warning("rejected an inventory request for %s app %s: %s", cloud, app_id, reason)
            return cloud, app_id, error(401, reason)
        return cloud, app_id, None

    async def read_live(self, request: Request) -> JSONResponse:
        cloud, app_id, denied = self._check(request)
        if denied is not None:
            return denied
        items = await run_in_threadpool(self.store.items, cloud, app_id)
        corrections = await run_in_threadpool(self.store.corrections, cloud, app_id)
        return JSONResponse(
            {
                "cloud": cloud,
                "app_id": app_id,
                "server_time": time.time(),
                "items": [i.as_dict() for i in items],
                "corrections": corrections[-500:],
            }
        )

    async def post_corrections(self, request: Request) -> JSONResponse:
        cloud, app_id, denied = self._check(request)
        if denied is not None:
            return denied
        body = await read_body(request, self.config.max_body_bytes)
        digest = hashlib.sha256(body).hexdigest()
        if not hmac.compare_digest(digest, request.query_params.get("sha256", "")):
            return error(401, "the signed sha256 does not match the body")
        data = parse_json_object(body)
        try:
            corrections = data["corrections"]
            if not isinstance(corrections, list) or len(corrections) > MAX_CORRECTIONS:
                raise ValueError
            for c in corrections:
                if not (isinstance(c, dict) and isinstance(c.get("ids"), dict) and c.get("kind")):
                    raise ValueError
                if lenient_int(c.get("at_ms")) is None:
                    raise ValueError
        except (ValueError, KeyError, TypeError):
            return error(400, "body must be {'corrections': [{kind, ids, live, at_ms, reason}]}")
        changed = await run_in_threadpool(self.store.correct, cloud, app_id, corrections)
        return JSONResponse({"code": 0, "changed": changed})


def inventory_routes(routes: InventoryRoutes, guard: Callable[[Any], Any]) -> list[Any]:
    """The routes of this module, each wrapped by the receiver's ``guard`` (4xx, never 500)."""
    from starlette.routing import Route

    return [
        Route("/live/callback", guard(routes.live_callback), methods=["POST"]),
        Route("/{cloud:str}/{app_id:str}/live", guard(routes.read_live), methods=["GET"]),
        Route("/{cloud:str}/{app_id:str}/live/corrections", guard(routes.post_corrections), methods=["POST"]),
    ]


def corrections_body(corrections: list[dict[str, Any]]) -> tuple[bytes, str]:
    """The body a reconciler posts and the ``sha256`` query value that binds it to the signature."""
    body = json.dumps({"corrections": corrections}, separators=(",", ":"), sort_keys=True).encode()
    return body, hashlib.sha256(body).hexdigest()
