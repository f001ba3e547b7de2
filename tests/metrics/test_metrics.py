"""Metrics through Airflow's stats interface onto a StatsD listener on 127.0.0.1: every HTTP
attempt counted and timed, throttles and retries counted where the retry loop decides, what was
ended, the bytes copied to the lake; and the module stays a no-op without Airflow."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from airflow_provider_rtc import metrics
from airflow_provider_rtc.operators.bulk import BulkEndOperator
from tests.lake.conftest import set_faults, trtc_vod_recording
from tests.support.sandbox import seed

from .statsd import statsd_listener


def _sandbox_calls(sandbox, action: str) -> int:
    return int(sandbox.backend.stats.snapshot()["actions"][action]["calls"])


def test_a_bulk_run_counts_and_times_every_call_and_what_it_ended(sandbox, monkeypatch):
    tasks = seed(sandbox, {"trtc": {"ai_tasks": 3}})["trtc"]["ai_tasks"]
    op = BulkEndOperator(task_id="end", action="StopAITranscription", targets=[*tasks, "never-started"])
    with statsd_listener(monkeypatch) as statsd:
        op.execute({})
        tags = {"cloud": "trtc", "action": "StopAITranscription"}
        assert statsd.counts(metrics.CALLS, **tags) == _sandbox_calls(sandbox, "StopAITranscription") == 4
        assert len(statsd.timers(metrics.CALL_MS)) == statsd.counts(metrics.CALLS)
        assert all(ms >= 0 for ms in statsd.timers(metrics.CALL_MS))
        assert statsd.counts(metrics.ENDED, **tags) == 4  # 3 done + 1 already gone
        assert statsd.counts(metrics.THROTTLES) == statsd.counts(metrics.RETRIES) == 0


def test_throttles_and_retries_are_counted_per_attempt(sandbox, monkeypatch, tmp_path):
    [task] = seed(sandbox, {"trtc": {"ai_tasks": 1}})["trtc"]["ai_tasks"]
    set_faults(sandbox, [{"action": "StopAITranscription", "kind": "throttle", "count": 2}])
    op = BulkEndOperator(
        task_id="end", action="StopAITranscription", targets=[task], audit_path=str(tmp_path)
    )
    with statsd_listener(monkeypatch) as statsd:
        from tests.audit.support import TI, context, file_of, lines_of

        ti = TI()
        op.execute(context(ti))
        tags = {"cloud": "trtc", "action": "StopAITranscription"}
        assert statsd.counts(metrics.THROTTLES, **tags) == 2
        assert statsd.counts(metrics.RETRIES, **tags) == 2
        assert statsd.counts(metrics.CALLS, **tags) == _sandbox_calls(sandbox, "StopAITranscription") == 3
        assert statsd.counts(metrics.ENDED, **tags) == 1
    # the audit trail has one line per destructive call, not per attempt
    assert [line["status"] for line in lines_of(file_of(tmp_path, ti))] == ["done"]


def test_the_lake_copy_counts_the_bytes_it_wrote(sandbox, monkeypatch, tmp_path):
    from tests.lake.test_copy import copy_op

    _, manifest = trtc_vod_recording(sandbox)
    with statsd_listener(monkeypatch) as statsd:
        copy_op(manifest, str(tmp_path)).execute({})
        assert statsd.counts(metrics.COPY_BYTES) == sum(f["size"] for f in manifest["files"]) > 0
        copy_op(manifest, str(tmp_path)).execute({})  # already there: nothing written, nothing counted
        assert statsd.counts(metrics.COPY_BYTES) == sum(f["size"] for f in manifest["files"])


def test_every_name_is_prefixed_rtc_and_documented():
    from pathlib import Path

    page = (Path(__file__).parents[2] / "docs" / "reference" / "metrics.md").read_text()
    for name in (*metrics.NAMES, *metrics.TIMERS):
        assert name.startswith("rtc.") and f"`{name}`" in page


def test_without_airflow_metrics_are_a_no_op():
    """The transport floor imports metrics; without Airflow it must load and do nothing."""
    code = textwrap.dedent(
        """
        import sys
        class _NoAirflow:
            def find_spec(self, name, path=None, target=None):
                if name == "airflow" or name.startswith("airflow."):
                    raise ImportError("no airflow here")
        sys.meta_path.insert(0, _NoAirflow())
        from airflow_provider_rtc import metrics, transport
        metrics.incr(metrics.CALLS, cloud="trtc", action="DismissRoom")
        metrics.timing(metrics.CALL_MS, 1.0)
        assert "airflow" not in sys.modules
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


def test_a_failing_backend_never_fails_the_call(monkeypatch):
    class Broken:
        @staticmethod
        def incr(*args, **kwargs):
            raise OSError("statsd down")

        timing = incr

    monkeypatch.setattr(metrics, "_stats", Broken)
    metrics.incr(metrics.CALLS, cloud="trtc")
    metrics.timing(metrics.CALL_MS, 1.0)


@pytest.mark.parametrize("count", [0, -1])
def test_nothing_is_sent_for_a_zero_count(monkeypatch, count):
    sent = []
    monkeypatch.setattr(
        metrics, "_stats", type("S", (), {"incr": staticmethod(lambda *a, **k: sent.append(a))})
    )
    metrics.incr(metrics.DISCOVERED, count)
    assert sent == []
