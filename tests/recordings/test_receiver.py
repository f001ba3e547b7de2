"""The callback receiver end to end: the vendors' documented signature vectors accepted over HTTP,
forged or missing signatures rejected with 401, TRTC answered with 200 {"code":0}, an idempotent
store, and reads that only a signed, fresh request may make."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from airflow_provider_rtc.callbacks import cli
from airflow_provider_rtc.callbacks.app import create_app
from airflow_provider_rtc.callbacks.auth import sign_read
from airflow_provider_rtc.callbacks.config import ReceiverConfig
from airflow_provider_rtc.callbacks.store import CallbackStore
from airflow_provider_rtc.signing.callbacks import trtc_callback_sign

from .conftest import mp4_310, trtc_event

with warnings.catch_warnings():  # starlette asks for httpx2, which is not a dependency here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

# trtc.io/54914 and EN 647/45169: key 123654, this exact body, this Sign.
TRTC_DOC_KEY = "123654"
TRTC_DOC_BODY = (
    b'{\n\t"EventGroupId":\t2,\n\t"EventType":\t204,\n\t"CallbackTs":\t1664209748188,\n\t"EventInfo":\t{\n'
    b'\t\t"RoomId":\t8489,\n\t\t"EventTs":\t1664209748,\n\t\t"EventMsTs":\t1664209748180,\n'
    b'\t\t"UserId":\t"user_85034614",\n\t\t"Reason":\t0\n\t}\n}'
)
TRTC_DOC_SIGN = "kkoFeO3Oh2ZHnjtg8tEAQhtXK16/KI05W3BQff8IvGA="
# ZEGO callback docs: nonce 123412, timestamp 1470820198, secret 'secret'.
ZEGO_DOC = {
    "nonce": "123412",
    "timestamp": "1470820198",
    "signature": "5bd59fd62953a8059fb7eaba95720f66d19e4517",
}
ZEGO_DOC_SECRET = "secret"
APP = "1400000001"


@pytest.fixture
def config(tmp_path: Any) -> ReceiverConfig:
    return ReceiverConfig(
        db_path=str(tmp_path / "cb.sqlite3"),
        trtc_keys={"*": TRTC_DOC_KEY, "1400000009": "another-apps-key"},
        zego_secrets={"*": ZEGO_DOC_SECRET},
    )


ZEGO_DOC_TIME = 1470820198.0  # the receiver's clock for the documented ZEGO vector (freshness window)


@pytest.fixture
def client(config: ReceiverConfig) -> TestClient:
    return TestClient(create_app(config, clock=lambda: ZEGO_DOC_TIME + 5))


def post_trtc(client: TestClient, raw: bytes, sign: str | None, app: str = APP) -> Any:
    headers = {"Content-Type": "application/json", "SdkAppId": app}
    if sign is not None:
        headers["Sign"] = sign
    return client.post("/trtc/callback", content=raw, headers=headers)


def read(client: TestClient, path: str, key: str, **kw: Any) -> Any:
    return client.get(path, headers=sign_read(key, path, **kw))


# -- TRTC ----------------------------------------------------------------------------------------


def test_trtc_documented_vector_is_accepted_with_code_0(client: TestClient) -> None:
    assert trtc_callback_sign(TRTC_DOC_BODY, TRTC_DOC_KEY) == TRTC_DOC_SIGN
    resp = post_trtc(client, TRTC_DOC_BODY, TRTC_DOC_SIGN)
    assert resp.status_code == 200 and resp.json() == {"code": 0}


@pytest.mark.parametrize(
    "raw, sign",
    [
        (TRTC_DOC_BODY, None),  # missing
        (TRTC_DOC_BODY, ""),  # empty
        (TRTC_DOC_BODY.replace(b"8489", b"8488"), TRTC_DOC_SIGN),  # body changed after signing
        (json.dumps(json.loads(TRTC_DOC_BODY)).encode(), TRTC_DOC_SIGN),  # re-serialized body
        (TRTC_DOC_BODY, trtc_callback_sign(TRTC_DOC_BODY, "wrong-key")),  # wrong key
    ],
)
def test_trtc_bad_or_missing_sign_is_401(client: TestClient, raw: bytes, sign: str | None) -> None:
    resp = post_trtc(client, raw, sign)
    assert resp.status_code == 401
    assert TRTC_DOC_KEY not in resp.text


def test_trtc_key_is_chosen_by_the_sdkappid_header(client: TestClient, config: ReceiverConfig) -> None:
    body = json.dumps(trtc_event("t1", 301, {"Status": 0})).encode()
    assert (
        post_trtc(client, body, trtc_callback_sign(body, TRTC_DOC_KEY), app="1400000009").status_code == 401
    )
    assert (
        post_trtc(client, body, trtc_callback_sign(body, "another-apps-key"), app="1400000009").status_code
        == 200
    )
    events = CallbackStore(config.db_path).events("trtc", "1400000009", "t1")
    assert [e.event_type for e in events] == [301]


def test_trtc_recording_events_are_stored_other_groups_only_acknowledged(
    client: TestClient, config: ReceiverConfig
) -> None:
    body = json.dumps(trtc_event("t1", 305, {"LeaveCode": 0})).encode()
    assert post_trtc(client, body, trtc_callback_sign(body, TRTC_DOC_KEY)).json() == {"code": 0}
    assert post_trtc(client, TRTC_DOC_BODY, TRTC_DOC_SIGN).status_code == 200
    (stored,) = CallbackStore(config.db_path).events("trtc", APP, "t1")
    assert (stored.event_type, stored.status, stored.file_key) == (305, 0, "")
    assert stored.body == json.loads(body)


def test_trtc_signed_garbage_is_400_not_stored(client: TestClient) -> None:
    raw = b"not json"
    assert post_trtc(client, raw, trtc_callback_sign(raw, TRTC_DOC_KEY)).status_code == 400


# -- ZEGO ----------------------------------------------------------------------------------------


def zego_body(**overrides: Any) -> dict[str, Any]:
    return {
        "app_id": 1234567890,
        "task_id": "X3CgNeE4I1qAAABN",
        "room_id": "room_1",
        "event_type": 1,
        "message": "upload finished",
        "sequence": 3,
        "detail": {"upload_status": 1, "file_info": []},
        **ZEGO_DOC,
        **overrides,
    }


def test_zego_documented_vector_is_accepted_end_to_end(client: TestClient, config: ReceiverConfig) -> None:
    resp = client.post("/zego/callback", json=zego_body())
    assert resp.status_code == 200
    (stored,) = CallbackStore(config.db_path).events("zego", "1234567890", "X3CgNeE4I1qAAABN")
    assert stored.event_type == 1 and stored.status == 1 and stored.file_key == "seq:3"
    assert "signature" not in stored.body and "nonce" not in stored.body


def test_zego_form_encoded_rtc_callback_with_prefixed_task_id(
    client: TestClient, config: ReceiverConfig
) -> None:
    form = {"appid": "1234567890", "event": "mix_stop", "task_id": "1234567890:mix_1", **ZEGO_DOC}
    assert client.post("/zego/callback", data=form).status_code == 200
    (stored,) = CallbackStore(config.db_path).events("zego", "1234567890", "mix_1")
    assert stored.event_type == "mix_stop"


@pytest.mark.parametrize(
    "overrides",
    [
        {"signature": "0" * 40},
        {"signature": ""},
        {"nonce": "123413"},
        {"timestamp": "1470820199"},
    ],
)
def test_zego_bad_or_missing_signature_is_401(client: TestClient, overrides: dict[str, str]) -> None:
    assert client.post("/zego/callback", json=zego_body(**overrides)).status_code == 401


def test_zego_missing_signature_field_is_401(client: TestClient) -> None:
    body = zego_body()
    del body["signature"]
    assert client.post("/zego/callback", json=body).status_code == 401


def test_no_keys_configured_rejects_everything(tmp_path: Any) -> None:
    config = ReceiverConfig(db_path=str(tmp_path / "x.sqlite3"))
    client = TestClient(create_app(config, clock=lambda: ZEGO_DOC_TIME))
    assert post_trtc(client, TRTC_DOC_BODY, TRTC_DOC_SIGN).status_code == 401
    assert client.post("/zego/callback", json=zego_body()).status_code == 401


# -- the store -------------------------------------------------------------------------------------


def test_store_keys_by_file_so_each_mp4_is_its_own_slot(client: TestClient, config: ReceiverConfig) -> None:
    for name in ("a_1.mp4", "b_1.mp4", "a_1.mp4"):
        body = json.dumps(mp4_310("t2", name)).encode()
        post_trtc(client, body, trtc_callback_sign(body, TRTC_DOC_KEY))
    rows = CallbackStore(config.db_path).events("trtc", APP, "t2")
    assert sorted((r.file_key, r.deliveries) for r in rows) == [("a_1.mp4", 2), ("b_1.mp4", 1)]


# -- authenticated reads ---------------------------------------------------------------------------


def stored_task(client: TestClient) -> str:
    body = json.dumps(trtc_event("t3", 305, {"Status": 0})).encode()
    post_trtc(client, body, trtc_callback_sign(body, TRTC_DOC_KEY))
    return f"/trtc/{APP}/tasks/t3/events"


def test_signed_read_returns_the_events(client: TestClient) -> None:
    resp = read(client, stored_task(client), TRTC_DOC_KEY)
    assert resp.status_code == 200
    data = resp.json()
    assert data["task_id"] == "t3" and [e["event_type"] for e in data["events"]] == [305]
    assert data["events"][0]["body"]["EventInfo"]["TaskId"] == "t3"


def test_reads_of_task_ids_that_need_percent_encoding(client: TestClient) -> None:
    from airflow_provider_rtc.callbacks.client import ReceiverTarget

    task_id = "-m9+bVVU7k801X-VX8gO/fTXqywE."  # TRTC TaskIds are base64: '+' travels as %2B
    body = json.dumps(trtc_event(task_id, 305, {"Status": 0})).encode()
    post_trtc(client, body, trtc_callback_sign(body, TRTC_DOC_KEY))
    target = ReceiverTarget(url="http://testserver", key=TRTC_DOC_KEY)
    url, path = target.events_url("trtc", APP, task_id)
    assert "%2B" in path and "%2F" in path
    resp = client.get(url, headers=sign_read(TRTC_DOC_KEY, path))
    assert resp.status_code == 200 and resp.json()["events"][0]["body"]["EventInfo"]["TaskId"] == task_id


def test_reads_without_signature_or_stale_or_wrong_key_are_401(client: TestClient) -> None:
    import time

    path = stored_task(client)
    assert client.get(path).status_code == 401
    assert "unsigned" in client.get(path).json()["message"]
    stale = read(client, path, TRTC_DOC_KEY, now=time.time() - 3600)
    assert stale.status_code == 401 and "stale" in stale.json()["message"]
    assert read(client, path, "wrong-key").status_code == 401
    # a signature for one path does not open another
    other = client.get(f"/trtc/{APP}/tasks/other/events", headers=sign_read(TRTC_DOC_KEY, path))
    assert other.status_code == 401
    # reading another application's events needs that application's key
    assert read(client, "/trtc/1400000009/tasks/t3/events", TRTC_DOC_KEY).status_code == 401


def test_the_receivers_read_window_is_judged_on_its_own_clock(client: TestClient) -> None:
    """The receiver's clock is injectable (callbacks.auth.use_clock): a read signed at a fixed time
    passes up to the window's edge (300 s) and not a second past it, with no waiting."""
    from airflow_provider_rtc.callbacks import auth

    path = stored_task(client)
    signed_at = 1_700_000_000
    headers = sign_read(TRTC_DOC_KEY, path, now=signed_at)
    previous = auth.use_clock(lambda: signed_at + 300)
    try:
        assert client.get(path, headers=headers).status_code == 200
        auth.use_clock(lambda: signed_at + 301)
        late = client.get(path, headers=headers)
        assert late.status_code == 401 and "stale" in late.json()["message"]
        auth.use_clock(lambda: signed_at - 301)  # the reader's clock ahead: as stale
        assert client.get(path, headers=headers).status_code == 401
    finally:
        auth.use_clock(previous)


