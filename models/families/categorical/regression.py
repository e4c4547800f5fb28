"""Softmax regression, ``z_ik = b_k + x_i · W_k`` (with no features: the intercept-only model
``q = softmax(b)``): its parameters, coefficient matrix, logits, objective and PyMC model.

Flat priors have the K − 1 contrasts against the baseline as weights; the Gaussian prior the
weights of all K classes (see the package docstring).  The model optimises and samples ``phi``
in an orthonormal basis of the centred, column-scaled design (``linalg.precondition``)."""

from __future__ import annotations

import numpy as np

from nll_losses.models.families.categorical.params import (
    class_codes,
    classes_and_baseline,
    eval_points,
)
from nll_losses.models.families.categorical.spec import NAME, CategoricalSpec
from nll_losses.models.family import Built, Param, Problem
from nll_losses.models.numerics import linalg as la
from nll_losses.models.numerics import softmax as sm_


def weight_classes(spec: CategoricalSpec, classes: list[str], base: int) -> list[str]:
    """Classes whose weight vectors are parameters: all K under the Gaussian prior (it
    identifies them), the K - 1 non-baseline ones (contrasts) under flat priors."""
    return (
        list(classes)
        if spec.prior == "gaussian"
        else [c for i, c in enumerate(classes) if i != base]
    )


def layout_params(features, classes: list[str], base: int, spec: CategoricalSpec) -> list[Param]:
    others = [c for i, c in enumerate(classes) if i != base]
    params = []
    if spec.intercept:
        params += [
            Param(f"{c}:intercept", "intercept", (("contrast", c),), "intercepts") for c in others
        ]
    return params + [
        Param(f"{c}:{f}", "W", (("feature", f), ("wclass", c)), "weights")
        for c in weight_classes(spec, classes, base)
        for f in features
    ]


def coefficient_matrix(problem: Problem, params: dict) -> np.ndarray:
    """(p, K) coefficients B (row 0 the intercepts when present) from the layout's names, in
    the baseline gauge: B[:, base] = 0 under flat priors, b_base = 0 under the Gaussian prior."""
    classes, base = classes_and_baseline(problem)
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


def logits(problem: Problem, params: dict, X: np.ndarray) -> np.ndarray:
    """(m, K) logits at ``params`` for the rows of ``X``."""
    X = np.asarray(X, float)
    return la.design(X, problem.spec.intercept) @ coefficient_matrix(problem, params)


def row_precision(problem: Problem) -> np.ndarray:
    """1/tau^2 per row of B (0: flat; the intercept row is always flat)."""
    spec = problem.spec
    p = len(problem.features) + int(spec.intercept)
    prec = np.full(p, 1.0 / spec.tau**2 if spec.prior == "gaussian" else 0.0)
    if spec.intercept:
        prec[0] = 0.0
    return prec


def objective(problem: Problem, params: dict) -> float:
    """The negative log posterior at ``params`` (up to a constant): NLL + Σ w²/(2τ²) over the
    weights under the Gaussian prior."""
    B = coefficient_matrix(problem, params)
    A = la.design(problem.X, problem.spec.intercept)
    return sm_.objective(A, class_codes(problem), B, row_precision(problem))


def regression_params(problem: Problem, B: np.ndarray) -> dict[str, float]:
    """Layout names from a (p, K) B in any gauge: contrasts against the baseline."""
    classes, base = classes_and_baseline(problem)
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


def reexpress(values: dict, source: Problem, target: Problem):
    """Flat priors have the K − 1 contrasts C_k = W_k − W_base as weights, the Gaussian prior
    the weights of all K classes.  Contrasts become the representative with Σ_k W_k = 0 (what
    the Gaussian prior's mode satisfies, so the MLE's is its τ → ∞ limit); K weight vectors
    become W_k − W_base.  The intercepts (contrasts under every prior) and the probabilities
    mean the same; the weights do not, unless both problems have the same weight classes."""
    classes, base = classes_and_baseline(source)
    src = weight_classes(source.spec, classes, base)
    dst = weight_classes(target.spec, classes, base)
    shared = frozenset(source.layout.names) & frozenset(target.layout.names)
    if src == dst:
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


# ----------------------------------------------------------------------------- PyMC model
def _model_data(problem: Problem) -> tuple[dict, list[tuple[int, int]]]:
    """The pm.Data values of the model (basis, scales, offsets; see the module docstring) and
    the (row, class) entries of Phi that are free (the gauge)."""
    spec = problem.spec
    classes, base = classes_and_baseline(problem)
    K = len(classes)
    A = la.design(problem.X, spec.intercept)
    n, p = A.shape
    pre = la.precondition(A, spec.intercept)
    counts = np.bincount(class_codes(problem), minlength=K)
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
        "row_precision": row_precision(problem),
        "eval_design": la.design(E, spec.intercept),
        "y_obs": class_codes(problem),
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
        vals = regression_params(problem, B)
        return np.array(list(vals.values())), list(vals)

    r0, names = reported(np.zeros(len(free)))
    L = np.column_stack([reported(e)[0] - r0 for e in np.eye(len(free))])
    return L, names


def build(problem: Problem) -> Built:
    import pymc as pm
    import pytensor.tensor as pt

    spec = problem.spec
    classes, base = classes_and_baseline(problem)
    data, free = _model_data(problem)
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
