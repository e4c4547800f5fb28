"""Open written reports in headless Chromium: what tests/analyses/test_browser.py (hand-made
pages) and tests/analyses/test_cold_start.py (the pages of a real run) assert on.

Needs Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``,
``/usr/bin/chromedriver``; ``.ci/run`` installs them) and ``selenium`` (the ``dev`` extra).
The driver path is given explicitly, so Selenium Manager never downloads a driver.
"""

import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

needs_chromium = pytest.mark.skipif(
    not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()),
    reason="headless browser test needs /usr/bin/chromium and /usr/bin/chromedriver "
    "(Debian: apt-get install chromium chromium-driver)",
)

NETWORK_SCHEMES = ("http", "https", "ws", "wss")


@contextmanager
def chromium(profile: Path):
    """One headless Chromium with the DevTools network log on, in a throwaway profile, with
    everything that would phone home switched off (so a request in the log is the page's)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _requested_urls(driver) -> list[tuple[str, str]]:
    """(document, URL) of every request in the DevTools network log since the last call (the
    browser's own chrome:// pages included)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            params = message["params"]
            urls.append((params.get("documentURL", ""), params["request"]["url"]))
    return urls


@dataclass
class Page:
    """What the browser made of one page."""

    url: str
    images: list  # [complete, naturalWidth] per <img>
    text: str  # the body's rendered text
    scripts: int  # <script> elements in the document
    ours: list[str]  # URLs the page itself requested (log entries of file: documents + resources)
    network: list[str]  # every http(s)/ws(s) URL requested while it loaded, by anyone

    @property
    def images_decode(self) -> bool:
        return all(done and width > 0 for done, width in self.images)

    @property
    def foreign(self) -> list[str]:
        return [u for u in self.ours if urlparse(u).scheme not in ("file", "data")]


def open_page(driver, page: Path, timeout: float = 60) -> Page:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("performance")  # drop what earlier pages logged
    driver.get(page.as_uri())
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && "
            "Array.from(document.images).every(i => i.complete);"
        )
    )
    resources = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name);"
    )
    logged = _requested_urls(driver)
    return Page(
        url=driver.current_url,
        images=driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);"
        ),
        text=driver.find_element("tag name", "body").text,
        scripts=driver.execute_script("return document.scripts.length;"),
        ours=[url for doc, url in logged if doc.startswith("file:")] + resources,
        network=[u for _, u in logged if urlparse(u).scheme in NETWORK_SCHEMES],
    )


def check_self_contained(page: Path, seen: Page) -> None:
    """What every page must be in the browser: each image decodes, no figure is unavailable, no
    script runs, what it loads is its own (file: and data: URLs), nothing goes to a network."""
    assert seen.images_decode, (page, seen.images)
    assert "figure unavailable" not in seen.text, page
    assert seen.scripts == 0, page
    assert page.as_uri() in seen.ours, page  # the log works: it has the page itself
    assert not seen.foreign, (page, seen.foreign)
    assert not seen.network, (page, seen.network)


FIRST_SCREEN = (1400, 900)  # px: a laptop's browser window (issue 20: "the first screen")


def first_screen(driver) -> dict[str, bool]:
    """Whether the page's title, claim sentence and headline picture are wholly on the first
    screen of a FIRST_SCREEN window, scrolled to the top (False: missing or below it)."""
    driver.set_window_size(*FIRST_SCREEN)
    driver.execute_script("window.scrollTo(0, 0);")
    return driver.execute_script(
        """const h = window.innerHeight;
        const on = s => { const e = document.querySelector(s);
                          return !!e && e.getBoundingClientRect().bottom <= h; };
        return {title: on('h1'), claim: on('p.lead'), picture: on('figure.headline img')};"""
    )
