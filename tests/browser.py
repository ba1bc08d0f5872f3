"""A page as a person sees it: Debian's chromium, headless, driven by selenium through Debian's chromedriver.

`render(html, screenshot)` opens a local HTML file, waits for it to load, keeps a full-page screenshot and returns
what a test asserts on: the page text and title, console errors, broken images and every request the page made
(a self-contained report fetches nothing), and, given a `query`, what that script returned about the page.
`make install` installs chromium where it is missing; without it (or without selenium) `require_chromium()` skips
the test and says why. Selenium Manager is never asked for anything: the driver's path is given, so nothing is
downloaded.

Screenshots go to `artifact(name)`: `$GLASSBOX_TEST_ARTIFACTS`, default `reports/test-artifacts/` in the repo.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WIDTH, HEIGHT = 1280, 2000
MAX_SHOT_HEIGHT = 20_000  # px: a longer page is cut there, the picture of a runaway page stays a few MB
LOAD_TIMEOUT_S = 60

# Headless, as root in a container, and quiet: no sync, no component updates, no first-run pages, so the only
# requests the browser makes are the page's own.
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    f"--window-size={WIDTH},{HEIGHT}",
)

# After the load event: web fonts ready and two frames painted, so scripts that draw on load have drawn.
SETTLED = """
const done = arguments[arguments.length - 1];
document.fonts.ready.then(() => requestAnimationFrame(() => requestAnimationFrame(() => done(true))));
"""
BROKEN_IMAGES = """
return Array.from(document.images)
    .filter(img => !img.complete || img.naturalWidth === 0)
    .map(img => img.getAttribute('src') || img.currentSrc || '(no src)');
"""


@dataclass(frozen=True)
class Rendered:
    """What the browser showed and said about one page."""

    title: str
    text: str  # document.body.innerText: what a reader sees, without markup
    console_errors: tuple[str, ...]  # SEVERE browser log: console.error, uncaught exceptions, failed loads
    broken_images: tuple[str, ...]  # src of each <img> not complete or with naturalWidth 0
    requests: tuple[str, ...]  # URLs requested other than the page itself and data:/blob: URIs
    screenshot: Path
    answer: Any = None  # what render's `query` returned (JSON-like: lists, dicts, str, numbers), None without one


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.is_file():
            return f"{path} is missing: `make install` installs Debian's chromium and chromium-driver"
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed: `make install` installs the dev dependencies"
    return None


def require_chromium() -> None:
    """Skip the calling test, with the reason, where chromium, chromedriver or selenium is missing. Call it
    first in a test that renders, before any costly set-up."""
    reason = missing()
    if reason:
        pytest.skip(reason)


def artifact(name: str) -> Path:
    """A path for a test artifact (a screenshot), in `$GLASSBOX_TEST_ARTIFACTS` or reports/test-artifacts/; `name`
    may hold folders (`browser/clean.png`)."""
    path = Path(os.environ.get("GLASSBOX_TEST_ARTIFACTS") or REPO / "reports" / "test-artifacts") / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _requests(performance_log: list[dict], tab: str, page: str) -> tuple[str, ...]:
    """The URLs the page's own tab requested (chromedriver tags each event with its tab: `webview`)."""
    urls = []
    for entry in performance_log:
        event = json.loads(entry["message"])
        message = event["message"]
        if message["method"] == "Network.requestWillBeSent" and event.get("webview") == tab:
            url = message["params"]["request"]["url"]
            if url != page and not url.startswith(("data:", "blob:")) and url not in urls:
                urls.append(url)
    return tuple(urls)


def render(html_path: Path, screenshot: Path, query: str | None = None) -> Rendered:
    """Open `html_path` in headless chromium, keep a full-page PNG at `screenshot`, return what it showed.

    `query`, optional: a script body run in the page once it has settled and before the screenshot, e.g.
    `return document.querySelectorAll('svg').length`; what it returns is `Rendered.answer`. If it returns a
    Promise, its value is awaited (within the page-load timeout): a query may wait for something drawn late."""
    require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    page = Path(html_path).resolve().as_uri()
    # chromedriver's own fresh profile (a --user-data-dir of ours would open the new-tab page in the tab), in a
    # TMPDIR of ours removed after: nothing of the browser stays behind
    with tempfile.TemporaryDirectory(prefix="glassbox-chromium-") as tmp:
        service = Service(executable_path=str(CHROMEDRIVER), env={**os.environ, "TMPDIR": tmp})
        driver = webdriver.Chrome(service=service, options=options)
        try:
            driver.set_page_load_timeout(LOAD_TIMEOUT_S)
            driver.set_script_timeout(LOAD_TIMEOUT_S)
            driver.get(page)  # returns after the load event
            driver.execute_async_script(SETTLED)
            answer = driver.execute_script(query) if query else None
            size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": max(size["width"], WIDTH), "scale": 1}
            clip["height"] = min(max(size["height"], 1), MAX_SHOT_HEIGHT)
            shot = driver.execute_cdp_cmd(
                "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
            )
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            return Rendered(
                title=driver.title,
                text=driver.execute_script("return document.body ? document.body.innerText : ''"),
                console_errors=tuple(e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"),
                broken_images=tuple(driver.execute_script(BROKEN_IMAGES)),
                requests=_requests(driver.get_log("performance"), driver.current_window_handle, page),
                screenshot=screenshot,
                answer=answer,
            )
        finally:
            driver.quit()
