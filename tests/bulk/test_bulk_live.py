"""Bulk cleanup engine, shown with Live mix sessions against the sandbox (rate limits on)."""

from __future__ import annotations

import pytest
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.operators.live import BulkCancelCommonMixStreamsOperator
from tests.support.sandbox import seed, totals


def test_cancels_every_session_and_reports_each(sandbox: SandboxServer) -> None:
    sessions = seed(sandbox, {"live": {"mix_sessions": 40}})["live"]["mix_sessions"]
    op = BulkCancelCommonMixStreamsOperator(task_id="bulk", mix_stream_session_ids=sessions)
    summary = op.execute({})
    assert summary["total"] == 40 and summary["counts"] == {"done": 40}
    assert [r["mix_stream_session_id"] for r in summary["results"]] == sessions
    assert all(r["RequestId"] for r in summary["results"])
    assert totals(sandbox)["throttled"] == 0


def _log_text(capfd: pytest.CaptureFixture[str]) -> str:
    """Operator logs go through Airflow's structlog to the console, not to caplog."""
    out, err = capfd.readouterr()
    return out + err


def test_one_invalid_target_fails_the_bulk_before_any_call(sandbox: SandboxServer) -> None:
    sessions = seed(sandbox, {"live": {"mix_sessions": 5}})["live"]["mix_sessions"]
    targets = [*sessions[:2], "not-valid!", "gone_already", *sessions[2:]]
    op = BulkCancelCommonMixStreamsOperator(task_id="bulk", mix_stream_session_ids=targets)
    with pytest.raises(RtcValidationError) as err:
        op.execute({})
    assert err.value.param == "mix_stream_session_ids[2]" and "not-valid!" in str(err.value)
    assert totals(sandbox)["calls"] == 0  # validated before the first call


def test_keeps_going_past_failures_and_fails_at_the_end(sandbox: SandboxServer, capfd) -> None:
    sessions = seed(sandbox, {"live": {"mix_sessions": 5}})["live"]["mix_sessions"]
    targets = [*sessions[:2], "gone_already", *sessions[2:], sessions[0]]
    op = BulkCancelCommonMixStreamsOperator(
        task_id="bulk", mix_stream_session_ids=targets, ignore_not_found=False
    )
    with pytest.raises(Exception) as err:
        op.execute({})
    assert "1 of 6 target(s) failed" in str(err.value) and "gone_already" in str(err.value)
    assert totals(sandbox)["calls"] == 6  # the duplicate was dropped, not sent twice
    logs = _log_text(capfd)
    assert "'done': 5" in logs and "'failed': 1" in logs and "dropped 1 duplicate" in logs


def test_already_gone_fails_when_not_ignored(sandbox: SandboxServer) -> None:
    op = BulkCancelCommonMixStreamsOperator(
        task_id="bulk", mix_stream_session_ids=["never_existed"], ignore_not_found=False
    )
    with pytest.raises(Exception, match="1 of 1 target"):
        op.execute({})


@pytest.mark.parametrize(
    ("rendered", "expected"),
    [
        ('["a_1", "b_2"]', ["a_1", "b_2"]),  # {{ x | tojson }}
        ("['a_1', 'b_2']", ["a_1", "b_2"]),  # {{ params.ids }}: a Python literal
        ("[]", []),
    ],
)
def test_targets_from_templates(rendered: str, expected: list[str]) -> None:
    op = BulkCancelCommonMixStreamsOperator(task_id="bulk", mix_stream_session_ids=rendered)
    assert [t.target for t in op.plan().targets] == expected


@pytest.mark.parametrize("rendered", ["a_1, b_2", "", '"a_1"', "None", "{'a_1': 1}"])
def test_targets_that_are_not_lists_are_refused(rendered: str) -> None:
    op = BulkCancelCommonMixStreamsOperator(task_id="bulk", mix_stream_session_ids=rendered)
    with pytest.raises(RtcValidationError) as err:
        op.plan()
    assert err.value.param == "mix_stream_session_ids"


def test_empty_list_is_a_quick_success(sandbox: SandboxServer) -> None:
    summary = BulkCancelCommonMixStreamsOperator(task_id="bulk", mix_stream_session_ids=[]).execute({})
    assert summary["total"] == 0 and summary["counts"] == {}


def test_progress_is_logged_with_rate_and_eta(sandbox: SandboxServer, capfd) -> None:
    sessions = seed(sandbox, {"live": {"mix_sessions": 30}})["live"]["mix_sessions"]
    op = BulkCancelCommonMixStreamsOperator(
        task_id="bulk", mix_stream_session_ids=sessions, progress_interval=0
    )
    op.execute({})
    progress = [
        line[line.index("progress:") :] for line in _log_text(capfd).splitlines() if "progress:" in line
    ]
    assert progress and progress[-1].startswith("progress: 30/30 done, 0 remaining")
    assert "calls/s" in progress[0] and "ETA" in progress[0]
