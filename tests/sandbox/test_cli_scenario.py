"""``rtc-sandbox --scenario FILE --with-receiver``: the banner names the scenario's resources, the bound
port and the receiver, whose URL and secrets are in the printed connections."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

from .test_cli import run_cli

SCENARIO = """
[sandbox.callbacks]
retry_interval = 0.5

[[trtc.rooms]]
name = "stage"
room_id = 2001
users = ["host"]

[[zego.rooms]]
name = "green"
room_id = "green"
users = 1

[callbacks]
lost = [{ room = "green" }]
"""


def test_scenario_file_names_in_the_banner_and_port_zero_prints_the_bound_port(tmp_path: Path) -> None:
    path = tmp_path / "event.toml"
    path.write_text(SCENARIO)
    with run_cli("--scenario", str(path)) as banner:
        assert banner["port"] != 0 and banner["url"].endswith(f":{banner['port']}")
        assert banner["names"]["stage"] == {"cloud": "trtc", "room_id": 2001, "sdk_app_id": 1400000001}
        state = requests.get(banner["url"] + "/_sandbox/state", timeout=5).json()
        assert [r["room_id"] for r in state["trtc"]["rooms"]] == [2001]
        assert "callback_receiver_url" not in banner


def test_with_receiver_wires_and_prints_the_receiver(tmp_path: Path) -> None:
    path = tmp_path / "event.toml"
    path.write_text(SCENARIO)
    with run_cli("--scenario", str(path), "--with-receiver") as banner:
        receiver = banner["callback_receiver_url"]
        assert receiver.startswith("http://127.0.0.1:") and not receiver.endswith(":0")
        tencent = banner["connections"]["tencentcloud_default"]["extra"]
        zego = banner["connections"]["zegocloud_default"]["extra"]
        assert tencent["callback_receiver_url"] == zego["callback_receiver_url"] == receiver
        assert tencent["callback_secret"] and zego["callback_secret"] and tencent["live_callback_secret"]
        settings = requests.get(banner["url"] + "/_sandbox/callbacks", timeout=5).json()["settings"]
        assert settings["room_url"] == f"{receiver}/trtc/callback"
        assert settings["zego_url"] == f"{receiver}/zego/callback"
        assert settings["key"] == tencent["callback_secret"]


def test_with_receiver_without_the_provider_names_the_missing_package(tmp_path: Path) -> None:
    """rtc-sandbox alone (no airflow-provider-rtc): a clear error, not a traceback."""
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'airflow_provider_rtc' or name.startswith('airflow_provider_rtc.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, _Block())\n"
    )
    import os

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    done = subprocess.run(
        [sys.executable, "-m", "rtc_sandbox", "--port", "0", "--with-receiver"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 2, done.stderr
    assert "install airflow-provider-rtc" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_a_bad_scenario_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "event.toml"
    path.write_text('[[trtc.rooms]]\nroom_id = "x"\n[callbacks]\nlost = [{ room = "nope" }]\n')
    done = subprocess.run(
        [sys.executable, "-m", "rtc_sandbox", "--port", "0", "--scenario", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "'nope' names no resource" in done.stderr, done.stderr
