"""The probe's safety rules, checked on what the hooks were really asked to send: a destructive call
names only the run's random ids, and never-called APIs are never sent."""

from __future__ import annotations

from typing import Any

import pytest
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc import catalog
from airflow_provider_rtc.hooks.tencentcloud import TencentCloudHook
from airflow_provider_rtc.hooks.zego import ZegoCloudHook
from airflow_provider_rtc.probe import checks, run_probe
from airflow_provider_rtc.probe.engine import EXIT_ERRORS, ProbeResult, ProbeRow

from .conftest import LIVE_DOMAIN, TENCENT, ZEGO

ID_KEYS = {"RoomId", "UserId", "UserIds", "TaskId", "StreamId", "StreamName", "MixStreamSessionId", "FileId"}


def _values(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def test_destructive_calls_name_only_the_runs_random_ids(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[catalog.Api, dict[str, Any]]] = []
    issued: list[dict[str, Any]] = []
    for cls in (TencentCloudHook, ZegoCloudHook):
        original = cls._call

        def spy(self: Any, api: catalog.Api, params: Any, *a: Any, _orig: Any = original, **kw: Any) -> Any:
            sent.append((api, dict(params)))
            return _orig(self, api, params, *a, **kw)

        monkeypatch.setattr(cls, "_call", spy)
    fresh = checks.fresh_ids
    monkeypatch.setattr(checks, "fresh_ids", lambda: issued.append(fresh()) or issued[-1])
    from airflow_provider_rtc.probe import engine

    monkeypatch.setattr(engine, "fresh_ids", checks.fresh_ids)

    run_probe(tencentcloud_conn_id=TENCENT, zegocloud_conn_id=ZEGO, live_domain=LIVE_DOMAIN)

    (ids,) = issued
    random_values = {str(v) for v in ids.values()}
    destructive = [(api, params) for api, params in sent if api.destructive]
    assert {api.action for api, _ in destructive} == {
        a.action for a in catalog.CATALOG.values() if a.destructive and a.action != "DismissRoom"
    }
    for api, params in destructive:
        named = [v for key in ID_KEYS & set(params) if params[key] is not None for v in _values(params[key])]
        assert named, api.action
        # the RemoveUser room is a random number too, but only ever sent with a random user
        rooms_ok = {str(ids["numeric_room"])} if api.action == "RemoveUser" else set()
        assert set(named) <= random_values | rooms_ok, (api.action, named)
        assert api.action != "RemoveUser" or params["UserIds"] == [ids["user"]]
    assert all(v.startswith(checks.PREFIX) or v.isdigit() for v in random_values)
    assert len(ids["file"]) == 32  # real VOD FileIds have 19 digits
    never = {c.action for c in checks.PLAN if c.kind == "never"}
    assert not never & {api.action for api, _ in sent}


def test_a_catalog_entry_without_a_plan_is_listed_as_skipped(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = catalog.Api(cloud="tencent", product="vod", action="DescribeSomethingNew", version="2018-07-17")
    monkeypatch.setitem(catalog.CATALOG, new.key, new)

    result = run_probe(tencentcloud_conn_id=TENCENT, clouds="vod")

    row = next(r for r in result.rows if r.api == "DescribeSomethingNew")
    assert (row.verdict, row.why) == ("skipped", "no probe for this catalog entry yet")
    assert result.exit_code == 0


def test_a_difference_outranks_errors_in_the_exit_code() -> None:
    row = ProbeRow("trtc", "X", "-", "-", "-", "agrees")
    result = ProbeResult([row, ProbeRow("trtc", "Y", "-", "AuthFailure", "-", "error")])
    assert result.exit_code == EXIT_ERRORS
    result.rows.append(ProbeRow("trtc", "Z", "-", "Other", "gone: A", "differs"))
    assert result.exit_code == 1
    assert result.summary() == "1 agrees, 1 differs, 0 skipped, 1 error (exit code 1)"


def _room_list_row(**kw: Any) -> ProbeRow:
    result = run_probe(zegocloud_conn_id=ZEGO, clouds="zego", **kw)
    return next(r for r in result.rows if r.api == "DescribeRoomList")


def test_describe_room_list_enabled_agrees_on_its_shape(sandbox: SandboxServer) -> None:
    sandbox.backend.zego.room_list_enabled = True
    row = _room_list_row()
    assert (row.verdict, row.why) == ("agrees", "")
    assert row.seen.startswith("Data.RoomList[1], Data.TotalCount")


def test_describe_room_list_not_enabled_as_an_auth_code_agrees(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ZEGO's likeliest "not enabled" answer is 9 (vendor review 2 §5.2), an auth-family code:
    discovery reads the "not enabled" codes (9, 100000017, 100000007) as such, and so does the probe."""
    from rtc_sandbox.errors import SandboxError

    def not_enabled(*args: Any) -> Any:
        raise SandboxError(9, "no permission for this API")

    monkeypatch.setattr(sandbox.backend.zego, "room_list", not_enabled)
    row = _room_list_row()
    assert (row.seen, row.verdict) == ("9", "agrees")
    assert "not enabled" in row.why


def test_describe_room_list_answering_another_error_differs(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discovery no longer falls back on any error (an auth failure must surface), so an error that is
    not one of the "not enabled" codes is no agreement."""
    from rtc_sandbox.errors import SandboxError

    def refused(*args: Any) -> Any:
        raise SandboxError(100000004, "signature mismatch")

    monkeypatch.setattr(sandbox.backend.zego, "room_list", refused)
    row = _room_list_row()
    assert row.seen == "100000004"
    assert row.verdict != "agrees"


def test_a_throttled_call_is_an_error_not_an_agreement(sandbox: SandboxServer) -> None:
    """A throttle says nothing of the account, even where any error would otherwise agree."""
    sandbox.backend.set_faults({"rules": [{"kind": "throttle", "action": "DescribeRoomList"}]})
    row = _room_list_row(hook_params={"throttle_budget": 0.3})
    assert (row.verdict, row.seen) == ("error", "206")
    assert row.why.startswith("RtcThrottledError")
