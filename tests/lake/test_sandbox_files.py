"""The sandbox serves recording bytes (deterministic, real sizes, ranges, a cut-short fault) and
the VOD APIs the lake uses (DescribeMediaInfos, SearchMedia, DeleteMedia) through VodHook."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from rtc_sandbox import media
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.exceptions import RtcNotFoundError, RtcValidationError
from airflow_provider_rtc.hooks.vod import VodHook

from .conftest import set_faults, trtc_vod_recording, vod_media


def test_vod_media_bytes_are_deterministic_with_real_size(sandbox: SandboxServer) -> None:
    added = vod_media(sandbox, "a.mp4", 300_000)
    first = httpx.get(added["url"], timeout=5)
    second = httpx.get(added["url"], timeout=5)
    assert first.status_code == 200 and len(first.content) == 300_000
    assert first.content == second.content
    assert first.content == media.content(f"vod/{added['file_id']}/a.mp4", 0, 300_000)
    assert first.headers["accept-ranges"] == "bytes"
    # blocks differ from each other, so a skipped or repeated block would show
    assert first.content[: media.BLOCK] != first.content[media.BLOCK : 2 * media.BLOCK]


def test_ranges_and_head(sandbox: SandboxServer) -> None:
    added = vod_media(sandbox, "b.mp4", 200_000)
    whole = httpx.get(added["url"], timeout=5).content
    part = httpx.get(added["url"], headers={"Range": "bytes=70000-139999"}, timeout=5)
    assert part.status_code == 206 and part.content == whole[70000:140000]
    assert part.headers["content-range"] == "bytes 70000-139999/200000"
    tail = httpx.get(added["url"], headers={"Range": "bytes=-10"}, timeout=5)
    assert tail.content == whole[-10:]
    assert httpx.get(added["url"], headers={"Range": "bytes=200000-"}, timeout=5).status_code == 416
    head = httpx.head(added["url"], timeout=5)
    assert head.status_code == 200 and head.headers["content-length"] == "200000" and head.content == b""


def test_short_fault_cuts_the_body_under_a_full_content_length(sandbox: SandboxServer) -> None:
    added = vod_media(sandbox, "c.mp4", 1_000_000)
    set_faults(sandbox, [{"action": "Download", "kind": "short", "count": 1}])
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(added["url"], timeout=5)
    assert len(httpx.get(added["url"], timeout=5).content) == 1_000_000  # count=1: next one is whole


def test_short_fault_is_for_downloads_only(sandbox: SandboxServer) -> None:
    resp = httpx.put(
        f"{sandbox.url}/_sandbox/faults", json={"rules": [{"action": "*", "kind": "short"}]}, timeout=5
    )
    assert resp.status_code == 400 and "Download" in resp.text


def test_trtc_vod_recording_files_are_served_and_described(sandbox: SandboxServer) -> None:
    _, manifest = trtc_vod_recording(sandbox)
    assert manifest["files"]
    hook = VodHook()
    infos = hook.describe_media_infos([f["file_id"] for f in manifest["files"]] + ["404"])
    assert infos["NotExistFileIdSet"] == ["404"]
    by_id = {i["FileId"]: i for i in infos["MediaInfoSet"]}
    for f in manifest["files"]:
        info = by_id[f["file_id"]]
        assert info["BasicInfo"]["MediaUrl"] == f["url"]
        assert info["MetaData"]["Size"] == f["size"] > 0
        body = httpx.get(f["url"], timeout=5).content
        assert len(body) == f["size"]
        assert (
            hashlib.sha256(body).digest()
            == hashlib.sha256(media.content(f"vod/{f['file_id']}/{f['name']}", 0, f["size"])).digest()
        )


def test_search_and_delete_media(sandbox: SandboxServer) -> None:
    now = sandbox.backend.now()
    old = vod_media(sandbox, "old.mp4", 10, created_at=now - 10 * 86400)
    vod_media(sandbox, "new.mp4", 10, created_at=now)
    hook = VodHook()
    before = VodHook().search_media(create_before=_iso(now - 86400))
    assert [m["FileId"] for m in before["MediaInfoSet"]] == [old["file_id"]]
    assert len(list(hook.iter_media())) == 2
    hook.delete_media(old["file_id"])
    with pytest.raises(RtcNotFoundError):
        hook.delete_media(old["file_id"])
    with pytest.raises(RtcValidationError, match="file_ids"):
        hook.describe_media_infos([])


def _iso(ts: float) -> str:
    import pendulum

    return pendulum.from_timestamp(ts, tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
