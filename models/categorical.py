"""Categorical likelihood with a softmax link: cross-entropy is the categorical NLL.

Three models share this family (``--hidden H`` picks the second; no features the third)::

    softmax regression   y_i ~ Categorical(softmax(z_i)),  z_ik = b_k + x_i . W_k   (H = 0)
    one-hidden-layer net z_i = W2' relu(W1' x_i + b1) + b2                           (H > 0)
    intercept only       y_i ~ Categorical(q)                                   (no features)

Negative log-likelihood (the loss ledger checks these identities numerically)::

    -log p(y | theta) = -sum_i log softmax(z_i)_{y_i}
                      = sum_i logsumexp(z_i) - z_{i, y_i}     (cross-entropy from logits)
                      = n * log_loss(y, softmax(z))            (sklearn.metrics.log_loss)
    intercept only:   -log p(y | q) / n = H(p_hat, q) = H(p_hat) + KL(p_hat || q)

Identifiability.  The likelihood is unchanged when one vector is added to every class's
logits, so something must pin that shift down, and the two usual choices are different priors:

* flat priors (``flat``): the baseline class's logits are 0 (``--baseline``, default the
  first class in sorted order), as statsmodels ``MNLogit``, Stata ``mlogit`` and Bambi.  The
  K - 1 other classes' (intercept, W) are then log-odds contrasts against the baseline.
* Gaussian prior (``gaussian``): N(0, tau^2) on every one of the K weight vectors, as
  scikit-learn's multinomial L2 (C = tau^2).  The prior identifies all K vectors (its mode has
  sum_k W_k = 0), which is not the same as a N(0, tau^2) prior on K - 1 contrasts.  The
  intercepts stay unpenalised, so they are identified only as contrasts against the baseline.
* Dirichlet(alpha) on q (``dirichlet``, intercept only): conjugate, with closed-form mode and
  posterior.  alpha = 1 is the uniform prior on the simplex, whose mode is the MLE p_hat.

The network has N(0, tau^2) on W1 and W2 (weight decay); its output biases b2 are flat against
the baseline (b2_baseline = 0), like the regression's intercepts.  A flat hidden bias b1 makes
an improper posterior with relu (a unit pushed below zero on every row is dead, and the
likelihood is constant along b1 -> -inf), so NUTS uses a wide proper prior b1 ~ N(0, 10^2)
(``HIDDEN_BIAS_SCALE``), while find_MAP and scikit-learn, which need a mode and not a
posterior, keep b1 flat: they minimise the same weight-decay objective
``NLL + (||W1||^2 + ||W2||^2) / (2 tau^2)`` (MLPClassifier with alpha = 1/tau^2).

Reparametrisation (regression): as the Bernoulli family, the model optimises and samples
``phi`` in an orthonormal basis of the centred, column-scaled design, ``Z = Z0 + Q Phi C`` and
``B = M0 + M Phi C`` with C = diag(1/sqrt(p_k (1 - p_k))) (``models.linalg.precondition``).
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, replace

import numpy as np
from scipy.special import digamma, logsumexp, polygamma, softmax

from models import linalg as la
from models import softmax as sm_
from models.family import (
    SKLEARN_TOL,
    Built,
    LedgerRow,
    Param,
    ParamLayout,
    Problem,
    Reference,
    Settings,
    Start,
    Support,
    Sweep,
    Unavailable,
    basis_laplace,
    library_warnings,
    match_label,
    parse_labels,
    sklearn_logistic,
    tau_sweep,
)
from models.pairs import Pair

NAME = "categorical"
HIDDEN_BIAS_SCALE = 10.0  # b1 ~ N(0, 10^2) for NUTS: proper, and wide for standardised inputs
MAP_STARTS = 40  # find_MAP starts for the network (jittered; the best accepted mode is kept)
SWEEP_STARTS = 8  # per grid point of the network's prior-strength sweep (21 points)
SKLEARN_RESTARTS = 20  # MLPClassifier restarts (random_state drawn from the seed); the best is kept
NLL_PMF = "−Σ log softmax(z)_y (Categorical pmf)"
NLL_CE = "CE from logits (logsumexp)"
NLL_LOGSOFTMAX = "NLL of log_softmax"
NLL_LOGLOSS = "n·log_loss (sklearn)"
EXTREME_LOGIT = 1000.0
LOGLOSS_MAX_LOGIT = 30.0  # sklearn's log_loss clips p to [eps, 1 - eps]
IDENTITY = ("NLL / n", "H(p̂, q)", "H(p̂) + KL(p̂‖q)")


@dataclass(frozen=True)
class CategoricalOptions:
    """``baseline``: the class whose logits are 0 (None: the first class in sorted order);
    ``hidden``: hidden units of the network (0: softmax regression); ``dirichlet_alpha``: the
    symmetric Dirichlet concentration of the intercept-only model's ``dirichlet`` prior."""

    baseline: str | None = None
    hidden: int = 0
    dirichlet_alpha: float = 2.0

    def describe(self) -> dict[str, str]:
        return {
            "baseline class": self.baseline or "default (the first class in sorted order)",
            "hidden units": str(self.hidden),
        }


@dataclass(frozen=True)
class CategoricalSpec:
    prior: str  # "flat", "gaussian" or "dirichlet"
    tau: float | None  # the N(0, tau^2) scale of the weights (gaussian), else None
    intercept: bool = True
    hidden: int = 0
    hidden_bias_scale: float | None = HIDDEN_BIAS_SCALE  # None: flat b1 (find_MAP's model)
    alpha: float = 2.0


# ----------------------------------------------------------------------------- helpers
def _classes(problem: Problem) -> tuple[list[str], int]:
    classes = list(problem.target_info["classes"])
    return classes, classes.index(problem.target_info["baseline"])


def _y(problem: Problem) -> np.ndarray:
    return np.asarray(problem.y).astype(np.int64)


def intercept_only(problem: Problem) -> bool:
    return len(problem.features) == 0


def eval_points(problem: Problem) -> tuple[list[str], np.ndarray]:
    """The points where probabilities are reported and compared: each class's centroid x̄[c]
    (one point, "any x", without features)."""
    classes, _ = _classes(problem)
    X = np.asarray(problem.X, float)
    if X.shape[1] == 0:
        return ["any x"], np.zeros((1, 0))
    y = _y(problem)
    return [f"x̄[{c}]" for c in classes], np.array(
        [X[y == k].mean(axis=0) for k in range(len(classes))]
    )


def _prob_names(labels: list[str], classes: list[str]) -> list[tuple[str, str, str]]:
    """(name, point label, class) of every reported probability."""
    if labels == ["any x"]:
        return [(f"P({c})", labels[0], c) for c in classes]
    return [(f"P({c} | {lab})", lab, c) for lab in labels for c in classes]


def weight_classes(spec: CategoricalSpec, classes: list[str], base: int) -> list[str]:
    """Classes whose weight vectors are parameters: all K under the Gaussian prior (it
    identifies them), the K - 1 non-baseline ones (contrasts) under flat priors."""
    return (
        list(classes)
        if spec.prior == "gaussian"
        else [c for i, c in enumerate(classes) if i != base]
    )


