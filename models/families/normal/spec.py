"""The normal family's options, spec and parameter names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from nll_losses.models.family import (
    Problem,
)
from nll_losses.models.numerics import linalg as la
from nll_losses.models.options import Flag
from nll_losses.models.priors import Flat, Gaussian, HalfFlat, HalfNormal, Known

NAME = "normal"
LIKELIHOOD = "y_i ~ Normal(intercept + x_i · w, σ)"
LOSS = "−log p(y | w, b, σ) = n/2 · log(2πσ²) + n · MSE / (2σ²)"
NLL_DENSITY = "−log p(y|θ) (Normal density)"
NLL_MSE = "n/2·log(2πσ²) + n·MSE/(2σ²)"


@dataclass(frozen=True)
class NormalOptions:
    """The Gaussian family's own option: what is known or assumed about sigma."""

    sigma: HalfFlat | HalfNormal | Known = field(default_factory=HalfFlat)

    FLAGS: ClassVar[tuple[Flag, ...]] = (
        Flag("sigma", "known noise sd", float, "VALUE", positive=True),
        Flag(
            "sigma_prior",
            "prior on unknown σ (default flat: HalfFlat)",
            choices=("flat", "halfnormal"),
        ),
        Flag("sigma_scale", "scale of the HalfNormal σ prior", float, "S", positive=True),
    )

    @classmethod
    def from_flags(cls, values: dict[str, Any]) -> NormalOptions:
        """From the parsed flags (None: not given); ``ValueError`` on a bad combination."""
        sigma, prior, scale = values["sigma"], values["sigma_prior"], values["sigma_scale"]
        if sigma is not None:
            if prior is not None or scale is not None:
                raise ValueError("--sigma (known σ) excludes --sigma-prior and --sigma-scale")
            return cls(Known(sigma))
        if prior == "halfnormal":
            if scale is None:
                raise ValueError("--sigma-prior halfnormal needs --sigma-scale S")
            return cls(HalfNormal(scale))
        if scale is not None:
            raise ValueError("--sigma-scale only applies with --sigma-prior halfnormal")
        return cls(HalfFlat())

    def columns(self) -> dict[str, str]:
        return {}  # no column besides the target and the features

    def describe(self) -> dict[str, str]:
        return {"sigma": self.sigma.describe()}


@dataclass(frozen=True)
class NormalSpec:
    """One configuration of the Gaussian family: intercept, coefficient prior, sigma."""

    intercept: bool = True
    coef_prior: Flat | Gaussian = field(default_factory=Flat)
    intercept_prior: Flat | Gaussian = field(default_factory=Flat)
    sigma: HalfFlat | HalfNormal | Known = field(default_factory=HalfFlat)

    @property
    def prior_name(self) -> str:
        return self.coef_prior.name

    def prior_scales(self, p: int) -> np.ndarray:
        """tau_j per coefficient (inf = flat), intercept first when present."""
        w_tau = self.coef_prior.scale if isinstance(self.coef_prior, Gaussian) else np.inf
        tau = np.full(p, w_tau, dtype=float)
        if self.intercept:
            tau[0] = (
                self.intercept_prior.scale if isinstance(self.intercept_prior, Gaussian) else np.inf
            )
        return tau

    @property
    def sigma_known(self) -> float | None:
        return self.sigma.value if isinstance(self.sigma, Known) else None

    @property
    def sigma_prior_scale(self) -> float | None:
        return self.sigma.scale if isinstance(self.sigma, HalfNormal) else None

    @property
    def all_flat(self) -> bool:
        return isinstance(self.coef_prior, Flat) and not isinstance(self.intercept_prior, Gaussian)


def coef_names(features, spec: NormalSpec) -> list[str]:
    return (["intercept"] if spec.intercept else []) + list(features)


def _to_params(beta, sigma, problem: Problem) -> dict[str, float]:
    out = dict(zip(coef_names(problem.features, problem.spec), map(float, beta), strict=True))
    if problem.spec.sigma_known is None and sigma is not None:
        out["sigma"] = float(sigma)
    return out


_EXACT_FIT: list[tuple] = []  # (X, y, intercept, answer): the last few data sets asked about


def _exact_fit(problem: Problem) -> float | None:
    """RSS of the least-squares fit when it is at rounding level (NIST Wampler1/2), else None.

    ``supports`` asks once per estimator and prior about the same arrays: the answer is kept
    for the last few (X, y) objects (by identity), since at large n each refined fit costs
    seconds."""
    X, y, intercept = problem.X, problem.y, problem.spec.intercept
    for X0, y0, i0, answer in _EXACT_FIT:
        if X0 is X and y0 is y and i0 == intercept:
            return answer
    fit = la.penalised_lstsq(la.design(X, intercept), y, intercept=intercept, cov=False)
    answer = fit.rss if la.is_exact_fit(fit.rss, y) else None
    _EXACT_FIT[:] = [(X, y, intercept, answer), *_EXACT_FIT[:3]]
    return answer
