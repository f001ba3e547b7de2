"""The sandbox's own control API under ``/_sandbox/``: JSON in, JSON out, never signed.

Kept apart from the cloud routes so nothing a cloud client sends can reach it by accident.
Errors answer HTTP 400 (bad document) or 404 (unknown task/file) with ``{"error": message}``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import media
from ..seed import STANDARD_EVENT

if TYPE_CHECKING:
    from ..core import Sandbox


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise AdminError(400, "body is not valid JSON") from None
    if not isinstance(data, dict):
        raise AdminError(400, "body must be a JSON object")
    return data


def routes(sb: Sandbox) -> list[Route]:
    """Every admin route, bound to ``sb``."""

    def endpoint(fn: Any) -> Any:
        async def wrapped(request: Request) -> Response:
            try:
                result = await fn(request)
            except AdminError as err:
                return JSONResponse({"error": err.message}, status_code=err.status)
            except (ValueError, TypeError, KeyError) as err:
                return JSONResponse({"error": f"{type(err).__name__}: {err}"}, status_code=400)
            return result if isinstance(result, Response) else JSONResponse(result)

        return wrapped

    async def reset(request: Request) -> Any:
        body = await _body(request)
        sb.reset()
        seeded = None
        if body.get("seed_event"):
            seeded = sb.seed(STANDARD_EVENT)
        elif body.get("seed"):
            seeded = sb.seed(body["seed"])
        return {"reset": True, "seeded": seeded}

    async def seed(request: Request) -> Any:
        """A counting or named seed (``{"trtc": {"rooms": [{"name": ...}]}}``), or a whole scenario
        when it has ``callbacks``/``faults`` tables (docs/sandbox.md)."""
        body = await _body(request)
        if set(body) & {"callbacks", "faults", "sandbox"}:
            return sb.apply_scenario(body)
        return sb.seed(body or STANDARD_EVENT)

    async def state(request: Request) -> Any:
        return sb.state()

    async def stats(request: Request) -> Any:
        return sb.stats.snapshot()

    async def faults(request: Request) -> Any:
        if request.method == "PUT":
            append = request.query_params.get("append", "").lower() in ("1", "true", "yes")
            sb.set_faults(await _body(request), append=append)
        return sb.faults.to_dict()

    async def limits(request: Request) -> Any:
        if request.method == "PUT":
            body = await _body(request)
            unknown = set(body) - {"enabled", "qps"}
            if unknown:
                raise AdminError(400, f"unknown keys: {sorted(unknown)}")
            qps = body.get("qps")
            sb.limiter.configure(
                enabled=None if "enabled" not in body else bool(body["enabled"]),
                qps=None if qps is None else {str(k): float(v) for k, v in qps.items()},
            )
        return sb.limiter.to_dict()

    async def callbacks(request: Request) -> Any:
        if request.method == "PUT":
            sb.callbacks.configure(**await _body(request))
            return sb.callbacks.settings_dict()
        return {"settings": sb.callbacks.settings_dict(), "log": sb.callbacks.log()}

    async def timing(request: Request) -> Any:
        if request.method == "PUT":
            sb.set_timing(**await _body(request))
        return dict(vars(sb.config.timing))

    def clock_state() -> dict[str, Any]:
        return {"now": sb.now(), "offset_seconds": sb.clock.offset, "mode": sb.clock.mode}

    async def clock(request: Request) -> Any:
        """``{"mode": "manual"|"real"}`` freezes or releases the clock; ``now``/``offset_seconds``
        move it (a manual clock stays where it is put)."""
        if request.method == "PUT":
            body = await _body(request)
            if not {"now", "offset_seconds", "mode"} & set(body):
                raise AdminError(400, "give 'mode', 'now' or 'offset_seconds'")
            try:
                if "mode" in body:
                    sb.clock.set_mode(str(body["mode"]))
                if "now" in body:
                    sb.clock.set_now(float(body["now"]))
                elif "offset_seconds" in body:
                    sb.clock.set_offset(float(body["offset_seconds"]))
            except (TypeError, ValueError) as err:
                raise AdminError(400, str(err)) from err
        return clock_state()

    async def clock_advance(request: Request) -> Any:
        """``{"seconds": N}``: move the clock forward and run what became due (manual progression)."""
        body = await _body(request)
        try:
            sb.advance(float(body["seconds"]))
        except (KeyError, TypeError, ValueError) as err:
            raise AdminError(400, f"give 'seconds' >= 0: {err}") from err
        return clock_state()

    async def connections(request: Request) -> Any:
        url = sb.base_url or str(request.base_url).rstrip("/")
        return {"url": url, "connections": sb.connections(url)}

    async def trtc_storage(request: Request) -> Any:
        task_id = request.path_params["task_id"]
        try:
            return sb.trtc.storage(task_id)
        except KeyError:
            raise AdminError(404, f"no TRTC recording {task_id}") from None

    async def trtc_object(request: Request) -> Any:
        task_id, name = request.path_params["task_id"], request.path_params["name"]
        found = sb.trtc.storage_object(task_id, name, sb.now())
        if found is None:
            raise AdminError(404, "no such object (or not uploaded yet)")
        media_type, content = found
        if isinstance(content, int):
            return await media.serve(request, sb, f"trtc/{task_id}/{name}", content, media_type)
        return Response(content, media_type=media_type)

    async def zego_object(request: Request) -> Any:
        task_id, name = request.path_params["task_id"], request.path_params["name"]
        found = sb.zego.storage_file(task_id, name, sb.now())
        if found is None:
            raise AdminError(404, "no such object (or not uploaded yet)")
        fmt, size = found
        return await media.serve(request, sb, f"zego/{task_id}/{name}", size, f"video/{fmt}")

    async def vod_object(request: Request) -> Any:
        file_id, name = request.path_params["file_id"], request.path_params["name"]
        found = sb.vod.get(file_id)
        if found is None or found.name != name:
            raise AdminError(404, f"no VOD media {file_id}/{name}")
        return await media.serve(request, sb, f"vod/{file_id}/{name}", found.size, f"video/{found.fmt}")

    async def vod_media(request: Request) -> Any:
        """Add a VOD media of any size and age (retention tests, large downloads)."""
        body = await _body(request)
        created = body.get("created_at")
        added = sb.vod.add(
            str(body["name"]),
            int(body["size"]),
            sb.now() if created is None else float(created),
            file_id=body.get("file_id"),
            source_context=str(body.get("source_context", "")),
            source_type=str(body.get("source_type") or "Upload"),
            trtc=body.get("trtc_record_info"),
            sub_app_id=body.get("sub_app_id"),
        )
        return {
            "file_id": added.file_id,
            "name": added.name,
            "size": added.size,
            "created_at": added.created_at,
            "url": sb.vod.url(added.file_id, added.name),
        }

    async def trtc_recording(request: Request) -> Any:
        body = await _body(request)
        task_id = request.path_params["task_id"]
        try:
            sb.trtc.set_callback_fault(task_id, body.get("callback_fault"))
        except KeyError:
            raise AdminError(404, f"no TRTC recording {task_id}") from None
        return {"task_id": task_id, "callback_fault": body.get("callback_fault")}

    async def zego_recording(request: Request) -> Any:
        body = await _body(request)
        task_id = request.path_params["task_id"]
        app_id = int(body.get("app_id", sb.config.zego_app.app_id))
        try:
            sb.zego.set_record_fault(
                app_id, task_id, file_status=body.get("file_status"), task_status=body.get("task_status")
            )
        except KeyError:
            raise AdminError(404, f"no ZEGO recording {task_id}") from None
        return {
            "task_id": task_id,
            "file_status": body.get("file_status"),
            "task_status": body.get("task_status"),
        }

    async def trtc_users(request: Request) -> Any:
        body = await _body(request)
        room = body["room_id"]
        if not isinstance(room, int | str) or isinstance(room, bool):
            raise AdminError(400, "room_id must be a number (numeric room) or a string (string room)")
        app = int(body.get("sdk_app_id", sb.config.sdk_app_id))
        users = [str(u) for u in body.get("users", [])]
        sb.trtc.add_users(app, room, users, sb.now())
        return {"sdk_app_id": app, "room_id": room, "users": sb.trtc.room_users(app, room)}

    async def trtc_exit(request: Request) -> Any:
        body = await _body(request)
        app = int(body.get("sdk_app_id", sb.config.sdk_app_id))
        sb.trtc.exit_users(app, body["room_id"], [str(u) for u in body.get("users", [])], sb.now())
        return {
            "sdk_app_id": app,
            "room_id": body["room_id"],
            "users": sb.trtc.room_users(app, body["room_id"]),
        }

    async def zego_logout(request: Request) -> Any:
        body = await _body(request)
        app = int(body.get("app_id", sb.config.zego_app.app_id))
        sb.zego.logout(app, str(body["room_id"]), [str(u) for u in body.get("users", [])], sb.now())
        return {"app_id": app, "room_id": str(body["room_id"])}

    async def zego_users(request: Request) -> Any:
        body = await _body(request)
        app = int(body.get("app_id", sb.config.zego_app.app_id))
        room = str(body["room_id"])
        for uid in body.get("users", []):
            sb.zego.login(app, room, str(uid), sb.now())
        for stream in body.get("streams", []):
            sb.zego.publish(app, room, str(stream["user_id"]), str(stream["stream_id"]), sb.now())
        return {"app_id": app, "room_id": room, "streams": sb.zego.stream_list(app, room)}

    async def live_streams(request: Request) -> Any:
        body = await _body(request)
        stream = sb.live.push_stream(
            str(body["domain_name"]),
            str(body.get("app_name", "live")),
            str(body["stream_name"]),
            sb.now(),
            state=str(body.get("state", "active")),
        )
        return {
            "stream_name": stream.name,
            "domain_name": stream.domain,
            "app_name": stream.app,
            "state": stream.state,
        }

    table: list[tuple[str, Any, list[str]]] = [
        ("/reset", reset, ["POST"]),
        ("/seed", seed, ["POST"]),
        ("/state", state, ["GET"]),
        ("/stats", stats, ["GET"]),
        ("/faults", faults, ["GET", "PUT"]),
        ("/limits", limits, ["GET", "PUT"]),
        ("/callbacks", callbacks, ["GET", "PUT"]),
        ("/timing", timing, ["GET", "PUT"]),
        ("/clock", clock, ["GET", "PUT"]),
        ("/clock/advance", clock_advance, ["POST"]),
        ("/connections", connections, ["GET"]),
        ("/storage/trtc/{task_id}", trtc_storage, ["GET"]),
        ("/storage/trtc/{task_id}/{name}", trtc_object, ["GET"]),
        ("/storage/zego/{task_id}/{name}", zego_object, ["GET"]),
        ("/vod/{file_id}/{name}", vod_object, ["GET"]),
        ("/vod/media", vod_media, ["POST"]),
        ("/recordings/trtc/{task_id}", trtc_recording, ["PUT"]),
        ("/recordings/zego/{task_id}", zego_recording, ["PUT"]),
        ("/trtc/users", trtc_users, ["POST"]),
        ("/zego/users", zego_users, ["POST"]),
        ("/trtc/exit", trtc_exit, ["POST"]),
        ("/zego/logout", zego_logout, ["POST"]),
        ("/live/streams", live_streams, ["POST"]),
    ]
    return [Route(path, endpoint(fn), methods=methods) for path, fn, methods in table]
