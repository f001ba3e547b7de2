"""EndEvent's verification judged without a sandbox: what is in scope, what is reported as a
survivor, how often it looks again and when it stops (issue 17, issue 24 item 5).

Written for `make mutate` (cleanup/plan.py ``verify``, ``_in_scope``, ``_verify_selector``,
``scope_of_inventory``, ``_counted``). The sandbox runs in tests/discovery/ take seconds each; these
replace ``discover``, the clock and the hooks with plain objects, so each mutant is judged in
milliseconds. The promise: every live item in scope is reported, never one out of scope (another
application with the same room id, TRTC's numeric room vs the string room with the same digits,
another cloud), never one a stale target spared, and a run that found nothing says so in one pass.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_rtc import metrics
from airflow_provider_rtc.cleanup import plan as planner
from airflow_provider_rtc.discovery.selector import Selector
from airflow_provider_rtc.exceptions import RtcNotFoundError
from airflow_provider_rtc.identity import ResourceRef

A, B = "1400000001", "1400000002"


def trtc_room(room_id: Any, app: str = A) -> ResourceRef:
    return ResourceRef("trtc", app, "rooms", str(room_id), "int" if isinstance(room_id, int) else "str")


class Clock:
    """``time`` as verify reads it: the monotonic clock moves only when verify sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Discover:
    """``discover`` answering one found inventory per pass (the last one again after the list)."""

    def __init__(self, *passes: dict[str, Any]) -> None:
        self.passes = list(passes)
        self.calls: list[dict[str, Any]] = []

    def __call__(self, access: Any, selector: Selector, **kw: Any) -> dict[str, Any]:
        self.calls.append({"access": access, "selector": selector, **kw})
        return self.passes[min(len(self.calls), len(self.passes)) - 1]


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, msg: str, *args: Any) -> None:
        self.lines.append(msg % args)


def found(corrections: list[dict[str, Any]] | None = None, **clouds: dict[str, Any]) -> dict[str, Any]:
    return {"clouds": clouds, "corrections": corrections or []}


def live(**ids: Any) -> dict[str, Any]:
    return {"ids": ids, "live": True, "source": "callback"}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(planner, "time", SimpleNamespace(monotonic=c.monotonic, sleep=c.sleep))
    return c


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, dict[str, Any]]]:
    seen: list[tuple[str, int, dict[str, Any]]] = []
    monkeypatch.setattr(metrics, "incr", lambda name, count=1, **tags: seen.append((name, count, tags)))
    return seen


def run_verify(monkeypatch: pytest.MonkeyPatch, fake: Discover, **kw: Any) -> tuple[list, int, list]:
    monkeypatch.setattr(planner, "discover", fake)
    kw.setdefault("timeout", 0)
    kw.setdefault("interval", 1)
    plan = kw.pop("plan", {"targets": []})
    access = kw.pop("access", {"trtc": "trtc-access"})
    return planner.verify(plan, access, **kw)


# -- the scope of an explicit inventory ----------------------------------------------------------

INVENTORY = {
    "clouds": {
        "trtc": {
            "app_id": A,  # not a list, and before the lists: skipped, not the end of the cloud
            "rooms": [{"ids": {"room_id": 1234}}],
            "users": [{"ids": {"room_id": 77, "user_id": "u"}}],
            "recordings": [{"ids": {"task_id": "rec-1", "room_id": "r9"}}],
        },
        "live": {
            "app_id": "push.example.com",
            "streams": [
                {"ids": {"domain_name": "push.example.com", "app_name": "live", "stream_name": "s1"}}
            ],
            "mixes": [{"ids": {"session_id": "mix-1"}}],
        },
        "zego": {
            "rooms": ["not an item", {"ids": "not ids"}, {"ids": {"room_id": "z1"}}],
            "mixes": [{"ids": {"task_id": "m1", "room_id": "z2"}}],
        },
    }
}


