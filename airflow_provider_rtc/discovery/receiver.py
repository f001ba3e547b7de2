"""Reading the receiver's lifecycle inventory and posting reconciliation results back, signed with
the application's callback key like every read (:mod:`airflow_provider_rtc.callbacks.auth`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from airflow_provider_rtc.callbacks.auth import sign_read
from airflow_provider_rtc.callbacks.client import CLOUD, DEFAULT_TIMEOUT, ReceiverTarget
from airflow_provider_rtc.callbacks.inventory_routes import corrections_body
from airflow_provider_rtc.exceptions import RtcApiError, RtcAuthError, RtcTransientError

ACTION = "ReadInventory"


def _live_path(target: ReceiverTarget, cloud: str, app_id: int | str) -> str:
    base = urlsplit(target.url).path.rstrip("/")
    return f"{base}/{cloud}/{quote(str(app_id), safe='')}/live"


def _send(
    target: ReceiverTarget, method: str, path: str, body: bytes | None, timeout: tuple[float, float]
) -> Any:
    import httpx

    parts = urlsplit(target.url)
    headers = sign_read(target.key, path, method=method)
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        with httpx.Client(
            timeout=httpx.Timeout(timeout[1], connect=timeout[0]), follow_redirects=False
        ) as http:
            resp = http.request(
                method, f"{parts.scheme}://{parts.netloc}{path}", headers=headers, content=body
            )
    except httpx.HTTPError as exc:
        raise RtcTransientError(
            f"could not reach the receiver at {target.host} ({type(exc).__name__})",
            cloud=CLOUD,
            action=ACTION,
        ) from None
    try:
        data = resp.json()
    except ValueError:
        data = None
    if resp.status_code in (401, 403):
        raise RtcAuthError(
            f"the receiver at {target.host} rejected the signed request (HTTP {resp.status_code}); check the "
            "callback key configured for this application",
            cloud=CLOUD,
            action=ACTION,
            http_status=resp.status_code,
        )
    if resp.status_code == 429 or resp.status_code >= 500:
        raise RtcTransientError(
            f"the receiver at {target.host} answered HTTP {resp.status_code}", cloud=CLOUD, action=ACTION
        )
    if resp.status_code != 200 or not isinstance(data, dict):
        raise RtcApiError(
            f"unexpected answer from the receiver at {target.host} (HTTP {resp.status_code})",
            cloud=CLOUD,
            action=ACTION,
        )
    return data


def fetch_live(
    target: ReceiverTarget, cloud: str, app_id: int | str, *, timeout: tuple[float, float] = DEFAULT_TIMEOUT
) -> dict[str, Any]:
    """``{"items": [...], "corrections": [...], "server_time": ...}`` of one application."""
    data = _send(target, "GET", _live_path(target, cloud, app_id), None, timeout)
    if not isinstance(data.get("items"), list):
        raise RtcApiError(f"the receiver at {target.host} sent no items", cloud=CLOUD, action=ACTION)
    return data


def post_corrections(
    target: ReceiverTarget,
    cloud: str,
    app_id: int | str,
    corrections: list[dict[str, Any]],
    *,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
) -> list[dict[str, Any]]:
    """Record reconciliation results; returns the ones that changed the inventory."""
    if not corrections:
        return []
    body, digest = corrections_body(corrections)
    data = _send(
        target, "POST", f"{_live_path(target, cloud, app_id)}/corrections?sha256={digest}", body, timeout
    )
    changed = data.get("changed")
    return changed if isinstance(changed, list) else []
