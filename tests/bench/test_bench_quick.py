"""`make bench` must keep working: a quick run (tiny sizes) produces every metric. No timing is
asserted here; the numbers are only meaningful at full size, side by side, in `make bench`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# a benchmark run (minutes): make test-all and CI only
# timing: its metrics are rates measured on the wall clock (receiver_callbacks_per_s was 0 at load 20+)
pytestmark = [pytest.mark.slow, pytest.mark.timing]

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_run_writes_every_metric(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads(output.read_text())
    expected = {
        "call_overhead_ratio",
        "tc3_sign_ratio",
        "import_ms",
        "import_ratio_vs_http",
        "bulk_qps_fraction",
        "bulk_qps_fraction_zego",
        "mapped_vs_bulk_ratio",
        "trigger_rss_mb_per_1000",
        "trigger_poll_qps",
        "lake_copy_peak_rss_mb",
        "lake_copy_peak_rss_ratio",
        "multiworker_qps_fraction",
        "multiworker_qps_fraction_redis",
        "multiworker_throttle_ratio",
        "multiworker_failed_targets",
        "multiworker_qps_fraction_process",
        "multiworker_throttle_ratio_process",
        "multiworker_failed_targets_process",
    }
    assert expected <= set(results["metrics"])
    # counts of throttles and failures may rightly be 0; every other figure is a positive measurement
    # (and acknowledged callbacks lost or refused over the receiver's kill cycles: 0 is the target)
    counts = ("throttle", "failed", "lost", "refused")
    zero_ok = {name for name in results["metrics"] if any(word in name for word in counts)}
    for name, value in results["metrics"].items():
        assert isinstance(value, float) and (value >= 0 if name in zero_ok else value > 0), name
    assert results["quick"] is True
    # the real-deployment benchmark never runs in quick mode (inside `make test`), and says so
    assert "skipped in quick mode: event_end_" in proc.stdout
    assert "event_end_ratio" in results["skipped"]
    assert not any(name.startswith("event_end_") for name in results["metrics"])
    assert "metric" in proc.stdout and "call_overhead_ratio" in proc.stdout  # the printed table
