"""End exactly what is in scope (issue 17): typed room ids, one app, the whole scope verified,
plans that cannot go stale, guards that mean it, lists parsed as lists.

The sandbox tests check the ground truth (the sandbox's own state and the destructive calls it
received), never only the operator's report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_rtc.cleanup import plan as planner
from airflow_provider_rtc.discovery.discover import select
from airflow_provider_rtc.discovery.selector import Selector
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.operators.event import DiscoverLiveResourcesOperator, EndEventOperator

from .conftest import destructive_calls

APP_A, APP_B = 1400000001, 1400000002
NOW = dt.datetime(2026, 11, 29, 18, 0, tzinfo=dt.UTC)
MS = int(NOW.timestamp() * 1000)


class _TI:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def _trtc_rooms(bed: Any, app: int = APP_A) -> set[tuple[Any, bool]]:
    """Ground truth: the live TRTC rooms of ``app`` as (room_id as the cloud holds it, str_room)."""
    rooms = bed.server.state()["trtc"]["rooms"]
    return {(r["room_id"], r["str_room"]) for r in rooms if r["sdk_app_id"] == app}


def _calls(bed: Any) -> dict[str, int]:
    actions = bed.server.backend.stats.snapshot()["actions"]
    return {action: int(stats["calls"]) for action, stats in actions.items()}


def _twin_rooms(bed: Any, app: int = APP_A) -> None:
    """TRTC numeric room 1234 and string room "1234": same digits, two rooms."""
    sb = bed.server.backend
    sb.trtc.add_users(app, 1234, ["n1", "n2"], sb.now())
    sb.trtc.add_users(app, "1234", ["s1"], sb.now())
    bed.settle()


# -- 1. typed identity -------------------------------------------------------------------------


def test_selector_room_ids_are_typed():
    sel = Selector.parse({"room_ids": [1234]})
    assert sel.room_name_matches(1234, cloud="trtc")
    assert not sel.room_name_matches("1234", cloud="trtc")
    assert not sel.room_name_matches("1234", cloud="trtc", id_type="str")
    assert sel.room_name_matches("1234", cloud="trtc", id_type="int")  # str_room=False wins
    assert sel.room_name_matches("1234", cloud="zego")  # ZEGO ids are strings: 1234 names "1234"
    text = Selector.parse({"room_ids": ["1234"]})
    assert text.room_name_matches("1234", cloud="trtc") and not text.room_name_matches(1234, cloud="trtc")
    assert Selector.parse({"room_ids": [1234, "1234"]}).to_dict()["room_ids"] == [1234, "1234"]


def _item(kind: str, ids: dict[str, Any], started: int = MS - 3600_000, **extra: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "ids": ids,
        "live": True,
        "started_ms": started,
        "last_activity_ms": started,
        "sources": ["callback"],
        **extra,
    }


TWINS = [
    _item("rooms", {"room_id": 1234, "str_room": False}),
    _item("users", {"room_id": 1234, "user_id": "n1"}),
    _item("rooms", {"room_id": "1234", "str_room": True}),
    _item("users", {"room_id": "1234", "user_id": "s1"}),
]


def test_discovery_keys_rooms_by_ref():
    grouped = select("trtc", TWINS, Selector.parse({"room_ids": [1234]}), NOW, str(APP_A))
    assert [r["ids"]["room_id"] for r in grouped["rooms"]] == [1234]
    assert [u["ids"]["user_id"] for u in grouped["users"]] == ["n1"]
    assert grouped["rooms"][0]["ref"] == {
        "cloud": "trtc",
        "app_id": str(APP_A),
        "kind": "rooms",
        "id": "1234",
        "id_type": "int",
        "room": "",
    }


def test_plan_keys_rooms_by_ref_and_shows_the_type():
    inventory = {"clouds": {"trtc": {"app_id": str(APP_A), "rooms": [TWINS[0]], "users": [TWINS[3]]}}}
    plan = planner.build_plan(inventory)
    actions = [(t["action"], t["ids"]["room_id"]) for t in plan["targets"]]
    # the string room's user is not "covered" by dismissing the numeric room
    assert actions == [("RemoveUserByStrRoomId", "1234"), ("DismissRoom", 1234)]
    table = planner.render_table(plan)
    assert "room 1234 (int)" in table and 'user s1 in room "1234" (str)' in table


def test_end_event_ends_the_numeric_room_only(bed):
    _twin_rooms(bed)
    report = EndEventOperator(task_id="end", selector={"room_ids": [1234]}, clouds=["trtc"]).execute({})
    assert _trtc_rooms(bed) == {("1234", True)}  # the string room is untouched
    calls = _calls(bed)
    assert calls.get("DismissRoom") == 1 and "DismissRoomByStrRoomId" not in calls
    assert [r["label"] for r in report["results"]] == [f"trtc:{APP_A} room 1234 (int)"]


def test_end_event_ends_the_string_room_only(bed):
    _twin_rooms(bed)
    EndEventOperator(task_id="end", selector={"room_ids": ["1234"]}, clouds=["trtc"]).execute({})
    assert _trtc_rooms(bed) == {(1234, False)}
    assert "DismissRoom" not in _calls(bed) and _calls(bed)["DismissRoomByStrRoomId"] == 1


# -- 2. another app ----------------------------------------------------------------------------


@pytest.mark.parametrize("bed", [{"tencent": {"extra_sdk_app_ids": [APP_B]}}], indirect=True)
def test_an_inventory_of_another_app_is_refused_before_any_call(bed):
    sb = bed.server.backend
    for app in (APP_A, APP_B):
        sb.trtc.add_users(app, 1234, ["u1"], sb.now())
    bed.settle()
    inventory = DiscoverLiveResourcesOperator(
        task_id="d", selector={"room_ids": [1234]}, clouds=["trtc"]
    ).execute({})
    assert inventory["clouds"]["trtc"]["app_id"] == str(APP_A)
    op = EndEventOperator(task_id="end", inventory=inventory, clouds=["trtc"], sdk_app_id=APP_B)
    with pytest.raises(RtcValidationError) as err:
        op.execute({})
    assert str(APP_A) in str(err.value) and str(APP_B) in str(err.value)
    assert destructive_calls(bed.server) == 0
    assert _trtc_rooms(bed, APP_A) == {(1234, False)} and _trtc_rooms(bed, APP_B) == {(1234, False)}


def test_an_inventory_without_its_app_is_refused():
    inventory = {"discovered_at": pendulum.now("UTC").isoformat(), "clouds": {"zego": {"rooms": []}}}
    EndEventOperator(task_id="end", inventory=inventory, clouds=["zego"])._inputs()  # well-formed
    from airflow_provider_rtc.operators.event import _check_apps

    with pytest.raises(RtcValidationError) as err:
        _check_apps(inventory, {})
    assert err.value.param == "inventory.clouds.zego.app_id"


# -- 3. verification looks at the whole scope --------------------------------------------------


def test_verify_finds_a_room_opened_during_the_run(bed, monkeypatch):
    sb = bed.server.backend
    sb.trtc.add_users(APP_A, "conf-1", ["u1"], sb.now())
    bed.settle()
    original = planner.record_results

    def and_a_new_room_opens(results: Any, access: Any) -> None:
        original(results, access)
        sb.trtc.add_users(APP_A, "conf-late", ["late"], sb.now())
        bed.settle()

    monkeypatch.setattr(planner, "record_results", and_a_new_room_opens)
    ti = _TI()
    op = EndEventOperator(
        task_id="end",
        selector={"room_id_prefix": "conf-"},
        clouds=["trtc"],
        verify_timeout=1,
        verify_interval=0.5,
    )
    with pytest.raises(AirflowException, match="conf-late"):
        op.execute({"ti": ti})
    assert _trtc_rooms(bed) == {("conf-late", True)}  # ground truth: it is live, so failing is right
    survivors = ti.pushed["report"]["survivors"]
    assert {s["ids"]["room_id"] for s in survivors if s["kind"] == "rooms"} == {"conf-late"}


# -- 4. stale plans ----------------------------------------------------------------------------


def test_a_room_reused_after_the_inventory_is_skipped_not_ended(bed):
    sb = bed.server.backend
    sb.trtc.add_users(APP_A, 1234, ["old"], sb.now())
    sb.trtc.add_users(APP_A, 5678, ["other"], sb.now())
    bed.settle()
    inventory = DiscoverLiveResourcesOperator(
        task_id="d", selector={"room_ids": [1234, 5678]}, clouds=["trtc"]
    ).execute({})
    sb.trtc.dismiss_room(APP_A, 1234, sb.now())  # the event ended on its own ...
    bed.settle()  # (delivered before the reuse: a reuse comes later than one callback's flight)
    sb.clock.set_offset(5)
    sb.trtc.add_users(APP_A, 1234, ["new"], sb.now())  # ... and a new session reused the id
    bed.settle()
    ti = _TI()
    report = EndEventOperator(
        task_id="end", inventory=inventory, clouds=["trtc"], verify_interval=0.5
    ).execute({"ti": ti})
    assert _trtc_rooms(bed) == {(1234, False)}  # the new session is still live
    assert _calls(bed).get("DismissRoom") == 1  # only 5678 was dismissed
    stale = [r for r in report["results"] if r["status"] == "skipped_stale"]
    assert [r["ids"]["room_id"] for r in stale] == [1234] and "later session" in stale[0]["reason"]
    assert report["skipped_stale"] == 1 and report["survivors"] == []


def test_an_old_inventory_is_refused():
    old = pendulum.now("UTC").subtract(hours=2).isoformat()
    inventory = {"discovered_at": old, "clouds": {"zego": {"app_id": "1", "rooms": []}}}
    with pytest.raises(RtcValidationError, match="max_inventory_age") as err:
        EndEventOperator(task_id="end", inventory=inventory, clouds=["zego"]).execute({})
    assert err.value.param == "inventory"
    with pytest.raises(RtcValidationError) as err:
        EndEventOperator(task_id="end", inventory={"clouds": {"zego": {"app_id": "1"}}}).execute({})
    assert err.value.param == "inventory.discovered_at"


# -- 5. guards that mean it --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ({"older_than": 0}, "selector.older_than"),
        ({"started_before": "2099-01-01T00:00Z"}, "selector.started_before"),
        ({"started_after": "1970-01-02T00:00Z"}, "selector.started_after"),
        ({"started_after": "2014-12-31T00:00Z", "older_than": 0}, "selector.older_than"),
    ],
)
def test_vacuous_guards_need_allow_all(raw, param):
    with pytest.raises(RtcValidationError) as err:
        Selector.parse(raw)
    assert err.value.param == param
    assert Selector.parse(raw, allow_all=True).allow_all
    assert Selector.parse({**raw, "room_id_prefix": "conf-"}).room_id_prefix == "conf-"


def test_end_event_refuses_a_vacuous_guard_before_any_call(bed):
    _twin_rooms(bed)
    with pytest.raises(RtcValidationError):
        EndEventOperator(task_id="end", selector={"older_than": 0}, clouds=["trtc"]).execute({})
    assert destructive_calls(bed.server) == 0 and len(_trtc_rooms(bed)) == 2


def test_sweep_idle_rooms_forbids_older_than_zero():
    from airflow.sdk.definitions.param import ParamValidationError

    from tests.conftest import load_example_dag

    dag = load_example_dag("sweep_idle_rooms", "sweep_idle_rooms.py")
    param = dag.params.get_param("older_than_hours")
    with pytest.raises(ParamValidationError):
        param.resolve(0)
    assert param.resolve(0.5) == 0.5


# -- 6. lists, booleans and numbers as the templates render them -------------------------------


@pytest.mark.parametrize(
    ("rendered", "expected"),
    [("['a1', 'b2']", {"a1", "b2"}), ('["a1","b2"]', {"a1", "b2"}), ("[1234, '1234']", {1234, "1234"})],
)
def test_a_rendered_list_is_a_list(rendered, expected):
    assert Selector.parse({"room_ids": rendered}).room_ids == expected


def test_end_event_with_a_rendered_list_ends_both_rooms(bed):
    sb = bed.server.backend
    for room in ("r-a", "r-b", "r-c"):
        sb.trtc.add_users(APP_A, room, ["u"], sb.now())
    bed.settle()
    EndEventOperator(task_id="end", selector={"room_ids": "['r-a', 'r-b']"}, clouds=["trtc"]).execute({})
    assert _trtc_rooms(bed) == {("r-c", True)}


@pytest.mark.parametrize("value", ["", "1", "yes", None, 0])
def test_dry_run_accepts_booleans_and_true_false_only(value):
    with pytest.raises(RtcValidationError) as err:
        EndEventOperator(task_id="end", selector={"room_ids": ["a1"]}, dry_run=value)._inputs()
    assert err.value.param == "dry_run"
    for text, expected in (("true", True), ("False", False), (True, True)):
        op = EndEventOperator(task_id="end", selector={"room_ids": ["a1"]}, dry_run=text)
        assert op._inputs()[3] is expected


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ({"older_than": 1e308}, "selector.older_than"),
        ({"older_than": float("nan")}, "selector.older_than"),
        ({"idle_for": float("inf")}, "selector.idle_for"),
        ({"started_before": 1e20}, "selector.started_before"),
        ({"started_after": float("nan")}, "selector.started_after"),
    ],
)
def test_out_of_range_numbers_name_their_key(raw, param):
    with pytest.raises(RtcValidationError) as err:
        Selector.parse({**raw, "room_id_prefix": "conf-"})
    assert err.value.param == param


# -- 7. time semantics: a first-seen time is an upper bound -------------------------------------


def test_time_conditions_hold_for_every_possible_true_start():
    seen = MS - 3 * 3600_000
    after = Selector.parse({"started_after": "2026-11-29T10:00Z"})
    before = Selector.parse({"started_before": "2026-11-29T16:00Z"})
    older = Selector.parse({"older_than": 7200})
    for source in ("first_seen", None, "junk"):
        assert not after.matches("r", seen, seen, idle=True, now=NOW, started_source=source)
        assert before.matches("r", seen, seen, idle=True, now=NOW, started_source=source)
        assert older.matches("r", seen, seen, idle=True, now=NOW, started_source=source)
    assert after.matches("r", seen, seen, idle=True, now=NOW, started_source="cloud")
    items = [
        _item("rooms", {"room_id": "r"}, seen),
        _item("rooms", {"room_id": "c"}, seen, started_source="cloud"),
    ]
    grouped = select("zego", items, after, NOW, "1")
    assert [r["ids"]["room_id"] for r in grouped["rooms"]] == ["c"]
    assert {r["started_source"] for r in select("zego", items, older, NOW, "1")["rooms"]} == {
        "first_seen",
        "cloud",
    }


# -- 8. a run that ends nothing says so --------------------------------------------------------


def test_a_run_that_ends_nothing_says_so(bed, caplog):
    _twin_rooms(bed)
    report = EndEventOperator(task_id="end", selector={"room_ids": ["nope"]}, clouds=["trtc"]).execute({})
    assert report["nothing_to_end"] is True and report["results"] == []
    assert destructive_calls(bed.server) == 0 and len(_trtc_rooms(bed)) == 2


def test_labels_name_every_kind_in_the_singular() -> None:
    """The plan table reads "mix", not a plural cut short ("mixe")."""
    from airflow_provider_rtc.discovery.refs import label
    from airflow_provider_rtc.identity import ResourceRef

    assert label(ResourceRef("zego", "1234567890", "mixes", "mix_task_1", "", "room_1")) == (
        "zego:1234567890 mix mix_task_1 in room room_1"
    )
    assert label(ResourceRef("trtc", "1400000001", "users", "u1", "str", "1234")) == (
        'trtc:1400000001 user u1 in room "1234" (str)'
    )