def test_the_inventorys_scope_is_its_rooms_live_items_recordings_and_mixes() -> None:
    live_app = "push.example.com"
    assert planner.scope_of_inventory(INVENTORY) == {
        trtc_room(1234),
        trtc_room(77),  # a user puts its room in scope, not itself
        ResourceRef("trtc", A, "recordings", "rec-1", "str", "r9"),
        trtc_room("r9"),
        ResourceRef("live", live_app, "streams", "push.example.com/live/s1"),
        ResourceRef("live", live_app, "mixes", "mix-1"),
        ResourceRef("zego", "-", "rooms", "z1"),  # no app id in a hand-built inventory: "-"
        ResourceRef("zego", "-", "mixes", "m1", "", "z2"),
        ResourceRef("zego", "-", "rooms", "z2"),
    }


def test_an_inventory_without_clouds_has_an_empty_scope() -> None:
    assert planner.scope_of_inventory({}) == set()
    assert planner.scope_of_inventory({"clouds": None}) == set()


def test_a_trtc_stream_puts_its_room_in_scope_not_itself() -> None:
    scope = planner.scope_of_inventory(
        {"clouds": {"trtc": {"app_id": A, "streams": [{"ids": {"user_id": "s", "room_id": "5"}}]}}}
    )
    assert scope == {trtc_room("5")}


# -- which items are in scope ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cloud", "app", "kind", "ids", "expected"),
    [
        ("trtc", A, "users", {"room_id": 1234, "user_id": "u"}, True),  # in a room in scope
        ("trtc", B, "users", {"room_id": 1234, "user_id": "u"}, False),  # another app, same room id
        ("trtc", A, "users", {"room_id": "1234", "user_id": "u"}, False),  # the string room "1234"
        ("zego", A, "users", {"room_id": "1234", "user_id": "u"}, False),  # another cloud
        ("trtc", A, "rooms", {"room_id": 1234}, True),
        ("trtc", A, "rooms", {"room_id": "1234"}, False),
        ("live", "d", "streams", {"domain_name": "d", "app_name": "a", "stream_name": "s"}, True),
        ("live", "d", "streams", {"domain_name": "d", "app_name": "b", "stream_name": "s"}, False),
        ("live", "d", "mixes", {"session_id": "1234"}, False),  # no room: only its own ref counts
        ("trtc", A, "recordings", {"task_id": "t"}, True),  # its own ref, no room
    ],
)
def test_in_scope_compares_typed_refs(cloud: str, app: str, kind: str, ids: dict, expected: bool) -> None:
    scope = {
        trtc_room(1234),
        ResourceRef("live", "d", "streams", "d/a/s"),
        ResourceRef("trtc", A, "recordings", "t"),
    }
    assert planner._in_scope(cloud, app, kind, ids, scope) is expected


# -- the selector verification discovers with ------------------------------------------------------


def test_the_verify_selector_names_each_room_by_its_typed_id_and_live_streams_by_name() -> None:
    scope = {
        trtc_room(1234),
        trtc_room("1234"),
        trtc_room(-5),
        ResourceRef("trtc", A, "rooms", "X1", "int"),  # not digits: kept as text
        ResourceRef("zego", "9", "rooms", "z1"),
        ResourceRef("live", "d", "streams", "d/a/s/1"),
        ResourceRef("live", "d", "streams", "bare"),  # pushed without domain and app: the name alone
        ResourceRef("live", "d", "mixes", "mix"),  # no list API: not named
        ResourceRef("trtc", A, "users", "u", "int", "88"),  # not a room: not named
    }
    selector = planner._verify_selector(scope)
    assert selector.room_ids == frozenset({1234, "1234", -5, "X1", "z1", "1", "bare"})
    assert selector.allow_all is True
    assert selector.room_id_prefix is None


def test_a_scope_without_rooms_or_streams_is_looked_at_whole() -> None:
    for scope in (set(), {ResourceRef("live", "d", "mixes", "mix")}):
        selector = planner._verify_selector(scope)
        assert selector == Selector(allow_all=True)
        assert selector.room_ids is None


# -- verify: who is a survivor ----------------------------------------------------------------------


