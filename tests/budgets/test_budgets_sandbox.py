"""UsageBudgetOperator against the sandbox on a manual clock: usage grows with live minutes, each
threshold fires once per month across runs, a failed notifier fires again, idle ZEGO rooms end at
100% and busy ones stay."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from rtc_sandbox.inventory import live_resources
from rtc_sandbox.receiver import ReceiverBed
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.notifications import LogNotifier
from airflow_provider_rtc.operators.budgets import UsageBudgetOperator

APP = 1400000001


class Recorder(LogNotifier):
    """Records each rendered message (and still logs it)."""

    sent: list[str] = []

    def notify(self, context: Any) -> None:
        Recorder.sent.append(self.message)
        super().notify(context)


class Failing(LogNotifier):
    def notify(self, context: Any) -> None:
        raise RuntimeError("mail server down")


@pytest.fixture(autouse=True)
def _clear() -> None:
    Recorder.sent = []


def _start(sandbox: SandboxServer) -> float:
    """Freeze the sandbox clock at the wall clock. Requests are signed with the wall clock and the
    sandbox refuses a skew over 300 s, so tests move it by minutes and backdate users instead."""
    sandbox.freeze()
    return sandbox.backend.now()


def _join(sandbox: SandboxServer, room: int, users: int, minutes_ago: float) -> None:
    names = [f"u{room}_{i}" for i in range(users)]
    sandbox.backend.trtc.add_users(APP, room, names, sandbox.backend.now() - minutes_ago * 60)


def _op(sandbox: SandboxServer, tmp_path: Any, budget: float = 1000, **kw: Any) -> UsageBudgetOperator:
    op = UsageBudgetOperator(
        task_id="budget",
        budgets=[{"cloud": "trtc", "metric": "Audio", "budget": budget, "unit": "minutes"}],
        notifier=Recorder(
            "{{ budget_alert.label }} at {{ budget_alert.percent }}% ({{ budget_alert.threshold }})"
        ),
        state_path=str(tmp_path / "state"),
        **kw,
    )
    op._now = lambda: dt.datetime.fromtimestamp(sandbox.backend.now(), dt.UTC)  # type: ignore[method-assign]
    return op


def test_sandbox_usage_grows_with_live_minutes(sandbox: SandboxServer, tmp_path: Any) -> None:
    _start(sandbox)
    _join(sandbox, 101, 2, minutes_ago=3)
    first = _op(sandbox, tmp_path).execute({})["budgets"][0]["usage"]
    assert first == pytest.approx(6)
    sandbox.advance(60)
    assert _op(sandbox, tmp_path).execute({})["budgets"][0]["usage"] == pytest.approx(8)
    sandbox.backend.trtc.exit_users(APP, 101, ["u101_0"], sandbox.backend.now())
    sandbox.advance(60)  # only one user is counted now; the other's 4 minutes stay counted
    assert _op(sandbox, tmp_path).execute({})["budgets"][0]["usage"] == pytest.approx(9)


def test_each_threshold_fires_once_per_month_across_runs(sandbox: SandboxServer, tmp_path: Any) -> None:
    _start(sandbox)
    _join(sandbox, 102, 10, minutes_ago=7)  # 10 user-minutes per minute: 70 of 100
    below = _op(sandbox, tmp_path, budget=100).execute({})
    line = below["budgets"][0]
    assert (line["usage"], line["fraction"], line["thresholds_crossed"]) == (70, 0.7, [])
    assert below["fired"] == 0 and Recorder.sent == []

    sandbox.advance(66)  # 81%
    crossed = _op(sandbox, tmp_path, budget=100).execute({})
    assert crossed["budgets"][0]["fired_now"] == [0.8]
    assert Recorder.sent == ["trtc Audio at 81.0% (0.8)"]

    sandbox.advance(24)  # 85%: still past 80, already fired
    again = _op(sandbox, tmp_path, budget=100).execute({})
    assert again["budgets"][0]["thresholds_crossed"] == [0.8] and again["budgets"][0]["fired_now"] == []
    assert len(Recorder.sent) == 1

    sandbox.advance(120)  # 105%: the 100% one fires, alone
    full = _op(sandbox, tmp_path, budget=100).execute({})
    assert full["budgets"][0]["thresholds_crossed"] == [0.8, 1.0]
    assert full["budgets"][0]["fired_now"] == [1.0]
    assert Recorder.sent[1:] == ["trtc Audio at 105.0% (1.0)"]
    assert full["budgets"][0]["source"]["api"] == "DescribeTrtcUsage"
    assert full["dates"][0].endswith("-01") and full["time_zone"] == "Asia/Shanghai"


def test_a_notifier_that_fails_fires_again_next_run(sandbox: SandboxServer, tmp_path: Any) -> None:
    _start(sandbox)
    _join(sandbox, 103, 10, minutes_ago=9)
    op = _op(sandbox, tmp_path, budget=100)
    op.notifiers = [Failing("x")]
    with pytest.raises(RuntimeError, match="mail server down"):
        op.execute({})
    retried = _op(sandbox, tmp_path, budget=100).execute({})
    assert retried["budgets"][0]["fired_now"] == [0.8]
    assert Recorder.sent == ["trtc Audio at 90.0% (0.8)"]


# -- at 100%: idle ZEGO rooms end, busy ones stay ---------------------------------------------------


@pytest.fixture
def bed(sandbox_pool: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReceiverBed]:
    """Sandbox + the provider's callback receiver (the ZEGO inventory the idle sweep reads)."""
    config = {
        "random_seed": 13,
        "usage_baseline": False,
        "zego": {"mix_ownership": False},
        "timing": {"tick_seconds": 0.02},
        "callbacks": {"timeout": 2.0, "retry_interval": 0.5, "max_age": 5.0},
    }
    server = sandbox_pool.get(config)
    server.reset()
    with ReceiverBed(server, tmp_path / "receiver") as receiver:
        for conn_id, conn in receiver.connections.items():
            extra = {**conn["extra"], "retry_delay": 0.05, "retry_max_delay": 0.3}
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({**conn, "extra": extra}))
        yield receiver


