"""DescribeLiveStreamOnlineList (the worked example of adding an API): the hook, the sandbox's paging
over pushed streams, input validation before any call, and the catalog's pacing."""

from __future__ import annotations

import pytest
from rtc_sandbox.seed import LIVE_APP, LIVE_DOMAIN

from airflow_provider_rtc import catalog
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.hooks.live import LiveHook

from .conftest import code_of


@pytest.fixture
def hook(sb, set_connection):
    conn = sb.connections["tencentcloud_default"]
    set_connection("tencentcloud_default", {**conn, "extra": {**conn["extra"], "pacing": False}})
    return LiveHook()


def test_pages_through_the_streams_being_pushed(sb, hook):
    pushed = [s["stream_name"] for s in sb.seed({"live": {"streams": 23}})["live"]["streams"]]
    sb.backend.live.push_stream(LIVE_DOMAIN, LIVE_APP, "forbidden_one", sb.backend.now(), state="forbid")
    first = hook.describe_live_stream_online_list()
    assert (first["TotalNum"], first["TotalPage"], first["PageNum"], first["PageSize"]) == (23, 3, 1, 10)
    listed = []
    for page in (1, 2, 3, 4):
        out = hook.describe_live_stream_online_list(domain_name=LIVE_DOMAIN, page_num=page, page_size=10)
        listed += [s["StreamName"] for s in out["OnlineInfo"]]
        if page == 3:
            assert len(out["OnlineInfo"]) == 3
        if page == 4:
            assert out["OnlineInfo"] == []
    # every active stream exactly once across the pages, the forbidden one not at all
    assert sorted(listed) == sorted(pushed) and len(set(listed)) == len(listed)
    info = first["OnlineInfo"][0]
    assert (info["AppName"], info["DomainName"]) == (LIVE_APP, LIVE_DOMAIN)
    assert info["PublishTimeList"][0]["PublishTime"].endswith("Z")
    one = hook.describe_live_stream_online_list(stream_name=pushed[5], page_size=100)
    assert [s["StreamName"] for s in one["OnlineInfo"]] == [pushed[5]] and one["TotalNum"] == 1
    assert hook.describe_live_stream_online_list(app_name="other")["TotalNum"] == 0
    # a dropped stream leaves the list
    hook.drop_live_stream(pushed[0], LIVE_DOMAIN, LIVE_APP)
    assert hook.describe_live_stream_online_list()["TotalNum"] == 22


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [({"page_size": 9}, "page_size"), ({"page_size": 300_001}, "page_size"), ({"page_num": 0}, "page_num")],
)
def test_bad_paging_is_refused_before_calling(sb, hook, kwargs, param):
    with pytest.raises(RtcValidationError) as err:
        hook.describe_live_stream_online_list(**kwargs)
    assert err.value.param == param
    assert "DescribeLiveStreamOnlineList" not in sb.backend.stats.snapshot()["actions"]


def test_mainland_pages_reach_300000_and_international_ones_100(sb, hook, set_connection):
    """Mainland: "PageSize: 每页大小, 最大300000。取值: 10~300000" (Py SDK live models, 2025-12);
    the international site still documents "Maximum value: 100" (intl Go SDK)."""
    sb.seed({"live": {"streams": 150}})
    whole = hook.describe_live_stream_online_list(page_size=300_000)
    assert (whole["TotalNum"], whole["TotalPage"], len(whole["OnlineInfo"])) == (150, 1, 150)
    conn = sb.connections["tencentcloud_default"]
    set_connection("intl", {**conn, "extra": {**conn["extra"], "pacing": False, "intl": True}})
    with pytest.raises(RtcValidationError, match="100") as err:
        LiveHook("intl").describe_live_stream_online_list(page_size=101)
    assert err.value.param == "page_size"


def test_the_sandbox_refuses_bad_paging_too(tencent):
    assert (
        code_of(tencent("DescribeLiveStreamOnlineList", {"PageSize": 5}, service="live"))
        == "InvalidParameter"
    )
    assert (
        code_of(tencent("DescribeLiveStreamOnlineList", {"PageNum": 0}, service="live")) == "InvalidParameter"
    )
    assert (
        code_of(tencent("DescribeLiveStreamOnlineList", {"PageSize": 300_001}, service="live"))
        == "InvalidParameter"
    )


def test_catalog_entry_paces_at_the_documented_rate(sb, set_connection):
    conn = sb.connections["tencentcloud_default"]
    set_connection("paced", {**conn, "extra": {**conn["extra"], "pacing": True}})
    hook = LiveHook("paced")
    api = catalog.DESCRIBE_LIVE_STREAM_ONLINE_LIST
    assert (api.product, api.version, api.qps, api.per) == ("live", "2018-08-01", 100.0, ("secret_id",))
    scope = hook._request(hook.settings, api, {})["scope"]
    assert hook._pacer(hook.settings, api, scope).qps == 100.0
