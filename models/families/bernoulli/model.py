"""The Bernoulli family's PyMC model (the preconditioned basis)."""

from __future__ import annotations

import numpy as np

from models.families.bernoulli.spec import NAME, _design
from models.family import (
    Built,
    Problem,
)
from models.numerics import linalg as la


# ----------------------------------------------------------------------------- PyMC model
def model_data(problem: Problem) -> tuple[dict, la.Preconditioner]:
    spec = problem.spec
    A = _design(problem)
    n, p = A.shape
    pre = la.precondition(A, spec.intercept)
    y = np.asarray(problem.y, float)
    ybar = float(np.clip(y.mean(), 1.0 / (n + 1), n / (n + 1)))
    c = 1.0 / np.sqrt(ybar * (1 - ybar))
    m0 = np.zeros(p)
    if spec.intercept:
        m0[0] = np.log(ybar / (1 - ybar))
    data = {
        "basis_matrix": c * pre.Q,
        "basis_to_coef": c * pre.M,
        "coef_offset": m0,
        "logit_offset": A @ m0,
        "prior_precision": spec.prior_precision(p),
        "y_obs": y.astype(np.int64),
    }
    return data, pre


def build_model(problem: Problem) -> Built:
    import pymc as pm
    import pytensor.tensor as pt

    spec = problem.spec
    data, pre = model_data(problem)
    n, p = pre.Q.shape
    coords = {"feature": list(problem.features), "basis": list(range(p)), "obs": list(range(n))}
    with pm.Model(coords=coords) as model:
        basis = pm.Data("basis_matrix", data["basis_matrix"], dims=("obs", "basis"))
        to_coef = pm.Data("basis_to_coef", data["basis_to_coef"])
        m0 = pm.Data("coef_offset", data["coef_offset"])
        z0 = pm.Data("logit_offset", data["logit_offset"], dims="obs")
        prec = pm.Data("prior_precision", data["prior_precision"])
        y_obs = pm.Data("y_obs", data["y_obs"], dims="obs")
        phi = pm.Flat("phi", dims="basis")
        beta = m0 + pt.dot(to_coef, phi)
        if spec.intercept:
            pm.Deterministic("intercept", beta[0])
            pm.Deterministic("w", beta[1:], dims="feature")
        else:
            pm.Deterministic("w", beta, dims="feature")
        pm.Potential("coef_prior", -0.5 * pt.sum(prec * beta**2))
        z = z0 + pt.dot(basis, phi)
        if spec.jeffreys:
            # 1/2 log det(B' W B) = sum log diag chol(B' W B); W = p (1 - p)
            weights = pm.math.sigmoid(z) * pm.math.sigmoid(-z)
            info = pt.dot(basis.T * weights, basis)
            chol = pt.linalg.cholesky(info)
            pm.Potential("jeffreys", pt.sum(pt.log(pt.diag(chol))))
        pm.Bernoulli("y", logit_p=z, observed=y_obs, dims="obs")
    return Built(
        model=model,
        key=(NAME, p - int(spec.intercept), spec.intercept, spec.jeffreys),  # not n
        data=data,
        observed="y",
        extra={"basis_to_coef": data["basis_to_coef"]},
    )
