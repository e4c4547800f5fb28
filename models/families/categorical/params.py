"""The categorical family's parameters: names, coefficient matrices, logits, probabilities and the
objective."""

from __future__ import annotations

import numpy as np
from scipy.special import softmax

from models.families.categorical.spec import CategoricalSpec
from models.family import (
    Problem,
)
from models.numerics import linalg as la
from models.numerics import softmax as sm_


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