def test_verify_reports_every_survivor_in_scope_and_none_outside(monkeypatch, clock, counted) -> None:
    fake = Discover(
        found(
            trtc={
                "app_id": A,
                "rooms": [live(room_id=1234), live(room_id="1234")],
                "users": [live(room_id=1234, user_id="in"), live(room_id="1234", user_id="twin")],
            },
            zego={"app_id": A, "rooms": [live(room_id="1234")]},
        )
    )
    survivors, passes, corrections = run_verify(
        monkeypatch, fake, scope={trtc_room(1234)}, access={"trtc": 1, "zego": 2}
    )
    assert survivors == [
        {"cloud": "trtc", "kind": "rooms", **live(room_id=1234)},
        {"cloud": "trtc", "kind": "users", **live(room_id=1234, user_id="in")},
    ]
    assert (passes, corrections) == (1, [])
    assert counted == [
        (metrics.SURVIVORS, 1, {"cloud": "trtc", "action": "rooms"}),
        (metrics.SURVIVORS, 1, {"cloud": "trtc", "action": "users"}),
    ]


def test_another_app_with_the_same_room_id_is_no_survivor(monkeypatch, clock, counted) -> None:
    fake = Discover(found(trtc={"app_id": B, "rooms": [live(room_id=1234)]}))
    assert run_verify(monkeypatch, fake, scope={trtc_room(1234)}) == ([], 1, [])
    assert counted == []


def test_the_discovery_is_asked_for_the_scope_reconciled_at_the_first_time(monkeypatch, clock) -> None:
    fake = Discover(found())
    scope = {trtc_room(1234)}
    run_verify(monkeypatch, fake, scope=scope, now="first", access={"trtc": "acc"})
    assert fake.calls == [
        {
            "access": {"trtc": "acc"},
            "selector": Selector(room_ids=frozenset({1234}), allow_all=True),
            "reconcile": True,
            "now": "first",
            "count": False,
        }
    ]


def test_without_scope_or_inventory_the_given_selector_is_discovered(monkeypatch, clock) -> None:
    selector = Selector(room_ids=frozenset({"x"}), idle_for=60.0)
    fake = Discover(found(zego={"app_id": "9", "rooms": [live(room_id="y")]}))
    survivors, _, _ = run_verify(monkeypatch, fake, selector=selector)
    assert fake.calls[0]["selector"] is selector
    assert survivors == [{"cloud": "zego", "kind": "rooms", **live(room_id="y")}]  # the selector's scope


def test_the_inventory_gives_the_scope_when_no_scope_is_given(monkeypatch, clock) -> None:
    fake = Discover(found(trtc={"app_id": A, "rooms": [live(room_id=1234), live(room_id=99)], "users": []}))
    inventory = {"clouds": {"trtc": {"app_id": A, "rooms": [{"ids": {"room_id": 1234}}]}}}
    survivors, _, _ = run_verify(monkeypatch, fake, inventory=inventory, selector=Selector(allow_all=True))
    assert survivors == [{"cloud": "trtc", "kind": "rooms", **live(room_id=1234)}]
    assert fake.calls[0]["selector"].room_ids == frozenset({1234})


def test_an_explicit_scope_wins_over_the_inventory_and_is_not_changed(monkeypatch, clock) -> None:
    fake = Discover(found(trtc={"app_id": A, "rooms": [live(room_id=1234), live(room_id=99)]}))
    inventory = {"clouds": {"trtc": {"app_id": A, "rooms": [{"ids": {"room_id": 1234}}]}}}
    scope = {trtc_room(99), trtc_room(1234)}
    skipped = [{"refs": [trtc_room(1234).as_dict()]}]
    survivors, _, _ = run_verify(monkeypatch, fake, scope=scope, inventory=inventory, skipped=skipped)
    assert survivors == [{"cloud": "trtc", "kind": "rooms", **live(room_id=99)}]
    assert scope == {trtc_room(99), trtc_room(1234)}  # the caller's set: the spared room not taken out


def test_an_empty_scope_discovers_nothing_and_says_so_in_one_pass(monkeypatch, clock, counted) -> None:
    fake = Discover(found(trtc={"app_id": A, "rooms": [live(room_id=1)]}))
    log = Log()
    result = run_verify(monkeypatch, fake, inventory={}, timeout=60, log=log)
    assert result == ([], 1, [])
    assert fake.calls == []
    assert log.lines == ["verify pass 1: 0 survivor(s)"]
    assert counted == []


