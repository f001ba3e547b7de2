"""The in-process pacer at its edges, on the clock the test controls.

Written for `make mutate` (issue 24 item 5): tests/unit/test_pacing.py proves the spacing; these pin
what callers read back (the seconds waited, which retry budgets do not spend), the waits that must
not happen (none for a slot that is due, none for a negative delay), and the several-quota wait.
"""

from __future__ import annotations

import pytest

from airflow_provider_rtc import pacing
from airflow_provider_rtc.pacing import AllOf, Pacer, asleep_for, pacer_for, sleep_for
from tests.support.clock import ManualClock


@pytest.fixture
def clock(manual_clock: ManualClock) -> ManualClock:
    manual_clock.now = 500.0
    return manual_clock


@pytest.fixture(autouse=True)
def no_headroom(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "HEADROOM", 0.0)


def test_wait_returns_the_seconds_it_slept(clock: ManualClock) -> None:
    pacer = Pacer(4)
    assert pacer.wait() == 0.0  # the first slot is now
    assert pacer.wait() == pytest.approx(0.25)
    assert clock.sleeps == [0.25]


async def test_await_slot_returns_the_seconds_it_slept(clock: ManualClock) -> None:
    pacer = Pacer(2)
    assert await pacer.await_slot() == 0.0
    assert await pacer.await_slot() == pytest.approx(0.5)
    assert clock.sleeps == [0.5]


def test_a_due_or_past_slot_is_not_slept_for(clock: ManualClock) -> None:
    """A zero or negative delay sleeps nothing (no zero-length sleep either) and reports 0."""
    assert sleep_for(0.0) == 0.0
    assert sleep_for(-0.3) == 0.0
    assert sleep_for(0.4) == pytest.approx(0.4)
    assert clock.sleeps == [0.4]


async def test_a_due_or_past_slot_is_not_awaited(clock: ManualClock) -> None:
    assert await asleep_for(0.0) == 0.0
    assert await asleep_for(-2.0) == 0.0
    assert await asleep_for(0.7) == pytest.approx(0.7)
    assert clock.sleeps == [0.7]


def test_interval_is_the_inverse_of_the_rate_plus_headroom(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "HEADROOM", 0.5)
    assert Pacer(2).interval == pytest.approx(0.75)
    assert Pacer(0.5).interval == pytest.approx(3.0)
    assert Pacer(2).qps == 2


def test_a_tiny_rate_is_still_a_rate() -> None:
    """Only zero and below are refused: 0.001 QPS is a valid (slow) limit."""
    assert Pacer(0.001).interval == pytest.approx(1000.0)
    with pytest.raises(ValueError, match=r"^qps must be positive$"):
        Pacer(0)


def test_the_first_slot_is_now_and_the_queue_starts_from_it(clock: ManualClock) -> None:
    pacer = Pacer(1)
    assert pacer.reserve() == 0.0
    clock.now += 0.25  # a quarter of the interval later
    assert pacer.reserve() == pytest.approx(0.75)
    assert pacer.reserve() == pytest.approx(1.75)


def test_all_of_waits_for_the_latest_quota_and_claims_in_each(clock: ManualClock) -> None:
    room, app = Pacer(1), Pacer(4)
    both = AllOf([room, app])
    assert both.reserve() == 0.0
    assert both.reserve() == pytest.approx(1.0)  # the room's quota is the later one
    # each quota was claimed twice: the app-wide one's next slot is 0.5 s ahead, the room's 2 s
    assert app.reserve() == pytest.approx(0.5)
    assert room.reserve() == pytest.approx(2.0)


def test_all_of_wait_sleeps_for_the_latest(clock: ManualClock) -> None:
    both = AllOf([Pacer(4), Pacer(2)])
    assert both.wait() == 0.0
    assert both.wait() == pytest.approx(0.5)
    assert clock.sleeps == [0.5]


async def test_all_of_await_slot_sleeps_for_the_latest(clock: ManualClock) -> None:
    both = AllOf([Pacer(2), Pacer(4)])
    assert await both.await_slot() == 0.0
    assert await both.await_slot() == pytest.approx(0.5)
    assert clock.sleeps == [0.5]


def test_pacer_for_keys_on_product_account_and_action(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "_pacers", {})
    a = pacer_for("p", "acct", "Act", 3)
    assert a is not None and a.qps == 3
    assert pacing._pacers == {("p", "acct", "Act"): a}
    assert pacer_for("p", "acct", "Act", 3) is a  # same rate: the same queue
    assert pacer_for("q", "acct", "Act", 3) is not a
    assert pacer_for("p", "acct", "Other", 3) is not a


def test_a_new_rate_replaces_the_pacer_and_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "_pacers", {})
    slow = pacer_for("p", "acct", "Act", 1)
    fast = pacer_for("p", "acct", "Act", 5)
    assert fast is not slow and fast is not None and fast.qps == 5
    assert pacing._pacers[("p", "acct", "Act")] is fast
    assert pacer_for("p", "acct", "Act", 5) is fast


def test_a_zero_rate_or_an_unknown_action_is_unpaced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "_pacers", {})
    assert pacer_for("p", "acct", "Act", 0) is None
    assert pacer_for("p", "acct", "Act", None) is None
    assert pacing._pacers == {}


def test_the_documented_rate_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "_pacers", {})
    monkeypatch.setattr(pacing, "DOCUMENTED_QPS", {("p", "Act"): 8.0})
    documented = pacer_for("p", "acct", "Act", None)
    assert documented is not None and documented.qps == 8.0
    assert pacer_for("p", "acct", "Act", 2).qps == 2  # an explicit rate wins


def test_documented_qps_leaves_out_apis_without_a_rate() -> None:
    assert all(qps is not None and qps > 0 for qps in pacing.DOCUMENTED_QPS.values())
    assert pacing.DOCUMENTED_QPS[("rtc", "CloseRoom")] == 1


def test_the_first_slot_is_now_whatever_the_clocks_origin(clock: ManualClock) -> None:
    """A monotonic clock may start near 0 (just after boot): the first call still goes at once."""
    clock.now = 0.0
    pacer = Pacer(1)
    assert pacer.reserve() == 0.0
    assert pacer.reserve() == pytest.approx(1.0)


class RecordingLock:
    """The registry lock, recording each time it is taken; ``on_enter`` runs inside it (another
    thread that won the race and registered its pacer first)."""

    def __init__(self, on_enter=None) -> None:  # type: ignore[no-untyped-def]
        self.taken = 0
        self.on_enter = on_enter

    def __enter__(self) -> None:
        self.taken += 1
        if self.on_enter:
            self.on_enter()

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_known_pacer_is_found_without_the_registry_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "_pacers", {})
    lock = RecordingLock()
    monkeypatch.setattr(pacing, "_registry_lock", lock)
    first = pacer_for("p", "acct", "Act", 2)
    assert lock.taken == 1  # created under the lock
    assert pacer_for("p", "acct", "Act", 2) is first
    assert lock.taken == 1  # every later call of a hot path: no lock


def test_a_pacer_registered_by_another_thread_meanwhile_is_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Double-checked: the thread that lost the race takes the winner's pacer, so the two share one
    queue instead of each spacing its own calls (which would double the rate)."""
    monkeypatch.setattr(pacing, "_pacers", {})
    winner = Pacer(2)
    monkeypatch.setattr(
        pacing,
        "_registry_lock",
        RecordingLock(lambda: pacing._pacers.setdefault(("p", "acct", "Act"), winner)),
    )
    assert pacer_for("p", "acct", "Act", 2) is winner
    assert pacing._pacers[("p", "acct", "Act")] is winner