def coefficient_matrix(problem: Problem, params: dict) -> np.ndarray:
    """(p, K) coefficients B (row 0 the intercepts when present) from the layout's names, in
    the baseline gauge: B[:, base] = 0 under flat priors, b_base = 0 under the Gaussian prior."""
    classes, base = _classes(problem)
    feats = list(problem.features)
    K = len(classes)
    icpt = problem.spec.intercept
    B = np.zeros((len(feats) + int(icpt), K))
    for k, c in enumerate(classes):
        if icpt and k != base:
            B[0, k] = params[f"{c}:intercept"]
    for c in weight_classes(problem.spec, classes, base):
        k = classes.index(c)
        for j, f in enumerate(feats):
            B[j + int(icpt), k] = params[f"{c}:{f}"]
    return B


def network_weights(problem: Problem, params: dict) -> tuple:
    """(W1 (d, H), b1 (H,), W2 (H, K), b2 (K,)) from the layout's names (b2_base = 0)."""
    classes, base = _classes(problem)
    feats, H = list(problem.features), problem.spec.hidden
    W1 = np.array([[params[f"W1[{f},h{j}]"] for j in range(H)] for f in feats]).reshape(
        len(feats), H
    )
    b1 = np.array([params[f"b1[h{j}]"] for j in range(H)])
    W2 = np.array([[params[f"W2[h{j},{c}]"] for c in classes] for j in range(H)])
    b2 = np.array([0.0 if k == base else params[f"b2[{c}]"] for k, c in enumerate(classes)])
    return W1, b1, W2, b2


def logits(problem: Problem, params: dict, X: np.ndarray) -> np.ndarray:
    """(m, K) logits at ``params`` for the rows of ``X``."""
    classes, _ = _classes(problem)
    X = np.asarray(X, float)
    spec = problem.spec
    if spec.prior == "dirichlet":
        q = np.array([params[f"P({c})"] for c in classes])
        with np.errstate(divide="ignore"):
            return np.broadcast_to(np.log(q), (X.shape[0], len(classes))).copy()
    if spec.hidden:
        return sm_.network_logits(X, *network_weights(problem, params))
    return la.design(X, spec.intercept) @ coefficient_matrix(problem, params)


def objective(problem: Problem, params: dict) -> float:
    """The negative log posterior at ``params`` (up to a constant), one function for every
    estimator: NLL + sum of w^2 / (2 tau^2) over the penalised weights (W under the Gaussian
    prior; W1 and W2 in the network), or -sum (alpha_k + c_k - 1) log q_k (Dirichlet)."""
    spec, y = problem.spec, _y(problem)
    if spec.prior == "dirichlet":
        classes, _ = _classes(problem)
        q = np.array([params[f"P({c})"] for c in classes])
        counts = np.bincount(y, minlength=len(classes))
        return float(-np.sum((spec.alpha - 1 + counts) * np.log(q)))
    if spec.hidden:
        return sm_.network_objective(problem.X, y, *network_weights(problem, params), spec.tau)
    B = coefficient_matrix(problem, params)
    return sm_.objective(la.design(problem.X, spec.intercept), y, B, _precision(problem))


def _precision(problem: Problem) -> np.ndarray:
    """1/tau^2 per row of B (0: flat; the intercept row is always flat)."""
    spec = problem.spec
    p = len(problem.features) + int(spec.intercept)
    prec = np.full(p, 1.0 / spec.tau**2 if spec.prior == "gaussian" else 0.0)
    if spec.intercept:
        prec[0] = 0.0
    return prec


def _model_params(problem: Problem) -> list[str]:
    """The layout's parameters of the model itself (not the probabilities derived from it)."""
    return [p.name for p in problem.layout.params if p.group != "probabilities"]


def _probabilities(problem: Problem, params: dict) -> dict[str, float]:
    classes, _ = _classes(problem)
    labels, E = eval_points(problem)
    P = softmax(logits(problem, params, E), axis=1)
    names = _prob_names(labels, classes)
    return {nm: float(P[labels.index(lab), classes.index(c)]) for nm, lab, c in names}


def _regression_params(problem: Problem, B: np.ndarray) -> dict[str, float]:
    """Layout names from a (p, K) B in any gauge: contrasts against the baseline."""
    classes, base = _classes(problem)
    icpt = problem.spec.intercept
    out = {}
    if icpt:
        for k, c in enumerate(classes):
            if k != base:
                out[f"{c}:intercept"] = float(B[0, k] - B[0, base])
    gaussian = problem.spec.prior == "gaussian"
    for c in weight_classes(problem.spec, classes, base):
        k = classes.index(c)
        for j, f in enumerate(problem.features):
            r = j + int(icpt)
            out[f"{c}:{f}"] = float(B[r, k] if gaussian else B[r, k] - B[r, base])
    return out


# ----------------------------------------------------------------------------- separation
@dataclass(frozen=True)
class Separation:
    separated: bool
    value: float
    direction: np.ndarray  # (p, K) with the baseline column 0


_SEPARATION: dict[str, Separation] = {}


def detect_separation(A: np.ndarray, y: np.ndarray, K: int, base: int) -> Separation:
    """Whether the multinomial MLE fails to exist: a direction D (p x K, D[:, base] = 0) with
    A_i (D_{y_i} - D_k) >= 0 for every row i and class k exists, not all zero (Albert &
    Anderson 1984, Biometrika 71, 1-10; the LP is Konis's (2007) for K classes)::

        maximise sum_i sum_{k != y_i} A_i (D_{y_i} - D_k)
        subject to A_i (D_{y_i} - D_k) >= 0,  -1 <= D <= 1.

    Along such a D the log-likelihood increases without bound on the contrasts.  Columns are
    scaled to unit RMS; zero is decided relative to HiGHS's feasibility tolerance (1e-7) per
    row, as in ``models.logistic.detect_separation``."""
    from scipy.optimize import linprog

    A = np.asarray(A, float)
    y = np.asarray(y, int)
    n, p = A.shape
    scale = np.sqrt(np.mean(A**2, axis=0))
    scale[scale == 0] = 1.0
    As = A / scale
    free = [k for k in range(K) if k != base]
    index = {k: i for i, k in enumerate(free)}
    rows = []
    for i in range(n):
        for k in range(K):
            if k == y[i]:
                continue
            row = np.zeros(p * len(free))
            if y[i] != base:
                row[index[y[i]] * p : (index[y[i]] + 1) * p] += As[i]
            if k != base:
                row[index[k] * p : (index[k] + 1) * p] -= As[i]
            rows.append(row)
    G = np.array(rows)  # margins G d >= 0
    res = linprog(
        -G.sum(axis=0),
        A_ub=-G,
        b_ub=np.zeros(len(G)),
        bounds=[(-1.0, 1.0)] * G.shape[1],
        method="highs",
    )
    if res.status != 0:
        raise RuntimeError(f"separation LP failed: {res.message}")
    value = -float(res.fun)
    D = np.zeros((p, K))
    if value > 1e-7 * len(G):
        for k in free:
            D[:, k] = res.x[index[k] * p : (index[k] + 1) * p] / scale
        return Separation(True, value, D)
    return Separation(False, value, D)


def separation(problem: Problem) -> Separation:
    classes, base = _classes(problem)
    A = la.design(problem.X, problem.spec.intercept)
    key = hashlib.sha1(A.tobytes() + _y(problem).tobytes() + bytes([base])).hexdigest()
    if key not in _SEPARATION:
        _SEPARATION[key] = detect_separation(A, _y(problem), len(classes), base)
    return _SEPARATION[key]


