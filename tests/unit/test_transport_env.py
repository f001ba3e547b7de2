"""The sync transport resolves proxy and TLS settings from the environment once per host, and
still honours them (users behind a corporate proxy rely on HTTPS_PROXY)."""

from __future__ import annotations

from airflow_provider_rtc.transport import _send_settings, new_session


def test_environment_proxies_are_honoured_and_cached(monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = new_session()
    first = _send_settings(session, "https://trtc.tencentcloudapi.com/")
    assert first["proxies"].get("https") == "http://proxy.internal:3128"
    monkeypatch.delenv("HTTPS_PROXY")
    assert _send_settings(session, "https://trtc.tencentcloudapi.com/") is first  # once per host
    assert _send_settings(new_session(), "https://trtc.tencentcloudapi.com/")["proxies"] == {}


def test_no_proxy_for_loopback(monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    settings = _send_settings(new_session(), "http://127.0.0.1:8990/")
    assert "http" not in settings["proxies"]
