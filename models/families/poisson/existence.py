"""Whether the Poisson MLE exists: by the shared linear program (``models.numerics.recession``).

It does not exist iff some direction d ≠ 0 keeps x_i·d = 0 at every positive count and
x_i·d ≤ 0 at every zero count, < 0 at one at least (Santos Silva & Tenreyro 2010, Economics
Letters 107, 310-312): along d the fitted means of those zero counts go to 0 and nothing else
changes, so the log-likelihood keeps increasing towards its supremum."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from nll_losses.models.families.poisson.spec import _design, coef_names
from nll_losses.models.family import Problem
from nll_losses.models.linear_predictor import diverging
from nll_losses.models.numerics.recession import FEASIBILITY_TOL, recession_direction


@dataclass(frozen=True)
class Existence:
    exists: bool
    direction: np.ndarray  # in the original coefficients (zeros when the MLE exists)
    zeros_to_zero: int  # zero counts whose fitted means go to 0 along it


_EXISTENCE: dict[str, Existence] = {}


def existence(problem: Problem) -> Existence:
    """The LP on the problem's design (columns scaled to unit RMS; memoised on the data)."""
    A = _design(problem)
    y = np.asarray(problem.y, float)
    key = hashlib.sha1(A.tobytes() + y.tobytes()).hexdigest()
    if key not in _EXISTENCE:
        scale = np.sqrt(np.mean(A**2, axis=0))
        scale[scale == 0] = 1.0
        As = A / scale
        found = recession_direction(-As[y == 0], As[y > 0])
        if not found.found:
            _EXISTENCE[key] = Existence(True, np.zeros(A.shape[1]), 0)
        else:
            d = np.where(np.abs(found.direction) > FEASIBILITY_TOL, found.direction, 0.0)
            margins = As[y == 0] @ d
            _EXISTENCE[key] = Existence(False, d / scale, int(np.sum(margins < -FEASIBILITY_TOL)))
    return _EXISTENCE[key]


def existence_reason(problem: Problem) -> str:
    ex = existence(problem)
    names = coef_names(problem.features, problem.spec)
    return (
        f"the MLE does not exist: {ex.zeros_to_zero} zero count(s) can be fitted exactly by "
        "sending their means to 0 without changing any other (Santos Silva & Tenreyro 2010; "
        "found by a linear program); the likelihood keeps increasing along "
        + diverging(names, ex.direction)
    )
