"""Independent reference answers: least squares in 60-digit arithmetic (mpmath).

Provenance: computed here at test time from the same float64 data the code under test sees,
via the normal equations in mpmath with mp.dps = 60; with condition numbers below 1e16 the
normal equations lose at most 32 of those 60 digits, leaving > 25 correct digits.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np


def design_matrices():
    """Badly conditioned designs (name -> (X, y, intercept)), all deterministic."""
    out = {}
    # Filip-like: degree-10 polynomial on [-9, -3] (NIST StRD Filip's x range and degree).
    x = np.linspace(-9.0, -3.0, 82)
    rng = np.random.default_rng(20261122)
    y = 0.8 + 0.02 * np.sin(x) + 0.003 * rng.standard_normal(x.size)
    out["poly10_filip_like"] = (np.column_stack([x**k for k in range(1, 11)]), y, True)
    # Wampler-like: degree-5 polynomial on 0..20, noisy (NIST Wampler4/5 shape).
    x = np.arange(21.0)
    y = np.polyval(np.ones(6), x) + 1e4 * rng.standard_normal(x.size)
    out["poly5_wampler_like"] = (np.column_stack([x**k for k in range(1, 6)]), y, True)
    # Wampler5-like: the same design, noise so large that the coefficients (~1) are 1e-7 of
    # their standard errors; digits relative to the coefficient itself are then hard to get.
    noise = (-1.0) ** np.arange(21) * 2e7 * (1 + np.abs(rng.standard_normal(21)))
    out["poly5_wampler5_like"] = (
        np.column_stack([x**k for k in range(1, 6)]),
        np.polyval(np.ones(6), x) + noise,
        True,
    )
    # Longley (1967): the classic near-collinear economic regression (NIST StRD Longley).
    from statsmodels.datasets import longley

    d = longley.load_pandas()
    out["longley"] = (d.exog.to_numpy(float), d.endog.to_numpy(float), True)
    # Near-collinear series: two nearly identical trends plus a seasonal term.
    t = np.arange(60.0)
    x1 = 100 + t
    x2 = x1 + 1e-4 * rng.standard_normal(t.size)
    x3 = np.sin(2 * np.pi * t / 12)
    y = 3 + 0.5 * x1 + 0.25 * x2 + x3 + rng.standard_normal(t.size)
    out["near_collinear"] = (np.column_stack([x1, x2, x3]), y, True)
    # Straight line, 36 rows, x up to ~1000 (NIST Norris shape): well conditioned, the case
    # where L-BFGS-B used to stop with ABNORMAL at the rounding floor.
    x = np.sort(rng.uniform(0.0, 1000.0, 36))
    out["line36_norris_like"] = (
        x[:, None],
        -0.26 + 1.0021 * x + 0.9 * rng.standard_normal(36),
        True,
    )
    # No intercept, large offset (NIST NoInt-like).
    x = np.arange(60.0, 71.0)
    out["no_intercept"] = (x[:, None], np.arange(130.0, 141.0), False)
    return out


def mp_lstsq(A, y, L=None, dps: int = 60):
    """beta, inv(A^T A + diag(L)^2) and RSS of min ||y - A b||^2 + ||diag(L) b||^2, exactly."""
    with mp.workdps(dps):
        n, p = A.shape
        Am = mp.matrix(A.tolist())
        ym = mp.matrix(y.tolist())
        G = Am.T * Am
        if L is not None:
            for j in range(p):
                G[j, j] += mp.mpf(float(L[j])) ** 2
        Ginv = mp.inverse(G)
        beta = Ginv * (Am.T * ym)
        r = ym - Am * beta
        rss = sum(r[i] ** 2 for i in range(n))
        to_np = lambda m: np.array(m.tolist(), dtype=float)  # noqa: E731
        return to_np(beta).ravel(), to_np(Ginv), float(rss)


def mp_ridge_rss(X, y, dps: int = 60):
    """RSS(lam2) of min ||y - b0 - X b||^2 + lam2 ||b||^2 (intercept b0 unpenalised), for any
    lam2 >= 0, from one symmetric eigendecomposition in ``dps`` digits: centre X and y (which
    removes b0), X_c^T X_c = V diag(d) V^T, c = V^T X_c^T y_c; then
    RSS = y_c^T y_c - sum_i c_i^2 (d_i + 2 lam2) / (d_i + lam2)^2."""
    with mp.workdps(dps):
        n, k = X.shape
        Xm = mp.matrix(X.tolist())
        ym = mp.matrix(y.tolist())
        xbar = [sum(Xm[i, j] for i in range(n)) / n for j in range(k)]
        ybar = sum(ym) / n
        Xc = mp.matrix(n, k)
        for i in range(n):
            for j in range(k):
                Xc[i, j] = Xm[i, j] - xbar[j]
        yc = mp.matrix([ym[i] - ybar for i in range(n)])
        d, V = mp.eigsy(Xc.T * Xc)
        c = V.T * (Xc.T * yc)
        yy = sum(v**2 for v in yc)

    def rss(lam2: float) -> float:
        with mp.workdps(dps):
            lam2 = mp.mpf(lam2)
            return float(
                yy - sum(c[i] ** 2 * (d[i] + 2 * lam2) / (d[i] + lam2) ** 2 for i in range(k))
            )

    return rss


def mp_logistic_mle(A, y, dps: int = 50) -> tuple[list[float], list[float]]:
    """Logistic-regression MLE and its standard errors (sqrt diag of the inverse observed
    information) by Newton's method in ``dps``-digit arithmetic: an independent reference for
    the Bernoulli family (quadratic convergence; 60 iterations reach the working precision)."""
    with mp.workdps(dps):
        n, p = len(A), len(A[0])
        Am = mp.matrix([[mp.mpf(float(v)) for v in row] for row in A])
        ym = [mp.mpf(float(v)) for v in y]
        beta = mp.matrix(p, 1)
        for _ in range(60):
            g = mp.matrix(p, 1)
            H = mp.matrix(p, p)
            for i in range(n):
                z = sum(Am[i, j] * beta[j] for j in range(p))
                mu = 1 / (1 + mp.exp(-z))
                w = mu * (1 - mu)
                for j in range(p):
                    g[j] += Am[i, j] * (ym[i] - mu)
                    for k in range(p):
                        H[j, k] += w * Am[i, j] * Am[i, k]
            step = mp.lu_solve(H, g)
            beta += step
            if mp.norm(step) < mp.mpf(10) ** (-dps + 5):
                break
        cov = H**-1
        return [float(b) for b in beta], [float(mp.sqrt(cov[j, j])) for j in range(p)]
