"""Every option the provider reads is declared in get_provider_info()["config"], seen by the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_rtc.get_provider_info import get_provider_info
from airflow_provider_rtc.plugins.options import ENV_OPTIONS, STORE_CONN_OPTION

ROOT = Path(__file__).resolve().parents[2]


def _airflow(tmp_path: Path, *args: str, **env: str) -> str:
    home = tmp_path / "airflow-home"
    home.mkdir(exist_ok=True)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__RTC", "RTC_"))}
    clean.update(AIRFLOW_HOME=str(home), PYTHONPATH=str(ROOT), **env)
    done = subprocess.run(
        [sys.executable, "-m", "airflow", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_every_option_the_plugin_reads_is_declared_with_type_default_and_example() -> None:
    config = get_provider_info()["config"]
    options = config["rtc_callbacks"]["options"]
    assert set(options) == {"enabled", STORE_CONN_OPTION, *ENV_OPTIONS.values()}
    assert set(config["rtc"]["options"]) == {
        "rate_limit_backend",
        "rate_limit_redis_url",
        "rate_limit_redis_password",
        "rate_limit_dir",
        "audit_path",
        "audit_format",
    }
    for section in config.values():
        for name, spec in section["options"].items():
            assert spec["description"] and spec["type"] in {"string", "integer", "float", "boolean"}, name
            assert {"default", "example", "version_added"} <= set(spec), name
    assert all(options[name].get("sensitive") for name in options if "key" in name or "secret" in name)


def test_airflow_config_lists_the_section(tmp_path: Path) -> None:
    out = _airflow(tmp_path, "config", "list", "--section", "rtc_callbacks", "--include-descriptions")
    assert "[rtc_callbacks]" in out
    for option in ("enabled", STORE_CONN_OPTION, *ENV_OPTIONS.values()):
        assert f"# {option} = " in out or f"{option} = " in out, option


# several `airflow config` CLI processes (about 8 s); test_airflow_config_lists_the_section stays fast
@pytest.mark.slow
def test_airflow_config_get_value_reads_declared_options_and_secret_commands(tmp_path: Path) -> None:
    # ``_cmd`` works for options declared sensitive only: proof the key options are declared so
    out = _airflow(
        tmp_path,
        "config",
        "get-value",
        "rtc_callbacks",
        "trtc_callback_key",
        AIRFLOW__RTC_CALLBACKS__TRTC_CALLBACK_KEY_CMD="echo key-from-a-command",
    )
    assert out.strip() == "key-from-a-command"
    assert _airflow(tmp_path, "config", "get-value", "rtc_callbacks", "enabled").strip() == "auto"
