"""Categorical likelihood with a softmax link in pure NumPy/SciPy: stable cross-entropy, the
information identities, and a Newton solver for softmax regression.  No PyMC here: these are
independent references for the categorical family (``models/families/categorical``).

Objectives (``A`` = [1, X] (n x p), ``B`` (p x K) the coefficients, ``Z = A B`` the logits,
``y_i`` in {0..K-1} the class indices)::

    NLL(B)         = sum_i logsumexp(Z_i) - Z_{i, y_i}       (= n * sklearn log_loss = CE sum)
    flat (MLE):      minimise NLL with the baseline column B[:, b] = 0 (statsmodels MNLogit,
                     Stata mlogit, Bambi); without it the NLL is flat along B + c 1'
    gaussian (MAP):  minimise NLL + 1/2 sum_k sum_j B_jk^2 / tau_j^2 over all K columns, the
                     intercept row unpenalised (tau = inf), as scikit-learn's multinomial L2
                     (C = tau^2).  Its optimum has sum_k B_jk = 0 for every penalised row j; the
                     intercepts are fixed only up to a common shift, here by b_baseline = 0.

``logsumexp`` subtracts the row maximum first: no overflow at |z| ~ 1e3.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import logsumexp, softmax

from nll_losses.models.numerics.logistic import NEWTON_MAX_ITER, NEWTON_STEP_TOL
from nll_losses.models.numerics.newton_steps import newton_iterate


# ----------------------------------------------------------------------------- losses
def log_softmax(Z: np.ndarray) -> np.ndarray:
    """log softmax(Z) row-wise, Z - logsumexp(Z): finite for any finite logits."""
    Z = np.asarray(Z, float)
    return Z - logsumexp(Z, axis=1, keepdims=True)


def ce_from_logits(y: np.ndarray, Z: np.ndarray) -> float:
    """sum_i logsumexp(Z_i) - Z_{i,y_i}: cross-entropy summed, straight from the logits (as a
    framework's ``CrossEntropyLoss(logits)``, reduction "sum")."""
    Z = np.asarray(Z, float)
    y = np.asarray(y, int)
    return float(np.sum(logsumexp(Z, axis=1) - Z[np.arange(len(y)), y]))


def nll_of_log_softmax(y: np.ndarray, Z: np.ndarray) -> float:
    """-sum_i log_softmax(Z)_{i,y_i}: the NLL of the log-probabilities (a framework's
    ``NLLLoss(log_softmax(logits))``, reduction "sum")."""
    y = np.asarray(y, int)
    return float(-np.sum(log_softmax(Z)[np.arange(len(y)), y]))


def nll_pmf(y: np.ndarray, P: np.ndarray) -> float:
    """-sum_i log P_{i,y_i} from probabilities (the Categorical pmf; -inf logits make 0s)."""
    y = np.asarray(y, int)
    with np.errstate(divide="ignore"):
        return float(-np.sum(np.log(np.asarray(P, float)[np.arange(len(y)), y])))


def class_frequencies(y: np.ndarray, K: int) -> np.ndarray:
    """p_hat_k = #{y_i = k} / n: the MLE of the intercept-only categorical model."""
    return np.bincount(np.asarray(y, int), minlength=K) / len(y)


def cross_entropy(p: np.ndarray, q: np.ndarray) -> float:
    """H(p, q) = -sum_k p_k log q_k (0 log 0 = 0)."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(q), 0.0)
    return float(np.sum(terms))


def information_identity(y: np.ndarray, q: np.ndarray) -> dict[str, float]:
    """The three sides of NLL(q)/n = H(p_hat, q) = H(p_hat) + KL(p_hat || q), for the
    intercept-only model predicting q for every row; H and KL from ``scipy.stats.entropy``."""
    from scipy.stats import entropy  # scipy.stats takes 0.4 s to import: only here

    q = np.asarray(q, float)
    p_hat = class_frequencies(y, len(q))
    n = len(y)
    return {
        "nll / n": nll_pmf(y, np.broadcast_to(q, (n, len(q)))) / n,
        "H(p_hat, q)": cross_entropy(p_hat, q),
        "H(p_hat) + KL(p_hat || q)": float(entropy(p_hat) + entropy(p_hat, q)),
    }


def dirichlet_map_and_mean(y: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Intercept-only model with q ~ Dirichlet(alpha): the posterior is Dirichlet(alpha + c),
    c the class counts; its mode (alpha_k + c_k - 1) / (sum alpha + n - K) (every
    alpha_k + c_k > 1) and its mean (alpha_k + c_k) / (sum alpha + n)."""
    alpha = np.asarray(alpha, float)
    K = len(alpha)
    post = alpha + np.bincount(np.asarray(y, int), minlength=K)
    if np.any(post <= 1):
        raise ValueError("the posterior mode is on the boundary: some alpha_k + c_k <= 1")
    return (post - 1) / (post.sum() - K), post / post.sum()


# ----------------------------------------------------------------------------- network
def network_logits(X, W1, b1, W2, b2) -> np.ndarray:
    """z = relu(X W1 + b1) W2 + b2: the one-hidden-layer softmax network of the derivation
    (W1 (d, H), b1 (H,), W2 (H, K), b2 (K,))."""
    return np.maximum(np.asarray(X, float) @ W1 + b1, 0.0) @ W2 + b2


def network_objective(X, y, W1, b1, W2, b2, tau: float) -> float:
    """-log posterior up to a constant: CE(z) + (||W1||^2 + ||W2||^2) / (2 tau^2), the biases
    unpenalised -- weight decay = a N(0, tau^2) prior on the weights.  scikit-learn's
    MLPClassifier minimises mean log-loss + alpha/(2n) sum ||W||^2, i.e. this / n with
    alpha = 1 / tau^2."""
    penalty = (np.sum(np.square(W1)) + np.sum(np.square(W2))) / (2.0 * tau**2)
    return ce_from_logits(y, network_logits(X, W1, b1, W2, b2)) + float(penalty)


# ----------------------------------------------------------------------------- Newton
@dataclass
class SoftmaxFit:
    B: np.ndarray  # (p, K) coefficients, the baseline's intercept (and, if flat, column) 0
    cov: np.ndarray  # inverse Hessian over the free coefficients, in ``free`` order
    free: list[tuple[int, int]]  # (row, class) of each free coefficient
    objective: float
    iterations: int
    converged: bool
    scaled_step: float  # the Newton step still to go, in sds
    steps: list[float] = field(default_factory=list)

    def sd(self) -> np.ndarray:
        """(p, K) standard deviations sqrt(diag cov), 0 where a coefficient is fixed."""
        out = np.zeros_like(self.B)
        for (j, k), v in zip(self.free, np.diag(self.cov), strict=True):
            out[j, k] = np.sqrt(v)
        return out


def objective(A, y, B, precision) -> float:
    """NLL(B) + 1/2 sum_jk precision_j B_jk^2: the negative log posterior up to a constant."""
    return ce_from_logits(y, A @ B) + 0.5 * float(np.sum(np.asarray(precision)[:, None] * B**2))


def newton(
    A: np.ndarray,
    y: np.ndarray,
    K: int,
    baseline: int = 0,
    precision: np.ndarray | None = None,
    *,
    step_tol: float = NEWTON_STEP_TOL,
    max_iter: int = NEWTON_MAX_ITER,
) -> SoftmaxFit:
    """Newton-Raphson from B = 0 with step halving on the objective.

    Free coefficients: with every precision 0 (flat) the columns k != baseline; otherwise
    every column, less the baseline's intercept (row 0) when precision[0] = 0 (intercepts are
    identified only up to a common shift).  Gradient and block Hessian over them::

        g_jk = sum_i A_ij (Y_ik - P_ik) - precision_j B_jk
        H_(jk),(lm) = sum_i A_ij A_il P_ik (delta_kl - P_il) + precision_j delta_jl delta_kl

    Iterated by ``newton_steps.newton_iterate`` (as the logistic solver): converged when the Newton
    step still to go, in units of sqrt(diag H^-1), is at most ``step_tol``.
    """
    A = np.asarray(A, float)
    y = np.asarray(y, int)
    n, p = A.shape
    prec = np.zeros(p) if precision is None else np.asarray(precision, float)
    flat = not np.any(prec > 0)
    free = [
        (j, k)
        for k in range(K)
        for j in range(p)
        if not (k == baseline and (flat or (j == 0 and prec[0] == 0)))
    ]
    rows = np.array([j for j, _ in free])
    cols = np.array([k for _, k in free])
    Y = np.eye(K)[y]

    def unpack(theta):
        B = np.zeros((p, K))
        B[rows, cols] = theta
        return B

    def grad_hess(B):
        P = softmax(A @ B, axis=1)
        G = A.T @ (Y - P) - prec[:, None] * B
        H = np.empty((len(free), len(free)))
        for a, (j, k) in enumerate(free):
            wk = P[:, k][:, None] * ((cols == k)[None, :] - P[:, cols])  # (n, m)
            H[a] = np.einsum("i,im,im->m", A[:, j], A[:, rows], wk)
        H[np.arange(len(free)), np.arange(len(free))] += prec[rows]
        return G[rows, cols], (H + H.T) / 2

    def f(theta):
        return objective(A, y, unpack(theta), prec)

    # grad_hess gives the score and minus the Hessian of the log posterior (the information)
    theta, steps, converged, iterations = newton_iterate(
        f, lambda theta: grad_hess(unpack(theta)), np.zeros(len(free)), step_tol, max_iter
    )
    cov = np.linalg.inv(grad_hess(unpack(theta))[1])
    return SoftmaxFit(
        B=unpack(theta),
        cov=cov,
        free=free,
        objective=objective(A, y, unpack(theta), prec),
        iterations=iterations,
        converged=converged,
        scaled_step=steps[-1] if steps else np.inf,
        steps=steps,
    )