def test_zego_reads_use_the_callback_secret(client: TestClient) -> None:
    client.post("/zego/callback", json=zego_body())
    path = "/zego/1234567890/tasks/X3CgNeE4I1qAAABN/events"
    assert read(client, path, TRTC_DOC_KEY).status_code == 401
    resp = read(client, path, ZEGO_DOC_SECRET)
    assert resp.status_code == 200 and resp.json()["events"][0]["event_type"] == 1


def test_mounted_under_a_prefix_reads_sign_the_full_path(config: ReceiverConfig) -> None:
    outer = Starlette(routes=[Mount("/rtc-callbacks", app=create_app(config))])
    client = TestClient(outer)
    body = json.dumps(trtc_event("t4", 305, {"Status": 0})).encode()
    assert post_trtc_path(client, "/rtc-callbacks/trtc/callback", body).status_code == 200
    path = f"/rtc-callbacks/trtc/{APP}/tasks/t4/events"
    assert read(client, path, TRTC_DOC_KEY).json()["events"][0]["event_type"] == 305
    assert client.get("/rtc-callbacks/healthz").json() == {"status": "ok"}


def post_trtc_path(client: TestClient, path: str, raw: bytes) -> Any:
    headers = {"SdkAppId": APP, "Sign": trtc_callback_sign(raw, TRTC_DOC_KEY)}
    return client.post(path, content=raw, headers=headers)