def separation_reason(problem: Problem) -> str:
    classes, _ = _classes(problem)
    D = separation(problem).direction
    names = (["intercept"] if problem.spec.intercept else []) + list(problem.features)
    big = np.abs(D).max()
    running = [
        f"{classes[k]}:{names[j]} → {'+' if D[j, k] > 0 else '−'}∞"
        for k in range(D.shape[1])
        for j in range(D.shape[0])
        if abs(D[j, k]) > 1e-6 * big
    ]
    shown = ", ".join(running[:6]) + (" …" if len(running) > 6 else "")
    return (
        "the MLE does not exist: some classes are linearly separated from the others "
        f"(multinomial LP, Albert & Anderson 1984); the likelihood keeps increasing along {shown}"
    )


# ----------------------------------------------------------------------------- references
def _fit(mean: dict, info: dict, problem: Problem, sd: dict | None = None) -> dict:
    out = {"mean": mean | _probabilities(problem, mean), "info": info}
    if sd:
        out["sd"] = sd
    return out


def newton_fit(problem: Problem, inputs: dict) -> dict:
    """Our Newton solver with the block Hessian (``models.softmax.newton``)."""
    classes, base = _classes(problem)
    A = la.design(problem.X, problem.spec.intercept)
    r = sm_.newton(A, _y(problem), len(classes), base, _precision(problem))
    if not r.converged:
        raise RuntimeError(
            f"Newton did not converge: step still {r.scaled_step:.3g} sds after "
            f"{r.iterations} iterations"
        )
    mean = _regression_params(problem, r.B)
    sd = _regression_params(
        problem, r.sd()
    )  # its gauge is the baseline's: sd = that of the contrast
    return _fit(
        mean,
        {
            "solver": "Newton-Raphson, block Hessian, step halving",
            "criterion": f"Newton step still to go ≤ {sm_.NEWTON_STEP_TOL:g} sds",
            "iterations": r.iterations,
            "scaled_step": r.scaled_step,
            "sd": "sqrt(diag H⁻¹), H the Hessian of the objective",
        },
        problem,
        {k: abs(v) for k, v in sd.items()},
    )


def _ordered_codes(problem: Problem) -> tuple[np.ndarray, list[int]]:
    """Codes with the baseline first (statsmodels takes the smallest code as baseline)."""
    classes, base = _classes(problem)
    order = [base] + [k for k in range(len(classes)) if k != base]
    code = np.empty(len(classes), int)
    code[order] = np.arange(len(classes))
    return code[_y(problem)], order


def statsmodels_fit(problem: Problem, inputs: dict) -> dict:
    """statsmodels ``MNLogit(y, [1, X]).fit(method="newton")``: the MLE and its standard
    errors; its params are (p x K-1), columns the non-baseline classes."""
    import statsmodels.api as sm

    classes, base = _classes(problem)
    codes, order = _ordered_codes(problem)
    A = la.design(problem.X, problem.spec.intercept)
    with library_warnings() as said:
        res = sm.MNLogit(codes, A).fit(method="newton", tol=1e-14, maxiter=200, disp=0)
    if not res.mle_retvals.get("converged", False):
        raise RuntimeError("statsmodels MNLogit did not converge")
    B = np.zeros((A.shape[1], len(classes)))
    S = np.zeros_like(B)
    B[:, order[1:]] = np.asarray(res.params)
    S[:, order[1:]] = np.asarray(res.bse)
    return _fit(
        _regression_params(problem, B),
        {"call": "sm.MNLogit(y, [1, X]).fit(method='newton', tol=1e-14)"}
        | ({"warning": "statsmodels says: " + "; ".join(said)} if said else {}),
        problem,
        _regression_params(problem, S),
    )


def sklearn_fit(problem: Problem, inputs: dict) -> dict:
    """scikit-learn ``LogisticRegression`` (multinomial for K >= 3): it minimises
    C·sum log-loss + ½ sum_k ||W_k||² (intercepts unpenalised): C = τ² is the N(0, τ²) prior on
    all K weight vectors, C = inf the MLE (compared on contrasts).  newton-cholesky, tol 1e-12."""
    spec = problem.spec
    C = spec.tau**2 if spec.prior == "gaussian" else np.inf
    B, iterations, call = sklearn_logistic(problem.X, _y(problem), C, spec.intercept)
    if B.shape[1] == 1:  # two classes: one column, class 1 vs class 0
        B = np.column_stack([np.zeros_like(B), B])
    return _fit(_regression_params(problem, B), {"call": call, "iterations": iterations}, problem)


