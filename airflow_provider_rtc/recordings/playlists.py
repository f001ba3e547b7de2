"""Storage checks: is an HLS recording final in COS even though its 305 callback was lost?

TRTC documents no API for "uploaded"; a playlist in storage that ends with ``#EXT-X-ENDLIST`` is the
practical fallback (tencent-cloud-api notes, UNCONFIRMED as an official signal). Used only with
``check_playlists=True`` and a ``file_url_template``, and only while the callbacks alone cannot
decide yet (:func:`playlists_to_check`). Fetching them is the waits' I/O
(:mod:`airflow_provider_rtc.waits.storage`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_rtc.recordings.trtc import (
    TrtcObservation,
    bodies_of,
    event_status,
    file_url,
    index_files,
    latest,
    pick_mode,
)

if TYPE_CHECKING:
    from airflow_provider_rtc.recordings.manifest import WaitVerdict


def playlist_ended(text: str) -> bool:
    """An HLS playlist is final once it carries ``#EXT-X-ENDLIST``."""
    return any(line.strip() == "#EXT-X-ENDLIST" for line in text.splitlines())


def playlists_to_check(
    obs: TrtcObservation,
    verdict: WaitVerdict,
    *,
    app_id: int | None,
    task_id: str,
    storage: str,
    file_url_template: str | None,
) -> dict[str, str]:
    """{index file name: URL} worth fetching: only while still waiting, the task is gone, the mode
    can be COS and no final 305 has arrived; empty when there is nothing to learn from storage."""
    if verdict.final or obs.task_status is not None or not file_url_template or storage == "vod":
        return {}
    bodies = bodies_of(obs)
    if pick_mode(storage, bodies) == "vod":
        return {}
    upload_stop = latest(bodies, 305)
    if upload_stop is not None and event_status(upload_stop) in (0, 2):
        return {}
    urls: dict[str, str] = {}
    for entry in index_files(obs, bodies):
        name = str(entry["FileName"])
        url = file_url(file_url_template, task_id=task_id, app_id=app_id, name=name)
        if url:
            urls[name] = url
    return urls
