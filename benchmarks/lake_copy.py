"""Memory of copying one recording to the lake: peak RSS of a process that copies a small file and
of one that copies a large one (1 GiB by default) from the sandbox over HTTP to local disk.

Streaming in fixed chunks means the two peaks are the same: the growth (large minus small, and
their ratio) is the figure that matters, and it must stay flat (a few MiB of noise), whatever the
file size. Each copy
runs in a fresh child process so ``ru_maxrss`` is its own; the sandbox serves the bytes from yet
another process, generating them block by block (it never holds the file either).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any

import requests

from benchmarks.sandbox_proc import sandbox, use_connections

MIB = 1024 * 1024


def _child(url: str, size: int, destination: str) -> None:
    """Runs in the measured process: import, copy, report RSS figures as JSON on stdout."""
    from airflow_provider_rtc.operators.storage import CopyRecordingsOperator

    manifest = {
        "cloud": "trtc",
        "app_id": 1400000001,
        "task_id": "bench",
        "room_id": "room",
        "storage": "vod",
        "status": "uploaded",
        "files": [{"name": "large.mp4", "url": url, "size": size, "status": "uploaded"}],
        "warnings": [],
    }
    op = CopyRecordingsOperator(
        task_id="copy",
        manifest=manifest,
        destination=destination,
        layout="{name}",
        allow_private_sources=True,  # the sandbox serves the file on 127.0.0.1
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    op.execute({})
    seconds = time.perf_counter() - started
    copied = os.path.getsize(os.path.join(destination, "large.mp4"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_mb": peak, "before_copy_mb": before, "seconds": seconds, "bytes": copied}))


def _measure(info: dict[str, Any], size: int) -> dict[str, float]:
    added = requests.post(
        f"{info['url']}/_sandbox/vod/media", json={"name": "large.mp4", "size": size}, timeout=10
    ).json()
    with tempfile.TemporaryDirectory(prefix="rtc-lake-bench-") as dest:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.lake_copy", "--child", added["url"], str(size), dest],
            capture_output=True,
            text=True,
            check=True,
            env=dict(os.environ),
        )
        result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    if result["bytes"] != size:
        raise RuntimeError(f"copied {result['bytes']} bytes of {size}")
    return result


def run(large_bytes: int = 1024 * MIB, small_bytes: int = 8 * MIB) -> dict[str, float]:
    with sandbox(rate_limits=False) as info:
        use_connections(info)
        small = _measure(info, small_bytes)
        large = _measure(info, large_bytes)
    return {
        "lake_copy_peak_rss_mb": round(large["peak_mb"], 1),
        "lake_copy_peak_rss_ratio": round(large["peak_mb"] / small["peak_mb"], 3),
        "lake_copy_rss_growth_mb": round(large["peak_mb"] - small["peak_mb"], 1),
        "lake_copy_small_peak_rss_mb": round(small["peak_mb"], 1),
        "lake_copy_rss_before_copy_mb": round(large["before_copy_mb"], 1),
        "lake_copy_mib_per_s": round(large["bytes"] / MIB / large["seconds"], 1),
        "lake_copy_bytes": large["bytes"],
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 1024 * MIB), indent=2))
