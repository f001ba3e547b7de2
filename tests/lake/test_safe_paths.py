"""Data paths that are safe and honest (issue 19): no silent default credentials, no fetching of
private hosts (SSRF), sources contained in the task's prefix, HLS copies that play what they say,
no truncated file committed as complete, retention only in dedicated folders, and no presigned
URL in the logs. Real servers on loopback: a small HTTP origin and moto's S3."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.operators.storage import CopyRecordingsOperator, DeleteExpiredRecordingsOperator

from .origin import Origin, Route

MARKER = ".rtc-lake"


def copy_op(manifest: Any, destination: str, **kw: Any) -> CopyRecordingsOperator:
    kw.setdefault("attempt_delay", 0.01)
    kw.setdefault("attempts", 1)
    if "allow_private_sources" not in inspect.signature(CopyRecordingsOperator.__init__).parameters:
        kw.pop("allow_private_sources", None)  # the code before the fix (to check these tests fail)
    return CopyRecordingsOperator(task_id="copy", manifest=manifest, destination=destination, **kw)


def manifest_of(*files: dict[str, Any], task_id: str = "t1") -> dict[str, Any]:
    entries = [{"status": "uploaded", **f} for f in files]
    return {"cloud": "trtc", "app_id": 1, "task_id": task_id, "room_id": "r", "files": entries}


def lake_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file() and p.name != MARKER
    }


@pytest.fixture
def origin() -> Iterator[Origin]:
    server = Origin()
    yield server
    server.stop()


def treat_as_public(
    monkeypatch: pytest.MonkeyPatch, address: str, names: dict[str, str] | None = None
) -> None:
    """Loopback stands in for the internet: ``address`` counts as public and ``names`` resolve to
    it (the code before the fix has no guard to teach: then this does nothing)."""
    try:
        from airflow_provider_rtc.lake import fetch
    except ImportError:
        return
    real = fetch.is_public
    monkeypatch.setattr(fetch, "is_public", lambda a: a == address or real(a))
    if names is not None:
        calls: list[str] = []
        monkeypatch.setattr(fetch, "_resolve", lambda host, port: calls.append(host) or [names[host]])
        monkeypatch.setattr(fetch, "RESOLVED_FOR_TEST", calls, raising=False)


# -- 1. remote stores need a connection ----------------------------------------------------------


def test_an_s3_destination_without_a_connection_is_refused_before_any_transfer(
    moto_server: str, s3: Any, origin: Origin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the environment points s3fs at moto, as ambient credentials would point it at AWS: the
    # copy must not use it just because no connection was named
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    origin.routes["/a.mp4"] = Route(b"x" * 100)
    manifest = manifest_of({"name": "a.mp4", "url": f"{origin.url}/a.mp4", "size": 100})
    with pytest.raises(RtcValidationError, match=r"destination_conn_id.*s3://"):
        copy_op(manifest, "s3://lake/x", allow_private_sources=True).execute({})
    assert "Contents" not in s3.list_objects_v2(Bucket="lake") and origin.requests == []
    # templated: refused once rendered, at execute, before any transfer
    op = copy_op(manifest, "{{ 's3://lake/x' }}", allow_private_sources=True)
    op.destination = "s3://lake/x"
    with pytest.raises(RtcValidationError, match="destination_conn_id"):
        op.execute({})
    with pytest.raises(RtcValidationError, match=r"source_conn_id.*s3://"):
        copy_op(manifest, str(tmp_path), source_bucket="s3://rec-source/{task_id}").execute({})
    assert origin.requests == []


def test_retention_on_s3_without_a_connection_is_refused(moto_server: str, s3: Any) -> None:
    s3.put_object(Bucket="rec-source", Key="recordings/t/a.mp4", Body=b"a")
    op = DeleteExpiredRecordingsOperator(task_id="r", older_than_days=1, bucket="s3://rec-source/recordings")
    with pytest.raises(RtcValidationError, match="bucket_conn_id"):
        op.execute({})


# -- 2. SSRF ---------------------------------------------------------------------------------------


def test_a_manifest_url_on_loopback_is_refused_unless_allowed(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/secret"] = Route(b"internal admin page")
    manifest = manifest_of({"name": "a.mp4", "url": f"{origin.url}/secret"})
    with pytest.raises(RtcValidationError, match=r"manifest.*127\.0\.0\.1.*allow_private_sources"):
        copy_op(manifest, str(tmp_path / "lake")).execute({})
    assert origin.requests == [] and lake_files(tmp_path) == {}
    copy_op(manifest, str(tmp_path / "lake"), allow_private_sources=True, layout="{name}").execute({})
    assert lake_files(tmp_path / "lake") == {"a.mp4": b"internal admin page"}


def test_a_redirect_to_a_private_address_is_refused(
    origin: Origin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    public = Origin("127.0.0.2")  # stands in for a public CDN
    try:
        treat_as_public(monkeypatch, "127.0.0.2")
        public.routes["/a.mp4"] = Route(status=302, headers={"Location": f"{origin.url}/secret"})
        origin.routes["/secret"] = Route(b"metadata credentials")
        manifest = manifest_of({"name": "a.mp4", "url": f"{public.url}/a.mp4"})
        with pytest.raises(AirflowException, match=r"source refused: 127\.0\.0\.1 resolves to 127\.0\.0\.1"):
            copy_op(manifest, str(tmp_path), layout="{name}").execute({})
        assert public.paths() == ["/a.mp4"] and origin.requests == []  # never connected
        assert lake_files(tmp_path) == {}
    finally:
        public.stop()


def test_a_host_is_resolved_once_and_the_request_goes_to_the_checked_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_rtc.lake import fetch

    public = Origin("127.0.0.2")
    try:
        treat_as_public(monkeypatch, "127.0.0.2", names={"media.example": "127.0.0.2"})
        for name in ("a.mp4", "b.mp4"):
            public.routes[f"/{name}"] = Route(name.encode() * 10)
        url = f"http://media.example:{public.port}"
        manifest = manifest_of(
            {"name": "a.mp4", "url": f"{url}/a.mp4"}, {"name": "b.mp4", "url": f"{url}/b.mp4"}
        )
        copy_op(manifest, str(tmp_path), layout="{name}").execute({})
        assert lake_files(tmp_path) == {"a.mp4": b"a.mp4" * 10, "b.mp4": b"b.mp4" * 10}
        assert fetch.RESOLVED_FOR_TEST == ["media.example"]  # type: ignore[attr-defined]
        assert {r["host"] for r in public.requests} == {f"media.example:{public.port}"}
    finally:
        public.stop()


def test_metadata_and_private_answers_are_refused() -> None:
    from airflow_provider_rtc.lake.fetch import SourceGuard, SourceRefused

    guard = SourceGuard()
    for url in (
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://[fd00:ec2::254]/latest/",
        "http://100.100.100.200/latest/meta-data/",
        "http://[::ffff:127.0.0.1]:8080/",
        "http://10.1.2.3/x",
    ):
        with pytest.raises(SourceRefused, match="allow_private_sources"):
            guard.address(url)
    mixed = SourceGuard(resolver=lambda host, port: ["93.184.216.34", "192.168.1.5"])
    with pytest.raises(SourceRefused, match=r"192\.168\.1\.5"):
        mixed.address("https://cdn.example/x.mp4")
    assert (
        SourceGuard(resolver=lambda h, p: ["93.184.216.34"]).address("https://cdn.example/x")
        == "93.184.216.34"
    )
    assert SourceGuard(allow_private=True).address("http://127.0.0.1/x") is None


# -- 3. source_bucket containment ---------------------------------------------------------------


def test_source_names_cannot_leave_the_task_prefix(tmp_path: Path) -> None:
    source = tmp_path / "rec"
    (source / "t1").mkdir(parents=True)
    (source / "t1" / "a.mp4").write_bytes(b"mine")
    (source / "othertask").mkdir()
    (source / "othertask" / "private.mp4").write_bytes(b"another task's recording")
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"a file of the worker")
    for name in ("../othertask/private.mp4", str(secret)):
        manifest = manifest_of({"name": "a.mp4"}, {"name": name})
        lake = tmp_path / f"lake-{len(name)}"
        with pytest.raises(AirflowException, match="is not in the source bucket"):
            copy_op(manifest, str(lake), source_bucket=str(source) + "/{task_id}", layout="{name}").execute(
                {}
            )
        assert b"another task's recording" not in lake_files(lake).values() if lake.exists() else True
        assert b"a file of the worker" not in lake_files(lake).values() if lake.exists() else True


def test_a_file_source_bucket_keeps_its_leading_slash(tmp_path: Path) -> None:
    source = tmp_path / "rec" / "t1"
    source.mkdir(parents=True)
    (source / "a.mp4").write_bytes(b"mine")
    manifest = manifest_of({"name": "a.mp4"})
    copy_op(
        manifest, str(tmp_path / "lake"), source_bucket=f"file://{tmp_path}/rec/{{task_id}}", layout="{name}"
    ).execute({})
    assert lake_files(tmp_path / "lake") == {"a.mp4": b"mine"}


# -- 4. HLS ----------------------------------------------------------------------------------------


def test_two_playlists_naming_the_same_segment_fail_loudly(origin: Origin, tmp_path: Path) -> None:
    for task, body in (("t1", b"first recording"), ("t2", b"second recording")):
        origin.routes[f"/{task}/{task}.m3u8"] = Route(b"#EXTM3U\n#EXTINF:2,\nseg0.ts\n#EXT-X-ENDLIST\n")
        origin.routes[f"/{task}/seg0.ts"] = Route(body)
    manifests = [
        manifest_of({"name": f"{t}.m3u8", "url": f"{origin.url}/{t}/{t}.m3u8"}, task_id=t)
        for t in ("t1", "t2")
    ]
    with pytest.raises(AirflowException, match=r"seg0.ts.*its own folder"):
        copy_op(manifests, str(tmp_path), layout="{cloud}/{name}", allow_private_sources=True).execute({})
    assert lake_files(tmp_path)["trtc/seg0.ts"] == b"first recording"
    # with a folder per recording both play their own segment
    copy_op(manifests, str(tmp_path / "ok"), layout="{task_id}/{name}", allow_private_sources=True).execute(
        {}
    )
    files = lake_files(tmp_path / "ok")
    assert files["t1/seg0.ts"] == b"first recording" and files["t2/seg0.ts"] == b"second recording"


def test_a_master_playlists_variants_and_their_segments_are_copied(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/t/master.m3u8"] = Route(
        b'#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="audio/a.m3u8"\n'
        b'#EXT-X-STREAM-INF:BANDWIDTH=800000,AUDIO="a"\nv0/index.m3u8\n'
    )
    origin.routes["/t/v0/index.m3u8"] = Route(
        b"#EXTM3U\n#EXTINF:2,\ns0.ts\n#EXTINF:2,\ns1.ts\n#EXT-X-ENDLIST\n"
    )
    origin.routes["/t/audio/a.m3u8"] = Route(b"#EXTM3U\n#EXTINF:2,\na0.aac\n#EXT-X-ENDLIST\n")
    for path in ("v0/s0.ts", "v0/s1.ts", "audio/a0.aac"):
        origin.routes[f"/t/{path}"] = Route(path.encode() * 3)
    manifest = manifest_of({"name": "master.m3u8", "url": f"{origin.url}/t/master.m3u8"})
    result = copy_op(manifest, str(tmp_path), layout="{name}", allow_private_sources=True).execute({})
    files = lake_files(tmp_path)
    assert set(files) == {
        "master.m3u8",
        "v0/index.m3u8",
        "v0/s0.ts",
        "v0/s1.ts",
        "audio/a.m3u8",
        "audio/a0.aac",
    }
    assert files["v0/s1.ts"] == b"v0/s1.ts" * 3 and files["audio/a0.aac"] == b"audio/a0.aac" * 3
    assert {s["name"] for s in result["files"][0]["segments"]} == {
        "v0/index.m3u8",
        "audio/a.m3u8",
        "s0.ts",
        "s1.ts",
        "a0.aac",
    }


def test_a_bad_segment_name_fails_that_file_only(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/t/i.m3u8"] = Route(b"#EXTM3U\n#EXTINF:2,\nok.ts\n#EXTINF:2,\n%00\n#EXT-X-ENDLIST\n")
    origin.routes["/t/ok.ts"] = Route(b"fine")
    manifest = manifest_of({"name": "i.m3u8", "url": f"{origin.url}/t/i.m3u8"})
    with pytest.raises(AirflowException, match=r"1 of 3 file\(s\).*'%00'.*control character"):
        copy_op(manifest, str(tmp_path), layout="{name}", allow_private_sources=True).execute({})
    assert lake_files(tmp_path)["ok.ts"] == b"fine"


def test_a_close_delimited_download_without_a_length_is_never_committed(
    origin: Origin, tmp_path: Path
) -> None:
    # the server means 5000 bytes but the connection closes after 1000: nothing says it was cut
    origin.routes["/t/cut.mp4"] = Route(b"y" * 1000, close_delimited=True)
    origin.routes["/t/whole.mp4"] = Route(b"z" * 1000, close_delimited=True)
    manifest = manifest_of(
        {"name": "cut.mp4", "url": f"{origin.url}/t/cut.mp4"},
        {"name": "whole.mp4", "url": f"{origin.url}/t/whole.mp4", "size": 1000},
    )
    with pytest.raises(AirflowException, match=r"1 of 2.*cut.mp4: .*no Content-Length"):
        copy_op(manifest, str(tmp_path), layout="{name}", allow_private_sources=True).execute({})
    assert lake_files(tmp_path) == {"whole.mp4": b"z" * 1000}  # the manifest gave its length


# -- 5. retention only in a dedicated local folder ----------------------------------------------


def test_retention_refuses_a_broad_local_root(tmp_path: Path) -> None:
    import os
    import time

    broad = tmp_path / "tmp"
    for name in ("other-program.log", "cache/x.bin"):
        (broad / name).parent.mkdir(parents=True, exist_ok=True)
        (broad / name).write_bytes(b"not a recording")
        old = time.time() - 400 * 86400
        os.utime(broad / name, (old, old))
    for uri in (f"file://{broad}", str(broad)):
        op = DeleteExpiredRecordingsOperator(task_id="r", older_than_days=30, destination=uri, dry_run=True)
        with pytest.raises(
            RtcValidationError, match=r"invalid destination: a folder dedicated to recordings.*\.rtc-lake"
        ):
            op.execute({})
    assert (broad / "other-program.log").exists()


def test_the_copy_marks_a_lake_it_creates_and_retention_accepts_it(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/a.mp4"] = Route(b"a" * 10)
    manifest = manifest_of({"name": "a.mp4", "url": f"{origin.url}/a.mp4"})
    lake = tmp_path / "lake"
    copy_op(manifest, str(lake), layout="{name}", allow_private_sources=True).execute({})
    assert (lake / MARKER).is_file()
    report = DeleteExpiredRecordingsOperator(task_id="r", older_than_days=30, destination=str(lake)).execute(
        {}
    )
    assert report["deleted"] == [] and (lake / "a.mp4").exists()
    busy = tmp_path / "busy"  # a folder with someone else's files is not claimed
    busy.mkdir()
    (busy / "theirs.txt").write_text("x")
    copy_op(manifest, str(busy), layout="{name}", allow_private_sources=True).execute({})
    assert not (busy / MARKER).exists()


# -- 6. presigned URLs never in the logs ----------------------------------------------------------


def test_presigned_query_values_are_redacted_in_client_logs_at_debug(
    origin: Origin, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = ["COSSIGVALUE1234", "AKIDSECRETVALUE", "AMZSIGVALUE5678", "AMZCREDVALUE", "ZEGOSIGVALUE"]
    query = (
        "q-sign-algorithm=sha1&q-ak=AKIDSECRETVALUE&q-sign-time=1;2&q-key-time=1;2&q-header-list=host"
        "&q-url-param-list=&q-signature=COSSIGVALUE1234&X-Amz-Credential=AMZCREDVALUE%2Fus"
        "&X-Amz-Signature=AMZSIGVALUE5678"
    )
    origin.routes["/start.mp4"] = Route(
        status=302, headers={"Location": f"/a.mp4?Signature=ZEGOSIGVALUE&{query}"}
    )
    origin.routes["/a.mp4"] = Route(b"a" * 10)
    manifest = manifest_of({"name": "a.mp4", "url": f"{origin.url}/start.mp4?{query}"})
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "httpcore.http11", "httpcore.connection", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)
    copy_op(manifest, str(tmp_path), layout="{name}", allow_private_sources=True).execute({})
    assert lake_files(tmp_path) == {"a.mp4": b"a" * 10}
    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request: GET" in text  # the client did log the URLs
    leaked = [s for s in secrets if s in text]
    assert not leaked, leaked
    assert "q-signature=***" in text and "X-Amz-Signature=***" in text
