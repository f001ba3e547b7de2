"""EndEventOperator's audit trail against the sandbox + receiver: the real run writes exactly the
destructive calls the sandbox received (per action) and nothing else; the dry run writes each
planned call and the sandbox receives none. Metrics of the same run: discovered, ended, survivors."""

from __future__ import annotations

import pytest

from airflow_provider_rtc import metrics
from airflow_provider_rtc.operators.event import EndEventOperator
from tests.discovery.test_end_event import ALL, _seed
from tests.metrics.statsd import statsd_listener

from .support import TI, context, destructive_calls, file_of, lines_of, per_action


@pytest.mark.slow  # EndEventOperator end to end on sandbox + receiver (15-30 s)
def test_an_end_event_run_writes_exactly_the_destructive_calls_the_cloud_received(bed, tmp_path, monkeypatch):
    _seed(bed)
    ti = TI()
    op = EndEventOperator(
        task_id="end", selector=ALL, verify_timeout=60, verify_interval=1, audit_path=str(tmp_path)
    )
    with statsd_listener(monkeypatch) as statsd:
        report = op.execute(context(ti))
        lines = lines_of(file_of(tmp_path, ti))
        received = destructive_calls(bed.server)

        assert received and per_action(lines) == received  # one line per call, nothing else
        assert len(lines) == len([r for r in report["results"] if r["status"] != "not_started"])
        assert {line["origin"] for line in lines} == {"end_event"}
        assert {line["cloud"] for line in lines} == {"trtc", "live", "zego"}
        conns = {line["cloud"]: line["conn_id"] for line in lines}
        assert conns == {
            "trtc": "tencentcloud_default",
            "live": "tencentcloud_default",
            "zego": "zegocloud_default",
        }
        assert all(line["status"] in ("done", "already_gone") and not line["dry_run"] for line in lines)

        ended = sum(1 for r in report["results"] if r["status"] in ("done", "already_gone"))
        assert statsd.counts(metrics.ENDED) == ended == len(lines)
        assert statsd.counts(metrics.DISCOVERED, cloud="zego", action="rooms") == 5
        assert statsd.counts(metrics.SURVIVORS) == len(report["survivors"]) == 0


@pytest.mark.slow  # EndEventOperator end to end on sandbox + receiver (15-30 s)
def test_a_dry_run_writes_planned_lines_and_calls_nothing(bed, tmp_path):
    _seed(bed)
    ti = TI(task_id="dry")
    report = EndEventOperator(task_id="dry", selector=ALL, dry_run=True, audit_path=str(tmp_path)).execute(
        context(ti)
    )
    lines = lines_of(file_of(tmp_path, ti))
    assert destructive_calls(bed.server) == {}
    assert len(lines) == len(report["plan"]["targets"]) > 0
    assert all(line["status"] == "planned" and line["dry_run"] for line in lines)
    assert all(line["request_id"] is None and line["maybe_executed"] is False for line in lines)
    planned = {}
    for t in report["plan"]["targets"]:
        planned[t["action"]] = planned.get(t["action"], 0) + 1
    assert per_action(lines) == planned
