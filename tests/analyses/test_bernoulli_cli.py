"""``fit --family bernoulli`` end to end (cli.main in this process; the quasi-separated file
as a subprocess on the background lane), against independent references:
a 50-digit Newton MLE (tests/reference.py), and separation on a quasi-separated file."""

import json

import numpy as np
import pytest
from reference import mp_logistic_mle
from scipy.special import expit
from test_cli import fit_json, write_csv

# Promised accuracy (issue: certified logistic results): 7 significant digits for the
# coefficients, 5 for the standard errors, from find_map + laplace on flat priors.
COEF_RTOL = 1e-7
SE_RTOL = 1e-5


def fit_bernoulli(csv, out, *args) -> dict:
    return fit_json(csv, out, "bernoulli", *args)


def test_fit_flat_mle_and_standard_errors_to_promised_digits(tmp_path):
    rng = np.random.default_rng(21)
    n = 120
    x1 = rng.normal(2.0, 1.5, n)
    x2 = rng.uniform(-1, 3, n)
    y = (rng.random(n) < expit(-1.0 + 0.8 * x1 - 0.6 * x2)).astype(int)
    labels = np.where(y == 1, "case", "control")
    csv = write_csv(
        tmp_path / "d.csv",
        {"x1": x1.round(6).tolist(), "x2": x2.round(6).tolist(), "g": labels.tolist()},
    )
    r = fit_bernoulli(
        csv,
        tmp_path / "out",
        *("--target", "g", "--positive", "case"),
        *("--priors", "flat", "--estimators", "find_map,laplace"),
    )
    assert r["dataset"]["target_info"]["positive (y = 1)"] == "case"
    A = np.column_stack([np.ones(n), x1.round(6), x2.round(6)])
    beta, se = mp_logistic_mle(A.tolist(), y.tolist())
    names = ["intercept", "x1", "x2"]
    fm, lap = r["estimates"]["find_map_flat"], r["estimates"]["laplace_flat"]
    for nm, b, s in zip(names, beta, se, strict=True):
        assert abs(fm["mean"][nm] - b) <= COEF_RTOL * abs(b), (nm, fm["mean"][nm], b)
        assert abs(lap["sd"][nm] - s) <= SE_RTOL * s, (nm, lap["sd"][nm], s)


def _quasi_separated(folder):
    """A quasi-separated file: every exposed row has the event."""
    exposed = [0] * 12 + [1] * 6
    score = [0.3, -0.2, 0.5, 1.0, -1.1, 0.2, 0.8, -0.4, 1.3, -0.9, 0.1, 0.6] + [0.0] * 6
    event = [0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1] + [1] * 6
    csv = write_csv(folder / "q.csv", {"exposed": exposed, "score": score, "event": event})
    return [
        *("fit", csv, "--family", "bernoulli", "--out", folder / "out", "--target", "event"),
        *("--estimators", "newton,find_map,statsmodels,sklearn"),
    ]


BACKGROUND = {"quasi-separated fit": _quasi_separated}  # tests/background.py


@pytest.mark.background("quasi-separated fit")
def test_fit_quasi_separated_reports_no_mle_and_finite_maps(background_run):
    res, folder = background_run("quasi-separated fit")
    assert res.returncode == 0, res.stderr[-2000:]
    r = json.loads((folder / "out" / "results.json").read_text())
    for key in ("find_map_flat", "statsmodels_flat", "sklearn_flat"):
        est = r["estimates"][key]
        assert est["status"] == "unavailable", key
        assert "exposed → +∞" in est["reason"] and "quasi-complete" in est["reason"], est
    for key in ("find_map_gaussian", "find_map_jeffreys", "sklearn_gaussian"):
        est = r["estimates"][key]
        assert est["status"] == "ok" and all(np.isfinite(list(est["mean"].values()))), key
    assert all(row["ok"] for row in r["agreement"])
    assert any(row["left"] == "find_map_jeffreys" for row in r["agreement"])