def _zego_rooms(bed: ReceiverBed) -> set[str]:
    return live_resources(bed.server.state())["zego rooms"]


@pytest.mark.slow  # a receiver and a discovery + end + verify round trip
def test_at_full_budget_idle_zego_rooms_end_and_busy_ones_stay(bed: ReceiverBed, tmp_path: Any) -> None:
    sb = bed.server.backend
    idle, busy = bed.server.seed({"zego": {"rooms": 2, "users_per_room": 1}})["zego"]["rooms"]
    zego_app = sb.config.zego_app.app_id
    # only a cloud-recording robot (UserRole 4, not a user: describe-user-list.yaml) stays in `idle`
    sb.zego.login(zego_app, idle, "recorder_robot", sb.now(), role=4)
    sb.zego.logout(zego_app, idle, [f"user_{idle.split('_')[1]}_1"], sb.now())
    sb.trtc.add_users(APP, 104, ["a"], sb.now() - 120)  # 2 of 2 minutes: 100%
    bed.settle()
    assert _zego_rooms(bed) == {idle, busy}

    def run(**kw: Any) -> dict[str, Any]:
        op = UsageBudgetOperator(
            task_id="budget",
            budgets=[{"cloud": "trtc", "metric": "all", "budget": kw.pop("budget"), "unit": "minutes"}],
            end_idle_rooms_at_full=True,
            idle_for=0,
            state_path=str(tmp_path / "state"),
        )
        return op.execute({})

    under = run(budget=1000)  # under 100%: no room is touched
    assert under["idle_rooms"] is None and _zego_rooms(bed) == {idle, busy}
    full = run(budget=2)
    assert full["budgets"][0]["fraction"] >= 1.0
    assert full["idle_rooms"]["ended"] >= 1 and full["idle_rooms"]["survivors"] == 0
    assert _zego_rooms(bed) == {busy}


def test_live_budgets_read_their_apis_once_per_report(sandbox: SandboxServer, tmp_path: Any) -> None:
    _start(sandbox)
    op = UsageBudgetOperator(
        task_id="budget",
        budgets=[
            {"cloud": "live", "metric": "flux", "budget": 10**12, "unit": "MB"},
            {"cloud": "live", "metric": "transcode", "budget": 10**12, "unit": "minutes"},
            {"cloud": "trtc", "metric": "HD", "budget": 10, "unit": "min"},
            {"cloud": "trtc", "metric": "all", "budget": 10, "unit": "minutes"},
        ],
        state_path=str(tmp_path),
    )
    op._now = lambda: dt.datetime.fromtimestamp(sandbox.backend.now(), dt.UTC)  # type: ignore[method-assign]
    flux, transcode, hd, total = op.execute({})["budgets"]
    assert (flux["unit"], flux["source"]["api"]) == ("MB", "DescribeBillBandwidthAndFluxList")
    assert (transcode["unit"], transcode["source"]["api"]) == ("minutes", "DescribeLiveTranscodeTotalInfo")
    assert flux["usage"] > 0 and transcode["usage"] > 0  # the sandbox's synthetic Live usage
    assert hd["usage"] == total["usage"] == 0  # no one in a TRTC room, no baseline
    usage = sandbox.backend.usage
    assert len(usage.log("DescribeTrtcUsage")) == 1  # HD and all share one fetch
    assert len(usage.log("DescribeBillBandwidthAndFluxList")) == 1
    (query,) = usage.log("DescribeLiveTranscodeTotalInfo")
    assert query.start.endswith("-01 00:00:00")  # from the 1st of the Beijing month