def test_body_size_is_limited(tmp_path: Any) -> None:
    config = ReceiverConfig(db_path=str(tmp_path / "l.sqlite3"), trtc_keys={"*": "k"}, max_body_bytes=100)
    client = TestClient(create_app(config))
    raw = b"{" + b" " * 200 + b"}"
    assert post_trtc_path(client, "/trtc/callback", raw).status_code == 413


# -- configuration, CLI, plugin --------------------------------------------------------------------


def test_config_from_environment_never_shows_keys() -> None:
    config = ReceiverConfig.from_mapping(
        {
            "RTC_CALLBACK_DB": "/tmp/x.sqlite3",
            "RTC_TRTC_CALLBACK_KEY": "default-key",
            "RTC_TRTC_CALLBACK_KEYS": '{"1400000002": "app2-key"}',
            "RTC_ZEGO_CALLBACK_SECRET": "zsecret",
        }
    )
    assert config.trtc_key("1400000002") == "app2-key" and config.trtc_key(1400000003) == "default-key"
    assert config.zego_secret("1") == "zsecret" and config.db_path == "/tmp/x.sqlite3"
    assert "default-key" not in repr(config) and "zsecret" not in repr(config)
    with pytest.raises(ValueError, match="JSON object"):
        ReceiverConfig.from_mapping({"RTC_TRTC_CALLBACK_KEYS": "[1]"})


