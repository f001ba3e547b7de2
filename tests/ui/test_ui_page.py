"""The RTC page (plugins/ui_page.py) over HTTP with starlette's TestClient: Airflow's own auth
dependency with real JWTs of the simple auth manager, a real lifecycle store seeded with updates,
caps reports in the wave's contract format and audit files written in the audit contract's layout.

Only the revoked-token lookup (a metadata-DB table; unit tests have no DB) is stubbed.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from airflow_provider_rtc.callbacks.inventory import CLOUD, FIRST_SEEN, Update
from airflow_provider_rtc.callbacks.lifecycle_store import LifecycleStore
from airflow_provider_rtc.identity import ResourceRef
from airflow_provider_rtc.plugins import ui_data, ui_render
from airflow_provider_rtc.plugins.ui_data import Report
from airflow_provider_rtc.plugins.ui_page import InventoryUnavailable, Sources, create_ui_app

NOW = 1_800_000_000.0
JWT_SECRET = "rtc-ui-test-secret-" + "x" * 64
TRTC_APP = "1400000001"
ZEGO_APP = "1234567890"


@pytest.fixture
def auth(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The simple auth manager (Airflow 3's default) as the API server has it, signing real JWTs."""
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", JWT_SECRET)
    from airflow.api_fastapi.app import create_auth_manager

    try:  # revoked tokens (Airflow >= 3.1) live in a metadata-DB table
        from airflow.models.revoked_token import RevokedToken
    except ImportError:
        pass
    else:
        monkeypatch.setattr(RevokedToken, "is_revoked", classmethod(lambda cls, jti, session=None: False))
    return create_auth_manager()


@pytest.fixture
def token(auth: Any) -> str:
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return str(auth.generate_jwt(SimpleAuthManagerUser(username="admin", role="admin")))


@pytest.fixture
def store(tmp_path: Path) -> LifecycleStore:
    store = LifecycleStore(str(tmp_path / "inventory.sqlite3"))
    started = int((NOW - 3 * 3600) * 1000)  # 3 h ago
    store.apply(
        "trtc",
        TRTC_APP,
        [
            Update("rooms", {"room_id": 1234}, True, started, started_source=CLOUD),
            Update("rooms", {"room_id": "<script>alert(1)</script>", "str_room": True}, True, started),
        ],
        now=NOW,
    )
    seen = int((NOW - 600) * 1000)
    store.apply("zego", ZEGO_APP, [Update("rooms", {"room_id": "zroom-7"}, True, seen)], now=NOW)
    return store


def _caps_report(ref: ResourceRef, rule: str = "max_duration") -> dict[str, Any]:
    """EnforceCapsOperator's return value, as the wave's caps report contract defines it."""
    item = {
        "ref": ref.as_dict(),
        "label": "room 1234 (int)",
        "kind": "rooms",
        "rule": rule,
        "age_s": 10800.0,
        "idle_s": None,
        "cap_s": 7200.0,
        "started_at": "2027-01-15T05:00:00+00:00",
        "started_source": "cloud",
    }
    return {
        "checked_at": "2027-01-15T08:00:00+00:00",
        "policy": {"rooms": {"max_duration": 7200}},
        "dry_run": False,
        "warned": [item],
        "ended": [],
        "unproven": [],
        "within": 1,
        "result": None,
    }


def _audit_line(dag_id: str, run_id: str, room: str, status: str = "done") -> dict[str, Any]:
    return {
        "ts": "2027-01-15T08:00:01+00:00",
        "dag_id": dag_id,
        "run_id": run_id,
        "task_id": "end_event",
        "map_index": -1,
        "try_number": 1,
        "conn_id": "tencentcloud_default",
        "cloud": "trtc",
        "product": "trtc",
        "app_id": TRTC_APP,
        "ref": ResourceRef("trtc", TRTC_APP, "rooms", room, "str").as_dict(),
        "action": "DismissRoomByStrRoomId",
        "status": status,
        "code": "",
        "request_id": "req-" + room,
        "dry_run": False,
        "maybe_executed": False,
        "origin": "end_event",
    }


