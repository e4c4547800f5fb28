"""Priors as small values, so one builder serves MLE (flat) and MAP (Gaussian).

A ``Gaussian(scale=tau)`` prior N(0, tau^2) on a coefficient is the L2 penalty
``(sigma^2 / tau^2) * w^2`` in the squared-error loss (ridge alpha = sigma^2 / tau^2);
a ``Flat()`` prior is no penalty (maximum likelihood).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Flat:
    """Improper uniform prior on the real line: p(w) ∝ 1 (no penalty)."""

    name = "flat"

    def describe(self) -> str:
        return "Flat()  [p ∝ 1]"


@dataclass(frozen=True)
class Gaussian:
    """N(0, scale^2) prior: adds ``w^2 / (2 scale^2)`` to the negative log posterior."""

    scale: float
    name = "gaussian"

    def __post_init__(self):
        if not self.scale > 0:
            raise ValueError(f"Gaussian prior scale must be positive, got {self.scale!r}")

    def describe(self) -> str:
        return f"Normal(0, {self.scale:g}^2)"


@dataclass(frozen=True)
class HalfFlat:
    """Improper uniform prior on sigma > 0: p(sigma) ∝ 1 (not Jeffreys' 1/sigma)."""

    name = "halfflat"

    def describe(self) -> str:
        return "HalfFlat()  [p(σ) ∝ 1 on σ > 0]"


@dataclass(frozen=True)
class HalfNormal:
    """HalfNormal(scale) on sigma: p(sigma) ∝ exp(-sigma^2 / (2 scale^2)), sigma > 0."""

    scale: float
    name = "halfnormal"

    def __post_init__(self):
        if not self.scale > 0:
            raise ValueError(f"HalfNormal prior scale must be positive, got {self.scale!r}")

    def describe(self) -> str:
        return f"HalfNormal({self.scale:g})"


@dataclass(frozen=True)
class Known:
    """Sigma fixed at a given value (not estimated)."""

    value: float
    name = "known"

    def __post_init__(self):
        if not self.value > 0:
            raise ValueError(f"known sigma must be positive, got {self.value!r}")

    def describe(self) -> str:
        return f"σ = {self.value:g} (known)"


CoefPrior = Flat | Gaussian
SigmaPrior = HalfFlat | HalfNormal | Known


@dataclass(frozen=True)
class Jeffreys:
    """Jeffreys prior on all coefficients of a GLM: p(beta) ∝ |I(beta)|^{1/2}, I the Fisher
    information (logistic: A' W A, W = diag(p(1-p))).  Its MAP is Firth's (1993) estimate."""

    name = "jeffreys"

    def describe(self) -> str:
        return "Jeffreys  [p(β) ∝ |X'W(β)X|^½, W = diag(p(1−p)), intercept included]"
