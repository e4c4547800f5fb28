"""Tolerance tiers: every agreement row gets one, and each states where its size comes from.

A row passes when ``|left - right| <= tolerance`` (or, for a predicted gap, when
``|observed gap - expected gap| <= tolerance``).  Nothing here is tuned to make a comparison
pass; a failing row means a real disagreement or a bug (see README, "Reading an agreement table").
"""

from __future__ import annotations

import numpy as np

EPS = float(np.finfo(np.float64).eps)

# ---------------------------------------------------------------- tier 1: linear algebra
# Two backward-stable solvers of the same least-squares problem (our refined QR vs statsmodels'
# pinv/SVD, scikit-learn's lstsq/Cholesky) can differ by the forward error of the worse one.
# For the normal equations, the worst path used by a reference library (sklearn Ridge
# 'cholesky'), ||d beta|| / ||beta|| <= c * p * eps * kappa^2 (Golub & Van Loan, *Matrix
# Computations*, 4th ed., §5.3.7-5.3.8), kappa the 2-norm condition number of the design as the
# library sees it.  c = 10 absorbs the constant of the bound.  Normwise, so the scale is
# ||beta||_2 over the coefficients compared (sd columns: ||sd||_2).
LINALG_C = 10.0
# Quadrature vs closed form (1-D trapezoid in log sigma on the posterior's curvature scale,
# >= 4001 points over +-60 nats, doubled until the step-2h moments agree to 1e-6 sd): the
# trapezoid rule converges geometrically here; measured agreement at n = 10 .. 10^6 is ~1e-13
# relative (tests/models/numerics/test_exact_large_n.py; the closed forms' Gamma ratios by
# series, not gammaln).
QUADRATURE_RTOL = 1e-8

# ---------------------------------------------------------------- tier 2: optimiser
# find_MAP: trust-ncg (the exact Hessian, compiled once per model) from a jittered start,
# then Newton refinement on the model's own gradient (analyses.find_map._refine).
# Acceptance does not read the optimiser's message: the Newton step still to go at the final
# point, max_j |(H^-1 grad)_j| / sd_j, must be at most
# FIND_MAP_STEP_TOL posterior sds.  For a locally quadratic objective that step is the distance
# to the mode, so the answer is within ~1e-8 sd of it: 100x inside OPTIMISER_RTOL.  Objective-
# based stops reach only ~sqrt(eps |f|) ~ 1e-8 sd (measured 5e-10 to 2e-8 on the synthetic
# case); the gradient-based Newton steps reach 1e-13 sd or less on every design in the tests.
FIND_MAP_METHOD = "trust-ncg"
FIND_MAP_OPTIONS = (("gtol", 1e-12), ("maxiter", 1000))
FIND_MAP_STEP_TOL = 1e-8
# The tier: six significant digits relative to max(|value|, sd), the accuracy promised for
# find_MAP; the acceptance above puts find_MAP within 1e-8 sd, and the back-transformation
# from the whitened coordinates is exact up to the closed form's own error (1e-10 relative,
# tests/models/numerics/test_linalg.py).  Measured: 7.3 digits on NIST StRD Filip (scaled
# condition 3.8e9).
OPTIMISER_RTOL = 1e-6
# Models whose log density has kinks (relu networks; ``Family.smooth`` False): modes often
# sit on a kink, where no gradient or Newton criterion applies and trust-ncg's quadratic model
# fails ("bad approximation").  L-BFGS-B (as scikit-learn's MLPClassifier) runs until its
# objective stops changing at the 1e-15 relative level or maxiter; starts are compared by the
# objective value, and such a family's agreement rows compare objective values only.
NONSMOOTH_METHOD = "L-BFGS-B"
NONSMOOTH_OPTIONS = (("maxiter", 20000), ("maxfun", 100000), ("ftol", 1e-15), ("gtol", 1e-10))

# ---------------------------------------------------------------- tier 3: Monte Carlo
# NUTS estimates of a posterior mean (or sd) against an exact value: within Z Monte Carlo
# standard errors as ArviZ reports them (mcse_mean / mcse_sd, Vehtari et al. 2021).  Z = 4:
# a two-sided false alarm probability of 6e-5 per row, ~2e-3 for the ~30 rows of a report.
MCSE_Z = 4.0

TIERS = {
    "linear algebra": "c·p·ε·κ²·‖ref‖ (Golub & Van Loan §5.3, normal-equations forward error)",
    "quadrature": f"{QUADRATURE_RTOL:g} × max(|ref|, sd) (trapezoid rule in log σ, ≥ 4001 points)",
    "optimiser": f"{OPTIMISER_RTOL:g} × max(|ref|, sd) (find_MAP accepted within "
    f"{FIND_MAP_STEP_TOL:g} sd of the mode by its scaled gradient)",
    "monte carlo": f"{MCSE_Z:g} × MCSE (ArviZ mcse_mean / mcse_sd)",
}


def linear_algebra(kappa: float, p: int, norm_ref: float) -> float:
    """Normwise forward-error bound for two least-squares solvers on one problem."""
    return LINALG_C * p * EPS * kappa**2 * norm_ref


def optimiser(ref: float, sd: float | None) -> float:
    return OPTIMISER_RTOL * max(abs(ref), abs(sd or 0.0))


def quadrature(ref: float, sd: float | None) -> float:
    return QUADRATURE_RTOL * max(abs(ref), abs(sd or 0.0))


def monte_carlo(mcse: float) -> float:
    return MCSE_Z * mcse


# ---------------------------------------------------------------- arithmetic (loss ledger)
# Two float64 evaluations of one sum of n terms differ by at most ~n·eps·sum|terms|
# (Higham, *Accuracy and Stability of Numerical Algorithms*, §4.2); 16 covers the constant.
ARITH_C = 16.0


def arithmetic(n: int, magnitude: float) -> float:
    return ARITH_C * n * EPS * max(abs(magnitude), 1.0)


TIERS["arithmetic"] = "16·n·ε·max(|value|, 1) (Higham §4.2, floating-point summation)"
