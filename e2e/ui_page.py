"""``ui_page``: the provider's page in the real api-server, opened in headless Chromium logged in.

Seeds TRTC rooms on the sandbox with their lifecycle callbacks sent to the plugin's receiver (the
inventory the page reads), writes audit lines in the audit contract's layout at the deployment's
``[rtc] audit_path`` (until the audit module writes them itself), runs ``end_event_by_discovery`` as
a dry run (an EndEventOperator report in the metadata DB), then checks: an anonymous request gets
401; the page, with the UI's ``_token`` cookie, lists the live rooms, the report with its run link
and the audit lines (or says the audit module is not installed); on Airflow >= 3.1 the "RTC" nav
entry shows it in the UI's iframe. Screenshots under ``e2e/artifacts/``.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .discovery import DISCOVERY, RUN_TIMEOUT, settle
from .harness import Deployment, wait_for

AUDIT_DAG = "enforce_caps"


def _check(condition: Any, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _audit_dir(dep: Deployment) -> Path:
    url = dep.env.get("AIRFLOW__RTC__AUDIT_PATH") or f"file://{dep.home}/rtc/audit"
    _check(url.startswith("file://"), f"the scenario writes local audit files only, not {url}")
    return Path(url.removeprefix("file://"))


def _write_audit(dep: Deployment, marker: str, room: str) -> None:
    """One line per the audit contract, in ``<base>/<dag_id>/<run_id>/<task>.<map>.<try>.jsonl``."""
    line = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        "dag_id": AUDIT_DAG,
        "run_id": f"manual__{marker}",
        "task_id": "enforce",
        "map_index": -1,
        "try_number": 1,
        "conn_id": "tencentcloud_default",
        "cloud": "trtc",
        "product": "trtc",
        "app_id": "1400000001",
        "ref": {
            "cloud": "trtc",
            "app_id": "1400000001",
            "kind": "rooms",
            "id": room,
            "id_type": "int",
            "room": "",
        },
        "action": "DismissRoom",
        "status": "planned",
        "code": "",
        "request_id": marker,
        "dry_run": True,
        "maybe_executed": False,
        "origin": "caps",
    }
    path = _audit_dir(dep) / AUDIT_DAG / line["run_id"] / "enforce.-1.1.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(line) + "\n")


def _anonymous_status(url: str) -> int:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def _audit_installed() -> bool:
    try:
        import airflow_provider_rtc.audit  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


def ui_page_scenario(dep: Deployment) -> dict[str, Any]:
    from airflow_provider_rtc.plugins.ui_data import AUDIT_MISSING
    from airflow_provider_rtc.plugins.ui_page import airflow_minor

    from .browser import ARTIFACTS, BrowserMissing, open_browser, wait_css
    from .scenarios import use_receiver

    dep.sandbox_call("POST", "/reset", {})
    plugin = dep.plugin_receiver_url
    dep.sandbox_call(
        "PUT",
        "/callbacks",
        {"url": f"{plugin}/trtc/callback", "room_url": f"{plugin}/trtc/callback", "key": dep.callback_key},
    )
    try:
        seeded = dep.sandbox_call("POST", "/seed", {"trtc": {"rooms": 2, "users_per_room": 1}})
        rooms = [str(r) for r in seeded["trtc"]["rooms"]]
        settle(dep)
    finally:
        use_receiver(dep, dep.receiver_url)
    marker = f"e2e-ui-{secrets.token_hex(4)}"
    _write_audit(dep, marker, rooms[0])
    dep.wait_dags([DISCOVERY])
    try:
        run_id = dep.api.trigger(
            DISCOVERY, {"room_id_prefix": "no-such-room-", "clouds": ["trtc"], "dry_run": True}
        )
        state = dep.api.wait_run(DISCOVERY, run_id, RUN_TIMEOUT)
    finally:
        dep.api.call("PATCH", f"/api/v2/dags/{DISCOVERY}", {"is_paused": True})
    _check(state == "success", f"the dry run of {DISCOVERY} ended {state}")

    page_url = f"{dep.api_url}/rtc/"
    anonymous = _anonymous_status(page_url)
    _check(anonymous in (401, 403), f"an anonymous request got {anonymous}, not 401/403")
    screenshot = ARTIFACTS / "ui_page.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    try:
        browser = open_browser(dep.logs / "chromedriver-ui.log")
    except BrowserMissing as err:
        raise AssertionError(f"no browser: {err}") from None
    figures: dict[str, Any] = {"rooms": len(rooms), "anonymous": anonymous}
    try:
        browser.get(f"{dep.api_url}/api/v2/monitor/health")  # any page of the host, to set its cookie
        browser.add_cookie({"name": "_token", "value": str(dep.api.token), "path": "/"})
        browser.get(page_url)
        wait_css(browser, "h1", 60)
        html = browser.page_source
        browser.save_screenshot(str(screenshot))
        missing = [room for room in rooms if room not in html]
        _check(not missing, f"live rooms not on the page: {missing}")
        _check(f"/dags/{DISCOVERY}/runs/" in html, "no end-event report linking its DAG run on the page")
        if _audit_installed():
            _check(marker in html, f"the audit line {marker} is not on the page")
            figures["audit"] = "listed"
        else:
            _check(AUDIT_MISSING in html, "the page does not say the audit module is missing")
            figures["audit"] = AUDIT_MISSING
        if airflow_minor() >= (3, 1):  # the nav entry: the UI shows the page in its iframe
            browser.get(f"{dep.api_url}/plugin/rtc")
            frame = wait_for(
                "the RTC page's iframe",
                lambda: browser.find_elements("css selector", "iframe") or None,
                60,
                1,
            )[0]
            browser.switch_to.frame(frame)
            wait_css(browser, "h1", 60)
            _check(rooms[0] in browser.page_source, "the RTC page inside the UI does not list the rooms")
            browser.switch_to.default_content()
            nav_shot = ARTIFACTS / "ui_page_nav.png"
            browser.save_screenshot(str(nav_shot))
            figures["nav_screenshot"] = str(nav_shot.relative_to(ARTIFACTS.parent.parent))
    finally:
        browser.quit()
    figures["screenshot"] = str(screenshot.relative_to(ARTIFACTS.parent.parent))
    figures["report_run"] = run_id
    return figures
