"""Whether a GLM's maximum-likelihood estimate exists, by one linear program for every
family: a direction d along which the log-likelihood increases without bound (a recession
direction of the negative log-likelihood) makes every "margin" G_i d non-negative, keeps the
rows E_j d at 0, and makes some margin positive::

    maximise 1'G d   subject to   G d >= 0,   E d = 0,   -1 <= d_k <= 1.

The MLE does not exist iff the optimum is positive.  The families build G and E from their
data (columns scaled to unit RMS by the caller, so that the box treats them alike):

* Bernoulli: G = diag(2y - 1) A (Konis 2007, *Linear programming algorithms for detecting
  separated data in binary logistic regression models*, DPhil thesis, Oxford, ch. 4);
* categorical: one row per (observation, other class), G_ik = A_i (D_{y_i} - D_k) (Albert &
  Anderson 1984, Biometrika 71, 1-10);
* Poisson: G = -A over the rows with y = 0 and E = A over the rows with y > 0 (Santos Silva &
  Tenreyro 2010, Economics Letters 107, 310-312: along such a d the fitted means of some
  zero counts go to 0 and no other mean changes).

Zero is decided relative to HiGHS's primal feasibility tolerance, 1e-7 per margin row.
Pure NumPy/SciPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

FEASIBILITY_TOL = 1e-7  # HiGHS's default primal feasibility tolerance, per row


@dataclass(frozen=True)
class Recession:
    """``found``: the MLE does not exist; ``value`` the LP optimum 1'G d; ``direction`` d in
    the caller's (scaled) coordinates, as HiGHS returned it."""

    found: bool
    value: float
    direction: np.ndarray


def recession_direction(G: np.ndarray, E: np.ndarray | None = None) -> Recession:
    """The linear program of this module's docstring on margins ``G`` and equalities ``E``."""
    G = np.asarray(G, float)
    n, m = G.shape
    equalities = {}
    if E is not None and len(E):
        E = np.asarray(E, float)
        equalities = {"A_eq": E, "b_eq": np.zeros(len(E))}
    res = linprog(
        -G.sum(axis=0),
        A_ub=-G,
        b_ub=np.zeros(n),
        bounds=[(-1.0, 1.0)] * m,
        method="highs",
        **equalities,
    )
    if res.status != 0:
        raise RuntimeError(f"separation LP failed: {res.message}")
    value = -float(res.fun)
    return Recession(value > FEASIBILITY_TOL * n, value, np.asarray(res.x, float))
