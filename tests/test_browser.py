"""The written report in a real browser: headless Chromium opens the index and every case page
from file://, every figure decodes, failing agreement pairs are open, and nothing is fetched
from the network (the pages are self-contained).

Needs Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``,
``/usr/bin/chromedriver``; ``.ci/run`` installs them) and ``selenium`` (the ``dev`` extra).
The driver path is given explicitly, so Selenium Manager never downloads a driver.
"""

import json
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()),
    reason="headless browser test needs /usr/bin/chromium and /usr/bin/chromedriver "
    "(Debian: apt-get install chromium chromium-driver)",
)

EVIL = "<script>alert(1)</script>"
POSTERIOR_FIGURES = 4  # densities, rank plot, pair plot, posterior predictive check


def _cases():
    """Two hand-made cases (no fitting): one with a fit picture, a NUTS posterior and a
    failing pair; one with neither, every row ok."""
    import arviz as az

    from analyses.results import AgreementRow, CaseResult, Estimate
    from models.family import Param, ParamLayout

    feats = [EVIL, "z"]
    layout = ParamLayout(
        (
            Param("intercept", "intercept"),
            *(Param(f, "w", (("feature", f),)) for f in feats),
            Param("sigma", "sigma", group="sigma"),
        )
    )
    rng = np.random.default_rng(0)
    idata = az.from_dict(
        {
            "posterior": {
                "intercept": rng.normal(size=(2, 50)),
                "w": rng.normal(size=(2, 50, 2)),
                "sigma": np.abs(rng.normal(size=(2, 50))) + 0.1,
            },
            "posterior_predictive": {"y": rng.normal(size=(2, 50, 20))},
            "observed_data": {"y": rng.normal(size=20)},
        },
        dims={"w": ["feature"], "y": ["obs"]},
        coords={"feature": feats},
    )
    mean = {"intercept": 0.1, EVIL: 0.2, "z": 0.3, "sigma": 1.0}
    x = np.linspace(0.0, 1.0, 20)
    fm, nuts = ("find_map_flat", "closed_form_flat"), ("nuts_flat", "exact_posterior_flat")
    rows = [
        AgreementRow(*fm, EVIL, 0.2, 0.2, 0.0, 1e-6, "optimiser", True),
        AgreementRow(*fm, "z", 0.3, 0.3, 0.0, 1e-6, "optimiser", True),
        AgreementRow(*nuts, "z", 0.3, 0.5, 0.2, 0.01, "monte carlo", False),  # a failing pair
        AgreementRow(
            "pmf",
            "logits",
            "loss at mode",
            1.0,
            1.0,
            0.0,
            1e-12,
            "arithmetic",
            True,
            note="loss ledger",
        ),
    ]
    pictured = CaseResult(
        case=f"pictured {EVIL}",
        family="normal",
        target="y",
        n_obs=20,
        parameters=list(mean),
        estimates={"closed_form_flat": Estimate("closed_form", "flat", mean=mean)},
        agreement=rows,
        warnings=[],
        model={"likelihood": "y ~ Normal", "priors": ["w ~ Flat()"], "loss": "MSE", "penalty": ""},
        ledger=[{"at": "mode", "value": 1.0}],
        provenance={"seed": 0},
        dataset={"description": EVIL, "source": ""},
        layout=layout,
        idata={"flat": idata},
        picture={
            "outcome": "continuous",
            "X": x[:, None],
            "y": 2 * x + rng.normal(scale=0.1, size=20),
            "features": ["x"],
            "grid": [x],
            "curves": {"find_MAP (flat)": 2 * x},
            "ylabel": "y",
            "title": "Fit",
            "caption": "the data and the fitted line",
        },
    )
    plain = replace(
        pictured, case="plain", agreement=rows[:2], idata=None, layout=None, picture=None
    )
    # folder -> (case, number of figures its page shows)
    return {"pictured": (pictured, 1 + POSTERIOR_FIGURES), "plain": (plain, 0)}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from analyses.app import _write_index
    from analyses.pipeline import write_case

    out = tmp_path_factory.mktemp("report")
    expected = {}
    for folder, (case, n_figures) in _cases().items():
        write_case(case, out / folder)
        expected[out / folder / "index.html"] = n_figures
    _write_index(out)
    n_thumbs = sum(1 for f in expected if (f.parent / "thumbnail.png").is_file())
    assert n_thumbs == 1  # the case with figures has one, the other none
    expected[out / "index.html"] = n_thumbs
    return expected


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
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
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
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


def test_pages_in_browser(report, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    for page, n_figures in report.items():
        browser.get_log("performance")  # drop what earlier pages logged
        browser.get(page.as_uri())
        WebDriverWait(browser, 20).until(
            lambda d: d.execute_script(
                "return document.readyState === 'complete' && "
                "Array.from(document.images).every(i => i.complete);"
            )
        )
        assert browser.current_url.startswith("file://"), page
        images = browser.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);"
        )
        assert len(images) == n_figures, page
        assert all(done and width > 0 for done, width in images), (page, images)
        text = browser.find_element("tag name", "body").text
        assert "figure unavailable" not in text, page
        # the user-provided name is shown as text, never run as a script
        assert EVIL in text and browser.execute_script("return document.scripts.length;") == 0

        resources = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name);"
        )
        logged = _requested_urls(browser)
        ours = [url for doc, url in logged if doc.startswith("file:")] + resources
        assert page.as_uri() in ours, page  # the log works: it has the page itself
        foreign = [u for u in ours if urlparse(u).scheme not in ("file", "data")]
        assert not foreign, (page, foreign)
        network = [u for _, u in logged if urlparse(u).scheme in ("http", "https", "ws", "wss")]
        assert not network, (page, network)

        if page.parent.name in ("pictured", "plain"):
            assert browser.execute_script("return document.querySelectorAll('figure').length;") == (
                n_figures
            )
            pairs = browser.execute_script(
                "return Array.from(document.querySelectorAll('details.pair'))"
                ".map(d => [d.classList.contains('bad'), d.open]);"
            )
            assert pairs, page
            assert all(bad == is_open for bad, is_open in pairs), (page, pairs)
            bad_first = [bad for bad, _ in pairs]
            assert bad_first == sorted(bad_first, reverse=True), page  # failing pairs first
        else:  # the index links every case page
            links = browser.execute_script(
                "return Array.from(document.querySelectorAll('td a')).map(a => a.href);"
            )
            cases = {p.as_uri() for p in report if p != page}
            assert set(links) == cases, links
