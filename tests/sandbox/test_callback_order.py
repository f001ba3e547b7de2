"""One task's callbacks leave the sandbox in the order they were made ("311 per file, then 312",
trtc.io 54914); a receiver that sees 312 before a file's 311 only does so after a failed attempt
was retried, as the cloud's own retries allow. Found under two xdist workers: the sandbox sent a VOD
task's 311 and 312 on separate threads and the 312 won (test_sandbox_sensors' VOD test)."""

from __future__ import annotations

import threading
import time

import httpx
from rtc_sandbox.backends.trtc import CallbackEvent
from rtc_sandbox.callbacks import CallbackDispatcher, _Delivery
from rtc_sandbox.clock import Clock
from rtc_sandbox.config import CallbackSettings


def _event(event_type: int, task_id: str) -> CallbackEvent:
    return CallbackEvent(1400000001, event_type, 1001, "recorder", task_id, 0.0, {"Status": 0})


def test_one_tasks_callbacks_are_sent_in_the_order_they_were_made() -> None:
    dispatcher = CallbackDispatcher(CallbackSettings(url="http://127.0.0.1:9/cb"), Clock())
    sent: list[tuple[str, int]] = []
    done = threading.Event()

    def attempt(client: httpx.Client, delivery: _Delivery) -> None:
        if delivery.event_type == 311:
            time.sleep(0.2)  # a slow first answer: the 312 behind it must not overtake it
        sent.append((delivery.task_id, delivery.event_type))
        if len(sent) == 6:
            done.set()

    dispatcher._attempt = attempt  # type: ignore[method-assign]
    for task in ("a", "b"):
        for event_type in (311, 311, 312):
            dispatcher.emit(_event(event_type, task))
    dispatcher.run_due()
    assert done.wait(10)
    for task in ("a", "b"):
        assert [t for k, t in sent if k == task] == [311, 311, 312]
    # different tasks go out side by side: b's first 311 did not wait for all of a's
    assert sent.index(("b", 311)) < sent.index(("a", 312))


def test_a_delivery_that_meets_the_stopped_sandboxs_closed_client_is_a_failed_attempt() -> None:
    """``close()`` closes the shared client while a delivery may already be in the pool: that
    attempt is recorded and queued again (as a network failure is), not lost in the pool's future."""
    dispatcher = CallbackDispatcher(CallbackSettings(url="http://127.0.0.1:9/cb"), Clock())
    dispatcher.emit(_event(311, "a"))
    (_, _, delivery) = dispatcher._due.pop()
    client = httpx.Client(trust_env=False)
    client.close()
    dispatcher._attempt(client, delivery)
    (attempt,) = dispatcher.log()[0]["attempts"]
    assert attempt["error"].startswith("the sandbox stopped: ") and "status" not in attempt
    assert not delivery.delivered and dispatcher.pending() == 1