def test_keys_file(tmp_path: Any) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"trtc": {"*": "a", "1400000002": "b"}, "zego": {"*": "z"}}))
    config = ReceiverConfig.from_mapping({}).with_keys_file(keys)
    assert (
        config.trtc_key("1400000002") == "b"
        and config.trtc_key("9") == "a"
        and config.zego_secret(None) == "z"
    )


def test_cli_refuses_to_start_without_keys(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Any
) -> None:
    for name in (
        "RTC_TRTC_CALLBACK_KEY",
        "RTC_TRTC_CALLBACK_KEYS",
        "RTC_ZEGO_CALLBACK_SECRET",
        "RTC_ZEGO_CALLBACK_SECRETS",
    ):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["--db", str(tmp_path / "c.sqlite3")]) == 2
    assert "no callback key" in capsys.readouterr().err


def test_cli_runs_uvicorn_with_the_configured_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setenv("RTC_TRTC_CALLBACK_KEY", "cli-key")

    def run(server: Any, sockets: Any = None) -> None:  # the CLI binds the socket, uvicorn serves it
        (sock,) = sockets
        seen.update(app=server.config.app, address=sock.getsockname())
        sock.close()

    monkeypatch.setattr(uvicorn.Server, "run", run)
    assert cli.main(["--db", str(tmp_path / "c.sqlite3"), "--port", "0", "--host", "127.0.0.1"]) == 0
    assert seen["address"][0] == "127.0.0.1" and seen["address"][1] > 0
    client = TestClient(seen["app"])
    raw = json.dumps(trtc_event("c1", 301, {"Status": 0})).encode()
    assert (
        client.post(
            "/trtc/callback",
            content=raw,
            headers={"SdkAppId": APP, "Sign": trtc_callback_sign(raw, "cli-key")},
        ).status_code
        == 200
    )


def test_plugin_exposes_the_receiver_lazily(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from airflow_provider_rtc.plugins import callbacks as plugin

    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__TRTC_CALLBACK_KEY", "plugin-key")
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__DB_PATH", str(tmp_path / "plugin.sqlite3"))
    # a configured key mounts it ([rtc_callbacks] enabled = auto); on_load decides, as Airflow calls it
    monkeypatch.setattr(plugin.RtcCallbacksPlugin, "fastapi_apps", [])
    plugin.RtcCallbacksPlugin.on_load()
    (entry,) = [e for e in plugin.RtcCallbacksPlugin.fastapi_apps if e["url_prefix"] == "/rtc-callbacks"]
    assert entry["url_prefix"] == "/rtc-callbacks" and entry["app"] is plugin.receiver_app
    lazy = plugin.LazyReceiverApp()
    from fastapi import FastAPI

    api = FastAPI()
    api.mount(entry["url_prefix"], lazy)
    client = TestClient(api)
    raw = json.dumps(trtc_event("p1", 305, {"Status": 0})).encode()
    headers = {"SdkAppId": APP, "Sign": trtc_callback_sign(raw, "plugin-key")}
    assert client.post("/rtc-callbacks/trtc/callback", content=raw, headers=headers).json() == {"code": 0}
    path = f"/rtc-callbacks/trtc/{APP}/tasks/p1/events"
    assert read(client, path, "plugin-key").json()["events"][0]["status"] == 0
    assert (tmp_path / "plugin.sqlite3").exists()


def test_plugin_is_a_valid_airflow_plugin() -> None:
    from airflow.plugins_manager import AirflowPlugin

    from airflow_provider_rtc.plugins.callbacks import RtcCallbacksPlugin

    assert issubclass(RtcCallbacksPlugin, AirflowPlugin)
    RtcCallbacksPlugin.validate()
    assert RtcCallbacksPlugin.name == "rtc_callbacks"


def test_receiver_and_sandbox_default_to_different_ports() -> None:
    """Both run side by side on one machine (make demo, a laptop): the defaults must not collide."""
    from rtc_sandbox.cli import build_parser as sandbox_parser

    assert cli.build_parser().parse_args([]).port == 8991
    assert sandbox_parser().parse_args([]).port == 8990