def test_a_stale_targets_room_and_what_lives_in_it_are_no_survivors(monkeypatch, clock) -> None:
    """A room reused after the plan (skipped as stale) is a later session: reported there."""
    fake = Discover(
        found(
            trtc={
                "app_id": A,
                "rooms": [live(room_id=1234), live(room_id=5)],
                "users": [live(room_id=1234, user_id="new"), live(room_id=5, user_id="old")],
            }
        )
    )
    skipped = [{"refs": [trtc_room(1234).as_dict()]}]
    for kw in ({"scope": {trtc_room(1234), trtc_room(5)}}, {"selector": Selector(allow_all=True)}):
        survivors, _, _ = run_verify(monkeypatch, fake, skipped=skipped, **kw)
        assert [s["ids"] for s in survivors] == [{"room_id": 5}, {"room_id": 5, "user_id": "old"}]


def test_the_stale_user_alone_is_spared_not_its_room(monkeypatch, clock) -> None:
    user = ResourceRef("trtc", A, "users", "new", "int", "1234")
    fake = Discover(
        found(
            trtc={"app_id": A, "users": [live(room_id=1234, user_id="new"), live(room_id=1234, user_id="b")]}
        )
    )
    survivors, _, _ = run_verify(
        monkeypatch, fake, scope={trtc_room(1234)}, skipped=[{"refs": [user.as_dict()]}]
    )
    assert [s["ids"]["user_id"] for s in survivors] == ["b"]


# -- verify: ZEGO mixes are asked one by one --------------------------------------------------------


class MixHook:
    def __init__(self, gone: set[str]) -> None:
        self.gone = gone
        self.asked: list[str] = []

    def get_mix_task_info(self, task_id: str) -> dict[str, Any]:
        self.asked.append(task_id)
        if task_id in self.gone:
            raise RtcNotFoundError("no such task", code="x")
        return {"task_id": task_id}


def mix_target(task_id: str, action: str = "StopMix") -> dict[str, Any]:
    ref = ResourceRef("zego", "9", "mixes", task_id, "", "z")
    return {"action": action, "ids": {"task_id": task_id}, "refs": [ref.as_dict()]}


def test_a_zego_mix_still_running_is_a_survivor_and_a_gone_one_is_not(monkeypatch, clock, counted) -> None:
    hook = MixHook(gone={"gone"})
    zego = SimpleNamespace(hooks={"rtc": hook})
    listed = {"app_id": "9", "mixes": [live(task_id="run", room_id="z"), live(task_id="other", room_id="z")]}
    fake = Discover(found(zego=listed))
    plan = {  # the gone one first: the mixes after it are asked too
        "targets": [mix_target("gone"), mix_target("run"), mix_target("live-mix", "CancelCommonMixStream")]
    }
    survivors, _, _ = run_verify(
        monkeypatch,
        fake,
        plan=plan,
        access={"zego": zego},
        scope={ResourceRef("zego", "9", "rooms", "z")},
    )
    assert hook.asked == ["gone", "run"]
    assert survivors == [
        # listed and not ended by the plan: found by discovery
        {"cloud": "zego", "kind": "mixes", **live(task_id="other", room_id="z")},
        # the one the plan ended: as GetMixTaskInfo answered, not as listed
        {
            "cloud": "zego",
            "kind": "mixes",
            "ids": {"task_id": "run"},
            "ref": ResourceRef("zego", "9", "mixes", "run", "", "z").as_dict(),
            "source": "list_api",
        },
    ]
    assert counted == [(metrics.SURVIVORS, 2, {"cloud": "zego", "action": "mixes"})]


# -- verify: passes, the deadline and the stop switch -----------------------------------------------


class Run:
    """A BulkRun's ``wait``: True (stopped) from the ``stop_at``-th wait on; waits on the clock."""

    def __init__(self, clock: Clock, stop_at: int | None = None) -> None:
        self.clock, self.stop_at, self.waits = clock, stop_at, 0

    def wait(self, seconds: float) -> bool:
        self.waits += 1
        self.clock.now += seconds
        return self.stop_at is not None and self.waits >= self.stop_at


def rooms(*ids: Any, corrections: list | None = None) -> dict[str, Any]:
    return found(corrections, trtc={"app_id": A, "rooms": [live(room_id=i) for i in ids]})


