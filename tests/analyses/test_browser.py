"""The written report in a real browser: headless Chromium opens the index and every case page
from file://, every figure decodes, failing agreement pairs are open, and nothing is fetched
from the network (the pages are self-contained).  The browser is tests/browser.py's; the pages
here are hand-made (no fitting), so every kind of row is on them; tests/analyses/test_cold_start.py
opens the pages of a real run.
"""

from dataclasses import replace

import numpy as np
import pytest
from browser import check_self_contained, chromium, first_screen, needs_chromium, open_page
from handmade import EVIL, LAYOUT, fake_idata

pytestmark = needs_chromium

POSTERIOR_FIGURES = 4  # densities, rank plot, pair plot, posterior predictive check


def _cases():
    """Two hand-made cases (no fitting): one with a fit picture, a NUTS posterior and a
    failing pair; one with neither, every row ok."""
    from nll_losses.analyses.results import AgreementRow, CaseResult, Estimate

    layout = LAYOUT
    rng = np.random.default_rng(0)
    idata = fake_idata()
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
            "kind": "curve",
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
    # pictured: the headline picture (the loss ledger's points) first; plain has no ledger row
    # and no find_MAP estimate, so neither a claim sentence nor a headline picture
    return {"pictured": (pictured, 2 + POSTERIOR_FIGURES), "plain": (plain, 0)}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from nll_losses.analyses.app import _write_index
    from nll_losses.analyses.pipeline import write_case

    out = tmp_path_factory.mktemp("report")
    expected = {}
    for folder, (case, n_figures) in _cases().items():
        write_case(case, out / folder)
        expected[out / folder / "index.html"] = n_figures
    _write_index(out)
    n_thumbs = sum(1 for f in expected if (f.parent / "thumbnail.png").is_file())
    assert n_thumbs == 1  # the case with figures has one (its headline), the other none
    expected[out / "index.html"] = n_thumbs
    return expected


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


def test_pages_in_browser(report, browser):
    for page, n_figures in report.items():
        seen = open_page(browser, page)
        assert seen.url.startswith("file://"), page
        assert len(seen.images) == n_figures, page
        check_self_contained(page, seen)
        assert EVIL in seen.text  # the user-provided name is shown as text, never run (above)

        if page.parent.name in ("pictured", "plain"):
            pictured = page.parent.name == "pictured"
            assert first_screen(browser) == {"title": True, "claim": pictured, "picture": pictured}
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
