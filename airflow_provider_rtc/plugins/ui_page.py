"""The provider's page in the Airflow UI: a FastAPI app mounted in the API server at ``/rtc/``.

On Airflow >= 3.1 the plugin also declares an ``external_views`` entry ("RTC" in the nav, shown in
the UI's iframe); on 3.0 (no external views) the page is at ``https://<airflow>/rtc/`` alone.

Protection is Airflow's own (``airflow.api_fastapi.core_api.security``): ``get_user`` reads the JWT
from ``Authorization: Bearer`` or, for a browser, the UI's ``_token`` cookie (same origin, so the
iframe sends it; on 3.0, whose ``get_user`` reads the header only, the page passes it the cookie's
token), and the configured auth manager must allow ``AccessView.WEBSITE`` (what
``requires_access_view`` asks for the UI's own views). Without a valid token: 401 (a browser
asking for HTML is redirected to the auth manager's login page instead); the data is never sent.
Reports and audit lines are further limited to the DAGs the user may read (``get_authorized_dag_ids``).
"""

# no "from __future__ import annotations": FastAPI must see rtc_page's Depends annotation as an object

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlparse

from airflow_provider_rtc.plugins.ui_data import (
    Page,
    Report,
    apply_caps,
    live_rows,
    read_audit,
    read_reports,
)
from airflow_provider_rtc.plugins.ui_render import render

URL_PREFIX = "/rtc"
log = logging.getLogger(__name__)


class InventoryUnavailable(RuntimeError):
    """No inventory to show (the receiver is not enabled); the message says why, for the page."""


def _authorized_dag_ids(user: Any) -> set[str] | None:
    from airflow.api_fastapi.app import get_auth_manager

    return set(get_auth_manager().get_authorized_dag_ids(user=user, method="GET"))


def _base_path() -> str:
    """The path part of ``[api] base_url`` (Airflow served under a sub-path): run links start with it."""
    try:
        from airflow.providers.common.compat.sdk import conf

        return urlparse(conf.get("api", "base_url", fallback="") or "").path.rstrip("/")
    except Exception:
        return ""


@dataclass
class Sources:
    """Where the page reads from; the defaults are the API server's (tests pass their own)."""

    #: the lifecycle store (raises :class:`InventoryUnavailable` when there is none)
    store: Callable[[], Any]
    reports: Callable[[set[str] | None], list[Report]] = read_reports
    audit: Callable[[set[str] | None], tuple[list[dict[str, Any]], str]] = read_audit
    #: the DAG ids a user may read (``None``: all)
    dag_ids: Callable[[Any], set[str] | None] = _authorized_dag_ids
    clock: Callable[[], float] = time.time
    prefix: Callable[[], str] = field(default=_base_path)


def gather(sources: Sources, user: Any) -> Page:
    """Read every part; a part that fails says so on the page (and in the log), the others still show."""
    page = Page()
    now = sources.clock()
    dag_ids = sources.dag_ids(user)
    try:
        page.live = live_rows(sources.store(), now)
    except InventoryUnavailable as err:
        page.live_note = str(err)
    except Exception as err:  # the store unreachable: type only, a DB error may carry its address
        log.warning("RTC page: inventory unreadable: %s", err)
        page.live_note = f"inventory unreadable ({type(err).__name__}); see the API server's log"
    try:
        page.reports = sources.reports(dag_ids)
    except Exception as err:
        log.warning("RTC page: reports unreadable: %s", err)
        page.reports_note = f"reports unreadable ({type(err).__name__}); see the API server's log"
    apply_caps(page.live, page.reports)
    page.audit, page.audit_note = sources.audit(dag_ids)
    return page


def user_dependency() -> Callable[..., Any]:
    """Airflow's ``get_user``: on 3.1+ it reads the bearer header or the UI's ``_token`` cookie
    itself; 3.0's takes a bearer header only (its UI keeps the token in local storage), so there the
    page hands it the header's token or, for a browser back from the login page, the cookie's."""
    import inspect

    from airflow.api_fastapi.core_api.security import get_user
    from fastapi import Request
    from fastapi.exceptions import HTTPException

    if "request" in inspect.signature(get_user).parameters:
        return get_user

    async def user_from_header_or_cookie(request: Request) -> Any:
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else request.cookies.get("_token")
        if not token:
            raise HTTPException(401, "Not authenticated")
        return await get_user(token)  # type: ignore[arg-type]  # 3.0: get_user(token_str)

    return user_from_header_or_cookie


def create_ui_app(sources: Sources) -> Any:
    """The page's FastAPI app (``GET /``), behind Airflow's authentication and authorization."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
    from fastapi import Depends, FastAPI, Request
    from fastapi.exceptions import HTTPException
    from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

    app = FastAPI(title="RTC", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(HTTPException)
    async def _refused(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 401 and "text/html" in request.headers.get("accept", ""):
            try:
                return RedirectResponse(get_auth_manager().get_url_login(next_url=str(request.url)), 302)
            except Exception as err:  # no login page known: the plain refusal below
                log.debug("RTC page: no login URL to redirect to: %s", err)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.get("/", response_class=HTMLResponse)
    def rtc_page(user: Annotated[Any, Depends(user_dependency())]) -> HTMLResponse:
        # what requires_access_view(AccessView.WEBSITE) asks, for the UI's own pages
        if not get_auth_manager().is_authorized_view(access_view=AccessView.WEBSITE, user=user):
            raise HTTPException(403, "Forbidden")
        page = gather(sources, user)
        html = render(page, prefix=sources.prefix(), now=sources.clock())
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    return app


class LazyUiApp:
    """The page's app, built on its first request: processes that load plugins but serve nothing
    (workers, the DAG processor) never import FastAPI or Airflow's security module for it."""

    def __init__(self, sources: Callable[[], Sources]) -> None:
        self._sources = sources
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            self._app = create_ui_app(self._sources())
        await self._app(scope, receive, send)


def airflow_minor() -> tuple[int, int]:
    from importlib.metadata import version

    major, minor = version("apache-airflow").split(".")[:2]
    return int(major), int(minor)


def external_views() -> list[dict[str, Any]]:
    """The nav entry ("RTC", under Browse) on Airflow >= 3.1; none on 3.0 (no external views)."""
    if airflow_minor() < (3, 1):
        return []
    return [
        {
            "name": "RTC",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "category": "browse",
            "url_route": "rtc",
        }
    ]
