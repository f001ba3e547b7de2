"""One Starlette app serving both clouds on one port, plus the admin API under ``/_sandbox/``.

A request at ``/`` is Tencent's when it carries a ``TC3-HMAC-SHA256`` Authorization or any
``X-TC-*`` header, ZEGO's when its query names ``Action``/``AppId``/``SignatureNonce``; anything
else is answered as Tencent (``AuthFailure.InvalidAuthorization``), the cloud whose bare ``POST /``
it most resembles.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from .core import Sandbox
from .middleware import DropConnectionMiddleware
from .wire import admin, tencent, zego

_ZEGO_MARKERS = ("Action", "AppId", "SignatureNonce")


def is_tencent(request: Request) -> bool:
    if request.headers.get("authorization", "").startswith("TC3-HMAC-SHA256"):
        return True
    if any(name.startswith("x-tc-") for name in request.headers):
        return True
    return not any(marker in request.query_params for marker in _ZEGO_MARKERS)


def build_app(sandbox: Sandbox) -> ASGIApp:
    async def cloud(request: Request) -> Response:
        if is_tencent(request):
            return await tencent.handle(request, sandbox)
        return await zego.handle(request, sandbox)

    app = Starlette(
        routes=[
            Route("/", cloud, methods=["GET", "POST"]),
            Mount("/_sandbox", routes=admin.routes(sandbox)),
        ]
    )
    return DropConnectionMiddleware(app)
