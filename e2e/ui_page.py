"""``ui_page``: the provider's page in the real api-server, opened in headless Chromium logged in.

TRTC rooms are seeded on the sandbox (one 3 hours old) with their lifecycle callbacks sent to the
plugin's receiver, the inventory the page reads and the one the DAG discovers from. ``enforce_caps``
then runs with a 2-hour room cap and an approval threshold of 0: a person approves the plan through
the REST API, the old room is ended and the run writes its audit lines at the deployment's
``[rtc] audit_path``. Checked: an anonymous request gets 401; the page, with the UI's ``_token``
cookie, lists the rooms still live, the caps report with its run link and the run's audit lines
(their request ids); on Airflow >= 3.1 the "RTC" nav entry shows it in the UI's iframe. Screenshots
under ``e2e/artifacts/``.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .discovery import RUN_TIMEOUT, settle
from .harness import Deployment, wait_for

CAPS = "enforce_caps"
OLD_ROOM = 9101
#: one room past the 2-hour cap (ended), two under it (live on the page)
SEED_ROOMS: list[dict[str, Any]] = [
    {"room_id": OLD_ROOM, "users": 1, "started_ago": "3h"},
    {"room_id": 9102, "users": 1},
    {"room_id": 9103, "users": 1},
]
CAPS_CONF = {
    "policy": {"rooms": {"max_duration": "2h"}},
    "warn_before": "10m",
    "clouds": ["trtc"],
    "dry_run": False,
    "approval_threshold": 0,  # a person approves even one room (REST)
}


def _check(condition: Any, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _anonymous_status(url: str) -> int:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def ui_page_scenario(dep: Deployment) -> dict[str, Any]:
    from airflow_provider_rtc.plugins.ui_page import airflow_minor

    from .browser import ARTIFACTS, BrowserMissing, open_browser, wait_css
    from .hitl import approve
    from .scenarios import use_receiver

    dep.sandbox_call("POST", "/reset", {})
    plugin = dep.plugin_receiver_url
    use_receiver(dep, plugin)  # the page's inventory is the one the DAG discovers from
    room_callbacks = {"room_url": f"{plugin}/trtc/callback", "key": dep.callback_key}
    dep.sandbox_call("PUT", "/callbacks", room_callbacks)  # rooms' lifecycle, with the cloud's times
    try:
        dep.sandbox_call("POST", "/seed", {"trtc": {"rooms": SEED_ROOMS}})
        settle(dep)
        dep.wait_dags([CAPS])
        run_id = dep.api.trigger_alone(CAPS, CAPS_CONF)
        approve(dep.api, CAPS, run_id, "approve_plan", timeout=RUN_TIMEOUT, scheduler_log=dep.scheduler_log)
        state = dep.api.wait_run(CAPS, run_id, RUN_TIMEOUT)
        report = dep.api.xcom(CAPS, run_id, "enforce_caps") or {}
    finally:
        dep.api.call("PATCH", f"/api/v2/dags/{CAPS}", {"is_paused": True})
        use_receiver(dep, dep.receiver_url)
    _check(state == "success", f"{CAPS} ended {state}")
    results = (report.get("result") or {}).get("results") or []
    request_ids = [str(r["request_id"]) for r in results if r.get("status") == "done" and r.get("request_id")]
    _check(request_ids, f"{CAPS} ended nothing: {report}")
    rooms = [str(r["room_id"]) for r in SEED_ROOMS if r["room_id"] != OLD_ROOM]

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
        link = f"/dags/{CAPS}/runs/{urllib.parse.quote(run_id, safe='')}"
        _check(link in html, f"no caps report linking its DAG run ({link}) on the page")
        missing_lines = [rid for rid in request_ids if rid not in html]
        _check(not missing_lines, f"the run's audit lines are not on the page: {missing_lines}")
        figures["audit_lines"] = len(request_ids)
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
    figures["caps_run"] = run_id
    return figures