def sklearn_mlp(problem: Problem, alpha: float, random_state: int):
    """scikit-learn ``MLPClassifier(hidden_layer_sizes=(H,), activation="relu", solver="lbfgs",
    alpha, tol=SKLEARN_TOL)`` fitted to the problem's data from one seeded start.  Its lbfgs
    stops on scipy's ftol, so its ConvergenceWarning (iteration limit) is silenced and the
    answer judged by its objective; RuntimeError if it saw a different number of classes."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=(problem.spec.hidden,),
        activation="relu",
        solver="lbfgs",
        alpha=alpha,
        tol=SKLEARN_TOL,
        max_iter=20000,
        max_fun=100000,
        random_state=random_state,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(np.asarray(problem.X, float), _y(problem))
    if len(clf.classes_) != len(_classes(problem)[0]):
        raise RuntimeError("MLPClassifier saw a different number of classes")
    return clf


def mlp_fit(problem: Problem, inputs: dict, seed: int) -> dict:
    """scikit-learn ``MLPClassifier(hidden_layer_sizes=(H,), activation="relu",
    solver="lbfgs", alpha=1/τ²)`` from ``SKLEARN_RESTARTS`` seeded starts; it minimises
    mean log-loss + alpha/(2n) sum ||W||² (biases unpenalised) = our objective / n.  Every
    restart's objective is evaluated with ``objective`` (one function for every method) and
    listed; the best is kept.  Its lbfgs stops on scipy's ftol (relative change of the loss),
    not on the gradient, however small tol is: its answer is near a mode, not at it."""
    spec = problem.spec
    classes, base = _classes(problem)
    n = problem.n
    rng = np.random.default_rng(seed)
    runs = []
    for _ in range(SKLEARN_RESTARTS):
        state = int(rng.integers(2**31 - 1))
        clf = sklearn_mlp(problem, 1.0 / spec.tau**2, state)
        if len(classes) == 2:
            raise Unavailable("MLPClassifier fits two classes with one logistic output unit")
        W1, W2 = clf.coefs_
        b1, b2 = clf.intercepts_
        params = _network_params(problem, W1, b1, W2, b2 - b2[base])
        runs.append(
            {
                "random_state": state,
                "objective": objective(problem, params),
                "n·loss_": float(n * clf.loss_),
                "iterations": int(clf.n_iter_),
                "params": params,
            }
        )
    best = min(runs, key=lambda r: r["objective"])
    return {
        "mean": best["params"] | _probabilities(problem, best["params"]),
        "info": {
            "call": f"MLPClassifier(hidden_layer_sizes=({spec.hidden},), activation='relu', "
            f"solver='lbfgs', alpha={1 / spec.tau**2:g}, tol={SKLEARN_TOL:g})",
            "restarts": [{k: v for k, v in r.items() if k != "params"} for r in runs],
            "kept random_state": best["random_state"],
            "n·loss_": best["n·loss_"],
        },
    }


def _network_params(problem: Problem, W1, b1, W2, b2) -> dict[str, float]:
    classes, base = _classes(problem)
    out = {}
    for i, f in enumerate(problem.features):
        for j in range(W1.shape[1]):
            out[f"W1[{f},h{j}]"] = float(W1[i, j])
    for j in range(W1.shape[1]):
        out[f"b1[h{j}]"] = float(b1[j])
    for j in range(W1.shape[1]):
        for k, c in enumerate(classes):
            out[f"W2[h{j},{c}]"] = float(W2[j, k])
    for k, c in enumerate(classes):
        if k != base:
            out[f"b2[{c}]"] = float(b2[k] - b2[base])
    return out


def _counts(problem: Problem) -> np.ndarray:
    classes, _ = _classes(problem)
    return np.bincount(_y(problem), minlength=len(classes)).astype(float)


def _intercepts_from_q(problem: Problem, q: np.ndarray) -> dict[str, float]:
    classes, base = _classes(problem)
    return {
        f"{c}:intercept": float(np.log(q[k]) - np.log(q[base]))
        for k, c in enumerate(classes)
        if k != base
    }


def closed_form_fit(problem: Problem, inputs: dict) -> dict:
    """Intercept-only model: the MLE is the class frequencies p̂ (flat), the Dirichlet
    posterior mode (alpha + c - 1) / (sum alpha + n - K) (``models.softmax``)."""
    classes, _ = _classes(problem)
    y = _y(problem)
    if problem.spec.prior == "dirichlet":
        mode, _ = sm_.dirichlet_map_and_mean(y, np.full(len(classes), problem.spec.alpha))
        return {
            "mean": {f"P({c})": float(v) for c, v in zip(classes, mode, strict=True)},
            "info": {"formula": "(α + c − 1) / (Σα + n − K)"},
        }
    q = sm_.class_frequencies(y, len(classes))
    return {
        "mean": _intercepts_from_q(problem, q)
        | {f"P({c})": float(v) for c, v in zip(classes, q, strict=True)},
        "info": {"formula": "p̂ = c / n; intercepts log(p̂_k / p̂_baseline)"},
    }


def exact_posterior_fit(problem: Problem, inputs: dict) -> dict:
    """Intercept-only posterior in closed form: q ~ Dirichlet(a) with a = alpha + c
    (Dirichlet prior) or a = c (flat prior on the baseline logits: its Jacobian makes the
    density of q proportional to prod q_k^(c_k - 1)).  Mean a_k/a_0, variance
    a_k (a_0 - a_k) / (a_0^2 (a_0 + 1)); log(q_k / q_b) has mean psi(a_k) - psi(a_b) and
    variance psi'(a_k) + psi'(a_b) (log-gamma representation of the Dirichlet)."""
    classes, base = _classes(problem)
    c = _counts(problem)
    a = c + problem.spec.alpha if problem.spec.prior == "dirichlet" else c
    a0 = a.sum()
    mean = {f"P({k})": float(a[i] / a0) for i, k in enumerate(classes)}
    sd = {
        f"P({k})": float(np.sqrt(a[i] * (a0 - a[i]) / (a0**2 * (a0 + 1))))
        for i, k in enumerate(classes)
    }
    if problem.spec.prior != "dirichlet":
        for i, k in enumerate(classes):
            if i != base:
                mean[f"{k}:intercept"] = float(digamma(a[i]) - digamma(a[base]))
                sd[f"{k}:intercept"] = float(np.sqrt(polygamma(1, a[i]) + polygamma(1, a[base])))
    return {
        "mean": mean,
        "sd": sd,
        "info": {"posterior": f"Dirichlet({', '.join(f'{v:g}' for v in a)})"},
    }


# ----------------------------------------------------------------------------- PyMC models
def _regression_data(problem: Problem) -> tuple[dict, list[tuple[int, int]]]:
    """The pm.Data values of the softmax-regression model (basis, scales, offsets; see the
    module docstring) and the (row, class) entries of Phi that are free (the gauge)."""
    spec = problem.spec
    classes, base = _classes(problem)
    K = len(classes)
    A = la.design(problem.X, spec.intercept)
    n, p = A.shape
    pre = la.precondition(A, spec.intercept)
    counts = np.bincount(_y(problem), minlength=K)
    phat = np.clip(counts / n, 1.0 / (n + 1), n / (n + 1))
    c = 1.0 / np.sqrt(phat * (1 - phat))
    M0 = np.zeros((p, K))
    if spec.intercept:
        M0[0] = np.log(phat / phat[base])
    # free entries of Phi: flat -> every column but the baseline's; gaussian -> every entry
    # but the baseline's intercept direction (the unpenalised common shift)
    free = [
        (j, k)
        for k in range(K)
        for j in range(p)
        if not (k == base and (spec.prior == "flat" or (j == 0 and spec.intercept)))
    ]
    _, E = eval_points(problem)
    return {
        "basis_matrix": pre.Q,
        "basis_to_coef": pre.M,
        "class_scale": c,
        "coef_offset": M0,
        "logit_offset": A @ M0,
        "row_precision": _precision(problem),
        "eval_design": la.design(E, spec.intercept),
        "y_obs": _y(problem),
    }, free


def _coef_map(problem: Problem, data: dict, free: list) -> tuple[np.ndarray, list[str]]:
    """The linear map from the free phi entries to the layout's coefficient parameters (for
    the Laplace covariance): reported = r0 + L phi, built column by column (it is linear)."""
    p, K = data["coef_offset"].shape

    def reported(phi):
        Phi = np.zeros((p, K))
        for (j, k), v in zip(free, phi, strict=True):
            Phi[j, k] = v
        B = data["coef_offset"] + data["basis_to_coef"] @ Phi * data["class_scale"]
        vals = _regression_params(problem, B)
        return np.array(list(vals.values())), list(vals)

    r0, names = reported(np.zeros(len(free)))
    L = np.column_stack([reported(e)[0] - r0 for e in np.eye(len(free))])
    return L, names


def build_regression(problem: Problem) -> Built:
    import pymc as pm
    import pytensor.tensor as pt

    spec = problem.spec
    classes, base = _classes(problem)
    data, free = _regression_data(problem)
    n, p = data["basis_matrix"].shape
    K = len(classes)
    labels, _ = eval_points(problem)
    wcls = weight_classes(problem.spec, classes, base)
    others = [c for i, c in enumerate(classes) if i != base]
    coords = {
        "feature": list(problem.features),
        "wclass": wcls,
        "contrast": others,
        "class": classes,
        "point": labels,
        "basis": list(range(len(free))),
        "obs": list(range(n)),
    }
    rows = np.array([j for j, _ in free])
    cols = np.array([k for _, k in free])
    with pm.Model(coords=coords) as model:
        Q = pm.Data("basis_matrix", data["basis_matrix"])
        M = pm.Data("basis_to_coef", data["basis_to_coef"])
        cs = pm.Data("class_scale", data["class_scale"])
        M0 = pm.Data("coef_offset", data["coef_offset"])
        Z0 = pm.Data("logit_offset", data["logit_offset"])
        prec = pm.Data("row_precision", data["row_precision"])
        E = pm.Data("eval_design", data["eval_design"])
        y_obs = pm.Data("y_obs", data["y_obs"], dims="obs")
        phi = pm.Flat("phi", dims="basis")
        Phi = pt.set_subtensor(pt.zeros((p, K))[rows, cols], phi)
        B = M0 + pt.dot(M, Phi) * cs[None, :]
        pm.Potential("weight_prior", -0.5 * pt.sum(prec[:, None] * B**2))
        ci = int(spec.intercept)
        if spec.intercept:
            pm.Deterministic(
                "intercept", B[0, [k for k in range(K) if k != base]] - B[0, base], dims="contrast"
            )
        Wr = B[ci:, [classes.index(c) for c in wcls]]
        if spec.prior != "gaussian":
            Wr = Wr - B[ci:, [base]]
        pm.Deterministic("W", Wr, dims=("feature", "wclass"))
        pm.Deterministic("prob", pm.math.softmax(pt.dot(E, B), axis=1), dims=("point", "class"))
        Z = Z0 + pt.dot(Q, Phi) * cs[None, :]
        pm.Categorical("y", logit_p=Z, observed=y_obs, dims="obs")
    L, names = _coef_map(problem, data, free)
    return Built(
        model=model,
        key=(NAME, "regression", p, K, base, spec.intercept, spec.prior, len(labels)),  # not n
        data=data,
        observed="y",
        extra={"coef_map": L, "coef_names": names},
    )


def build_network(problem: Problem) -> Built:
    import pymc as pm
    import pytensor.tensor as pt

    spec = problem.spec
    classes, base = _classes(problem)
    K, H = len(classes), spec.hidden
    X = np.asarray(problem.X, float)
    labels, E = eval_points(problem)
    others = [c for i, c in enumerate(classes) if i != base]
    coords = {
        "feature": list(problem.features),
        "hidden": [f"h{j}" for j in range(H)],
        "class": classes,
        "contrast": others,
        "point": labels,
        "obs": list(range(X.shape[0])),
    }
    data = {
        "X": X,
        "eval_points": E,
        "weight_precision": np.asarray(1.0 / spec.tau**2),
        "hidden_bias_precision": np.asarray(
            0.0 if spec.hidden_bias_scale is None else 1.0 / spec.hidden_bias_scale**2
        ),
        "y_obs": _y(problem),
    }
    idx = [k for k in range(K) if k != base]
    with pm.Model(coords=coords) as model:
        Xd = pm.Data("X", data["X"])
        Ed = pm.Data("eval_points", data["eval_points"])
        wp = pm.Data("weight_precision", data["weight_precision"])
        bp = pm.Data("hidden_bias_precision", data["hidden_bias_precision"])
        y_obs = pm.Data("y_obs", data["y_obs"], dims="obs")
        W1 = pm.Flat("W1", dims=("feature", "hidden"))
        b1 = pm.Flat("b1", dims="hidden")
        W2 = pm.Flat("W2", dims=("hidden", "class"))
        b2 = pm.Flat("b2", dims="contrast")
        pm.Potential("weight_decay", -0.5 * wp * (pt.sum(W1**2) + pt.sum(W2**2)))
        pm.Potential("hidden_bias_prior", -0.5 * bp * pt.sum(b1**2))
        b2_all = pt.set_subtensor(pt.zeros(K)[idx], b2)

        def net(inputs):
            return pt.dot(pt.maximum(pt.dot(inputs, W1) + b1, 0.0), W2) + b2_all

        pm.Deterministic("prob", pm.math.softmax(net(Ed), axis=1), dims=("point", "class"))
        pm.Categorical("y", logit_p=net(Xd), observed=y_obs, dims="obs")
    return Built(
        model=model,
        key=(NAME, "network", X.shape[1], H, K, base, len(labels)),  # not n
        data=data,
        observed="y",
    )


def build_dirichlet(problem: Problem) -> Built:
    import pymc as pm

    classes, _ = _classes(problem)
    K = len(classes)
    n = problem.n
    data = {"alpha": np.full(K, problem.spec.alpha), "y_obs": _y(problem)}
    with pm.Model(coords={"class": classes, "point": ["any x"], "obs": list(range(n))}) as model:
        alpha = pm.Data("alpha", data["alpha"])
        y_obs = pm.Data("y_obs", data["y_obs"], dims="obs")
        q = pm.Dirichlet("q", a=alpha, dims="class")
        pm.Deterministic("prob", q[None, :], dims=("point", "class"))
        pm.Categorical("y", p=q, observed=y_obs, dims="obs")
    return Built(model=model, key=(NAME, "dirichlet", K), data=data, observed="y")  # not n


# ----------------------------------------------------------------------------- agreement
def agreement_pairs(problem: Problem) -> list[Pair]:
    k = f"_{problem.prior}"
    spec = problem.spec
    if spec.hidden:
        return [
            Pair(
                "find_map" + k,
                "sklearn" + k,
                "objective",
                "optimiser",
                bound=True,
                note="find_MAP's objective ≤ the best of the MLPClassifier restarts",
            ),
            Pair(
                "sklearn" + k,
                "n·loss_ (sklearn)",
                "objective",
                "arithmetic",
                right_values=lambda e: {"objective": e["sklearn" + k].info["n·loss_"]},
                terms=problem.n,
                note="our objective at sklearn's answer = n × its loss_ (alpha = 1/τ²)",
            ),
        ]
    if spec.prior == "flat" and separation(problem).separated:
        return []
    if intercept_only(problem):
        ref = "closed_form" + k
        pairs = [
            Pair("find_map" + k, ref, "mean", "optimiser", note="find_MAP = closed form"),
            Pair("nuts" + k, "exact_posterior" + k, "mean", "monte carlo"),
            Pair("nuts" + k, "exact_posterior" + k, "sd", "monte carlo"),
        ]
        if spec.prior == "flat":
            pairs += [
                Pair("newton" + k, ref, "mean", "optimiser", note="Newton = p̂"),
                Pair("statsmodels" + k, ref, "mean", "optimiser"),
                Pair("laplace" + k, "statsmodels" + k, "sd", "optimiser", params="intercepts"),
            ]
        return pairs
    pairs = [
        Pair("find_map" + k, "newton" + k, "mean", "optimiser", note="find_MAP = Newton"),
        Pair("laplace" + k, "newton" + k, "sd", "optimiser", note="inverse Hessian at the mode"),
        Pair("sklearn" + k, "newton" + k, "mean", "optimiser", note="C = τ² or ∞, contrasts"),
        Pair("find_map" + k, "newton" + k, "objective", "optimiser", note="same objective value"),
    ]
    if spec.prior == "flat":
        pairs += [
            Pair("statsmodels" + k, "newton" + k, "mean", "optimiser"),
            Pair(
                "laplace" + k,
                "statsmodels" + k,
                "sd",
                "optimiser",
                note="Laplace sd at the MLE = MNLogit standard errors",
            ),
        ]
    return pairs


# ----------------------------------------------------------------------------- the family
class CategoricalFamily:
    """Softmax regression, the one-hidden-layer softmax network and the intercept-only
    categorical model through the family contract (``models.family.Family``)."""

    name = NAME
    summary = (
        "softmax regression and a one-hidden-layer network: cross-entropy is the categorical NLL"
    )
    priors = ("flat", "gaussian", "dirichlet")
    methods = (
        "closed_form",
        "exact_posterior",
        "newton",
        "find_map",
        "laplace",
        "nuts",
        "statsmodels",
        "sklearn",
    )
    sd_scale_methods = ("newton", "exact_posterior")
    # softmax regression is log-concave, the network is not: a non-PD Hessian at a network
    # start is a saddle or plateau of that start, judged by the Newton check instead
    log_concave = False
    outcome = "categorical"
    Options = CategoricalOptions

    # --- options, CLI and data
    def add_cli_arguments(self, group) -> list[str]:
        group.add_argument(
            "--baseline",
            default=None,
            metavar="CLASS",
            help="class whose logits are 0 under flat priors (default: first class sorted)",
        )
        group.add_argument(
            "--hidden",
            type=int,
            default=None,
            metavar="H",
            help="hidden relu units of a one-hidden-layer network (0: softmax regression)",
        )
        return ["baseline", "hidden"]

    def options_from_args(self, args) -> CategoricalOptions:
        hidden = args.hidden or 0
        if hidden < 0:
            raise ValueError(f"--hidden must be 0 or more, not {hidden}")
        return CategoricalOptions(baseline=args.baseline, hidden=hidden)

    def encode_target(self, cells, column: str, options) -> tuple[np.ndarray, dict]:
        options = options or CategoricalOptions()
        labels = parse_labels(cells, column)
        found = set(labels)
        try:
            classes = sorted(found, key=float)
        except ValueError:
            classes = sorted(found)
        if len(classes) > max(2, len(labels) // 2):
            raise ValueError(
                f"target column {column!r} has {len(classes)} different values in "
                f"{len(labels)} rows: a class needs repeated labels (is it a continuous "
                "variable? then use --family normal)"
            )
        if len(classes) < 2:
            raise ValueError(
                f"target column {column!r} has one class only ({classes[0]!r}); nothing to fit"
            )
        baseline = classes[0] if options.baseline is None else match_label(options.baseline, found)
        if baseline not in found:
            shown = ", ".join(repr(c) for c in classes[:8]) + (" …" if len(classes) > 8 else "")
            raise ValueError(
                f"--baseline {baseline!r} is not a class of target column {column!r} "
                f"(classes: {shown})"
            )
        code = {c: i for i, c in enumerate(classes)}
        y = np.array([code[lab] for lab in labels], dtype=float)
        return y, class_info(classes, y, baseline)

    def reserved_names(self, options) -> frozenset[str]:
        return frozenset({"intercept"})

    def default_priors(self, settings: Settings) -> tuple[str, ...]:
        options = settings.options or CategoricalOptions()
        return ("gaussian",) if options.hidden else ("flat", "gaussian")

    # --- specs, layouts, models
    def make_spec(self, settings: Settings, prior: str) -> CategoricalSpec:
        options = settings.options or CategoricalOptions()
        if prior not in self.priors:
            raise ValueError(f"prior {prior!r} is not one of {self.priors}")
        if options.hidden and prior != "gaussian":
            raise ValueError(
                f"the network (--hidden {options.hidden}) is fitted with the gaussian prior "
                "only: with flat priors its posterior is improper and its MLE need not exist"
            )
        if options.hidden and not settings.intercept:
            raise ValueError("the network always has biases; --no-intercept is for --hidden 0")
        if settings.intercept_prior_scale is not None:
            raise ValueError(
                "categorical intercepts are flat and identified against the baseline class; "
                "--intercept-prior-scale is not offered"
            )
        return CategoricalSpec(
            prior=prior,
            tau=settings.prior_scale if prior == "gaussian" else None,
            intercept=settings.intercept,
            hidden=options.hidden,
            alpha=options.dirichlet_alpha,
        )

    def layout(self, features, target_info: dict, spec: CategoricalSpec) -> ParamLayout:
        classes = list(target_info["classes"])
        base = classes.index(target_info["baseline"])
        others = [c for i, c in enumerate(classes) if i != base]
        labels = ["any x"] if not features else [f"x̄[{c}]" for c in classes]
        params: list[Param] = []
        if spec.prior == "dirichlet":
            if features:
                raise ValueError("the Dirichlet prior is for the intercept-only model")
        elif spec.hidden:
            H = [f"h{j}" for j in range(spec.hidden)]
            params += [
                Param(f"W1[{f},{h}]", "W1", (("feature", f), ("hidden", h)), "weights")
                for f in features
                for h in H
            ]
            params += [Param(f"b1[{h}]", "b1", (("hidden", h),), "biases") for h in H]
            params += [
                Param(f"W2[{h},{c}]", "W2", (("hidden", h), ("class", c)), "weights")
                for h in H
                for c in classes
            ]
            params += [Param(f"b2[{c}]", "b2", (("contrast", c),), "biases") for c in others]
        else:
            if spec.intercept:
                params += [
                    Param(f"{c}:intercept", "intercept", (("contrast", c),), "intercepts")
                    for c in others
                ]
            wcls = weight_classes(spec, classes, base)
            params += [
                Param(f"{c}:{f}", "W", (("feature", f), ("wclass", c)), "weights")
                for c in wcls
                for f in features
            ]
        params += [
            Param(nm, "prob", (("point", lab), ("class", c)), "probabilities")
            for nm, lab, c in _prob_names(labels, classes)
        ]
        return ParamLayout(tuple(params))

    def supports(self, method: str, problem: Problem) -> Support:
        spec = problem.spec
        only = intercept_only(problem)
        if method in ("closed_form", "exact_posterior") and not only:
            return Support.not_offered("closed forms exist for the intercept-only model only")
        if method == "newton" and (spec.hidden or spec.prior == "dirichlet"):
            return Support.not_offered("Newton is our softmax-regression solver")
        if method == "statsmodels" and (spec.prior != "flat" or spec.hidden):
            return Support.not_offered("statsmodels' MNLogit fits the MLE only")
        if method == "sklearn":
            if spec.prior == "dirichlet" or only:
                return Support.not_offered("scikit-learn needs at least one feature")
            if len(problem.target_info["classes"]) == 2 and spec.prior == "gaussian":
                return Support.unavailable(
                    "scikit-learn fits two classes with one weight vector (a different prior)"
                )
        if method == "laplace" and spec.prior == "dirichlet":
            return Support.not_offered(
                "q lives on the simplex: a Laplace approximation in the transform's "
                "coordinates is not one of q"
            )
        if method == "laplace" and spec.hidden:
            return Support.not_offered(
                "the network's posterior is multimodal: a Gaussian at one mode is not an "
                "approximation of it"
            )
        if method == "find_map" and spec.hidden:
            # find_MAP minimises the weight-decay objective itself (b1 flat, as scikit-learn)
            return Support(
                spec=replace(spec, hidden_bias_scale=None),
                note="b1 flat: the weight-decay objective, as MLPClassifier; NUTS uses "
                f"b1 ~ N(0, {HIDDEN_BIAS_SCALE:g}²)",
            )
        if spec.prior == "flat" and not only and separation(problem).separated:
            why = separation_reason(problem)
            if method == "nuts":
                why += "; with flat priors the posterior is improper"
            return Support.unavailable(why)
        return Support()

    def references(self) -> dict[str, Reference]:
        refs = [
            Reference("closed_form", closed_form_fit, description="p̂ / Dirichlet mode"),
            Reference("exact_posterior", exact_posterior_fit, description="Dirichlet posterior"),
            Reference("newton", newton_fit, description="our Newton, block Hessian (NumPy)"),
            Reference("statsmodels", statsmodels_fit, description="sm.MNLogit"),
            Reference(
                "sklearn", _sklearn, seeded=True, description="LogisticRegression / MLPClassifier"
            ),
        ]
        return {r.name: r for r in refs}

    def build_model(self, problem: Problem) -> Built:
        if problem.spec.prior == "dirichlet":
            return build_dirichlet(problem)
        if problem.spec.hidden:
            return build_network(problem)
        return build_regression(problem)

    def laplace_sd(self, fit, built: Built, point, problem: Problem) -> dict[str, float]:
        """Cov(coefficients) = L Cov(phi) L' (L the linear map from phi to the layout's
        coefficients) from the exact inverse Hessian at the mode; probabilities have none."""
        sd, _, _ = basis_laplace(fit, built.extra["coef_map"])
        return dict(zip(built.extra["coef_names"], map(float, sd), strict=True))

    def map_starts(self, problem: Problem) -> list[Start]:
        if problem.spec.hidden:
            return [Start(f"jittered start #{k + 1}") for k in range(MAP_STARTS)]
        return [Start("default point")]

    def smooth(self, problem: Problem) -> bool:
        return not problem.spec.hidden  # relu kinks

    def sweep(self, settings, features):
        options = settings.options or CategoricalOptions()
        if options.hidden:
            return tau_sweep(
                settings,
                (),
                max_starts=SWEEP_STARTS,
                note=f"the best of {SWEEP_STARTS} find_MAP starts per grid point; the modes "
                "are symmetric copies and the path may jump between them",
            )
        if features:
            return tau_sweep(
                settings,
                ("newton", "sklearn", "nuts"),
                "W",  # all K weight vectors under the Gaussian prior; intercepts are flat
                "wclass",  # the likelihood sees the weights' differences between classes
                shown_as="flat",
                # separated classes at weak priors stretch the posterior along combinations of
                # the weights: 4-6 times fewer gradients and larger ESS than the diagonal mass
                # matrix on iris (τ = 16-1000); on the quasi-separated Bernoulli case it
                # diverged, so the other families keep the diagonal one
                low_rank=True,
                note="the weights are shown as contrasts W_k − W_base, the flat prior's "
                "parameters: under a weak N(0, τ²) prior on all K weight vectors their common "
                "shift has posterior sd τ/√K, which no data narrow, while the contrasts are "
                "what the likelihood identifies",
            )
        return Sweep(  # intercept only: the Dirichlet's pseudo-count α - 1
            prior="dirichlet",
            symbol="α",
            value=float(options.dirichlet_alpha),
            with_value=lambda s, v: replace(
                s, options=replace(s.options or CategoricalOptions(), dirichlet_alpha=float(v))
            ),
            grid=lambda u: 1.0 + np.asarray(u, dtype=float),
            methods=("closed_form", "exact_posterior"),
            stronger="large",
            note="α − 1 is the pseudo-count added to every class; α → 1 gives the MLE",
        )

    def reexpress(self, values: dict, source: Problem, target: Problem):
        """Softmax regression: flat priors have the K − 1 contrasts C_k = W_k − W_base as
        weights, the Gaussian prior the weights of all K classes.  Contrasts become the
        representative with Σ_k W_k = 0 (what the Gaussian prior's mode satisfies, so the MLE's
        is its τ → ∞ limit); K weight vectors become W_k − W_base.  The intercepts (contrasts
        under every prior) and the probabilities mean the same; the weights do not, unless
        both problems have the same weight classes."""
        classes, base = _classes(source)
        src = weight_classes(source.spec, classes, base)
        dst = weight_classes(target.spec, classes, base)
        shared = frozenset(source.layout.names) & frozenset(target.layout.names)
        if source.spec.hidden or target.spec.hidden or src == dst:
            return {k: v for k, v in values.items() if k in shared}, shared
        weights = {f"{c}:{f}" for c in classes for f in source.features}
        same = shared - weights
        out = {k: v for k, v in values.items() if k in same}
        for f in source.features:
            names = [f"{c}:{f}" for c in src]
            if not all(nm in values for nm in names):
                continue
            given = dict(zip(src, (np.asarray(values[nm], float) for nm in names), strict=True))
            zero = np.zeros_like(given[src[0]])  # the baseline's weight, if not a parameter
            V = np.stack([given.get(c, zero) for c in classes])  # (K, draws...)
            V = V - V.mean(axis=0) if len(dst) == len(classes) else V - V[base]
            for c in dst:
                v = V[classes.index(c)]
                out[f"{c}:{f}"] = v.item() if v.ndim == 0 else v
        return out, same

    def predict(self, problem: Problem, params: dict, X: np.ndarray) -> np.ndarray:
        """(m, K) class probabilities at ``params`` for the rows of ``X``."""
        return softmax(logits(problem, params, X), axis=1)

    def objective(self, problem: Problem, params: dict, method: str) -> float | None:
        """The negative log posterior at an estimate (``objective``); None for the posterior
        mean of the network, which is not a point of any mode (symmetric modes average out)."""
        if problem.spec.hidden and method == "nuts":
            return None
        names = _model_params(problem)
        if not all(nm in params for nm in names):
            return None
        return objective(problem, params)

    # --- checks and text
    def conditioning(self, problem: Problem) -> float:
        return la.condition_number(la.design(problem.X, problem.spec.intercept))

    def ledger(self, problem: Problem, points: dict, rng) -> list[LedgerRow]:
        """At each estimate, two arbitrary points and logits up to |z| = 1000: the NLL from the
        pmf and n·log_loss (where |z| ≤ 30: beyond, softmax underflows to 0 and log_loss clips)
        against the cross-entropy from logits and the NLL of log_softmax (the two framework
        routes, stable at any logits).  Intercept-only: NLL/n = H(p̂, q) = H(p̂) + KL(p̂‖q)."""
        from sklearn.metrics import log_loss

        classes, _ = _classes(problem)
        K = len(classes)
        y = _y(problem)
        X = np.asarray(problem.X, float)
        names = _model_params(problem)
        usable = [(lb, pt_) for lb, pt_ in points.items() if all(nm in pt_ for nm in names)]
        Zs = [(lb, logits(problem, pt_, X)) for lb, pt_ in usable]
        base = Zs[0][1] if Zs else np.zeros((len(y), K))
        for k in range(2):
            Zs.append((f"arbitrary #{k + 1}", base + rng.normal(size=base.shape)))
        D = rng.normal(size=base.shape)
        Zs.append(
            (f"extreme logits (max |z| = {EXTREME_LOGIT:g})", D * EXTREME_LOGIT / np.abs(D).max())
        )
        rows = []
        for label, Z in Zs:
            zmax = float(np.max(np.abs(Z)))
            values = {
                "max |z|": zmax,
                NLL_CE: sm_.ce_from_logits(y, Z),
                NLL_LOGSOFTMAX: sm_.nll_of_log_softmax(y, Z),
            }
            checks = [(NLL_CE, NLL_LOGSOFTMAX)]
            magnitude = float(
                np.sum(np.abs(logsumexp(Z, axis=1))) + np.sum(np.abs(Z[np.arange(len(y)), y]))
            )
            if zmax <= LOGLOSS_MAX_LOGIT:
                P = softmax(Z, axis=1)
                values[NLL_PMF] = sm_.nll_pmf(y, P)
                values[NLL_LOGLOSS] = float(len(y) * log_loss(y, P, labels=list(range(K))))
                checks += [(NLL_CE, NLL_PMF), (NLL_CE, NLL_LOGLOSS)]
            if intercept_only(problem) and np.allclose(Z, Z[:1]):
                q = softmax(Z[0])
                ident = sm_.information_identity(y, q)
                for key, ours in zip(
                    ("nll / n", "H(p_hat, q)", "H(p_hat) + KL(p_hat || q)"), IDENTITY, strict=True
                ):
                    values[ours] = ident[key]
                checks += [(IDENTITY[0], IDENTITY[1]), (IDENTITY[1], IDENTITY[2])]
            rows.append(
                LedgerRow(at=label, values=values, checks=tuple(checks), magnitude=magnitude)
            )
        return rows

    def agreement_pairs(self, problem: Problem) -> list[Pair]:
        return agreement_pairs(problem)

    def translations(self, problem: Problem, mode: dict | None = None, seed: int = 0) -> list:
        """Softmax regression / network (Gaussian prior) or label smoothing (Dirichlet) rows."""
        from models import translation

        return translation.categorical_rows(problem, seed)

    def describe(self, problems: dict[str, Problem], estimates: dict) -> dict:
        problem = next(iter(problems.values()))
        classes, base = _classes(problem)
        spec = problem.spec
        only = intercept_only(problem)
        tau = problems["gaussian"].spec.tau if "gaussian" in problems else None
        n = problem.n
        if only:
            likelihood = "y_i ~ Categorical(q), q = softmax(b) with b_baseline = 0"
        elif spec.hidden:
            likelihood = (
                f"y_i ~ Categorical(softmax(z_i)), z_i = W2ᵀ relu(W1ᵀ x_i + b1) + b2, "
                f"{spec.hidden} hidden units"
            )
        else:
            likelihood = "y_i ~ Categorical(softmax(z_i)), z_ik = b_k + x_i · W_k"
        priors = []
        if "flat" in problems:
            priors.append(
                f"flat: the baseline class {classes[base]!r} has logits 0; the other "
                f"{len(classes) - 1} classes' (b_k, W_k) ~ Flat(): log-odds contrasts "
                "against the baseline (as statsmodels MNLogit)"
            )
        if tau and spec.hidden:
            priors.append(
                f"gaussian: W1, W2 ~ N(0, {tau:g}²) (weight decay); b2 flat with "
                f"b2[{classes[base]}] = 0; b1 ~ N(0, {HIDDEN_BIAS_SCALE:g}²) for NUTS (a flat b1 "
                "makes the posterior improper: a dead relu unit leaves the likelihood flat "
                "along b1 → −∞), flat for find_MAP and MLPClassifier (the weight-decay "
                "objective, which needs a mode, not a proper posterior)"
            )
        elif tau:
            priors.append(
                f"gaussian: W_k ~ N(0, {tau:g}² I) for every one of the K classes (as "
                "scikit-learn's multinomial L2); intercepts flat, identified as contrasts "
                f"against {classes[base]!r}"
            )
        if "dirichlet" in problems:
            a = problems["dirichlet"].spec.alpha
            priors.append(
                f"dirichlet: q ~ Dirichlet({a:g}, …, {a:g}): MAP (α + c − 1)/(Σα + n − K)"
                + (" = add-one (Laplace) smoothing" if a == 2 else "")
            )
        text = {
            "likelihood": likelihood,
            "priors": priors,
            "loss": "−log p(y | θ) = −Σ log softmax(z_i)_{y_i} = Σ [logsumexp(z_i) − z_{i,y_i}] "
            "(cross-entropy from logits) = n · log_loss\n⇒ maximising the likelihood = "
            "minimising the cross-entropy = minimising KL(p̂_data ‖ model) (the entropy of the "
            "data does not depend on θ)",
            "penalty": "Normal(0, τ²) prior on the weights ⇔ + Σ w²/(2τ²) in −log p ⇔ "
            "LogisticRegression(C = τ²) ⇔ MLPClassifier(alpha = 1/τ²) (it minimises "
            "mean log-loss + alpha/(2n)·Σ‖W‖², biases unpenalised)",
            "translation": translation(tau, n, spec.hidden),
            "identifiability": "The likelihood does not change when the same vector is added "
            "to every class's (b_k, W_k). Flat priors pin that shift by setting the baseline "
            "class's logits to 0, so the K − 1 other vectors are contrasts. The Gaussian prior "
            "instead puts N(0, τ²) on all K vectors, which pins the shift through the prior "
            "(its mode has Σ_k W_k = 0). These are different priors: N(0, τ²) on all K "
            "vectors implies a N(0, 2τ²) prior on each contrast W_k − W_b, correlated across "
            "k, not the N(0, τ²) a prior on K − 1 contrasts would give. Estimates are "
            "therefore compared on what both parametrisations identify: the contrasts of "
            "the intercepts, the weights under one prior, and predicted probabilities "
            "P(class | x̄[c]) at each class's mean feature vector.",
            "ledger": "the negative log-likelihood as the cross-entropy from logits and as the "
            "NLL of log_softmax (the two ways frameworks compute it), and where |z| ≤ 30 from "
            "the pmf and as n·log_loss, at the estimates, at arbitrary points and at logits up "
            f"to |z| = {EXTREME_LOGIT:g}"
            + ("; and NLL/n = H(p̂, q) = H(p̂) + KL(p̂‖q) (scipy.stats.entropy)" if only else ""),
        }
        if spec.hidden:
            text["multimodality"] = (
                "The network's posterior has many equivalent modes: permuting the hidden units, "
                "or a unit that is dead on every row, gives the same predictions. NUTS chains "
                "settle in different modes, so r_hat of the raw weights is large and their "
                "posterior means mix modes; this is the model, not a sampler failure. "
                "Compare predicted probabilities and objective values, never raw weights. "
                f"find_MAP runs from {MAP_STARTS} jittered starts (all listed in results.json) "
                f"and keeps the best; scikit-learn from {SKLEARN_RESTARTS} random states."
            )
        flat = problems.get("flat")
        if flat is not None and not only and separation(flat).separated:
            text["separation"] = (
                separation_reason(flat)
                + ". Flat-prior estimates are therefore reported as unavailable; the Gaussian "
                "prior (weight decay) keeps the mode finite."
            )
        return text


def translation(tau: float | None, n: int, hidden: int) -> list[dict]:
    rows = [{"prior": "flat (baseline logits 0)", "penalty": "none: LogisticRegression(C=np.inf)"}]
    if tau:
        lib = (
            f"MLPClassifier(alpha = 1/τ² = {1 / tau**2:.6g})"
            if hidden
            else f"LogisticRegression(C = τ² = {tau**2:.6g})"
        )
        rows.append(
            {
                "prior": f"W ~ Normal(0, {tau:g}²)",
                "penalty": f"+ Σ w²/(2τ²): {lib}; weight decay on the mean cross-entropy "
                f"λ = 1/(nτ²) = {1 / (n * tau**2):.6g}",
            }
        )
    return rows


def _sklearn(problem: Problem, inputs: dict, seed: int) -> dict:
    return mlp_fit(problem, inputs, seed) if problem.spec.hidden else sklearn_fit(problem, inputs)


def class_info(classes: list[str], y: np.ndarray, baseline: str) -> dict:
    counts = np.bincount(np.asarray(y, int), minlength=len(classes))
    return {
        "classes": list(classes),
        "baseline": baseline,
        "counts": {c: int(v) for c, v in zip(classes, counts, strict=True)},
    }


FAMILY = CategoricalFamily()
