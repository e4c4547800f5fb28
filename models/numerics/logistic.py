"""Bernoulli likelihood with a logit link in pure NumPy/SciPy: stable losses, a Newton solver
for the MLE, the L2 MAP and Firth's estimate, separation detection, and importance sampling
of the posterior.  No PyMC here: these are the independent references.

Objectives (``A`` = [1, X], ``z = A beta`` the logits, ``y`` in {0, 1})::

    NLL(beta)      = sum_i softplus(z_i) - y_i z_i          (= n * sklearn log_loss = BCE sum)
    flat (MLE):      minimise NLL
    gaussian (MAP):  minimise NLL + 1/2 sum_j beta_j^2 / tau_j^2        (L2, C = tau^2)
    jeffreys (Firth):minimise NLL - 1/2 log det(A' W A),  W = diag(p (1 - p))

``softplus(z) = log(1 + e^z)`` is evaluated as ``logaddexp(0, z)``: no overflow at |z| ~ 1e3.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import linalg as sla
from scipy.optimize import linprog
from scipy.special import expit

from nll_losses.models.numerics import linalg as la
from nll_losses.models.numerics.newton_steps import newton_iterate
from nll_losses.models.numerics.recession import FEASIBILITY_TOL, recession_direction

EPS = np.finfo(np.float64).eps
NEWTON_STEP_TOL = 1e-10  # accept when the Newton step still to go is <= this many sds
NEWTON_MAX_ITER = 200
# entries (float64) per temporary block of draws x rows in importance sampling: 64 MiB
BLOCK_ELEMENTS = 2**23


# ----------------------------------------------------------------------------- losses
def bce_from_logits(y: np.ndarray, z: np.ndarray) -> float:
    """sum_i softplus(z_i) - y_i z_i: the binary cross-entropy summed, from logits, stable."""
    z = np.asarray(z, dtype=float)
    return float(np.sum(np.logaddexp(0.0, z) - np.asarray(y, float) * z))


def nll_pmf(y: np.ndarray, z: np.ndarray) -> float:
    """-sum_i log p(y_i) straight from the Bernoulli pmf, log p = y log p + (1-y) log(1-p),
    with log p = log expit(z) = -softplus(-z) (no 0 * log 0 and no overflow)."""
    z = np.asarray(z, dtype=float)
    y = np.asarray(y, float)
    log_p = -np.logaddexp(0.0, -z)
    log_q = -np.logaddexp(0.0, z)
    return float(-np.sum(np.where(y == 1, log_p, 0.0) + np.where(y == 0, log_q, 0.0)))


def prior_penalty(beta: np.ndarray, precision: np.ndarray) -> float:
    """1/2 sum_j precision_j beta_j^2 (precision 0 = flat)."""
    return float(0.5 * np.sum(precision * np.asarray(beta) ** 2))


def jeffreys_logdet(A: np.ndarray, z: np.ndarray) -> float:
    """log det(A' W A), W = diag(p(1-p)); -inf when it is singular."""
    w = _weights(z)
    sign, logdet = np.linalg.slogdet((A * w[:, None]).T @ A)
    return float(logdet) if sign > 0 else -np.inf


def _weights(z):
    # p (1 - p) = expit(z) expit(-z): no cancellation for large |z|
    return expit(z) * expit(-z)


def objective(A, y, beta, precision, firth: bool) -> float:
    """The negative log posterior (up to a constant) minimised by ``newton``."""
    z = A @ beta
    out = bce_from_logits(y, z) + prior_penalty(beta, precision)
    if firth:
        out -= 0.5 * jeffreys_logdet(A, z)
    return out


# ----------------------------------------------------------------------------- Newton / IRLS
@dataclass
class NewtonResult:
    beta: np.ndarray
    cov: np.ndarray  # inverse of the (penalised) Fisher information at beta
    objective: float
    iterations: int
    converged: bool
    scaled_step: float  # the Newton step still to go, in sds (max_j |step_j| / sd_j)
    steps: list[float] = field(default_factory=list)


def newton(
    A: np.ndarray,
    y: np.ndarray,
    precision: np.ndarray | None = None,
    *,
    firth: bool = False,
    step_tol: float = NEWTON_STEP_TOL,
    max_iter: int = NEWTON_MAX_ITER,
    intercept: bool | None = None,
) -> NewtonResult:
    """Newton-Raphson (= IRLS) from beta = 0 with step halving on the objective.

    Score and information: U = A'(y - p) - P beta, I = A'WA + P (P = diag(precision)).
    Firth: the modified score U* = A'(y - p + h (1/2 - p)), h the diagonal of the hat matrix
    W^1/2 A (A'WA)^-1 A' W^1/2 (Firth 1993; Heinze & Schemper 2002), with step I^-1 U*
    (as R's logistf).  Converged when the Newton step still to go, in units of the sds
    sqrt(diag I^-1), is at most ``step_tol`` -- or stops shrinking below sqrt(eps)-level,
    its rounding floor.  The solve runs in an orthonormal basis of the centred, scaled design
    (``A M = Q``), so its accuracy does not degrade with the conditioning of ``A``.
    """
    A = np.asarray(A, float)
    y = np.asarray(y, float)
    n, p = A.shape
    prec = np.zeros(p) if precision is None else np.asarray(precision, float)
    if intercept is None:  # column 0 of ones = an intercept (centred basis)
        intercept = p > 0 and bool(np.all(A[:, 0] == 1.0))
    pre = la.precondition(A, intercept)
    Q, M = pre.Q, pre.M
    P = M.T @ (prec[:, None] * M)  # the penalty in the basis: beta' diag(prec) beta

    def f(phi):
        return (
            objective(Q, y, phi, np.zeros(p), False)
            + 0.5 * phi @ P @ phi
            - (0.5 * jeffreys_logdet(Q, Q @ phi) if firth else 0.0)
        )

    def score_info(phi):
        z = Q @ phi
        mu = expit(z)
        w = _weights(z)
        info = (Q * w[:, None]).T @ Q + P
        resid = y - mu
        if firth:
            fisher = (Q * w[:, None]).T @ Q
            c = sla.cho_factor(fisher)
            G = sla.cho_solve(c, (Q * np.sqrt(w)[:, None]).T)  # (p, n)
            h = np.einsum("ij,ji->i", Q * np.sqrt(w)[:, None], G)
            resid = resid + h * (0.5 - mu)
        return Q.T @ resid - P @ phi, info

    phi, steps, converged, it = newton_iterate(f, score_info, np.zeros(p), step_tol, max_iter)
    beta = M @ phi
    cov_beta = M @ np.linalg.inv(score_info(phi)[1]) @ M.T
    return NewtonResult(
        beta=beta,
        cov=cov_beta,
        objective=objective(A, y, beta, prec, firth),
        iterations=it,
        converged=converged,
        scaled_step=steps[-1] if steps else np.inf,
        steps=steps,
    )


def hessian(A, y, beta, precision, firth: bool) -> np.ndarray:
    """The exact Hessian of ``objective`` (Firth: by central differences of its analytic
    gradient, since the third-derivative terms of log det are lengthy)."""
    z = A @ beta
    w = _weights(z)
    H = (A * w[:, None]).T @ A + np.diag(precision)
    if not firth:
        return H
    p = len(beta)
    out = np.empty((p, p))
    h = 1e-5 * np.maximum(1.0, np.abs(beta))
    for j in range(p):
        e = np.zeros(p)
        e[j] = h[j]
        out[:, j] = (
            _grad_firth(A, y, beta + e, precision) - _grad_firth(A, y, beta - e, precision)
        ) / (2 * h[j])
    return 0.5 * (out + out.T)


def _grad_firth(A, y, beta, precision):
    z = A @ beta
    mu = expit(z)
    w = _weights(z)
    fisher = (A * w[:, None]).T @ A
    G = np.linalg.solve(fisher, (A * np.sqrt(w)[:, None]).T)
    h = np.einsum("ij,ji->i", A * np.sqrt(w)[:, None], G)
    return -(A.T @ (y - mu + h * (0.5 - mu))) + precision * beta


# ----------------------------------------------------------------------------- separation
@dataclass(frozen=True)
class Separation:
    """Result of the Konis (2007) linear programs: ``kind`` is "none", "quasi-complete" or
    "complete"; ``direction`` a recession direction b (A b >= 0 on y = 1 rows, <= 0 on y = 0
    rows, on the original scale) along which the likelihood increases to its supremum."""

    kind: str
    direction: np.ndarray
    objective: float

    @property
    def separated(self) -> bool:
        return self.kind != "none"


def detect_separation(A: np.ndarray, y: np.ndarray) -> Separation:
    """Konis (2007), *Linear programming algorithms for detecting separated data in binary
    logistic regression models* (DPhil thesis, Oxford), ch. 4:
        maximise 1' X̄ b  subject to  X̄ b >= 0,  -1 <= b_j <= 1,    X̄ = diag(2y - 1) A.

    The MLE exists iff the optimum is 0 (b = 0); otherwise b is a direction along which the
    log-likelihood increases without reaching a maximum, and its non-zero entries are the
    coefficients that run to +-infinity.  A second program, maximise t subject to
    X̄ b >= t, -1 <= b_j <= 1, t <= 1, has t > 0 exactly when some b separates every
    observation strictly (complete separation); otherwise the separation is quasi-complete.
    Columns are scaled to unit RMS first (the box then treats them alike); the direction is
    mapped back to the original scale.  Zero is decided relative to the LP's feasibility
    tolerance times the size of the data.
    """
    A = np.asarray(A, float)
    y = np.asarray(y, float)
    n, p = A.shape
    scale = np.sqrt(np.mean(A**2, axis=0))
    scale[scale == 0] = 1.0
    Xb = (2 * y - 1)[:, None] * (A / scale)
    bounds = [(-1.0, 1.0)] * p
    found = recession_direction(Xb)  # the shared program (models.numerics.recession)
    value = found.value
    if not found.found:
        return Separation("none", np.zeros(p), value)
    b = np.where(np.abs(found.direction) > FEASIBILITY_TOL, found.direction, 0.0)
    # complete vs quasi-complete: maximise t with Xb b >= t
    c = np.zeros(p + 1)
    c[-1] = -1.0
    A_ub = np.column_stack([-Xb, np.ones(n)])
    res2 = linprog(c, A_ub=A_ub, b_ub=np.zeros(n), bounds=bounds + [(None, 1.0)], method="highs")
    kind = "complete" if res2.status == 0 and -res2.fun > FEASIBILITY_TOL else "quasi-complete"
    return Separation(kind, b / scale, value)


# ----------------------------------------------------------------------------- posterior
def importance_posterior(
    A: np.ndarray,
    y: np.ndarray,
    precision: np.ndarray,
    firth: bool,
    rng: np.random.Generator,
    *,
    draws: int,
    df: float = 5.0,
    inflate: float = 1.3,
    chunk: int = 2000,
    block_elements: int = BLOCK_ELEMENTS,
) -> dict:
    """Posterior mean and sd by self-normalised importance sampling (an independent,
    sampler-free reference for NUTS; pure NumPy).

    Proposal: multivariate Student t (``df``) centred at this module's own Newton mode, with
    covariance ``inflate^2`` times the inverse Hessian there (heavier tails than the posterior,
    whose log density is at most quadratic-plus-linear in beta, so the weights are bounded).
    Monte Carlo standard errors by the delta method (Owen, *Monte Carlo theory, methods and
    examples*, 2013, §9.2): var(mean) ~ sum w_i^2 (x_i - m)^2 / (sum w_i)^2.

    Memory and time: the random draws come ``chunk`` at a time (so the stream, and the result,
    do not depend on n); the log posterior is evaluated on blocks of at most
    ``block_elements`` draw x row logits, and the Jeffreys term log det(A' W A) for a block of
    draws as one BLAS product W @ [a_i a_j] over the rows (``fisher_logdets``).
    """
    mode = newton(A, y, precision, firth=firth)
    if not mode.converged:
        raise RuntimeError("Newton did not converge; no proposal for importance sampling")
    n, p = A.shape
    H = hessian(A, y, mode.beta, precision, firth)
    L = np.linalg.cholesky(np.linalg.inv(H)) * inflate
    sub = int(max(1, min(chunk, block_elements // max(n, 1))))
    gram = WeightedGram(A, block_elements) if firth else None
    logw_parts, samples = [], []
    for start in range(0, draws, chunk):
        m = min(chunk, draws - start)
        zs = rng.standard_normal((m, p))
        chi = rng.chisquare(df, size=m)
        u = zs / np.sqrt(chi / df)[:, None]
        beta = mode.beta + u @ L.T
        # log proposal density up to a constant: -(df + p)/2 log(1 + |u|^2 / df)
        log_q = -0.5 * (df + p) * np.log1p(np.sum(zs**2, axis=1) / chi)
        log_post = np.empty(m)
        for s in range(0, m, sub):
            b = beta[s : s + sub]
            Z = b @ A.T  # (sub, n) logits
            # one exp for both terms: softplus(z) = max(z, 0) + log1p(e) (= logaddexp(0, z))
            # and p (1 - p) = e / (1 + e)^2, with e = exp(-|z|) (no cancellation)
            e = np.exp(-np.abs(Z))
            nll = np.sum(np.maximum(Z, 0.0) + np.log1p(e), axis=1) - Z @ y
            lp = -nll - 0.5 * (b**2) @ precision
            if firth:
                lp = lp + 0.5 * gram.logdets(e / (1.0 + e) ** 2)
            log_post[s : s + sub] = lp
        logw_parts.append(log_post - log_q)
        samples.append(beta)
    logw = np.concatenate(logw_parts)
    B = np.concatenate(samples)
    w = np.exp(logw - np.max(logw))
    wsum = w.sum()
    wn = w / wsum
    mean = wn @ B
    dev = B - mean
    var = wn @ dev**2
    sd = np.sqrt(var)
    mcse_mean = np.sqrt(np.sum((wn[:, None] * dev) ** 2, axis=0))
    mcse_var = np.sqrt(np.sum((wn[:, None] * (dev**2 - var)) ** 2, axis=0))
    ess = 1.0 / np.sum(wn**2)
    return {
        "mean": mean,
        "sd": sd,
        "mcse_mean": mcse_mean,
        "mcse_sd": mcse_var / (2 * sd),
        "ess": float(ess),
        "draws": int(draws),
        "max_weight": float(wn.max()),
        "mode": mode.beta,
    }


class WeightedGram:
    """log det(A' diag(w) A) for many weight vectors w at once.

    The upper triangles of m such matrices are one matrix product W @ K, with
    K[i, (a, b)] = A[i, a] A[i, b] (a <= b), m x n times n x p(p+1)/2: O(m n p^2 / 2) flops in
    BLAS instead of a loop of m weighted cross-products (or a non-BLAS einsum).  K is kept
    when it has at most ``4 * block_elements`` entries, else rebuilt a row block at a time."""

    def __init__(self, A: np.ndarray, block_elements: int = BLOCK_ELEMENTS):
        self.A = np.asarray(A, float)
        n, p = self.A.shape
        self.p = p
        self.ia, self.ib = np.triu_indices(p)
        self.rows = int(max(1, block_elements // max(self.ia.size, 1)))
        self.K = self._block(0, n) if n * self.ia.size <= 4 * block_elements else None

    def _block(self, start, stop):
        Ab = self.A[start:stop]
        return Ab[:, self.ia] * Ab[:, self.ib]

    def logdets(self, W: np.ndarray) -> np.ndarray:
        """One log determinant per row of W (m draws x n rows); -inf where not positive."""
        W = np.atleast_2d(np.asarray(W, float))
        n = self.A.shape[0]
        if self.K is not None:
            upper = (self.K.T @ W.T).T
        else:
            upper = np.zeros((W.shape[0], self.ia.size))
            for s in range(0, n, self.rows):
                upper += (self._block(s, s + self.rows).T @ W[:, s : s + self.rows].T).T
        F = np.zeros((W.shape[0], self.p, self.p))
        F[:, self.ia, self.ib] = upper
        F[:, self.ib, self.ia] = upper
        sign, logdet = np.linalg.slogdet(F)
        return np.where(sign > 0, logdet, -np.inf)


def fisher_logdets(A: np.ndarray, W: np.ndarray, block_elements: int = BLOCK_ELEMENTS):
    """log det(A' diag(W_k) A) for each row W_k of W (m draws x n rows); -inf where singular
    (``WeightedGram`` once)."""
    return WeightedGram(A, block_elements).logdets(W)
