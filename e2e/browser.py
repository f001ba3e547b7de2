"""The trigger form in a real browser: headless Chromium (OS package) driven by Selenium through the
OS ``chromium-driver``. Proves the object-array params of ``end_of_event_cleanup`` can be filled in
the form and reach the run's conf as objects, not strings; saves a screenshot of the filled form.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1400,2200",
)
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


class BrowserMissing(RuntimeError):
    """Chromium or its driver is not installed and could not be."""


def find_browser() -> tuple[str, str]:
    """(chromium, chromedriver) from the OS packages; installed with apt-get when root and missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if (not chromium or not driver) and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        print("   .. installing chromium chromium-driver (OS packages)", flush=True)
        subprocess.run(["apt-get", "update", "-q"], env=env, check=False, capture_output=True, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"],
            env=env,
            check=False,
            capture_output=True,
            timeout=900,
        )
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        driver = shutil.which("chromedriver")
    if not chromium or not driver:
        raise BrowserMissing("install the OS packages chromium and chromium-driver (apt-get install -y ...)")
    return chromium, driver


def open_browser(log_path: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = find_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    service = Service(executable_path=driver, log_output=str(log_path))
    browser = webdriver.Chrome(service=service, options=options)
    browser.set_page_load_timeout(60)
    browser.implicitly_wait(0)
    return browser


def wait_css(browser: Any, css: str, timeout: float = 60) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def fill_trigger_form(
    browser: Any, api_url: str, token: str, dag_id: str, values: dict[str, Any], screenshot: Path
) -> None:
    """Open the DAG's trigger form, put ``values`` into the params' JSON editors and submit."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{api_url}/api/v2/monitor/health")  # any page of the host, to set its cookie
    browser.add_cookie({"name": "_token", "value": token, "path": "/"})
    browser.get(f"{api_url}/dags/{dag_id}")
    trigger = WebDriverWait(browser, 90, ignored_exceptions=_stale()).until(
        lambda b: next(
            (e for e in b.find_elements(By.CSS_SELECTOR, "button") if e.text.strip() == "Trigger"), None
        )
    )
    trigger.click()
    for name, value in values.items():
        field = _param_field(browser, name)
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", field)
        editors = field.find_elements(By.CSS_SELECTOR, ".monaco-editor")
        if editors:  # an object array: a JSON editor
            # Monaco (EditContext input): focus it with a real click, clear it, then insert the JSON
            # text at once (typed key by key, its auto-closing and formatting would mangle it)
            lines = editors[0].find_element(By.CSS_SELECTOR, ".view-lines")
            ActionChains(browser).move_to_element(lines).click().perform()
            ActionChains(browser).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).send_keys(
                Keys.DELETE
            ).perform()
            browser.execute_cdp_cmd("Input.insertText", {"text": json.dumps(value)})
        else:  # a list of strings: one per line
            area = field.find_element(By.CSS_SELECTOR, "textarea")
            area.click()
            area.send_keys("\n".join(str(v) for v in value))
        time.sleep(0.5)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(screenshot))
    submit = WebDriverWait(browser, 30, ignored_exceptions=_stale()).until(
        lambda b: next(
            (
                e
                for e in reversed(b.find_elements(By.CSS_SELECTOR, "[role=dialog] button"))
                if e.text.strip() == "Trigger" and e.is_displayed()
            ),
            None,
        )
    )
    submit.click()


def _stale() -> tuple[type[Exception], ...]:
    """React re-renders the page while it loads: such lookups are retried (the waits are bounded)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    return (StaleElementReferenceException, NoSuchElementException)


def _param_field(browser: Any, name: str) -> Any:
    """The smallest element holding the param's label and its input (editor or textarea)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def find(b: Any) -> Any:
        for label in b.find_elements(By.XPATH, f"//*[@role='dialog']//*[normalize-space(text())='{name}']"):
            field = label
            for _ in range(6):
                field = field.find_element(By.XPATH, "..")
                if field.find_elements(By.CSS_SELECTOR, ".monaco-editor, textarea"):
                    return field
        return None

    return WebDriverWait(browser, 60, ignored_exceptions=_stale()).until(find)
