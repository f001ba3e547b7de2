"""``rtc-callback-receiver --port 0`` says which port it got, and serves there."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import httpx


def test_port_zero_prints_the_bound_port_and_serves_on_it(tmp_path: Path) -> None:
    env = {**os.environ, "RTC_CALLBACK_DB": str(tmp_path / "cb.sqlite3"), "RTC_TRTC_CALLBACK_KEY": "k" * 32}
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_rtc.callbacks.cli", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "the receiver printed nothing on stdout within 60 s"
        line = proc.stdout.readline()
        match = re.fullmatch(r"rtc-callback-receiver: listening on http://127\.0\.0\.1:(\d+)\n", line)
        assert match, line
        port = int(match.group(1))
        assert port != 0
        # served there: any answer from the receiver (not a refused connection)
        for _ in range(100):
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("nothing answered on the printed port")
        assert answer.status_code < 500
    finally:
        proc.terminate()
        proc.wait(timeout=30)
