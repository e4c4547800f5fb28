"""Closed-form least squares, ridge and conjugate posteriors: pure NumPy/SciPy.

Layering rule: this module depends only on NumPy and SciPy.  It never imports PyMC,
pandas, scikit-learn or anything from ``analyses``; the PyMC models and the reports read it.

Notation: ``A`` is the n x p design (a leading column of ones when there is an intercept),
``beta`` the p coefficients, ``L`` a diagonal penalty with ``L[j] = sigma / tau_j`` for a
N(0, tau_j^2) prior on ``beta[j]`` (0 for a flat prior).  Every solver here minimises

    ||y - A beta||^2 + ||diag(L) beta||^2          (ridge: alpha_j = L[j]^2 = sigma^2 / tau_j^2)

by treating it as ordinary least squares on the augmented system [A; diag(L)] beta ~ [y; 0].

Speed at large n: one QR of the equilibrated [A y] per data set (``lstsq_factor``) answers
every penalised solve from a (2p) x p system; the refinement below runs only where that
answer's error estimate asks, and always up to ALWAYS_REFINE_ROWS rows (``penalised_lstsq``).

Accuracy: Householder QR of the column-equilibrated design, then iterative refinement of
the augmented system [[I, A], [A^T, 0]] [r; beta] = [y; 0] (Björck 1967; Higham, *Accuracy
and Stability of Numerical Algorithms*, 2nd ed., §20.5) with residuals accumulated in extended
precision (``np.longdouble``).  The refined answer is the least-squares solution of the float64
data to close to working precision even when the scaled condition number is ~1e10 (the NIST
Filip design); the normal equations and a default-cutoff SVD ``lstsq`` lose most digits there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg as sla
from scipy import optimize, special

from models.content_cache import ContentCache, digest

EPS = np.finfo(np.float64).eps
# Points of the log grid on which the sigma equation of the Gaussian-prior mode is scanned for
# sign changes; two joint modes closer than one grid step (a factor (hi/lo)^(1/63)) would be
# seen as one.
SIGMA_SCAN_POINTS = 64
_EXT = np.longdouble


def design(X: np.ndarray, intercept: bool) -> np.ndarray:
    """The n x p design matrix: ``[1, X]`` with an intercept, else ``X``."""
    X = np.asarray(X, dtype=np.float64)
    if intercept:
        return np.column_stack([np.ones(X.shape[0]), X])
    return X


def condition_number(A: np.ndarray) -> float:
    """2-norm condition number s_max / s_min of ``A`` (inf when it is rank-deficient)."""
    sv = np.linalg.svd(np.asarray(A, dtype=np.float64), compute_uv=False)
    return float(sv[0] / sv[-1]) if sv[-1] > 0 else float("inf")


@dataclass(frozen=True)
class Preconditioner:
    """A well-conditioned basis for the column space of ``A`` (depends on ``A`` only, never y).

    ``A = Q @ inv(M)`` with ``Q`` (n x p) orthonormal: centre the feature columns (when there
    is an intercept), scale every column to unit norm, then thin QR.  Coefficients in the
    basis, ``phi``, map back as ``beta = M @ phi``.  ``cond`` is the 2-norm condition number
    of the equilibrated design (what limits any float64 solver).
    """

    Q: np.ndarray
    M: np.ndarray
    R: np.ndarray  # triangular factor of the equilibrated design: A @ T = Q @ R
    T: np.ndarray  # equilibration (centring + column scaling): M = T @ inv(R)
    cond: float


def precondition(A: np.ndarray, intercept: bool) -> Preconditioner:
    """Centre (if ``intercept``; column 0 of ``A`` is then the ones column), scale, QR."""
    A = np.asarray(A, dtype=np.float64)
    n, p = A.shape
    T = np.eye(p)
    if intercept:
        mean = A[:, 1:].mean(axis=0)
        centred = A[:, 1:] - mean
        norms = np.linalg.norm(centred, axis=0)
        norms[norms == 0] = 1.0
        T[0, 0] = 1.0 / np.sqrt(n)
        T[0, 1:] = -mean / norms
        T[np.arange(1, p), np.arange(1, p)] = 1.0 / norms
        At = np.column_stack([np.full(n, 1.0 / np.sqrt(n)), centred / norms])
    else:
        norms = np.linalg.norm(A, axis=0)
        norms[norms == 0] = 1.0
        T = np.diag(1.0 / norms)
        At = A / norms
    Q, R = np.linalg.qr(At)
    # Sign convention: positive diagonal of R, so the basis is unique.
    s = np.sign(np.diag(R))
    s[s == 0] = 1.0
    Q, R = Q * s, R * s[:, None]
    M = sla.solve_triangular(R, T.T, trans="T", lower=False).T  # T @ inv(R)
    sv = np.linalg.svd(R, compute_uv=False)
    cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else float("inf")
    return Preconditioner(Q=Q, M=M, R=R, T=T, cond=cond)


def _ext_residual(A, x, b):
    """b - A @ x accumulated in extended precision."""
    return b.astype(_EXT) - A.astype(_EXT) @ x.astype(_EXT)


@dataclass(frozen=True)
class LstsqResult:
    """Solution of min ||y - A beta||^2 + ||diag(L) beta||^2 and its ingredients."""

    beta: np.ndarray
    rss: float  # ||y - A beta||^2 (data part only)
    penalty: float  # ||diag(L) beta||^2
    cov_unscaled: np.ndarray  # inv(A^T A + diag(L)^2)
    iterations: int  # refinement steps against the rows (0: the factor's answer was enough)
    cond: float


# A solve from the data set's triangular factor (``LstsqFactor``) is accepted without
# refinement against the rows when its estimated forward error is at most this, relative: 10x
# inside the closed forms' measured 1e-10 (tests/tolerances.py), 1000x inside the quadrature
# tier and 10^4 x inside the 7 promised digits.  The estimate is in ``LstsqFactor.solve``.
REFINE_TARGET = 1e-11
# Up to this many rows every solve is refined against the rows whatever the estimate (it costs
# milliseconds there): the NIST StRD linear designs (11 to 82 rows) and the small test designs
# keep the refined answer, elementwise (the estimate is normwise).
ALWAYS_REFINE_ROWS = 1000
# Memory bound of one extended-precision block of the covariance refinement (m rows x k
# right-hand sides): 64 MiB, so a 10^6-row refinement holds a few such arrays, not p.
REFINE_BLOCK_BYTES = 64 * 2**20


@dataclass(frozen=True)
class LstsqFactor:
    """One Householder QR of the data set, reused by every penalised solve on it.

    # B = A T (T: centring from the data rows when there is an intercept, unit column norms),
    # QR of [B, y_c] (n x (p+1), LAPACK, R only), y_c = y - mean(y) with an intercept else y:
    #   [B y_c] = Q [[R, c_c], [0, rho]]   so, exactly,  ||y_c - B z||^2 = ||c_c - R z||^2 + rho^2.
    # With an intercept y = y_c + mean(y) sqrt(n) B[:, 0], hence Q^T y = c = c_c + mean(y) sqrt(n)
    # R[:, 0], and ||y - B z||^2 = ||c - R z||^2 + rho^2.  A penalty diag(L) beta = diag(L) T z
    # adds p rows: every penalised solve is a (2p) x p least-squares problem, O(p^3), whatever n.
    """

    intercept: bool
    T: np.ndarray
    R: np.ndarray
    c: np.ndarray
    rho: float
    y_norm: float  # ||y_c||
    cond: float  # 2-norm condition number of the equilibrated design B

    def solve(self, L: np.ndarray, cov: bool):
        """(beta, rss, cov_unscaled, error estimate) from the factor alone (float64).

        # Refinement rule: the small problem is solved by Householder QR, backward stable for
        # the augmented problem [B; diag(L) T] z ~ [y; 0] (the factor's rounding is a backward
        # error of size ~eps per unit column).  Forward error (Golub & Van Loan, *Matrix
        # Computations*, 4th ed., §5.3.8; Higham §20.1), with kappa = cond of the augmented
        # equilibrated design, r its residual, z the solution, s_max its largest singular value:
        #   ||dz|| / ||z|| <~ c p eps (kappa + kappa^2 ||r|| / (s_max ||z||)),
        # the covariance inv(B^T B) ~ c p eps kappa^2 (both terms are summed, c = 10 as
        # analyses.tolerances.LINALG_C); beta = T z multiplies that by || |T| |z| || / ||beta||
        # (the centring shear: a large column mean times a slope cancels in the intercept);
        # the RSS from rho^2 (rho carries an absolute error ~ c p eps ||y_c||) has relative
        # error ~ c p eps ||y_c|| / ||r||.  The estimate is the larger of the two, normwise
        # (a coefficient much smaller than ||beta|| can have a larger relative error: 1e-11
        # on a 2-coefficient design measured).  Above REFINE_TARGET the caller refines against
        # the rows (``penalised_lstsq``); exact fits (r = 0) and near-singular designs always.
        """
        p = self.R.shape[0]
        pen = np.flatnonzero(L > 0)
        Ra = np.vstack([self.R, L[pen, None] * self.T[pen]]) if pen.size else self.R
        ca = np.concatenate([self.c, np.zeros(pen.size)])
        Qs, Rs = np.linalg.qr(Ra)
        sv = np.linalg.svd(Rs, compute_uv=False)
        if not sv[-1] > 0:
            return None, np.nan, None, np.inf
        kappa = float(sv[0] / sv[-1])
        z = sla.solve_triangular(Rs, Qs.T @ ca, lower=False)
        beta = self.T @ z
        fit_resid = self.c - self.R @ z
        rss = float(fit_resid @ fit_resid + self.rho**2)
        penalty = float(np.sum((L * beta) ** 2))
        r_norm = np.sqrt(rss + penalty)
        z_norm = float(np.linalg.norm(z))
        coef = 10.0 * p * EPS
        tiny = np.finfo(float).tiny
        est = coef * (kappa + kappa**2 * (1.0 + r_norm / (sv[0] * max(z_norm, tiny))))
        # beta = T z: the centring shear can cancel (a large mean times a slope), so the error
        # of z is carried to beta as || |T| |z| || / ||beta||
        est *= float(np.linalg.norm(np.abs(self.T) @ np.abs(z))) / max(
            float(np.linalg.norm(beta)), tiny
        )
        est = max(est, coef * self.y_norm / max(r_norm, tiny))
        cov_unscaled = np.full((p, p), np.nan)
        if cov:
            W = self.T @ sla.solve_triangular(Rs, np.eye(p), lower=False)
            cov_unscaled = W @ W.T
        return beta, rss, cov_unscaled, float(est)


# The last few factors, keyed by the data's bytes (``models.content_cache``): the closed form,
# the exact-fit check and the sweeps of one data set each ask for the same factor (an n-row
# QR).  Only p x p arrays are kept.
_FACTORS = ContentCache(size=4)


def lstsq_factor(A: np.ndarray, y: np.ndarray, *, intercept: bool) -> LstsqFactor:
    """Factor a data set once for ``penalised_lstsq(..., factor=)`` (see ``LstsqFactor``);
    the same bytes of A and y (and ``intercept``) return the cached factor."""
    A = np.ascontiguousarray(A, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    key = digest(A, y, extra=("lstsq_factor", bool(intercept)))
    return _FACTORS.get(key, lambda: _lstsq_factor(A, y, intercept))


def _lstsq_factor(A: np.ndarray, y: np.ndarray, intercept: bool) -> LstsqFactor:
    n, p = A.shape
    T = np.eye(p)
    M = np.empty((n, p + 1))
    M[:, :p] = A
    ybar = float(y.mean()) if intercept else 0.0
    M[:, p] = y - ybar
    if intercept:
        mean = A[:, 1:].mean(axis=0)
        T[0, 1:] = -mean
        M[:, 1:p] -= mean
    norms = np.linalg.norm(M[:, :p], axis=0)
    norms[norms == 0] = 1.0
    T = T / norms
    M[:, :p] /= norms
    y_norm = float(np.linalg.norm(M[:, p]))
    Rq = sla.qr(M, mode="r", overwrite_a=True, check_finite=False)[0]
    del M
    Rf = np.zeros((p + 1, p + 1))
    Rf[: min(n, p + 1)] = Rq[: p + 1]
    R, c, rho = Rf[:p, :p], Rf[:p, p].copy(), float(abs(Rf[p, p]))
    if intercept:
        c += ybar * norms[0] * R[:, 0]  # B[:, 0] = ones / norms[0], norms[0] = sqrt(n)
    sv = np.linalg.svd(R, compute_uv=False)
    cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else float("inf")
    return LstsqFactor(intercept=intercept, T=T, R=R, c=c, rho=rho, y_norm=y_norm, cond=cond)


def penalised_lstsq(
    A: np.ndarray,
    y: np.ndarray,
    L: np.ndarray | None = None,
    *,
    intercept: bool = True,
    max_iter: int = 20,
    cov: bool = True,
    factor: LstsqFactor | None = None,
) -> LstsqResult:
    """Minimise ``||y - A beta||^2 + ||diag(L) beta||^2`` accurately.

    # beta = inv(A^T A + diag(L)^2) A^T y, computed as least squares on [A; diag(L)] ~ [y; 0]

    Parameters
    ----------
    A : (n, p) design; with ``intercept`` its first column must be ones (it is centred away).
    y : (n,) response.
    L : (p,) non-negative penalty square roots (``sigma / tau_j``), or None for OLS.
    factor : ``lstsq_factor(A, y)``, to reuse one QR of the data over many ``L`` (sigma scans).

    Notes
    -----
    Above ALWAYS_REFINE_ROWS rows, first the (2p) x p problem from the data set's one QR
    (``LstsqFactor``): O(p^3) per call.  When its forward-error estimate (rule in
    ``LstsqFactor.solve``) exceeds REFINE_TARGET (badly conditioned designs, exact fits), and
    always up to ALWAYS_REFINE_ROWS rows (the NIST designs), the answer is computed against
    the rows: Householder QR of the column-equilibrated augmented design
    (``precondition``), then Björck's iterative refinement of the augmented system with
    extended-precision residuals, until the correction stops shrinking.  ``cov_unscaled`` is
    ``inv(A^T A + diag(L)^2)``, refined the same way for all p right-hand sides (0, e_j) at once.
    """
    A = np.asarray(A, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, p = A.shape
    if L is None:
        L = np.zeros(p)
    L = np.asarray(L, dtype=np.float64)
    if n <= ALWAYS_REFINE_ROWS:
        return _refined_lstsq(A, y, L, intercept=intercept, max_iter=max_iter, cov=cov)
    if factor is None:
        factor = lstsq_factor(A, y, intercept=intercept)
    beta, rss, cov_unscaled, est = factor.solve(L, cov)
    if est <= REFINE_TARGET:
        return LstsqResult(
            beta=beta,
            rss=rss,
            penalty=float(np.sum((L * beta) ** 2)),
            cov_unscaled=cov_unscaled,
            iterations=0,
            cond=factor.cond,
        )
    return _refined_lstsq(A, y, L, intercept=intercept, max_iter=max_iter, cov=cov)


def _refined_lstsq(A, y, L, *, intercept, max_iter, cov) -> LstsqResult:
    """Householder QR of the equilibrated augmented design and refinement against the rows."""
    n, p = A.shape
    pen_rows = np.flatnonzero(L > 0)
    Aa = np.vstack([A, np.diag(L)[pen_rows]]) if pen_rows.size else A
    ya = np.concatenate([y, np.zeros(pen_rows.size)])
    # Centring is only exact for the data rows, but equilibration is a preconditioner:
    # refinement below converges to the answer of the *original* augmented system.
    pc = _augmented_preconditioner(Aa, intercept, n)
    Q, R, T = pc.Q, pc.R, pc.T
    Aa_ext = Aa.astype(_EXT)
    T_ext = T.astype(_EXT)

    def solve_aug(f, g):
        # Solve [[I, B], [B^T, 0]] [r; z] = [f; g] with B = Aa @ T = Q R (thin; Q is m x p);
        # f (m, k) and g (p, k): k right-hand sides at once.
        h = sla.solve_triangular(R, g, trans="T", lower=False)  # R^T h = g
        d = Q.T @ f
        z = sla.solve_triangular(R, d - h, lower=False)
        r = f - Q @ d + Q @ h  # = (I - Q Q^T) f + Q h
        return r, z

    def refine(f0, g0):
        # f0 (m, k), g0 (p, k); every column refined until the largest correction (relative
        # to its column) stops shrinking
        fe, ge = f0.astype(_EXT), g0.astype(_EXT)
        r, z = solve_aug(f0, g0)
        x = T @ z
        r_e, x_e = r.astype(_EXT), x.astype(_EXT)
        last = np.inf
        it = 0
        while it < max_iter:
            it += 1
            # residuals of the augmented system in extended precision
            rf = fe - r_e - Aa_ext @ x_e
            rg = ge - Aa_ext.T @ r_e
            dr, dz = solve_aug(rf.astype(np.float64), (T_ext.T @ rg).astype(np.float64))
            dx = T @ dz
            r_e += dr
            x_e += dx
            col = np.maximum(np.max(np.abs(x_e), axis=0), np.finfo(float).tiny)
            size = float(np.max(np.max(np.abs(dx), axis=0) / col))
            if size <= EPS or size >= 0.5 * last:
                break
            last = size
        return np.asarray(x_e, dtype=np.float64), it

    beta, iters = refine(ya[:, None], np.zeros((p, 1)))
    beta = beta[:, 0]
    cov_unscaled = np.full((p, p), np.nan)
    if cov:
        # right-hand sides (0, e_j) in blocks: each extended-precision m x k array at most
        # REFINE_BLOCK_BYTES (all p at once up to ~10^5 rows)
        k = max(1, REFINE_BLOCK_BYTES // (16 * ya.size))
        for j0 in range(0, p, k):
            j1 = min(p, j0 + k)
            cov_unscaled[:, j0:j1], _ = refine(np.zeros((ya.size, j1 - j0)), -np.eye(p)[:, j0:j1])
        cov_unscaled = 0.5 * (cov_unscaled + cov_unscaled.T)
    resid = _ext_residual(A, beta, y)
    rss = float(np.sum(resid * resid))
    penalty = float(np.sum((L * beta) ** 2))
    return LstsqResult(
        beta=beta,
        rss=rss,
        penalty=penalty,
        cov_unscaled=cov_unscaled,
        iterations=iters,
        cond=pc.cond,
    )


def _augmented_preconditioner(Aa, intercept, n):
    """Equilibrate (centring from the first ``n`` data rows only) and QR the augmented design."""
    m, p = Aa.shape
    T = np.eye(p)
    if intercept:
        mean = Aa[:n, 1:].mean(axis=0)
        T[0, 1:] = -mean
    B = Aa @ T
    norms = np.linalg.norm(B, axis=0)
    norms[norms == 0] = 1.0
    T = T / norms
    B = B / norms
    Q, R = np.linalg.qr(B)
    sv = np.linalg.svd(R, compute_uv=False)
    cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else float("inf")
    return Preconditioner(Q=Q, M=np.empty((0, 0)), R=R, T=T, cond=cond)


def is_exact_fit(rss: float, y: np.ndarray) -> bool:
    """RSS at rounding level: the residuals are float64 noise (NIST Wampler1/2 style data)."""
    y = np.asarray(y, dtype=np.float64)
    return bool(rss <= (y.size * EPS) ** 2 * float(y @ y))


def sigma_mode(rss: float, n: int, sigma_prior_scale: float | None) -> float:
    """Maximiser over sigma of  -n log(sigma) - rss / (2 sigma^2) + log p(sigma), no Jacobian.

    # HalfFlat:          sigma^2 = rss / n                              (the MLE)
    # HalfNormal(S):     sigma^4 / S^2 + n sigma^2 - rss = 0
    #                    => sigma^2 = S^2 (sqrt(n^2 + 4 rss / S^2) - n) / 2

    This is what ``pm.find_MAP`` optimises: its objective is ``-model.logp(jacobian=False)``.
    """
    if sigma_prior_scale is None:
        return float(np.sqrt(rss / n))
    S2 = sigma_prior_scale**2
    # (sqrt(n^2 + 4 rss/S^2) - n) / 2 written without cancellation
    q = 2.0 * rss / S2 / (np.sqrt(n * n + 4.0 * rss / S2) + n)
    return float(np.sqrt(S2 * q))


@dataclass(frozen=True)
class PointEstimate:
    """A closed-form mode: coefficients, sigma and, for OLS, classical standard errors."""

    beta: np.ndarray
    sigma: float
    rss: float
    alpha: np.ndarray  # the ridge penalty per coefficient actually used: sigma^2 / tau_j^2
    se: np.ndarray | None  # classical s.e. sqrt(s^2 diag(inv(A^T A))), s^2 = RSS/(n-p)
    cov_unscaled: np.ndarray
    cond: float
    iterations: int
    # unknown sigma with Gaussian priors: every local joint mode found, as (sigma, objective);
    # the reported one is the global minimum of the objective (the joint posterior can be
    # bimodal: a small-sigma mode near the data and a large-sigma mode near beta = 0)
    modes: tuple = ()


def ols(A: np.ndarray, y: np.ndarray, *, intercept: bool) -> PointEstimate:
    """Ordinary least squares with classical standard errors.

    # beta = argmin ||y - A beta||^2;  s^2 = RSS / (n - p);  se = sqrt(s^2 diag(inv(A^T A)))
    # sigma returned is the MLE sqrt(RSS / n) (flat prior, HalfFlat sigma, no Jacobian)
    """
    n, p = A.shape
    res = penalised_lstsq(A, y, intercept=intercept)
    s2 = res.rss / (n - p)
    se = np.sqrt(s2 * np.diag(res.cov_unscaled))
    return PointEstimate(
        beta=res.beta,
        sigma=float(np.sqrt(res.rss / n)),
        rss=res.rss,
        alpha=np.zeros(p),
        se=se,
        cov_unscaled=res.cov_unscaled,
        cond=res.cond,
        iterations=res.iterations,
    )


def map_estimate(
    A: np.ndarray,
    y: np.ndarray,
    prior_scales: np.ndarray,
    *,
    intercept: bool,
    sigma_known: float | None = None,
    sigma_prior_scale: float | None = None,
    max_iter: int = 500,
) -> PointEstimate:
    """Posterior mode with independent N(0, tau_j^2) priors (``inf`` = flat) on ``beta``.

    # known sigma:   beta = argmin ||y - A beta||^2 + sum_j alpha_j beta_j^2,
    #                alpha_j = sigma^2 / tau_j^2                              (ridge)
    # unknown sigma: the joint mode of  n log(sigma) + ||y - A beta||^2 / (2 sigma^2)
    #                + sum_j beta_j^2 / (2 tau_j^2) - log p(sigma)   (no Jacobian, as find_MAP)
    #                is ridge with alpha_j = sigma*^2 / tau_j^2 at the mode sigma*, where sigma*
    #                solves sigma = sigma_mode(RSS(beta_ridge(sigma))).  RSS(beta_ridge(s)) grows
    #                with s from RSS_OLS towards RSS of the unpenalised columns alone, so the root
    #                is bracketed by the two sigma_modes.  The gap s - sigma_mode(RSS(s)) can
    #                change sign more than once (two joint modes and a saddle between): it is
    #                scanned on a log grid, every upward crossing (a local minimum of the
    #                profile objective) is polished by Brent's method to machine precision, and
    #                the one with the smallest objective is the mode.
    """
    tau = np.asarray(prior_scales, dtype=np.float64)
    inv_tau = np.where(np.isfinite(tau), 1.0 / tau, 0.0)
    n = A.shape[0]
    modes: tuple = ()
    fac = lstsq_factor(A, y, intercept=intercept)  # one QR of the data for every sigma
    if sigma_known is not None:
        sigma = float(sigma_known)
    else:

        def fit_at(s):
            return penalised_lstsq(A, y, s * inv_tau, intercept=intercept, cov=False, factor=fac)

        def gap(s):
            return s - sigma_mode(fit_at(s).rss, n, sigma_prior_scale)

        def objective(s):  # the joint objective profiled over beta (find_MAP's, no Jacobian)
            r = fit_at(s)
            pen = 0.5 * float(np.sum((inv_tau * r.beta) ** 2))
            prior = 0.0 if sigma_prior_scale is None else 0.5 * (s / sigma_prior_scale) ** 2
            return n * np.log(s) + r.rss / (2 * s * s) + pen + prior

        lo = sigma_mode(fit_at(0.0).rss, n, sigma_prior_scale)
        free = inv_tau == 0
        rss_hi = (
            penalised_lstsq(A[:, free], y, intercept=intercept and free[0], cov=False).rss
            if free.any()
            else float(y @ y)
        )
        hi = sigma_mode(rss_hi, n, sigma_prior_scale)
        if not hi > lo or lo <= 0.0:
            # lo = 0: exact fit, the objective falls without bound as sigma -> 0 (no mode);
            # the caller reports that (is_exact_fit)
            sigma = lo
        else:
            grid = np.geomspace(lo, hi, SIGMA_SCAN_POINTS)
            gaps = np.array([gap(s) for s in grid])
            roots = [lo] if gaps[0] >= 0 else []
            for a, b, ga, gb in zip(grid[:-1], grid[1:], gaps[:-1], gaps[1:], strict=True):
                if ga < 0 <= gb:
                    roots.append(
                        optimize.brentq(gap, a, b, xtol=1e-300, rtol=4 * EPS, maxiter=max_iter)
                    )
            if gaps[-1] <= 0:
                roots.append(hi)
            found = [(float(r), float(objective(r))) for r in roots]
            sigma = min(found, key=lambda m: m[1])[0]
            modes = tuple(found)
    res = penalised_lstsq(A, y, sigma * inv_tau, intercept=intercept, factor=fac)
    return PointEstimate(
        beta=res.beta,
        sigma=sigma,
        rss=res.rss,
        alpha=(sigma * inv_tau) ** 2,
        se=None,
        cov_unscaled=res.cov_unscaled,
        cond=res.cond,
        iterations=res.iterations,
        modes=modes,
    )


def _log_gamma_ratio_half(a: float) -> float:
    """delta(a) = log Gamma(a - 1/2) - log Gamma(a) + log(a) / 2, to full relative precision.

    # delta ~ 3/(8a) is small: from ``gammaln`` differences it carries an absolute error of
    # eps * log Gamma(a) ~ eps * a log a (all digits lost by a ~ 1e13, 1e-9 relative at 1e3).
    # For a >= 10 the asymptotic expansion of a ratio of Gamma functions (Tricomi & Erdelyi
    # 1951; DLMF 5.11.13 in logarithmic form)
    #   log Gamma(a + x) - log Gamma(a + y) ~ (x - y) log a
    #       + sum_k (-1)^(k+1) (B_{k+1}(x) - B_{k+1}(y)) / (k (k+1) a^k)
    # with x = -1/2, y = 0 and B_m(-1/2) - B_m(0) = (2^(1-m) - 2) B_m - m (-1/2)^(m-1)
    # (from B_m(1/2) = (2^(1-m) - 1) B_m and B_m(x + 1) - B_m(x) = m x^(m-1)).
    # 16 terms: below 1e-16 relative for a >= 10 (the terms shrink like k!/(2 pi a)^k).
    """
    if a < 10.0:
        return float(special.gammaln(a - 0.5) - special.gammaln(a) + 0.5 * np.log(a))
    return float(np.polynomial.polynomial.polyval(1.0 / a, _HALF_RATIO_COEF))


def _half_ratio_coefficients(terms: int = 16) -> np.ndarray:
    m = np.arange(2, terms + 2)
    bern = special.bernoulli(terms + 1)[2:]
    diff = (2.0 ** (1 - m) - 2.0) * bern - m * (-0.5) ** (m - 1)
    k = m - 1
    return np.r_[0.0, (-1.0) ** (k + 1) * diff / (k * (k + 1))]


_HALF_RATIO_COEF = _half_ratio_coefficients()


def multivariate_t_posterior(A: np.ndarray, y: np.ndarray, *, intercept: bool) -> dict:
    """Exact posterior for flat coefficients and a HalfFlat sigma, in closed form.

    # p(beta, sigma | y) ∝ sigma^-n exp(-S(beta) / (2 sigma^2)),  p(sigma) ∝ 1 on sigma > 0,
    # S(beta) = RSS + (beta - b)^T A^T A (beta - b),  b = OLS.
    # Integrating sigma out:  p(beta | y) ∝ S(beta)^(-(n-1)/2)
    #   = multivariate t, nu = n - p - 1 degrees of freedom (a Jeffreys 1/sigma prior would
    #     give n - p), location b, scale matrix RSS / nu * inv(A^T A),
    #     covariance RSS / (nu - 2) * inv(A^T A) = RSS / (n - p - 3) * inv(A^T A).
    # sigma^2 | y ~ InvGamma(shape a = (n - p - 1) / 2, scale RSS / 2), so
    #   E[sigma] = sqrt(RSS / 2) Gamma(a - 1/2) / Gamma(a),  E[sigma^2] = RSS / (n - p - 3).

    Returns mean/sd of beta and sigma and ``nu``; needs n - p > 3 for finite variances.
    """
    n, p = A.shape
    nu = n - p - 1
    if nu <= 2:
        raise ValueError(f"posterior variance is infinite: n - p - 1 = {nu} <= 2")
    fit = ols(A, y, intercept=intercept)
    cov = fit.rss / (nu - 2) * fit.cov_unscaled
    e_sigma, sd_sigma = inverse_gamma_sigma_moments(fit.rss, nu)
    return {
        "beta_mean": fit.beta,
        "beta_sd": np.sqrt(np.diag(cov)),
        "sigma_mean": e_sigma,
        "sigma_sd": sd_sigma,
        "nu": nu,
    }


def inverse_gamma_sigma_moments(rss: float, nu: int) -> tuple[float, float]:
    """Mean and sd of sigma when sigma^2 ~ InvGamma(nu / 2, rss / 2) (needs nu > 2).

    # With a = nu / 2, b = RSS / 2 and delta = log Gamma(a - 1/2) - log Gamma(a) + log(a) / 2:
    #   E[sigma] = sqrt(b / a) exp(delta),
    #   Var[sigma] = b / (a - 1) - E[sigma]^2 = b / (a - 1) * (1 - exp(q)),
    #   q = 2 delta + log(1 - 1/a) ~ -1/(4a),
    # computed as -expm1(q): the difference of the two moments (~1/(4a) of each) would lose
    # log10(4a) digits, and delta from a difference of gammaln values all of them at large a.
    """
    a, b = nu / 2.0, rss / 2.0
    delta = _log_gamma_ratio_half(a)
    e_sigma = np.sqrt(b / a) * np.exp(delta)
    var_sigma = b / (a - 1.0) * -np.expm1(2.0 * delta + np.log1p(-1.0 / a))
    return float(e_sigma), float(np.sqrt(var_sigma))


# Trapezoid convergence check: the moments on every other grid point (step 2h) must agree with
# those on the full grid (step h) to this fraction of the sd.  For an integrand analytic in a
# strip the trapezoid error falls like exp(-c / h), so an error of 1e-6 at 2h means about 1e-12
# at h; the grid is doubled (up to QUADRATURE_MAX_DOUBLINGS times) until it holds.
QUADRATURE_CHECK = 1e-6
QUADRATURE_MAX_DOUBLINGS = 4
# The grid covers the log sigma values where the log density is within this many nats of its
# peak (e^-60 ~ 1e-26 of the peak density is left out on each side).
QUADRATURE_NATS = 60.0


def _trapezoid_weights(lp: np.ndarray) -> np.ndarray:
    """Normalised trapezoid weights on an even grid from log density values."""
    w = np.exp(lp - lp.max())
    w[0] *= 0.5
    w[-1] *= 0.5
    return w / w.sum()


def _sigma_moments(w: np.ndarray, delta: np.ndarray) -> tuple[float, float]:
    """Mean and sd of sigma / sigma0 = exp(delta) under weights ``w``, centred (no E[x^2] - E[x]^2).

    # t = exp(delta) - 1 (expm1: exact near the mode); mean = 1 + sum w t;
    # var = sum w (t - sum w t)^2.
    """
    t = np.expm1(delta)
    mt = float(w @ t)
    return 1.0 + mt, float(np.sqrt(w @ (t - mt) ** 2))


# The quadrature's own QR of one data set, shared by its calls under every prior (not with
# ``lstsq_factor``: the exact posterior stays independent of the closed form it is compared
# with).  Small arrays only.
_QUADRATURE_BASES = ContentCache(size=4)


def _quadrature_basis(A: np.ndarray, y: np.ndarray) -> tuple:
    """``(intercept, col, R, Q'y, RSS0)`` of the column-scaled design ``A / col = Q R``: RSS0
    is the squared norm of the residual of y's projection on the column space, centred first
    when the ones column is in it, projected out a second time (Gram-Schmidt "twice is
    enough"), not y'y - c'c, which cancels when the fit is good."""

    def make():
        intercept = bool(np.all(A[:, 0] == 1.0))
        col = np.linalg.norm(A, axis=0)
        col[col == 0] = 1.0
        Q, R = np.linalg.qr(A / col)
        r = y - y.mean() if intercept else y.copy()
        r -= Q @ (Q.T @ r)
        r -= Q @ (Q.T @ r)
        return intercept, col, R, Q.T @ y, float(r @ r)

    return _QUADRATURE_BASES.get(digest(A, y, extra=("quadrature basis",)), make)


def gaussian_posterior_by_quadrature(
    A: np.ndarray,
    y: np.ndarray,
    prior_scales: np.ndarray,
    *,
    sigma_known: float | None = None,
    sigma_prior_scale: float | None = None,
    sigma_prior: str = "halfflat",
    n_grid: int = 4001,
    path_step: float = 0.25,
    beta: bool = True,
) -> dict:
    """Exact posterior moments of (beta, sigma), any mix of flat and N(0, tau_j^2) priors.

    # Given sigma, beta | sigma, y is Gaussian (conjugate):
    #   H(sigma) = A^T A / sigma^2 + P,  P = diag(1 / tau_j^2)  (0 for flat),
    #   E[beta | sigma] = inv(H) A^T y / sigma^2,  Cov[beta | sigma] = inv(H).
    # Integrating beta out leaves a one-dimensional density for sigma:
    #   log p(sigma | y) = log p(sigma) - n log sigma - 1/2 log|H(sigma)| - 1/2 S_min(sigma) + c,
    #   S_min(sigma) = min_beta ||y - A beta||^2 / sigma^2 + beta^T P beta.
    # Computed in the QR basis A = Q R0: with G = inv(R0)^T P inv(R0) = V diag(g) V^T and
    # d = V^T Q^T y, everything is diagonal: log|H| = 2 log|R0| + sum log(1/sigma^2 + g_i),
    # S_min = RSS0 / sigma^2 + sum d_i^2 g_i / (1 + sigma^2 g_i).  In u = log sigma (with the
    # Jacobian sigma) and x = sigma^2 = exp(2u), m = n - p - 1:
    #   l(u) = -m u - 1/2 sum log(1 + g_i x) - RSS0 / (2x) - 1/2 sum d_i^2 g_i / (1 + g_i x)
    #          [- x / (2 S^2) for a HalfNormal(S) sigma].
    #
    # Integration on the scale where the integrand is well conditioned: the mode u0 of l is
    # found by safeguarded Newton steps, s = 1/sqrt(-l''(u0)) is the curvature scale (~1/sqrt(2n)
    # for large n), and the trapezoid rule runs on an even grid in z = (u - u0)/s over the range
    # where l is within QUADRATURE_NATS of its peak.  l(u0 + s z) - l(u0) is evaluated in
    # differences (expm1/log1p), never as a difference of two values of size ~n, and the moments
    # are centred (no E[x^2] - E[x]^2).  The grid is doubled until the moments on every other
    # point agree (QUADRATURE_CHECK).  RSS0 is the squared norm of the residual projected out
    # twice (not y'y - c'c, which cancels when the fit is good).  Moments of beta follow from
    # the laws of total expectation and variance, the variance centred.  With known sigma the
    # grid is that one point.  ``beta=False`` returns the moments of sigma only (beta's NaN).
    """
    A = np.asarray(A, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, p = A.shape
    tau = np.asarray(prior_scales, dtype=np.float64)
    prec = np.where(np.isfinite(tau), 1.0 / tau**2, 0.0)
    intercept, col, R, Qty, rss0 = _quadrature_basis(A, y)
    R0inv = sla.solve_triangular(R, np.eye(p)) / col[:, None]  # inv(R0), R0 = R diag(col)
    G = R0inv.T @ (prec[:, None] * R0inv)
    g, V = np.linalg.eigh(0.5 * (G + G.T))
    g = np.clip(g, 0.0, None)
    d = V.T @ Qty
    n_flat = int(np.sum(prec == 0))
    m = n - p - 1
    halfnormal = sigma_prior == "halfnormal"
    inv_s2 = 1.0 / sigma_prior_scale**2 if halfnormal else 0.0

    def rel_log_post(delta, u0):
        """l(u0 + delta) - l(u0) for an array of delta, in differences."""
        x0 = np.exp(2.0 * u0)
        gx0 = g * x0
        e2 = np.expm1(2.0 * delta)[:, None]  # x / x0 - 1
        out = -m * delta - 0.5 * rss0 / x0 * np.expm1(-2.0 * delta)
        out -= 0.5 * np.sum(np.log1p(gx0 / (1.0 + gx0) * e2), axis=1)
        out += 0.5 * np.sum(d**2 * g * gx0 * e2 / ((1.0 + gx0 * (1.0 + e2)) * (1.0 + gx0)), axis=1)
        return out - 0.5 * x0 * inv_s2 * e2[:, 0]

    def derivatives(u):
        """l'(u), l''(u)."""
        x = np.exp(2.0 * u)
        gx = g * x
        d1 = -m - np.sum(gx / (1 + gx)) + rss0 / x + np.sum(d**2 * g * gx / (1 + gx) ** 2)
        d1 -= x * inv_s2
        d2 = -np.sum(2 * gx / (1 + gx) ** 2) - 2 * rss0 / x - 2 * x * inv_s2
        d2 += np.sum(2 * d**2 * g * gx * (1 - gx) / (1 + gx) ** 3)
        return float(d1), float(d2)

    if sigma_known is not None:
        u0, scale = float(np.log(sigma_known)), 1.0
        delta = np.zeros(1)
        w = np.ones(1)
        doublings, check = 0, 0.0
    else:
        if sigma_prior == "halfflat" and n - n_flat - 1 <= 0 and rss0 == 0:
            raise ValueError("posterior of sigma is improper")
        start = 0.5 * np.log(max(rss0, EPS * float(y @ y), np.finfo(float).tiny) / max(m, 1))
        u0, scale = _log_sigma_mode(rel_log_post, derivatives, start)
        lo, hi = _nats_range(rel_log_post, u0, scale)
        points = n_grid
        for doublings in range(QUADRATURE_MAX_DOUBLINGS + 1):  # noqa: B007
            delta = scale * np.linspace(lo, hi, points)
            w = _trapezoid_weights(rel_log_post(delta, u0))
            mean_h, sd_h = _sigma_moments(w, delta)
            mean_2h, sd_2h = _sigma_moments(
                _trapezoid_weights(rel_log_post(delta[::2], u0)), delta[::2]
            )
            check = max(abs(mean_h - mean_2h), abs(sd_h - sd_2h)) / sd_h
            if check <= QUADRATURE_CHECK:
                break
            points = 2 * points - 1
        else:
            raise ValueError(
                f"quadrature over sigma did not converge: step-2h moments differ by {check:.1e} sd"
            )
    sig0 = float(np.exp(u0))
    mean_rel, sd_rel = _sigma_moments(w, delta)
    s_mean, s_sd = sig0 * mean_rel, sig0 * sd_rel
    e_sigma2 = s_sd**2 + s_mean**2
    path = ""
    if not beta:  # sigma only (no solves beyond the QR)
        mean = var = np.full(p, np.nan)
    elif n_flat == p:
        # Flat prior: E[beta | sigma, y] = OLS for every sigma, Cov = sigma^2 inv(A^T A), so
        # E[beta | y] = OLS and Var = E[sigma^2] diag(inv(A^T A)): refined, no quadrature error.
        fit = penalised_lstsq(A, y, intercept=intercept)
        mean = fit.beta
        var = e_sigma2 * np.diag(fit.cov_unscaled)
    else:
        mean, var, path = _ridge_path_moments(
            A, y, prec, intercept, R0inv @ V, g, d, sig0, delta, w, scale, path_step, rel_log_post
        )
    return {
        "beta_mean": mean,
        "beta_sd": np.sqrt(var),
        "sigma_mean": s_mean,
        "sigma_sd": s_sd,
        "grid_points": int(delta.size),
        "log_sigma_mode": u0,
        "log_sigma_scale": scale,
        "grid_doublings": doublings,
        "grid_check": check,
        "beta_path": path if n_flat < p else "flat prior: OLS at every sigma",
    }


# A path of E[beta | sigma] from the QR basis, anchored on a refined solve at the mode, is
# accepted when it matches refined solves at +-3 curvature scales to this fraction of the
# posterior sd of beta (a tenth of the quadrature tier, analyses.tolerances.QUADRATURE_RTOL).
PATH_CHECK = 1e-9


def _ridge_path_moments(A, y, prec, intercept, W, g, d, sig0, delta, w, scale, step, rel_log_post):
    """Posterior mean and variance of beta over the sigma grid (laws of total expectation and
    of total variance, centred), and how the path E[beta | sigma] was computed.

    # E[beta | sigma] = W diag(1 / (1 + sigma^2 g)) d   (W = inv(R0) V, the QR basis)
    # Cov[beta | sigma] diag = (W^2) (sigma^2 / (1 + sigma^2 g))
    # The basis formula carries a relative error ~ eps * cond(A); the path used is a refined
    # solve at the mode plus the basis formula's change from the mode, which is exact in
    # exact arithmetic and small where the posterior of sigma is narrow (large n).  Two more
    # refined solves (z = -3, +3) check it; if they differ by more than PATH_CHECK sd, refined
    # solves on a grid of step ``step`` curvature scales are used instead (trapezoid).
    """
    root_prec = np.sqrt(prec)
    fac = lstsq_factor(A, y, intercept=intercept)  # one QR of the data for every sigma

    def refined(dl):
        L = sig0 * np.exp(dl) * root_prec
        return penalised_lstsq(A, y, L, intercept=intercept, cov=False, factor=fac).beta

    def cond_var(dl):
        s2 = (sig0 * np.exp(dl)[:, None]) ** 2
        return (s2 / (1.0 + s2 * g)) @ (W**2).T

    def moments(wt, dl, beta_path):
        mean = wt @ beta_path
        return mean, wt @ (cond_var(dl) + (beta_path - mean) ** 2)

    if delta.size == 1:  # known sigma
        beta = refined(delta)[None, :]
        mean, var = moments(w, delta, beta)
        return mean, var, "refined solve"
    s2 = (sig0 * np.exp(delta)[:, None]) ** 2
    basis = (d / (1.0 + s2 * g)) @ W.T
    i0 = int(np.argmin(np.abs(delta)))
    path = refined(delta[i0]) + (basis - basis[i0])
    mean, var = moments(w, delta, path)
    sd = np.sqrt(var)
    checks = [
        np.max(np.abs(refined(delta[i]) - path[i]) / sd)
        for i in np.searchsorted(delta, [-3 * scale, 3 * scale]).clip(0, delta.size - 1)
    ]
    if max(checks) <= PATH_CHECK:
        return mean, var, f"QR basis anchored at the mode (checked: {max(checks):.1e} sd)"
    k = max(int(np.ceil((delta[-1] - delta[0]) / scale / step)), 2)
    coarse = np.linspace(delta[0], delta[-1], k + 1)
    wc = _trapezoid_weights(rel_log_post(coarse, np.log(sig0)))
    mean, var = moments(wc, coarse, np.array([refined(c) for c in coarse]))
    return mean, var, f"refined solves at {k + 1} points"


def _log_sigma_mode(rel_log_post, derivatives, start: float, max_iter: int = 200):
    """Mode u0 of the log-sigma density and its curvature scale 1/sqrt(-l''(u0)).

    Newton steps -l'/l'' where l'' < 0 (else a unit step uphill), halved until l increases;
    stops when the step is below 1e-12 curvature scales.  A mode running off by more than 200
    in log sigma means an improper posterior.
    """
    u = start
    for _ in range(max_iter):
        d1, d2 = derivatives(u)
        step = -d1 / d2 if d2 < 0 else np.sign(d1)
        if d2 < 0 and abs(step) <= 1e-12 / np.sqrt(-d2):
            return u, 1.0 / np.sqrt(-d2)
        step = float(np.clip(step, -1.0, 1.0))
        for _ in range(60):
            if rel_log_post(np.array([step]), u)[0] >= 0:
                break
            step *= 0.5
        u += step
        if u - start < -200:
            raise ValueError("posterior of sigma is improper at 0 (the data are fitted exactly)")
        if u - start > 200:
            raise ValueError("posterior of sigma is improper or too heavy-tailed")
    d1, d2 = derivatives(u)
    if not d2 < 0:
        raise ValueError("no mode of the posterior of sigma found")
    return u, 1.0 / np.sqrt(-d2)


def _nats_range(rel_log_post, u0: float, scale: float):
    """Bounds (in curvature scales from u0) where l is QUADRATURE_NATS below its peak.

    Upwards the bound is where l(u) + 2 (u - u0) is, so that the integrand of E[sigma^2] (the
    heaviest moment used) is as negligible as the density: with few degrees of freedom the
    tail of l falls only like -m u (m = 3: 60 nats of density leave 2e-9 of E[sigma^2]).
    Steps outwards of max(1, |z|/4) scales (a heavy tail is reached in few steps), tracking
    the peak (another, higher mode found on the way raises the bar).
    """
    bounds = []
    peak = 0.0
    for sign in (-1.0, 1.0):
        z = 0.0
        while True:
            z += sign * max(1.0, abs(z) / 4)
            density = rel_log_post(np.array([scale * z]), u0)[0]
            peak = max(peak, density)
            if density + max(2.0 * scale * z, 0.0) < peak - QUADRATURE_NATS:
                break
            if abs(scale * z) > 200:
                if sign < 0:
                    raise ValueError(
                        "posterior of sigma is improper at 0 (the data are fitted exactly)"
                    )
                if density < peak - QUADRATURE_NATS:  # proper, but sigma^2 has no mean
                    raise ValueError(
                        "posterior variance is infinite: the tail of sigma is too heavy "
                        "(needs n - (flat coefficients) - 1 > 2, or a HalfNormal sigma)"
                    )
                raise ValueError("posterior of sigma is improper or too heavy-tailed")
        bounds.append(z)
    return bounds[0], bounds[1]


def newton_iterate(f, score_info, x0, step_tol: float, max_iter: int):
    """Newton steps x <- x + t I^-1 U from ``x0`` (``score_info(x) = (U, I)``: score and
    information of the objective ``f`` to minimise), t halved until f does not increase.

    Stops when the step still to go, in sds sqrt(diag I^-1), is at most ``step_tol``, or when
    it stops shrinking below 1e-6 (the gradient's rounding floor).  Returns
    ``(x, steps, converged, iterations)``, ``steps`` the scaled step sizes measured."""
    x = np.asarray(x0, dtype=float)
    fval = f(x)
    steps: list[float] = []
    best, converged, it = np.inf, False, 0
    while it < max_iter:
        it += 1
        g, info = score_info(x)
        cov = np.linalg.inv(info)
        step = cov @ g
        size = float(np.max(np.abs(step) / np.sqrt(np.diag(cov))))
        steps.append(size)
        if size <= step_tol:
            converged = True
            break
        if size >= best and best < 1e-6:
            converged = best <= step_tol
            break  # stopped shrinking: the rounding floor of the gradient
        best = min(best, size)
        t = 1.0
        while True:
            new = x + t * step
            fnew = f(new)
            if np.isfinite(fnew) and fnew <= fval + 1e-12 * abs(fval):
                break
            t *= 0.5
            if t < 1e-10:
                break
        x, fval = new, fnew
    return x, steps, converged, it
