"""Hostile callers against the receiver (issue 9): a chunked 100 MiB body with the receiver's memory
measured in its own process, replayed and stale ZEGO callbacks (also across a restart), non-ASCII
headers, deep JSON, malformed requests - each answered 4xx, never 500 - and blank keys refused."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest

from airflow_provider_rtc.callbacks import cli
from airflow_provider_rtc.callbacks.auth import SIGNATURE_HEADER, TIMESTAMP_HEADER
from airflow_provider_rtc.callbacks.config import ReceiverConfig
from airflow_provider_rtc.callbacks.http import json_too_deep
from airflow_provider_rtc.callbacks.store import CallbackStore
from airflow_provider_rtc.signing.callbacks import trtc_callback_sign
from tests.support.receiver import (
    APP,
    KEY,
    NOW,
    SECRET,
    ZEGO_APP,
    TestClient,
    receiver_client,
    receiver_config,
    zego_callback,
)

from .conftest import trtc_event

MIB = 1024 * 1024


def signed_trtc(client: TestClient, raw: bytes, **headers: str) -> httpx.Response:
    all_headers = {"SdkAppId": APP, "Sign": trtc_callback_sign(raw, KEY), **headers}
    return client.post("/trtc/callback", content=raw, headers=all_headers)


# -- ZEGO replay and freshness ---------------------------------------------------------------------


def test_zego_callback_is_accepted_once_and_its_identical_retry_is_a_duplicate(tmp_path: Path) -> None:
    cfg = receiver_config(tmp_path)
    client = receiver_client(cfg)
    body = json.dumps(zego_callback()).encode()
    assert client.post("/zego/callback", content=body).status_code == 200
    assert client.post("/zego/callback", content=body).status_code == 200  # the vendor's retry
    (stored,) = CallbackStore(cfg.db_path).events("zego", ZEGO_APP, "X3CgNeE4I1qAAABN")
    assert stored.deliveries == 2


def test_replayed_zego_nonce_with_another_body_is_refused_also_after_a_restart(tmp_path: Path) -> None:
    cfg = receiver_config(tmp_path)
    assert receiver_client(cfg).post("/zego/callback", json=zego_callback()).status_code == 200
    forged = zego_callback(task_id="someone-elses-task", detail={"upload_status": 1, "file_info": [{}]})
    restarted = receiver_client(cfg, NOW + 60)  # a new process on the same store
    resp = restarted.post("/zego/callback", json=forged)
    assert resp.status_code == 409 and "nonce" in resp.json()["message"]
    assert CallbackStore(cfg.db_path).events("zego", ZEGO_APP, "someone-elses-task") == []


@pytest.mark.parametrize("age", [301, -301, 86_400 * 365])
def test_stale_or_future_zego_callbacks_are_refused(tmp_path: Path, age: int) -> None:
    client = receiver_client(receiver_config(tmp_path))
    resp = client.post("/zego/callback", json=zego_callback(timestamp=NOW - age))
    assert resp.status_code == 401 and "stale" in resp.json()["message"]


def test_zego_window_is_configurable_and_nonces_are_forgotten_after_it(tmp_path: Path) -> None:
    cfg = receiver_config(tmp_path, zego_max_age=30.0)
    assert (
        receiver_client(cfg).post("/zego/callback", json=zego_callback(timestamp=NOW - 40)).status_code == 401
    )
    assert receiver_client(cfg).post("/zego/callback", json=zego_callback(nonce="a")).status_code == 200
    later = receiver_client(cfg, NOW + 61)  # past 2 x the window: the old nonce row is pruned...
    assert later.post("/zego/callback", json=zego_callback(nonce="b", timestamp=NOW + 61)).status_code == 200
    # ...and a replay of the old callback still fails, on its signed timestamp
    assert later.post("/zego/callback", json=zego_callback(nonce="a")).status_code == 401


# -- non-ASCII headers, deep JSON, malformed requests: 4xx, never 500 ------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Sign": "sïgn=="},
        {"Sign": "\udcff".encode("utf-8", "surrogateescape").decode("latin-1")},
        {"SdkAppId": "\uff11\uff14\uff10\uff10"},
        {"SdkAppId": "14\u00e900"},
    ],
)
def test_non_ascii_trtc_headers_are_401_not_500(tmp_path: Path, headers: dict[str, str]) -> None:
    client = receiver_client(receiver_config(tmp_path))
    raw = json.dumps(trtc_event("t", 305, {"Status": 0})).encode()
    encoded = {k: v.encode("utf-8") for k, v in {"SdkAppId": APP, "Sign": "x", **headers}.items()}
    resp = client.post("/trtc/callback", content=raw, headers=encoded)  # type: ignore[arg-type]
    assert resp.status_code == 401


def test_non_ascii_read_signature_is_401_not_500(tmp_path: Path) -> None:
    client = receiver_client(receiver_config(tmp_path))
    headers = {TIMESTAMP_HEADER: str(int(time.time())).encode(), SIGNATURE_HEADER: "sïg".encode()}
    resp = client.get(f"/trtc/{APP}/tasks/t/events", headers=headers)  # type: ignore[arg-type]
    assert resp.status_code == 401
    headers[TIMESTAMP_HEADER] = "\uff11\uff17\uff10\uff10".encode()
    resp = client.get(f"/trtc/{APP}/tasks/t/events", headers=headers)  # type: ignore[arg-type]
    assert resp.status_code == 401


def test_non_ascii_zego_fields_are_401_not_500(tmp_path: Path) -> None:
    client = receiver_client(receiver_config(tmp_path))
    for field in ("nonce", "timestamp", "signature"):
        body = {**zego_callback(), field: "\u00f1\ud800"}
        raw = json.dumps(body).encode()  # \ud800 travels as an escape and decodes to a lone surrogate
        assert client.post("/zego/callback", content=raw).status_code == 401


@pytest.mark.parametrize("depth", [33, 10_000, 100_000])
def test_deep_json_is_400_before_parsing(tmp_path: Path, depth: int) -> None:
    client = receiver_client(receiver_config(tmp_path, max_body_bytes=4 * MIB))
    raw = b'{"EventGroupId":3,"x":' + b"[" * depth + b"]" * depth + b"}"
    resp = signed_trtc(client, raw)
    assert resp.status_code == 400 and "deeper" in resp.json()["message"]
    assert client.post("/zego/callback", content=raw).status_code == 400  # unsigned: still 4xx


def test_json_depth_counts_brackets_outside_strings_only() -> None:
    assert not json_too_deep(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}')
    assert not json_too_deep(b'{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}')
    assert json_too_deep(b"[" * 33 + b"]" * 33) and not json_too_deep(b"[" * 32 + b"]" * 32)


@pytest.mark.parametrize(
    "payload",
    [
        {"EventGroupId": 3, "EventType": 310, "EventInfo": {"TaskId": "t", "Payload": {"FileMessage": 7}}},
        {"EventGroupId": 3, "EventType": 305, "EventInfo": {"TaskId": "t", "EventMsTs": 10**30}},
        {"EventGroupId": 3, "EventType": 311, "EventInfo": {"TaskId": "t", "Payload": {"Status": 10**30}}},
        {"EventGroupId": 3, "EventType": 10**30, "EventInfo": {"TaskId": ["t"]}},
    ],
)
def test_signed_but_malformed_trtc_callbacks_are_4xx(tmp_path: Path, payload: dict[str, Any]) -> None:
    resp = signed_trtc(receiver_client(receiver_config(tmp_path)), json.dumps(payload).encode())
    assert 400 <= resp.status_code < 500 or resp.status_code == 200  # refused, or stored harmlessly


def test_malformed_requests_are_4xx(tmp_path: Path) -> None:
    client = receiver_client(receiver_config(tmp_path))
    assert client.post("/zego/callback", content=b"\xff\xfe\x00garbage").status_code == 400
    assert (
        client.post("/zego/callback", content=b"&".join(b"k%d=v" % i for i in range(500))).status_code == 400
    )
    assert client.post("/zego/callback", content=b"[1,2]").status_code == 400  # not an object
    assert client.post("/zego/callback", content=b"", headers={"Content-Length": "x1"}).status_code == 400
    assert signed_trtc(client, b"\xff not json").status_code == 400


# -- configuration refused at start ------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "   ", " key", "key\n"])
def test_blank_or_padded_keys_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="callback key"):
        ReceiverConfig(db_path=str(tmp_path / "x"), trtc_keys={"*": key})
    with pytest.raises(ValueError, match="callback key"):
        ReceiverConfig.from_mapping({"RTC_ZEGO_CALLBACK_SECRETS": json.dumps({"1": key})})
    with pytest.raises(ValueError, match="callback key"):
        ReceiverConfig.from_mapping({"RTC_TRTC_CALLBACK_KEY": key})


def test_cli_refuses_a_padded_key(monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path) -> None:
    monkeypatch.setenv("RTC_TRTC_CALLBACK_KEY", "key ")
    assert cli.main(["--db", str(tmp_path / "c.sqlite3")]) == 2
    err = capsys.readouterr().err
    assert "whitespace" in err and "key " not in err.replace("callback key ", "")


def test_plugin_starts_in_the_api_server_warns_without_keys_and_prunes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from airflow_provider_rtc.plugins import callbacks as plugin

    db = tmp_path / "plugin.sqlite3"
    store = CallbackStore(db)
    store.put(cloud="trtc", app_id=APP, task_id="old", event_type=305, file_key="", status=0,
              event_ms=1, body={}, now=time.time() - 30 * 86400)  # fmt: skip
    for name in ("RTC_TRTC_CALLBACK_KEY", "RTC_ZEGO_CALLBACK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__DB_PATH", str(db))
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__ENABLED", "true")  # mounted without a key: asked for
    monkeypatch.setitem(sys.modules, plugin.API_SERVER_MODULE, sys.modules[__name__])
    fresh = plugin.LazyReceiverApp()
    monkeypatch.setattr(plugin, "receiver_app", fresh)
    monkeypatch.setattr(plugin.RtcCallbacksPlugin, "fastapi_apps", plugin.RtcCallbacksPlugin.fastapi_apps)
    log = mock.Mock()
    monkeypatch.setattr(plugin, "log", log)
    plugin.RtcCallbacksPlugin.on_load()
    assert fresh._app is not None  # started at load, not at the first request
    (warning,) = log.warning.call_args_list
    assert "no callback key" in warning.args[0] % warning.args[1:]
    assert store.events("trtc", APP, "old") == []  # pruned as the CLI does


def test_plugin_with_a_refused_key_answers_503_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from fastapi import FastAPI

    from airflow_provider_rtc.plugins import callbacks as plugin

    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__TRTC_CALLBACK_KEY", "padded ")
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__DB_PATH", str(tmp_path / "p.sqlite3"))
    api = FastAPI()
    api.mount(plugin.URL_PREFIX, plugin.LazyReceiverApp())
    resp = TestClient(api).post("/rtc-callbacks/trtc/callback", content=b"{}")
    assert resp.status_code == 503 and "whitespace" in resp.json()["message"]
    assert "padded" not in resp.text


# -- a chunked 100 MiB body: memory bounded in the receiver's own process ---------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


def _send_chunked(port: int, path: str, total: int, chunk: int, headers: dict[str, str]) -> tuple[int, str]:
    """Stream ``total`` bytes as a chunked body until the server answers or hangs up."""
    sent = 0
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n{head}\r\n".encode())
        piece = b"%x\r\n" % chunk + b"[" * chunk + b"\r\n"
        try:
            while sent < total:
                sock.sendall(piece)
                sent += chunk
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the receiver stopped reading and closed: that is the point
        try:
            answer = sock.recv(4096).decode("latin-1")
        except OSError:
            answer = ""
    return sent, answer.split("\r\n", 1)[0]


@pytest.mark.slow  # a 100 MiB body streamed through the receiver: benchmark-sized
@pytest.mark.parametrize("route", ["/trtc/callback", "/zego/callback"])
def test_chunked_100_mib_body_keeps_the_receivers_memory_bounded(tmp_path: Path, route: str) -> None:
    port = _free_port()
    env = {**os.environ, "RTC_TRTC_CALLBACK_KEY": KEY, "RTC_ZEGO_CALLBACK_SECRET": SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_rtc.callbacks.cli", "--port", str(port),
         "--db", str(tmp_path / "m.sqlite3"), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "receiver did not start"
            time.sleep(0.1)
        raw = json.dumps(trtc_event("warm", 301, {"Status": 0})).encode()
        httpx.post(f"http://127.0.0.1:{port}/trtc/callback", content=raw,
                   headers={"SdkAppId": APP, "Sign": trtc_callback_sign(raw, KEY)})  # fmt: skip
        before = _rss_kib(proc.pid, "VmHWM")
        sent, status = _send_chunked(port, route, 100 * MIB, 64 * 1024, {"SdkAppId": APP, "Sign": "x"})
        assert status.startswith("HTTP/1.1 413"), status
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        peak = _rss_kib(proc.pid, "VmHWM")
        print(
            f"\nreceiver {route}: chunked body offered 100 MiB, sent {sent / MIB:.1f} MiB before the 413; "
            f"peak RSS {before / 1024:.1f} MiB before -> {peak / 1024:.1f} MiB after "
            f"(+{(peak - before) / 1024:.1f} MiB)"
        )
        assert peak - before < 16 * 1024  # KiB: the 1 MiB limit plus buffers, never the body
    finally:
        proc.terminate()
        proc.wait(timeout=30)
