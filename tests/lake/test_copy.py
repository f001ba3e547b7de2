"""CopyRecordingsOperator against the sandbox (HTTP and VOD sources) and moto (S3 source and
destination through an Airflow connection): sizes, idempotent re-runs, short downloads."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException
from rtc_sandbox import media
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.operators.storage import CopyRecordingsOperator

from .conftest import S3_CONN, set_faults, trtc_vod_recording


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


def test_every_file_is_copied_with_its_size_and_a_rerun_copies_nothing(
    sandbox: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    task_id, manifest = trtc_vod_recording(sandbox)
    result = copy_op(manifest, str(tmp_path)).execute({})
    prefix = f"trtc/{manifest['app_id']}/{manifest['room_id']}/{task_id}"
    expected = {f"{prefix}/{f['name']}": f["size"] for f in manifest["files"]}
    assert lake_files(tmp_path) == expected
    for f in manifest["files"]:
        body = (tmp_path / prefix / f["name"]).read_bytes()
        assert body == media.content(f"vod/{f['file_id']}/{f['name']}", 0, f["size"])
    # the destination manifest: same shape, destination URIs
    assert set(result) == set(manifest) and result["task_id"] == task_id
    assert [f["url"] for f in result["files"]] == [
        f"file://{tmp_path}/{prefix}/{f['name']}" for f in manifest["files"]
    ]
    downloads = sandbox.backend.stats.snapshot()
    capsys.readouterr()
    again = copy_op(manifest, str(tmp_path)).execute({})
    assert again == result
    assert sandbox.backend.stats.snapshot() == downloads  # nothing was downloaded
    assert f"0 file(s) copied (0 B), {len(manifest['files'])} already there" in capsys.readouterr().out


def test_vod_file_id_is_resolved_to_its_media_url(sandbox: SandboxServer, tmp_path: Path) -> None:
    task_id, manifest = trtc_vod_recording(sandbox, users=1)
    for f in manifest["files"]:
        f["url"] = None  # only the FileId: DescribeMediaInfos gives the URL
    result = copy_op(manifest, f"file://{tmp_path}", layout="{task_id}/{name}").execute({})
    assert lake_files(tmp_path) == {f"{task_id}/{f['name']}": f["size"] for f in manifest["files"]}
    assert all(f["url"].startswith("file://") for f in result["files"])


def test_a_download_cut_short_is_retried_and_never_left_looking_complete(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    _, manifest = trtc_vod_recording(sandbox, users=1)
    set_faults(sandbox, [{"action": "Download", "kind": "short", "count": 1}])
    copy_op(manifest, str(tmp_path), max_concurrency=1).execute({})
    assert sandbox.backend.faults.to_dict()["rules"][0]["fired"] == 1
    files = lake_files(tmp_path)
    assert sorted(files.values()) == sorted(f["size"] for f in manifest["files"])
    assert not [name for name in files if "partial" in name]


def test_a_download_always_cut_short_fails_and_leaves_nothing(sandbox: SandboxServer, tmp_path: Path) -> None:
    _, manifest = trtc_vod_recording(sandbox, users=1)
    set_faults(sandbox, [{"action": "Download", "kind": "short"}])
    with pytest.raises(AirflowException, match=r"could not be copied.*RemoteProtocolError"):
        copy_op(manifest, str(tmp_path), attempts=2).execute({})
    assert lake_files(tmp_path) == {}  # no complete-looking file, no temporary left behind


def test_a_wrong_size_in_the_existing_copy_is_replaced(sandbox: SandboxServer, tmp_path: Path) -> None:
    task_id, manifest = trtc_vod_recording(sandbox, users=1)
    first = manifest["files"][0]
    broken = tmp_path / task_id / first["name"]
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"truncated")
    copy_op(manifest, str(tmp_path), layout="{task_id}/{name}").execute({})
    assert broken.stat().st_size == first["size"]


def test_s3_source_bucket_to_s3_lake_through_connections(
    sandbox: SandboxServer, s3: Any, tmp_path: Path
) -> None:
    _, manifest = trtc_vod_recording(sandbox, users=1)
    task_id = manifest["task_id"]
    bodies = {}
    for f in manifest["files"]:
        body = os.urandom(f["size"])
        bodies[f["name"]] = body
        s3.put_object(Bucket="rec-source", Key=f"recordings/{task_id}/{f['name']}", Body=body)
        f["url"] = None
    op = copy_op(
        manifest,
        "s3://lake/rtc",
        destination_conn_id=S3_CONN,
        source_bucket="s3://rec-source/recordings/{task_id}",
        source_conn_id=S3_CONN,
    )
    result = op.execute({})
    listed = s3.list_objects_v2(Bucket="lake", Prefix="rtc/")["Contents"]
    keys = {o["Key"]: o["Size"] for o in listed}
    prefix = f"rtc/trtc/{manifest['app_id']}/{manifest['room_id']}/{task_id}"
    assert keys == {f"{prefix}/{name}": len(body) for name, body in bodies.items()}
    for name, body in bodies.items():
        stored = s3.get_object(Bucket="lake", Key=f"{prefix}/{name}")["Body"].read()
        assert hashlib.md5(stored).digest() == hashlib.md5(body).digest()
    assert result["files"][0]["url"].startswith("s3://lake/rtc/trtc/")
    # a re-run finds every object with the same size and MD5 and copies nothing
    again = copy_op(
        manifest,
        "s3://lake/rtc",
        destination_conn_id=S3_CONN,
        source_bucket="s3://rec-source/recordings/{task_id}",
        source_conn_id=S3_CONN,
    ).execute({})
    assert again == result


def test_http_source_to_s3_lake(sandbox: SandboxServer, s3: Any) -> None:
    _, manifest = trtc_vod_recording(sandbox, users=1)
    copy_op(manifest, "s3://lake/x", destination_conn_id=S3_CONN, layout="{name}").execute({})
    keys = {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket="lake")["Contents"]}
    assert keys == {f"x/{f['name']}": f["size"] for f in manifest["files"]}


def test_asset_events_are_the_manifests_and_the_result_is_emitted(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    from airflow.sdk import Asset

    _, one = trtc_vod_recording(sandbox, users=1)
    _, two = trtc_vod_recording(sandbox, users=1)

    class Event:
        def __init__(self, extra: dict[str, Any]) -> None:
            self.extra = extra

    class Outlet:
        extra: dict[str, Any] = {}

    lake = Asset("rtc://lake")
    outlet_events = {lake: Outlet()}
    context = {
        "triggering_asset_events": {
            Asset("rtc://recordings"): [
                Event({"manifest": one}),
                Event({"from_trigger": True, "payload": {"status": "done", "manifest": two}}),
            ]
        },
        "outlet_events": outlet_events,
    }
    op = CopyRecordingsOperator(
        task_id="copy", destination=str(tmp_path), outlets=[lake], allow_private_sources=True
    )
    results = op.execute(context)
    assert [r["task_id"] for r in results] == [one["task_id"], two["task_id"]]
    assert outlet_events[lake].extra == {"manifests": results}
    assert len(lake_files(tmp_path)) == len(one["files"]) + len(two["files"])


def test_validation_before_any_download(tmp_path: Path) -> None:
    manifest = {"cloud": "zego", "task_id": "t", "files": [{"name": "a.mp4", "status": "uploaded"}]}
    with pytest.raises(RtcValidationError, match="layout"):
        copy_op(manifest, str(tmp_path), layout="{task_id}").execute({})
    with pytest.raises(RtcValidationError, match="no URL, no VOD FileId"):
        copy_op(manifest, str(tmp_path)).execute({})
    with pytest.raises(RtcValidationError, match="manifest"):
        copy_op("not json", str(tmp_path)).execute({})
    with pytest.raises(RtcValidationError, match="source"):
        CopyRecordingsOperator(task_id="c", destination="x", source="ftp")
    with pytest.raises(RtcValidationError, match=r"destination.*scheme one of"):
        copy_op({**manifest, "files": []}, "nope://bucket/x").execute({})
    with pytest.raises(RtcValidationError, match=r"no filesystem for gs://.*gcsfs"):
        copy_op({**manifest, "files": []}, "gs://bucket/x", destination_conn_id="gcs").execute({})


def test_zego_recording_from_its_sensor_manifest(sandbox: SandboxServer, tmp_path: Path) -> None:
    from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook
    from airflow_provider_rtc.sensors.zego import ZegoRecordingUploadedSensor

    spec = {"rooms": 1, "users_per_room": 1, "streams_per_room": 2, "recordings": 1}
    task_id = sandbox.seed({"zego": spec})["zego"]["recordings"][0]["task_id"]
    ZegoCloudRecordHook().stop_record(task_id)
    sensor = ZegoRecordingUploadedSensor(
        task_id="wait", recording_task_id=task_id, poke_interval=0.05, timeout=10, deferrable=False
    )
    manifest = sensor.execute({})
    assert all(f["url"].startswith(sandbox.url) for f in manifest["files"])
    result = copy_op(manifest, str(tmp_path), layout="{cloud}/{room_id}/{name}").execute({})
    assert lake_files(tmp_path) == {
        f"zego/{manifest['room_id']}/{f['name']}": f["size"] for f in manifest["files"]
    }
    assert all(f["url"].startswith("file://") for f in result["files"])


def test_a_cut_download_into_a_local_lake_resumes_with_a_range(
    sandbox: SandboxServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from .conftest import vod_media

    added = vod_media(sandbox, "long.mp4", 3_000_000)
    manifest = {
        "cloud": "trtc",
        "app_id": 1,
        "task_id": "t",
        "room_id": "r",
        "files": [{"name": "long.mp4", "url": added["url"], "size": 3_000_000, "status": "uploaded"}],
    }
    set_faults(sandbox, [{"action": "Download", "kind": "short", "count": 1}])
    copy_op(manifest, str(tmp_path), layout="{name}").execute({})
    # the bytes before the cut (whole chunks of them) are kept; the rest comes with a Range request
    assert re.search(r"resuming at byte [1-9]\d*", caplog.text), caplog.text
    body = (tmp_path / "long.mp4").read_bytes()
    assert body == media.content(f"vod/{added['file_id']}/long.mp4", 0, 3_000_000)
    assert lake_files(tmp_path) == {"long.mp4": 3_000_000}


def test_a_cut_download_into_s3_starts_over(sandbox: SandboxServer, s3: Any) -> None:
    _, manifest = trtc_vod_recording(sandbox, users=1)
    set_faults(sandbox, [{"action": "Download", "kind": "short", "count": 1}])
    copy_op(manifest, "s3://lake/x", destination_conn_id=S3_CONN, layout="{name}").execute({})
    keys = {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket="lake")["Contents"]}
    assert keys == {f"x/{f['name']}": f["size"] for f in manifest["files"]}  # no partial object left


def test_openlineage_inputs_are_the_recordings_and_outputs_the_copies(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    _, manifest = trtc_vod_recording(sandbox, users=1)
    op = copy_op(manifest, str(tmp_path), layout="{task_id}/{name}")
    op.execute({})
    lineage = op.get_openlineage_facets_on_complete(None)
    host = sandbox.url.split("://", 1)[1]
    assert [(d.namespace, d.name) for d in lineage.inputs] == [
        (f"http://{host}", f"_sandbox/vod/{f['file_id']}/{f['name']}") for f in manifest["files"]
    ]
    assert [(d.namespace, d.name) for d in lineage.outputs] == [
        ("file", f"{tmp_path}/{manifest['task_id']}/{f['name']}") for f in manifest["files"]
    ]


def test_progress_line_says_files_bytes_rate_and_eta() -> None:
    from airflow_provider_rtc.recordings.copy import Progress

    now = [100.0]
    lines: list[str] = []

    class Log:
        def info(self, fmt: str, *args: Any) -> None:
            lines.append(fmt % args)

    progress = Progress(
        total_files=2, total_bytes=4 * 1024 * 1024, interval=5, logger=Log(), clock=lambda: now[0]
    )
    now[0] += 2
    progress.add_bytes(2 * 1024 * 1024)  # not due yet: no line
    assert lines == []
    now[0] += 4
    progress.add_bytes(1024 * 1024)
    assert lines == [
        "copy progress: files 0/2 (0 already there), bytes 3.0 MiB/4.0 MiB, rate 512.0 KiB/s, ETA 2 s"
    ]
    progress.file_done(skipped_bytes=None)
    progress.file_done(skipped_bytes=1024 * 1024)  # the last file always reports
    assert lines[-1].startswith("copy progress: files 2/2 (1 already there), bytes 3.0 MiB/3.0 MiB")
