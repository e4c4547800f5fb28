"""Whether the Bernoulli MLE exists: separation, by the shared linear program
(``models.numerics.logistic``)."""

from __future__ import annotations

import hashlib

import numpy as np

from nll_losses.models.families.bernoulli.spec import _design, coef_names
from nll_losses.models.family import (
    Problem,
)
from nll_losses.models.linear_predictor import diverging
from nll_losses.models.numerics import logistic as lg

# ----------------------------------------------------------------------------- separation
_SEPARATION: dict[str, lg.Separation] = {}


def separation(problem: Problem) -> lg.Separation:
    """Konis's LP on the problem's design (memoised on the data's bytes)."""
    A = _design(problem)
    key = hashlib.sha1(A.tobytes() + np.asarray(problem.y, float).tobytes()).hexdigest()
    if key not in _SEPARATION:
        _SEPARATION[key] = lg.detect_separation(A, problem.y)
    return _SEPARATION[key]


def separation_reason(problem: Problem) -> str:
    sep = separation(problem)
    names = coef_names(problem.features, problem.spec)
    return (
        f"the MLE does not exist: the data are {sep.kind}ly separated (Konis LP); the "
        f"likelihood keeps increasing along {diverging(names, sep.direction)}"
    )
