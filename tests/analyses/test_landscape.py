"""The loss landscape (``analyses.landscape``): its large-n route for a quadratic loss, from
the residuals' sufficient statistics, against the row-by-row grid (the arithmetic tier:
16·n·ε·|value|, Higham §4.2; tests/tolerances.py ARITH_RTOL)."""

from __future__ import annotations

import numpy as np
from tolerances import ARITH_RTOL

from nll_losses.analyses import landscape
from nll_losses.analyses.results import Estimate
from nll_losses.models import get_family
from nll_losses.models.family import Settings, new_problem


def _problem(n: int, k: int, seed: int):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k)) * np.linspace(1.0, 50.0, k) + 3.0
    y = 0.7 + X @ rng.normal(size=k) + rng.normal(scale=2.0, size=n)
    features = tuple(f"x{j}" for j in range(k))
    return new_problem(get_family("normal"), X, y, features, {}, Settings(), "flat")


def _tolerance(n: int, magnitude: float) -> float:
    return ARITH_RTOL * n * max(magnitude, 1.0)


def test_landscape_from_sufficient_statistics_equals_row_by_row(monkeypatch):
    """The loss landscape's large-n route (``landscape._quadratic_grid``) against the row-by-row
    grid, to the arithmetic tier at every grid point."""
    problem = _problem(3000, 3, seed=11)
    fam = get_family("normal")
    closed = fam.references()["closed_form"].fit(problem, {})
    estimates = {
        "find_map_flat": Estimate("find_map", "flat", mean=closed["mean"]),
        "laplace_flat": Estimate("laplace", "flat", mean=closed["mean"], sd=closed["sd"]),
    }
    monkeypatch.setattr(landscape, "LANDSCAPE_ROW_EVALS", 10**12)
    rows = landscape.landscape(fam, {"flat": problem}, estimates, size=9)
    monkeypatch.setattr(landscape, "LANDSCAPE_ROW_EVALS", 0)
    suff = landscape.landscape(fam, {"flat": problem}, estimates, size=9)
    assert "sufficient statistics" in suff["caption"]
    assert "sufficient statistics" not in rows["caption"]
    tol = _tolerance(problem.n, float(np.max(np.abs(rows["nll"]))))
    assert np.max(np.abs(suff["nll"] - rows["nll"])) <= tol
    assert np.max(np.abs(suff["loss"] - rows["loss"]) * suff["a"]) <= tol
    assert suff["max_deviation"] <= tol
