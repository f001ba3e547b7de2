"""HLS recordings (TRTC on COS): the manifest lists the ``.m3u8`` indexes; their ``.ts`` segments
are copied next to them so the lake copy plays - against the sandbox and moto."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from rtc_sandbox import media
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.operators.storage import CopyRecordingsOperator
from airflow_provider_rtc.recordings.hls import relative_path, segment_uris

from .conftest import S3_CONN, set_faults, trtc_cos_recording


def copy_op(manifest: Any, destination: str, **kw: Any) -> CopyRecordingsOperator:
    kw.setdefault("attempt_delay", 0.01)
    kw.setdefault("allow_private_sources", True)  # the sandbox is on 127.0.0.1
    return CopyRecordingsOperator(task_id="copy", manifest=manifest, destination=destination, **kw)


def lake_files(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): p.stat().st_size
        for p in root.rglob("*")
        if p.is_file() and p.name != ".rtc-lake"
    }


def expected_segments(sandbox: SandboxServer, task_id: str, manifest: dict[str, Any]) -> dict[str, int]:
    """{segment name: size} as the sandbox serves them (from each playlist, then a HEAD)."""
    found = {}
    for f in manifest["files"]:
        for uri in segment_uris(httpx.get(f["url"], timeout=5).text):
            head = httpx.head(f"{sandbox.url}/_sandbox/storage/trtc/{task_id}/{uri}", timeout=5)
            assert head.status_code == 200
            found[uri] = int(head.headers["content-length"])
    return found


def test_every_segment_is_copied_with_its_size_and_a_rerun_copies_nothing(
    sandbox: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    task_id, manifest = trtc_cos_recording(sandbox)
    segments = expected_segments(sandbox, task_id, manifest)
    assert len(segments) >= len(manifest["files"]) and all(size > 0 for size in segments.values())
    result = copy_op(manifest, str(tmp_path), layout="{task_id}/{name}").execute({})
    files = lake_files(tmp_path)
    for name, size in segments.items():
        assert files[f"{task_id}/{name}"] == size
        body = (tmp_path / task_id / name).read_bytes()
        assert body == media.content(f"trtc/{task_id}/{name}", 0, size)
    # the copied playlists are the source's, and every URI in them resolves inside the lake
    for f in manifest["files"]:
        copied = (tmp_path / task_id / f["name"]).read_text()
        assert copied == httpx.get(f["url"], timeout=5).text
        assert all((tmp_path / task_id / uri).is_file() for uri in segment_uris(copied))
    assert set(files) == {f"{task_id}/{n}" for n in [*segments, *(f["name"] for f in manifest["files"])]}
    # the destination manifest: the same files list, each index with its segments
    assert [f["name"] for f in result["files"]] == [f["name"] for f in manifest["files"]]
    listed = {s["name"]: s for f in result["files"] for s in f["segments"]}
    assert {n: s["size"] for n, s in listed.items()} == segments
    assert all(s["url"] == f"file://{tmp_path}/{task_id}/{n}" for n, s in listed.items())
    out = capsys.readouterr().out
    assert f"{len(segments)} segment(s) in {len(manifest['files'])} playlist(s)" in out
    assert f"of these files, {len(segments)} are HLS segments" in out
    downloads = sandbox.backend.stats.snapshot()
    again = copy_op(manifest, str(tmp_path), layout="{task_id}/{name}").execute({})
    assert again == result
    assert sandbox.backend.stats.snapshot() == downloads  # no segment was downloaded again
    total = len(segments) + len(manifest["files"])
    assert f"0 file(s) copied (0 B), {total} already there" in capsys.readouterr().out


def test_a_segment_download_cut_short_is_retried_and_never_left_looking_complete(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    task_id, manifest = trtc_cos_recording(sandbox, users=1)
    segments = expected_segments(sandbox, task_id, manifest)
    # indexes are not media downloads: the first Download is a segment's
    set_faults(sandbox, [{"action": "Download", "kind": "short", "count": 1}])
    copy_op(manifest, str(tmp_path), layout="{name}", max_concurrency=1).execute({})
    assert sandbox.backend.faults.to_dict()["rules"][0]["fired"] == 1
    files = lake_files(tmp_path)
    assert {n: files[n] for n in segments} == segments
    assert not [name for name in files if "partial" in name]


def test_a_segment_always_cut_short_fails_and_leaves_no_complete_looking_segment(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    from airflow.providers.common.compat.sdk import AirflowException

    _, manifest = trtc_cos_recording(sandbox, users=1)
    set_faults(sandbox, [{"action": "Download", "kind": "short"}])
    with pytest.raises(AirflowException, match=r"could not be copied.*RemoteProtocolError"):
        copy_op(manifest, str(tmp_path), layout="{name}", attempts=2).execute({})
    # the indexes are there (they were whole); no segment and no temporary file is
    assert sorted(lake_files(tmp_path)) == sorted(f["name"] for f in manifest["files"])


def test_hls_from_a_bucket_into_s3(
    sandbox: SandboxServer, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    task_id, manifest = trtc_cos_recording(sandbox, users=1)
    segments = expected_segments(sandbox, task_id, manifest)
    for f in manifest["files"]:  # the cloud wrote the recording to this bucket
        s3.put_object(Bucket="rec-source", Key=f"rec/{task_id}/{f['name']}", Body=httpx.get(f["url"]).content)
        f["url"] = None
    for name, size in segments.items():
        body = media.content(f"trtc/{task_id}/{name}", 0, size)
        s3.put_object(Bucket="rec-source", Key=f"rec/{task_id}/{name}", Body=body)
    kw = {
        "destination_conn_id": S3_CONN,
        "source_bucket": "s3://rec-source/rec/{task_id}",
        "source_conn_id": S3_CONN,
        "layout": "{task_id}/{name}",
    }
    result = copy_op(manifest, "s3://lake/hls", **kw).execute({})
    keys = {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket="lake")["Contents"]}
    for name, size in segments.items():
        assert keys[f"hls/{task_id}/{name}"] == size
    assert len(keys) == len(segments) + len(manifest["files"])
    capsys.readouterr()
    assert copy_op(manifest, "s3://lake/hls", **kw).execute({}) == result
    total = len(segments) + len(manifest["files"])
    assert f"0 file(s) copied (0 B), {total} already there" in capsys.readouterr().out


def test_segment_uris_and_where_they_land() -> None:
    text = (
        '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:10,\na_1.ts\n#EXTINF:10,\nsub/a%202.ts?t=1\n'
        "#EXTINF:10,\nhttps://cdn.example/x.ts\n#EXTINF:10,\n../up.ts\n#EXTINF:10,\n/abs.ts\na_1.ts\n"
    )
    uris = segment_uris(text)
    assert uris == [
        "init.mp4",
        "a_1.ts",
        "sub/a%202.ts?t=1",
        "https://cdn.example/x.ts",
        "../up.ts",
        "/abs.ts",
    ]
    assert [relative_path(u) for u in uris] == ["init.mp4", "a_1.ts", "sub/a 2.ts", None, None, None]


def test_out_of_folder_segments_are_reported_not_copied(sandbox: SandboxServer, tmp_path: Path) -> None:
    from airflow_provider_rtc.recordings.copy import CopyJob, CopyOutcome
    from airflow_provider_rtc.recordings.hls import segment_jobs

    index = tmp_path / "lake" / "i.m3u8"
    index.parent.mkdir()
    index.write_text("#EXTM3U\nok.ts\n../escape.ts\nhttps://elsewhere.example/x.ts\n#EXT-X-ENDLIST\n")
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    job = CopyJob(0, 0, {"name": "i.m3u8", "status": "uploaded"}, "url", ObjectStoragePath(f"file://{index}"))
    job.url = "http://127.0.0.1:9/rec/i.m3u8?sig=1"
    jobs, warnings = segment_jobs(CopyOutcome(job, "copied"))
    assert [(j.name, j.url, str(j.target.path)) for j in jobs] == [
        ("ok.ts", "http://127.0.0.1:9/rec/ok.ts", str(tmp_path / "lake" / "ok.ts"))
    ]
    assert warnings and "2 segment(s)" in warnings[0]