def test_verify_looks_again_until_nothing_is_live_and_keeps_every_correction(monkeypatch, clock) -> None:
    fake = Discover(rooms(1, 2, corrections=[{"c": 1}]), rooms(2, corrections=[{"c": 2}]), rooms())
    log = Log()
    survivors, passes, corrections = run_verify(
        monkeypatch, fake, selector=Selector(allow_all=True), timeout=30, interval=5, log=log
    )
    assert (survivors, passes, corrections) == ([], 3, [{"c": 1}, {"c": 2}])
    assert clock.slept == [5, 5]
    assert log.lines == [
        "verify pass 1: 2 still live, checking again in 5s",
        "verify pass 2: 1 still live, checking again in 5s",
        "verify pass 3: 0 survivor(s)",
    ]


def test_verify_stops_at_the_deadline_with_the_last_survivors(monkeypatch, clock, counted) -> None:
    """timeout 10, interval 3: passes at 0, 3, 6 and 9; a wait from 9 would end after the deadline."""
    fake = Discover(rooms(1, 2), rooms(2))
    log = Log()
    survivors, passes, _ = run_verify(
        monkeypatch, fake, selector=Selector(allow_all=True), timeout=10, interval=3, log=log
    )
    assert [s["ids"] for s in survivors] == [{"room_id": 2}]
    assert (passes, clock.slept) == (4, [3, 3, 3])
    assert log.lines[-1] == "verify pass 4: 1 survivor(s)"
    assert counted == [(metrics.SURVIVORS, 1, {"cloud": "trtc", "action": "rooms"})]


def test_a_pass_that_would_end_exactly_at_the_deadline_is_made(monkeypatch, clock) -> None:
    fake = Discover(rooms(1))
    survivors, passes, _ = run_verify(
        monkeypatch, fake, selector=Selector(allow_all=True), timeout=10, interval=2.5
    )
    # passes at 0, 2.5, 5, 7.5 and 10: the wait from 7.5 ends at the deadline, not after it
    assert (passes, clock.slept) == (5, [2.5, 2.5, 2.5, 2.5])
    assert len(survivors) == 1


def test_a_zero_timeout_is_one_pass(monkeypatch, clock) -> None:
    survivors, passes, _ = run_verify(monkeypatch, Discover(rooms(1)), selector=Selector(allow_all=True))
    assert (len(survivors), passes, clock.slept) == (1, 1, [])


def test_a_stopped_run_ends_verification_with_what_is_still_live(monkeypatch, clock, counted) -> None:
    run = Run(clock, stop_at=2)
    fake = Discover(rooms(1, 2), rooms(2))
    survivors, passes, _ = run_verify(
        monkeypatch, fake, selector=Selector(allow_all=True), timeout=60, interval=5, run=run
    )
    assert [s["ids"] for s in survivors] == [{"room_id": 2}]
    assert (passes, run.waits, clock.slept) == (2, 2, [])  # the run's wait, never time.sleep
    assert counted == [(metrics.SURVIVORS, 1, {"cloud": "trtc", "action": "rooms"})]


def test_a_run_that_is_not_stopped_waits_the_interval_between_passes(monkeypatch, clock) -> None:
    run = Run(clock)
    fake = Discover(rooms(1), rooms())
    assert run_verify(
        monkeypatch, fake, selector=Selector(allow_all=True), timeout=60, interval=5, run=run
    ) == ([], 2, [])
    assert (run.waits, clock.now) == (1, 105.0)


def test_counted_counts_per_cloud_and_kind(counted) -> None:
    survivors = [
        {"cloud": "trtc", "kind": "users"},
        {"cloud": "trtc", "kind": "users"},
        {"cloud": "zego", "kind": "users"},
        {"kind": "rooms"},
    ]
    assert planner._counted(survivors) is survivors
    assert counted == [
        (metrics.SURVIVORS, 2, {"cloud": "trtc", "action": "users"}),
        (metrics.SURVIVORS, 1, {"cloud": "zego", "action": "users"}),
        (metrics.SURVIVORS, 1, {"cloud": "None", "action": "rooms"}),
    ]
