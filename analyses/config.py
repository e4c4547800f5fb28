"""Run settings in one place (the CLI only parses into these) and seed fan-out."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace

import numpy as np

from models.priors import HalfFlat, HalfNormal, Known

ESTIMATORS = (
    "closed_form",
    "exact_posterior",
    "find_map",
    "laplace",
    "nuts",
    "statsmodels",
    "sklearn",
)
PRIORS = ("flat", "gaussian")


@dataclass(frozen=True)
class RunConfig:
    """Sampler and estimator settings shared by every case of a run."""

    seed: int = 0
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    estimators: tuple[str, ...] = ESTIMATORS
    priors: tuple[str, ...] = PRIORS

    def quick(self) -> RunConfig:
        """Fewer draws for smoke runs; MCSE tolerances widen accordingly (they are per-run)."""
        return replace(
            self, draws=min(self.draws, 400), tune=min(self.tune, 400), chains=min(self.chains, 2)
        )


@dataclass(frozen=True)
class CaseConfig:
    """What to fit: family, intercept, prior scale tau for the Gaussian prior, sigma."""

    name: str
    family: str = "normal"
    intercept: bool = True
    prior_scale: float = 1.0
    sigma: HalfFlat | HalfNormal | Known = field(default_factory=HalfFlat)
    intercept_prior_scale: float | None = None  # None: flat intercept


def child_seed(master: int, *labels: str) -> int:
    """A 32-bit seed for one consumer, derived from the master seed and a stable label.

    Order-independent: adding a consumer never changes the seeds of the others.
    """
    key = tuple(zlib.crc32(label.encode()) for label in labels)
    return int(np.random.SeedSequence(master, spawn_key=key).generate_state(1)[0])
