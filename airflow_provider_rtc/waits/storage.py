"""Fetching HLS playlists from the cloud's storage for the storage check (the decision of which to
fetch, and what an ended playlist is, is pure: :mod:`airflow_provider_rtc.recordings.playlists`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_rtc.recordings.playlists import playlist_ended

if TYPE_CHECKING:
    import httpx

DEFAULT_TIMEOUT = (5.0, 15.0)


def _ended(resp: Any) -> bool:
    return resp.status_code == 200 and playlist_ended(resp.text)


def check_playlists_sync(
    urls: dict[str, str], *, timeout: tuple[float, float] = DEFAULT_TIMEOUT
) -> dict[str, bool]:
    """{file name: playlist reachable and ended}; an unreachable playlist counts as not ended."""
    import httpx

    from airflow_provider_rtc.redaction import redact_client_logs

    redact_client_logs()  # httpx logs each URL at INFO: a presigned one must not reach the log
    result: dict[str, bool] = {}
    with httpx.Client(timeout=httpx.Timeout(timeout[1], connect=timeout[0]), follow_redirects=True) as http:
        for name, url in urls.items():
            try:
                result[name] = _ended(http.get(url))
            except httpx.HTTPError:
                result[name] = False
    return result


async def acheck_playlists(urls: dict[str, str], *, client: httpx.AsyncClient) -> dict[str, bool]:
    """The same as :func:`check_playlists_sync` through the trigger's shared client."""
    import httpx

    result: dict[str, bool] = {}
    for name, url in urls.items():
        try:
            result[name] = _ended(await client.get(url, follow_redirects=True))
        except httpx.HTTPError:
            result[name] = False
    return result
