"""The fired markers: exactly one of several overlapping runs claims a threshold; a release lets the
next run claim it again; names keep connections, apps, metrics and months apart."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from airflow_provider_rtc.budgets import METRICS, marker_name, markers


def test_overlapping_runs_claim_a_threshold_once(tmp_path: Path) -> None:
    wins: list[int] = []
    start = threading.Barrier(8)

    def run(i: int) -> None:
        start.wait()
        if markers.claim(str(tmp_path), "c/trtc/1/HD/2026-12/0.8.json", {"run": i}):
            wins.append(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert json.loads((tmp_path / "c/trtc/1/HD/2026-12/0.8.json").read_text()) == {"run": wins[0]}


def test_a_released_claim_can_be_claimed_again(tmp_path: Path) -> None:
    base = f"file://{tmp_path}"
    assert markers.claim(base, "x.json", {}) and not markers.claim(base, "x.json", {})
    markers.release(base, "x.json")
    markers.release(base, "x.json")  # already gone: no error
    assert markers.claim(base, "x.json", {})


def test_marker_names_separate_each_budget_month_and_threshold() -> None:
    hd, audio = METRICS[("trtc", "HD")], METRICS[("trtc", "Audio")]
    names = {
        marker_name("tc", hd, 1400000001, "2026-12", 0.8),
        marker_name("tc", hd, 1400000001, "2026-12", 1.0),
        marker_name("tc", hd, 1400000001, "2027-01", 0.8),
        marker_name("tc", hd, 1400000002, "2026-12", 0.8),
        marker_name("tc", audio, 1400000001, "2026-12", 0.8),
        marker_name("other", hd, 1400000001, "2026-12", 0.8),
        marker_name("tc", METRICS[("live", "flux")], None, "2026-12", 0.8),
    }
    assert len(names) == 7
    assert marker_name("../etc", hd, None, "2026-12", 0.8).startswith("___etc/trtc/account/")
