"""The decision explorer in a real headless Chromium (Debian's, driven by Selenium through Debian's
chromedriver), against a gateway started with its own OPA and the simulator: sign in with an admin key,
find the read under src/ with the filters, open it to the YAML line that allowed it, follow the link to
the archived policy's line, see the charts, and see an attacker's `<script>` path as plain text.
Screenshots go to a temporary directory, or to AEGIS_EXPLORER_SCREENSHOTS (docs/explorer/ to refresh the
ones the docs show): a test run leaves the checkout as it was."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.processes import UNLIMITED, Gateway, Simulator, create_key, start_gateway

pytestmark = pytest.mark.e2e

POLICY = """\
defaults: {read: allow, write: deny}
repositories:
  acme/app:
    paths:
      allow: ["src/**", "README.md"]
      deny: ["src/secrets/**"]
"""
SCRIPT_PATH = "src/secrets/<script>alert(1)</script>.env"


@pytest.fixture(scope="module")
def gateway(
    simulator: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str
) -> Iterator[Gateway]:
    gw = start_gateway(
        tmp_path_factory.mktemp("gw-explorer"), policy=POLICY, upstream=simulator, env=UNLIMITED
    )
    for path in ("src/main.py", "README.md", "src/secrets/prod.env", SCRIPT_PATH):
        call(gw, "get_file_contents", {"owner": "acme", "repo": "app", "filepath": path})
    call(gw, "get_file_contents", {"owner": "acme", "repo": "infra", "filepath": "main.tf"})
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.fail(
            "Debian's chromium and chromedriver are not installed: run ./scripts/setup --with-browser"
        )
    options = Options()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1360,1000"):
        options.add_argument(argument)
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    chrome.set_page_load_timeout(30)
    yield chrome
    chrome.quit()


def call(gateway: Gateway, tool: str, arguments: dict[str, Any]) -> None:
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    headers = {"Content-Type": "application/json", "Accept": "application/json", **gateway.auth}
    response = httpx.post(gateway.url, content=json.dumps(message), headers=headers, timeout=10)
    assert response.status_code == 200


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("AEGIS_EXPLORER_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("explorer-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def follow(browser: WebDriver, target: WebElement) -> None:
    """Click a link or a submit button and wait for the page it leads to: the next lookups must not find
    the elements of the page before it."""
    page = browser.find_element(By.TAG_NAME, "html")
    target.click()
    WebDriverWait(browser, 15).until(expected_conditions.staleness_of(page))


def shot(browser: WebDriver, folder: Path, name: str) -> None:
    assert browser.save_screenshot(str(folder / f"{name}.png"))


def test_a_reviewer_finds_who_read_src_and_the_yaml_line_that_allowed_it(
    gateway: Gateway, browser: WebDriver, screenshots: Path
) -> None:
    base = gateway.base_url
    browser.get(f"{base}/admin/explorer")
    assert browser.find_elements(By.ID, "entries") == []  # no session: the sign-in form, nothing else
    browser.find_element(By.ID, "key").send_keys(create_key(gateway.keys_file, "reviewer", ("admin",)))
    shot(browser, screenshots, "sign-in")
    follow(browser, browser.find_element(By.CSS_SELECTOR, "form.login button"))
    assert browser.find_element(By.ID, "per-day").tag_name == "svg"

    browser.find_element(By.ID, "f-repo").send_keys("acme/app")
    browser.find_element(By.ID, "f-path").send_keys("src/**")
    Select(browser.find_element(By.ID, "f-outcome")).select_by_value("allowed")
    browser.find_element(By.ID, "f-since").send_keys("1d")
    follow(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#entries tbody tr")
    assert [row.find_elements(By.TAG_NAME, "td")[5].text for row in rows] == ["src/main.py"]
    assert "repo.acme/app.paths.allow[0]@policy.yaml:" in rows[0].text
    shot(browser, screenshots, "decisions")

    follow(browser, rows[0].find_elements(By.TAG_NAME, "td")[1].find_element(By.TAG_NAME, "a"))
    assert browser.find_element(By.ID, "outcome").text == "allowed"
    assert "its hash holds" in browser.find_element(By.ID, "chain").text
    assert browser.find_element(By.CSS_SELECTOR, "pre.yaml").text.endswith('allow: ["src/**", "README.md"]')
    shot(browser, screenshots, "entry")

    follow(browser, browser.find_element(By.CSS_SELECTOR, "#reasons a"))
    line = browser.current_url.rsplit("#L", 1)[1]
    assert 'allow: ["src/**", "README.md"]' in browser.find_element(By.ID, f"L{line}").text
    shot(browser, screenshots, "policy")


def test_attacker_paths_are_inert_and_the_deny_chart_names_the_rule(
    gateway: Gateway, browser: WebDriver, screenshots: Path
) -> None:
    browser.get(f"{gateway.base_url}/admin/explorer?outcome=denied")
    assert "alert(1)" in browser.find_element(By.ID, "entries").text
    assert browser.find_elements(By.TAG_NAME, "script") == []
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.accept()
    assert "repo.acme/app.paths.deny[0]" in browser.find_element(By.ID, "top-rules").text
    shot(browser, screenshots, "denied")


def test_without_an_admin_session_nothing_is_shown(gateway: Gateway, browser: WebDriver) -> None:
    reader = create_key(gateway.keys_file, "reader", ("tools:read",))
    origin = {"Origin": gateway.base_url}
    refused = httpx.post(f"{gateway.base_url}/admin/explorer/login", data={"key": reader}, headers=origin)
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
    assert httpx.get(f"{gateway.base_url}/admin/explorer", headers=gateway.auth).status_code == 401
    browser.delete_all_cookies()
    browser.get(f"{gateway.base_url}/admin/explorer?outcome=denied")
    assert browser.find_elements(By.ID, "entries") == [] and browser.find_elements(By.ID, "key")
