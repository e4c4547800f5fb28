"""The Poisson family's options, spec and parameter names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from scipy.special import logsumexp

from nll_losses.models.family import Problem
from nll_losses.models.numerics import linalg as la
from nll_losses.models.options import Flag
from nll_losses.models.priors import Flat, Gaussian

NAME = "poisson"
NLL_PMF = "−log p(y|θ) (Poisson pmf)"
NLL_ETA = "Σ exp(η) − yη + log y! (from η)"
NLL_TORCH = "n·PoissonNLLLoss + Σ log y!"
NLL_DEVIANCE = "n/2·mean_poisson_deviance + c"
# sklearn's mean_poisson_deviance needs 0 < μ < inf: beyond |η| = 700 exp(η) under/overflows
DEVIANCE_MAX_ETA = 700.0
EXTREME_ETA = 50.0  # the ledger's point with linear predictors up to |η| = 50
IMPORTANCE_DRAWS = 40_000
IMPORTANCE_FLOPS = 4e9  # budget for the importance-sampling reference (draws x rows x p)
IMPORTANCE_BLOCK = 4_000_000  # draws x rows evaluated at once (32 MB of float64)
IMPORTANCE_MIN_ESS = 1000


@dataclass(frozen=True)
class PoissonOptions:
    """``offset``: a CSV column added to the linear predictor with coefficient 1 (log exposure,
    as GLM users give it: ``offset=`` in statsmodels, ``offset()`` in R); ``gamma_a``,
    ``gamma_b``: the intercept-only model's Gamma(a, b) prior on the rate (b a rate)."""

    offset: str | None = None
    gamma_a: float = 2.0
    gamma_b: float = 1.0

    FLAGS: ClassVar[tuple[Flag, ...]] = (
        Flag(
            "offset",
            "column added to the linear predictor with coefficient 1 (log exposure)",
            metavar="COL",
        ),
    )

    @classmethod
    def from_flags(cls, values: dict[str, Any]) -> PoissonOptions:
        return cls(offset=values["offset"])

    def columns(self) -> dict[str, str]:
        return {"offset": self.offset} if self.offset else {}

    def describe(self) -> dict[str, str]:
        return {"offset": self.offset or "none"}


@dataclass(frozen=True)
class PoissonSpec:
    """One configuration: intercept, the weights' prior and, for the intercept-only model,
    a Gamma(a, b) prior on the rate exp(intercept) (``gamma``, a pair (a, b)), else None."""

    intercept: bool = True
    coef_prior: Flat | Gaussian = field(default_factory=Flat)
    intercept_prior: Flat | Gaussian = field(default_factory=Flat)
    gamma: tuple[float, float] | None = None

    @property
    def all_flat(self) -> bool:
        return (
            self.gamma is None
            and isinstance(self.coef_prior, Flat)
            and not isinstance(self.intercept_prior, Gaussian)
        )

    def prior_precision(self, p: int) -> np.ndarray:
        """1/tau_j^2 per coefficient (0 = flat), intercept first when present."""
        w = 1.0 / self.coef_prior.scale**2 if isinstance(self.coef_prior, Gaussian) else 0.0
        prec = np.full(p, w)
        if self.intercept:
            b = self.intercept_prior
            prec[0] = 1.0 / b.scale**2 if isinstance(b, Gaussian) else 0.0
        return prec


def coef_names(features, spec: PoissonSpec) -> list[str]:
    return (["intercept"] if spec.intercept else []) + list(features)


def _design(problem: Problem) -> np.ndarray:
    return la.design(problem.X, problem.spec.intercept)


def _offset(problem: Problem) -> np.ndarray:
    """The offset column (zeros when none is given)."""
    off = problem.rows.get("offset")
    return np.zeros(problem.n) if off is None else np.asarray(off, float)


def _params(beta, problem: Problem) -> dict[str, float]:
    names = coef_names(problem.features, problem.spec)
    return dict(zip(names, map(float, beta), strict=True))


def _vector(params: dict, problem: Problem) -> np.ndarray:
    return np.array([params[nm] for nm in coef_names(problem.features, problem.spec)])


def intercept_only(problem: Problem) -> bool:
    return problem.spec.intercept and not problem.features


def exposure_total(problem: Problem) -> float:
    """Σ exp(offset_i): the total exposure (n without an offset)."""
    return float(np.exp(logsumexp(_offset(problem))))
