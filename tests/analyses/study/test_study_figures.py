"""The simulation studies' figures and page (analyses/study/figures.py, analyses/study/page.py)
from small synthetic summaries in the schema of analyses/study/summary.py: every figure
readable as the page shows it (analyses.figure_check), every user name escaped, no figure
unavailable."""

import re

import numpy as np
import pytest
from markupsafe import escape

from nll_losses.analyses import figure_check, figures
from nll_losses.analyses.study import figures as study_figures
from nll_losses.analyses.study.page import render_study_page

LEVELS = [0.5, 0.8, 0.9, 0.95]
N_GRID = [25, 50, 100, 200, 400]
TAU_UNITS = [0.125, 0.25, 0.5, 1, 2, 4, 8]
CASES = {  # name -> (family, parameters): categorical-like names, and names to escape
    "linear a<b": ("normal", ["intercept", "x", "z"]),
    "softmax & friends": ("categorical", ["b:x1", "b:x2", "a<b", "intercept:setosa"]),
}
L = 100  # posterior draws each SBC rank counts among


def _band(trials: int) -> list[list[float]]:
    # a normal approximation of the binomial band: the page only shows it
    return [
        [lv - 2 * np.sqrt(lv * (1 - lv) / trials), lv + 2 * np.sqrt(lv * (1 - lv) / trials)]
        for lv in LEVELS
    ]


def _rates(rng, trials: int) -> dict:
    covered = [int(rng.binomial(trials, lv)) for lv in LEVELS]
    return {
        "covered": covered,
        "trials": trials,
        "rate": [c / trials for c in covered],
        "band": _band(trials),
    }


def _coverage_case(rng, family, params):
    estimators = {}
    for label, prior in (
        ("NUTS", "gaussian"),
        ("Laplace at the MAP", "gaussian"),
        ("classical (statsmodels)", "flat"),
        ("exact posterior", "gaussian"),
    ):
        estimators[label] = {
            "prior": prior,
            "ok": 48,
            "not ok": 2,
            "pooled": _rates(rng, 48 * len(params)),
            "per parameter": {p: _rates(rng, 48) for p in params},
        }
    if family == "categorical":  # a case without some estimators, and a rate never computed
        del estimators["exact posterior"]
        estimators["classical (statsmodels)"]["pooled"]["rate"][0] = None
    return {"levels": LEVELS, "estimators": estimators}


def _risk_case(rng, family, params):
    def at(rmse):
        return {
            "rmse": rmse,
            "mcse": None if rmse is None else 0.05 * rmse,
            "ok": 40 if rmse is not None else 0,
            "bias": {p: 0.01 for p in params} if rmse is not None else {},
            "variance": {p: 0.02 for p in params} if rmse is not None else {},
        }

    estimators = {
        "MLE": {
            str(n): at(None if family == "categorical" and n == 25 else 3 / np.sqrt(n))
            for n in N_GRID
        }
    }
    for u in TAU_UNITS:
        scale = 0.8 + 0.1 * abs(np.log2(u))
        estimators[f"MAP τ = {u:g} τ₀"] = {str(n): at(scale * 3 / np.sqrt(n)) for n in N_GRID}
    estimators["posterior mean"] = {str(n): at(2.6 / np.sqrt(n)) for n in N_GRID}
    return {
        "n_grid": N_GRID,
        "tau_units": TAU_UNITS,
        "estimators": estimators,
        "best tau": {str(n): 1.0 for n in N_GRID},
    }


def _sbc_case(rng, family, params):
    entry = {
        "draws ranked": L,
        "ok": 49,
        "not ok": 1,
        "ranks": {p: [int(r) for r in rng.integers(0, L + 1, 49)] for p in params},
        "uniformity": {p: {"p value": float(rng.uniform()), "bins": 10} for p in params},
    }
    if family == "categorical":  # the uniformity check may be absent
        del entry["uniformity"]
    return entry


