"""The Bernoulli family's options, spec and parameter names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from nll_losses.models.family import (
    Problem,
)
from nll_losses.models.numerics import linalg as la
from nll_losses.models.options import Flag
from nll_losses.models.priors import Flat, Gaussian, Jeffreys

NAME = "bernoulli"
NLL_PMF = "−log p(y|θ) (Bernoulli pmf)"
NLL_LOGLOSS = "n·log_loss (sklearn)"
NLL_BCE = "BCE from logits (softplus)"
# sklearn's log_loss clips p to [eps, 1 - eps]: beyond |z| = log(1/eps) ~ 36 it is not the NLL
LOGLOSS_MAX_LOGIT = 30.0
IMPORTANCE_DRAWS = 100_000
IMPORTANCE_MIN_ESS = 1000
IMPORTANCE_FLOPS = 4e9  # budget for the importance-sampling reference (draws x cost per draw)


@dataclass(frozen=True)
class BernoulliOptions:
    """Which label is the event (y = 1); None: "1" for 0/1 data, else the later label in
    sorted order (scikit-learn's ``classes_[1]``)."""

    positive: str | None = None

    FLAGS: ClassVar[tuple[Flag, ...]] = (
        Flag(
            "positive",
            "target label counted as 1 (default: 1, or the later label in sorted order)",
            metavar="LABEL",
        ),
    )

    @classmethod
    def from_flags(cls, values: dict[str, Any]) -> BernoulliOptions:
        return cls(positive=values["positive"])

    def columns(self) -> dict[str, str]:
        return {}  # no column besides the target and the features

    def describe(self) -> dict[str, str]:
        return {"positive label": self.positive or "default (1, or the later label sorted)"}


@dataclass(frozen=True)
class BernoulliSpec:
    intercept: bool = True
    coef_prior: Flat | Gaussian | Jeffreys = field(default_factory=Flat)
    intercept_prior: Flat | Gaussian = field(default_factory=Flat)

    @property
    def jeffreys(self) -> bool:
        return isinstance(self.coef_prior, Jeffreys)

    @property
    def all_flat(self) -> bool:
        return isinstance(self.coef_prior, Flat) and not isinstance(self.intercept_prior, Gaussian)

    def prior_precision(self, p: int) -> np.ndarray:
        """1/tau_j^2 per coefficient (0 = flat), intercept first when present."""
        w = 1.0 / self.coef_prior.scale**2 if isinstance(self.coef_prior, Gaussian) else 0.0
        prec = np.full(p, w)
        if self.intercept:
            b = self.intercept_prior
            prec[0] = 1.0 / b.scale**2 if isinstance(b, Gaussian) and not self.jeffreys else 0.0
        return prec


def coef_names(features, spec: BernoulliSpec) -> list[str]:
    return (["intercept"] if spec.intercept else []) + list(features)


def _design(problem: Problem) -> np.ndarray:
    return la.design(problem.X, problem.spec.intercept)


def _params(beta, problem: Problem) -> dict[str, float]:
    names = coef_names(problem.features, problem.spec)
    return dict(zip(names, map(float, beta), strict=True))


def _vector(params: dict, problem: Problem) -> np.ndarray:
    return np.array([params[nm] for nm in coef_names(problem.features, problem.spec)])
