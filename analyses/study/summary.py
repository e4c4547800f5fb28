"""A study's numbers from its replicates (ordered by r, so they do not depend on the order
the replicates finished in): coverage rates with binomial bands, bias, variance and RMSE with
Monte Carlo errors, and SBC ranks with a uniformity check.

The binomial band of a coverage rate is where the empirical rate of ``trials`` independent
intervals of nominal level L falls with probability 95% (Binomial(trials, L) quantiles): a
rate outside it is evidence against calibration at that level.  Pooled over a case's
parameters the trials are not independent (the parameters of one replicate share its data),
so the pooled band is a guide; the per-parameter bands are exact.
"""

from __future__ import annotations

import numpy as np

LEVELS = (0.5, 0.8, 0.9, 0.95)
BAND = 0.95  # the binomial band's probability


def binomial_band(trials: int, level: float, prob: float = BAND) -> list[float]:
    """[lo, hi]: the central ``prob`` range of Binomial(trials, level) / trials."""
    from scipy import stats

    if trials <= 0:
        return [None, None]
    lo, hi = stats.binom.interval(prob, trials, level)
    return [float(lo / trials), float(hi / trials)]


def _rates(us: list[float], levels=LEVELS) -> dict:
    u = np.asarray(us, dtype=float)
    covered = [int(np.sum(np.abs(2 * u - 1) <= lv)) for lv in levels]
    trials = int(u.size)
    return {
        "covered": covered,
        "trials": trials,
        "rate": [c / trials if trials else None for c in covered],
        "band": [binomial_band(trials, lv) for lv in levels],
    }


def coverage(rows: list[dict]) -> dict:
    """Per estimator: how many replicates it answered, and its coverage per parameter and
    pooled over parameters, at each of ``LEVELS``."""
    labels = list(dict.fromkeys(lb for row in rows for lb in row["estimators"]))
    out = {}
    for label in labels:
        entries = [row["estimators"].get(label) for row in rows]
        ok = [e for e in entries if e and e.get("status") == "ok"]
        params = list(dict.fromkeys(p for e in ok for p in e["u"]))
        per = {p: _rates([e["u"][p] for e in ok if p in e["u"]]) for p in params}
        pooled = _rates([e["u"][p] for e in ok for p in params if p in e["u"]])
        prior = next((e["prior"] for e in entries if e), None)
        reasons = sorted({e.get("reason", "") for e in entries if e and e.get("status") != "ok"})
        out[label] = {
            "prior": prior,
            "ok": len(ok),
            "not ok": len(entries) - len(ok),
            "reasons": reasons[:3],
            "pooled": pooled,
            "per parameter": per,
            "nuts flagged": sum(bool(e.get("diagnostics")) for e in ok),
        }
    return {"levels": list(LEVELS), "estimators": out}


