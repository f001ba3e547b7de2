"""A sandbox in its own process for benchmarks: client and server then use separate cores, so the
client's timings are not distorted by the server sharing its interpreter lock. Its admin helpers
(``seed``, ``totals``) are also the tests' (tests/support/sandbox.py): one implementation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests


@contextmanager
def sandbox(*, rate_limits: bool = True, extra_args: list[str] | None = None) -> Iterator[dict[str, Any]]:
    args = [sys.executable, "-m", "rtc_sandbox", "--port", "0", "--log-level", "error"]
    if not rate_limits:
        args.append("--no-rate-limits")
    args += extra_args or []
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        yield info
    finally:
        proc.terminate()
        proc.wait(10)


def use_connections(info: dict[str, Any], **extra: Any) -> None:
    """Point the default connections at the sandbox (env JSON, as users do)."""
    for conn_id, conn in info["connections"].items():
        conn = {**conn, "extra": {**conn["extra"], **extra}}
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)


def _url(target: Any) -> str:
    """The sandbox URL of a banner dict (``sandbox()`` above) or a server object (the tests')."""
    return str(target["url"] if isinstance(target, dict) else target.url)


def seed(target: Any, doc: dict[str, Any]) -> dict[str, Any]:
    """Seed through the admin API (what users call); the tests' helper too (tests/support)."""
    return requests.post(f"{_url(target)}/_sandbox/seed", json=doc, timeout=60).json()


def totals(target: Any) -> dict[str, Any]:
    return requests.get(f"{_url(target)}/_sandbox/stats", timeout=10).json()["totals"]
