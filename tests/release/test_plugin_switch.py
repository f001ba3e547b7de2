"""``[rtc_callbacks] enabled``: the receiver plugin mounts only where it was asked for."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_rtc.plugins import callbacks as plugin

KEY_ENV = ["RTC_TRTC_CALLBACK_KEY", "RTC_TRTC_CALLBACK_KEYS", "RTC_ZEGO_CALLBACK_SECRET"]
KEY_ENV += ["RTC_ZEGO_CALLBACK_SECRETS", "RTC_LIVE_CALLBACK_KEY", "RTC_LIVE_CALLBACK_KEYS"]
KEY_OPTIONS = [name.removeprefix("RTC_") for name in KEY_ENV]


@pytest.fixture
def api_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A process that looks like the API server, no key anywhere, a fresh receiver; the SQLite path."""
    for env_name, option in zip(KEY_ENV, KEY_OPTIONS, strict=True):
        monkeypatch.delenv(env_name, raising=False)
        monkeypatch.delenv(f"AIRFLOW__RTC_CALLBACKS__{option}", raising=False)
    monkeypatch.delenv("AIRFLOW__RTC_CALLBACKS__ENABLED", raising=False)
    db = tmp_path / "plugin.sqlite3"
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__DB_PATH", str(db))
    monkeypatch.setitem(sys.modules, plugin.API_SERVER_MODULE, sys.modules[__name__])
    monkeypatch.setattr(plugin, "receiver_app", plugin.LazyReceiverApp())
    apps = list(plugin.RtcCallbacksPlugin.fastapi_apps)
    monkeypatch.setattr(plugin.RtcCallbacksPlugin, "fastapi_apps", apps)
    return db


def _receiver_entries() -> list[dict[str, Any]]:
    """The receiver's mounts (the RTC page at /rtc is always mounted too)."""
    return [e for e in plugin.RtcCallbacksPlugin.fastapi_apps if e["url_prefix"] == plugin.URL_PREFIX]


def _rtc_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("airflow_provider_rtc")
    ]


@pytest.mark.parametrize("enabled", [None, "auto", "false"])
def test_unconfigured_or_disabled_mounts_nothing_creates_no_file_and_says_nothing(
    enabled: str | None, api_server: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    if enabled is not None:
        monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__ENABLED", enabled)
    caplog.set_level(logging.DEBUG)
    plugin.RtcCallbacksPlugin.on_load()
    assert _receiver_entries() == []
    assert plugin.receiver_app._app is None
    assert not api_server.exists()
    assert _rtc_warnings(caplog) == []


def test_disabled_wins_over_a_configured_key(api_server: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__ENABLED", "False")
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__TRTC_CALLBACK_KEY", "a-key")
    plugin.RtcCallbacksPlugin.on_load()
    assert _receiver_entries() == []
    assert not api_server.exists()


@pytest.mark.parametrize(
    "env", ["AIRFLOW__RTC_CALLBACKS__ZEGO_CALLBACK_SECRET", "RTC_TRTC_CALLBACK_KEY", "RTC_LIVE_CALLBACK_KEYS"]
)
def test_auto_mounts_when_a_key_is_configured(env: str, api_server: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv(env, '{"1": "k-one"}' if env.endswith("KEYS") else "a-key")
    plugin.RtcCallbacksPlugin.on_load()
    (entry,) = _receiver_entries()
    assert entry["app"] is plugin.receiver_app and entry["url_prefix"] == "/rtc-callbacks"
    assert plugin.receiver_app._app is not None and api_server.exists()


def test_enabled_without_a_key_mounts_and_warns_once(
    api_server: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__ENABLED", "true")
    caplog.set_level(logging.WARNING)
    plugin.RtcCallbacksPlugin.on_load()
    assert len(_receiver_entries()) == 1
    (warning,) = _rtc_warnings(caplog)
    assert "no callback key" in warning and "[rtc_callbacks]" in warning


def test_a_wrong_switch_value_is_refused_with_its_name(api_server: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__ENABLED", "maybe")
    with pytest.raises(ValueError, match=r"\[rtc_callbacks\] enabled must be true, false or auto"):
        plugin.RtcCallbacksPlugin.on_load()


def test_declared_defaults_do_not_hide_the_receiver_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow answers an unset declared option with its default: the RTC_* variable must still count."""
    monkeypatch.delenv("AIRFLOW__RTC_CALLBACKS__READ_MAX_SKEW", raising=False)
    monkeypatch.setenv("RTC_CALLBACK_READ_MAX_SKEW", "60")
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__MAX_BODY_BYTES", "4096")
    config = plugin.receiver_config()
    assert config.read_max_skew == 60.0
    assert config.max_body_bytes == 4096