def risk(rows: list[dict], n_grid, tau_units) -> dict:
    """Per estimator and n: RMSE = √(mean over replicates of Σ_j error_j²) with its Monte
    Carlo error (delta method: the mean square's MCSE / (2 RMSE)), bias and variance per
    parameter; and
    the τ/τ₀ of the least RMSE at each n."""
    labels = list(dict.fromkeys(lb for row in rows for at in row["errors"].values() for lb in at))
    out: dict[str, dict] = {}
    for label in labels:
        per_n = {}
        for n in n_grid:
            errs = [
                row["errors"][str(n)].get(label)
                for row in rows
                if str(n) in row["errors"] and row["errors"][str(n)].get(label)
            ]
            ok = [e["error"] for e in errs if e.get("status") == "ok"]
            params = list(dict.fromkeys(p for e in ok for p in e))
            if not ok:
                per_n[str(n)] = {
                    "rmse": None,
                    "mcse": None,
                    "ok": 0,
                    "bias": {},
                    "bias mcse": {},
                    "variance": {},
                    "variance mcse": {},
                }
                continue
            E = np.array([[e.get(p, np.nan) for p in params] for e in ok], dtype=float)
            sq = np.nansum(E**2, axis=1)
            mse = float(np.mean(sq))
            rmse = float(np.sqrt(mse))
            mcse_mse = float(np.std(sq, ddof=1) / np.sqrt(len(sq))) if len(sq) > 1 else None
            per_n[str(n)] = {
                "rmse": rmse,
                "mcse": mcse_mse / (2 * rmse) if mcse_mse is not None and rmse > 0 else None,
                "ok": len(ok),
                "bias": {p: float(np.nanmean(E[:, j])) for j, p in enumerate(params)},
                # the bias's Monte Carlo error: sd / √replicates
                "bias mcse": {
                    p: float(np.nanstd(E[:, j], ddof=1) / np.sqrt(len(ok))) if len(ok) > 1 else None
                    for j, p in enumerate(params)
                },
                "variance": {
                    p: float(np.nanvar(E[:, j], ddof=1)) if len(ok) > 1 else None
                    for j, p in enumerate(params)
                },
                "variance mcse": {p: _variance_mcse(E[:, j]) for j, p in enumerate(params)},
            }
        out[label] = per_n
    best = {}
    for n in n_grid:
        scored = [
            (out[map_label(u)][str(n)]["rmse"], u)
            for u in tau_units
            if map_label(u) in out and out[map_label(u)][str(n)]["rmse"] is not None
        ]
        best[str(n)] = min(scored)[1] if scored else None
    return {
        "n_grid": list(n_grid),
        "tau_units": list(tau_units),
        "estimators": out,
        "best tau": best,
    }


def _variance_mcse(e: np.ndarray) -> float | None:
    """The standard error of the sample variance of ``e``: √((m₄ − s⁴ (k − 3)/(k − 1)) / k),
    m₄ the fourth central moment (the large-sample formula; None below 4 values)."""
    e = e[np.isfinite(e)]
    k = e.size
    if k < 4:
        return None
    d = e - e.mean()
    s2 = float(np.sum(d**2) / (k - 1))
    m4 = float(np.mean(d**4))
    return float(np.sqrt(max(m4 - s2**2 * (k - 3) / (k - 1), 0.0) / k))


def map_label(unit: float) -> str:
    """The risk study's label of the MAP at τ = ``unit`` × the case's τ."""
    return f"MAP τ = {unit:g} τ₀"


def map_units(case: dict) -> dict[float, str]:
    """{τ/τ₀: its MAP's label} of a risk study's case (its "tau_units" and "estimators"),
    in increasing τ, for the MAPs it has."""
    ests = case.get("estimators") or {}
    units = sorted(float(u) for u in case.get("tau_units") or ())
    return {u: map_label(u) for u in units if map_label(u) in ests}


def sbc(rows: list[dict]) -> dict:
    """The ranks per parameter (replicates in order of r) and a χ² test of their uniformity
    over 10 equal bins (a summary; the ECDF plot's simultaneous band is the check)."""
    from scipy import stats

    ok = [row for row in rows if row.get("status") == "ok"]
    if not ok:
        return {"ok": 0, "draws ranked": None, "ranks": {}, "uniformity": {}}
    L = int(ok[0]["draws ranked"])
    params = list(dict.fromkeys(p for row in ok for p in row["ranks"]))
    ranks = {p: [int(row["ranks"][p]) for row in ok if p in row["ranks"]] for p in params}
    uniformity = {}
    for p, rs in ranks.items():
        # ranks 0 … L in 10 bins of (nearly) equal width: each bin's expected count from its
        # number of rank values (L + 1 = 101 values: one bin holds 11)
        bins = np.minimum((np.asarray(rs) * 10) // (L + 1), 9)
        counts = np.bincount(bins, minlength=10)
        width = np.bincount(np.minimum((np.arange(L + 1) * 10) // (L + 1), 9), minlength=10)
        expected = len(rs) * width / (L + 1)
        uniformity[p] = {
            "p value": float(stats.chisquare(counts, expected).pvalue),
            "bins": 10,
        }
    return {
        "ok": len(ok),
        "not ok": len(rows) - len(ok),
        "draws ranked": L,
        "ranks": ranks,
        "uniformity": uniformity,
        "nuts flagged": sum(bool(row.get("diagnostics")) for row in ok),
    }
