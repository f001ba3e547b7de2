"""The receiver load generator's logic: its callbacks are accepted as validly signed, the open-loop
client counts answers and latencies, the ladder's verdicts, and the loss check finds every proof."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import receiver_load
from benchmarks.load_client import Outcome, Pool, StepResult, percentile, run_step
from benchmarks.load_mix import PATTERN, Keys, Mix


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 99) == 99.0
    assert percentile(values, 50) == 50.0
    assert percentile([5.0], 99) == 5.0
    assert percentile([], 99) == 0.0


def test_a_step_fails_on_one_error_or_a_slow_p99() -> None:
    fast = [Outcome(0.0, 0.01, 200)] * 100
    assert StepResult.of(100, fast, 1.0).passed(200)
    assert not StepResult.of(100, [*fast[:99], Outcome(0.0, 0.01, 503)], 1.0).passed(200)
    slow = [Outcome(0.0, 0.01, 200)] * 98 + [Outcome(0.0, 0.3, 200)] * 2
    result = StepResult.of(100, slow, 1.0)
    assert result.p99_ms == 300.0 and not result.passed(200)


def test_sustained_rate_is_the_last_step_before_the_first_failure() -> None:
    ok = [Outcome(0.0, 0.01, 200)] * 10
    bad = [Outcome(0.0, 0.5, 200)] * 10
    steps = [StepResult.of(r, o, 1.0) for r, o in ((250, ok), (500, bad), (1000, ok))]
    metrics = receiver_load.summarize(steps, "_x")
    assert metrics["receiver_callbacks_per_s_x"] == 250
    assert metrics["receiver_highest_passing_step_x"] == 1000
    assert metrics["receiver_p99_ms_at_1000_per_s_x"] == 10.0


def test_mix_has_every_cloud_and_distinct_bodies() -> None:
    callbacks = Mix(run="t").take(2 * len(PATTERN))
    assert {cb.path for cb in callbacks} == {"/trtc/callback", "/zego/callback", "/live/callback"}
    assert len({cb.body for cb in callbacks}) == len(callbacks)


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[str]:
    """The real receiver app under uvicorn in a thread, on a SQLite file."""
    import uvicorn

    from airflow_provider_rtc.callbacks.app import create_app
    from airflow_provider_rtc.callbacks.config import ReceiverConfig

    config = ReceiverConfig.from_mapping(Keys().env(), db_path=str(tmp_path / "cb.sqlite3"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(config), port=port, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_every_callback_is_accepted_and_every_proof_is_found(receiver: str) -> None:
    callbacks = Mix(run="t").take(3 * len(PATTERN))
    acked: list = []

    async def send() -> StepResult:
        pool = Pool(receiver, size=8)
        try:
            return await run_step(pool, callbacks, 200, acked=acked)
        finally:
            pool.close()

    step = asyncio.run(send())
    assert step.statuses == {200: len(callbacks)}, step
    assert len(acked) == len(callbacks)
    proofs = [cb.proof for cb in callbacks if cb.proof]
    assert {p[1] for p in proofs} == {"trtc", "zego", "live"} and {p[0] for p in proofs} == {"task", "item"}
    assert receiver_load.missing(receiver, Keys(), acked) == []


def test_the_loss_check_names_a_proof_the_receiver_cannot_show(receiver: str) -> None:
    never_sent = Mix(run="other").take(len(PATTERN))
    lost = receiver_load.missing(receiver, Keys(), never_sent)
    assert lost and set(lost) == {cb.proof for cb in never_sent if cb.proof}
