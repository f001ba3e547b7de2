"""TRTC's ``Sign`` covers the body, not the ``SdkAppId`` header: the receiver accepts a TRTC
callback only for the SDKAppIDs configured for the key that verifies it (a callback of one app is
not replayed as another's), refuses the rest with a 4xx (never a 500), and warns where it cannot."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from airflow_provider_rtc.callbacks.app import create_app
from airflow_provider_rtc.callbacks.auth import sign_read
from airflow_provider_rtc.callbacks.config import ReceiverConfig
from airflow_provider_rtc.callbacks.store import CallbackStore
from tests.recordings.conftest import post_trtc, trtc_event
from tests.support.credentials import TRTC_KEY
from tests.support.servers import ThreadedServer

SERVED = 1400000001
OTHER = 1400000002
OWN = 1400000003
OWN_KEY = "ownTrtcCallbackKey0123456789abc"


def receiver(tmp_path: Path, **config: object) -> ThreadedServer:
    settings = ReceiverConfig(db_path=str(tmp_path / "callbacks.sqlite3"), **config)  # type: ignore[arg-type]
    return ThreadedServer(create_app(settings))


@pytest.fixture
def listed(tmp_path: Path) -> Iterator[ThreadedServer]:
    server = receiver(
        tmp_path, trtc_keys={"*": TRTC_KEY, str(OWN): OWN_KEY}, trtc_sdk_app_ids=frozenset({str(SERVED)})
    )
    yield server
    server.stop()


def stored(server: ThreadedServer, app: int, task_id: str) -> int:
    store = server.app.state.receiver.store
    assert isinstance(store, CallbackStore)
    return len(store.events("trtc", app, task_id))


def test_a_callback_replayed_under_another_sdk_app_id_is_refused(listed: ThreadedServer) -> None:
    body = json.dumps(trtc_event("task-1", 301)).encode()
    assert post_trtc(listed.url, body, sdk_app_id=SERVED).status_code == 200
    # the same body and Sign (valid for the shared default key) with another app's header
    replay = post_trtc(listed.url, body, sdk_app_id=OTHER)
    assert replay.status_code == 403 and "SdkAppId" in replay.json()["message"]
    assert stored(listed, SERVED, "task-1") == 1 and stored(listed, OTHER, "task-1") == 0
    # unsigned or wrongly signed: 401 as before, whatever the app
    assert post_trtc(listed.url, body, sdk_app_id=OTHER, key="wrong-key-0123456789").status_code == 401
    # an app with its own key is served by it, listed or not
    assert post_trtc(listed.url, body, sdk_app_id=OWN, key=OWN_KEY).status_code == 200
    assert post_trtc(listed.url, body, sdk_app_id=OWN).status_code == 401  # not with the default key


def test_reads_of_an_unserved_app_are_refused(listed: ThreadedServer) -> None:
    for app, status in ((SERVED, 200), (OTHER, 401)):
        path = f"/trtc/{app}/tasks/task-1/events"
        assert (
            httpx.get(listed.url + path, headers=sign_read(TRTC_KEY, path), timeout=5).status_code == status
        )


@pytest.mark.parametrize("header", ["", "abc", "1400000002\u00e9", "9" * 400])
def test_odd_sdk_app_id_headers_are_4xx_never_500(listed: ThreadedServer, header: str) -> None:
    body = json.dumps(trtc_event("task-1", 301)).encode()
    from airflow_provider_rtc.signing.callbacks import trtc_callback_sign

    headers = {"Content-Type": "application/json", "Sign": trtc_callback_sign(body, TRTC_KEY)}
    if header:
        headers["SdkAppId"] = header.encode("utf-8")  # type: ignore[assignment]
    resp = httpx.post(f"{listed.url}/trtc/callback", content=body, headers=headers, timeout=5)
    assert 400 <= resp.status_code < 500


def test_without_a_list_the_default_key_serves_any_app_and_the_receiver_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The compatible default: a receiver upgraded in place keeps its callbacks, and says why it
    should be configured."""
    with caplog.at_level(logging.WARNING):
        server = receiver(tmp_path, trtc_keys={"*": TRTC_KEY})
    try:
        body = json.dumps(trtc_event("task-1", 301)).encode()
        assert post_trtc(server.url, body, sdk_app_id=OTHER).status_code == 200
    finally:
        server.stop()
    assert "RTC_TRTC_CALLBACK_SDK_APP_IDS" in caplog.text and TRTC_KEY not in caplog.text


def test_apps_sharing_a_key_are_named_in_a_warning() -> None:
    config = ReceiverConfig(trtc_keys={str(SERVED): TRTC_KEY, str(OTHER): TRTC_KEY, str(OWN): OWN_KEY})
    (note,) = config.warnings()
    assert f"{SERVED}, {OTHER}" in note and str(OWN) not in note and TRTC_KEY not in note
    listed = ReceiverConfig(trtc_keys={"*": TRTC_KEY}, trtc_sdk_app_ids=frozenset({str(SERVED)}))
    assert listed.warnings() == []


def test_the_list_is_configured_by_env_keys_file_and_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_rtc.plugins.callbacks import receiver_config

    env = {"RTC_TRTC_CALLBACK_KEY": TRTC_KEY}
    assert ReceiverConfig.from_mapping(env).trtc_sdk_app_ids is None
    for value in ("1400000001, 1400000002", '["1400000001", 1400000002]'):
        config = ReceiverConfig.from_mapping({**env, "RTC_TRTC_CALLBACK_SDK_APP_IDS": value})
        assert config.trtc_sdk_app_ids == {"1400000001", "1400000002"}
        assert config.trtc_key(OTHER) == TRTC_KEY and config.trtc_key(OWN) is None
    for bad in ("trtc-app", "[1, ", '{"a": 1}', "[]"):
        with pytest.raises(ValueError, match="RTC_TRTC_CALLBACK_SDK_APP_IDS"):
            ReceiverConfig.from_mapping({**env, "RTC_TRTC_CALLBACK_SDK_APP_IDS": bad})
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"trtc": {"*": TRTC_KEY}, "trtc_sdk_app_ids": [SERVED]}))
    assert ReceiverConfig().with_keys_file(keys).trtc_sdk_app_ids == {str(SERVED)}
    monkeypatch.setenv("RTC_TRTC_CALLBACK_KEY", TRTC_KEY)
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__TRTC_CALLBACK_SDK_APP_IDS", str(SERVED))
    assert receiver_config().trtc_sdk_app_ids == {str(SERVED)}
