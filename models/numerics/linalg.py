"""Least squares and ridge by QR with refinement: pure NumPy/SciPy (the Gaussian closed forms
built on them: ``gaussian_closed_forms``; the posterior over σ: ``sigma_quadrature``).

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

from nll_losses.models.content_cache import ContentCache, digest

EPS = np.finfo(np.float64).eps
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