def write_audit(base: Path, lines: list[dict[str, Any]]) -> None:
    """Files as the audit contract lays them out: <base>/<dag_id>/<run_id>/<task>.<map>.<try>.jsonl."""
    for line in lines:
        path = base / line["dag_id"] / line["run_id"] / f"{line['task_id']}.{line['map_index']}.1.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as out:
            out.write(json.dumps(line) + "\n")


@pytest.fixture
def audit_module(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """``airflow_provider_rtc.audit.read_lines`` per the contract (built by G3 in parallel): a stand-in
    reading the contract's files, newest first, at the configured ``[rtc] audit_path``."""
    base = tmp_path / "audit"
    monkeypatch.setenv("AIRFLOW__RTC__AUDIT_PATH", f"file://{base}")
    module = types.ModuleType("airflow_provider_rtc.audit")

    def read_lines(url: str, *, dag_id: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        root = Path(url.removeprefix("file://"))
        found = [json.loads(t) for f in root.rglob("*.jsonl") for t in f.read_text().splitlines() if t]
        found = [line for line in found if dag_id is None or line["dag_id"] == dag_id]
        return sorted(found, key=lambda line: line["ts"], reverse=True)[:limit]

    module.read_lines = read_lines  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "airflow_provider_rtc.audit", module)
    yield base


def client_for(
    store: Any, reports: list[Report] | None = None, dag_ids: set[str] | None = None
) -> TestClient:
    def open_store() -> Any:
        if store is None:
            raise InventoryUnavailable("the callback receiver is not enabled")
        return store

    sources = Sources(
        store=open_store,
        reports=lambda allowed: [r for r in reports or [] if allowed is None or r.dag_id in allowed],
        dag_ids=lambda user: dag_ids,
        clock=lambda: NOW,
        prefix=lambda: "",
    )
    return TestClient(create_ui_app(sources))


def _caps(ref: ResourceRef, dag_id: str = "enforce_caps", run_id: str = "scheduled__1") -> Report:
    return Report("caps", dag_id, run_id, "enforce", -1, "2027-01-15T08:00:00+00:00", _caps_report(ref))


def test_anonymous_gets_401_and_no_data(auth: Any, store: LifecycleStore) -> None:
    response = client_for(store).get("/", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert "1234" not in response.text and "zroom-7" not in response.text


def test_a_browser_without_a_token_is_sent_to_the_login_page(auth: Any, store: LifecycleStore) -> None:
    response = client_for(store).get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 302
    assert "login" in response.headers["location"]
    assert "zroom-7" not in response.text


def test_a_forged_token_is_refused(auth: Any, store: LifecycleStore) -> None:
    from airflow.api_fastapi.auth.tokens import JWTGenerator

    forged = JWTGenerator(
        secret_key="not-the-" + JWT_SECRET, valid_for=60, audience="urn:airflow.apache.org:task"
    )
    response = client_for(store).get(
        "/", cookies={"_token": forged.generate({"sub": "admin", "role": "admin"})}
    )
    assert response.status_code in (401, 403)
    assert "zroom-7" not in response.text


def test_a_user_the_auth_manager_refuses_gets_403_and_no_data(
    auth: Any, token: str, store: LifecycleStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(type(auth), "is_authorized_view", lambda self, **kw: False)
    response = client_for(store).get("/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert "zroom-7" not in response.text


def test_on_airflow_3_0_the_cookie_token_is_handed_to_its_header_only_get_user(
    auth: Any, token: str, store: LifecycleStore, audit_module: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3.0's ``get_user(token_str)`` reads no cookie: the page passes the UI cookie's token to it."""
    from airflow.api_fastapi.core_api import security

    seen: list[str] = []

    async def get_user_3_0(token_str: str) -> Any:  # 3.0's signature: the token only
        seen.append(token_str)
        return await auth.get_user_from_token(token_str)

    monkeypatch.setattr(security, "get_user", get_user_3_0)
    client = client_for(store)
    assert client.get("/", headers={"Accept": "application/json"}).status_code == 401
    client.cookies.set("_token", token)
    response = client.get("/")
    assert response.status_code == 200 and "zroom-7" in response.text
    assert seen == [token]


def test_the_ui_cookie_shows_live_rooms_with_their_age_source_escaped(
    token: str, store: LifecycleStore, audit_module: Path
) -> None:
    client = client_for(store)
    client.cookies.set("_token", token)  # the UI's own cookie: what the browser sends to /rtc/
    response = client.get("/")
    assert response.status_code == 200, response.text
    html = response.text
    assert "room 1234 (int)" in html and "zroom-7" in html
    assert "3h00m00s" in html and "10m00s" in html  # ages from the store's started_ms
    assert "cloud start" in html and "first seen (upper bound)" in html
    # a room named <script> is text, never markup
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "no policy run yet" in html


def test_bearer_token_works_too(token: str, store: LifecycleStore, audit_module: Path) -> None:
    response = client_for(store).get("/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and "zroom-7" in response.text


def test_cap_status_comes_from_the_newest_caps_report_by_typed_ref(
    token: str, store: LifecycleStore, audit_module: Path
) -> None:
    int_room = ResourceRef("trtc", TRTC_APP, "rooms", "1234", "int")
    str_room = ResourceRef("trtc", TRTC_APP, "rooms", "1234", "str")  # another room: must not match
    reports = [_caps(int_room), _caps(str_room, run_id="older")]
    client = client_for(store, reports)
    html = client.get("/", headers={"Authorization": f"Bearer {token}"}).text
    row = _row(html, "room 1234 (int)")
    assert "warned: max_duration cap 7200 s" in row
    assert "not flagged (policy run 2027-01-15T08:00:00+00:00)" in _row(html, "zroom-7")
    # the report is listed with a link to its DAG run
    assert 'href="/dags/enforce_caps/runs/scheduled__1"' in html
    assert "warned: 1, ended: 0, unproven: 0, within: 1" in html


def test_audit_lines_are_listed_with_run_links_and_escaped(
    token: str, store: LifecycleStore, audit_module: Path
) -> None:
    write_audit(
        audit_module,
        [
            _audit_line("end_of_event_cleanup", "manual__2027-01-15T08:00:00+00:00", "evt-42"),
            _audit_line("end_of_event_cleanup", "manual__x", "<img src=x onerror=alert(1)>", "failed"),
        ],
    )
    html = client_for(store).get("/", headers={"Authorization": f"Bearer {token}"}).text
    assert "DismissRoomByStrRoomId" in html and "req-evt-42" in html
    assert 'href="/dags/end_of_event_cleanup/runs/manual__2027-01-15T08%3A00%3A00%2B00%3A00"' in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    # each target reads as the plan prints it, its raw ref kept as the cell's tooltip
    assert f"trtc:{TRTC_APP} room &quot;evt-42&quot; (str)</td>" in html
    assert 'title="{&quot;app_id&quot;' in html


def test_an_audit_line_whose_ref_is_not_a_ref_still_shows() -> None:
    line = _audit_line("d", "r", "x")
    line["ref"] = {"cloud": "nowhere", "id": "7"}
    html = ui_render._audit([line, {**line, "ref": "7"}], "", "")
    assert "&quot;cloud&quot;: &quot;nowhere&quot;" in html and ">7</td>" in html


def test_reports_and_audit_are_limited_to_the_dags_the_user_may_read(
    token: str, store: LifecycleStore, audit_module: Path
) -> None:
    write_audit(audit_module, [_audit_line("mine", "r1", "room-a"), _audit_line("theirs", "r2", "room-b")])
    ref = ResourceRef("trtc", TRTC_APP, "rooms", "1234", "int")
    client = client_for(store, [_caps(ref, "mine"), _caps(ref, "theirs", "r9")], dag_ids={"mine"})
    html = client.get("/", headers={"Authorization": f"Bearer {token}"}).text
    assert "req-room-a" in html and "req-room-b" not in html
    assert "/dags/mine/runs/" in html and "/dags/theirs/" not in html


def test_without_the_audit_module_the_page_says_so(
    token: str, store: LifecycleStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "airflow_provider_rtc.audit", None)  # import raises ImportError
    html = client_for(store).get("/", headers={"Authorization": f"Bearer {token}"}).text
    assert ui_data.AUDIT_MISSING in html and "zroom-7" in html


def test_no_receiver_and_a_failing_report_read_say_so_and_the_rest_still_shows(
    token: str, audit_module: Path
) -> None:
    def broken(allowed: set[str] | None) -> list[Report]:
        raise OSError("db at secret-host:5432 down")

    sources = Sources(
        store=lambda: (_ for _ in ()).throw(InventoryUnavailable("the callback receiver is not enabled")),
        reports=broken,
        dag_ids=lambda user: None,
        clock=lambda: NOW,
        prefix=lambda: "",
    )
    html = TestClient(create_ui_app(sources)).get("/", headers={"Authorization": f"Bearer {token}"}).text
    assert "the callback receiver is not enabled" in html
    assert "reports unreadable (OSError)" in html and "secret-host" not in html
    assert "no destructive call audited yet" in html


def test_the_plugin_mounts_the_page_and_a_nav_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_rtc.plugins import callbacks as plugin
    from airflow_provider_rtc.plugins import ui_page

    monkeypatch.setattr(
        plugin.RtcCallbacksPlugin, "fastapi_apps", list(plugin.RtcCallbacksPlugin.fastapi_apps)
    )
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__ENABLED", "false")
    plugin.RtcCallbacksPlugin.on_load()
    (entry,) = plugin.RtcCallbacksPlugin.fastapi_apps  # the receiver off, the page still mounted
    assert entry["url_prefix"] == "/rtc" and entry["app"] is plugin.ui_app
    if ui_page.airflow_minor() >= (3, 1):
        (view,) = plugin.RtcCallbacksPlugin.external_views
        assert view["name"] == "RTC" and view["href"] == "/rtc/" and view["destination"] == "nav"
    else:
        assert plugin.RtcCallbacksPlugin.external_views == []


def test_the_inventory_store_refuses_when_the_receiver_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_rtc.plugins import callbacks as plugin

    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__ENABLED", "false")
    with pytest.raises(InventoryUnavailable, match="not enabled"):
        plugin._InventoryStore()()


def test_live_rows_keep_numeric_and_string_rooms_apart(store: LifecycleStore) -> None:
    store.apply("trtc", TRTC_APP, [Update("rooms", {"room_id": "1234", "str_room": True}, True, 1)], now=NOW)
    refs = {row.ref for row in ui_data.live_rows(store, NOW)}
    assert ResourceRef("trtc", TRTC_APP, "rooms", "1234", "int") in refs
    assert ResourceRef("trtc", TRTC_APP, "rooms", "1234", "str") in refs
    sources = {row.ref.id: row.started_source for row in ui_data.live_rows(store, NOW)}
    assert sources["zroom-7"] == FIRST_SEEN


def _row(html: str, needle: str) -> str:
    at = html.index(needle)
    return html[html.rindex("<tr>", 0, at) : html.index("</tr>", at)]


def test_audit_records_that_are_dataclasses_read_as_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit module may hand records instead of dicts; the page reads either, filtered by DAG."""
    import dataclasses

    @dataclasses.dataclass
    class Line:
        dag_id: str
        action: str

    module = types.ModuleType("airflow_provider_rtc.audit")
    module.read_lines = lambda base, dag_id=None, limit=200: [Line("a", "DismissRoom"), Line("b", "x")]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "airflow_provider_rtc.audit", module)
    lines, note = ui_data.read_audit({"a"})
    assert note == "" and lines == [{"dag_id": "a", "action": "DismissRoom"}]