def synthetic_summary(kind: str) -> dict:
    rng = np.random.default_rng(20180406)
    make = {"coverage": _coverage_case, "risk": _risk_case, "sbc": _sbc_case}[kind]
    cases = {}
    for name, (family, params) in CASES.items():
        cases[name] = {
            "family": family,
            "n": 48,
            "tau": 0.25,
            "note": "the intercept's prior N(0, τ²) as the weights' <b>",
            "parameters": params,
        } | make(rng, family, params)
    return {
        "study": kind,
        "seed": 0,
        "replicates": 50,
        "settings": {
            "draws": 500,
            "tune": 500,
            "chains": 2,
            "sbc_thin": 10,
            "n_grid": N_GRID,
            "tau_units": TAU_UNITS,
        },
        "execution": "2 local worker processes",
        "cases": cases,
    }


DRAWINGS = {
    "coverage": [lambda s: study_figures.coverage_plot(s)],
    "risk": [lambda s: study_figures.risk_plot(s)],
    "sbc": [lambda s, name=name: study_figures.sbc_plot(s, name) for name in CASES],
}


@pytest.mark.parametrize(
    "kind, k", [(kind, k) for kind, draws in DRAWINGS.items() for k in range(len(draws))]
)
def test_figure_is_readable(kind, k):
    """As the page saves it (user names drawn literally), no text outside the figure, too
    small or overlapping another."""
    fig = DRAWINGS[kind][k](synthetic_summary(kind))
    uri = figures.figure_to_data_uri(fig)
    assert uri.startswith("data:image/png;base64,")
    assert figure_check.problems(fig, drawn_at=figures.DPI) == []


def test_sbc_plot_has_a_panel_per_parameter_titled_literally():
    summary = synthetic_summary("sbc")
    fig = study_figures.sbc_plot(summary, "softmax & friends")
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert titles == CASES["softmax & friends"][1]
    figures.figure_to_data_uri(fig)


def test_sbc_ranks_converted_with_the_known_number_of_draws():
    """Ranks 0..L become (rank + 0.5) / (L + 1): L from the summary, not the largest rank
    seen (plot_ecdf_pit's own conversion when given ranks)."""
    ranks, draws = study_figures.sbc_ranks(
        {"draws ranked": 9, "ranks": {"a": [0, 1, None, 3], "b": [2, 2, 2, 2]}}
    )
    assert draws == 9
    assert ranks["a"].tolist() == [0, 1, 3] and ranks["b"].tolist() == [2, 2, 2]


def test_risk_plot_skips_missing_values():
    summary = synthetic_summary("risk")
    for per_n in summary["cases"]["linear a<b"]["estimators"].values():
        per_n["50"] = {"rmse": None, "mcse": None, "ok": 0, "bias": {}, "variance": {}}
    del summary["cases"]["softmax & friends"]["estimators"]["posterior mean"]
    fig = study_figures.risk_plot(summary)
    figures.figure_to_data_uri(fig)
    assert figure_check.problems(fig, drawn_at=figures.DPI) == []


EXPECTED_FIGURES = {"coverage": 1, "risk": len(CASES), "sbc": len(CASES)}


@pytest.mark.parametrize("kind", ["coverage", "risk", "sbc"])
def test_page(kind):
    summary = synthetic_summary(kind)
    page, warnings = render_study_page(summary)
    title = {"coverage": "coverage", "risk": "risk", "sbc": "simulation-based calibration"}
    assert f"<h1>Simulation study: {title[kind]}" in page
    assert len(re.findall(r"<img ", page)) == EXPECTED_FIGURES[kind]
    assert "figure unavailable" not in page
    assert not [w for w in warnings if "figure" in w], warnings
    # user names escaped, never raw
    for name in ("linear a<b", "softmax & friends", "a<b", "the weights' <b>"):
        assert str(escape(name)) in page  # as jinja2's autoescape writes it
    assert "a<b" not in page and "the weights' <b>" not in page
    if kind == "coverage":
        assert "Gaussian approximation at the mode" in page
        assert "Monte Carlo: NUTS draws" in page
        assert "<details" in page and "Coverage per parameter" in page
    if kind == "sbc":
        assert "Monte Carlo: NUTS draws" in page
        assert "No uniformity test was recorded" in page  # the categorical case's


def test_page_of_a_figure_that_fails_says_so():
    """A case the figure cannot be drawn for (no ranks) still gets its page, with the figure
    marked unavailable and a warning."""
    summary = synthetic_summary("sbc")
    summary["cases"]["linear a<b"]["ranks"] = {}
    page, warnings = render_study_page(summary)
    assert page.count("figure unavailable") == 1
    assert any("unavailable" in w and "linear a<b" in w for w in warnings)
