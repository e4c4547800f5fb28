"""A study's numbers from hand-made replicates: coverage counts and binomial bands, RMSE,
bias and variance, SBC ranks (analyses/study/summary.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nll_losses.analyses.study import summary


def _binomial_cdf(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k + 1))


@pytest.mark.parametrize("trials, level", [(100, 0.9), (37, 0.5), (400, 0.95)])
def test_binomial_band_holds_its_probability(trials, level):
    """The band [lo, hi] of Binomial(trials, level)/trials holds at least 95% of the
    probability, and moving either end one count inwards leaves less than 97.5% on that side
    (the central interval), from the pmf summed exactly."""
    lo, hi = (round(v * trials) for v in summary.binomial_band(trials, level))
    inside = _binomial_cdf(hi, trials, level) - _binomial_cdf(lo - 1, trials, level)
    assert inside >= 0.95
    assert _binomial_cdf(lo, trials, level) >= 0.025  # lo is the 2.5% quantile
    assert _binomial_cdf(lo - 1, trials, level) < 0.025
    assert _binomial_cdf(hi - 1, trials, level) < 0.975 <= _binomial_cdf(hi, trials, level)


def test_coverage_counts_each_level():
    """|2u − 1| ≤ L: u = 0.5 is in every central interval, u = 0.96 only in the 95% one
    (|2u − 1| = 0.92), u = 0.01 in none (0.98), u = 0.3 in the 50% one and up (0.4)."""
    rows = [
        {"estimators": {"A": {"prior": "flat", "status": "ok", "u": {"w": u}}}}
        for u in (0.5, 0.96, 0.01, 0.3)
    ] + [{"estimators": {"A": {"prior": "flat", "status": "failed", "reason": "x"}}}]
    out = summary.coverage(rows)
    a = out["estimators"]["A"]
    assert out["levels"] == [0.5, 0.8, 0.9, 0.95]
    assert a["per parameter"]["w"]["covered"] == [2, 2, 2, 3]
    assert a["pooled"]["trials"] == 4 and a["ok"] == 4 and a["not ok"] == 1
    assert a["pooled"]["rate"] == [0.5, 0.5, 0.5, 0.75]


def test_risk_rmse_bias_variance():
    """Two replicates, errors (1, 2) and (3, −2) in (a, b): per-replicate squared norms 5 and
    13, MSE 9, RMSE 3; bias (2, 0); variances 2 and 8 (ddof 1)."""
    rows = [
        {"errors": {"10": {"MLE": {"status": "ok", "error": {"a": 1.0, "b": 2.0}}}}},
        {"errors": {"10": {"MLE": {"status": "ok", "error": {"a": 3.0, "b": -2.0}}}}},
    ]
    out = summary.risk(rows, [10], [1.0])
    m = out["estimators"]["MLE"]["10"]
    assert m["rmse"] == pytest.approx(3.0)
    assert m["bias"] == pytest.approx({"a": 2.0, "b": 0.0})
    assert m["variance"] == pytest.approx({"a": 2.0, "b": 8.0})
    # MCSE of the MSE: sd(5, 13) / √2 = √32 / √2 = 4; of the RMSE: 4 / (2 · 3)
    assert m["mcse"] == pytest.approx(4 / 6)
    assert out["best tau"] == {"10": None}  # no MAP here


def test_sbc_ranks_in_replicate_order():
    rows = [
        {"status": "ok", "ranks": {"w": k}, "draws ranked": 100, "diagnostics": []}
        for k in (3, 50, 99)
    ]
    out = summary.sbc(rows)
    assert out["ranks"] == {"w": [3, 50, 99]} and out["draws ranked"] == 100 and out["ok"] == 3
    # uniform ranks over many replicates pass the χ² summary, piled-up ones fail it
    flat = [{"status": "ok", "ranks": {"w": int(k)}, "draws ranked": 99} for k in range(100)]
    assert summary.sbc(flat)["uniformity"]["w"]["p value"] > 0.5
    piled = [{"status": "ok", "ranks": {"w": 0}, "draws ranked": 99} for _ in range(100)]
    assert summary.sbc(piled)["uniformity"]["w"]["p value"] < 1e-6
    assert np.isfinite(summary.sbc(piled)["uniformity"]["w"]["p value"])


def test_sbc_uniformity_expects_each_bin_by_its_width():
    """Ranks 0 … 100 (L = 100: 101 values, so one of the 10 bins holds 11 of them), each
    value twice: exactly what uniform ranks expect, p = 1 (equal expectations would not)."""
    rows = [{"status": "ok", "ranks": {"w": k}, "draws ranked": 100} for k in list(range(101)) * 2]
    # χ² = 0 exactly: p = 1 up to the rounding of scipy's survival function
    assert summary.sbc(rows)["uniformity"]["w"]["p value"] == pytest.approx(1.0, abs=1e-12)


def test_no_trials_gives_no_band():
    """An estimator that answered no replicate has no band (None: JSON has no NaN)."""
    assert summary.binomial_band(0, 0.9) == [None, None]
    rows = [{"estimators": {"A": {"prior": "flat", "status": "unavailable", "reason": "x"}}}]
    out = summary.coverage(rows)["estimators"]["A"]
    assert out["ok"] == 0 and out["pooled"]["band"] == [[None, None]] * 4
    import json

    json.dumps(out, allow_nan=False)


def test_variance_mcse_from_the_fourth_moment():
    """Errors −3, 0, 3 repeated (k = 300): σ² = 6, μ₄ = 54, so the sample variance's standard
    error is √((μ₄ − σ⁴)/k) = √(18/300); the bias's is σ/√k.  The sample moments carry the
    k − 1 corrections: 1% relative (k = 300)."""
    rows = [
        {"errors": {"5": {"MLE": {"status": "ok", "error": {"a": float(e)}}}}}
        for e in [-3.0, 0.0, 3.0] * 100
    ]
    m = summary.risk(rows, [5], [1.0])["estimators"]["MLE"]["5"]
    assert m["variance mcse"]["a"] == pytest.approx(np.sqrt(18 / 300), rel=1e-2)
    assert m["bias mcse"]["a"] == pytest.approx(np.sqrt(6 / 300), rel=1e-2)
