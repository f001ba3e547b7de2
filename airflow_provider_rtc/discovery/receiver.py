"""Reading the receiver's lifecycle inventory and posting reconciliation results back, signed with
the application's callback key like every read (:mod:`airflow_provider_rtc.callbacks.auth`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from airflow_provider_rtc.callbacks.auth import sign_read
from airflow_provider_rtc.callbacks.client import CLOUD, DEFAULT_TIMEOUT, ReceiverTarget, receiver_answer
from airflow_provider_rtc.callbacks.inventory_routes import corrections_body
from airflow_provider_rtc.exceptions import RtcApiError, RtcTransientError

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
    return receiver_answer(resp.status_code, resp.content, target.host, action=ACTION, what="request")


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
