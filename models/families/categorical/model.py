"""The categorical family's PyMC models: softmax regression, the one-hidden-layer network and the
Dirichlet (intercept-only) model."""

from __future__ import annotations

import numpy as np

from models.families.categorical.params import (
    _classes,
    _precision,
    _regression_params,
    _y,
    eval_points,
    weight_classes,
)
from models.families.categorical.spec import NAME
from models.family import (
    Built,
    Problem,
)
from models.numerics import linalg as la


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
