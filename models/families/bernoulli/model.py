"""The Bernoulli family's PyMC model (the preconditioned basis)."""

from __future__ import annotations

import numpy as np

from nll_losses.models.families.bernoulli.spec import NAME, _design
from nll_losses.models.family import (
    Built,
    Problem,
)
from nll_losses.models.linear_predictor import basis_data, coords, linear_block
from nll_losses.models.numerics import linalg as la


# ----------------------------------------------------------------------------- PyMC model
def model_data(problem: Problem) -> tuple[dict, la.Preconditioner]:
    """m0 starts the intercept at logit ȳ, c = 1/sqrt(ȳ(1 − ȳ)) (``models.linear_predictor``)."""
    A = _design(problem)
    n, p = A.shape
    y = np.asarray(problem.y, float)
    ybar = float(np.clip(y.mean(), 1.0 / (n + 1), n / (n + 1)))
    m0 = np.zeros(p)
    if problem.spec.intercept:
        m0[0] = np.log(ybar / (1 - ybar))
    return basis_data(problem, A, 1.0 / np.sqrt(ybar * (1 - ybar)), m0, "logit_offset")


def build_model(problem: Problem) -> Built:
    import pymc as pm
    import pytensor.tensor as pt

    spec = problem.spec
    data, pre = model_data(problem)
    p = pre.Q.shape[1]
    with pm.Model(coords=coords(problem, p)) as model:
        z, basis, y_obs = linear_block(problem, data, "logit_offset")
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
