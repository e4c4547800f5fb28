"""The intercept-only categorical model's closed forms: p̂ is the MLE and our Newton reaches it;
the Dirichlet prior's mode and posterior moments are the textbook ones (scipy.stats.dirichlet),
and the flat prior on the baseline logits gives E[log q_k/q_0] under Dirichlet(counts)."""

from __future__ import annotations

import numpy as np
import pytest
from tolerances import MCSE_Z

from nll_losses.models.families.categorical import FAMILY
from nll_losses.models.families.categorical.references import (
    closed_form_fit,
    exact_posterior_fit,
    newton_fit,
)
from nll_losses.models.families.categorical.spec import CategoricalOptions, class_info
from nll_losses.models.family import Settings, new_problem

# p̂ = count / n is one correctly rounded IEEE 754 division (error ≤ ½ ulp < 1e-16 for values
# below 1): 1e-15 absolute is that rounding with margin
DIVISION_ATOL = 1e-15
# our Newton solver stops when the step still to go is ≤ NEWTON_STEP_TOL = 1e-10 sds
# (models.numerics.logistic); the sds of these p̂ are below 0.12, so it ends within 1e-10
NEWTON_ATOL = 1e-10
# the Dirichlet mode and moments are a few float64 operations on the same numbers in ours and
# in scipy.stats.dirichlet (each ≤ ε relative): 1e-12 relative is that with margin
FEW_OPS_RTOL = 1e-12


def _problem(y, classes, prior, alpha=2.0):
    y = np.asarray(y, float)
    info = class_info(classes, y, classes[0])
    settings = Settings(options=CategoricalOptions(dirichlet_alpha=alpha))
    return new_problem(FAMILY, np.zeros((len(y), 0)), y, (), info, settings, prior)


def test_intercept_only_closed_forms():
    """p̂ is the MLE, our Newton reaches it; the Dirichlet mode and posterior moments are the
    textbook ones (checked against scipy.stats.dirichlet)."""
    from scipy.stats import dirichlet

    y = [0] * 3 + [1] * 7 + [2] * 10
    classes = ["r", "s", "t"]
    flat = _problem(y, classes, "flat")
    cf = closed_form_fit(flat, {})["mean"]
    nt = newton_fit(flat, {})["mean"]
    assert [cf[f"P({c})"] for c in classes] == pytest.approx([0.15, 0.35, 0.5], abs=DIVISION_ATOL)
    for c in classes:
        assert nt[f"P({c})"] == pytest.approx(cf[f"P({c})"], abs=NEWTON_ATOL)
    post = exact_posterior_fit(_problem(y, classes, "dirichlet", 1.5), {})
    a = np.array([3, 7, 10]) + 1.5
    assert [post["mean"][f"P({c})"] for c in classes] == pytest.approx(
        dirichlet.mean(a), rel=FEW_OPS_RTOL
    )
    assert [post["sd"][f"P({c})"] for c in classes] == pytest.approx(
        np.sqrt(dirichlet.var(a)), rel=FEW_OPS_RTOL
    )
    mode = closed_form_fit(_problem(y, classes, "dirichlet", 1.5), {})["mean"]
    assert [mode[f"P({c})"] for c in classes] == pytest.approx(
        (a - 1) / (a.sum() - 3), rel=FEW_OPS_RTOL
    )
    # flat prior on the baseline logits: E[log q_k/q_0] under Dirichlet(c), by simulation
    draws = dirichlet.rvs(np.array([3.0, 7, 10]), size=400_000, random_state=0)
    lr = np.log(draws[:, 1] / draws[:, 0])
    ex = exact_posterior_fit(flat, {})
    se = lr.std() / np.sqrt(len(lr))
    assert abs(ex["mean"]["s:intercept"] - lr.mean()) <= MCSE_Z * se  # tests/tolerances.py
